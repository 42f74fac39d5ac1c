"""Extractive answers: pick the sentences that answer the question and cite them.

Every cited sentence is an exact substring of its cited passage. When the evidence
is weak the answer abstains ("dat staat niet in de bronnen") and shows what was
found nearby instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.retrieve import Hit
from kb.sentences import split_sentences
from kb.text import STOPWORDS, analyze, fold, words

MAX_SENTENCES = 4
COVERAGE_WEIGHT = 1.0  # idf-weighted share of the question's terms in the sentence
PASSAGE_PRIOR = 0.2  # a preference for higher-ranked passages (tuned on the gold set)
MARGIN = 0.35  # sentences within this score of the best one may join the answer
MAX_CHARS = 900
PASSAGES_FOR_ANSWER = 5

LIST_CUES = re.compile(
    r"\b(welke|noem|opsomming|wat zijn de|lijst|uitgangspunten|punten|stappen|voorbeelden|taken|knelpunten|factoren)\b"
)

ABSTAIN_TEXT = "Dat staat niet in de bronnen van deze kennisbank."
ABSTAIN_PARENT = (
    "Voor vragen over de situatie van uw eigen kind kunt u terecht bij de school "
    "(bijvoorbeeld de intern begeleider of de mentor) en bij het samenwerkingsverband "
    "passend onderwijs in uw regio. Komen u en de school er samen niet uit, dan kunt u "
    "gratis advies vragen aan de onderwijsconsulenten."
)


@dataclass
class Evidence:
    """How well the retrieved passages cover the question; drives abstention."""

    dense_top: float
    coverage: float  # idf-weighted share of the question's terms found in one top sentence
    missing_numbers: list[str] = field(default_factory=list)  # numbers asked about, absent
    unknown_names: list[str] = field(default_factory=list)  # names/acronyms the corpus never uses
    quantity_unmet: bool = False  # "hoeveel/hoe lang" but no sentence gives such a number

    @property
    def score(self) -> float:
        return self.dense_top + 0.25 * self.coverage

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.missing_numbers:
            out.append("de bronnen noemen " + ", ".join(self.missing_numbers) + " niet")
        if self.unknown_names:
            out.append("de bronnen noemen " + ", ".join(f"'{n}'" for n in self.unknown_names) + " niet")
        if self.quantity_unmet:
            out.append("de bronnen geven het gevraagde aantal of de gevraagde termijn niet")
        return out


@dataclass
class Sentence:
    hit_index: int
    start: int
    end: int
    text: str
    score: float
    terms: frozenset


class Scorer:
    """Scores sentences against the question with idf-weighted term overlap."""

    def __init__(self, question: str, idf):
        self.idf = idf
        self.q_terms = {t for t in analyze(question) if len(t) > 1}
        self.total = sum(idf(t) for t in self.q_terms) or 1.0

    def coverage(self, terms: set[str]) -> float:
        return sum(self.idf(t) for t in self.q_terms & terms) / self.total


_QUANTITY = re.compile(r"\b(hoeveel|hoe lang|hoe vaak|hoe groot|wat kost|kosten|wat verdient|welk percentage|welk bedrag|binnen hoeveel)\b")
_UNITS = {
    "dag": "dag", "dagen": "dag", "week": "week", "weken": "week", "maand": "maand", "maanden": "maand",
    "jaar": "jaar", "jaren": "jaar", "uur": "uur", "uren": "uur", "euro": "euro", "procent": "procent",
}
_COUNT = re.compile(
    r"\b(\d+|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|dertig|veertig|vijftig|"
    r"honderd|duizend|miljoen|miljard|helft|kwart|derde|procent|meeste|minderheid|meerderheid)\b"
)
_FREQUENCY = re.compile(r"\b(jaarlijks|maandelijks|wekelijks|dagelijks|eenmaal|tweemaal|keer|regelmatig|vaak|zelden)\b")
_DURATION = re.compile(r"\b(dag|dagen|week|weken|maand|maanden|jaar|jaren|uur|uren|termijn)\b")


def numbers_in(text: str) -> list[str]:
    return re.findall(r"\b\d{2,}(?:[.,]\d+)?\b", text)


def unknown_names(question: str, known) -> list[str]:
    """Names and acronyms in the question that never occur in the corpus.

    A question about "België", the "Onderwijsraad" or a "pgb" cannot be answered from
    sources that never mention them. ``known(word)`` says whether the index knows a word.
    """
    from kb.glossary import find_terms

    glossary_forms = {fold(f) for t in find_terms(question) for f in t.forms}
    out = []
    tokens = re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", question)
    for i, tok in enumerate(tokens):
        word = fold(tok)
        is_acronym = tok.isupper() and len(tok) >= 2
        is_name = tok[:1].isupper() and i > 0 and not is_acronym
        is_short_code = tok.islower() and 2 <= len(tok) <= 4 and _zipf(word) < 4.5
        if not (is_acronym or is_name or is_short_code) or word in glossary_forms or word.isdigit() or word in STOPWORDS:
            continue
        if not known(word):
            out.append(tok)
    return out


def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "nl")


def quantity_unmet(question: str, hits: list[Hit], scorer: "Scorer") -> bool:
    """A "hoeveel/hoe lang" question needs a sentence with a number (and the unit asked for)."""
    q = " ".join(words(question))
    if not _QUANTITY.search(q):
        return False
    units = {_UNITS[w] for w in words(question) if w in _UNITS}
    for h in hits[:PASSAGES_FOR_ANSWER]:
        previous_on_topic = False
        for a, b in split_sentences(h.text):
            sent = h.text[a:b]
            on_topic = scorer.coverage(set(analyze(sent))) >= 0.25
            folded = fold(sent)
            if "hoe vaak" in q:
                has_number = bool(_COUNT.search(folded) or _FREQUENCY.search(folded))
            elif "hoe lang" in q or "binnen hoeveel" in q:
                has_number = bool(_COUNT.search(folded) and _DURATION.search(folded))
            else:
                has_number = bool(re.search(r"\d", folded) or _COUNT.search(folded))
            has_units = all(re.search(rf"\b{u}", folded) for u in units)
            # the number may follow the sentence that names the topic ("… thuiszitters. Het gaat om 4000 …")
            if has_number and has_units and (on_topic or previous_on_topic):
                return False
            previous_on_topic = on_topic
    return True


def assess(question: str, hits: list[Hit], scorer: Scorer, known=None, asked: str | None = None) -> Evidence:
    """Evidence for ``question`` (resolved with history); names are checked in ``asked``,
    the user's own words."""
    top = hits[:PASSAGES_FOR_ANSWER]
    dense_top = max((h.dense for h in top), default=0.0)
    best_cov = 0.0
    for h in top[:3]:
        for a, b in split_sentences(h.text):
            best_cov = max(best_cov, scorer.coverage(set(analyze(h.text[a:b]))))
    text = " ".join(h.text for h in top)
    # a number (a year, an amount) that the question asks about and the corpus never uses
    missing = [n for n in numbers_in(question) if n not in text and not (known and known(n))]
    names = unknown_names(asked or question, known) if known else []
    own = Scorer(asked, scorer.idf) if asked else scorer
    return Evidence(dense_top, best_cov, missing, names, quantity_unmet(asked or question, hits, own))


