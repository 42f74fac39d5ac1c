"""BM25 over the indexed chunks (bm25s), with Dutch stemming and compound parts.

The lexical index is derived data: it is rebuilt from the Chroma collection after every
ingest that changed something, and stamped with the collection's chunk ids so that
search can tell when it is out of step. Beside the BM25 index it keeps the index's words
as written (lower-cased) with how often they occur (``words.tsv``): the vocabulary that a
misspelt query word is corrected against (:mod:`kb.retrieval.spelling`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np

from kb.text import ANALYZER_VERSION, analyze

FORMAT = 3  # 1: one chunk_ids.json with the stamp and all ids. 2: no words.tsv
_META_FILE, _IDS_TXT, _WORDS = "lexical.json", "ids.txt", "words.tsv"


def fingerprint(ids: list[str]) -> str:
    """Identifies the chunk set and the text analysis the index was built with."""
    data = f"v{ANALYZER_VERSION}\n" + "\n".join(sorted(ids))
    return hashlib.sha256(data.encode()).hexdigest()[:16]


class LexicalIndex:
    """The BM25 index; loaded memory-mapped, so processes on one machine share its pages.

    Its rows are the chunks in the order they were indexed; ``read_stamp`` names the read
    index (:mod:`kb.index.readindex`) built in the same pass with the same row order, so a
    reader can map rows to ids through that and never load ``ids`` itself.
    """

    def __init__(
        self,
        retriever: bm25s.BM25 | None,
        ids: list[str] | None,
        stamp: str,
        count: int | None = None,
        directory: Path | None = None,
        read_stamp: str = "",
    ):
        self.retriever = retriever
        self._ids = ids
        self.stamp = stamp
        self.count = len(ids) if ids is not None else int(count or 0)
        self.read_stamp = read_stamp
        self._directory = directory
        self._idf: dict[str, float] = {}
        self._words: dict[str, int] | None = None

    @property
    def ids(self) -> list[str]:
        """The chunk id of every row (read from disk on first use)."""
        if self._ids is None:
            text = (self._directory / _IDS_TXT).read_text(encoding="utf-8") if self._directory else ""
            self._ids = text.split("\n") if text else []
        return self._ids

    def words(self) -> dict[str, int]:
        """The words of the indexed passages as written (lower-cased) and how often each occurs
        (read from disk on first use)."""
        if self._words is None:
            self._words = {}
            try:
                text = (self._directory / _WORDS).read_text(encoding="utf-8") if self._directory else ""
            except OSError:
                text = ""
            for line in text.split("\n"):
                word, _, count = line.partition("\t")
                if word and count.isdigit():
                    self._words[word] = int(count)
        return self._words

    @classmethod
    def from_terms(cls, ids: list[str], terms: list[list[str]], words: Counter[str] | None = None) -> LexicalIndex:
        """From the analysed terms of each chunk (:func:`kb.text.analyze`) and the counted words
        of all chunks (:func:`kb.text.surface_words`)."""
        if not ids:
            lex = cls(None, [], fingerprint([]))
        else:
            retriever = bm25s.BM25(k1=1.2, b=0.75)
            # every document gets at least one token, so bm25s keeps the id alignment
            retriever.index([t or ["_"] for t in terms], show_progress=False)
            lex = cls(retriever, list(ids), fingerprint(ids))
        lex._words = dict(words or {})
        return lex

    def save(self, directory: Path) -> None:
        """Write to a temporary folder, then swap it in, so a crash never leaves half an index."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=directory.parent))
        if self.retriever is not None:
            self.retriever.save(str(tmp), show_progress=False)
        (tmp / _IDS_TXT).write_text("\n".join(self.ids), encoding="utf-8")
        words = sorted(self.words().items(), key=lambda wc: (-wc[1], wc[0]))
        (tmp / _WORDS).write_text("\n".join(f"{w}\t{c}" for w, c in words), encoding="utf-8")
        meta = {"format": FORMAT, "stamp": self.stamp, "count": self.count, "read": self.read_stamp}
        (tmp / _META_FILE).write_text(json.dumps(meta))
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def _meta(directory: Path) -> dict | None:
        try:
            meta = json.loads((directory / _META_FILE).read_text())
        except (OSError, ValueError):
            return None  # none, unreadable, or the first format (chunk_ids.json): rebuilt
        return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None

    @classmethod
    def read_stamp_of(cls, directory: Path) -> str | None:
        """The stamp of a saved index, without loading the index itself."""
        meta = cls._meta(directory)
        return meta["stamp"] if meta else None

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        meta = cls._meta(directory)
        if meta is None:
            return None
        retriever = bm25s.BM25.load(str(directory), mmap=True) if meta["count"] else None
        return cls(retriever, None, meta["stamp"], meta["count"], directory, meta.get("read", ""))

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk (in ``self.ids`` order) for the query."""
        terms = analyze(query)
        if self.retriever is None or not terms:
            return np.zeros(self.count, dtype=np.float32)
        vocab = self.retriever.vocab_dict
        known = [t for t in terms if t in vocab]
        if not known:
            return np.zeros(self.count, dtype=np.float32)
        s = self.retriever.get_scores(known)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        return s

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term; unknown terms count as rare."""
        if term not in self._idf:
            n = max(self.count, 1)
            df = 0
            if self.retriever is not None:
                tid = self.retriever.vocab_dict.get(term)
                if tid is not None:
                    indptr = self.retriever.scores["indptr"]
                    df = int(indptr[tid + 1] - indptr[tid])
            self._idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return self._idf[term]

    def terms(self) -> list[str]:
        """Every analysed term (stem) of the index."""
        return list(self.retriever.vocab_dict) if self.retriever is not None else []

    @staticmethod
    def stem(word: str) -> str:
        """The term a single word becomes in the index ("" for a stop word)."""
        terms = analyze(word)
        return terms[0] if terms else ""

    def knows(self, word: str) -> bool:
        """Whether the word (its stem) occurs anywhere in the indexed passages."""
        vocab = self.retriever.vocab_dict if self.retriever is not None else {}
        parts = [p for p in word.replace("’", "'").split("-") if p] if "-" in word else [word]
        for part in parts:
            terms = analyze(part)
            if not terms or terms[0] not in vocab:
                return False
        return True
