"""Whether the sources answer the question: evidence features and a calibrated decision.

The features (:data:`EVIDENCE_FEATURES`) describe how well the best sentences and
passages cover what was asked: the sentence ranker's best probability, the question
words the passages never use, names and numbers the corpus does not know, and
whether a sentence holds the kind of answer asked for (a number for "hoeveel", a
frequency for "hoe vaak"). A logistic regression over them, fitted on the tuning
split (``python -m eval.fit``), gives the probability that the question is *not*
answered; above its threshold the answer abstains.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from kb.answer.features import Candidate, type_match
from kb.answer.question import Question
from kb.retrieval.glossary import find_terms
from kb.retrieval.retrieve import Hit
from kb.retrieval.thesaurus import expand
from kb.text import STOPWORDS, analyze, common_words, fold

FACT_KINDS = ("frequency", "duration", "quantity", "time", "person", "place")

EVIDENCE_FEATURES = (
    "p_best",  # the sentence ranker's best probability
    "p_best_top3",  # its best probability within the first three passages
    "p_second",  # the second best
    "dense_top",  # best cosine of the question with a passage
    "cov_best",  # best idf-weighted share of the asked words in one sentence
    "cov_passage_best",  # … in one passage
    "missing_share",  # idf-weighted share of the asked words that the first passages never use
    "missing_max",  # the rarest asked word that they never use (idf / log N)
    "unknown_share",  # share of the asked words the whole corpus never uses
    "unknown_names",  # names and acronyms in the question the corpus never uses
    "missing_numbers",  # numbers (years, amounts) in the question the corpus never uses
    "fact_kind",  # the question asks for a number, a date, a duration, a frequency, a person or a place
    "type_unmet",  # … and no good sentence holds one
    "type_support",  # the best coverage of the asked words by a sentence that holds such an answer
    "english",
    "followup",
)


@dataclass
class Evidence:
    features: dict
    probability: float = 0.0  # that the sources do not answer the question
    reasons: list[str] = field(default_factory=list)  # in Dutch, for the user

    def vector(self) -> np.ndarray:
        return np.array([self.features[f] for f in EVIDENCE_FEATURES], dtype=np.float64)

    def to_dict(self) -> dict:
        return {
            "probability_unanswered": round(self.probability, 4),
            "reasons": self.reasons,
            "features": {k: round(float(v), 4) for k, v in self.features.items()},
        }


def asked_terms(question: Question, dutch_terms: list[str]) -> set[str]:
    """The analysed content terms of the question itself (the last question of a longer text;
    for English: their Dutch translations)."""
    text = " ".join(dutch_terms) if question.language == "en" else question.focus
    # a hyphenated word also yields its parts; the whole form is often written apart ("VN Verdrag")
    return {t for t in analyze(text) if len(t) > 1 and "-" not in t}


def _present(term: str, vocabulary: set[str]) -> bool:
    """Whether a term, or a form of it (a participle "geratificeerd" for "ratificeerde"), occurs."""
    if term in vocabulary:
        return True
    if len(term) < 5:
        return False
    core = term[2:] if term.startswith("ge") and len(term) > 6 else term
    stem = core[: max(5, len(core) - 2)]
    return any(v.startswith(stem) or (len(v) >= 5 and core.startswith(v)) for v in vocabulary)


def unknown_names(text: str, known) -> list[str]:
    """Names and acronyms in ``text`` that never occur in the corpus ("België", "Onderwijsraad", "pgb").

    ``known(word)`` says whether the index knows a word. A word is never called unknown when
    a form of it, its thesaurus equivalent ("tos" → "taalontwikkelingsstoornis"), or the full
    form written beside it in the question ("taalontwikkelingsstoornis (TOS)") occurs; nor a
    common word at the start ("Klopt het …").
    """
    glossary_forms = {fold(f) for t in find_terms(text) for f in t.forms}
    out = []
    tokens = re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", text)
    for i, tok in enumerate(tokens):
        word = fold(tok)
        is_acronym = tok.isupper() and len(tok) >= 2
        is_name = tok[:1].isupper() and i > 0 and not is_acronym and word not in common_words()
        is_short_code = tok.islower() and 2 <= len(tok) <= 4 and word not in common_words()
        if (
            not (is_acronym or is_name or is_short_code)
            or word in glossary_forms
            or word.isdigit()
            or word in STOPWORDS
        ):
            continue
        equivalents = [w for term in expand(word).terms for w in fold(term).split()]
        if known(word) or _form_known(word, known) or any(known(w) for w in equivalents):
            continue
        if is_acronym and _spelled_out(tok, tokens, known):
            continue
        out.append(tok)
    return out


def occurs(word: str, known) -> bool:
    """Whether the corpus uses ``word`` (folded) in some form: itself, another inflection, a
    thesaurus equivalent, or as the last part of a compound ("onderwijsinspectie": "inspectie")."""
    if known(word) or _form_known(word, known):
        return True
    if any(known(w) for term in expand(word).terms for w in fold(term).split()):
        return True
    return any(known(word[i:]) for i in range(2, len(word) - 5))


def _form_known(word: str, known) -> bool:
    """Whether another form of ``word`` occurs ("Inspecties" for "inspectie", "Ingrado's")."""
    for suffix in ("'s", "’s", "s", "en", "e", "n"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and known(word[: -len(suffix)]):
            return True
    return False


def _spelled_out(acronym: str, tokens: list[str], known) -> bool:
    """Whether the question writes the acronym out and the corpus knows that: "taalontwikkelingsstoornis
    (TOS)" — a known long word beginning with the acronym's first letter, right before or after it."""
    k = tokens.index(acronym)
    near = tokens[max(0, k - 3) : k] + tokens[k + 1 : k + 4]
    return any(
        len(w) >= 8 and fold(w)[:1] == fold(acronym)[:1] and (known(fold(w)) or _form_known(fold(w), known))
        for w in near
    )


