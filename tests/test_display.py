"""What the app shows of text it did not write (issue 23): error messages and the exported
handout as plain text, search highlights on the query's rare words, an upload's progress.

Markdown is rendered with markdown-it (CommonMark, with GFM tables and strikethrough); what
GFM viewers and Streamlit make into links by themselves (web and e-mail addresses) and
Streamlit's icon shortcodes are looked for in the rendered text. The browser tests
(tests/test_browser.py) check the same in Streamlit's own renderer.
"""

from __future__ import annotations

import html
import json
import re
import shutil

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest
from test_app import APP, TIMEOUT, ask, finish_upload, start

from kb.results import Answer, Citation, Passage
from ui import passages as P
from ui.export import conversation_markdown
from ui.plaintext import WORD_JOINER, md_plain, shown
from ui.widgets import TABS

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
REMOTE = "127.0.0.2:9"
#: Markdown that must show as text: images, links, HTML, autolinks, icons, math, headings, lists
ATTACKS = [
    f"![x](http://{REMOTE}/a.png) en [klik hier](http://{REMOTE}/b)",
    f'<img src="http://{REMOTE}/c.png"> <a href="http://{REMOTE}/">a</a> <script>alert(1)</script>',
    f"<http://{REMOTE}/d> http://{REMOTE}/e www.example.nl en mail naar helpdesk@example.nl",
    ":material/home: :smile: :red[rood] $x^2$ `code` **vet** _schuin_ ~~weg~~",
    "# Begrippenlijst\n1. mail uw BSN\n- en IBAN\n> naar de helpdesk\n| a | b |\n|---|---|\n===",
    f"[1]: http://{REMOTE}/def\n\n[1] en [x][1] en &lt;img&gt; en C:\\map\\bestand.txt",
    "kapot` ![x](http:127.0.0.2:9) [klik](http:127.0.0.2:9) `.pdf",
]
_LIVE_TAG = re.compile(r"<(?:a|img|script|iframe|svg|video|audio|object|embed)\b", re.I)
_AUTOLINK = re.compile(r"(?i)\b(?:https?|ftp):/|\bwww\.|[\w.+-]+@[\w-]+\.\w")
_SHORTCODE = re.compile(r":[\w/-]+:")
_MARKUP = re.compile(r"<(?:h\d|ul|ol|li|blockquote|table|em|strong|code|del|hr)\b")


def rendered(markdown: str) -> tuple[str, str]:
    """(HTML, the text a reader sees) of ``markdown``."""
    out = MD.render(markdown)
    return out, html.unescape(re.sub(r"<[^>]+>", " ", out)).replace(WORD_JOINER, "")


def live(markdown: str, markup_allowed: bool = False) -> list[str]:
    """What a viewer of ``markdown`` would load, link or draw as markup."""
    out, _ = rendered(markdown)
    text = html.unescape(re.sub(r"<[^>]+>", " ", out))  # the word joiners kept: they break autolinks
    found = _LIVE_TAG.findall(out) + _AUTOLINK.findall(text) + _SHORTCODE.findall(text)
    return found if markup_allowed else found + _MARKUP.findall(out)


# --- security 10: error messages (and other text we did not write) as plain text ---------------


@pytest.mark.parametrize("text", ATTACKS)
def test_md_plain_shows_every_character_and_nothing_else(text):
    assert live(text), "the attack does something when rendered as it is"
    md = md_plain(text)
    assert not live(md), (md, live(md))
    assert shown(md) == text
    assert " ".join(rendered(md)[1].split()) == " ".join(text.split())


def test_everyday_messages_keep_reading_as_they_are_written():
    for text in (
        "Chroma-server op 127.0.0.1:8000 niet bereikbaar",
        "kapot.pdf is niet toegevoegd",
        "kb doctor --repair",
    ):
        assert md_plain(text) == text


@pytest.fixture
def app_home(corpus_settings, monkeypatch):
    """The app on the session index (as ``test_app.kb_home``), without the optional modes."""
    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    for var in ("KB_LLM_BASE_URL", "KB_LLM_MODEL", "KB_LLM_API_KEY", "KB_ALLOW_UPLOAD", "KB_CHROMA_MODE"):
        monkeypatch.delenv(var, raising=False)
    return corpus_settings


@pytest.fixture
def upload_home(app_home, tmp_path, monkeypatch):
    home = tmp_path / "kbhome"
    shutil.copytree(app_home.home, home)  # never touch the shared session index
    monkeypatch.setenv("KB_HOME", str(home))
    monkeypatch.setenv("KB_ALLOW_UPLOAD", "1")
    return home


