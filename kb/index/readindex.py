"""The read side of one index: what a query needs, in two files that open at once.

    read/vectors.npy      float32 [n, dim]: the passage vectors (normalised), memory-mapped
    read/filters.npy      per passage, memory-mapped: document, type, year, sectors and
                          speaker as numbers (the names in chunks.sqlite3), what filters look at
    read/chunks.sqlite3   per passage: its row in vectors.npy, id, text, metadata (JSON);
                          per document its manifest entry without the chunk ids; the stamp

Chroma stays the index of record; this is derived from it, like the BM25 index, after
every ingest that changed something, and swapped in whole. A query opens it without
importing Chroma and reads only the rows of the passages it returns. Dense search is
exact: the dot product with every vector (a few milliseconds per 10,000 passages).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from kb.index.records import StoredPassage

FORMAT = 3  # 1: the filter fields as JSON per passage; no documents table. 2: no speaker
_VECTORS, _FILTERS, _DB = "vectors.npy", "filters.npy", "chunks.sqlite3"
FILTER_DTYPE = np.dtype(
    [("doc", np.int32), ("type", np.int16), ("year", np.int16), ("sectors", np.uint32), ("speaker", np.int32)]
)


def read_stamp(documents: dict[str, dict]) -> str:
    """Identifies the documents and their chunks; changes whenever an ingest wrote something."""
    h = hashlib.sha256(f"v{FORMAT}".encode())
    for doc_id in sorted(documents):
        entry = documents[doc_id]
        h.update(f"\x1e{doc_id}\x1f{entry.get('sha256', '')}\x1f{','.join(entry.get('chunk_ids', []))}".encode())
    return h.hexdigest()[:16]


class FilterColumns:
    """What filters look at, one row per passage (memory-mapped numbers) and the names the
    numbers stand for: a filter over a million passages is a few array operations."""

    def __init__(self, table: np.ndarray, names: dict[str, list[str]]):
        self.table = table
        self.docs, self.types, self.sectors = names["docs"], names["types"], names["sectors"]
        self.speakers: list[str] = names.get("speakers", [])  # index 0 is "" (no speaker known)

    @staticmethod
    def codes(names: list[str], wanted: Iterable[str]) -> list[int]:
        index = {n: i for i, n in enumerate(names)}
        return [index[w] for w in wanted if w in index]

    def sector_bits(self, wanted: Iterable[str]) -> int:
        return sum(1 << i for i in self.codes(self.sectors, wanted))


class _Coder:
    """Names to numbers, in order of first appearance."""

    def __init__(self):
        self.index: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        return self.index.setdefault(name, len(self.index))

    @property
    def names(self) -> list[str]:
        return list(self.index)


class ReadIndexWriter:
    """Builds a read index page by page in a temp folder beside ``directory`` (the vectors go
    straight into a memory-mapped file, so a million passages never sit in memory at once);
    :meth:`commit` swaps it in whole, :meth:`discard` removes what is left."""

    def __init__(self, directory: Path, stamp: str, capacity: int, dim: int):
        self.directory, self.stamp, self.capacity, self.dim = Path(directory), stamp, capacity, dim
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".read-", dir=self.directory.parent))
        self.vectors: np.ndarray = (
            np.lib.format.open_memmap(self.tmp / _VECTORS, mode="w+", dtype=np.float32, shape=(capacity, dim))
            if capacity and dim
            else np.zeros((0, dim), dtype=np.float32)  # an empty file cannot be memory-mapped
        )
        self.db = sqlite3.connect(self.tmp / _DB)
        self.db.execute("CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute("CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT UNIQUE, text TEXT, meta TEXT)")
        self.db.execute("CREATE TABLE documents (id TEXT PRIMARY KEY, entry TEXT)")
        self.filters = np.lib.format.open_memmap(
            self.tmp / _FILTERS, mode="w+", dtype=FILTER_DTYPE, shape=(max(capacity, 1),)
        )
        self._docs, self._types, self._sectors, self._speakers = _Coder(), _Coder(), _Coder(), _Coder()
        self._speakers("")  # code 0: no speaker known
        self.count = 0

    def set_documents(self, documents: dict[str, dict]) -> None:
        """The documents' manifest entries, with a chunk count instead of the chunk ids."""
        rows = []
        for doc_id, entry in documents.items():
            slim = {k: v for k, v in entry.items() if k != "chunk_ids"}
            slim["chunk_count"] = len(entry.get("chunk_ids") or [])
            rows.append((doc_id, json.dumps(slim, ensure_ascii=False)))
        self.db.executemany("INSERT INTO documents VALUES (?, ?)", rows)

    def add(self, ids: list[str], texts: list[str], metas: list[dict], vectors: np.ndarray) -> None:
        n = len(ids)
        if self.count + n > self.capacity:
            raise ValueError(f"read index: {self.count + n} rows for a capacity of {self.capacity}")
        if n:
            self.vectors[self.count : self.count + n] = np.asarray(vectors, dtype=np.float32).reshape(n, self.dim)
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?)",
            (
                (self.count + i, cid, text, json.dumps(meta, ensure_ascii=False))
                for i, (cid, text, meta) in enumerate(zip(ids, texts, metas))
            ),
        )
        for i, meta in enumerate(metas):
            record = StoredPassage.from_metadata(meta)
            sectors = 0
            for sector in record.sectors:
                sectors |= 1 << self._sectors(sector)
            self.filters[self.count + i] = (
                self._docs(record.doc_id),
                self._types(record.doc_type),
                record.year,
                sectors,
                self._speakers(record.speaker),
            )
        self.count += n

    def commit(self) -> None:
        names = {
            "docs": self._docs.names,
            "types": self._types.names,
            "sectors": self._sectors.names,
            "speakers": self._speakers.names,
        }
        info = [("format", str(FORMAT)), ("stamp", self.stamp), ("count", str(self.count)), ("dim", str(self.dim))]
        info.append(("filter_names", json.dumps(names, ensure_ascii=False)))
        self.db.executemany("INSERT INTO info VALUES (?, ?)", info)
        self.db.commit()
        self.db.close()
        for name, attr in ((_VECTORS, "vectors"), (_FILTERS, "filters")):
            mapped = getattr(self, attr)
            delattr(self, attr)
            if isinstance(mapped, np.memmap) and len(mapped) == self.count:
                mapped.flush()
            else:  # nothing mapped, or chunks missing from Chroma: keep only the rows written
                rows = np.array(mapped[: self.count])
                del mapped  # unmapped before the file is rewritten
                np.save(self.tmp / name, rows)
        old = self.directory.with_name(self.directory.name + ".old")
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(self.tmp, self.directory)
        shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def stored_stamp(directory: Path) -> str | None:
    """The stamp of the read index in ``directory`` (None when there is none, or it is unreadable)."""
    try:
        db = _connect(directory / _DB)
        try:
            row = db.execute("SELECT value FROM info WHERE key = 'stamp'").fetchone()
            fmt = db.execute("SELECT value FROM info WHERE key = 'format'").fetchone()
        finally:
            db.close()
    except (OSError, sqlite3.Error):
        return None
    return row[0] if row and fmt and fmt[0] == str(FORMAT) else None


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(path)
    # read-only, and never changed once swapped in: no locking needed
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)


