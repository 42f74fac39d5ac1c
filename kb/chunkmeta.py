"""What the index stores per passage besides its text and vector: flat metadata.

Chroma's metadata (and the read index's rows, :mod:`kb.readindex`) hold scalars only,
so the sentence spans are JSON and the sentence vectors packed as text.
"""

from __future__ import annotations

import base64
import json

import numpy as np

from ingest.catalog import SECTORS
from ingest.types import Chunk


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
