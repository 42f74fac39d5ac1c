"""The Streamlit app (app.py), driven by Streamlit's AppTest on the session index."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from kb.api import documents
from kb.chats import ChatStore
from kb.config import PROJECT_ROOT, Settings
from ui.widgets import TABS

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 300  # the first run loads the embedding model
SEVEN = "wat zijn de zeven uitgangspunten van passend onderwijs?"
OPP = "Wat is een ontwikkelingsperspectief (opp)?"
UNANSWERABLE = "Hoeveel euro krijgt een school in 2031 per leerling?"
XSS = "<script>alert(1)</script>"


@pytest.fixture
def kb_home(corpus_settings, monkeypatch):
    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    for var in ("KB_LLM_BASE_URL", "KB_LLM_MODEL", "KB_LLM_API_KEY", "KB_ALLOW_UPLOAD"):
        monkeypatch.delenv(var, raising=False)
    return corpus_settings


@pytest.fixture
def any_kb_home(any_corpus_settings, monkeypatch):
    """``kb_home`` in each backend: the app reads the index from KB_HOME or from the Chroma server."""
    from conftest import environment

    for var, value in environment(any_corpus_settings).items():
        monkeypatch.setenv(var, value)
    for var in ("KB_LLM_BASE_URL", "KB_LLM_MODEL", "KB_LLM_API_KEY", "KB_ALLOW_UPLOAD"):
        monkeypatch.delenv(var, raising=False)
    return any_corpus_settings


def start(persona: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    if persona:
        at.radio(key="rol").set_value(persona).run()
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def last_answer(at: AppTest):
    """The last assistant message (a Block with the answer, cards and feedback)."""
    return [m for m in at.chat_message if m.name == "assistant"][-1]


def html_of(block) -> str:
    return "\n".join(h.value for h in block.get("html"))


def test_answer_has_citations_and_source_cards(any_kb_home):
    at = ask(start("leraar"), OPP)
    msg = last_answer(at)
    body = html_of(msg)
    assert 'class="kb-cite">[1]</sup>' in body  # inline [n] markers
    assert body.count('class="kb-src-title"') >= 1  # a source card per citation
    assert "<mark>" in body  # the cited sentence highlighted in its passage
    assert any("extractief" in c.value for c in msg.caption)  # the mode is visible
    assert any(e.label == "Toon de tekst eromheen" for e in msg.get("expander"))
    assert any(b.label == "Lees in het document" for b in msg.button)
    # the title and year of a cited document are on the card
    stored = ChatStore.for_settings(any_kb_home).turns(at.query_params["gesprek"])[-1]["result"]
    first = stored.citations[0]
    assert first.title in body and str(first.year) in body


def test_a_chroma_server_that_is_down_is_said_in_dutch(monkeypatch, tmp_path):
    from eval.services import free_port

    port = free_port()
    for var, value in {"KB_HOME": str(tmp_path), "KB_CHROMA_MODE": "http", "KB_CHROMA_PORT": str(port)}.items():
        monkeypatch.setenv(var, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert f"127.0.0.1:{port}" in at.error[0].value and "niet bereikbaar" in at.error[0].value
    assert not at.chat_input


def test_followup_uses_the_conversation_and_survives_a_refresh(kb_home):
    at = ask(start("leraar"), SEVEN)
    ask(at, "welke daarvan gaat over ouders?")
    answer = html_of(last_answer(at)).lower()
    assert "ouder" in answer
    assert "kb-cite" in answer
    # a refresh (a new browser session with the same ?gesprek=) shows the whole conversation
    again = start(gesprek=at.query_params["gesprek"])
    questions = [t.value for m in again.chat_message if m.name == "user" for t in m.text]
    assert questions == [SEVEN, "welke daarvan gaat over ouders?"]
    # "Nieuw gesprek" starts an empty one
    next(b for b in again.button if b.label == "Nieuw gesprek").click().run()
    assert again.query_params["gesprek"] != at.query_params["gesprek"]
    assert not [m for m in again.chat_message if m.name == "user"]


def test_unanswerable_question_abstains_and_shows_what_was_found(any_kb_home):
    at = ask(start("ouder"), UNANSWERABLE)
    msg = last_answer(at)
    warnings = " ".join(w.value for w in msg.warning)
    assert "Dat staat niet in de bronnen" in warnings or "beantwoorden deze vraag niet precies" in warnings
    if "Dat staat niet in de bronnen" in warnings:
        assert any("Wel gevonden" in m.value for m in msg.markdown)
        assert "kb-cite" not in html_of(msg)  # no cited answer
    else:  # a partial answer: what the sources do say, cited
        assert "De bronnen " in html_of(msg) and "kb-cite" in html_of(msg)
    assert any("onderwijsconsulenten" in i.value for i in msg.info)  # where a parent can go


def test_search_with_filters(any_kb_home):
    at = start()
    at.session_state["tab"] = TABS["search"]
    at.run()
    at.text_input(key="zoek").set_value("ontwikkelingsperspectief").run()
    assert not at.exception
    cards = [h.value for h in at.html if 'class="kb-src-title"' in h.value]
    assert len(cards) >= 3
    assert any("<mark>ontwikkelingsperspectief</mark>" in c.lower() for c in cards)
    docs = {d.title: doc_id for doc_id, d in documents(any_kb_home).items()}
    handreiking = next(t for t in docs if t.startswith("Professionaliseringsthema"))
    at.multiselect(key="f_docs").set_value([docs[handreiking]]).run()
    cards = [h.value for h in at.html if 'class="kb-src-title"' in h.value]
    assert cards and all(handreiking in c for c in cards)
    # only the 2016 document, by its year
    at.multiselect(key="f_docs").set_value([]).run()
    at.button_group(key="f_years").set_value([2016]).run()
    cards = [h.value for h in at.html if 'class="kb-src-title"' in h.value]
    assert cards and all("2016" in c for c in cards)
    # a rare word lists only the passages that have it, not always ten
    at.button_group(key="f_years").set_value([]).run()
    at.text_input(key="zoek").set_value("plaatsingstafel").run()
    cards = [h.value for h in at.html if 'class="kb-src-title"' in h.value]
    assert 0 < len(cards) < 10
    # a result opens its passage in the document reader
    next(b for b in at.button if b.label == "Lees in het document").click().run()
    assert at.session_state["tab"] == TABS["sources"]
    reader = [h.value for h in at.html if 'class="kb-doc"' in h.value]
    assert reader and 'class="kb-doel"' in reader[0]
    assert any('getElementById("blok-' in h.value for h in at.html)  # scrolls to the passage


def test_documents_and_glossary(any_kb_home):
    at = start()
    at.session_state["tab"] = TABS["sources"]
    at.run()
    body = "\n".join(h.value for h in at.html)
    assert "Evaluatie passend onderwijs" in body and "passages" in body and "2016" in body
    assert any('class="kb-doc"' in h.value for h in at.html)
    at.session_state["tab"] = TABS["terms"]
    at.run()
    box = at.expander(key="begrip-opp")
    assert "ontwikkelingsperspectief" in box.label
    at.session_state["begrip-opp"] = True  # open it
    at.run()
    assert any("<mark>" in h.value for h in at.expander(key="begrip-opp").get("html"))


def test_feedback_is_stored_and_exported(kb_home):
    at = ask(start("leraar"), OPP)
    conversation = at.query_params["gesprek"]
    turn = ChatStore.for_settings(kb_home).turns(conversation)[-1]["id"]
    at.feedback(key=f"fb-{turn}").set_value(1).run()
    comment = next(t for t in at.text_input if t.label.startswith("Toelichting"))
    comment.set_value("Duidelijk, met bron.")
    next(b for b in at.button if b.label == "Verstuur toelichting").click().run()
    assert not at.exception
    rows = [r for r in ChatStore.for_settings(kb_home).feedback() if r["turn"] == turn]
    assert len(rows) == 1
    row = rows[0]
    assert row["score"] == 1 and row["rating"] == "goed" and row["comment"] == "Duidelijk, met bron."
    assert row["question"] == OPP and "[1]" in row["answer"]
    assert row["citations"] and row["citations"][0]["title"] and row["citations"][0]["quote"]

    from kb.cli import main

    res = CliRunner().invoke(main, ["feedback", "export", "--format", "csv"], env={"KB_HOME": str(kb_home.home)})
    assert res.exit_code == 0, res.output
    assert "Duidelijk, met bron." in res.output and OPP in res.output
    res = CliRunner().invoke(main, ["feedback", "export"], env={"KB_HOME": str(kb_home.home)})
    assert any(json.loads(line)["turn"] == turn for line in res.output.splitlines())


def test_export_contains_questions_answers_and_sources(kb_home, monkeypatch):
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    saved: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, data, mimetype, kind, filename=None):
        if mimetype == "text/markdown":
            saved.append(data if isinstance(data, bytes) else str(data).encode())
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    at = start("trainer")
    assert at.download_button[0].disabled  # nothing to export yet
    ask(at, OPP)
    assert not at.download_button[0].disabled
    md = saved[-1].decode("utf-8")
    result = ChatStore.for_settings(kb_home).turns(at.query_params["gesprek"])[-1]["result"]
    assert f"## Vraag 1: {OPP}" in md
    assert "## Alle gebruikte bronnen" in md
    for c in result.citations:
        assert c.title in md and str(c.year) in md
        assert c.author and c.author in md  # a handout names the authors
        assert " ".join(c.quotes[0].split())[:60] in md  # the quoted sentence


def test_html_in_a_question_is_shown_as_text(kb_home):
    at = ask(start("leraar"), XSS)
    assert XSS in [t.value for t in at.text]  # the question, literally
    for md in at.markdown:
        assert not (md.allow_html and XSS in md.value)
    for h in at.html:
        assert XSS not in h.value and "<script>alert" not in h.value
    ask(at, f"Wat is een opp? {XSS}")
    for h in at.html:
        assert "<script>alert" not in h.value


def finish_upload(at, timeout: float = 300) -> None:
    """Wait for the upload the last run started (it runs in a thread of its own), then run the
    page again, as the app's watcher does when the upload ends."""
    import time

    deadline = time.monotonic() + timeout
    while "upload_job" in at.session_state and not at.session_state["upload_job"].done.is_set():
        assert time.monotonic() < deadline, "the upload did not finish"
        time.sleep(0.2)
    at.run()


