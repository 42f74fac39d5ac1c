"""Ingest: files → documents → clean blocks → chunks → embeddings → index.

Incremental: a file whose content hash is in the manifest is skipped, a changed file
replaces its document, and with ``prune`` documents whose file is gone are deleted.
A file that fails is reported with its name and the reason; the others are indexed
and whatever was indexed before survives.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ingest.loaders import is_supported
from kb.config import Settings
from kb.index.preparing import Prepared, prepare, prepared
from kb.index.store import WriteError

__all__ = ["IngestReport", "discover", "ingest", "prepare"]

# progress(stage, done, total, label); stage is "files", "clean" (the passes of cleaning one
# big file, see CLEAN_PROGRESS_BYTES) or "chunks"
Progress = Callable[[str, int, int, str], None]

WRITES_AHEAD = 4  # documents embedded and waiting to be written (their vectors are in memory)


@dataclass
class IngestReport:
    files: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks: int = 0  # chunks embedded and written in this run
    total_chunks: int = 0  # chunks in the index afterwards
    seconds: float = 0.0
    stopped: str = ""  # why the ingest stopped early (a full disk), in Dutch; "" when it ran to the end
    stalled: bool = False  # a write hung: the process should end (the stuck write cannot be cancelled)

    def stop(self, reason: str, stalled: bool = False) -> None:
        self.stopped = reason
        self.stalled = self.stalled or stalled

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = [
            f"{self.files} bestanden",
            f"{len(self.added)} nieuw",
            f"{len(self.updated)} gewijzigd",
            f"{len(self.unchanged)} ongewijzigd",
        ]
        if self.removed:
            parts.append(f"{len(self.removed)} verwijderd")
        parts += [
            f"{len(self.skipped)} overgeslagen",
            f"{len(self.failed)} mislukt",
            f"{self.chunks} passages ingebed",
            f"{self.total_chunks} passages in de index",
            f"{self.seconds:.1f} s",
        ]
        return ", ".join(parts)


def discover(paths: Iterable[Path], report: IngestReport) -> list[Path]:
    """Expand folders; unsupported files are recorded as skipped."""
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts):
                    if f.name in ("metadata.json", "README.md") and f.parent == p:
                        continue  # the corpus' own catalogue and notes
                    _add(f, found, report)
        elif p.exists():
            _add(p, found, report)
        else:
            report.failed.append((str(p), "bestand of map bestaat niet"))
    return found


def _add(f: Path, found: list[Path], report: IngestReport) -> None:
    if is_supported(f):
        found.append(f)
    else:
        report.skipped.append((str(f), f"bestandstype '{f.suffix or '(geen)'}' wordt niet ondersteund"))


def ingest(
    paths: Iterable[Path] | None = None,
    settings: Settings | None = None,
    rebuild: bool = False,
    prune: bool = False,
    progress: Progress | None = None,
    embedder=None,
) -> IngestReport:
    """Bring the index in step with the given files (default: the bundled corpus).

    One writer at a time: a second one waits for the first (``KB_LOCK_WAIT``) and says so
    through ``progress("wait", 0, 0, message)``. With ``rebuild`` the new index is built
    beside the active one, which stays in use until the new one is complete; the
    documents the old index had (whose files still exist) are taken along.
    """
    from kb.index.layout import active, discard, new_folder, write_lock

    settings = settings or Settings.from_env()
    progress = progress or (lambda *a: None)
    start = time.perf_counter()
    with write_lock(settings, on_wait=lambda message: progress("wait", 0, 0, message)):
        old = active(settings)
        if not rebuild:
            report = _ingest_into(old, paths, settings, False, prune, progress, embedder)
        else:
            target = new_folder(settings)
            try:
                report = _ingest_into(target, paths, settings, True, prune, progress, embedder, carry=old)
            except BaseException:
                with contextlib.suppress(Exception):  # a server that went away keeps its leftovers (kb doctor)
                    discard(settings, target)
                raise
            if report.stopped:
                with contextlib.suppress(Exception):
                    discard(settings, target)  # the old index stays as it was
            else:
                _switch(settings, old, target)
    report.seconds = time.perf_counter() - start
    return report


def _switch(settings: Settings, old, target) -> None:
    """Point KB_HOME at the new index, then remove the old one."""
    from kb.index.layout import discard, switch_to

    switch_to(settings, target)
    if old.root == settings.home:  # the layout before the pointer: the index sat in KB_HOME itself
        for part in (old.chroma, old.lexical, old.docs):
            shutil.rmtree(part, ignore_errors=True)
        old.manifest.unlink(missing_ok=True)
    elif old.root != target.root:
        discard(settings, old)


def _ingest_into(paths_, files_in, settings, rebuild, prune, progress, embedder, carry=None) -> IngestReport:
    from kb.index.layout import exists
    from kb.index.store import CHUNKER_VERSION, Store

    report = IngestReport()
    inputs = [Path(p) for p in files_in] if files_in else [settings.corpus_dir]
    if carry is not None and (carry.manifest.exists() or (carry.remote and exists(settings, carry))):
        try:
            carried = Store(settings, paths=carry).documents()
        except Exception:  # a damaged old index: rebuild from the given files only
            carried = {}
        inputs += [
            Path(e["path"])
            for e in carried.values()
            if e.get("path") and Path(e["path"]).exists() and not any(_inside(Path(e["path"]), p) for p in inputs)
        ]

    store = Store(settings, create=True, paths=paths_)
    name, encoder = _identity(settings, embedder)

    def open_index() -> None:
        if not rebuild:
            store.check_model(name, encoder)
        store.collection(model=name, encoder=encoder)
        store.reconcile()

    # An index with documents is opened first: reconcile decides which of them are redone. An
    # empty one (a first ingest, a rebuild) is opened by the writer while the first file is
    # prepared and embedded (importing chromadb and opening it take seconds).
    writer = _Writer(store)
    if store.documents():
        open_index()
    else:
        writer.submit(open_index)

    files = discover(inputs, report)
    report.files = len(files)
    encoder_of = _Encoder(embedder, settings)
    known = dict(store.documents())
    outdated = bool(known) and store.head().get("chunker") != CHUNKER_VERSION
    if outdated:  # cleaned or chunked by an older version: every document given is done again
        known = {doc_id: {**entry, "sha256": ""} for doc_id, entry in known.items()}
    # the model loads while the first changed file is read and cleaned (not at all when none changed)
    stream = prepared(
        files,
        known,
        settings,
        on_change=encoder_of.warm_up,
        on_step=lambda done, total, name: progress("clean", done, total, name),
    )
    try:
        _embed_and_write(stream, len(files), writer, encoder_of, settings, report, progress)
        writer.finish(report)  # the last document's write; an index that would not open raises here
    finally:
        stream.close()
        writer.close()
    if report.stopped:
        return report

    if prune:
        for doc_id, entry in sorted(store.documents().items()):
            if not Path(entry.get("path", "")).exists():
                store.delete_document(doc_id)
                report.removed.append(doc_id)

    if outdated and not report.failed and set(store.documents()) <= set(report.updated) | set(report.added):
        store.manifest["chunker"] = CHUNKER_VERSION  # every document is in the current version now
        store.save_manifest()
    try:
        if report.added or report.updated or report.removed or rebuild or store.lexical_stale():
            store.rebuild_lexical()
        report.total_chunks = len(store.owned_ids())
    except WriteError as e:
        report.stop(str(e))
    return report


def _inside(path: Path, given: Path) -> bool:
    try:
        return path.resolve() == given.resolve() or given.resolve() in path.resolve().parents
    except OSError:
        return False


def _identity(settings: Settings, embedder) -> tuple[str, str | None]:
    """The model and encoder an ingest embeds with (without loading the model)."""
    if embedder is not None:
        return embedder.name, getattr(embedder, "encoder", None)
    from kb.encoder.embedding import model_name, recorded_encoder

    return model_name(settings), recorded_encoder(settings)


class _Encoder:
    """The embedder, loaded when the first passage needs it."""

    def __init__(self, embedder, settings: Settings):
        self._embedder, self._settings = embedder, settings

    def warm_up(self) -> None:
        if self._embedder is None:
            from kb.encoder.embedding import warm_up

            warm_up(self._settings)

    def __call__(self):
        if self._embedder is None:
            from kb.encoder.embedding import load_embedder

            self._embedder = load_embedder(self._settings)
        return self._embedder


class _Writer:
    """Writes documents into the store in a background thread, one at a time and in order,
    while the caller embeds the next ones (at most ``WRITES_AHEAD`` wait their turn).
    Outcomes are recorded in the report as writes end (:meth:`collect`, :meth:`finish`); an
    error that is not a document's own (an index that cannot be opened, another model) is
    raised there. After a write that stops the ingest (a full disk, a stalled write) the
    documents queued behind it are not written."""

    def __init__(self, store):
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-write")
        self._queued: deque[tuple[Future, Prepared | None]] = deque()
        self._stopped = threading.Event()

    def submit(self, task: Callable[[], None]) -> None:
        self._queued.append((self._pool.submit(task), None))

    def write(self, prep: Prepared, vectors: list, sentence_vectors: list, report: IngestReport) -> bool:
        """Queue a document's write; False when the ingest must stop."""

        def task() -> bool:
            if self._stopped.is_set():
                return False
            try:
                self.store.write_document(prep.doc_id, prep.entry, prep.chunks, vectors, prep.blocks, sentence_vectors)
            except WriteError:
                self._stopped.set()
                raise
            return True

        self._queued.append((self._pool.submit(task), prep))
        while len(self._queued) > WRITES_AHEAD:
            if not self._record(*self._queued.popleft(), report):
                return False
        return self.collect(report)

    def collect(self, report: IngestReport) -> bool:
        """Record the writes that have ended; False when the ingest must stop."""
        while self._queued and self._queued[0][0].done():
            if not self._record(*self._queued.popleft(), report):
                return False
        return not report.stopped

    def finish(self, report: IngestReport) -> bool:
        """Wait for every queued write; False when the ingest must stop."""
        while self._queued:
            if not self._record(*self._queued.popleft(), report):
                return False
        return not report.stopped

    def _record(self, pending: Future, prep: Prepared | None, report: IngestReport) -> bool:
        if prep is None:  # opening the index
            pending.result()
            return True
        try:
            written = pending.result()
        except WriteError as e:  # a full disk: stop here; what is in the index stays as it was
            report.failed.append((prep.path, str(e)))
            report.stop(str(e), stalled=e.stalled)
            return False
        except Exception as e:
            report.failed.append((prep.path, f"schrijven naar de index mislukt: {type(e).__name__}: {e}"))
            return True
        if not written:
            return False
        report.chunks += len(prep.chunks)
        (report.added if prep.status == "added" else report.updated).append(prep.doc_id)
        return True

    def close(self) -> None:
        """Let a write in progress end (it cannot be interrupted halfway); do not start others."""
        self._stopped.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Pending:
    """A document whose passages are being embedded."""

    prep: Prepared
    vectors: list = field(default_factory=list)
    sentence_vectors: list = field(default_factory=list)
    failed: bool = False

    @property
    def complete(self) -> bool:
        return len(self.vectors) == len(self.prep.chunks)


