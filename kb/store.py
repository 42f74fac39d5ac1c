"""The index on disk: a Chroma collection, a manifest of documents and the BM25 index.

Layout under ``KB_HOME``::

    chroma/         Chroma PersistentClient (cosine space, embeddings passed in)
    manifest.json   per document: file hash, path, metadata, chunk ids
    lexical/        BM25 index derived from the collection
    docs/           per document: the cleaned blocks (and their original text)

A document is written all or nothing: its chunks are upserted first, its old chunks
deleted after, and only then is the manifest updated. Chunks that no manifest entry
owns (left by an interrupted run) are removed by :meth:`Store.reconcile`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from ingest.catalog import SECTORS
from ingest.types import Block, Chunk
from kb.config import Settings
from kb.errors import KBError
from kb.lexical import LexicalIndex, fingerprint


class NoIndexError(KBError):
    pass


class ModelMismatchError(KBError):
    pass


PAGE = 10_000  # Chroma cannot return much more than ~32k rows from one get()


def get_all(collection, include: list[str], ids: list[str] | None = None) -> dict:
    """``collection.get`` in pages, for collections of any size; same result shape."""
    out: dict = {"ids": [], **{k: [] for k in include}}
    if ids is not None:
        for i in range(0, len(ids), PAGE):
            got = collection.get(ids=ids[i : i + PAGE], include=include)
            for k in out:
                out[k].extend(got[k])
        return out
    offset = 0
    while True:
        got = collection.get(include=include, limit=PAGE, offset=offset)
        for k in out:
            out[k].extend(got[k])
        if len(got["ids"]) < PAGE:
            return out
        offset += PAGE


def _atomic_write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def pack_vectors(rows: np.ndarray) -> str:
    """Sentence vectors as compact text for Chroma metadata: per row a float16 scale and int8 values."""
    rows = np.asarray(rows, dtype=np.float32)
    if rows.size == 0:
        return ""
    scale = np.abs(rows).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(rows / scale).astype(np.int8)
    head = np.asarray(rows.shape, dtype=np.uint16).tobytes()
    return base64.b64encode(head + scale.astype(np.float16).tobytes() + q.tobytes()).decode("ascii")


def unpack_vectors(text: str) -> np.ndarray | None:
    """The rows packed by :func:`pack_vectors` (float32), or None for an empty or missing value."""
    if not text:
        return None
    raw = base64.b64decode(text)
    n, dim = np.frombuffer(raw[:4], dtype=np.uint16)
    scale = np.frombuffer(raw[4 : 4 + 2 * n], dtype=np.float16).astype(np.float32).reshape(n, 1)
    q = np.frombuffer(raw[4 + 2 * n :], dtype=np.int8).astype(np.float32).reshape(n, dim)
    return q * scale


def chunk_metadata(chunk: Chunk, sentence_vectors: np.ndarray | None = None) -> dict:
    """Flat metadata for Chroma (scalars only; None is not allowed)."""
    m = chunk.meta
    sectors = m.get("sectors") or []
    meta = {
        "doc_id": chunk.doc_id,
        "title": m.get("title") or chunk.doc_id,
        "short_title": m.get("short_title") or m.get("title") or chunk.doc_id,
        "year": int(m["year"]) if m.get("year") else 0,
        "doc_type": m.get("doc_type") or "onbekend",
        "sectors": ",".join(sectors),
        "section": chunk.section,
        "position": chunk.position,
        "page": chunk.page or 0,
        "page_end": chunk.page_end or chunk.page or 0,
        "header": chunk.header,
        "author": m.get("author") or "",
    }
    for s in SECTORS:
        meta[f"sector_{s}"] = s in sectors
    if chunk.raw and chunk.raw.strip() != chunk.text.strip():
        meta["raw"] = chunk.raw
    if chunk.sentences:
        meta["sent_spans"] = json.dumps(chunk.sentences, separators=(",", ":"))
    if sentence_vectors is not None and len(sentence_vectors):
        meta["sent_vecs"] = pack_vectors(sentence_vectors)
    return meta


class Store:
    def __init__(self, settings: Settings, create: bool = False):
        self.settings = settings
        if not create and not settings.chroma_dir.exists():
            raise NoIndexError(f"Er is nog geen index in {settings.home}. Bouw die eerst met: kb ingest")
        settings.home.mkdir(parents=True, exist_ok=True)
        self.client = chromadb.PersistentClient(
            path=str(settings.chroma_dir),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
        )
        self.manifest: dict = self._read_manifest()
        self._lexical: LexicalIndex | None = None
        self._collection: Any = None

    # --- collection -------------------------------------------------------------
    def collection(self, model: str | None = None):
        """The chunk collection; ``model`` (when creating) records the embedding model."""
        if self._collection is not None:
            return self._collection
        name = self.settings.collection
        try:
            col = self.client.get_collection(name)
        except Exception:
            if model is None:
                raise NoIndexError(f"De index in {self.settings.home} is leeg. Bouw die eerst met: kb ingest") from None
            col = self.client.create_collection(name, metadata={"hnsw:space": "cosine", "embed_model": model})
        self._collection = col
        return col

    @property
    def model(self) -> str | None:
        try:
            return (self.collection().metadata or {}).get("embed_model")
        except NoIndexError:
            return self.manifest.get("_model")

    def check_model(self, model: str) -> None:
        built = self.model
        if built and built != model:
            raise ModelMismatchError(
                f"De index in {self.settings.home} is gebouwd met het model '{built}', "
                f"maar nu is '{model}' ingesteld (KB_EMBED_MODEL). Bouw de index opnieuw "
                f"met: kb ingest --rebuild   (of zet KB_EMBED_MODEL terug op '{built}')."
            )

    def count(self) -> int:
        return self.collection().count()

    # --- documents ----------------------------------------------------------------
    def documents(self) -> dict[str, dict]:
        return {k: v for k, v in self.manifest.items() if not k.startswith("_")}

    def owned_ids(self) -> list[str]:
        """The chunk ids of every document in the manifest."""
        return [cid for e in self.documents().values() for cid in e.get("chunk_ids", [])]

    def write_document(
        self,
        doc_id: str,
        entry: dict,
        chunks: list[Chunk],
        embeddings,
        blocks: list[Block],
        sentence_vectors: list | None = None,
    ) -> None:
        """Replace one document's chunks; all or nothing as seen from the manifest."""
        col = self.collection()
        ids = [c.chunk_id for c in chunks]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate chunk ids in {doc_id}")
        batch = 2000
        try:
            for i in range(0, len(chunks), batch):
                part = chunks[i : i + batch]
                col.upsert(
                    ids=ids[i : i + batch],
                    embeddings=[list(map(float, e)) for e in embeddings[i : i + batch]],
                    documents=[c.text for c in part],
                    metadatas=[
                        chunk_metadata(c, sentence_vectors[i + j] if sentence_vectors is not None else None)
                        for j, c in enumerate(part)
                    ],
                )
        except BaseException:
            # roll back: remove what this call added that no document owned before
            owned = set(self.owned_ids())
            added = [cid for cid in ids if cid not in owned]
            if added:
                col.delete(ids=added)
            raise
        old = set(self.manifest.get(doc_id, {}).get("chunk_ids", [])) - set(ids)
        if old:
            col.delete(ids=sorted(old))
        _atomic_write_json(
            self.settings.docstore_dir / _safe_name(doc_id),
            {"doc_id": doc_id, "meta": entry.get("meta", {}), "blocks": [asdict(b) for b in blocks]},
        )
        self.manifest[doc_id] = {**entry, "chunk_ids": ids}
        self._save_manifest()

    def delete_document(self, doc_id: str) -> None:
        ids = self.manifest.get(doc_id, {}).get("chunk_ids", [])
        if ids:
            self.collection().delete(ids=ids)
        (self.settings.docstore_dir / _safe_name(doc_id)).unlink(missing_ok=True)
        self.manifest.pop(doc_id, None)
        self._save_manifest()

    def reconcile(self) -> int:
        """Delete chunks no document owns (left by an interrupted run); return how many."""
        owned = set(self.owned_ids())
        present = set(get_all(self.collection(), include=[])["ids"])
        orphans = sorted(present - owned)
        if orphans:
            self.collection().delete(ids=orphans)
        missing = owned - present
        for doc_id, e in list(self.documents().items()):
            if missing & set(e.get("chunk_ids", [])):
                # chunks of this document are gone: forget it so the next ingest redoes it
                self.manifest.pop(doc_id)
        if missing:
            self._save_manifest()
        return len(orphans)

    def read_blocks(self, doc_id: str) -> list[dict]:
        p = self.settings.docstore_dir / _safe_name(doc_id)
        return json.loads(p.read_text(encoding="utf-8"))["blocks"] if p.exists() else []

    # --- lexical index --------------------------------------------------------------
    def rebuild_lexical(self) -> LexicalIndex:
        got = get_all(self.collection(), include=["documents", "metadatas"])
        texts = [
            f"{m.get('header', '')} {m.get('author', '')}\n{d}" for d, m in zip(got["documents"], got["metadatas"])
        ]
        lex = LexicalIndex.build(got["ids"], texts)
        lex.save(self.settings.lexical_dir)
        self._lexical = lex
        return lex

    def lexical_stale(self) -> bool:
        return LexicalIndex.read_stamp(self.settings.lexical_dir) != fingerprint(self.owned_ids())

    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            lex = None if self.lexical_stale() else LexicalIndex.load(self.settings.lexical_dir)
            if lex is None:
                lex = self.rebuild_lexical()
            self._lexical = lex
        return self._lexical

    # --- housekeeping ----------------------------------------------------------------
    def reset(self) -> None:
        """Remove everything (for --rebuild)."""
        with contextlib.suppress(Exception):
            self.client.delete_collection(self.settings.collection)
        self._collection = None
        self._lexical = None
        shutil.rmtree(self.settings.lexical_dir, ignore_errors=True)
        shutil.rmtree(self.settings.docstore_dir, ignore_errors=True)
        self.manifest = {}
        self._save_manifest()

    def _read_manifest(self) -> dict:
        p = self.settings.manifest_path
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}

    def _save_manifest(self) -> None:
        _atomic_write_json(self.settings.manifest_path, self.manifest)


def _safe_name(doc_id: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in doc_id) + ".json"
