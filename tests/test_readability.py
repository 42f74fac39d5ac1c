"""Answers that read as answers: excerpts, follow-ups, true refusals (eval/readability.py counts them)."""

from __future__ import annotations

import pytest

from eval import readability
from kb.answer.compose import leans_back
from kb.answer.question import analyse, topic_of
from kb.api import ask
from kb.results import Answer, Citation, Excerpt
from ui.chat import EXAMPLES

BYLINE = "Jan de Vos, adviseur VOO en voormalig directeur van een school"


def test_the_check_counts_what_a_reader_trips_over():
    bad = Answer(
        question="wat kost het?",
        excerpts=[Excerpt(1, "Dus schrijven ze een plan. “Dat werkt"), Excerpt(2, "Dit zijn de stappen:")],
        citations=[Citation(n=1, text=BYLINE, quotes=[BYLINE])],
        not_said="De bronnen noemen 'opp' nergens.",
    )
    counts = readability.check(bad, known=lambda w: w == "opp")
    assert counts["dangling_start"] == 2  # "Dus …" and "Dit zijn …"
    assert counts["cut_quote"] == 1 and counts["cut_list"] == 1
    assert counts["non_sentence"] == 1 and counts["false_absent"] == 1
    fine = Answer(question="x", excerpts=[Excerpt(1, "Scholen hebben een zorgplicht. Dat betekent iets.")])
    assert sum(readability.check(fine).values()) == 0


@pytest.mark.parametrize(
    "sentence,leans",
    [
        ("Het gaat om ruim 4000 leerlingen.", True),
        ("Ten tweede is er te weinig tijd.", True),
        ("Terwijl die scholen geen idee hebben wat er met dat kind gebeurd is.", True),
        ("Scholen hebben sinds 2014 een zorgplicht.", False),
        ("Het samenwerkingsverband verdeelt het geld.", False),
    ],
)
def test_sentences_that_lean_on_the_one_before(sentence, leans):
    assert leans_back(sentence) is leans


def test_a_followup_searches_with_the_topic_of_the_first_question_not_the_whole_history():
    history = [
        {"role": "user", "content": "wat is een opp precies?"},
        {"role": "assistant", "content": "Een ontwikkelingsperspectief is …"},
    ]
    q = analyse("en wie beslist dat dan?", history)
    assert q.followup and q.topic == "opp"
    assert "wat is een opp" not in q.query
    assert not analyse("wat is een opp precies en moet ik daar voor tekenen", history).followup
    assert topic_of("waar geven scholen het geld voor passend onderwijs eigenlijk aan uit?") == (
        "geven scholen geld passend onderwijs"
    )


def test_a_followup_is_answered_from_the_topic_and_not_refused(corpus_settings):
    first = ask("wat is een opp precies?", settings=corpus_settings)
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.answer}]
    result = ask("en wie stelt dat op?", history=history, settings=corpus_settings)
    assert result.topic == "opp"
    assert not result.abstained, result.answer
    said = {q for c in first.citations for q in c.quotes}
    assert not said & {q for c in result.citations for q in c.quotes}  # nothing repeated


@pytest.mark.parametrize(
    "question,word",
    [
        ("Mijn zoon heeft een taalontwikkelingsstoornis (TOS), wat kan de school doen?", "TOS"),
        ("Klopt het dat scholen een zorgplicht hebben?", "Klopt"),
    ],
)
def test_a_refusal_never_calls_a_word_absent_that_the_sources_have(corpus_settings, question, word):
    result = ask(question, settings=corpus_settings)
    assert f"'{word}' nergens" not in result.answer


@pytest.mark.parametrize("persona,question", [(p, q) for p, qs in EXAMPLES.items() for q in qs])
def test_the_apps_example_questions_get_readable_answers(corpus_settings, persona, question):
    result = ask(question, persona=persona, settings=corpus_settings)
    assert not result.abstained, result.answer
    assert result.excerpts and result.body
    counts = readability.check(result)
    assert not any(counts.values()), (counts, result.body)


def test_the_answer_carries_its_parts_and_the_text_is_made_from_them(corpus_settings):
    result = ask("Wat is een ontwikkelingsperspectief (opp)?", persona="ouder", settings=corpus_settings)
    assert result.persona_note and result.persona_note in result.answer
    assert (result.body and result.body in result.answer) or result.lead
    for e in result.excerpts:
        assert f"[{e.n}]" in result.body
    again = Answer.from_dict(result.to_dict())
    assert again.excerpts == result.excerpts and again.body == result.body
