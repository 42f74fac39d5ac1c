"""The evaluation metrics on small hand-made cases."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    abstention_scores,
    by_type,
    first_relevant_rank,
    gold_quotes,
    hit_at_k,
    is_relevant,
    mean,
    mention_coverage,
    mrr_at_k,
    ndcg_at_k,
    normalise,
    percentile,
)

T, F = True, False


def test_normalise_lowercases_and_collapses_whitespace():
    assert normalise("  Passend\n\tOnderwijs   is  ") == "passend onderwijs is"
    assert normalise("") == ""
    assert normalise(None) == ""


def test_gold_quotes_include_also_quotes():
    item = {"quotes": ["a b c"], "also_quotes": {"x.txt": ["d e"], "y.txt": ["f", "g"]}}
    assert gold_quotes(item) == ["a b c", "d e", "f", "g"]
    assert gold_quotes({"quotes": [], "also_quotes": {}}) == []


def test_is_relevant_ignores_case_and_line_breaks():
    passage = "Scholen hebben een\nZorgplicht   voor leerlingen die extra ondersteuning nodig hebben."
    assert is_relevant(passage, ["scholen hebben een zorgplicht"])
    assert is_relevant(passage, ["niet hier", "EXTRA ondersteuning"])
    assert not is_relevant(passage, ["zorgplicht voor ouders"])
    assert not is_relevant(passage, [])
    assert not is_relevant(passage, [""])  # an empty quote matches nothing


def test_hit_at_k():
    ranking = [F, F, T, F]
    assert [hit_at_k(ranking, k) for k in (1, 2, 3, 10)] == [0.0, 0.0, 1.0, 1.0]
    assert hit_at_k([], 10) == 0.0


def test_mrr_at_k():
    assert mrr_at_k([T, F]) == 1.0
    assert mrr_at_k([F, F, F, T]) == 0.25
    assert mrr_at_k([F] * 10 + [T]) == 0.0  # rank 11 is outside k=10
    assert mrr_at_k([F, T], k=1) == 0.0
    assert first_relevant_rank([F, F, T, T]) == 3
    assert first_relevant_rank([F]) is None


def test_ndcg_over_relevant_retrieved():
    assert ndcg_at_k([T, T, F]) == 1.0  # all relevant found are on top
    assert ndcg_at_k([F, F, F]) == 0.0
    # one relevant passage at rank 2: DCG 1/log2(3), ideal 1/log2(2) = 1
    assert ndcg_at_k([F, T, F]) == pytest.approx(1 / math.log2(3))
    # two relevant at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3))
    assert ndcg_at_k([T, F, T]) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # relevance beyond k does not count
    assert ndcg_at_k([F, T], k=1) == 0.0


def test_ndcg_with_known_number_of_relevant_passages():
    # the textbook IDCG: 3 relevant exist, 1 found at rank 1
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k([T, F, F], n_relevant=3) == pytest.approx(1 / ideal)
    assert ndcg_at_k([T, F, F], n_relevant=3) < ndcg_at_k([T, F, F])
    assert ndcg_at_k([T, T], k=2, n_relevant=5) == 1.0  # capped at k


def test_percentile_interpolates_like_numpy():
    xs = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(xs, 50) == 3.0
    assert percentile(xs, 0) == 1.0
    assert percentile(xs, 100) == 5.0
    assert percentile(xs, 95) == pytest.approx(4.8)
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_mean_skips_not_applicable_values():
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None
    assert mean([]) is None


def test_mention_coverage_is_case_insensitive():
    answer = "Scholen zetten Onderwijsassistenten in en\nintern begeleiders."
    assert mention_coverage(answer, ["onderwijsassistenten", "Intern Begeleiders"]) == 1.0
    assert mention_coverage(answer, ["onderwijsassistenten", "deskundigheidsbevordering"]) == 0.5
    assert mention_coverage(answer, []) is None


def test_abstention_scores():
    rows = [
        {"answerable": False, "abstained": True},  # correct refusal
        {"answerable": False, "abstained": False},  # answered the unanswerable
        {"answerable": True, "abstained": True},  # wrong refusal
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
    ]
    s = abstention_scores(rows)
    assert s["abstain_precision"] == 0.5
    assert s["abstain_recall"] == 0.5
    assert s["wrong_refusals"] == 0.25
    none = abstention_scores([{"answerable": True, "abstained": False}])
    assert none == {"abstain_precision": None, "abstain_recall": None, "wrong_refusals": 0.0}


def test_by_type_groups_and_skips_none():
    rows = [
        {"type": "factoid", "hit": 1.0, "cov": 0.5},
        {"type": "factoid", "hit": 0.0, "cov": None},
        {"type": "list", "hit": 1.0, "cov": 1.0},
    ]
    agg = by_type(rows, ["hit", "cov"])
    assert list(agg) == ["factoid", "list", "all"]
    assert agg["factoid"] == {"n": 2, "hit": 0.5, "cov": 0.5}
    assert agg["list"] == {"n": 1, "hit": 1.0, "cov": 1.0}
    assert agg["all"]["n"] == 3
    assert agg["all"]["hit"] == pytest.approx(2 / 3)
    assert agg["all"]["cov"] == 0.75


def test_answer_hit_needs_a_cited_sentence_that_holds_a_gold_quote():
    from eval.metrics import answer_hit

    quote = "Het OPP wordt minimaal één keer per jaar met de ouders geëvalueerd."
    assert answer_hit(["Het OPP wordt minimaal één keer per jaar met de ouders  geëvalueerd."], [quote])
    assert answer_hit(
        ["Zo is het. Het OPP wordt minimaal één keer per jaar met de ouders geëvalueerd. En meer."], [quote]
    )
    assert not answer_hit(["Het OPP wordt met de ouders besproken."], [quote])
    # a quote over two sentences that are cited together
    two = "Het aantal thuiszitters is niet gedaald. Vaak spelen er complexe problemen."
    assert answer_hit(["Het aantal thuiszitters is niet gedaald.", "Vaak spelen er complexe problemen."], [two])
    assert not answer_hit([], [quote])
