"""The Dutch domain glossary: abbreviations and terms of passend onderwijs.

Used for query expansion (a parent types "opp", the reports say
"ontwikkelingsperspectief"; see :mod:`kb.retrieval.thesaurus`) and shown to users as the
"Begrippenlijst".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb.text import fold

GLOSSARY_FILE = Path(__file__).with_name("glossary.json")


@dataclass(frozen=True)
class Term:
    term: str  # the short form users type: "opp"
    full: str  # the full form the documents use: "ontwikkelingsperspectief"
    variants: tuple[str, ...]
    uitleg: str  # short Dutch explanation

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.term, self.full, *self.variants)))


@lru_cache(maxsize=1)
def load_glossary() -> tuple[Term, ...]:
    data = json.loads(GLOSSARY_FILE.read_text(encoding="utf-8"))
    return tuple(Term(d["term"], d["full"], tuple(d.get("variants", ())), d["uitleg"]) for d in data)


def _any_of(words) -> re.Pattern:
    """A pattern for any of the words as whole words, in folded text (longest first)."""
    alt = "|".join(re.escape(fold(w)) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alt})(?![\w])")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern, Term], ...]:
    return tuple((_any_of(t.forms), t) for t in load_glossary())


def mentions(text: str, *forms: str) -> bool:
    """Whether any of the forms occurs in ``text`` as a whole word (accents and case ignored)."""
    return bool(_any_of(forms).search(fold(text)))


def find_terms(text: str) -> list[Term]:
    """Glossary terms that occur in ``text`` (by any of their forms)."""
    folded = fold(text)
    return [t for pat, t in _patterns() if pat.search(folded)]
