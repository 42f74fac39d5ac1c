"""Candidate sentences of the retrieved passages, and the named features that score them.

Every candidate is an exact span of its passage (so a cited sentence is always
verbatim). Units that can never be an answer are left out here: questions,
headings, reference-list entries, captions and link lines. The features are plain
numbers with names (:data:`SENTENCE_FEATURES`), so a fitted model over them can be
read and checked; the weights live in ``kb/models/`` (see :mod:`kb.models`).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from ingest.sentences import split_sentences
from kb.answer.question import Question
from kb.retrieval.retrieve import Hit
from kb.text import analyze, fold, is_instruction, words

MIN_CHARS = 25

# --- what a sentence must not be ------------------------------------------------------------

_REFERENCE = re.compile(
    r"^(?:- )?(?:\d+\.\s*)?[A-Z][^\s,]+(?: [a-z]+)?,\s(?:[A-Z]\.\s?)+.*\(\d{4}[a-z]?\)"  # "Ledoux, G. ... (2020)"
    r"|\(\d{4}[a-z]?\)\.\s.*(?:Amsterdam|Utrecht|Nijmegen|Den Haag|Rotterdam|Zwolle|Groningen|Tilburg|Leiden)\b"
    r"|^(?:- )?(?:\d+\.\s*)?(?:[A-Z][\w'-]+,\s(?:[A-Z]\.\s?)+(?:,|&|en)?\s?)+"
    # "Mol Lous, A. (2015). … Tijdschrift voor Orthopedagogiek, 54, 39-44."
    r"|^(?:- )?(?:\d+\.\s*)?(?:[A-Z][\w'’-]+\s){0,3}[A-Z][\w'’-]+,\s(?:[A-Z]\.\s?){1,3}"
    r"|\(\d{4}[a-z]?\)\.\s"
    r"|,\s\d+(?:\(\d+\))?,\s\d+\s?[-–]\s?\d+\.?$"
)
_CAPTION = re.compile(
    r"^(?:- )?(?:foto|beeld|fotografie|illustratie|figuur|tabel|grafiek|bron|v\.?l\.?n\.?r\.?)\b[\s\d:.]", re.I
)
_LINK = re.compile(r"https?://|www\.|\.nl\b|\.com\b|\.org\b|@", re.I)
# a footnote: its number, then the note ("2 Dit aantal betreft …", "1 Cluster 1: …")
_FOOTNOTE = re.compile(r"^(?:- )?\d{1,2}\s+[A-Z]")
# a byline: a name, a comma and a role ("Jan de Vos, adviseur VOO …")
_BYLINE = re.compile(
    r"^(?:- )?(?:[A-Z][\w'’-]+\s(?:(?:van|de|der|den|ten|ter|het)\s){0,2}){1,3}[A-Z][\w'’-]+,\s(?:\w+\s)?"
    r"(?:adviseur|directeur|voorzitter|bestuurder|beleidsmedewerker|leraar|leerkracht|docent|intern begeleider"
    r"|coördinator|coordinator|moeder|vader|ouder|lid|lector|hoogleraar|onderzoeker|programmaleider|schoolleider"
    r"|projectleider|manager|consulent|orthopedagoog|wethouder|minister|staatssecretaris|namens)\b"
)
# a line of a table of contents ("Inleiding ........ 3")
_TOC = re.compile(r"(?:\.\s?){4,}\s*\d+\s*$|^[^.!?]{3,60}\s\d{1,3}\s*$")
_FINITE = re.compile(
    r"\b(?:zegt|zei|vertelt|vertelde|vindt|vond|is|was|zijn|waren|heeft|had|hebben|wordt|werd|gaat|ging|kan|kon"
    r"|moet|moest|wil|wilde|komt|kwam|krijgt|kreeg)\b"
)
# two short title-like fragments ("Medezeggenschap versterken. Niet apart maar samen!")
_TITLE_PAIR = re.compile(r"^[A-Z][^.!?]{3,40}[.!?]\s+[A-Z][^.!?]{3,40}[.!?]$")
_TERMINAL = re.compile(r"[.!:;)”\"'’]$")


def _plain(text: str) -> str:
    return text.strip().lstrip("-•* ").strip().strip("“”\"'‘’()")


def unusable(text: str, section: str = "") -> str | None:
    """Why a unit can never be (part of) an answer, or None when it can."""
    t = _plain(text)
    if len(t) < MIN_CHARS and not text.lstrip().startswith("- "):
        return "te kort"
    if t.endswith("?"):
        return "vraag"
    if _REFERENCE.search(text.strip()):
        return "literatuurverwijzing"
    if _FOOTNOTE.match(text.strip()):
        return "voetnoot"
    if _BYLINE.match(t) and not _FINITE.search(t):
        return "naamregel"
    if _TOC.search(t) and len(words(t)) <= 10:
        return "inhoudsopgave"
    if _TITLE_PAIR.match(t) and len(words(t)) <= 8:
        return "kop"
    if _CAPTION.match(text.strip()):
        return "bijschrift"
    if is_instruction(t):
        return "instructie aan een taalmodel"
    if _LINK.search(t) and len(words(t)) < 25:
        return "link"
    if not _TERMINAL.search(t) and len(t) < 90 and not text.lstrip().startswith("- "):
        return "kop"
    if section and fold(t) in {fold(s) for s in section.split(" > ")}:
        return "kop"
    return None


# --- answer types -----------------------------------------------------------------------------

_NUMBER_WORDS = (
    r"een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|dertig|veertig|vijftig"
    r"|honderd|duizend|miljoen|miljard|helft|kwart|derde|tweederde|procent|meeste|minderheid|meerderheid"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b|%")
_FREQUENCY = re.compile(
    r"\b(?:jaarlijks|halfjaarlijks|maandelijks|wekelijks|dagelijks|eenmaal|tweemaal|driemaal|periodiek"
    r"|(?:elk|ieder|per|elke|iedere) (?:jaar|half jaar|schooljaar|week|maand|dag|dagdeel|periode|kwartaal)"
    r"|(?:een|één|twee|drie|vier|vijf|\d+|paar|aantal) (?:keer|maal)|keer per|maal per)\b"
)
_UNIT = re.compile(
    r"\b(?:dag|dagen|week|weken|maand|maanden|jaar|jaren|uur|uren|schooljaar|schooljaren|termijn|periode)\b"
)
_TIME = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober"
    r"|november|december|zomervakantie|voorjaar|najaar)\b|\b(?:sinds|vanaf|sindsdien|voordat|nadat|zodra"
    r"|wanneer|tijdens|bij de start|bij aanvang|aan het begin|aan het eind)\b"
)
_REASON = re.compile(
    r"\b(?:omdat|doordat|daardoor|daarom|want|reden|redenen|oorzaak|oorzaken|komt door|dat komt"
    r"|dit komt|vanwege|dankzij|als gevolg|gevolg van|zodat|om te)\b"
)
_ACTOR = re.compile(
    r"\b(?:school|scholen|schoolbestuur|schoolbesturen|bestuur|samenwerkingsverband|samenwerkingsverbanden"
    r"|ouders?|leraren|leraar|leerkrachten?|intern begeleiders?|ib'?ers?|mentor|mentoren|ondersteuningscoordinatoren?"
    r"|zorgcoordinatoren?|gemeenten?|jeugdhulp|inspectie|minister|staatssecretaris|rijk|overheid"
    r"|directeur|schoolleiders?|team|commissie|consulenten?|orthopedagoog|begeleiders?|specialisten?"
    r"|professionals?|hulpverleners?|docenten|vakdocenten|coordinatoren|ministerie|onderzoekers?)\b"
)
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")  # NRO, OCW, VOO: a body named by its initials
_PLACE = re.compile(r"\b(?:in|op|bij|naar)\s+(?:de |het )?[A-Z]|\b(?:regio|stad|gemeente|provincie|school|website)\b")
_DEFINITION = re.compile(
    r"\b(?:is een|is de|is het|zijn de|betekent|betekenen|houdt in|houden in|wil zeggen|verstaan"
    r"|wordt bedoeld|noemen we|heet|heten|gaat om|gaat over|omvat|bestaat uit|is bedoeld|is dat)\b|:"
)
_PROCEDURE = re.compile(
    r"\b(?:werkwijze|aanpak|stappen|eerst|vervolgens|daarna|door te|door middel van|procedure"
    r"|gesprek|overleg|zo|manier|samen)\b"
)
_FRAGMENT = re.compile(
    r"^(?:- )?[“\"‘']?(?:terwijl|want|of|en|maar|dus|omdat|doordat|zodat|waardoor|waarbij|hoewel|al)\b", re.I
)
_POLARITY = re.compile(r"\b(?:niet|geen|wel|nooit|nauwelijks|ja|nee|juist|inderdaad)\b")
_QUOTE = re.compile(r"[“”„\"]")
_FIRST_PERSON = re.compile(r"\b(?:ik|we|wij|ons|onze|mijn|me|mij)\b")

STRICT_KINDS = ("frequency", "duration", "quantity", "time")  # a number or date in the sentence is telling
KINDS = (
    "definition",
    "frequency",
    "duration",
    "quantity",
    "time",
    "reason",
    "person",
    "place",
    "list",
    "how",
    "yesno",
    "other",
)

SENTENCE_FEATURES = (  # noqa: RUF005 (one commented name per line)
    "cov_asked",  # idf-weighted share of the user's own words (and their expansions) in the sentence
    "cov_query",  # the same for the whole query (with a follow-up's context)
    "cov_context",  # share of the context question's words (follow-ups; 0 otherwise)
    "cov_asked_rel",  # cov_asked minus the best cov_asked among the candidates
    "cov_focus",  # share of the question sentence's words (a long story ends in the actual question)
    "section_cov",  # share of the asked words in the passage's title and section headings
    "bigrams",  # share of the question's pairs of adjacent content words that the sentence has too
    "doc_named",  # the question names the document's author, title or a name in its header
    "cov_neighbours",  # best cov_query of the sentence before or after it
    "cov_passage",  # cov_query of the whole passage
    "dense_sentence",  # cosine of the question with the sentence (late-chunked from the passage)
    "dense_sentence_rel",  # that minus the best among the candidates
    "dense_passage",  # cosine of the question with the passage
    "dense_passage_best_sentence",  # the best sentence cosine within the same passage
    "fused_rel",  # the passage's fused score relative to the best passage
    "lexical_rel",  # the passage's BM25 score relative to the best
    "rank_prior",  # 1 / (1 + passage rank)
    "first_in_passage",
    "position",  # relative position in the passage (0 first, 1 last)
    "log_chars",
    "long",  # over 400 characters
    "list_item",
    "lead_in",  # ends with ':' (introduces a list)
    "direct_speech",  # quotation marks: an anecdote or a quoted person
    "first_person",
    "subject_in_sentence",  # "wat is X": X occurs in the sentence
    "definition_cue",  # "wat is X": X with "is een", "betekent", ":" …
    "definition_opening",  # "wat is X": the sentence opens by defining X ("De zorgplicht: …", "X is een …")
    "fragment_start",  # opens with "Terwijl", "Want", "Of" …: half of a thought that starts earlier
    "type_match",  # the sentence holds the kind of answer asked for: a frequency, duration, number or date
    "type_match_loose",  # … or a looser kind: a reason, an actor, a place, a procedure, a list, a definition
    "polarity",  # yes/no questions: the sentence says niet/geen/wel
    "in_previous_answer",  # follow-ups: the sentence was already said
    "passage_of_previous_answer",  # follow-ups: the previous answer quoted this passage
) + tuple(f"kind_{k}" for k in KINDS)


@dataclass
class Candidate:
    """One sentence (or list item) of one retrieved passage."""

    hit_index: int
    start: int
    end: int
    text: str
    terms: frozenset
    features: dict = field(default_factory=dict)
    score: float = 0.0  # set by the ranker: probability that this sentence answers

    def vector(self) -> np.ndarray:
        return np.array([self.features[f] for f in SENTENCE_FEATURES], dtype=np.float64)


class Coverage:
    """idf-weighted share of a question's terms in a text."""

    def __init__(self, text: str, idf):
        self.idf = idf
        self.terms = {t for t in analyze(text) if len(t) > 1}
        self.total = sum(idf(t) for t in self.terms) or 1.0

    def __call__(self, terms) -> float:
        if not self.terms:
            return 0.0
        return sum(self.idf(t) for t in self.terms & set(terms)) / self.total


