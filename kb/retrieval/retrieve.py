"""Hybrid retrieval: dense (E5, exact, on the read index) and BM25 (Dutch stems), fused by weighted RRF.

Filters (document, type, year range, sector, speaker) apply to both sides before fusion.
A question that names a speaker of the index (:mod:`kb.retrieval.speakers`: "Wat zegt CNV
Onderwijs over werkdruk?", "knelpunten volgens Van Veen") is answered from that speaker's
passages: only theirs when it asks what they say, theirs first when it only names them.
A follow-up question gives the passages the previous answer quoted, and their neighbours in
the document, a boost (``near``, :meth:`Retriever.near`): "en hoe ging dat eerste jaar dan?"
is most often answered a few sentences further on.
A query reads the read index (:mod:`kb.index.readindex`) and the BM25 index; Chroma, the
index of record, is not opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from kb.config import Settings
from kb.index.readindex import FilterColumns
from kb.index.records import StoredPassage
from kb.index.store import Store
from kb.results import Passage
from kb.retrieval.speakers import BOOST as SPEAKER_BOOST
from kb.retrieval.speakers import SpeakerNames, asks_for_speaker
from kb.retrieval.spelling import Correction, Speller

RRF_K = 20  # tuned on the gold set (60, the usual default, ranks worse here)
CANDIDATES = 50
#: a follow-up: the boost of a passage the previous answer quoted, as a share of a first place in
#: the fused ranking, and the share of that for the passages just before and after it
#: (fitted on the training set's follow-ups: ``python -m eval.followups``)
NEAR_BOOST = 0.5
NEIGHBOUR_SHARE = 0.5
_QUOTED_SENTENCES = 6  # sentences of the previous answer looked up


@dataclass
class Filters:
    docs: list[str] = field(default_factory=list)  # doc ids (file names)
    doc_types: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    sectors: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)  # exact years (the app's year filter)
    speakers: list[str] = field(default_factory=list)  # who says it (StoredPassage.speaker)

    @classmethod
    def from_any(cls, f) -> Filters:
        if f is None:
            return cls()
        if isinstance(f, Filters):
            return f

        def as_list(v):
            if v is None or v == "":
                return []
            return [v] if isinstance(v, str) else list(v)

        return cls(
            docs=as_list(f.get("docs", f.get("doc"))),
            doc_types=as_list(f.get("doc_types", f.get("doc_type", f.get("type")))),
            year_from=f.get("year_from"),
            year_to=f.get("year_to"),
            sectors=as_list(f.get("sectors", f.get("sector"))),
            years=[int(y) for y in as_list(f.get("years"))],
            speakers=as_list(f.get("speakers", f.get("speaker"))),
        )

    def empty(self) -> bool:
        return not (
            self.docs or self.doc_types or self.sectors or self.year_from or self.year_to or self.years or self.speakers
        )

    def where(self) -> dict | None:
        """The filter as a Chroma ``where`` clause."""
        conds: list[dict] = []
        if self.docs:
            conds.append({"doc_id": {"$in": self.docs}})
        if self.doc_types:
            conds.append({"doc_type": {"$in": self.doc_types}})
        if self.year_from:
            conds.append({"year": {"$gte": int(self.year_from)}})
        if self.year_to:
            conds.append({"year": {"$lte": int(self.year_to)}})
        if self.years:
            conds.append({"year": {"$in": [int(y) for y in self.years]}})
        if self.sectors:
            ors = [{f"sector_{s}": True} for s in self.sectors]
            conds.append(ors[0] if len(ors) == 1 else {"$or": ors})
        if self.speakers:
            conds.append({"speaker": {"$in": self.speakers}})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}

    def allows(self, record: StoredPassage) -> bool:
        if self.docs and record.doc_id not in self.docs:
            return False
        if self.doc_types and record.doc_type not in self.doc_types:
            return False
        year = record.year
        if self.year_from and year < int(self.year_from):
            return False
        if self.year_to and year > int(self.year_to):
            return False
        if self.years and year not in self.years:
            return False
        if self.speakers and record.speaker not in self.speakers:
            return False
        return not (self.sectors and not any(s in record.sectors for s in self.sectors))

    def mask(self, columns: FilterColumns) -> np.ndarray:
        """Which rows pass, as :meth:`allows` decides for one passage, over the columns at once."""
        t = columns.table
        ok = np.ones(len(t), dtype=bool)
        if self.docs:
            ok &= np.isin(t["doc"], columns.codes(columns.docs, self.docs))
        if self.doc_types:
            ok &= np.isin(t["type"], columns.codes(columns.types, self.doc_types))
        if self.year_from:
            ok &= t["year"] >= int(self.year_from)
        if self.year_to:
            ok &= t["year"] <= int(self.year_to)
        if self.years:
            ok &= np.isin(t["year"], [int(y) for y in self.years])
        if self.sectors:
            ok &= (t["sectors"] & columns.sector_bits(self.sectors)) != 0
        if self.speakers:
            ok &= np.isin(t["speaker"], columns.codes(columns.speakers, self.speakers))
        return ok


@dataclass
class Hit:
    chunk_id: str
    score: float
    text: str
    record: StoredPassage
    dense: float = 0.0  # cosine similarity with the query (0 if not in the dense list)
    lexical: float = 0.0  # BM25 score (0 if not in the lexical list)

    def passage(self, rank: int = 0) -> Passage:
        return self.record.to_passage(self.chunk_id, self.text, rank, self.score)


class Retriever:
    """Loaded once (model, read index, BM25); then :meth:`search` is cheap."""

    def __init__(self, settings: Settings | None = None, embedder=None, store: Store | None = None):
        from kb.encoder.embedding import load_embedder

        self.settings = settings or Settings.from_env()
        self.store = store or Store(self.settings)
        if embedder is None:  # say so before anything is loaded when the index is of another model
            from kb.encoder.embedding import model_name, recorded_encoder

            self.store.check_model(model_name(self.settings), recorded_encoder(self.settings))
        self.read = self.store.read_index()
        self.lexical = self.store.lexical()
        # chunks a crash left behind are never served: both indexes hold only the manifest's
        # chunks, and were rebuilt above if they were out of step with it
        self.aligned = self.lexical.read_stamp == self.read.stamp  # same rows: ids through the read index
        # last: a cold process loads the embedder in the background meanwhile (kb.api)
        self.embedder = embedder or load_embedder(self.settings)
        self.store.check_model(self.embedder.name, getattr(self.embedder, "encoder", None))
        self.weights = {"dense": 1.0, "lexical": 1.0}
        self._speaker_names: SpeakerNames | None = None
        self._speller: Speller | None = None

    @property
    def collection(self):
        """The Chroma collection (opened on first use; queries do not need it)."""
        return self.store.collection()

    def count(self) -> int:
        return self.read.count()

    def correct(self, query: str) -> Correction:
        """The query with the words the index does not know corrected to words it does
        (:mod:`kb.retrieval.spelling`): "jeugdzrog" → "jeugdzorg"."""
        if self._speller is None:
            lexical = self.lexical
            self._speller = Speller(lexical.words(), lexical.knows, lexical.terms(), lexical.stem)
        return self._speller.correct(query)

    def speaker_names(self) -> SpeakerNames:
        """The speakers of the index and the names a question may use for them."""
        if self._speaker_names is None:
            columns = self.read.filter_columns() if self.read.count() else None
            self._speaker_names = SpeakerNames(columns.speakers if columns is not None else [])
        return self._speaker_names

    def named_speakers(self, query: str, filters: Filters | None = None) -> list[str]:
        """The speakers the query names that have passages (within ``filters``)."""
        named = self.speaker_names().named(query)
        if not named:
            return []
        passes = replace(filters or Filters(), speakers=named).mask(self.read.filter_columns())
        columns = self.read.filter_columns()
        present = {columns.speakers[int(code)] for code in np.unique(columns.table["speaker"][passes])}
        return [s for s in named if s in present]

    def _mask(self, filters: Filters, ids: list[str]) -> np.ndarray | None:
        """Which of ``ids`` pass the filters (None: no filters)."""
        if filters.empty():
            return None
        passes, rows = filters.mask(self.read.filter_columns()), self.read.rows
        return np.array([cid in rows and bool(passes[rows[cid]]) for cid in ids], dtype=bool)

    def _spoken_by(self, ids: list[str], speakers: list[str]) -> set[str]:
        """Which of ``ids`` are passages of ``speakers``."""
        columns, rows = self.read.filter_columns(), self.read.rows
        codes = set(columns.codes(columns.speakers, speakers))
        return {cid for cid in ids if cid in rows and int(columns.table["speaker"][rows[cid]]) in codes}

    def quoted_passages(self, text: str) -> list[str]:
        """The passages an earlier answer quoted: its sentences, each found word for word."""
        from ingest.sentences import sentences

        found: list[str] = []
        lines = [re.sub(r"\[\d+\]", " ", line).strip(" -•") for line in text.splitlines()]
        quoted = [s for line in lines for s in sentences(line) if len(s.split()) >= 5]
        for sentence in sorted(quoted, key=len, reverse=True)[:_QUOTED_SENTENCES]:
            wanted = _plain(sentence)
            top = [cid for cid, _ in self.bm25(sentence, 3, Filters())]
            texts = self.read.get(top)
            match = next((cid for cid in top if cid in texts and wanted in _plain(texts[cid][0])), None)
            if match and match not in found:
                found.append(match)
        return found

    def near(self, previous_answer: str) -> dict[str, float]:
        """What a follow-up boosts: the passages the previous answer quoted (share 1) and the
        passages just before and after each in its document (:data:`NEIGHBOUR_SHARE`)."""
        quoted = self.quoted_passages(previous_answer)
        out = dict.fromkeys(quoted, 1.0)
        records = self.read.get(quoted)
        documents = self.store.documents()
        for cid in quoted:
            ids = documents.get(records[cid][1].doc_id, {}).get("chunk_ids", []) if cid in records else []
            if cid in ids:
                i = ids.index(cid)
                for j in (i - 1, i + 1):
                    if 0 <= j < len(ids):
                        out.setdefault(ids[j], NEIGHBOUR_SHARE)
        return out

    def story_text(self, hit: Hit) -> str:
        """The text of the whole story or contribution a passage belongs to, with its headers and
        speakers: a column names its author once, often in its first passage."""
        record = hit.record
        parts = [hit.text, record.header, record.story, record.speaker]
        if record.story:
            ids = self.store.documents().get(record.doc_id, {}).get("chunk_ids", [])
            for text, other in self.read.get(ids).values():
                if other.story == record.story:
                    parts += [text, other.header, other.speaker]
        return " ".join(parts)

    def embed(self, query: str) -> np.ndarray:
        return self.embedder.embed_query(query)

    def dense(self, query: str, n: int, filters: Filters, vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        if self.read.count() == 0:
            return []
        q = self.embed(query) if vector is None else vector
        return self.read.nearest(q, n, self._allowed_rows(filters))

    def _allowed_rows(self, filters: Filters) -> np.ndarray | None:
        """Which rows of the read index pass the filters (None: no filters)."""
        if filters.empty():
            return None
        return filters.mask(self.read.filter_columns())

    def bm25(self, query: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        allowed = self._allowed_rows(filters) if self.aligned else self._mask(filters, self.lexical.ids)
        scores = self.lexical.scores(query, allowed)
        if not len(scores):
            return []
        k = min(n, len(scores))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]  # a million rows: no full sort
        top = [int(i) for i in best[np.argsort(-scores[best], kind="stable")] if scores[i] > 0]
        ids = self.read.ids_of(top) if self.aligned else {i: self.lexical.ids[i] for i in top}
        return [(ids[i], float(scores[i])) for i in top]

    def search(
        self,
        query: str,
        k: int = 10,
        filters=None,
        mode: str = "hybrid",
        lexical_query: str | None = None,
        vector: np.ndarray | None = None,
        near: dict[str, float] | None = None,
    ) -> list[Hit]:
        """Top ``k`` passages. ``mode``: "hybrid", "dense" or "bm25"; ``vector``: the query's
        embedding, when the caller already has it; ``near``: passages that gain a share of
        :data:`NEAR_BOOST` (a follow-up's previous answer, :meth:`near`)."""
        filters = Filters.from_any(filters)
        boosted: list[str] = []  # speakers the query names, whose passages gain SPEAKER_BOOST
        if not filters.speakers and (named := self.named_speakers(query, filters)):
            if asks_for_speaker(query):
                filters = replace(filters, speakers=named)  # "wat zegt X …": only X's passages
            else:
                boosted = named
        dense = self.dense(query, CANDIDATES, filters, vector) if mode in ("hybrid", "dense") else []
        lex = self.bm25(lexical_query or query, CANDIDATES, filters) if mode in ("hybrid", "bm25") else []
        fused: dict[str, float] = {}
        for weight, ranked in ((self.weights["dense"], dense), (self.weights["lexical"], lex)):
            for rank, (cid, _) in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
        dense_s, lex_s = dict(dense), dict(lex)
        if boosted:
            bonus = SPEAKER_BOOST * max(self.weights.values()) / (RRF_K + 1)
            for cid in self._spoken_by(list(fused), boosted):
                fused[cid] += bonus
        if near:
            allowed = self._mask(filters, list(near))
            for i, (cid, share) in enumerate(near.items()):
                if allowed is None or allowed[i]:
                    fused[cid] = fused.get(cid, 0.0) + NEAR_BOOST * share * max(self.weights.values()) / (RRF_K + 1)
        best = sorted(fused, key=lambda c: -fused[c])[:k]
        if not best:
            return []
        docs = self.read.get(best)
        return [
            Hit(cid, fused[cid], docs[cid][0], docs[cid][1], dense_s.get(cid, 0.0), lex_s.get(cid, 0.0))
            for cid in best
            if cid in docs
        ]


def _plain(text: str) -> str:
    """Text compared for quoting: lower case, letters and digits only, single spaces."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
