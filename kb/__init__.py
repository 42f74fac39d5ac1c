"""Kennisbank Passend Onderwijs: a Dutch knowledge base over the evaluation literature.

The public API (imported lazily, so ``import kb`` stays cheap)::

    kb.ingest(paths=None, rebuild=False, prune=False) -> IngestReport
    kb.search(query, k=10, filters=None) -> list[Passage]
    kb.ask(question, history=None, persona=None, filters=None) -> Answer
"""

from kb.config import Settings

__all__ = ["Settings", "ask", "ingest", "search"]


def __getattr__(name):
    if name in ("ingest", "search", "ask"):
        from kb import api

        return getattr(api, name)
    raise AttributeError(f"module 'kb' has no attribute {name!r}")
