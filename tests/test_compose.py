"""Composing excerpts from scored sentences: readable on their own, in reading order, not padded."""

from __future__ import annotations

from kb.answer.compose import Limits, excerpts
from kb.answer.features import SENTENCE_FEATURES, Candidate
from kb.answer.question import analyse


def passage(*sentences: tuple[str, float], hit: int = 0, **features) -> list[Candidate]:
    """Candidates for one passage: (text, score) pairs, one space apart."""
    out, pos = [], 0
    for text, score in sentences:
        f = dict.fromkeys(SENTENCE_FEATURES, 0.0) | features
        f["list_item"] = float(text.startswith("- "))
        f["lead_in"] = float(text.rstrip().endswith(":"))
        out.append(Candidate(hit, pos, pos + len(text), text, frozenset(text.lower().split()), f, score))
        pos += len(text) + 1
    return out


def texts(runs) -> list[list[str]]:
    return [[c.text for c in run] for run in runs]


Q = analyse("hoeveel thuiszitters zijn er?")


def test_a_sentence_that_leans_back_brings_the_one_before_it_in_reading_order():
    cands = passage(("Het aantal thuiszitters is niet gedaald.", 0.3), ("Het gaat om ruim 4000 leerlingen.", 0.9))
    assert texts(excerpts(Q, cands, Limits())) == [
        ["Het aantal thuiszitters is niet gedaald.", "Het gaat om ruim 4000 leerlingen."]
    ]


def test_a_sentence_whose_antecedent_cannot_be_shown_is_left_out():
    lonely = passage(("Dus schrijven ze een plan voor elk kind.", 0.9))
    other = passage(("Scholen schrijven een ontwikkelingsperspectief voor zo'n leerling.", 0.5), hit=1)
    assert texts(excerpts(Q, lonely + other, Limits())) == [
        ["Scholen schrijven een ontwikkelingsperspectief voor zo'n leerling."]
    ]


def test_a_quotation_is_never_cut_inside_its_marks():
    cands = passage(
        ("Marja zegt: “Kinderen komen soms zonder bericht terug op school.", 0.2),
        ("Terwijl die scholen geen idee hebben wat er gebeurd is.”", 0.9),
    )
    (run,) = texts(excerpts(Q, cands, Limits()))
    assert run[0].startswith("Marja") and run[-1].endswith("”")


def test_a_lead_in_brings_the_items_it_introduces():
    cands = passage(
        ("Er zijn zeven uitgangspunten:", 0.9),
        ("De ondersteuningsbehoefte is leidend;", 0.1),
        ("Het gaat om afstemming;", 0.1),
        ("Ouders zijn gelijkwaardig partner.", 0.1),
        ("Een heel ander onderwerp volgt hier.", 0.05),
    )
    (run,) = texts(excerpts(analyse("wat zijn de uitgangspunten?"), cands, Limits()))
    assert run[-1] == "Ouders zijn gelijkwaardig partner." and len(run) == 4


def test_weak_sentences_from_other_passages_do_not_pad_the_answer():
    cands = passage(("In 2019 waren er ruim 4000 thuiszitters.", 0.9)) + passage(
        ("Ouders zijn niet altijd tevreden over de school van hun kind.", 0.4), hit=1
    )
    assert len(excerpts(Q, cands, Limits(add_min=0.1, add_ratio=0.2))) == 1


def test_a_followup_does_not_repeat_the_previous_answer():
    history = [{"role": "user", "content": "hoeveel thuiszitters zijn er?"}, {"role": "assistant", "content": "x"}]
    q = analyse("en hoe lang zitten ze thuis?", history)
    cands = passage(("In 2019 waren er ruim 4000 thuiszitters.", 0.9), in_previous_answer=1.0) + passage(
        ("Veel thuiszitters zitten langer dan drie maanden thuis.", 0.6), hit=1
    )
    runs = texts(excerpts(q, cands, Limits()))
    assert runs == [["Veel thuiszitters zitten langer dan drie maanden thuis."]]


def test_which_of_them_picks_the_items_of_the_previous_answer_that_are_about_it(corpus_settings):
    """Issue 21: "A follow-up never repeats a sentence the previous answer gave, unless it asks
    to pick from it": the seven principles, then "en welke gaat over ons als leraren?"."""
    from kb.api import ask

    first = ask("wat zijn de zeven uitgangspunten van passend onderwijs?", settings=corpus_settings)
    history = [
        {"role": "user", "content": "wat zijn de zeven uitgangspunten van passend onderwijs?"},
        {"role": "assistant", "content": first.answer},
    ]
    leraren = ask("en welke gaat over ons als leraren?", history=history, settings=corpus_settings)
    assert [e.text for e in leraren.excerpts] == ["De leraar wordt ondersteund en toegerust;"]
    ouders = ask("welke daarvan gaat over ouders?", history=history, settings=corpus_settings)
    assert [e.text for e in ouders.excerpts] == ["De ouder is gelijkwaardig partner;"]


def test_a_followup_search_favours_the_passages_the_previous_answer_quoted(corpus_settings):
    from kb.api import ask, get_retriever

    first = ask("wat is een impulsklas precies?", settings=corpus_settings)
    retriever = get_retriever(corpus_settings)
    near = retriever.near(first.answer)
    quoted = {c.chunk_id for c in first.citations}
    assert quoted and quoted <= set(near) and all(near[c] == 1.0 for c in quoted)
    assert len(near) > len(quoted)  # and the passages around them, at a share


def test_a_followup_the_previous_answer_already_answered_says_so(corpus_settings):
    """ "hoeveel leerlingen zitten daar dan?" after the answer that named the 1100 pupils: the
    same sentence, announced as such, not another number from elsewhere (the 4000 thuiszitters)."""
    from kb.api import ask

    context = "is er ergens een school waar vo en speciaal onderwijs in hetzelfde gebouw zitten?"
    first = ask(context, settings=corpus_settings)
    history = [{"role": "user", "content": context}, {"role": "assistant", "content": first.answer}]
    answer = ask("hoeveel leerlingen zitten daar dan?", history=history, settings=corpus_settings)
    assert answer.repeats_previous and "stond al in het vorige antwoord" in answer.notice
    assert "1100 leerlingen" in answer.answer and "4000" not in answer.answer