def select_sentences(question: str, hits: list[Hit], scorer: Scorer) -> list[Sentence]:
    """The few sentences that answer the question, in reading order."""
    wants_list = bool(LIST_CUES.search(" ".join(words(question))))
    candidates: list[Sentence] = []
    for i, h in enumerate(hits[:PASSAGES_FOR_ANSWER]):
        prior = PASSAGE_PRIOR / (1 + i)
        for a, b in split_sentences(h.text):
            text = h.text[a:b]
            terms = frozenset(analyze(text))
            if len(text) < 25 or not terms:
                continue
            cov = scorer.coverage(terms)
            length_penalty = 0.1 if len(text) > 400 else 0.0
            score = COVERAGE_WEIGHT * cov + prior - length_penalty
            candidates.append(Sentence(i, a, b, text, score, terms))
    if not candidates:
        return []
    candidates.sort(key=lambda s: -s.score)
    best = candidates[0]
    chosen: list[Sentence] = []

    if wants_list:
        items = _list_items(hits[best.hit_index], best)
        if items:
            chosen = items
    if not chosen:
        chosen = [best]
        for s in candidates[1:]:
            if len(chosen) >= MAX_SENTENCES or sum(len(c.text) for c in chosen) + len(s.text) > MAX_CHARS:
                continue
            if s.score < best.score - MARGIN:
                break
            if any(_similar(s, c) for c in chosen):
                continue
            chosen.append(s)
    # reading order: by passage rank, then by position in the passage
    chosen.sort(key=lambda s: (s.hit_index, s.start))
    return chosen


def _list_items(hit: Hit, anchor: Sentence) -> list[Sentence]:
    """A whole list in the passage (with its lead-in), if the passage has one."""
    spans = split_sentences(hit.text)
    units = [(a, b, hit.text[a:b]) for a, b in spans]
    items = [(a, b, t) for a, b, t in units if re.match(r"(- |• |\* |\d+[.)] )", t)]
    if len(items) < 2:
        return []
    first = items[0][0]
    lead = [(a, b, t) for a, b, t in units if b <= first]
    picked = ([lead[-1]] if lead else []) + items
    return [Sentence(anchor.hit_index, a, b, t, anchor.score, frozenset(analyze(t))) for a, b, t in picked]


def _similar(a: Sentence, b: Sentence) -> bool:
    if not a.terms or not b.terms:
        return False
    return len(a.terms & b.terms) / len(a.terms | b.terms) > 0.6
