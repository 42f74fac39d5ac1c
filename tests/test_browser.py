"""End to end in a real headless Chromium: `streamlit run app.py`, ask, read a source.

Uses Debian's Chromium (/usr/bin/chromium, `make browser`) driven by Playwright for
Python; no browser is downloaded. Leaves screenshots in test-artifacts/: e2e.png (the
answer with an opened source card) and e2e-lezer.png (the passage in its document).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.services import AppServer
from kb.config import PROJECT_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "Wat is een ontwikkelingsperspectief (opp)?"


@pytest.fixture
def server(corpus_settings, tmp_path):
    """`streamlit run app.py` on a free port with the session index; always stopped."""
    env = {"KB_HOME": str(corpus_settings.home), "KB_CORPUS": str(corpus_settings.corpus_dir)}
    try:
        app = AppServer(env, tmp_path / "streamlit.log", timeout=60).start()
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield app.url
    finally:
        app.stop()


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium ontbreekt (/usr/bin/chromium); installeer met: make browser"
)
def test_ask_and_open_a_source_in_chromium(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500}, locale="nl-NL")
            outside: list[str] = []
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None
                ),
            )
            page.goto(server)
            box = page.locator('[data-testid="stChatInput"] textarea')
            box.wait_for(timeout=240_000)  # the first run loads the model
            assert page.get_by_text("Ouder of verzorger").is_visible()
            page.get_by_text("Leraar of schoolteam").click()
            box.fill(QUESTION)
            box.press("Enter")

            # an answer with an inline citation and source cards
            page.locator("sup.kb-cite").first.wait_for(timeout=120_000)
            export = page.get_by_role("button", name="Exporteer gesprek")
            page.wait_for_function(
                "() => [...document.querySelectorAll('button')].some("
                "b => b.innerText.includes('Exporteer gesprek') && !b.disabled)",
                timeout=60_000,
            )
            assert export.is_enabled()  # the run is complete: the answer is stored
            answer = page.locator(".kb-answer").first.inner_text()
            assert "[1]" in answer and "ontwikkelingsperspectief" in answer.lower()
            assert page.get_by_text("Modus:").first.is_visible()
            card = page.locator('[class*="st-key-t"][class*="-bron-1"]').first  # source card [1]
            assert card.locator("mark").count() >= 1  # the cited sentence is highlighted

            # open a source card: the text around the passage, then the passage in its document
            card.get_by_text("Toon de tekst eromheen").click()
            context = card.locator(".kb-context")
            context.wait_for(timeout=30_000)
            assert context.locator(".kb-doel mark").count() >= 1
            question = page.locator('[data-testid="stChatMessage"]').first
            for _ in range(10):  # scroll up to the question (the chat sticks to the bottom at first)
                question.evaluate("e => e.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(500)
                if question.bounding_box()["y"] >= 0:
                    break
            page.screenshot(path=str(ARTIFACTS / "e2e.png"))
            card.get_by_role("button", name="Lees in het document").click()
            target = page.locator(".kb-doc .kb-doel").first
            target.wait_for(timeout=30_000)
            # scrolled into view (smooth scrolling: slower on a busy machine)
            page.wait_for_function(
                "() => { const r = document.querySelector('.kb-doc .kb-doel').getBoundingClientRect();"
                " const tab = [...document.querySelectorAll('[role=tab]')].find(t => t.innerText.includes('Bronnen'));"
                " return tab && tab.getAttribute('aria-selected') === 'true'"
                " && r.height > 0 && r.top >= 0 && r.top < window.innerHeight; }",
                timeout=30_000,
            )
            assert page.get_by_role("tab", name="Bronnen").get_attribute("aria-selected") == "true"
            page.screenshot(path=str(ARTIFACTS / "e2e-lezer.png"))
            assert not outside, f"the app contacted other hosts: {outside}"
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium ontbreekt (/usr/bin/chromium); installeer met: make browser"
)
def test_twenty_browser_pages_at_once_get_the_answers_one_page_gets(corpus_settings, tmp_path):
    from eval.load_app import run

    result = run(users=20, n_questions=2, settings=corpus_settings, log_dir=tmp_path)
    assert result.questions == 2 and result.users == 20
    assert not result.errors, result.errors[:5]
    assert not result.differing, result.differing
    assert result.p95 >= result.p50 > 0  # every page was timed
