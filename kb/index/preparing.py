"""Loading, cleaning and chunking the files of an ingest, ahead of the encoder.

:func:`prepared` runs :func:`prepare` on the next files in a background thread while the
caller embeds the documents already prepared: loading and cleaning overlap with
encoding (ONNX Runtime and torch release the interpreter while they compute). At most
``AHEAD`` documents wait. Results come back in file order, and only the caller's thread
reports progress (the app's progress bar must be updated from its own thread).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.catalog import describe, passage_sectors
from ingest.chunk import LIST_MAX_FACTOR, chunk_blocks
from ingest.clean import clean_pages
from ingest.loaders import LoadError, file_sha256, format_by_kind, load_file
from ingest.types import Block, Chunk
from kb.config import Settings

AHEAD = 2  # prepared documents waiting for the encoder (memory stays bounded)
#: a file at least this big reports the passes of its cleaning (a few seconds per MB)
CLEAN_PROGRESS_BYTES = 1_000_000

OnStep = Callable[[int, int, str], None]  # (passes done, passes in all, file name)


@dataclass
class Prepared:
    doc_id: str
    path: str
    entry: dict
    chunks: list[Chunk]
    blocks: list[Block]
    status: str  # "added" | "updated"


@dataclass
class Outcome:
    """What became of one file: prepared, unchanged (skipped), or failed with a Dutch reason."""

    index: int
    path: Path
    prepared: Prepared | None = None
    unchanged: bool = False
    failed: str = ""


def prepare(
    path: Path, settings: Settings, on_step: Callable[[int, int, str], None] | None = None
) -> tuple[list[Block], list[Chunk], dict]:
    """Load, clean, describe and chunk one file (no index access); ``on_step`` sees the cleaning.

    A file over the limits (``KB_MAX_FILE_MB``, ``KB_MAX_PAGES``, ``KB_MAX_PASSAGES``) is
    refused as early as its size can be told: bytes and pages before any text is read, a
    text far too long for the passage limit before it is cleaned, the passages before any
    of them is embedded."""
    doc = load_file(path, max_bytes=int(settings.max_file_mb * 1_000_000), max_pages=settings.max_pages)
    limit = settings.max_passages
    if limit > 0 and sum(len(p.text) for p in doc.pages) > limit * settings.chunk_size * LIST_MAX_FACTOR:
        # more passages than the limit even in chunks of the longest kind (a whole list), unless
        # cleaning dropped most of the text: refused before cleaning, which takes seconds per MB
        raise LoadError(path, _too_many_passages(f"meer dan {limit}", limit))
    blocks = clean_pages(doc.pages, on_step)
    if not any(b.text.strip() for b in blocks if b.kind != "heading"):
        raise LoadError(path, "na het opschonen bleef er geen tekst over om te doorzoeken")
    meta = describe(doc, blocks)
    chunks = chunk_blocks(doc.doc_id, blocks, meta, settings.chunk_size, settings.chunk_overlap)
    if limit > 0 and len(chunks) > limit:
        raise LoadError(path, _too_many_passages(str(len(chunks)), limit))
    for c in chunks:  # the sector filter works per passage: a passage about the mbo is filed under mbo
        c.meta["sectors"] = passage_sectors(c.section, c.text, meta.get("sectors") or [])
        if not settings.context_headers:
            c.header = ""
    entry = {
        "sha256": doc.sha256,
        "path": str(Path(path).resolve()),
        "kind": doc.kind,
        "meta": meta,
        "pages": len(doc.pages) if (fmt := format_by_kind(doc.kind)) and fmt.paged else None,
    }
    return blocks, chunks, entry


def _too_many_passages(count: str, limit: int) -> str:
    return (
        f"het document zou {count} passages worden; de grens is {limit} passages per bestand "
        "(in te stellen met KB_MAX_PASSAGES); splits het document of verhoog de grens"
    )


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):
        return str(a) == str(b)


def _elsewhere(entry: dict | None, f: Path) -> str | None:
    """The other file a document of the same name came from, when that file is still there.

    A document is known by its file name: a same-named file from another folder would
    replace it. A file that moved (its old path is gone) is the same document."""
    old = (entry or {}).get("path")
    if not old or _same_file(old, f):
        return None
    try:
        return old if Path(old).is_file() else None
    except OSError:
        return None


def outcomes(
    files: Iterable[Path],
    known: dict[str, dict],
    settings: Settings,
    on_change: Callable[[], None] | None = None,
    on_step: OnStep | None = None,
) -> Iterator[Outcome]:
    """Each file's outcome, in order, in this thread. ``known``: the index's documents;
    ``on_change`` is called once, as soon as a file turns out to need embedding;
    ``on_step`` sees the cleaning passes of a file of at least ``CLEAN_PROGRESS_BYTES``."""
    seen: dict[str, Path] = {}
    for i, f in enumerate(files):
        doc_id = f.name
        if doc_id in seen:
            reason = f"een ander bestand met dezelfde naam is al verwerkt ({seen[doc_id]}); geef het een unieke naam"
            yield Outcome(i, f, failed=reason)
            continue
        seen[doc_id] = f
        entry = known.get(doc_id)
        try:
            if entry and entry.get("sha256") == file_sha256(f):
                yield Outcome(i, f, unchanged=True)
                continue
            other = _elsewhere(entry, f)
            if other is not None:
                reason = (
                    f"er staat al een document met de naam {doc_id} in de kennisbank, uit een ander bestand "
                    f"({other}); dat wordt niet vervangen. Geef dit bestand een unieke naam; is het een nieuwe "
                    "versie van hetzelfde document, verwijder dan eerst het andere bestand"
                )
                yield Outcome(i, f, failed=reason)
                continue
            if on_change is not None:
                on_change()
                on_change = None
            step = None
            if on_step is not None and f.stat().st_size >= CLEAN_PROGRESS_BYTES:
                step = lambda done, total, _, name=f.name: on_step(done, total, name)  # noqa: E731
            blocks, chunks, meta_entry = prepare(f, settings, step)
        except LoadError as e:
            yield Outcome(i, f, failed=e.reason)
            continue
        except Exception as e:  # an unexpected problem in one file must not stop the others
            yield Outcome(i, f, failed=f"onverwachte fout bij verwerken: {type(e).__name__}: {e}")
            continue
        status = "updated" if entry else "added"
        yield Outcome(i, f, prepared=Prepared(doc_id, str(f), meta_entry, chunks, blocks, status))


_DONE = object()


def prepared(
    files: list[Path],
    known: dict[str, dict],
    settings: Settings,
    on_change: Callable[[], None] | None = None,
    ahead: int = AHEAD,
    on_step: OnStep | None = None,
) -> Generator[Outcome, None, None]:
    """:func:`outcomes`, computed up to ``ahead`` documents in advance in a background thread.

    ``on_step`` (the cleaning passes of a big file) is called from the caller's thread, while
    it waits for the next document.

    Closing the iterator early (the caller stopped: a full disk, an interrupt) stops the
    thread after the file it is on.
    """
    results: queue.Queue = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()
    step: list[tuple[int, int, str] | None] = [None]  # the worker's latest cleaning pass

    def record(done: int, total: int, name: str) -> None:
        step[0] = (done, total, name)

    def put(item) -> bool:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for outcome in outcomes(files, known, settings, on_change, record if on_step else None):
                if not put(outcome):
                    return
        except BaseException as e:  # handed to the caller's thread, which raises it
            put(e)
        finally:
            put(_DONE)

    worker = threading.Thread(target=run, name="kb-prepare", daemon=True)
    worker.start()
    try:
        shown = None
        while True:
            try:
                item = results.get(timeout=0.2)
            except queue.Empty:
                if on_step is not None and step[0] is not None and step[0] != shown:
                    shown = step[0]
                    on_step(*shown)
                continue
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5.0)