def _said(text: str, previous: str) -> bool:
    """Whether ``text`` (a sentence or list item) stands in the previous answer's text."""
    flat = " ".join(text.split())
    return flat in previous or re.sub(r"^[-•*]\s*(?:\d+[.)]\s*)?", "", flat) in previous


def spans_of(hit: Hit) -> list[tuple[int, int]]:
    """The sentence spans stored with the passage, or computed (an index without them)."""
    stored = hit.record.sentence_spans
    return list(stored) if stored else split_sentences(hit.text)


def sentence_vectors(hit: Hit, n: int) -> np.ndarray | None:
    vecs = hit.record.sentence_vectors()
    return vecs if vecs is not None and len(vecs) == n else None


def _defines(subject: str, folded: str) -> bool:
    """Whether a (folded) sentence opens by defining ``subject``, or says what it means."""
    subj = re.escape(subject.strip())
    head = rf"^(?:- )?(?:\d+\.\s*)?(?:de |het |een |onder )?{subj}\b"
    return bool(
        re.search(
            head + r"[^.]{0,30}?(?::|\bis\b|\bzijn\b|\bbetekent\b|\bhoudt\b|\bwil zeggen\b|\bwordt\b|\bgaat\b)", folded
        )
        or re.search(rf"\b(?:met|onder) (?:de |het |een )?{subj}\b[^.]{{0,30}}\b(?:bedoeld|verstaan)\b", folded)
        or re.search(rf"\bgeldt\b[^.]{{0,60}}\b{subj}\b", folded)
        or re.search(rf"\b{subj}\b \([^)]{{3,80}}\)", folded)
    )