def _embed_and_write(
    stream,
    n_files: int,
    writer: _Writer,
    encoder_of: _Encoder,
    settings: Settings,
    report: IngestReport,
    progress: Progress,
) -> None:
    """Embed the prepared documents' passages in calls that run across documents (the
    encoder sorts a call's passages by length into batches: a pool from several documents
    pads less and fills its batches), and hand each document to the writer once all its
    passages are embedded; meanwhile the next files are prepared in the background
    (:func:`kb.index.preparing.prepared`) and the earlier ones are written (:class:`_Writer`)."""
    # A call sorts its passages by length into batches: the bigger the pool, the less padding
    # (pools of 4 batches padded about 5 % more tokens than one sort over the corpus), but the
    # more memory (the token embeddings of a call's passages, about 0.4 MB each).
    pool = max(1, settings.batch_size) * 8
    documents: deque[_Pending] = deque()  # in the order they came, each written when complete
    waiting: deque[tuple[_Pending, int]] = deque()  # passages not embedded yet: (document, chunk index)
    count = {"total": 0, "done": 0}

    def embed(n: int) -> None:
        items = [waiting.popleft() for _ in range(min(n, len(waiting)))]
        items = [(d, i) for d, i in items if not d.failed]
        if not items:
            return
        first_doc, last_doc = items[0][0].prep.doc_id, items[-1][0].prep.doc_id
        doc_id = first_doc if first_doc == last_doc else f"{first_doc} t/m {last_doc}"  # what the call spans
        progress("chunks", count["done"], count["total"], doc_id)
        embedder = encoder_of()  # a model that cannot be loaded stops the ingest with its message
        chunks = [d.prep.chunks[i] for d, i in items]

        def done(n: int) -> None:  # the progress bar moves batch by batch
            progress("chunks", count["done"] + n, count["total"], doc_id)

        try:
            if hasattr(embedder, "embed_passages_with_spans"):  # sentence vectors from the same pass
                vectors, sentence_vectors = embedder.embed_passages_with_spans(
                    [c.embed_text for c in chunks], [c.embed_spans for c in chunks], done=done
                )
            else:
                vectors, sentence_vectors = (
                    embedder.embed_passages([c.embed_text for c in chunks]),
                    [None] * len(chunks),
                )
        except Exception as e:  # these documents fail; the others go on
            for d in {id(d): d for d, _ in items}.values():
                d.failed = True
                report.failed.append((d.prep.path, f"inbedden mislukt: {type(e).__name__}: {e}"))
            return
        for (d, _), v, sv in zip(items, vectors, sentence_vectors):
            d.vectors.append(v)
            d.sentence_vectors.append(sv)
        count["done"] += len(items)

    def write_complete() -> bool:
        """Hand the complete documents at the front to the writer; False when the ingest stops."""
        while documents and (documents[0].failed or documents[0].complete):
            d = documents.popleft()
            if d.failed:
                continue
            if not writer.write(d.prep, d.vectors, d.sentence_vectors, report):
                return False
        return True

    for outcome in stream:
        progress("files", outcome.index + 1, n_files, outcome.path.name)
        if outcome.failed:
            report.failed.append((str(outcome.path), outcome.failed))
            continue
        if outcome.unchanged or outcome.prepared is None:
            report.unchanged.append(outcome.path.name)
            continue
        document = _Pending(outcome.prepared)
        documents.append(document)
        waiting.extend((document, i) for i in range(len(document.prep.chunks)))
        count["total"] += len(document.prep.chunks)
        # a call as soon as a pool is ready: the encoder works while the next files are prepared
        while len(waiting) >= pool and (outcome.index + 1 < n_files or len(waiting) > 2 * pool):
            embed(pool)
            if not write_complete():
                return
        if not write_complete():  # a document without passages
            return
    while waiting:  # the rest in one call when it is at most two pools
        embed(len(waiting) if len(waiting) <= 2 * pool else pool)
        if not write_complete():
            return
    if not write_complete():
        return
    progress("files", n_files, n_files, "")
    progress("chunks", count["total"], count["total"], "")