class ReadIndex:
    """One opened read index; safe to share between threads (the app's sessions)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._db = _connect(self.directory / _DB)
        self._lock = threading.Lock()
        info = dict(self._db.execute("SELECT key, value FROM info").fetchall())
        self.stamp = info.get("stamp", "")
        self.dim = int(info.get("dim", 0))
        self._count = int(info.get("count", 0))
        self.vectors = np.load(self.directory / _VECTORS, mmap_mode="r") if self._count else None
        self._filter_names = json.loads(info.get("filter_names", "{}"))
        self._rows: dict[str, int] | None = None
        self._filters: FilterColumns | None = None

    def count(self) -> int:
        return self._count

    def _all(self, sql: str) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql).fetchall()

    @property
    def rows(self) -> dict[str, int]:
        """Chunk id -> row (read on first use)."""
        if self._rows is None:
            self._rows = {cid: row for row, cid in self._all("SELECT row, id FROM chunks ORDER BY row")}
        return self._rows

    def filter_columns(self) -> FilterColumns:
        """What filters look at, for every row (memory-mapped on first use: only filters need it)."""
        if self._filters is None:
            table = np.load(self.directory / _FILTERS, mmap_mode="r") if self._count else np.zeros(0, FILTER_DTYPE)
            self._filters = FilterColumns(table, self._filter_names)
        return self._filters

    def documents(self) -> dict[str, dict]:
        """Every document's manifest entry, with ``chunk_count`` instead of its chunk ids."""
        return {doc_id: json.loads(entry) for doc_id, entry in self._all("SELECT id, entry FROM documents ORDER BY id")}

    def nearest(self, query: np.ndarray, n: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The ``n`` passages closest to ``query`` (cosine), among the ``allowed`` rows."""
        if self.vectors is None or n <= 0:
            return []
        scores = self.vectors @ np.asarray(query, dtype=np.float32)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        n = min(n, len(scores) if allowed is None else int(allowed.sum()))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        ids = self.ids_of(top.tolist())
        return [(ids[int(r)], float(scores[r])) for r in top]

    def ids_of(self, rows: list[int]) -> dict[int, str]:
        """Row -> chunk id, for the given rows."""
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        with self._lock:
            got = self._db.execute(f"SELECT row, id FROM chunks WHERE row IN ({marks})", rows).fetchall()
        return dict(got)

    def get(self, ids: Iterable[str]) -> dict[str, tuple[str, StoredPassage]]:
        """Text and stored record of the given passages (those it has)."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            got = self._db.execute(f"SELECT id, text, meta FROM chunks WHERE id IN ({marks})", ids).fetchall()
        return {cid: (text, StoredPassage.from_metadata(json.loads(meta))) for cid, text, meta in got}

    def close(self) -> None:
        with self._lock:
            self._db.close()