def _bigrams(text: str) -> set[tuple[str, str]]:
    """Pairs of adjacent content-word stems."""
    terms = [analyze(w)[0] for w in words(text) if analyze(w)]
    return set(itertools.pairwise(terms))


def _names(text: str) -> list[str]:
    """Capitalised words and acronyms after the first word (names of people, bodies, places), folded."""
    toks = re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", text)
    return [fold(t) for i, t in enumerate(toks) if i > 0 and t[:1].isupper() and len(t) > 2]


def type_match(kind: str, text: str) -> float:
    """Whether ``text`` holds the kind of answer a question of ``kind`` asks for."""
    f = fold(text)
    if kind == "frequency":
        return float(bool(_FREQUENCY.search(f)))
    if kind == "quantity":
        return float(bool(_NUMBER.search(f)))
    if kind == "duration":
        return float(bool(_NUMBER.search(f) and _UNIT.search(f)) or "termijn" in f)
    if kind == "time":
        return float(bool(_TIME.search(f)))
    if kind == "reason":
        return float(bool(_REASON.search(f)))
    if kind == "person":
        return float(bool(_ACTOR.search(f) or _ACRONYM.search(text)))
    if kind == "place":
        return float(bool(_PLACE.search(text)))
    if kind == "list":
        return float(text.lstrip().startswith("- ") or text.count(",") >= 2 or text.rstrip().endswith(":"))
    if kind == "how":
        return float(bool(_PROCEDURE.search(f)))
    if kind == "definition":
        return float(bool(_DEFINITION.search(f)))
    return 0.0


