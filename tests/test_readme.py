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