def missing_numbers(text: str, known) -> list[str]:
    """Numbers of two or more digits (years, amounts) in ``text`` that the corpus never uses."""
    return [n for n in re.findall(r"\b\d{2,}(?:[.,]\d+)?\b", text) if not known(n)]


def gather_evidence(
    question: Question, hits: list[Hit], cands: list[Candidate], lexical, dutch_terms: list[str]
) -> Evidence:
    """The evidence features for ``question``, from its hits and scored candidates."""
    idf = lexical.idf
    n_docs = max(lexical.count, 2)
    terms = asked_terms(question, dutch_terms)
    total = sum(idf(t) for t in terms) or 1.0
    top_text = set(analyze(" ".join(h.text + " " + h.record.header for h in hits[:3])))
    missing = [t for t in terms if not _present(t, top_text)]
    vocab = lexical.retriever.vocab_dict if lexical.retriever is not None else {}
    unknown = [t for t in terms if t not in vocab]
    scores = sorted((c.score for c in cands), reverse=True)
    best = max(cands, key=lambda c: c.score, default=None)
    good = [c for c in cands if best is not None and c.score >= 0.5 * best.score][:8]
    own_words = question.asked if question.language == "nl" else ""
    names = unknown_names(own_words, lexical.knows) if own_words else []
    numbers = missing_numbers(question.asked, lexical.knows)
    fact_kind = question.kind in FACT_KINDS
    found = any(type_match(question.kind, c.text) for c in good)
    support = max((c.features["cov_asked"] for c in cands if type_match(question.kind, c.text)), default=0.0)
    features = {
        "p_best": scores[0] if scores else 0.0,
        "p_best_top3": max((c.score for c in cands if c.hit_index < 3), default=0.0),
        "p_second": scores[1] if len(scores) > 1 else 0.0,
        "dense_top": max((h.dense for h in hits[:5]), default=0.0),
        "cov_best": max((c.features["cov_asked"] for c in cands), default=0.0),
        "cov_passage_best": max(
            (sum(idf(t) for t in terms & set(analyze(h.text))) / total for h in hits[:5]), default=0.0
        ),
        "missing_share": sum(idf(t) for t in missing) / total if terms else 0.0,
        "missing_max": max((idf(t) for t in missing), default=0.0) / math.log(1 + n_docs),
        "unknown_share": sum(idf(t) for t in unknown) / total if terms else 0.0,
        "unknown_names": float(len(names)),
        "missing_numbers": float(len(numbers)),
        "fact_kind": float(fact_kind),
        "type_unmet": float(fact_kind and not found),
        "type_support": support if fact_kind else 1.0,
        "english": float(question.language == "en"),
        "followup": float(question.followup),
    }
    reasons = []
    if numbers:
        reasons.append("de bronnen noemen " + ", ".join(numbers) + " nergens")
    if names:
        reasons.append("de bronnen noemen " + ", ".join(f"'{n}'" for n in names) + " nergens")
    if fact_kind and not found:
        reasons.append(MISSING_KIND[question.kind])
    return Evidence(features, reasons=reasons)


MISSING_KIND = {
    "frequency": "de bronnen zeggen niet hoe vaak",
    "duration": "de bronnen noemen de gevraagde termijn of duur niet",
    "quantity": "de bronnen noemen het gevraagde aantal of bedrag niet",
    "time": "de bronnen noemen het gevraagde moment of jaar niet",
    "person": "de bronnen zeggen niet wie dat is of doet",
    "place": "de bronnen noemen de gevraagde plek of instantie niet",
}