def test_upload_adds_documents_and_reports_failures(kb_home, tmp_path, monkeypatch):
    home = tmp_path / "kbhome"
    shutil.copytree(kb_home.home, home)  # never touch the shared session index
    monkeypatch.setenv("KB_HOME", str(home))
    monkeypatch.setenv("KB_ALLOW_UPLOAD", "1")
    at = start()
    at.session_state["tab"] = TABS["sources"]
    at.run()
    text = (
        "# Eigen notitie over thuiszitters\n\nIn onze regio zijn afspraken gemaakt over thuiszitters. "
        "De leerplichtambtenaar en het samenwerkingsverband overleggen elke maand over elke thuiszitter. "
        '<img src=x onerror="alert(2)"> <script>alert(3)</script>\n'
    )
    at.file_uploader[0].set_value(
        [
            ("notitie <b>.md", text.encode(), "text/markdown"),
            ("kapot.pdf", b"%PDF-1.4 dit is geen echte pdf", "application/pdf"),
        ]
    )
    at.run()
    next(b for b in at.button if b.label == "Toevoegen aan de kennisbank").click().run()
    finish_upload(at)
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("kapot.pdf" in e for e in errors), errors
    assert any("toegevoegd" in s.value for s in at.success)
    from kb.api import forget_retrievers

    forget_retrievers()
    assert len(documents(Settings.from_env(home=home))) == 6  # the five and the note
    assert (home / "uploads").is_dir()
    assert not (home / "uploads" / "kapot.pdf").exists()
    # HTML in a document never reaches the page: cleaning takes the tags out (their text stays)
    at.session_state["tab"] = TABS["search"]
    at.run()
    at.text_input(key="zoek").set_value("leerplichtambtenaar thuiszitter").run()
    cards = [h.value for h in at.html if 'class="kb-src-title"' in h.value]
    assert any("overleggen elke maand over elke" in c for c in cards), cards
    assert not any("<img" in h.value or "<script>alert" in h.value or "alert(" in h.value for h in at.html)


