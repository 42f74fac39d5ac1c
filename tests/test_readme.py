"""The README's code examples run as written (against the session's index of the bundled corpus)."""

from __future__ import annotations

import re
import shlex

import pytest
from click.testing import CliRunner

from kb.cli import main as cli
from kb.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_the_python_examples_run(corpus_settings, monkeypatch):
    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    code = blocks("python")
    assert code, "the README has Python examples"
    for block in code:
        scope: dict = {}
        exec(compile(block, "README.md", "exec"), scope)


def _cli_examples() -> list[str]:
    lines = [ln.split("#")[0].strip() for block in blocks("bash") for ln in block.splitlines()]
    return [ln for ln in lines if ln.startswith(".venv/bin/kb ") and " eval" not in ln and "--rebuild" not in ln]


@pytest.mark.parametrize("line", _cli_examples())
def test_the_cli_examples_run(corpus_settings, monkeypatch, line, tmp_path):
    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    monkeypatch.chdir(PROJECT_ROOT)
    args = shlex.split(line)[1:]
    if "--out" in args:  # write into the test's own folder
        args[args.index("--out") + 1] = str(tmp_path / "uit.jsonl")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (line, result.output)


def _server_mode_block() -> list[str]:
    section = README.split("## Server mode", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the server-mode section has its commands"
    return [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.split("#")[0].strip()]


@pytest.mark.slow
def test_the_server_mode_example_runs(tmp_path):
    """The server-mode commands as written, on a free port and a temporary --path."""
    import os
    import subprocess

    from eval.services import APP_HEALTH, AppServer, ChromaServer, chroma_args, free_port

    serve, export, ingest, app = _server_mode_block()
    args = shlex.split(serve)
    assert args[0] == ".venv/bin/chroma" and args[1:] == chroma_args(args[3], "127.0.0.1", 8000)
    port = free_port()
    server = ChromaServer(tmp_path / "chroma", port=port).start()  # the same arguments, another port
    try:
        assert export.startswith("export ")
        env = dict(pair.split("=", 1) for pair in shlex.split(export)[1:])
        assert env == {"KB_CHROMA_MODE": "http", "KB_CHROMA_HOST": "127.0.0.1", "KB_CHROMA_PORT": "8000"}
        env |= {"KB_CHROMA_PORT": str(port), "KB_HOME": str(tmp_path / "kb")}
        assert shlex.split(ingest) == [".venv/bin/kb", "ingest"]
        done = subprocess.run(
            [str(PROJECT_ROOT / ".venv/bin/kb"), "ingest"],
            env={**os.environ, **env},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert shlex.split(app) == [".venv/bin/streamlit", "run", "app.py", "--server.address", "127.0.0.1"]
        with AppServer(env, tmp_path / "app.log") as running:  # streamlit run app.py on 127.0.0.1
            import httpx

            assert httpx.get(f"{running.url}{APP_HEALTH}", timeout=5).status_code == 200
    finally:
        server.stop()
