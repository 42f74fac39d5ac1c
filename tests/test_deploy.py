"""The deployment: deploy/compose.yaml runs what the tests run, and several app processes
share one Chroma server (the same answers; a new document seen without a restart).

Docker is not available here, so the compose file itself is not started; what it runs is:
its commands are the argument lists of :mod:`eval.services` that the tests start, its
health checks are run against a real server and a real app, and its environment is read
by :class:`kb.config.Settings`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from eval.services import APP_HEALTH, CHROMA_HEALTH, AppServer, app_args, chroma_args, settings_env
from kb.config import PROJECT_ROOT, Settings

COMPOSE = PROJECT_ROOT / "deploy" / "compose.yaml"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_runs_the_commands_the_tests_run(compose):
    services = compose["services"]
    assert services["chroma"]["command"] == ["chroma", *chroma_args("/data", "0.0.0.0", 8000)]
    assert services["app"]["command"] == ["streamlit", *app_args("0.0.0.0", 8501)]
    assert services["ingest"]["command"] == ["kb", "ingest"]
    assert "chroma-data:/data" in services["chroma"]["volumes"]  # the index outlives the container
    assert services["app"]["depends_on"] == {"ingest": {"condition": "service_completed_successfully"}}
    assert services["ingest"]["depends_on"] == {"chroma": {"condition": "service_healthy"}}
    dockerfile = (PROJECT_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "make install" in dockerfile and "torch==2.13.0" in dockerfile  # the README's install


def test_the_compose_environment_is_server_mode_as_settings_read_it(compose, monkeypatch):
    env = compose["x-kb-env"]
    assert all(s["environment"] == env for s in (compose["services"]["app"], compose["services"]["ingest"]))
    for key in [k for k in os.environ if k.startswith("KB_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = Settings.from_env()
    assert (s.chroma_mode, s.chroma_host, s.chroma_port) == ("http", "chroma", 8000)
    assert (str(s.home), str(s.model_cache)) == ("/kb", "/models")
    assert set(env) <= set(settings_env(s)), "every KB_ variable of the compose file is a setting"


def _health(check: list[str], url: str) -> int:
    """Run a compose health check (``CMD python -c …``) against ``url`` instead of the container's."""
    assert check[:3] == ["CMD", "python", "-c"]
    code = check[3]
    for default in ("http://127.0.0.1:8000", "http://127.0.0.1:8501"):
        code = code.replace(default, url)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode


@pytest.mark.slow
def test_the_health_checks_pass_on_a_running_server_and_app_and_fail_without(
    compose, chroma_server, server_corpus_settings, tmp_path
):
    from eval.services import free_port

    chroma_check = compose["services"]["chroma"]["healthcheck"]["test"]
    app_check = compose["services"]["app"]["healthcheck"]["test"]
    assert CHROMA_HEALTH in chroma_check[3] and APP_HEALTH in app_check[3]
    assert _health(chroma_check, chroma_server.url) == 0
    assert _health(chroma_check, f"http://127.0.0.1:{free_port()}") != 0
    env = settings_env(server_corpus_settings) | {"KB_HOME": str(tmp_path / "app")}
    with AppServer(env, tmp_path / "app.log") as app:
        assert _health(app_check, app.url) == 0
    assert _health(app_check, app.url) != 0


NEW_DOC = """Pilot thuisnabij onderwijs Zeewolde

In de pilot thuisnabij onderwijs in Zeewolde kregen 37 leerlingen met een extra
ondersteuningsbehoefte les op hun eigen school in plaats van in het speciaal onderwijs.
De intern begeleider stelde voor elke leerling samen met de ouders een
ontwikkelingsperspectief op. Na een jaar zaten 31 van de 37 leerlingen nog op hun eigen school.
"""


async def _ask(browser, url: str, question: str) -> str:
    """Ask ``question`` on a new page of the app; the text of the answer up to its feedback row."""
    from eval.load_app import DONE, _settled_answer

    context = await browser.new_context(locale="nl-NL")
    try:
        page = await context.new_page()
        await page.goto(url)
        box = page.locator('[data-testid="stChatInput"] textarea')
        await box.wait_for(timeout=240_000)
        await box.fill(question)
        await box.press("Enter")
        await page.get_by_text(DONE).first.wait_for(timeout=240_000)
        assert not await page.locator('[data-testid="stException"]').count()
        return await _settled_answer(page, 1)
    finally:
        await context.close()


async def _ask_all(urls: list[str], question: str) -> list[str]:
    from playwright.async_api import async_playwright

    from eval.load_app import CHROMIUM_ARGS

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            return list(await asyncio.gather(*(_ask(browser, url, question) for url in urls)))
        finally:
            await browser.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium ontbreekt (/usr/bin/chromium); installeer met: make browser"
)
def test_two_apps_on_one_server_answer_alike_and_see_a_new_document_without_restart(
    corpus_settings, chroma_server, tmp_path
):
    from conftest import CORPUS, server_settings

    from kb.index.transfer import copy_index

    # the corpus in a collection of this test's own (it adds a document), copied without re-embedding
    settings = server_settings(chroma_server, home=tmp_path / "copy", corpus_dir=CORPUS, chroma_timeout=30.0)
    copy_index(corpus_settings, settings)
    # two app processes, each with a KB_HOME of its own (as on two machines), one server
    base = settings_env(settings)
    apps = [AppServer(base | {"KB_HOME": str(tmp_path / f"app{i}")}, tmp_path / f"app{i}.log") for i in (1, 2)]
    try:
        urls = [app.start().url for app in apps]
        first = asyncio.run(_ask_all(urls, "Wat is een ontwikkelingsperspectief (opp)?"))
        assert first[0] == first[1] and "[1]" in first[0] and "ontwikkelingsperspectief" in first[0].lower()

        # a third process (the compose file's `kb ingest`) adds a document to the server
        docs = tmp_path / "nieuw"
        docs.mkdir()
        (docs / "pilot-zeewolde.txt").write_text(NEW_DOC, encoding="utf-8")
        env = {**os.environ, **base, "KB_HOME": str(tmp_path / "writer")}
        done = subprocess.run(
            [str(Path(sys.executable).with_name("kb")), "ingest", str(docs)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr

        # both apps, still running, answer from it
        second = asyncio.run(_ask_all(urls, "Hoeveel leerlingen deden mee aan de pilot in Zeewolde?"))
        assert second[0] == second[1], second
        assert "37" in second[0] and "[1]" in second[0], second[0]
        assert all(app.proc.poll() is None for app in apps)  # never restarted
    finally:
        for app in apps:
            app.stop()


def test_the_installed_packages_are_the_versions_in_constraints_txt():
    # make install holds every package to constraints.txt; a package that drifted (installed by
    # hand, or an upgrade without `make lock`) would run other code than the tests passed with
    from importlib import metadata

    pinned = dict(
        line.split("==", 1) for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines() if "==" in line
    )
    for name in ("onnxruntime", "onnx", "transformers", "sentence-transformers", "tokenizers", "chromadb", "torch"):
        assert name in pinned, f"{name} is not pinned in constraints.txt"
    drifted = {
        name: (want, got) for name, want in pinned.items() if (got := metadata.version(name).split("+")[0]) != want
    }
    assert not drifted, f"installed versions differ from constraints.txt (want, got): {drifted}"
