"""From a question to an answer whose every sentence is backed by a cited passage.

:func:`answer_question` is what :func:`kb.ask` runs:

1. analyse the question (language, kind, follow-up: :mod:`kb.answer.question`);
2. :func:`gather`: widen the words (:mod:`kb.retrieval.thesaurus`), retrieve a pool of passages
   (hybrid), score their sentences (:mod:`kb.answer.features` + the fitted sentence ranker),
   re-rank the passages by their sentences, and weigh the evidence (:mod:`kb.answer.abstain`);
3. decide: answer, or abstain — with a partial answer ("De bronnen zeggen niet …; wel:
   …") when a related fact is there;
4. compose the cited answer (:mod:`kb.answer.compose`), or let a configured language model
   write it (checked afterwards), and shape it for the persona (:mod:`kb.answer.present`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ingest.speakers import fold as fold_name
from kb.answer import compose
from kb.answer.abstain import Evidence, gather_evidence, occurs
from kb.answer.features import STRICT_KINDS, Candidate, candidates, passage_features
from kb.answer.present import PERSONAS, present
from kb.answer.question import Question, analyse
from kb.config import Settings
from kb.models import load_model
from kb.results import Answer, Term
from kb.retrieval.glossary import find_terms
from kb.retrieval.retrieve import RRF_K, Hit, Retriever
from kb.retrieval.speakers import asks_for_speaker, names_in
from kb.retrieval.thesaurus import Expansion, expand
from kb.text import STOPWORDS, common_words, fold

POOL = 20  # passages retrieved, scored and re-ranked
SHOWN = 10  # passages reported as retrieved
NEARBY = 3  # passages shown with an abstention


@dataclass
class Gathered:
    """Everything the decision and the composition use (and what ``eval.fit`` learns from)."""

    question: Question
    expansion: Expansion  # of the whole query (with a follow-up's context)
    asked: Expansion  # of the user's own words
    hits: list[Hit]
    candidates: list[Candidate]
    evidence: Evidence
    passage_features: list[dict] = field(default_factory=list)  # per hit, before re-ranking


def gather(
    retriever: Retriever,
    question: Question,
    filters=None,
    retrieval_mode: str = "hybrid",
    glossary: bool = True,
    models: bool = True,
) -> Gathered:
    """Retrieve, score and weigh; ``models=False`` leaves the fitted models out (for fitting)."""
    expansion = expand(question.query, question.language) if glossary else Expansion(question.query, (), ())
    asked = expand(question.asked, question.language) if glossary else Expansion(question.asked, (), ())
    vector = retriever.embed(question.query) if retrieval_mode != "bm25" else None
    near = retriever.near(question.previous_answer) if question.followup and question.previous_answer else None
    hits = retriever.search(
        question.query,
        k=POOL,
        filters=filters,
        mode=retrieval_mode,
        lexical_query=expansion.query,
        vector=vector,
        near=near,
    )
    # English words never occur in the Dutch passages: sentences are scored on their Dutch translations
    dutch = (lambda e: " ".join(e.terms)) if question.language == "en" else (lambda e: e.query)
    cands = candidates(question, hits, retriever.lexical.idf, dutch(expansion), dutch(asked), vector, POOL)
    pfeatures: list[dict] = []
    if models and cands:
        ranker = load_model("sentence_ranker")
        probs = ranker.probability(np.array([[c.features[f] for f in ranker.features] for c in cands]))
        for c, p in zip(cands, probs):
            c.score = float(p)
    if hits:
        pfeatures = passage_features(hits, cands, RRF_K)
        if models:
            hits, cands, pfeatures = _rerank(hits, cands, pfeatures)
    evidence = gather_evidence(question, hits, cands, retriever.lexical, list(asked.terms))
    if models:
        judge = load_model("abstention")
        evidence.probability = float(judge.probability(evidence.vector())[0])
    return Gathered(question, expansion, asked, hits, cands, evidence, pfeatures)


def _rerank(hits: list[Hit], cands: list[Candidate], pfeatures: list[dict]):
    """Order the passages by the passage model (fused rank and how well their sentences answer)."""
    model = load_model("passage_ranker")
    scores = model.logit(np.array([[f[name] for name in model.features] for f in pfeatures]))
    order = sorted(range(len(hits)), key=lambda i: -scores[i])
    new_index = {old: new for new, old in enumerate(order)}
    for c in cands:
        c.hit_index = new_index[c.hit_index]
    return [hits[i] for i in order], cands, [pfeatures[i] for i in order]


def abstains(g: Gathered) -> bool:
    if not g.candidates:
        return True
    if g.evidence.probability < load_model("abstention").threshold:
        return False
    return not answers_after_all(g)


#: how much of the asked words the sentence must hold to answer a fact question after all
ANSWERS_COVERAGE = 0.6
PERSON_PASSAGE_COVERAGE = 0.5  # "wie": how much of the asked words the sentence's passage must hold
ANSWERS_KINDS = (*STRICT_KINDS, "person")  # the kinds whose asked fact a sentence can be seen to hold


def answers_after_all(g: Gathered) -> bool:
    """A partial answer is only given when the sentence it would cite does not answer: for
    "hoe vaak / hoe lang / hoeveel / wanneer / wie" a best sentence that holds such a fact and most of
    the asked words, with no name or number the sources lack, is the answer."""
    if (
        g.question.kind not in ANSWERS_KINDS
        or g.evidence.features.get("unknown_names")
        or g.evidence.features.get("missing_numbers")
    ):
        return False
    best = max(g.candidates, key=lambda c: c.score)
    if g.question.kind == "person":  # "wie …?": a best sentence that names who, about what was asked
        return bool(best.features["type_match_loose"]) and best.features["cov_passage"] >= PERSON_PASSAGE_COVERAGE
    return bool(best.features["type_match"]) and best.features["cov_asked"] >= ANSWERS_COVERAGE


def answer_question(
    retriever: Retriever,
    question: str,
    history: list[dict] | None = None,
    persona: str | None = None,
    filters=None,
    settings: Settings | None = None,
    on_token: Callable[[str], None] | None = None,
    use_llm: bool | None = None,
    retrieval_mode: str = "hybrid",
    glossary: bool = True,
) -> Answer:
    """Answer ``question``; ``retrieval_mode`` and ``glossary`` exist for ablations."""
    settings = settings or retriever.settings
    t0 = time.perf_counter()
    fixed = retriever.correct(question)  # misspelt words corrected to words of the index: "jeugdzrog"
    q = analyse(fixed.query, history)
    persona = persona if persona in PERSONAS else None
    result = Answer(question=question, persona=persona, notice=q.notice, kind=q.kind, query=q.query, topic=q.topic)
    result.corrected_query = fixed.query if fixed.changed else ""
    if q.empty:
        result.answer, result.notice = q.notice or "", None
        return result
    result.terms = [Term(t.term, t.full, t.uitleg) for t in find_terms(q.query)]

    g = gather(retriever, q, filters, retrieval_mode, glossary)
    result.retrieved = [h.passage(i + 1) for i, h in enumerate(g.hits[:SHOWN])]
    result.searched_also = list(g.expansion.shown)
    result.evidence = g.evidence.to_dict()
    limits = compose.Limits.from_params(load_model("sentence_ranker").params)

    named = other_names(retriever, q)  # "wat zegt de Kinderombudsman …": no speaker of the index
    if abstains(g):
        absent = never_named(named, retriever.lexical.knows)
        if absent:
            g.evidence.reasons[:] = [nothing_from(absent), *_without(g.evidence.reasons, absent)]
        _abstain(result, g, limits)
    else:
        runs = compose.excerpts(q, g.candidates, limits)
        absent = never_named(named, retriever.lexical.knows)
        llm_wanted = bool(settings.llm_base_url and settings.llm_model) if use_llm is None else use_llm
        from kb.answer.llm import generative_answer

        if absent:  # the passages the answer cites never mention them: say so, then what they say
            result.citations, lines = compose.cite_excerpts(g.hits, runs)
            result.abstained, result.partial = True, True  # as the partial answers of _abstain
            said = nothing_from(absent)
            present(result, lines, compose.answer_text(lines), q.asked, not_said=said[0].upper() + said[1:] + ".")
        elif not (llm_wanted and generative_answer(settings, q, g.hits, history, result, on_token)):
            result.citations, lines = compose.cite_excerpts(g.hits, runs)
            result.abstained = False
            silent = unmentioned(named, [retriever.story_text(g.hits[run[0].hit_index]) for run in runs])
            if silent:  # named in the sources, but not in (the stories of) the passages cited
                result.add_notice(not_speaking(silent))
            if q.followup and not compose.picks_from_previous(q.asked) and compose.repeats_previous(runs):
                result.repeats_previous = True
                result.add_notice(REPEAT_NOTICE)
            present(result, lines, compose.answer_text(lines), q.asked, q.subject)
        else:
            present(result, None, result.answer, q.asked, q.subject)
    result.seconds = round(time.perf_counter() - t0, 4)
    return result


REPEAT_NOTICE = "Het antwoord hierop stond al in het vorige antwoord:"


def other_names(retriever: Retriever, q: Question) -> list[str]:
    """The names a question asks the opinion of ("wat zegt de Kinderombudsman …", "volgens de
    Onderwijsraad") that are no speaker of the index (those are answered from their passages)."""
    if not asks_for_speaker(q.focus):
        return []
    out = []
    for name in names_in(q.focus):
        words = [w for w in fold(name).split() if w not in STOPWORDS and len(w) > 1]
        if words and not all(w in common_words() for w in words) and not retriever.speaker_names().named(name):
            out.append(name)
    return out


def never_named(names: list[str], known) -> list[str]:
    """The ``names`` the sources never use: one of their own words (not a common word) occurs in
    no form anywhere in the corpus. Only then "de bronnen bevatten geen uitspraak van …" is true."""
    out = []
    for name in names:
        own = [w for w in fold(name).split() if w not in STOPWORDS and w not in common_words() and len(w) > 1]
        if own and any(not occurs(w, known) for w in own):
            out.append(name)
    return out


def unmentioned(names: list[str], texts: list[str]) -> list[str]:
    """The ``names`` that none of ``texts`` mentions (a compound also by its last part: a passage
    that says "Inspectie" mentions the "onderwijsinspectie")."""
    folded = [f" {fold_name(t)} " for t in texts]

    def mentions(text: str, word: str) -> bool:
        return any(f" {word[i:]}" in text for i in range(0, max(1, len(word) - 5)))

    return [
        n
        for n in names
        if not any(all(mentions(t, w) for w in fold_name(n).split() if w not in STOPWORDS) for t in folded)
    ]


def not_speaking(names: list[str]) -> str:
    who = " en ".join(f"‘{n}’" for n in names)
    return f"Let op: {who} komt in de geciteerde passages niet zelf aan het woord; hieronder staat wat de bronnen er wel over zeggen."


def _without(reasons: list[str], names: list[str]) -> list[str]:
    return [r for r in reasons if not any(f"'{n}'" in r for n in names)]


def nothing_from(names: list[str]) -> str:
    return "de bronnen bevatten geen uitspraak van " + " of ".join(f"‘{n}’" for n in names)


def _abstain(result: Answer, g: Gathered, limits: compose.Limits) -> None:
    """A partial answer when a related fact is there, else the abstention with what was nearby."""
    q, reasons = g.question, g.evidence.reasons
    result.abstained = True
    result.nearby = result.retrieved[:NEARBY]
    partial_min = float(load_model("abstention").params.get("partial_min", 0.5))
    best = max(g.candidates, key=lambda c: c.score, default=None)
    if best is not None and best.score >= partial_min:
        runs = compose.excerpts(
            q, g.candidates, compose.Limits(max_sentences=2, add_min=partial_min, list_items=limits.list_items)
        )
        result.citations, lines = compose.cite_excerpts(g.hits, runs)
        result.partial = True
        present(result, lines, compose.answer_text(lines), q.asked, not_said=compose.not_said(q, reasons))
    else:
        present(result, None, "", q.asked, not_said=compose.abstention_text(reasons, []))
