"""Misspelt query words corrected against the index's own words: "jeugdzrog" → "jeugdzorg", "werkdrk" → "werkdruk".

A query word is corrected only when the index does not know it (neither the word nor its
stem occurs in any passage: :meth:`kb.index.lexical.LexicalIndex.knows`) and it is no word
of its own: a Dutch word (wordfreq) or a common English one is never "corrected", nor is a
stop word, a number or a word of fewer than :data:`MIN_LENGTH` letters; a compound of
Dutch words is corrected by one edit at most ("samenwerkingsverbant" is a typo, a
"werkdrukverlaging" the passages do not mention stays what it is). Its correction is the word of the index (as written in the
passages, with how often it occurs there: :meth:`~kb.index.lexical.LexicalIndex.words`)
closest to it in optimal-string-alignment distance — a swap of two letters ("zrog" →
"zorg") counts as one edit — at most 1 for words up to :data:`SHORT` letters and 2 for
longer ones. Among equally close words a word the passages write beats a term of the BM25
index (a stem, put back as the passages' most frequent word for it), and the more
frequent wins. A distance-2 correction must keep the first letter, and is not made when
a Dutch word is closer to what was typed ("dochtr" is "dochter", even when the passages
never say "dochter": it is not "dicht"). The distances are computed by ``rapidfuzz``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from ingest.clean.lexicon import zipf, zipf_en
from kb.text import STOPWORDS, compound_parts, dutch_words, fold

MIN_LENGTH = 4  # shorter words are abbreviations or function words ("opp", "swv", "ib")
SHORT = 5  # words up to this length get at most one edit
CACHE_SIZE = 10_000  # words whose correction (or none) is remembered
ENGLISH_ZIPF = 3.0  # an English word this frequent is a word (English questions are answered)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass
class Correction:
    """A query with its misspelt words corrected (``query`` is the original when none was)."""

    original: str
    query: str
    changes: list[tuple[str, str]] = field(default_factory=list)  # (as typed, corrected)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def is_word(word: str) -> bool:
    """A word of its own, never to be corrected: Dutch (wordfreq) or common English."""
    w = word.lower()
    return zipf(w) > 0 or zipf_en(w) >= ENGLISH_ZIPF


def is_compound(word: str) -> bool:
    """Made of Dutch words ("werkdrukverlaging"; but also "samenwerkingsverbant")."""
    return bool(compound_parts(fold(word.lower())))


class Speller:
    """Corrects the query words an index does not know, against the words it does.

    ``words``: the index's words as written (lower-cased) with their frequencies;
    ``knows``: whether the index knows a word (its stem); ``terms`` and ``stem``: the BM25
    index's terms (stems) and the stemmer that made them, so that a word the passages write
    only in another form is found too ("onderwijsconsulnet" → the term "onderwijsconsulent"
    of "onderwijsconsulenten"): all from the BM25 index.
    """

    def __init__(
        self,
        words: dict[str, int],
        knows: Callable[[str], bool],
        terms: Iterable[str] = (),
        stem: Callable[[str], str] | None = None,
    ):
        self.words = words
        self.knows = knows
        self._stem = stem
        self._terms = [t for t in terms if t not in words and t.isalpha() and len(t) >= MIN_LENGTH - 1]
        self._choices = [w for w in words if len(w) >= MIN_LENGTH - 1] + self._terms
        self._forms: dict[str, list[str]] | None = None  # term → the words of the passages it stems from
        self._dutch: list[str] | None = None  # the Dutch word list, for the distance-2 check
        self._cache: dict[str, str | None] = {}

    def suggest(self, word: str) -> str | None:
        """The index's word that ``word`` is a misspelling of, or None."""
        low = word.lower()
        if low in self._cache:
            return self._cache[low]
        found = None
        if (
            len(low) >= MIN_LENGTH
            and fold(low) not in STOPWORDS
            and not ({low, low.replace("'", "’"), low.replace("’", "'")} & self.words.keys())
            and not self.knows(low)
            and not is_word(low)
        ):
            found = self._nearest(low, 1 if is_compound(low) else 2)
        if len(self._cache) >= CACHE_SIZE:  # a long-running app sees many words: start afresh
            self._cache.clear()
        self._cache[low] = found
        return found

    def _form(self, choice: str, typed: str) -> tuple[bool, int, str]:
        """Whether ``choice`` is a term rather than a word of the passages, how often the
        passages write it (a term: the words it stems from), and the word to put in the query
        (for a term: of the words it stems from, the one closest to what was ``typed``)."""
        if choice in self.words:
            return False, self.words[choice], choice
        if self._forms is None:
            self._forms = {}
            if self._stem is not None:
                for w in self.words:
                    self._forms.setdefault(self._stem(w), []).append(w)
        forms = self._forms.get(choice, [])
        if not forms:
            return True, 0, choice
        best = min(forms, key=lambda w: (OSA.distance(typed, w), -self.words[w], w))
        return True, sum(self.words[w] for w in forms), best

    def _nearest(self, low: str, most: int = 2) -> str | None:
        limit = min(most, 1 if len(low) <= SHORT else 2)
        hits = process.extract(low, self._choices, scorer=OSA.distance, score_cutoff=limit, limit=None)
        best: tuple[float, bool, int, str] | None = None
        for candidate, distance, _ in hits:
            if distance == 0 or (distance == 2 and candidate[:1] != low[:1]):
                continue
            term, count, form = self._form(candidate, low)
            if count <= 0:
                continue
            key = (distance, term, -count, form)
            if best is None or key < best:
                best = key
        if best is None:
            return None
        if best[0] > 1 and self._closer_dutch_word(low, int(best[0])):
            return None  # "dochtr" is "dochter" (not in the passages), not "dicht"
        return best[3]

    def _closer_dutch_word(self, low: str, distance: int) -> bool:
        if self._dutch is None:
            self._dutch = sorted(dutch_words())
        return process.extractOne(fold(low), self._dutch, scorer=OSA.distance, score_cutoff=distance - 1) is not None

    def correct(self, query: str) -> Correction:
        """The query with every misspelt word replaced by its correction (its case kept)."""
        changes: list[tuple[str, str]] = []

        def fix(m: re.Match[str]) -> str:
            typed = m.group(0)
            better = self.suggest(typed)
            if better is None:
                return typed
            if typed[:1].isupper():
                better = better[:1].upper() + better[1:]
            changes.append((typed, better))
            return better

        corrected = _WORD.sub(fix, query or "")
        return Correction(query or "", corrected if changes else query or "", changes)
