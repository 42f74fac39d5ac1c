"""Everyday and English words to the policy terms of the reports (``kb/retrieval/thesaurus.json``).

A parent types "mag de school mijn kind weigeren?"; the reports speak of the
*aanmelding*, the *zorgplicht* and *toelating*. :func:`expand` adds those terms, and
the other forms of glossary terms in the question ("opp" → "ontwikkelingsperspectief"),
to the lexical (BM25) query and says which words it added, so the app can show what
it also searched for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb.retrieval.glossary import find_terms
from kb.text import fold

THESAURUS_FILE = Path(__file__).with_name("thesaurus.json")


@dataclass(frozen=True)
class Entry:
    words: tuple[str, ...]  # what people type
    terms: tuple[str, ...]  # what the reports say
    pattern: re.Pattern
    quiet: bool = False  # widens the search without being shown (kind → leerling)


@dataclass(frozen=True)
class Expansion:
    query: str  # the text plus the added terms: the lexical query
    terms: tuple[str, ...]  # every added term, in order
    shown: tuple[str, ...]  # the added terms worth showing ("Ook gezocht op")


def _form(word: str) -> str:
    """A form as a pattern; "*" stands for up to three other words ("zit * thuis")."""
    return r"(?:\s+\S+){0,3}\s+".join(re.escape(fold(part.strip())) for part in word.split("*"))


def _whole(forms) -> re.Pattern:
    alt = "|".join(_form(w) for w in sorted(set(forms), key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alt})(?![\w])")


@lru_cache(maxsize=1)
def load_thesaurus() -> dict[str, tuple[Entry, ...]]:
    """{"everyday": entries, "english": entries} from the data file."""
    data = json.loads(THESAURUS_FILE.read_text(encoding="utf-8"))
    return {
        part: tuple(
            Entry(tuple(e["words"]), tuple(e["terms"]), _whole(e["words"]), bool(e.get("quiet"))) for e in data[part]
        )
        for part in ("everyday", "english")
    }


def related_terms(text: str, language: str = "nl", quiet: bool = True) -> list[str]:
    """Policy terms for the everyday (and, for English, the English) words in ``text``;
    without the quiet entries when ``quiet`` is False."""
    folded = fold(text)
    parts = ("everyday", "english") if language == "en" else ("everyday",)
    out: list[str] = []
    for part in parts:
        for entry in load_thesaurus()[part]:
            if (quiet or not entry.quiet) and entry.pattern.search(folded):
                out.extend(entry.terms)
    return out


def expand(text: str, language: str = "nl") -> Expansion:
    """``text`` with the glossary's other forms and the thesaurus terms of its words added."""
    folded = fold(text)
    glossary = [form for t in find_terms(text) for form in (t.full, t.term) if len(form) > 2]

    def new(terms: list[str]) -> list[str]:
        return [w for w in dict.fromkeys(terms) if not re.search(rf"(?<![\w]){re.escape(fold(w))}(?![\w])", folded)]

    every = new(glossary + related_terms(text, language))
    shown = set(new(glossary + related_terms(text, language, quiet=False)))
    return Expansion(
        f"{text} {' '.join(every)}" if every else text, tuple(every), tuple(w for w in every if w in shown)
    )
