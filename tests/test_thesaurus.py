"""The everyday-words thesaurus (kb/retrieval/thesaurus.json): parents' words find the reports' terms."""

from __future__ import annotations

import json

import pytest

from kb.retrieval.thesaurus import THESAURUS_FILE, expand, load_thesaurus


@pytest.mark.parametrize(
    "question,terms",
    [
        ("mag de school mijn kind weigeren?", {"aanmelding", "zorgplicht", "toelating"}),
        ("mijn zoon is niet welkom op die school", {"wegadviseren"}),
        ("mijn dochter zit al weken thuis", {"thuiszitters"}),
        ("wie betaalt de extra hulp?", {"middelen", "ondersteuning"}),
        ("ik ben het niet eens met school, waar kan ik heen?", {"geschillencommissie", "onderwijsconsulenten"}),
        ("wat is een opp", {"ontwikkelingsperspectief"}),  # the glossary's forms too
        ("werkt pbs eigenlijk op basisscholen?", {"positive behavior support"}),  # the reports write it out
    ],
)
def test_everyday_words_bring_the_policy_terms(question, terms):
    e = expand(question)
    assert terms <= set(e.terms)
    assert all(t in e.query for t in terms)


def test_quiet_synonyms_widen_the_search_but_are_not_shown():
    e = expand("mijn kind krijgt geen hulp van de juf")
    assert "leerling" in e.terms and "leraar" in e.terms
    assert "leerling" not in e.shown and "ondersteuning" in e.shown


def test_english_words_map_to_dutch_only_for_english_questions():
    assert "zorgplicht" in expand("what is the duty of care", "en").terms
    assert "zorgplicht" not in expand("duty of care", "nl").terms


def test_words_already_in_the_question_are_not_added_again():
    e = expand("wat zegt de zorgplicht over weigeren")
    assert "zorgplicht" not in e.terms


def test_the_data_file_is_well_formed():
    data = json.loads(THESAURUS_FILE.read_text(encoding="utf-8"))
    for part in ("everyday", "english"):
        assert data[part], part
        for entry in data[part]:
            assert entry["words"] and entry["terms"], entry
            assert all(isinstance(w, str) and w.strip() == w and w for w in entry["words"] + entry["terms"])
    assert len(load_thesaurus()["everyday"]) == len(data["everyday"])
