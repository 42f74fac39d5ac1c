"""The Dutch word list (wordfreq) that the word repairs consult, and the trace hook.

Not a pass: every repair that changes a word asks this module first. ``zipf(word)`` is a
word's frequency on the Zipf scale (0.0 when wordfreq does not know it), ``zipf_en`` the
same in English, and ``compound_known`` also accepts Dutch compounds of known parts
("samenwerkingsverband"). The lists load lazily, once.

``trace(rule, before, after)`` returns ``after``; when ``lexicon.TRACE`` is a list it
also records the repair there, so you can see what the word passes changed::

    from ingest.clean import clean_text, lexicon
    lexicon.TRACE = []
    clean_text("De wet is geévalueerd.")
    lexicon.TRACE  # [('ocr', 'geévalueerd', 'geëvalueerd')]
"""

from __future__ import annotations

import math
from functools import lru_cache

#: one word: letters, with one inner apostrophe ("zo’n", "baby's")
WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)?"

_FREQ: dict[str, float] | None = None
_TOP: frozenset[str] | None = None
_FREQ_EN: dict[str, float] | None = None

_LINKERS = ("s", "e", "en", "er")

#: set to a list to record every word repair as (rule, before, after)
TRACE: list[tuple[str, str, str]] | None = None


def trace(rule: str, before: str, after: str) -> str:
    """Return ``after``; record the repair in ``TRACE`` when that is a list."""
    if TRACE is not None and before != after:
        TRACE.append((rule, before, after))
    return after


def _freq() -> dict[str, float]:
    global _FREQ
    if _FREQ is None:
        try:
            import wordfreq

            _FREQ = wordfreq.get_frequency_dict("nl", wordlist="best")
        except Exception:  # pragma: no cover - wordfreq is a declared dependency
            _FREQ = {}
    return _FREQ


def top_words() -> frozenset[str]:
    """The most frequent Dutch words (function words and the like)."""
    global _TOP
    if _TOP is None:
        try:
            import wordfreq

            _TOP = frozenset(wordfreq.top_n_list("nl", 300))
        except Exception:  # pragma: no cover
            _TOP = frozenset()
    return _TOP


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """Zipf frequency of a single Dutch word (0.0 when unknown)."""
    w = word.lower().replace("’", "'")
    f = _freq().get(w)
    return math.log10(f) + 9.0 if f else 0.0


@lru_cache(maxsize=20_000)
def zipf_en(word: str) -> float:
    """Zipf frequency in English: Dutch documents quote English titles and text."""
    global _FREQ_EN
    if _FREQ_EN is None:
        try:
            import wordfreq

            _FREQ_EN = wordfreq.get_frequency_dict("en", wordlist="best")
        except Exception:  # pragma: no cover
            _FREQ_EN = {}
    f = _FREQ_EN.get(word.lower())
    return math.log10(f) + 9.0 if f else 0.0


@lru_cache(maxsize=100_000)
def compound_known(word: str, depth: int = 2) -> bool:
    """True if ``word`` is known, or a compound of known parts (with a linking s/e/en)."""
    w = word.lower()
    if zipf(w) > 0:
        return True
    if depth == 0 or len(w) < 7:
        return False
    for i in range(3, len(w) - 3):
        head, tail = w[:i], w[i:]
        if zipf(tail) < 2.5:
            continue
        if zipf(head) >= 2.5 or (depth > 1 and compound_known(head, depth - 1)):
            return True
        for link in _LINKERS:
            if head.endswith(link) and len(head) - len(link) >= 3:
                stem = head[: -len(link)]
                if zipf(stem) >= 2.5 or (depth > 1 and compound_known(stem, depth - 1)):
                    return True
    return False
