"""BM25 over the indexed chunks (bm25s), with Dutch stemming and compound parts.

The lexical index is derived data: it is rebuilt from the Chroma collection after every
ingest that changed something, and stamped with the collection's chunk ids so that
search can tell when it is out of step.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import bm25s
import numpy as np

from kb.text import ANALYZER_VERSION, analyze

_IDS_FILE = "chunk_ids.json"


def fingerprint(ids: list[str]) -> str:
    """Identifies the chunk set and the text analysis the index was built with."""
    data = f"v{ANALYZER_VERSION}\n" + "\n".join(sorted(ids))
    return hashlib.sha256(data.encode()).hexdigest()[:16]


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25 | None, ids: list[str], stamp: str):
        self.retriever = retriever
        self.ids = ids
        self.stamp = stamp
        self._idf: dict[str, float] = {}

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> LexicalIndex:
        if not ids:
            return cls(None, [], fingerprint([]))
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        # every document gets at least one token, so bm25s keeps the id alignment
        retriever.index([analyze(t) or ["_"] for t in texts], show_progress=False)
        return cls(retriever, list(ids), fingerprint(ids))

    def save(self, directory: Path) -> None:
        """Write to a temporary folder, then swap it in, so a crash never leaves half an index."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=directory.parent))
        if self.retriever is not None:
            self.retriever.save(str(tmp), show_progress=False)
        (tmp / _IDS_FILE).write_text(json.dumps({"stamp": self.stamp, "ids": self.ids}))
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def read_stamp(directory: Path) -> str | None:
        """The stamp of a saved index, without loading the index itself."""
        meta_file = directory / _IDS_FILE
        return json.loads(meta_file.read_text())["stamp"] if meta_file.exists() else None

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        meta_file = directory / _IDS_FILE
        if not meta_file.exists():
            return None
        meta = json.loads(meta_file.read_text())
        retriever = bm25s.BM25.load(str(directory)) if meta["ids"] else None
        return cls(retriever, meta["ids"], meta["stamp"])

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk (in ``self.ids`` order) for the query."""
        terms = analyze(query)
        if self.retriever is None or not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        vocab = self.retriever.vocab_dict
        known = [t for t in terms if t in vocab]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        s = self.retriever.get_scores(known)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        return s

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term; unknown terms count as rare."""
        if term not in self._idf:
            n = max(len(self.ids), 1)
            df = 0
            if self.retriever is not None:
                tid = self.retriever.vocab_dict.get(term)
                if tid is not None:
                    indptr = self.retriever.scores["indptr"]
                    df = int(indptr[tid + 1] - indptr[tid])
            self._idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return self._idf[term]

    def knows(self, word: str) -> bool:
        """Whether the word (its stem) occurs anywhere in the indexed passages."""
        vocab = self.retriever.vocab_dict if self.retriever is not None else {}
        parts = [p for p in word.replace("’", "'").split("-") if p] if "-" in word else [word]
        for part in parts:
            terms = analyze(part)
            if not terms or terms[0] not in vocab:
                return False
        return True
