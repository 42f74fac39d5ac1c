"""Misspelt query words corrected against the index (kb.retrieval.spelling), in search as in chat."""

from __future__ import annotations

import json

import pytest

from kb.config import PROJECT_ROOT
from kb.retrieval.spelling import Speller, is_word

TYPOS = [
    json.loads(line) for line in (PROJECT_ROOT / "tests" / "data" / "typos.jsonl").read_text().splitlines() if line
]

WORDS = {"jeugdzorg": 12, "werkdruk": 5, "leerlingen": 40, "dicht": 3, "ouders": 30, "samenwerkingsverband": 9}


def _speller(words=WORDS) -> Speller:
    return Speller(words, lambda w: w in words)


def test_unknown_words_are_corrected_to_the_index_words():
    sp = _speller()
    fixed = sp.correct("Wat doet de Jeugdzrog aan werkdrk?")
    assert fixed.query == "Wat doet de Jeugdzorg aan werkdruk?"
    assert fixed.changes == [("Jeugdzrog", "Jeugdzorg"), ("werkdrk", "werkdruk")] and fixed.changed
    assert sp.correct("leerlignen en oudres").query == "leerlingen en ouders"


def test_real_words_short_words_and_known_words_are_never_corrected():
    sp = _speller()
    for query in ("wat is dyslexie", "bullying at school", "een opp", "jeugdzorg", "samenwerkingsverbanden"):
        assert sp.correct(query).query == query and not sp.correct(query).changed
    assert is_word("dochter") and is_word("teacher") and not is_word("jeugdzrog")
    # "dochtr" is one edit from a Dutch word the index lacks: not two edits to "dicht"
    assert sp.suggest("dochtr") is None
    # a compound of Dutch words gets one edit at most
    assert _speller({"samenwerkingsverband": 3}).suggest("samenwerkingsverbant") == "samenwerkingsverband"
    assert _speller({"werkdrukverlagingen": 3}).suggest("werkdrukverlaging") is None  # two edits away


def test_a_term_of_the_index_brings_the_word_the_passages_write():
    words = {"onderwijsconsulenten": 2, "noemen": 4, "noemt": 1}
    stems = {"onderwijsconsulenten": "onderwijsconsulent", "noemen": "noem", "noemt": "noemt"}
    sp = Speller(words, lambda w: w in words, ["onderwijsconsulent", "noem", "noemt"], lambda w: stems.get(w, w))
    assert sp.suggest("onderwijsconsulnet") == "onderwijsconsulenten"
    assert sp.suggest("noemd") == "noemt"  # a word of the passages beats a term at the same distance


@pytest.mark.parametrize("item", TYPOS, ids=[t["typo"] for t in TYPOS])
def test_a_typo_question_finds_what_its_correct_spelling_finds(corpus_settings, item):
    from kb.api import search

    typo, correct = (
        search(item["typo"], k=3, settings=corpus_settings),
        search(item["correct"], k=3, settings=corpus_settings),
    )
    assert typo and correct and typo[0].chunk_id == correct[0].chunk_id
    assert typo.corrected_query == item["correct"]
    assert correct.corrected_query == ""  # nothing to correct: the field stays empty


def test_twenty_typo_questions_are_written_for_this():
    assert len(TYPOS) == 20 and all(t["typo"] != t["correct"] for t in TYPOS)


def test_the_answer_says_what_was_searched_for(corpus_settings):
    from kb.api import ask
    from kb.results import Answer

    answer = ask("wat doet de jeugdzrog op school", settings=corpus_settings)
    assert answer.corrected_query == "wat doet de jeugdzorg op school"
    assert answer.question == "wat doet de jeugdzrog op school"
    right = ask("wat doet de jeugdzorg op school", settings=corpus_settings)
    assert right.corrected_query == ""
    assert [c.chunk_id for c in answer.citations] == [c.chunk_id for c in right.citations]
    assert Answer.from_dict(answer.to_dict()).corrected_query == answer.corrected_query


def test_the_search_tab_says_what_it_searched_for(corpus_settings, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.widgets import TABS

    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    for var in ("KB_LLM_BASE_URL", "KB_LLM_MODEL", "KB_LLM_API_KEY", "KB_ALLOW_UPLOAD"):
        monkeypatch.delenv(var, raising=False)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=300)
    at.run()
    at.session_state["tab"] = TABS["search"]
    at.run()
    at.text_input(key="zoek").set_value("jeugdzrog").run()
    assert not at.exception, at.exception
    shown = [h.value for h in at.html]
    assert any("Gezocht op: jeugdzorg" in h for h in shown)
    cards = [h for h in shown if 'class="kb-src-title"' in h]
    assert cards and any("<mark>jeugdzorg</mark>" in c.lower() for c in cards)  # the corrected word is marked
    at.text_input(key="zoek").set_value("jeugdzorg").run()
    assert not any("Gezocht op" in h.value for h in at.html)
