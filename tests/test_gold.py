"""The gold set: the shipped file is valid, and the checker catches broken files."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from eval.gold import DEFAULT_CORPUS, DEFAULT_GOLD, PERSONAS, TYPES, check_gold, load_gold, main

# --- the shipped gold set ------------------------------------------------------------


def test_shipped_gold_set_passes_the_checker():
    assert check_gold(DEFAULT_GOLD, DEFAULT_CORPUS) == []


def test_shipped_gold_set_is_spread_over_docs_personas_and_types():
    items = load_gold(DEFAULT_GOLD)
    assert len(items) >= 85
    types = Counter(i["type"] for i in items)
    assert set(types) == set(TYPES)
    assert types["unanswerable"] >= 12
    assert types["followup"] >= 10
    assert set(Counter(i["persona"] for i in items)) == set(PERSONAS)
    docs = Counter(i["doc"] for i in items if i["doc"])
    assert set(docs) == {p.name for p in DEFAULT_CORPUS.glob("*.txt")}
    assert all(docs[d] >= 8 for d in docs)


def test_main_prints_a_summary_for_the_shipped_set(capsys):
    assert main([str(DEFAULT_GOLD), "--corpus", str(DEFAULT_CORPUS)]) == 0
    out = capsys.readouterr().out
    assert "per type:" in out and "per doc:" in out and "per persona:" in out


# --- hand-made bad files -------------------------------------------------------------

DOC = "001_test.txt"
TEXT = (
    "Passend onderwijs werd ingevoerd in 2014. Scholen hebben sindsdien een zorgplicht\n"
    "voor leerlingen die extra ondersteuning nodig hebben.\n"
)
NO_MINIMA = dict(min_items=0, min_unanswerable=0, min_followups=0)


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    (d / DOC).write_text(TEXT, encoding="utf-8")
    return d


def item(**over) -> dict:
    base = {
        "id": "t001",
        "persona": "ouder",
        "question": "sinds wanneer bestaat passend onderwijs?",
        "type": "factoid",
        "context_question": None,
        "doc": DOC,
        "also_docs": [],
        "quotes": ["Passend onderwijs werd ingevoerd in 2014."],
        "also_quotes": {},
        "answer": "Sinds 2014.",
        "must_mention": ["2014"],
    }
    base.update(over)
    return base


def unanswerable(**over) -> dict:
    return item(type="unanswerable", doc=None, quotes=[], must_mention=[], **over)


def write(tmp_path, *rows) -> str:
    path = tmp_path / "gold.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def problems_for(tmp_path, corpus, *rows) -> list[str]:
    return check_gold(write(tmp_path, *rows), corpus, **NO_MINIMA)


def test_a_valid_small_file_has_no_problems(tmp_path, corpus):
    rows = [
        item(),
        item(
            id="t002",
            type="followup",
            question="en waarom toen?",
            context_question="sinds wanneer bestaat passend onderwijs?",
        ),
        unanswerable(id="t003", question="wat kost een tlv in 2025?", answer="Niet in de bronnen."),
        # a quote may span a plain line break
        item(
            id="t004",
            quotes=["een zorgplicht\nvoor leerlingen die extra ondersteuning"],
            must_mention=["zorgplicht voor leerlingen"],
        ),
    ]
    assert problems_for(tmp_path, corpus, *rows) == []


def test_quote_not_in_the_file(tmp_path, corpus):
    probs = problems_for(tmp_path, corpus, item(quotes=["Passend onderwijs werd ingevoerd in 2015."]))
    assert any("quote not found in 001_test.txt" in p for p in probs), probs


def test_too_short_and_too_long_quotes(tmp_path, corpus):
    probs = problems_for(tmp_path, corpus, item(quotes=["in 2014."], must_mention=["2014"]))
    assert any("quote length 8 outside 30-160" in p for p in probs), probs
    whole = TEXT.strip()  # 135 characters, spans a line break, in the file
    assert problems_for(tmp_path, corpus, item(quotes=[whole])) == []
    probs = problems_for(tmp_path, corpus, item(quotes=[whole + " extra tekst om te lang te worden"]))
    assert any("outside 30-160" in p for p in probs), probs


def test_unanswerable_with_a_doc(tmp_path, corpus):
    probs = problems_for(tmp_path, corpus, item(type="unanswerable"))
    assert any("unanswerable item has a doc" in p for p in probs), probs
    assert any("unanswerable item has quotes" in p for p in probs), probs


def test_followup_without_context_question(tmp_path, corpus):
    probs = problems_for(tmp_path, corpus, item(type="followup", context_question=None))
    assert any("followup without context_question" in p for p in probs), probs
    probs = problems_for(tmp_path, corpus, item(context_question="een eerdere vraag"))
    assert any("context_question must be null" in p for p in probs), probs


def test_duplicate_id(tmp_path, corpus):
    probs = problems_for(tmp_path, corpus, item(), item())
    assert any("duplicate id 't001'" in p and "line 2" in p for p in probs), probs


def test_bad_json_line(tmp_path, corpus):
    path = write(tmp_path, item(), '{"id": "t002", "persona": ', item(id="t003"))
    probs = check_gold(path, corpus, **NO_MINIMA)
    assert probs == [probs[0]] and probs[0].startswith("line 2: invalid JSON"), probs
    with pytest.raises(ValueError, match="line 2"):
        load_gold(path)


def test_must_mention_not_in_any_quote(tmp_path, corpus):
    probs = problems_for(tmp_path, corpus, item(must_mention=["2014", "samenwerkingsverband"]))
    assert any("must_mention 'samenwerkingsverband' not in any quote" in p for p in probs), probs


def test_fields_persona_type_and_doc(tmp_path, corpus):
    row = item(persona="minister", type="essay", doc="999_missing.txt", extra=1)
    del row["answer"]
    probs = problems_for(tmp_path, corpus, row)
    for expected in (
        "missing field(s): answer",
        "unknown field(s): extra",
        "bad persona 'minister'",
        "bad type 'essay'",
    ):
        assert any(expected in p for p in probs), (expected, probs)
    probs = problems_for(tmp_path, corpus, item(doc="999_missing.txt"))
    assert any("unknown doc '999_missing.txt'" in p for p in probs), probs


def test_also_docs_and_also_quotes_are_checked(tmp_path, corpus):
    (corpus / "002_test.txt").write_text("Elke school heeft een zorgplicht voor leerlingen.\n", encoding="utf-8")
    good = item(
        also_docs=["002_test.txt"], also_quotes={"002_test.txt": ["Elke school heeft een zorgplicht voor leerlingen."]}
    )
    assert problems_for(tmp_path, corpus, good) == []
    probs = problems_for(tmp_path, corpus, item(also_docs=["002_test.txt"], also_quotes={}))
    assert any("also_quotes keys" in p for p in probs), probs
    bad = item(
        also_docs=["002_test.txt"], also_quotes={"002_test.txt": ["Elke school heeft geen zorgplicht voor leerlingen."]}
    )
    probs = problems_for(tmp_path, corpus, bad)
    assert any("quote not found in 002_test.txt" in p for p in probs), probs


def test_quotes_with_markup_or_broken_words_are_rejected(tmp_path, corpus):
    (corpus / "003_test.txt").write_text(
        "Leraren zijn positief.<sup>3</sup> Ze vinden het belan-\ngrijk dat leerlingen blijven.\n", encoding="utf-8"
    )
    probs = problems_for(
        tmp_path,
        corpus,
        item(
            doc="003_test.txt",
            quotes=["Leraren zijn positief.<sup>3</sup>", "Ze vinden het belan-\ngrijk dat leerlingen"],
            must_mention=["positief"],
        ),
    )
    assert any("markup '<sup>'" in p for p in probs), probs
    assert any("hyphenated across a line break" in p for p in probs), probs


def test_count_minimums(tmp_path, corpus):
    probs = check_gold(write(tmp_path, item()), corpus)
    assert any("only 1 items; at least 80" in p for p in probs), probs
    assert any("only 0 unanswerable items; at least 10" in p for p in probs), probs
    assert any("only 0 followup items; at least 8" in p for p in probs), probs


def test_main_exits_1_and_prints_problems(tmp_path, corpus, capsys):
    path = write(tmp_path, item(quotes=["niet in het bestand, dus fout genoeg"]))
    assert main([path, "--corpus", str(corpus)]) == 1
    assert "quote not found" in capsys.readouterr().out


def test_missing_gold_file(tmp_path, corpus):
    assert check_gold(tmp_path / "nope.jsonl", corpus) == [f"{tmp_path / 'nope.jsonl'}: gold file not found"]
