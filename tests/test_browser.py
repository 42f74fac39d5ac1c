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
    yield from _serve({"KB_HOME": str(corpus_settings.home), "KB_CORPUS": str(corpus_settings.corpus_dir)}, tmp_path)


def _serve(env: dict[str, str], tmp_path):
    """The app with ``env`` on a free port: its URL, and it is always stopped."""
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


# --- issue 23: Dutch labels for screen readers; an upload's progress in view --------------------

#: Streamlit's English labels that a screen reader would read out (issue 23, UI 8)
ENGLISH = (
    "Skip to main content",
    "Thumbs up",
    "Thumbs down",
    "Feedback rating",
    "Upload",
    "per file",
    "Send message",
    "Help for",
    "Chat message from",
    "Collapse sidebar",
)


@pytest.fixture
def upload_server(corpus_settings, tmp_path):
    """`streamlit run app.py` with uploads allowed, on a copy of the session index; always stopped."""
    import shutil

    home = tmp_path / "kbhome"
    shutil.copytree(corpus_settings.home, home)
    env = {"KB_HOME": str(home), "KB_CORPUS": str(corpus_settings.corpus_dir), "KB_ALLOW_UPLOAD": "1"}
    yield from _serve(env, tmp_path)


def _ask(page, url: str) -> None:
    page.goto(url)
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.wait_for(timeout=240_000)  # the first run loads the model
    box.fill(QUESTION)
    box.press("Enter")
    page.locator("sup.kb-cite").first.wait_for(timeout=120_000)
    page.wait_for_function(  # the run is complete: the answer is stored and can be exported
        "() => [...document.querySelectorAll('button')].some("
        "b => b.innerText.includes('Exporteer gesprek') && !b.disabled)",
        timeout=60_000,
    )