def candidates(
    question: Question,
    hits: list[Hit],
    idf,
    lexical_query: str,
    asked_query: str,
    qvec: np.ndarray | None,
    n_passages: int,
) -> list[Candidate]:
    """The usable sentences of the first ``n_passages`` hits, with their features."""
    cov_query = Coverage(lexical_query, idf)
    cov_asked = Coverage(asked_query, idf)
    cov_focus = Coverage(question.focus, idf) if question.focus != question.asked else cov_asked
    q_bigrams = _bigrams(asked_query)
    q_names = _names(question.asked)
    context = question.query[: max(0, len(question.query) - len(question.asked))] if question.followup else ""
    cov_context = Coverage(context, idf) if context else None
    subject = question.subject
    subject_terms = set(analyze(subject)) if subject else set()
    previous = " ".join(question.previous_answer.split()) if question.previous_answer else ""
    out: list[Candidate] = []
    best_fused = max((h.score for h in hits), default=0.0) or 1.0
    best_lex = max((h.lexical for h in hits), default=0.0) or 1.0
    for i, hit in enumerate(hits[:n_passages]):
        spans = spans_of(hit)
        vecs = sentence_vectors(hit, len(spans)) if qvec is not None else None
        sims = vecs @ qvec if vecs is not None else None
        units = [(a, b, hit.text[a:b], frozenset(analyze(hit.text[a:b]))) for a, b in spans]
        # a list item is said without its bullet in running text ("- De zorgplicht: …" → "De zorgplicht: …")
        said = [bool(previous) and _said(t, previous) for _, _, t, _ in units]
        covs = [cov_query(t) for *_, t in units]
        passage_cov = cov_query(analyze(hit.text))
        section = hit.record.section
        section_cov = cov_asked(analyze(hit.record.header or section))
        best_sim = float(np.max(sims)) if sims is not None and len(sims) else hit.dense
        r = hit.record
        about = fold(" ".join((r.title, r.short_title, r.author, r.header)))
        doc_named = float(any(re.search(rf"\b{re.escape(n)}\b", about) for n in q_names))
        for k, (a, b, text, terms) in enumerate(units):
            if unusable(text, section):
                continue
            f = fold(text)
            subject_in = bool(subject_terms) and subject_terms <= set(terms)
            features = {
                "cov_asked": cov_asked(terms),
                "cov_query": covs[k],
                "cov_context": cov_context(terms) if cov_context else 0.0,
                "cov_focus": cov_focus(terms),
                "section_cov": section_cov,
                "bigrams": len(q_bigrams & _bigrams(text)) / len(q_bigrams) if q_bigrams else 0.0,
                "doc_named": doc_named,
                "cov_neighbours": max(covs[k - 1] if k > 0 else 0.0, covs[k + 1] if k + 1 < len(covs) else 0.0),
                "cov_passage": passage_cov,
                "dense_sentence": float(sims[k])
                if sims is not None and vecs is not None and np.any(vecs[k])
                else hit.dense,
                "dense_passage": hit.dense,
                "dense_passage_best_sentence": best_sim,
                "fused_rel": hit.score / best_fused,
                "lexical_rel": hit.lexical / best_lex,
                "rank_prior": 1.0 / (1 + i),
                "first_in_passage": float(k == 0),
                "position": k / max(1, len(units) - 1),
                "log_chars": math.log(len(text)),
                "long": float(len(text) > 400),
                "list_item": float(text.lstrip().startswith("- ")),
                "lead_in": float(text.rstrip().endswith(":")),
                "direct_speech": float(bool(_QUOTE.search(text))),
                "first_person": float(bool(_FIRST_PERSON.search(f))),
                "subject_in_sentence": float(subject_in),
                "definition_cue": float(subject_in and bool(_DEFINITION.search(f))),
                "definition_opening": float(bool(subject) and _defines(subject, f)),
                "fragment_start": float(bool(_FRAGMENT.match(text))),
                "type_match": type_match(question.kind, text) if question.kind in STRICT_KINDS else 0.0,
                "type_match_loose": type_match(question.kind, text) if question.kind not in STRICT_KINDS else 0.0,
                "polarity": float(question.kind == "yesno" and bool(_POLARITY.search(f))),
                "in_previous_answer": float(said[k]),
                "passage_of_previous_answer": float(any(said)),
            }
            for kind in KINDS:
                features[f"kind_{kind}"] = float(question.kind == kind)
            out.append(Candidate(i, a, b, text, terms, features))
    for rel, base in (("cov_asked_rel", "cov_asked"), ("dense_sentence_rel", "dense_sentence")):
        best = max((c.features[base] for c in out), default=0.0)
        for c in out:
            c.features[rel] = c.features[base] - best
    return out