@pytest.fixture
def fake_llm():
    """A minimal OpenAI-compatible chat server on 127.0.0.1 that streams a fixed reply."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    reply = [
        "Voor leerlingen die extra ondersteuning nodig hebben, ",
        "moet de school een ",
        "ontwikkelingsperspectief (opp) opstellen [1].",
    ]
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in reply:
                chunk = {"choices": [{"delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def reload_retrievers():
    """A loaded retriever keeps the settings it was made with: start and end with none."""
    import streamlit as st

    from kb.api import forget_retrievers

    forget_retrievers()
    st.cache_resource.clear()
    yield
    forget_retrievers()
    st.cache_resource.clear()


def test_generative_mode_streams_and_is_labelled(kb_home, fake_llm, monkeypatch, reload_retrievers):
    url, seen = fake_llm
    monkeypatch.setenv("KB_LLM_BASE_URL", url)
    monkeypatch.setenv("KB_LLM_MODEL", "nep-model")
    at = ask(start("leraar"), OPP)
    assert seen and seen[0]["stream"] is True
    msg = last_answer(at)
    assert any("taalmodel" in c.value for c in msg.caption)
    body = html_of(msg)
    assert 'class="kb-cite">[1]</sup>' in body and 'class="kb-src-title"' in body


# --- issue 23 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("score, icon", [(0, "thumb_down"), (1, "thumb_up")])
def test_the_thank_you_toast_shows_the_thumb_that_was_given(kb_home, score, icon):
    at = ask(start("leraar"), OPP)
    turn = ChatStore.for_settings(kb_home).turns(at.query_params["gesprek"])[-1]["id"]
    at.feedback(key=f"fb-{turn}").set_value(score).run()
    assert not at.exception, at.exception
    toast = next(t for t in at.toast if "beoordeling" in t.value)
    assert icon in toast.proto.icon and (score == 1 or "thumb_up" not in toast.proto.icon), toast.proto.icon


@pytest.mark.parametrize(
    "link, persona", [("trainer", "trainer"), ("Trainer of opleider", "trainer"), ("LERAAR", "leraar")]
)
def test_a_link_names_the_persona_by_its_key_or_its_label(kb_home, link, persona):
    at = start(rol=link)
    assert at.radio(key="rol").value == persona
    assert not at.warning


def test_an_unknown_persona_in_a_link_is_said(kb_home):
    at = start(rol="piraat")
    assert at.radio(key="rol").value == "ouder"
    said = " ".join(w.value for w in at.sidebar.warning)
    assert "piraat" in said and "bestaat niet" in said and "?rol=trainer" in said


def test_a_conversation_id_with_anything_after_it_is_not_taken(kb_home):
    from kb.chats import new_id, valid_id
    from kb.results import Answer

    conversation = new_id()
    ChatStore.for_settings(kb_home).add_turn(conversation, "Wat is een opp?", Answer(question="Wat is een opp?"))
    for other in (conversation + "\n", conversation + "%0A", " " + conversation, conversation.upper()):
        assert not valid_id(other)
        at = start(gesprek=other)
        assert at.query_params["gesprek"] != other and valid_id(at.query_params["gesprek"])
        assert not [m for m in at.chat_message if m.name == "user"], "not another id of the same conversation"


def test_expired_conversations_are_gone_while_the_app_keeps_running(kb_home, monkeypatch):
    import sqlite3
    import time

    from kb.chats import new_id
    from kb.results import Answer

    monkeypatch.setenv("KB_RETENTION_DAYS", "30")
    store = ChatStore.for_settings(Settings.from_env())
    conversation = new_id()
    store.add_turn(conversation, "Wat is een opp?", Answer(question="Wat is een opp?", answer="Een plan."))
    at = start(gesprek=conversation)  # the app's store is made (once per process) and kept
    assert [t.value for m in at.chat_message if m.name == "user" for t in m.text] == ["Wat is een opp?"]
    with sqlite3.connect(store.path) as db:  # a month and a day later, the app still running
        db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time() - 31 * 86400, conversation))
    again = start(gesprek=conversation)
    assert not [m for m in again.chat_message if m.name == "user"], "an expired conversation cannot be read"
