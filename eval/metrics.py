"""Evaluation metrics: pure functions over lists of 0/1 relevance judgements.

A retrieved passage is *relevant* to a gold item when it contains one of the item's
quotes (``quotes`` plus every list in ``also_quotes``) after lower-casing and
collapsing whitespace. Rankings are lists of booleans, best first.

nDCG@k uses binary gains. The gold set names quotes, not passages, so only the
relevance of *retrieved* passages is known: the ideal DCG is that of the relevant
passages that were retrieved in the top ``k``, moved to the top. nDCG@k therefore
measures how well the relevant passages that were found are ordered; whether any
was found at all is what hit@k measures. Pass ``n_relevant`` to use the textbook
IDCG over ``min(n_relevant, k)`` relevant passages instead.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence


def normalise(text: str) -> str:
    """Lower-case and collapse all whitespace to single spaces."""
    return " ".join((text or "").split()).lower()


def gold_quotes(item: dict) -> list[str]:
    """All quotes that mark a passage as relevant: ``quotes`` plus ``also_quotes``."""
    quotes = list(item.get("quotes") or [])
    for more in (item.get("also_quotes") or {}).values():
        quotes.extend(more)
    return quotes


def is_relevant(passage_text: str, quotes: Iterable[str]) -> bool:
    """True when the passage contains one of the quotes (normalised)."""
    text = normalise(passage_text)
    return any(q and normalise(q) in text for q in quotes)


def answer_hit(sentences: Sequence[str], quotes: Iterable[str]) -> bool:
    """True when a cited sentence holds a gold quote (normalised).

    ``sentences`` are the sentences cited from one passage, in reading order; a quote
    that runs over two of them counts when they are cited together.
    """
    cited = [normalise(s) for s in sentences]
    joined = " ".join(cited)
    return any(q and (any(q in s for s in cited) or q in joined) for q in map(normalise, quotes))


def first_relevant_rank(relevance: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant passage, or None."""
    for i, rel in enumerate(relevance):
        if rel:
            return i + 1
    return None


def hit_at_k(relevance: Sequence[bool], k: int) -> float:
    """1.0 when a relevant passage is among the first ``k``, else 0.0."""
    return 1.0 if any(relevance[:k]) else 0.0


def mrr_at_k(relevance: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank of the first relevant passage within the first ``k`` (0 if none)."""
    rank = first_relevant_rank(relevance[:k])
    return 1.0 / rank if rank else 0.0


def _dcg(gains: Iterable[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(relevance: Sequence[bool], k: int = 10, n_relevant: int | None = None) -> float:
    """Binary nDCG@k; IDCG over the relevant retrieved passages unless ``n_relevant`` is given."""
    top = [1.0 if r else 0.0 for r in relevance[:k]]
    ideal_count = int(sum(top)) if n_relevant is None else min(n_relevant, k)
    if ideal_count == 0:
        return 0.0
    return _dcg(top) / _dcg([1.0] * ideal_count)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation, like numpy's default."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def mention_coverage(answer: str, terms: Sequence[str]) -> float | None:
    """Share of ``terms`` found in ``answer`` (case- and whitespace-insensitive)."""
    if not terms:
        return None
    text = normalise(answer)
    return sum(normalise(t) in text for t in terms) / len(terms)


def abstention_scores(rows: Iterable[dict]) -> dict:
    """Precision/recall of abstaining on unanswerable items, and wrong refusals.

    Each row needs ``abstained`` and ``answerable``. Precision is None when nothing
    was abstained on, recall None when there are no unanswerable rows.
    """
    rows = list(rows)
    abstained = [r for r in rows if r["abstained"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answerable = [r for r in rows if r["answerable"]]
    correct = sum(1 for r in abstained if not r["answerable"])
    return {
        "abstain_precision": correct / len(abstained) if abstained else None,
        "abstain_recall": correct / len(unanswerable) if unanswerable else None,
        "wrong_refusals": sum(r["abstained"] for r in answerable) / len(answerable) if answerable else None,
    }


def by_type(rows: Iterable[dict], keys: Sequence[str]) -> dict[str, dict]:
    """Mean of each key per ``type`` plus ``"all"``, with ``n`` (rows per group).

    A value of None in a row means "not applicable" and is left out of the mean.
    """
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["type"]].append(r)
        groups["all"].append(r)
    return {
        t: {"n": len(rs), **{k: mean(r.get(k) for r in rs) for k in keys}}
        for t, rs in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0]))
    }