# --- passages -----------------------------------------------------------------------------------

PASSAGE_FEATURES = (
    "fused",  # the hybrid (RRF) score, scaled to 0..1
    "fused_rank_prior",  # 1 / (1 + rank after fusion)
    "dense",  # cosine of the question with the passage (0 if not in the dense list)
    "lexical_rel",  # BM25 score relative to the best
    "sentence_best",  # the sentence ranker's best probability in the passage
    "sentence_second",  # its second best
    "cov_passage",  # idf-weighted share of the query's terms in the passage
    "cov_asked_best",  # the best share of the asked words in one of its sentences
    "sentence_dense_best",  # the best cosine of the question with one of its sentences
    "section_cov",  # share of the asked words in its title and section headings
)


def passage_features(hits: list[Hit], cands: list[Candidate], rrf_k: int) -> list[dict]:
    """Features per hit for re-ranking the passages by how well their sentences answer."""
    best_lex = max((h.lexical for h in hits), default=0.0) or 1.0
    per_hit: dict[int, list[float]] = {}
    first: dict[int, Candidate] = {}
    cov_best: dict[int, float] = {}
    for c in cands:
        per_hit.setdefault(c.hit_index, []).append(c.score)
        first.setdefault(c.hit_index, c)
        cov_best[c.hit_index] = max(cov_best.get(c.hit_index, 0.0), c.features["cov_asked"])
    out = []
    for i, h in enumerate(hits):
        probs = sorted(per_hit.get(i, []), reverse=True)
        out.append(
            {
                "fused": h.score * (rrf_k + 1) / 2,
                "fused_rank_prior": 1.0 / (1 + i),
                "dense": h.dense,
                "lexical_rel": h.lexical / best_lex,
                "sentence_best": probs[0] if probs else 0.0,
                "sentence_second": probs[1] if len(probs) > 1 else 0.0,
                "cov_passage": first[i].features["cov_passage"] if i in first else 0.0,
                "cov_asked_best": cov_best.get(i, 0.0),
                "sentence_dense_best": first[i].features["dense_passage_best_sentence"] if i in first else h.dense,
                "section_cov": first[i].features["section_cov"] if i in first else 0.0,
            }
        )
    return out
