"""Questions as people type them: the kind of answer asked for, follow-ups, language."""

from __future__ import annotations

import pytest

from kb.answer.question import analyse, is_english, is_followup, question_kind


@pytest.mark.parametrize(
    "question,kind",
    [
        ("hoe vaak wordt het opp besproken", "frequency"),
        ("Hoe lang duurt een overgangsregeling?", "duration"),
        ("hoeveel thuiszitters zijn er nou", "quantity"),
        ("wanneer ging de wet passend onderwijs in?", "time"),
        ("waarom is die groep ontevreden?", "reason"),
        ("En wie stelt het op?", "person"),
        ("Wat is de zorgplicht precies?", "definition"),
        ("wat betekent wegadviseren", "definition"),
        ("welke knelpunten noemen scholen?", "list"),
        ("wat zijn de zeven uitgangspunten", "list"),
        ("waar lopen scholen tegenaan bij de jeugdhulp?", "other"),  # "waar … tegenaan" asks what, not where
        ("waar kan ik terecht met een klacht", "place"),
        ("mag de school mijn kind weigeren?", "yesno"),
        ("mijn zoon heeft adhd en loopt vast in groep 6. wat moet school dan doen?", "how"),
    ],
)
def test_the_kind_of_answer_asked_for(question, kind):
    assert question_kind(question) == kind


def test_a_definition_question_knows_its_subject():
    assert analyse("Wat is de zorgplicht precies?").subject == "zorgplicht"
    assert analyse("wat is een opp").subject == "opp"
    assert analyse("hoe vaak wordt het opp besproken").subject == ""


def test_a_long_story_has_its_question_as_focus():
    q = analyse("Mijn dochter zit al twee maanden thuis. De school belt niet meer. Wat moet de school doen?")
    assert q.focus == "Wat moet de school doen?"


def test_english_is_recognised_and_answered_in_dutch_with_a_notice():
    assert is_english("What is the duty of care of schools?")
    assert not is_english("Wat is de zorgplicht van scholen?")
    q = analyse("What is the duty of care of schools?")
    assert q.language == "en" and "Engels" in q.notice and "Nederlands" in q.notice


def test_a_followup_keeps_the_previous_answer_to_avoid_repeating_it():
    history = [{"role": "user", "content": "Wat is een opp?"}, {"role": "assistant", "content": "Een plan [1]."}]
    q = analyse("En wie stelt het op?", history)
    assert q.followup and q.kind == "person"
    assert q.topic == "opp" and q.query == "En wie stelt het op? (opp)"  # the topic, not the whole history
    assert q.previous_answer == "Een plan [1]."
    assert not analyse("Wat is passend onderwijs?", history).followup


def test_a_short_question_that_points_back_is_a_followup():
    master = "welke master kan ik doen over talentontwikkeling en diversiteit? De opleiding duurt twee jaar."
    assert is_followup("uit welke modules bestaat die opleiding?", master)
    assert not is_followup("uit welke modules bestaat die opleiding?", "wat is een opp?")  # no opleiding before
    assert is_followup("waarom stapte hij over?")
    assert is_followup("wat helpt dan wel?")
    assert not is_followup("welke sancties krijgt een school die geen opp opstelt")  # "die": a relative clause
