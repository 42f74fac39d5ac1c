"""Extractive answers: citations that hold, abstention, partial answers, follow-ups, personas, bad input."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from eval.gold import load_gold
from kb.answer.features import unusable
from kb.api import ask
from kb.cli import main as cli
from kb.config import PROJECT_ROOT
from kb.results import Answer

GOLD = load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")


def _history(item, settings):
    if not item.get("context_question"):
        return []
    first = ask(item["context_question"], settings=settings)
    return [{"role": "user", "content": item["context_question"]}, {"role": "assistant", "content": first.answer}]


def _check_citations(result: Answer):
    for c in result.citations:
        assert c.quotes, c
        for q in c.quotes:
            assert q in c.text, f"cited sentence not in its passage: {q!r}"
        assert f"[{c.n}]" in result.answer
    numbers = [c.n for c in result.citations]
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_cited_sentence_is_verbatim_and_never_a_question_heading_or_reference(corpus_settings):
    answered = 0
    for item in GOLD:
        result = ask(item["question"], history=_history(item, corpus_settings), settings=corpus_settings)
        _check_citations(result)
        for c in result.citations:
            for q in c.quotes:
                assert unusable(q, c.section) is None, (item["id"], q)
                assert not q.rstrip().endswith("?"), (item["id"], q)
        answered += not result.abstained
    assert answered >= len(GOLD) * 0.6


@pytest.mark.parametrize(
    "question,must",
    [
        ("Wat is de zorgplicht?", "zorgplicht"),
        ("wat zijn de zeven uitgangspunten van passend onderwijs", "gelijkwaardig partner"),
        ("is het aantal thuiszitters gedaald door passend onderwijs?", "thuiszitters"),
    ],
)
def test_answerable_questions_are_answered_with_citations(any_corpus_settings, question, must):
    result = ask(question, settings=any_corpus_settings)
    assert not result.abstained, result.answer
    assert result.mode == "extractive"
    assert must in result.answer.lower()
    assert result.citations and not result.citations[0].title.endswith(".txt")
    assert len(result.retrieved) == 10
    _check_citations(result)


def test_a_definition_question_leads_with_a_definition_from_the_sources(corpus_settings):
    result = ask("Wat is de zorgplicht precies?", settings=corpus_settings)
    first = result.citations[0].quotes[0]
    assert "zorgplicht" in first.lower() and "niet bekend" not in first, first
    assert re.search(r"zorgplicht\s*:|geldt .* zorgplicht|zorgplicht (is|betekent)", first, re.I), first
    # the glossary's explanation is a marked extra, after the answer from the sources
    assert "uit de begrippenlijst van deze kennisbank (geen citaat uit de bronnen)" in result.answer
    assert result.answer.index("begrippenlijst") > result.answer.index(first.lstrip("- ")[:30])


def test_a_frequency_question_leads_with_the_frequency(corpus_settings):
    result = ask("hoe vaak wordt het opp met de ouders geëvalueerd?", settings=corpus_settings)
    assert not result.abstained
    assert result.kind == "frequency"
    assert "één keer per jaar" in result.citations[0].quotes[0] or "één keer per jaar" in result.answer.split("[1]")[0]


@pytest.mark.parametrize(
    "question",
    [
        "Hoeveel euro krijgt een school in 2031 per leerling voor passend onderwijs?",
        "Kan ik het pgb van mijn zoon gebruiken voor begeleiding in de klas?",
        "Hoe werkt passend onderwijs in België?",
        "Binnen hoeveel weken moet de school beslissen nadat ik mijn kind heb aangemeld?",
    ],
)
def test_unanswerable_questions_abstain_and_say_what_the_sources_do_contain(any_corpus_settings, question):
    result = ask(question, persona="ouder", settings=any_corpus_settings)
    assert result.abstained, result.answer
    assert result.retrieved and result.nearby
    if result.partial:  # "De bronnen zeggen niet …; wel staat erin: …" with the related cited facts
        assert result.answer.startswith("De bronnen ") and "Wel staat erin:" in result.answer
        assert result.citations
        _check_citations(result)
    else:
        assert result.citations == []
        assert "staat niet in de bronnen" in result.answer and "Wel gevonden" in result.answer
    assert "onderwijsconsulenten" in result.answer, "parents are pointed to where such questions are answered"


def test_a_partial_answer_is_an_abstention_in_json_with_its_citations(corpus_settings, monkeypatch):
    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    question = "Binnen hoeveel weken moet de school beslissen nadat ik mijn kind heb aangemeld?"
    out = CliRunner().invoke(cli, ["ask", question, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["abstained"] is True
    assert data["partial"] == bool(data["citations"])


def test_a_list_question_keeps_the_list_whole(corpus_settings):
    result = ask("Wat zijn de zeven uitgangspunten van passend onderwijs?", settings=corpus_settings)
    for item in (
        "ondersteuningsbehoefte is leidend",
        "leerling wordt gehoord",
        "gelijkwaardig partner",
        "dekkend netwerk",
        "administratieve belasting",
    ):
        assert item in result.answer


def test_a_followup_answers_the_new_aspect_not_the_old_answer_again(any_corpus_settings):
    first = ask("Wat is een ontwikkelingsperspectief?", settings=any_corpus_settings)
    history = [
        {"role": "user", "content": "Wat is een ontwikkelingsperspectief?"},
        {"role": "assistant", "content": first.answer},
    ]
    result = ask("En hoe vaak wordt het met ouders besproken?", history=history, settings=any_corpus_settings)
    assert result.topic == "ontwikkelingsperspectief" and "ontwikkelingsperspectief" in result.query
    assert result.answer != first.answer
    assert "één keer per jaar" in result.answer or "regelmatig" in result.answer
    old = {q for c in first.citations for q in c.quotes}
    new = {q for c in result.citations for q in c.quotes}
    assert new - old, "the follow-up brings something the first answer did not say"


def test_everyday_words_search_the_policy_terms_too(corpus_settings):
    result = ask("mag de school mijn kind weigeren?", persona="ouder", settings=corpus_settings)
    assert {"aanmelding", "zorgplicht"} <= set(result.searched_also)
    assert not result.abstained
    assert "zorgplicht" in result.answer.lower()
    assert "detentie" not in result.answer


def test_persona_changes_presentation_not_facts(corpus_settings):
    q = "Wat is een opp?"
    plain = ask(q, settings=corpus_settings)
    parent = ask(q, persona="ouder", settings=corpus_settings)
    trainer = ask(q, persona="trainer", settings=corpus_settings)
    quotes = lambda r: [q for c in r.citations for q in c.quotes]  # noqa: E731
    assert quotes(plain) == quotes(parent) == quotes(trainer)
    assert trainer.bullets and all(b.startswith("- ") for b in trainer.bullets)
    assert "Bronnen:" in trainer.answer
    assert "onderwijsconsulenten" in parent.answer and "onderwijsconsulenten" not in plain.answer


def test_a_parent_gets_a_term_they_used_explained_first(corpus_settings):
    result = ask("moet ik instemmen met het opp van mijn zoon?", persona="ouder", settings=corpus_settings)
    assert result.lead and "ontwikkelingsperspectief" in result.lead
    assert result.answer.startswith(result.lead)


@pytest.mark.parametrize("question", ["", "   \n\t ", "🙂🙂🙂", "???"])
def test_empty_questions_get_a_clear_message(corpus_settings, question):
    result = ask(question, settings=corpus_settings)
    assert result.abstained and "Stel een vraag" in result.answer


def test_a_very_long_question_is_cut_with_a_notice(corpus_settings):
    result = ask("Wat is de zorgplicht van scholen? " * 600, settings=corpus_settings)
    assert len("Wat is de zorgplicht van scholen? " * 600) > 20_000
    assert "erg lang" in result.notice
    assert not result.abstained


def test_an_english_question_is_answered_from_the_dutch_sources_in_dutch(corpus_settings):
    result = ask("What is an OPP (development plan) and who draws it up?", settings=corpus_settings)
    assert "Engels" in result.notice and "Nederlands" in result.notice
    assert not result.abstained, result.answer
    assert "ontwikkelingsperspectief" in result.answer.lower() or "opp" in result.answer.lower()
    assert "staat niet in de bronnen" not in result.answer  # no contradictory message
    _check_citations(result)


def test_html_and_script_are_never_echoed(corpus_settings):
    q = "<script>alert('x')</script> <b>Wat is de zorgplicht?</b>"
    result = ask(q, settings=corpus_settings)
    assert "<script>" not in result.answer and "<b>" not in result.answer
    assert result.question == q, "the question itself is returned as data"
    _check_citations(result)


def test_the_answer_object_round_trips_through_json(corpus_settings):
    result = ask("Wat is een opp?", settings=corpus_settings)
    again = Answer.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_cli_ask_json_and_batch(corpus_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    out = CliRunner().invoke(cli, ["ask", "Wat is een ontwikkelingsperspectief?", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {"question", "answer", "abstained", "mode", "citations", "retrieved"} <= set(data)
    assert {"n", "source", "title", "year", "page", "section", "text", "quote"} <= set(data["citations"][0])
    assert {"rank", "score", "source", "title", "page", "section", "text", "chunk_id"} <= set(data["retrieved"][0])

    batch = tmp_path / "in.jsonl"
    batch.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"id": "a", "question": "wat zijn de uitgangspunten van passend onderwijs", "history": []},
                {
                    "id": "b",
                    "question": "welke daarvan gaat over ouders?",
                    "history": [
                        {"role": "user", "content": "wat zijn de uitgangspunten van passend onderwijs"},
                        {"role": "assistant", "content": "..."},
                    ],
                },
                {"id": "c", "question": ""},
            ]
        )
        + "\n{kapot\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["ask", "--batch", str(batch), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["a", "b", "c", None]
    assert "gelijkwaardig partner" in lines[1]["answer"]
    assert "ongeldige JSON" in lines[3]["error"]


def test_ask_without_index_says_to_run_ingest(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_HOME", str(tmp_path / "leeg"))
    result = CliRunner().invoke(cli, ["ask", "Wat is de zorgplicht?"])
    assert result.exit_code != 0 and "kb ingest" in result.output


def test_the_package_api_can_be_called_again_and_again(corpus_settings, monkeypatch):
    """``kb.ask`` is the function, also on its second call (no submodule of that name shadows it)."""
    import kb

    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    first = kb.ask("Wat is een opp?")
    second = kb.ask("Wat is een opp?")
    assert first.answer == second.answer and not first.abstained
    assert callable(kb.ask) and callable(kb.search) and callable(kb.ingest)