def _uploads(page):
    """The "Eigen documenten toevoegen" expander of the Bronnen tab, opened."""
    page.get_by_role("tab", name="Bronnen").click()
    page.get_by_role("heading", name="Documenten in de kennisbank").wait_for(timeout=30_000)
    box = page.locator('[data-testid="stExpander"]').filter(has_text="Eigen documenten toevoegen")
    dropzone = box.locator('[data-testid="stFileUploaderDropzone"]')
    for _ in range(5):  # a click during the tab's rerun can be lost: until it is open
        if dropzone.is_visible():
            break
        box.get_by_text("Eigen documenten toevoegen").click()
        page.wait_for_timeout(1_000)
    dropzone.wait_for(timeout=30_000)
    return box


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium ontbreekt (/usr/bin/chromium); installeer met: make browser"
)
def test_screen_readers_hear_dutch_labels_in_chromium(upload_server):
    """What the accessibility tree holds (what a screen reader reads): no English label."""
    import re

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="nl-NL")
            _ask(page, upload_server)
            page.locator('[data-testid="stFeedback"]').first.wait_for(timeout=30_000)
            page.wait_for_timeout(500)  # the labels are set on the next animation frame
            chat = page.locator("body").aria_snapshot()
            assert page.evaluate("document.documentElement.lang") == "nl"
            assert page.get_by_role("link", name="Naar de inhoud").count() == 1
            assert page.get_by_role("radio", name=re.compile("^Duim omhoog")).count() >= 1
            assert page.get_by_role("radio", name=re.compile("^Duim omlaag")).count() >= 1
            assert page.get_by_role("button", name="Vraag versturen").count() == 1
            _uploads(page)
            page.wait_for_timeout(500)
            sources = page.locator("body").aria_snapshot()
            limit = re.compile(r"^Bestanden kiezen \(.*hoogstens 25 MB per bestand\)$")
            assert page.get_by_role("button", name=limit).count() == 1
            for english in ENGLISH:
                assert english not in chat and english not in sources, (english, chat + sources)
        finally:
            browser.close()


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium ontbreekt (/usr/bin/chromium); installeer met: make browser"
)
def test_an_upload_shows_its_progress_in_view_and_keeps_the_export_button_in_chromium(upload_server, tmp_path):
    """A user scrolls down to "Toevoegen aan de kennisbank" and clicks it: the progress bar is
    in view while the files are processed, the sidebar keeps its export button, and an error
    that quotes a broken PDF's bytes shows them as text (no link, no image)."""
    from playwright.sync_api import sync_playwright
    from test_display import BAD_PDF, REMOTE

    paragraphs = [
        f"Paragraaf {i}. De school en het samenwerkingsverband overleggen over leerling {i}, die extra "
        "ondersteuning nodig heeft. De intern begeleider maakt een plan met de ouders en de leerkracht "
        "en kijkt elke maand of het plan werkt; werkt het niet, dan zoekt het team met de jeugdhulp verder."
        for i in range(150)
    ]
    big = tmp_path / "verslag-ondersteuning.txt"
    big.write_text("# Verslag over ondersteuning\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    broken = tmp_path / "kapot.pdf"
    broken.write_bytes(BAD_PDF)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            height = 900
            page = browser.new_page(viewport={"width": 1280, "height": height}, locale="nl-NL")
            outside: list[str] = []
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None
                ),
            )
            _ask(page, upload_server)
            uploads = _uploads(page)
            uploads.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([str(big), str(broken)])
            add = uploads.get_by_role("button", name="Toevoegen aan de kennisbank")
            add.wait_for(timeout=30_000)
            add.evaluate("b => b.scrollIntoView({block: 'end'})")  # as a user scrolls: just far enough
            page.wait_for_timeout(300)
            add.click()
            bar = uploads.locator('[data-testid="stProgress"]')
            bar.wait_for(timeout=30_000)
            page.wait_for_timeout(300)  # laid out
            box = bar.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box
            export = page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Exporteer gesprek")
            assert export.is_visible() and export.is_enabled()  # not gone while the upload runs
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "e2e-upload.png"))
            page.get_by_text("is toegevoegd en doorzoekbaar").wait_for(timeout=300_000)
            error = page.locator('[data-testid="stAlertContentError"]').filter(has_text="kapot")
            assert error.count() == 1
            assert f"[x](http://{REMOTE}/y.png)" in error.inner_text().replace("\u2060", "")  # as text
            assert error.locator("a, img").count() == 0
            assert not outside, f"the app contacted other hosts: {outside}"
        finally:
            browser.close()


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium ontbreekt (/usr/bin/chromium); installeer met: make browser"
)
def test_an_upload_survives_switching_tab_right_after_adding_ten_times_in_chromium(upload_server, tmp_path):
    """Issue 23, UI 1: "Toevoegen", then at once another tab (Streamlit stops the script run).
    Ten times: every file ends indexed and its message waits on the Bronnen tab."""
    import re

    from playwright.sync_api import sync_playwright

    from kb import api
    from kb.config import Settings
    from kb.index.doctor import unindexed_uploads

    settings = Settings.from_env(home=tmp_path / "kbhome")  # the upload_server's copy of the index
    names = [f"dieren-{i}.txt" for i in range(10)]
    animals = ["walrus", "pinguin", "zeehond", "otter", "bever", "egel", "das", "vos", "uil", "mol"]
    for name, animal in zip(names, animals, strict=True):
        (tmp_path / name).write_text(
            f"# De {animal}regeling\n\nDe {animal}regeling geeft elke leerling op vrijdag een vast "
            f"gesprek met de mentor over het weekrooster en de {animal}.\n",
            encoding="utf-8",
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="nl-NL")
            page.goto(upload_server)
            page.locator('[data-testid="stChatInput"] textarea').wait_for(timeout=240_000)
            for name in names:
                uploads = _uploads(page)
                uploads.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(tmp_path / name))
                add = uploads.get_by_role("button", name="Toevoegen aan de kennisbank")
                add.wait_for(timeout=30_000)
                add.click()
                page.get_by_role("tab", name=re.compile("Vraag het")).click()  # at once: the run is stopped
                page.wait_for_timeout(200)
                page.get_by_role("tab", name="Bronnen").click()
                page.get_by_text(f"‘{name}’ is toegevoegd en doorzoekbaar").wait_for(timeout=120_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "e2e-upload-race.png"))
        finally:
            browser.close()
    assert set(names) <= set(api.documents(settings)), sorted(api.documents(settings))
    assert unindexed_uploads(settings) == []
    assert api.search("zeehondregeling weekrooster", settings=settings)[0].source == "dieren-2.txt"


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium ontbreekt (/usr/bin/chromium); installeer met: make browser"
)
def test_an_upload_goes_on_when_the_tab_is_closed_right_after_adding_in_chromium(upload_server, tmp_path):
    """Issue 23, security 4: "Toevoegen", then the browser tab is closed. The file still ends
    indexed (nothing saved-but-not-indexed is left for `kb doctor`)."""
    import time

    from playwright.sync_api import sync_playwright

    from kb import api
    from kb.config import Settings
    from kb.index.doctor import unindexed_uploads

    settings = Settings.from_env(home=tmp_path / "kbhome")
    name = "gesloten-tabblad.txt"
    (tmp_path / name).write_text(
        "# De kraanvogelregeling\n\n" + "De kraanvogelregeling geeft elke leerling een vaste buddy. " * 200,
        encoding="utf-8",
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="nl-NL")
            page.goto(upload_server)
            page.locator('[data-testid="stChatInput"] textarea').wait_for(timeout=240_000)
            uploads = _uploads(page)
            uploads.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(tmp_path / name))
            add = uploads.get_by_role("button", name="Toevoegen aan de kennisbank")
            add.wait_for(timeout=30_000)
            add.click()
            page.wait_for_timeout(300)  # the click has reached the server
            page.close()
        finally:
            browser.close()
    deadline = time.monotonic() + 120
    while name not in api.documents(settings) and time.monotonic() < deadline:
        time.sleep(1)
    assert name in api.documents(settings)
    assert unindexed_uploads(settings) == []