BAD_NAME = ATTACKS[-1]  # a file name that closes a code span and opens an image and a link
#: a broken PDF whose error message (pypdf's) quotes the bytes where it broke: a Markdown link
BAD_PDF = f"%PDF-1.4\nxref\n0 1\n![x](http://{REMOTE}/y.png)\ntrailer\n<< /Size 1 >>\nstartxref\n9\n%%EOF\n".encode()


def test_an_upload_error_shows_the_file_name_and_the_reason_as_text(upload_home):
    at = start()
    at.session_state["tab"] = TABS["sources"]
    at.run()
    at.file_uploader[0].set_value([(BAD_NAME, BAD_PDF, "application/pdf")])
    at.run()
    next(b for b in at.button if b.label == "Toevoegen aan de kennisbank").click().run()
    finish_upload(at)
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    # the reason quotes the file's bytes (pypdf): a link in them shows as text
    assert any("kapot" in shown(e) and f"[x](http://{REMOTE}/y.png)" in shown(e) for e in errors), errors
    for e in errors:
        assert not live(e), (e, live(e))


def test_a_corpus_file_that_fails_is_named_as_text_while_the_index_is_built(tmp_path, monkeypatch):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "notitie.txt").write_text(
        "# Notitie over thuiszitters\n\nIn onze regio overleggen de leerplichtambtenaar en het "
        "samenwerkingsverband elke maand over elke leerling die thuis zit.\n",
        encoding="utf-8",
    )
    (corpus / BAD_NAME).write_bytes(BAD_PDF)
    for var in ("KB_LLM_BASE_URL", "KB_LLM_MODEL", "KB_ALLOW_UPLOAD", "KB_CHROMA_MODE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KB_HOME", str(tmp_path / "kbhome"))
    monkeypatch.setenv("KB_CORPUS", str(corpus))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any(BAD_NAME in shown(e) and f"[x](http://{REMOTE}/y.png)" in shown(e) for e in errors), errors
    for e in errors:
        assert not live(e), (e, live(e))


