"""What the app keeps between reruns: the settings, the loaded index, the chat store.

Loaded once per process (``st.cache_resource``) and refreshed when an ingest changed
the index (the manifest's time stamp is part of every cache key).
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from kb import api
from kb.chats import ChatStore
from kb.config import Settings
from ui.plaintext import md_plain


def settings() -> Settings:
    """The settings, read from the environment on every run (cheap; tests change it)."""
    return Settings.from_env()


def index_stamp() -> str:
    from kb.index.layout import stamp

    name, mtime = stamp(settings())
    return f"{name}:{mtime}"


def has_index() -> bool:
    return api.index_exists(settings())


@st.cache_resource(show_spinner=False)
def build_lock() -> threading.Lock:
    return threading.Lock()


def ingest_progress(bar):
    """An ingest progress callback that drives ``bar``: files read (a tenth), passages embedded
    (the rest). The next files are read while passages are embedded, so both stages report
    in turns and the passage total grows; the bar never moves back."""
    state = {"files": 0.0, "chunks": 0.0, "shown": 0.0}

    def progress(stage: str, done: int, total: int, label: str) -> None:
        if stage == "clean" and total:  # a big document: the bar stays, the text says which pass
            bar.progress(min(state["shown"], 1.0), text=f"Groot document opschonen: {label} (stap {done} van {total})")
            return
        if not total or stage not in ("files", "chunks"):
            return
        state[stage] = done / total
        # passages count only as far as the files they come from have been read
        fraction = max(state["shown"], 0.1 * state["files"] + 0.9 * state["files"] * state["chunks"])
        state["shown"] = fraction
        what = "Documenten lezen" if stage == "files" else "Passages verwerken"
        bar.progress(min(fraction, 1.0), text=f"{what} ({done} van {total})")

    return progress


def load_model(bar) -> None:
    """Load the embedding model with its steps on ``bar`` (the first start converts it once)."""
    from kb.encoder.embedding import load_embedder

    load_embedder(settings(), progress=lambda message: bar.progress(0.0, text=message))


def build_index(rebuild: bool = False) -> None:
    """Build the index from corpus/ (and earlier uploads) with a visible progress bar."""
    with build_lock():
        if has_index() and not rebuild:
            return  # another session built it meanwhile
        st.title("Kennisbank Passend Onderwijs", anchor=False)
        label = "De kennisbank wordt opnieuw opgebouwd…" if rebuild else "De kennisbank wordt voor het eerst opgebouwd…"
        with st.status(label, expanded=True) as status:
            st.write(
                "Dit gebeurt eenmalig en duurt bij de eerste start ongeveer een minuut: het taalmodel "
                "wordt klaargezet en de documenten worden gelezen en doorzoekbaar gemaakt."
            )
            bar = st.progress(0.0, text="Taalmodel laden…")
            load_model(bar)
            uploads = settings().home / "uploads"
            paths = [settings().corpus_dir] + ([uploads] if uploads.is_dir() else [])
            report = api.ingest(paths, settings=settings(), rebuild=rebuild, progress=ingest_progress(bar))
            for path, reason in report.failed:
                st.error(md_plain(f"{Path(path).name}: {reason}"))  # a name or a reason may hold Markdown
            status.update(
                label=f"De kennisbank is klaar ({report.total_chunks} passages).", state="complete", expanded=False
            )


@st.cache_resource(show_spinner="Het taalmodel en de index worden geladen…")
def _retriever(home: str, stamp: str):
    return api.get_retriever(settings())


def retriever():
    return _retriever(str(settings().home.resolve()), index_stamp())


def term_idf(word: str) -> float:
    """The BM25 idf of a word's term in the loaded index: high for a word few passages have
    (what search highlighting marks, :func:`ui.passages.term_spans`)."""
    lexical = retriever().lexical
    return lexical.idf(lexical.stem(word))


@st.cache_resource(show_spinner=False)
def _chat_store(home: str, retention_days: int) -> ChatStore:
    return ChatStore.for_settings(settings())


def chats() -> ChatStore:
    """The chat store (one per process); it applies ``KB_RETENTION_DAYS`` on every read."""
    return _chat_store(str(settings().home), settings().retention_days)


@st.cache_data(show_spinner=False, max_entries=64)
def _blocks(home: str, stamp: str, doc_id: str) -> list[dict]:
    return api.document_blocks(doc_id, settings=settings())


@st.cache_data(show_spinner=False, max_entries=256)
def _search(home: str, stamp: str, query: str, filters: dict, k: int):
    return api.search(query, k=k, filters=filters, settings=settings())


def doc_blocks(doc_id: str) -> list[dict]:
    """The cleaned blocks of a document (headings, paragraphs, lists) for the reader."""
    return _blocks(str(settings().home), index_stamp(), doc_id)


def search(query: str, filters: dict | None = None, k: int = 10):
    return _search(str(settings().home), index_stamp(), query, filters or {}, k)


def documents() -> dict:
    retriever()  # the index is loaded (and refreshed) first
    return api.documents(settings())
