"""What a chunk becomes in Chroma: flat metadata, packed sentence vectors, and reads in pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ingest.catalog import SECTORS
from ingest.types import Chunk
from kb.results import Passage

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


@dataclass(frozen=True)
class StoredPassage:
    """A passage's record in the index: the one codec between a chunk and Chroma's flat metadata.

    :meth:`to_metadata` writes it (scalars only, as Chroma wants) and :meth:`from_metadata`
    reads it back; every reader (search hits, filters, the read index, sentence features)
    goes through this class and none reads metadata keys by name.
    """

    doc_id: str
    title: str = ""
    short_title: str = ""
    year: int = 0  # 0: unknown
    doc_type: str = "onbekend"
    sectors: tuple[str, ...] = ()
    section: str = ""
    position: int = 0
    page: int = 0  # 0: no page (.txt/.md)
    page_end: int = 0
    header: str = ""  # the contextual header embedded with the text
    author: str = ""
    raw: str = ""  # the text before cleaning, when cleaning changed it
    sentence_spans: tuple[tuple[int, int], ...] | None = None  # None: not stored (older index)
    packed_vectors: str = ""  # the sentence vectors, as :func:`pack_vectors` writes them
    speaker: str = ""  # who says it: a byline in the text, or the document's author
    story: str = ""  # the story or contribution of a collection it belongs to
    notes: tuple[tuple[str, str, int], ...] = ()  # footnotes: (marker, text, offset in the text)

    @classmethod
    def from_chunk(cls, chunk: Chunk, sentence_vectors: np.ndarray | None = None) -> StoredPassage:
        m = chunk.meta
        return cls(
            doc_id=chunk.doc_id,
            title=m.get("title") or chunk.doc_id,
            short_title=m.get("short_title") or m.get("title") or chunk.doc_id,
            year=int(m["year"]) if m.get("year") else 0,
            doc_type=m.get("doc_type") or "onbekend",
            sectors=tuple(m.get("sectors") or ()),
            section=chunk.section,
            position=chunk.position,
            page=chunk.page or 0,
            page_end=chunk.page_end or chunk.page or 0,
            header=chunk.header,
            author=m.get("author") or "",
            raw=chunk.raw if chunk.raw and chunk.raw.strip() != chunk.text.strip() else "",
            sentence_spans=tuple(tuple(s) for s in chunk.sentences) if chunk.sentences else None,  # type: ignore[misc]
            packed_vectors=pack_vectors(sentence_vectors)
            if sentence_vectors is not None and len(sentence_vectors)
            else "",
            speaker=chunk.speaker,
            story=chunk.story,
            notes=tuple((m, t, int(chunk.note_at.get(m, len(chunk.text)))) for m, t in chunk.notes.items()),
        )

    def to_metadata(self) -> dict:
        """Flat metadata for Chroma (scalars only; None is not allowed)."""
        meta: dict = {
            "doc_id": self.doc_id,
            "title": self.title or self.doc_id,
            "short_title": self.short_title or self.title or self.doc_id,
            "year": self.year,
            "doc_type": self.doc_type,
            "sectors": ",".join(self.sectors),
            "section": self.section,
            "position": self.position,
            "page": self.page,
            "page_end": self.page_end or self.page,
            "header": self.header,
            "author": self.author,
            "speaker": self.speaker,  # always written: a filter asks for it
        }
        for s in {*SECTORS, *self.sectors}:
            meta[f"sector_{s}"] = s in self.sectors
        if self.raw:
            meta["raw"] = self.raw
        if self.sentence_spans:
            meta["sent_spans"] = json.dumps(self.sentence_spans, separators=(",", ":"))
        if self.packed_vectors:
            meta["sent_vecs"] = self.packed_vectors
        if self.story:
            meta["story"] = self.story
        if self.notes:
            meta["notes"] = json.dumps(self.notes, ensure_ascii=False, separators=(",", ":"))
        return meta

    @classmethod
    def from_metadata(cls, meta: Mapping) -> StoredPassage:
        """The record :meth:`to_metadata` wrote (missing keys take their defaults)."""
        sectors = [s for s in str(meta.get("sectors") or "").split(",") if s]
        sectors += [k[len("sector_") :] for k, v in meta.items() if k.startswith("sector_") and v]
        spans = meta.get("sent_spans")
        notes = json.loads(meta["notes"]) if meta.get("notes") else []
        return cls(
            doc_id=str(meta.get("doc_id") or ""),
            title=str(meta.get("title") or meta.get("doc_id") or ""),
            short_title=str(meta.get("short_title") or meta.get("title") or ""),
            year=int(meta.get("year") or 0),
            doc_type=str(meta.get("doc_type") or "onbekend"),
            sectors=tuple(dict.fromkeys(sectors)),
            section=str(meta.get("section") or ""),
            position=int(meta.get("position") or 0),
            page=int(meta.get("page") or 0),
            page_end=int(meta.get("page_end") or 0),
            header=str(meta.get("header") or ""),
            author=str(meta.get("author") or ""),
            raw=str(meta.get("raw") or ""),
            sentence_spans=tuple((int(a), int(b)) for a, b in json.loads(spans)) if spans else None,
            packed_vectors=str(meta.get("sent_vecs") or ""),
            speaker=str(meta.get("speaker") or ""),
            story=str(meta.get("story") or ""),
            notes=tuple((str(m), str(t), int(at)) for m, t, at in notes),
        )

    def sentence_vectors(self) -> np.ndarray | None:
        """The stored sentence vectors (float32 rows), or None when none were stored."""
        return unpack_vectors(self.packed_vectors)

    def to_passage(self, chunk_id: str, text: str, rank: int = 0, score: float = 0.0) -> Passage:
        """The passage as the API shows and cites it."""
        return Passage(
            source=self.doc_id,
            title=self.title or self.doc_id,
            short_title=self.short_title or self.title,
            year=self.year or None,
            doc_type=self.doc_type,
            page=self.page or None,
            section=self.section,
            text=text,
            chunk_id=chunk_id,
            author=self.author,
            rank=rank,
            score=round(float(score), 6),
            speaker=self.speaker,
            story=self.story,
            notes={m: t for m, t, _ in self.notes},
            note_at={m: at for m, _, at in self.notes},
        )


def notes_text(meta: Mapping) -> str:
    """The footnotes of a stored passage as one text ("" when it has none), for BM25."""
    return " ".join(t for _, t, _ in StoredPassage.from_metadata(meta).notes) if meta.get("notes") else ""


def chunk_metadata(chunk: Chunk, sentence_vectors: np.ndarray | None = None) -> dict:
    """Flat metadata for Chroma: :class:`StoredPassage` of the chunk, written."""
    return StoredPassage.from_chunk(chunk, sentence_vectors).to_metadata()