@pytest.fixture
def failing_llm():
    """An OpenAI-compatible endpoint that answers every request with an error quoting addresses."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            message = f"Zie http://{REMOTE}/status en www.example.nl of mail beheer@example.nl :warning:"
            body = json.dumps({"error": {"message": message}}).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_an_llm_servers_error_text_is_shown_as_text(app_home, failing_llm, monkeypatch):
    import streamlit as st

    from kb.api import forget_retrievers

    monkeypatch.setenv("KB_LLM_BASE_URL", failing_llm)
    monkeypatch.setenv("KB_LLM_MODEL", "nep-model")
    forget_retrievers()
    st.cache_resource.clear()
    try:
        at = ask(start("leraar"), "Wat is een ontwikkelingsperspectief (opp)?")
    finally:
        forget_retrievers()
        st.cache_resource.clear()
    notices = [i.value for i in at.info if "taalmodel" in i.value]
    assert notices, [i.value for i in at.info]
    for n in notices:
        assert not live(n), (n, live(n))


# --- security 11: the exported handout ----------------------------------------------------------

EVIL = f"![logo](http://{REMOTE}/logo.png) [helpdesk](http://{REMOTE}/h) <img src=//{REMOTE}/i.png> www.example.nl"


def _turn() -> dict:
    cited = Citation(
        n=1,
        source="verslag.pdf",
        title=f"Verslag {EVIL}",  # a PDF's /Title
        author=f"A. Auteur <http://{REMOTE}/auteur>",  # metadata.json
        year=2020,
        doc_type=f"handreiking ![t](http://{REMOTE}/t.png)",
        section=f"Begrippenlijst > [De zorgplicht](http://{REMOTE}/s)",
        text=f"De school heeft een zorgplicht. {EVIL}",
        quotes=[f"De school heeft een zorgplicht. {EVIL}"],
        chunk_id="c1",
    )
    nearby = Passage(source="ander.txt", title=f"Ander {EVIL}", text=EVIL, section=EVIL)
    result = Answer(
        question=f"Wat is de zorgplicht? {EVIL}",
        answer=f"De school heeft een zorgplicht [1]. {EVIL}",
        body=f"De school heeft een zorgplicht [1].\n- {EVIL} [1]\n//{REMOTE}/llm.png",
        abstained=False,
        citations=[cited],
        lead=f"Eerst een begrip: {EVIL}",
        persona="ouder",
        persona_note="Bel de onderwijsconsulenten.",
    )
    abstained = Answer(question="Nog iets?", abstained=True, not_said=f"Dat staat er niet in. {EVIL}", nearby=[nearby])
    return [
        {"question": f"Wat is de zorgplicht? {EVIL}\n\n# Nep-kop", "persona": "ouder", "result": result},
        {"question": "Nog iets?", "persona": "ouder", "result": abstained},
    ]


def test_the_handout_shows_no_remote_image_and_no_live_link():
    md = conversation_markdown(_turn())
    assert not live(md, markup_allowed=True), live(md, markup_allowed=True)
    out, text = rendered(md)
    assert "<h1>Nep-kop" not in out and "# Nep-kop" in text  # a question cannot add a heading
    assert out.count("<h2>") == 3  # two questions and the source list
    # every word is still there, as written
    for words in ("helpdesk", "www.example.nl", "Verslag", "A. Auteur", "De zorgplicht", "Bel de onderwijsconsulenten"):
        assert words in text, words
    assert "<li>" in out  # the answer's own bullets stay bullets
    assert "“De school heeft een zorgplicht." in text  # the quoted sentence


# --- UI 6: search highlights the query's rare words and its phrases ----------------------------


def test_highlights_mark_rare_words_and_phrases_not_every_common_word():
    text = (
        "Leerlingen die thuis zitten, heten thuiszitters. Ook leerlingen met een ontwikkelingsperspectief "
        "zijn soms thuis. Ouders zitten dan met vragen over de zorgplichtregeling."
    )

    def marks(query, idf=None):
        return [m.lower() for m in re.findall(r"<mark>(.*?)</mark>", P.marked(text, P.term_spans(text, query, idf)))]

    # "kinderen die thuis zitten": the thesaurus adds "leerlingen", common; "thuiszitters", rare
    assert marks("kinderen die thuis zitten") == ["thuis zitten", "thuiszitters"]
    # a rare word is marked everywhere, also in a compound; the common words with it are not
    assert marks("zorgplicht ouders") == ["zorgplichtregeling"]
    assert marks("leerlingen met een ontwikkelingsperspectief") == ["leerlingen met een ontwikkelingsperspectief"]
    assert marks("leerlingen") == ["leerlingen", "leerlingen"]  # the only word asked: marked
    # a word in nearly every passage of the index (by its BM25 idf) is not rare, whatever its Dutch frequency
    assert marks("zorgplicht ouders", idf=lambda w: 0.1) == []


def test_search_in_the_app_marks_rare_words_not_every_leerlingen(app_home):
    at = start()
    at.session_state["tab"] = TABS["search"]
    at.run()
    at.text_input(key="zoek").set_value("kinderen die thuis zitten").run()
    assert not at.exception, at.exception
    cards = [h.value for h in at.html if 'class="kb-src-title"' in h.value]
    assert cards
    marked = [m.lower() for c in cards for m in re.findall(r"<mark>(.*?)</mark>", c)]
    assert any("thuiszit" in m or m == "thuis zitten" for m in marked), marked
    for common in ("leerlingen", "leerling", "kinderen", "thuis", "zitten"):
        assert common not in marked, (common, marked)


# --- UI 10: the upload's progress at the top, the export button kept ----------------------------


def test_an_upload_shows_its_progress_at_the_top_and_keeps_the_export_button(upload_home, monkeypatch):
    """An upload that is still at work (``add_files`` waits until the test lets it go): what the
    page shows then is what a user sees while a long upload runs."""
    import threading

    import ui.uploading

    release = threading.Event()

    def still_working(files, settings, progress=None, embedder=None):
        progress("files", 0, len(files), "")
        release.wait(60)
        return []

    monkeypatch.setattr(ui.uploading, "add_files", still_working)
    at = start()
    ask(at, "Wat is een ontwikkelingsperspectief (opp)?")
    at.session_state["tab"] = TABS["sources"]
    at.run()
    at.file_uploader[0].set_value([("notitie.txt", b"Een notitie over thuiszitters.", "text/plain")])
    at.run()
    next(b for b in at.button if b.label == "Toevoegen aan de kennisbank").click().run()
    try:
        assert not at.exception, at.exception
        export = [b for b in at.sidebar.get("download_button") if b.proto.label == "Exporteer gesprek"]
        assert export and not export[0].proto.disabled  # still there, with the conversation so far
        box = next(e for e in at.expander if e.label == "Eigen documenten toevoegen")
        kinds = [node.type for node in _flatten(box)]
        assert "progress" in kinds and "file_uploader" in kinds, kinds
        assert kinds.index("progress") < kinds.index("file_uploader"), kinds  # at the top, not below the files
    finally:
        release.set()
        finish_upload(at)


def _flatten(block) -> list:
    out = []
    for child in block.children.values():
        out.append(child)
        if getattr(child, "children", None):
            out.extend(_flatten(child))
    return out
