"""The Python API that the CLI, the app and the tests call.

>>> import kb
>>> report = kb.ingest()                      # bundled corpus → index under .kb/
>>> hits = kb.search("wat is een opp", k=5)  # list of Passage
>>> answer = kb.ask("Wat is een opp?")        # Answer: .answer, .citations, .abstained
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kb.config import Settings
from kb.results import Answer, Passage, SourceDocument

if TYPE_CHECKING:  # imported when used: a query needs neither the ingest pipeline nor Chroma
    from kb.index.indexer import IngestReport
    from kb.retrieval.retrieve import Retriever

SEARCH_DENSE_MARGIN = 0.02  # search: passages without a query word must be this close to the best one

_lock = threading.Lock()
_retrievers: dict[tuple, tuple[tuple[str, int | str], Retriever]] = {}


def ingest(
    paths=None,
    settings: Settings | None = None,
    rebuild: bool = False,
    prune: bool = False,
    progress=None,
    embedder=None,
) -> IngestReport:
    """Bring the index in step with the files (default: the bundled corpus); see :func:`kb.index.indexer.ingest`."""
    from kb.index.indexer import ingest as run

    return run(paths, settings=settings, rebuild=rebuild, prune=prune, progress=progress, embedder=embedder)


def __getattr__(name: str):
    if name == "IngestReport":
        from kb.index.indexer import IngestReport

        return IngestReport
    raise AttributeError(f"module 'kb.api' has no attribute {name!r}")


def get_retriever(settings: Settings | None = None) -> Retriever:
    """One loaded retriever per (index, model); reloaded when the index changed."""
    from kb.retrieval.retrieve import Retriever

    settings = settings or Settings.from_env()
    key: tuple = (str(settings.home.resolve()), settings.embed_model, settings.collection, settings.chroma_mode)
    if settings.server:
        key += (settings.chroma_host, settings.chroma_port)
    stamp = _manifest_stamp(settings)
    with _lock:
        cached = _retrievers.get(key)
        if cached is None or cached[0] != stamp:
            cached = (stamp, Retriever(settings))
            _retrievers[key] = cached
        return cached[1]


def _manifest_stamp(settings: Settings) -> tuple[str, int | str]:
    """Changes whenever an ingest wrote to the index, so a loaded retriever is refreshed."""
    from kb.index.layout import stamp

    return stamp(settings)


def _warm_up(settings: Settings | None) -> None:
    """A cold process: load the embedder in the background while the index is read."""
    settings = settings or Settings.from_env()
    key = (str(settings.home.resolve()), settings.embed_model, settings.collection)
    if key not in _retrievers and index_exists(settings):
        from kb.encoder.embedding import warm_up

        warm_up(settings)


def forget_retrievers() -> None:
    with _lock:
        _retrievers.clear()


def index_exists(settings: Settings | None = None) -> bool:
    """Whether ``KB_HOME`` holds an index with at least one document (cheap: reads the manifest)."""
    from kb.errors import KBError
    from kb.index.layout import active
    from kb.index.remote import ServerUnavailableError
    from kb.index.store import Store, read_manifest

    settings = settings or Settings.from_env()
    paths = active(settings)
    if paths.remote:  # a server that does not answer is said so, not taken for an empty index
        try:
            store = Store(settings, paths=paths)
            return store.remote is not None and store.remote.has_documents()
        except ServerUnavailableError:
            raise
        except KBError:
            return False
    try:
        return paths.chroma.exists() and bool(read_manifest(paths.manifest)["documents"])
    except KBError:
        return False


def documents(settings: Settings | None = None) -> dict[str, SourceDocument]:
    """The documents in the index, by id."""
    read = get_retriever(settings).read  # not the manifest: a reader never loads every chunk id
    return {d: SourceDocument.from_manifest(d, e) for d, e in read.documents().items()}


def document_blocks(doc_id: str, settings: Settings | None = None) -> list[dict]:
    """The cleaned blocks of one document (kind, text, page, level), for reading it whole."""
    return get_retriever(settings).store.read_blocks(doc_id)


def search(query: str, k: int = 10, filters=None, settings: Settings | None = None) -> list[Passage]:
    """The ``k`` best passages for ``query`` (fewer when fewer match; see ``kb search --json``)."""
    query = (query or "").strip()
    if not query:
        return []
    _warm_up(settings)
    from kb.retrieval.thesaurus import expand

    hits = get_retriever(settings).search(query, k=k, filters=filters, lexical_query=expand(query).query)
    # a passage matches when it has a query word, or is about as close in meaning as the best one
    best = max((h.dense for h in hits), default=0.0)
    hits = [h for h in hits if h.lexical > 0 or h.dense >= best - SEARCH_DENSE_MARGIN]
    return [h.passage(i + 1) for i, h in enumerate(hits)]


def ask(
    question: str,
    history: list[dict] | None = None,
    persona: str | None = None,
    filters=None,
    settings: Settings | None = None,
    on_token=None,
) -> Answer:
    """Answer a Dutch question from the sources, with citations, or abstain.

    ``history`` is the conversation so far as ``[{"role": "user"|"assistant", "content": …}]``.
    Returns an :class:`~kb.results.Answer`; ``.to_dict()`` is the object of ``kb ask --json``.
    """
    from kb.answer.question import analyse

    if analyse(question).empty:  # no retrieval (and no model load) needed
        return Answer(question=question or "", answer=analyse(question).notice or "", persona=persona)
    _warm_up(settings)
    from kb.answer.answering import answer_question

    return answer_question(
        get_retriever(settings), question, history, persona, filters, settings=settings, on_token=on_token
    )
