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
from kb.errors import KBError
from kb.results import Answer, Passage, SearchResults, SourceDocument

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


class FilterError(KBError, ValueError):
    """Filters or a number of results that cannot be used; the message says which and why."""


# other names the filters accept for a key (see kb.retrieval.retrieve.Filters.from_any)
FILTER_ALIASES = {
    "doc": "docs",
    "doc_type": "doc_types",
    "type": "doc_types",
    "sector": "sectors",
    "speaker": "speakers",
}


def check_filters(filters):
    """``filters`` as given, once checked: a dict with known keys and values of the right kind
    (or None, or a ``Filters``). A key that is not a filter (``{"year": 2016}``) or a value that
    is not one (``{"years": ["abc"]}``) is a :class:`FilterError`, never silently ignored."""
    if filters is None:
        return None
    from dataclasses import fields

    from kb.retrieval.retrieve import Filters

    if isinstance(filters, Filters):
        return filters
    names = [f.name for f in fields(Filters)]
    aliases = {alias: name for alias, name in FILTER_ALIASES.items() if name in names}
    allowed = ", ".join(names)
    if not isinstance(filters, dict):
        raise FilterError(f"filters moeten een woordenboek zijn, zoals {{'years': [2016]}}; de sleutels zijn {allowed}")
    unknown = [repr(key) for key in filters if key not in names and key not in aliases]
    if unknown:
        raise FilterError(f"onbekend filter {', '.join(unknown)}; toegestaan zijn: {allowed}")
    for key, value in filters.items():
        name = aliases.get(key, key)
        if name == "years":
            values = [] if value is None or value == "" else [value] if isinstance(value, str) else value
            if not isinstance(values, (list, tuple, set)) or not all(_year(v) for v in values):
                raise FilterError(
                    f"filter '{key}' moet een lijst van jaartallen zijn, zoals [2016, 2020], niet {_shown(value)}"
                )
        elif name in ("year_from", "year_to"):
            if value is not None and not (isinstance(value, int) and not isinstance(value, bool)):
                raise FilterError(f"filter '{key}' moet een jaartal zijn, zoals 2016, niet {_shown(value)}")
        elif value is not None and not isinstance(value, str) and not _texts(value):
            raise FilterError(f"filter '{key}' moet tekst of een lijst van teksten zijn, niet {_shown(value)}")
    try:
        Filters.from_any(filters)
    except (TypeError, ValueError) as e:
        raise FilterError(f"filters niet bruikbaar ({e}); toegestaan zijn: {allowed}") from None
    return filters


def _texts(value) -> bool:
    return isinstance(value, (list, tuple, set)) and all(isinstance(v, str) for v in value)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _year(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().isdigit()


def search(query: str, k: int = 10, filters=None, settings: Settings | None = None) -> list[Passage]:
    """The ``k`` best passages for ``query`` (fewer when fewer match; see ``kb search --json``)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise FilterError(f"het aantal resultaten (k) moet een geheel getal van minstens 1 zijn, niet {_shown(k)}")
    check_filters(filters)
    query = (query or "").strip()
    if not query:
        return []
    _warm_up(settings)
    from kb.retrieval.thesaurus import expand

    retriever = get_retriever(settings)
    fixed = retriever.correct(query)  # words the index does not know, corrected to words it does
    query = fixed.query
    hits = retriever.search(query, k=k, filters=filters, lexical_query=expand(query).query)
    # a passage matches when it has a query word, or is about as close in meaning as the best one
    best = max((h.dense for h in hits), default=0.0)
    hits = [h for h in hits if h.lexical > 0 or h.dense >= best - SEARCH_DENSE_MARGIN]
    return SearchResults([h.passage(i + 1) for i, h in enumerate(hits)], query if fixed.changed else "")


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

    check_filters(filters)
    if analyse(question).empty:  # no retrieval (and no model load) needed
        return Answer(question=question or "", answer=analyse(question).notice or "", persona=persona)
    _warm_up(settings)
    from kb.answer.answering import answer_question

    return answer_question(
        get_retriever(settings), question, history, persona, filters, settings=settings, on_token=on_token
    )
