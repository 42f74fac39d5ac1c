"""Kennisbank Passend Onderwijs — de app.   streamlit run app.py

A thin shell over the Python API (:mod:`kb.api`): chat, search, the documents and a
glossary. Conversations and feedback are kept in SQLite (:mod:`kb.chats`); text from
documents and users is always escaped before it is shown (:mod:`kb.passages`).
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from pathlib import Path

import streamlit as st

from kb import api
from kb import passages as P
from kb.answer import ABSTAIN_PARENT, ABSTAIN_TEXT
from kb.chats import ChatStore, new_id, valid_id
from kb.config import Settings
from kb.conversation import normalise_question
from kb.export import conversation_markdown
from kb.glossary import load_glossary
from kb.store import IndexError_

st.set_page_config(page_title="Kennisbank Passend Onderwijs", page_icon="📚")

PERSONAS = {"ouder": "Ouder of verzorger", "leraar": "Leraar of schoolteam", "trainer": "Trainer of opleider"}
TABS = [":material/chat: Vraag het", ":material/search: Zoeken", ":material/menu_book: Bronnen", ":material/dictionary: Begrippenlijst"]
SECTORS = {"po": "Primair onderwijs (po)", "vo": "Voortgezet onderwijs (vo)", "so": "Speciaal onderwijs (so)", "mbo": "Middelbaar beroepsonderwijs (mbo)"}
EXAMPLES = {
    "ouder": ["Wat is een ontwikkelingsperspectief (opp)?", "Wat doet een samenwerkingsverband?",
              "Zijn ouders tevreden over passend onderwijs?"],
    "leraar": ["Wat zijn de zeven uitgangspunten van passend onderwijs?", "Waar hebben leraren behoefte aan?",
               "Wat is basisondersteuning?"],
    "trainer": ["Wat zijn de belangrijkste conclusies van de evaluatie?", "Wat zijn de zeven uitgangspunten van passend onderwijs?",
                "Hoe werken onderwijs en jeugdzorg samen?"],
}
CSS = """<style>
.kb-answer p, .kb-answer ul {margin: 0 0 .5rem 0}
sup.kb-cite {color: #1d4ed8; font-weight: 600; font-size: .75em; margin-left: .1em}
mark {background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px}
.kb-src-title {font-weight: 600; line-height: 1.35}
.kb-n {display: inline-block; min-width: 1.6em; text-align: center; margin-right: .3em; border-radius: .8em;
       background: #dbeafe; color: #1d4ed8; font-size: .85em}
.kb-meta, .kb-note {color: #6b7280; font-size: .85rem}
.kb-excerpt {border-left: 3px solid #e5e7eb; padding-left: .75rem; font-size: .93rem}
.kb-excerpt p {margin: .2rem 0}
.kb-context {max-height: 26rem; overflow-y: auto; font-size: .93rem}
.kb-context > div, .kb-doc > div, .kb-doc > ul {margin-bottom: .6rem}
.kb-faint {color: #6b7280}
.kb-doel {background: #eff6ff; border-left: 3px solid #3b82f6; padding: .3rem .6rem; scroll-margin-top: 5rem}
.kb-doc h3, .kb-doc h4, .kb-doc h5, .kb-doc h6 {margin: 1rem 0 .4rem 0; scroll-margin-top: 5rem}
[data-testid="InputInstructions"] {display: none}
/* Streamlit's own English texts in the file uploader, in Dutch */
[data-testid="stFileUploaderDropzone"] button p, [data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0}
[data-testid="stFileUploaderDropzone"] button p::after {content: "Bestanden kiezen"; font-size: .875rem}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
    content: "of sleep ze hierheen · PDF, TXT of MD · hoogstens 50 MB per bestand"; font-size: .8rem}
</style>"""
DUTCH = '<script>document.documentElement.lang = "nl";</script>'  # for screen readers and translation prompts

# Our own script, never with user text: the only values in it are two integers.
SCROLL = """<script>/* sprong {jump} */ (function() {{
  let tries = 0;
  (function go() {{
    const el = document.getElementById("blok-{block}");
    if (el) el.scrollIntoView({{block: "center", behavior: "smooth"}});
    else if (tries++ < 40) setTimeout(go, 100);
  }})();
}})();</script>"""


# --- the index and the model: loaded once ------------------------------------------------------
settings = Settings.from_env()


def index_stamp() -> int:
    try:
        return settings.manifest_path.stat().st_mtime_ns
    except OSError:
        return 0


def has_index() -> bool:
    try:
        manifest = json.loads(settings.manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(not k.startswith("_") for k in manifest) and settings.chroma_dir.exists()


@st.cache_resource(show_spinner=False)
def build_lock() -> threading.Lock:
    return threading.Lock()


def ingest_progress(bar):
    """An ingest progress callback that drives ``bar`` (files first, then passages)."""

    def progress(stage: str, done: int, total: int, label: str) -> None:
        if not total:
            return
        if stage == "files":
            bar.progress(0.1 * done / total, text=f"Documenten lezen ({done} van {total})")
        else:
            bar.progress(0.1 + 0.9 * done / total, text=f"Passages verwerken ({done} van {total})")

    return progress


def build_index(rebuild: bool = False) -> None:
    """Build the index from corpus/ (and earlier uploads) with a visible progress bar."""
    with build_lock():
        if has_index() and not rebuild:
            return  # another session built it meanwhile
        st.title("Kennisbank Passend Onderwijs", anchor=False)
        label = "De kennisbank wordt opnieuw opgebouwd…" if rebuild else "De kennisbank wordt voor het eerst opgebouwd…"
        with st.status(label, expanded=True) as status:
            st.write("Dit gebeurt eenmalig en duurt een paar minuten: het taalmodel wordt klaargezet en "
                     "de documenten worden gelezen en doorzoekbaar gemaakt.")
            bar = st.progress(0.0, text="Taalmodel laden…")
            uploads = settings.home / "uploads"
            paths = [settings.corpus_dir] + ([uploads] if uploads.is_dir() else [])
            report = api.ingest(paths, settings=settings, rebuild=rebuild, progress=ingest_progress(bar))
            for path, reason in report.failed:
                st.error(f"`{Path(path).name}`: {reason}")
            status.update(label=f"De kennisbank is klaar ({report.total_chunks} passages).", state="complete", expanded=False)


@st.cache_resource(show_spinner="Het taalmodel en de index worden geladen…")
def load_retriever(home: str, stamp: int):
    return api.get_retriever(settings)


def retriever():
    return load_retriever(str(settings.home.resolve()), index_stamp())


@st.cache_resource(show_spinner=False)
def chat_store(home: str) -> ChatStore:
    return ChatStore.for_settings(settings)


@st.cache_data(show_spinner=False, max_entries=64)
def _blocks(home: str, stamp: int, doc_id: str) -> list[dict]:
    return retriever().store.read_blocks(doc_id)


@st.cache_data(show_spinner=False, max_entries=256)
def _search(home: str, stamp: int, query: str, filters: dict, k: int) -> list[dict]:
    return api.search(query, k=k, filters=filters, settings=settings)


def doc_blocks(doc_id: str) -> list[dict]:
    """The cleaned blocks of a document (headings, paragraphs, lists) for the reader."""
    return _blocks(str(settings.home), index_stamp(), doc_id)


def search(query: str, filters: dict | None = None, k: int = 10) -> list[dict]:
    return _search(str(settings.home), index_stamp(), query, filters or {}, k)


def documents() -> dict:
    return retriever().store.documents()


# --- small helpers -------------------------------------------------------------------------------
def esc(text) -> str:
    return html.escape(str(text if text is not None else ""))


def note(text: str) -> None:
    """A grey line of plain text (never interpreted as Markdown or HTML)."""
    st.html(f'<div class="kb-note">{esc(text)}</div>')


def doc_type(m: dict) -> str:
    t = m.get("doc_type") or ""
    return "" if t == "onbekend" else t.capitalize()


def meta_line(p: dict) -> str:
    place = f"p. {p['page']}" if p.get("page") else (f"“{p['section'].split(' > ')[-1]}”" if p.get("section") else "")
    parts = [str(p.get("year") or "z.j."), doc_type(p), place]
    return " · ".join(x for x in parts if x)


def open_in_reader(doc_id: str, text: str = "", quotes: list[str] | None = None) -> None:
    """Button callback: switch to the Bronnen tab at the passage ``text`` of ``doc_id``."""
    blocks = doc_blocks(doc_id)
    span = P.locate(blocks, text) if text else None
    st.session_state.tab = TABS[2]
    st.session_state.lezer_doc = doc_id
    st.session_state.lezer_doel = span
    st.session_state.lezer_quotes = quotes or []
    parts = P.sections(blocks)
    st.session_state.lezer_deel = P.section_of(parts, span[0]) if span and parts else -1
    st.session_state.sprong = st.session_state.get("sprong", 0) + 1


def reader_button(p: dict, key: str, quotes: list[str] | None = None) -> None:
    st.button("Lees in het document", key=key, icon=":material/open_in_new:", type="tertiary",
              on_click=open_in_reader, args=(p["source"], p.get("text", ""), quotes))


# --- Vraag het --------------------------------------------------------------------------------------
def source_card(c: dict, key: str) -> None:
    """One cited passage: title, year, type, place, the passage with the cited sentence marked."""
    text = c.get("text", "")
    quotes = c.get("quotes") or [c.get("quote", "")]
    with st.container(border=True, key=key):
        st.html(f'<div class="kb-src-title"><span class="kb-n">{c["n"]}</span>{esc(c.get("title"))}</div>'
                f'<div class="kb-meta">{esc(meta_line(c))}</div>'
                f'<div class="kb-excerpt">{P.excerpt_html(text, P.quote_spans(text, quotes), 650)}</div>')
        with st.expander("Toon de tekst eromheen"):
            blocks = doc_blocks(c["source"])
            span = P.locate(blocks, text)
            if span:
                before = P.blocks_html(blocks, span[0] - 2, span[0] - 1, css_class="kb-faint", anchors=False)
                after = P.blocks_html(blocks, span[1] + 1, span[1] + 2, css_class="kb-faint", anchors=False)
                middle = P.blocks_html(blocks, span[0], span[1], target=span, quotes=quotes, anchors=False)
                st.html(f'<div class="kb-context">{before}{middle}{after}</div>')
            else:
                st.html(f'<div class="kb-context">{P.paragraphs_html(text, P.quote_spans(text, quotes))}</div>')
            reader_button(c, f"{key}-lees", quotes)


def show_abstention(result: dict, key: str, persona: str) -> None:
    if not result.get("answer", "").startswith(ABSTAIN_TEXT):
        st.warning(result.get("answer") or ABSTAIN_TEXT, icon=":material/help:")
        return
    st.warning(f"**{ABSTAIN_TEXT}** Ik geef daarom geen antwoord; hieronder staat wat er wel in de buurt kwam.",
               icon=":material/search_off:")
    nearby = result.get("nearby") or []
    if nearby:
        st.markdown("**Wel gevonden** — maar geen antwoord op uw vraag:")
        for i, p in enumerate(nearby):
            with st.container(border=True):
                text = p.get("text", "")
                st.html(f'<div class="kb-src-title">{esc(p.get("title"))}</div><div class="kb-meta">{esc(meta_line(p))}</div>'
                        f'<div class="kb-excerpt">{P.excerpt_html(text, P.term_spans(text, result.get("query") or result["question"]), 260)}</div>')
                reader_button(p, f"{key}-buurt-{i}")
    if persona == "ouder":
        st.info(ABSTAIN_PARENT, icon=":material/support_agent:")


def show_answer(result: dict, turn_id: int | None, persona: str) -> None:
    key = f"t{turn_id}"
    if result.get("notice"):
        st.info(result["notice"], icon=":material/info:")
    if result.get("query") and result["query"] != normalise_question(result["question"])[0]:
        note(f"Opgevat als vervolgvraag: “{result['query']}”")
    if result.get("abstained"):
        show_abstention(result, key, persona)
    else:
        body, lead = result.get("answer", ""), result.get("lead")
        if lead and body.startswith(lead):
            st.info(lead.removesuffix("Wat de bronnen zeggen:").strip(), icon=":material/lightbulb:")
            body = body[len(lead):].strip()
        parent_tail = body.endswith(ABSTAIN_PARENT)
        body = body.removesuffix(ABSTAIN_PARENT).strip()
        if "\n\nBronnen:\n" in body:  # the trainer's source list: shown as cards below
            body = body.split("\n\nBronnen:\n")[0]
        st.html(f'<div class="kb-answer">{P.answer_html(body)}</div>')
        if result.get("mode") == "llm":
            st.caption(":material/smart_toy: Modus: **taalmodel** — in eigen woorden geschreven door een taalmodel, "
                       "op basis van de genummerde bronnen. Controleer belangrijke punten in de bron.")
        else:
            st.caption(":material/format_quote: Modus: **extractief** — het antwoord bestaat uit letterlijke zinnen uit de bronnen.")
        if parent_tail:
            st.info(ABSTAIN_PARENT, icon=":material/support_agent:")
        citations = result.get("citations") or []
        if citations:
            st.markdown(f"**Bronnen** ({len(citations)})")
            for c in citations:
                source_card(c, f"{key}-bron-{c['n']}")
    if result.get("terms") and not result.get("lead"):
        with st.expander("Begrippen in deze vraag", icon=":material/dictionary:"):
            for t in result["terms"]:
                st.html(f"<p><b>{esc(t['full'])}</b> ({esc(t['term'])}): {esc(t['uitleg'])}</p>")
    if turn_id is not None:
        feedback(turn_id)


def feedback(turn_id: int) -> None:
    chats = chat_store(str(settings.home))
    saved = chats.feedback_for(turn_id) or {}
    key = f"fb-{turn_id}"

    def save_score():
        chats.save_feedback(turn_id, score=st.session_state[key])
        st.toast("Bedankt voor uw beoordeling!", icon=":material/thumb_up:")

    cols = st.columns([0.35, 0.65], vertical_alignment="center")
    cols[0].caption("Was dit antwoord nuttig?")
    with cols[1]:
        score = st.feedback("thumbs", key=key, default=saved.get("score"), on_change=save_score)
    if score is not None:
        with st.form(f"fbt-{turn_id}", border=False, enter_to_submit=True):
            comment = st.text_input("Toelichting (niet verplicht)", value=saved.get("comment") or "",
                                    placeholder="Wat was goed, of wat miste u?", max_chars=2000)
            if st.form_submit_button("Verstuur toelichting", type="secondary"):
                chats.save_feedback(turn_id, comment=comment)
                st.toast("Bedankt, uw toelichting is opgeslagen.", icon=":material/check:")


def ask_and_show(question: str, conversation: str, persona: str) -> None:
    chats = chat_store(str(settings.home))
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        stream = st.empty()
        tokens: list[str] = []

        def on_token(token: str) -> None:  # generative mode: show the answer as it is written
            tokens.append(token)
            stream.text("".join(tokens) + " ▌")

        with st.spinner("Ik zoek het antwoord in de bronnen…"):
            result = api.ask(question, history=chats.history(conversation), persona=persona,
                             settings=settings, on_token=on_token)
        stream.empty()
        turn_id = chats.add_turn(conversation, question, result, persona)
        show_answer(result, turn_id, persona)


def chat_tab(conversation: str, persona: str, prompt: str | None) -> None:
    turns = chat_store(str(settings.home)).turns(conversation)
    welcome = st.empty()  # emptied at once when the first question comes (no faded leftovers)
    if turns or prompt:
        welcome.empty()
    else:
        with welcome.container(), st.chat_message("assistant"):
            st.markdown(
                "Hallo! Stel hieronder uw vraag over **passend onderwijs**. Ik zoek het antwoord in "
                f"{len(documents())} onderzoeken en handreikingen en laat precies zien waar het staat. "
                "Staat het er niet in, dan zeg ik dat eerlijk.")
            st.pills("Probeer bijvoorbeeld:", EXAMPLES.get(persona, EXAMPLES["ouder"]), key="voorbeeld",
                     on_change=lambda: st.session_state.update(vraag=st.session_state.voorbeeld, voorbeeld=None))
    for t in turns:
        with st.chat_message("user"):
            st.text(t["question"])
        with st.chat_message("assistant"):
            show_answer(t["result"], t["id"], t.get("persona") or persona)
    if prompt:
        ask_and_show(prompt, conversation, persona)


# --- Zoeken -------------------------------------------------------------------------------------------
def search_tab() -> None:
    docs = documents()
    query = st.text_input("Zoek in de bronnen", key="zoek", placeholder="bijvoorbeeld: ontwikkelingsperspectief",
                          icon=":material/search:")
    metas = {d: e.get("meta", {}) for d, e in docs.items()}
    years = sorted({m["year"] for m in metas.values() if m.get("year")})
    with st.expander("Filters", icon=":material/filter_list:"):
        c1, c2 = st.columns(2)
        chosen = c1.multiselect("Document", list(docs), key="f_docs", placeholder="Alle documenten",
                                format_func=lambda d: metas[d].get("short_title") or metas[d].get("title") or d)
        types = c2.multiselect("Soort document", sorted({m.get("doc_type") or "onbekend" for m in metas.values()}),
                               key="f_types", placeholder="Alle soorten", format_func=str.capitalize)
        sectors = c1.multiselect("Sector", list(SECTORS), key="f_sectors", placeholder="Alle sectoren",
                                 format_func=SECTORS.get)
        year_range = (c2.slider("Jaar", years[0], years[-1], (years[0], years[-1]), key="f_years")
                      if len(years) > 1 else (None, None))
    if not query.strip():
        note("Typ een of meer woorden; de passages waarin ze voorkomen verschijnen hier, met de zoekwoorden gemarkeerd.")
        return
    filters = {"docs": chosen, "doc_types": types, "sectors": sectors,
               "year_from": year_range[0] if year_range[0] != (years or [None])[0] else None,
               "year_to": year_range[1] if year_range[1] != (years or [None])[-1] else None}
    hits = search(query, filters)
    if not hits:
        st.info("Geen passages gevonden. Probeer andere woorden of minder filters.", icon=":material/search_off:")
        return
    note(f"{len(hits)} passages, de best passende eerst.")
    for h in hits:
        with st.container(border=True):
            text = h.get("text", "")
            st.html(f'<div class="kb-src-title">{esc(h.get("title"))}</div><div class="kb-meta">{esc(meta_line(h))}</div>'
                    f'<div class="kb-excerpt">{P.excerpt_html(text, P.term_spans(text, query), 500)}</div>')
            reader_button(h, f"zoek-{h['chunk_id']}")


# --- Bronnen ------------------------------------------------------------------------------------------
def documents_list() -> None:
    for doc_id, e in documents().items():
        m = e.get("meta", {})
        n = len(e.get("chunk_ids", []))
        uploaded = Path(e.get("path", "")).parent == (settings.home / "uploads").resolve()
        facts = [m.get("author"), m.get("year"), doc_type(m), ", ".join(m.get("sectors") or []),
                 f"{n} passage{'s' if n != 1 else ''}", f"eigen bestand {doc_id}" if uploaded else None]
        with st.container(border=True):
            text, button = st.columns([0.82, 0.18], vertical_alignment="center")
            text.html(f'<div class="kb-src-title">{esc(m.get("title") or doc_id)}</div>'
                      f'<div class="kb-meta">{esc(" · ".join(str(f) for f in facts if f))}</div>')
            button.button("Lezen", key=f"lees-{doc_id}", icon=":material/menu_book:", on_click=open_in_reader, args=(doc_id,))


def reader() -> None:
    docs = documents()
    if st.session_state.get("lezer_doc") not in docs:
        st.session_state.lezer_doc = next(iter(docs))

    def reset():
        st.session_state.update(lezer_deel=-1, lezer_doel=None, lezer_quotes=[])

    doc = st.selectbox("Document", list(docs), key="lezer_doc", on_change=reset,
                       format_func=lambda d: docs[d].get("meta", {}).get("title") or d)
    blocks = doc_blocks(doc)
    meta = docs[doc].get("meta", {})
    note(" · ".join(str(x) for x in (meta.get("author"), meta.get("year"), doc_type(meta)) if x))
    by_page = P.pages(blocks)
    parts = by_page if by_page and st.toggle("Per pagina", key="lezer_paginas") else P.sections(blocks)
    if st.session_state.get("lezer_deel", -1) >= len(parts):
        st.session_state.lezer_deel = -1
    k = st.selectbox("Pagina" if parts is by_page else "Hoofdstuk", range(-1, len(parts)), key="lezer_deel",
                     format_func=lambda i: "Hele document" if i < 0 else parts[i][0])
    first, last = (0, len(blocks) - 1) if k < 0 else parts[k][1:]
    st.html(P.blocks_html(blocks, first, last, target=st.session_state.get("lezer_doel"),
                          quotes=st.session_state.get("lezer_quotes")))
    target = st.session_state.get("lezer_doel")
    if target:  # scroll to the passage; runs again only for a new jump (the script text changes)
        st.html(SCROLL.format(block=int(target[0]), jump=st.session_state.get("sprong", 0)), unsafe_allow_javascript=True)


def upload() -> None:
    messages = st.session_state.get("upload_meldingen", [])  # the result of the last upload
    with st.expander("Eigen documenten toevoegen", icon=":material/upload_file:", expanded=bool(messages)):
        st.caption("PDF-, tekst- en Markdown-bestanden. Ze worden alleen aan deze kennisbank toegevoegd.")
        for kind, message in messages:
            getattr(st, kind)(message)
        n = st.session_state.get("upload_n", 0)
        files = st.file_uploader("Kies bestanden", type=["pdf", "txt", "md"], accept_multiple_files=True,
                                 key=f"upload-{n}", max_upload_size=50)
        if files and st.button("Toevoegen aan de kennisbank", type="primary"):
            st.session_state.upload_meldingen = add_uploads(files)
            st.session_state.upload_n = n + 1  # a fresh, empty uploader
            st.rerun()


def add_uploads(files) -> list[tuple[str, str]]:
    """Save the files under KB_HOME/uploads and ingest them; (kind, message) per file."""
    folder = settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    docs, paths, problems = documents(), [], []
    for f in files:
        name = re.sub(r"[^\w.\- ]", "_", Path(f.name).name).lstrip(".") or "document"
        path = folder / name
        if name in docs and Path(docs[name].get("path", "")).resolve() != path.resolve():
            problems.append((name, "er staat al een document met deze bestandsnaam in de kennisbank; "
                                   "geef het bestand een andere naam"))
            continue
        path.write_bytes(f.getvalue())
        paths.append(path)
    messages = []
    if paths:
        bar = st.progress(0.0, text="Bestanden verwerken…")
        report = api.ingest(paths, settings=settings, progress=ingest_progress(bar), embedder=retriever().embedder)
        for path, reason in report.failed + report.skipped:
            problems.append((Path(path).name, reason))
            Path(path).unlink(missing_ok=True)
        messages += [("success", f"`{name}` is toegevoegd en doorzoekbaar.") for name in report.added + report.updated]
        messages += [("info", f"`{name}` stond al in de kennisbank.") for name in report.unchanged]
    return [("error", f"`{name}` is niet toegevoegd: {reason}") for name, reason in problems] + messages


def docs_tab() -> None:
    st.subheader("Documenten in de kennisbank", anchor=False)
    documents_list()
    if settings.allow_upload:
        upload()
    st.subheader("Lezen", anchor=False)
    reader()


# --- Begrippen ----------------------------------------------------------------------------------------
def terms_tab() -> None:
    st.caption("Afkortingen en begrippen uit passend onderwijs, kort uitgelegd. "
               "Open een begrip om te zien waar het in de bronnen wordt besproken.")

    def name(t):  # "opp" → "OPP", "ib'er" → "IB'er", "zorgplicht" → "Zorgplicht"
        return re.sub(r"^[a-z]+", lambda m: m.group().upper(), t.term) if len(t.term) <= 5 else t.term.capitalize()

    for t in sorted(load_glossary(), key=lambda t: name(t).lower()):
        label = f"**{name(t)}** — {t.full}" if t.term != t.full else f"**{name(t)}**"
        box = st.expander(label, key=f"begrip-{t.term}", on_change="rerun")
        with box:
            st.html(f"<p>{esc(t.uitleg)}</p>")
            if box.open:
                hits = search(t.full, k=3)
                if hits:
                    st.markdown("**In de bronnen**")
                for h in hits:
                    text = h.get("text", "")
                    st.html(f'<div class="kb-src-title">{esc(h.get("title"))}</div><div class="kb-meta">{esc(meta_line(h))}</div>'
                            f'<div class="kb-excerpt">{P.excerpt_html(text, P.term_spans(text, t.full), 300)}</div>')
                    reader_button(h, f"begrip-{t.term}-{h['chunk_id']}")


def new_conversation() -> None:
    st.query_params["gesprek"] = new_id()
    st.session_state.tab = TABS[0]


# --- the page -------------------------------------------------------------------------------------------
st.html(CSS)
if st.session_state.pop("herbouwen", False) or not has_index():
    build_index(rebuild=has_index())
try:
    retriever()
except IndexError_ as e:  # e.g. an index of an older version or another model
    st.error(str(e), icon=":material/error:")
    st.button("De kennisbank nu opnieuw opbouwen", type="primary", on_click=st.session_state.update, kwargs={"herbouwen": True})
    st.stop()

conversation = st.query_params.get("gesprek")
if not valid_id(conversation):
    conversation = new_id()
    st.query_params["gesprek"] = conversation

with st.sidebar:
    st.title(":material/school: Kennisbank Passend Onderwijs")
    st.caption("Antwoorden uit onderzoek en handreikingen over passend onderwijs — altijd met de bron erbij.")
    persona = st.radio("Ik ben…", list(PERSONAS), format_func=PERSONAS.get, key="rol", bind="query-params",
                       help="Het antwoord wordt op u afgestemd; de feiten en bronnen blijven dezelfde.")
    st.divider()
    st.button("Nieuw gesprek", icon=":material/add_comment:", width="stretch", on_click=new_conversation)
    export_slot = st.empty()  # filled at the end, when this run's answer is stored too
    st.caption("Dit gesprek blijft bewaard als u de pagina ververst. De antwoorden zijn geen persoonlijk advies.")
    st.html(DUTCH, unsafe_allow_javascript=True)

tab_chat, tab_search, tab_docs, tab_terms = st.tabs(TABS, key="tab", on_change="rerun")
prompt = st.chat_input("Stel uw vraag over passend onderwijs…", max_chars=1000) if tab_chat.open else None
prompt = prompt or st.session_state.pop("vraag", None)
if tab_chat.open:
    with tab_chat:
        chat_tab(conversation, persona, prompt)
if tab_search.open:
    with tab_search:
        search_tab()
if tab_docs.open:
    with tab_docs:
        docs_tab()
if tab_terms.open:
    with tab_terms:
        terms_tab()

turns = chat_store(str(settings.home)).turns(conversation)
export_slot.download_button(
    "Exporteer gesprek", icon=":material/download:", width="stretch", disabled=not turns,
    data=conversation_markdown(turns) if turns else "", mime="text/markdown",
    file_name=f"gesprek-passend-onderwijs-{time.strftime('%Y-%m-%d')}.md",
    help="Download de vragen, antwoorden en alle bronnen als Markdown, bijvoorbeeld als hand-out.")
