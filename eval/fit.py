"""``python -m eval.fit``: fit the answer models on the training set, choose their limits on the dev split.

Three splits (see :mod:`eval.trainset`): the sentence and passage rankers are fitted on
the **train** set (``eval/train/*.jsonl``, written for training); the answer limits are
chosen, and the abstention model is fitted (cross-validated, its threshold read from the
held-out folds), on the **dev** split (the tune split of ``eval/gold.jsonl``); the
**test** split is only reported, by ``kb eval``. ``--no-train`` fits on the dev split alone, as before the
training set existed.

Three logistic regressions over named features (scikit-learn, standardised inputs),
written to ``kb/models/*.json`` with their figures:

1. ``sentence_ranker``: does this sentence answer the question? A sentence is a
   positive example when it holds a gold quote (or is most of one). Its ``params`` are
   the answer limits (how many sentences, from which probability), chosen on the tune
   split for answer hit and must_mention coverage.
2. ``passage_ranker``: re-orders the retrieved pool by the fused rank and by how well
   each passage's sentences answer; positive when the passage holds a gold quote.
3. ``abstention``: is the question *not* answered by the sources? Positive for the
   unanswerable items. Its threshold is the highest abstention recall at which the
   wrong refusals stay within ``--max-wrong-refusals``, read from cross-validated
   probabilities on the tune split (5 folds, grouped by item), not from the fit itself.

Follow-ups need the system's own answer to their context question (a sentence of it
should not be repeated), so the fit runs twice: the second round builds those answers
with the models of the first. Only the tune split is read for fitting; the test split
is scored once at the end, for the report.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass

import numpy as np

from eval.gold import DEFAULT_GOLD, load_gold
from eval.metrics import answer_hit, gold_quotes, is_relevant, mention_coverage, normalise
from eval.split import select
from kb.answer.abstain import EVIDENCE_FEATURES
from kb.answer.features import PASSAGE_FEATURES, SENTENCE_FEATURES
from kb.models import MODELS_DIR, LinearModel, load_model

FOLDS = 5


@dataclass
class Case:
    """One gold item as the pipeline saw it (features without the fitted models)."""

    item: dict
    gathered: object  # kb.answer.answering.Gathered
    labels: np.ndarray  # per candidate: holds a gold quote
    passage_labels: np.ndarray  # per hit: holds a gold quote


def sentence_label(text: str, quotes: list[str]) -> bool:
    s = normalise(text)
    return any(q and (q in s or (s in q and len(s) >= 0.5 * len(q))) for q in map(normalise, quotes))


def history_for(item: dict, context_answers: dict[str, str]) -> list[dict] | None:
    """The conversation before a follow-up: its first question and the answer to it (a training
    item's own ``context_quotes``, else the system's answer from the previous round)."""
    ctx = item.get("context_question")
    if not ctx:
        return None
    answer = " ".join(item.get("context_quotes") or []) or context_answers.get(ctx, "")
    return [{"role": "user", "content": ctx}, {"role": "assistant", "content": answer}]


def collect(items: list[dict], retriever, context_answers: dict[str, str], models: bool = False) -> list[Case]:
    from tqdm import tqdm

    from kb.answer.answering import gather
    from kb.answer.question import analyse

    cases = []
    for item in tqdm(items, desc="kenmerken", unit=" vraag", file=sys.stderr):
        q = analyse(item["question"], history_for(item, context_answers))
        g = gather(retriever, q, models=models)
        quotes = gold_quotes(item)
        labels = np.array([sentence_label(c.text, quotes) for c in g.candidates], dtype=bool)
        plabels = np.array([is_relevant(h.text, quotes) for h in g.hits], dtype=bool)
        cases.append(Case(item, g, labels, plabels))
    return cases


def _fit_lr(X: np.ndarray, y: np.ndarray, C: float = 1.0, balanced: bool = False):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    lr = LogisticRegression(C=C, max_iter=2000, class_weight="balanced" if balanced else None)
    lr.fit((X - scaler.mean_) / scale, y)
    return scaler.mean_, scale, lr.coef_[0], float(lr.intercept_[0])


def fit_linear(
    name: str, features: tuple[str, ...], X: np.ndarray, y: np.ndarray, C: float = 1.0, balanced: bool = False
) -> LinearModel:
    mean, scale, coef, intercept = _fit_lr(X, y, C, balanced)
    return LinearModel(name, features, mean, scale, coef, intercept)


def folds_of(n: int) -> list[np.ndarray]:
    return [np.arange(n)[np.arange(n) % FOLDS == f] for f in range(FOLDS)]


# --- 1. sentences --------------------------------------------------------------------------------


def sentence_rows(cases: list[Case]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y, group = [], [], []
    for k, case in enumerate(cases):
        for c, lab in zip(case.gathered.candidates, case.labels):
            X.append([c.features[f] for f in SENTENCE_FEATURES])
            y.append(lab)
            group.append(k)
    return np.array(X, dtype=np.float64), np.array(y, dtype=bool), np.array(group)


def top1_accuracy(model: LinearModel, cases: list[Case]) -> float | None:
    """Share of items (with a positive candidate) whose best-scored sentence holds a gold quote."""
    hits = []
    for case in cases:
        if not case.labels.any():
            continue
        X = np.array([[c.features[f] for f in model.features] for c in case.gathered.candidates])
        hits.append(bool(case.labels[int(np.argmax(model.logit(X)))]))
    return float(np.mean(hits)) if hits else None


def fit_sentences(cases: list[Case], C: float) -> tuple[LinearModel, dict]:
    answerable = [c for c in cases if c.item["type"] != "unanswerable"]
    X, y, group = sentence_rows(answerable)
    cv = []
    for test in folds_of(len(answerable)):
        train = ~np.isin(group, test)
        m = fit_linear("sentence_ranker", SENTENCE_FEATURES, X[train], y[train], C)
        cv.append(top1_accuracy(m, [answerable[i] for i in test]))
    model = fit_linear("sentence_ranker", SENTENCE_FEATURES, X, y, C)
    baseline = LinearModel("coverage", ("cov_query", "rank_prior"), np.zeros(2), np.ones(2), np.array([1.0, 0.2]), 0.0)
    return model, {
        "top1_cv": round(float(np.mean([v for v in cv if v is not None])), 4),
        "top1_coverage_baseline": round(top1_accuracy(baseline, answerable) or 0.0, 4),
        "candidates": len(y),
        "positives": int(y.sum()),
    }


def score_candidates(model: LinearModel, cases: list[Case]) -> None:
    for case in cases:
        cands = case.gathered.candidates
        if cands:
            probs = model.probability(np.array([[c.features[f] for f in model.features] for c in cands]))
            for c, p in zip(cands, probs):
                c.score = float(p)


# --- 2. passages ---------------------------------------------------------------------------------


def passage_features_of(case: Case) -> np.ndarray:
    from kb.answer.features import passage_features
    from kb.retrieval.retrieve import RRF_K

    g = case.gathered
    return np.array([[f[n] for n in PASSAGE_FEATURES] for f in passage_features(g.hits, g.candidates, RRF_K)])


def hit_at5(model: LinearModel | None, cases: list[Case]) -> float:
    out = []
    for case in cases:
        labels = case.passage_labels
        if model is not None and len(labels):
            order = np.argsort(-model.logit(passage_features_of(case)), kind="stable")
            labels = labels[order]
        out.append(bool(labels[:5].any()))
    return float(np.mean(out)) if out else 0.0


def fit_passages(cases: list[Case], C: float) -> tuple[LinearModel, dict]:
    answerable = [c for c in cases if c.item["type"] != "unanswerable" and len(c.passage_labels)]
    X = np.vstack([passage_features_of(c) for c in answerable])
    y = np.concatenate([c.passage_labels for c in answerable])
    group = np.concatenate([[k] * len(c.passage_labels) for k, c in enumerate(answerable)])
    cv = []
    for test in folds_of(len(answerable)):
        m = fit_linear("passage_ranker", PASSAGE_FEATURES, X[~np.isin(group, test)], y[~np.isin(group, test)], C)
        cv.append((hit_at5(m, [answerable[i] for i in test]), len(test)))
    model = fit_linear("passage_ranker", PASSAGE_FEATURES, X, y, C)
    cv_hit5 = sum(h * n for h, n in cv) / sum(n for _, n in cv)
    return model, {"hit@5_fused": round(hit_at5(None, answerable), 4), "hit@5_reranked_cv": round(cv_hit5, 4)}


def rerank(model: LinearModel, cases: list[Case]) -> None:
    """Re-order each case's hits (and candidate indexes) as the runtime does."""
    for case in cases:
        g = case.gathered
        if not g.hits:
            continue
        order = list(np.argsort(-model.logit(passage_features_of(case)), kind="stable"))
        new = {old: k for k, old in enumerate(order)}
        for c in g.candidates:
            c.hit_index = new[c.hit_index]
        g.hits = [g.hits[i] for i in order]
        case.passage_labels = case.passage_labels[order]


# --- answer limits --------------------------------------------------------------------------------


def answer_figures(cases: list[Case], limits) -> tuple[float, float, float, float]:
    """(answer hit, lead hit, must_mention coverage, mean excerpts) of the extractive answers;
    the lead hit asks the first excerpt to hold a gold quote (what a reader sees first)."""
    from kb.answer import compose

    hits, leads, cover, sizes = [], [], [], []
    for case in cases:
        if case.item["type"] == "unanswerable":
            continue
        runs = compose.excerpts(case.gathered.question, case.gathered.candidates, limits)
        citations, lines = compose.cite_excerpts(case.gathered.hits, runs)
        quotes = gold_quotes(case.item)
        hits.append(any(answer_hit(c.quotes, quotes) for c in citations))
        leads.append(bool(runs) and answer_hit([c.text for c in runs[0]], quotes))
        cover.append(mention_coverage(compose.answer_text(lines), case.item.get("must_mention") or []) or 0.0)
        sizes.append(len(runs))
    return float(np.mean(hits)), float(np.mean(leads)), float(np.mean(cover)), float(np.mean(sizes))


def tune_limits(cases: list[Case]) -> tuple[dict, dict]:
    """The limits with the best answer: the gold sentence in the first excerpt, then anywhere,
    then must_mention coverage (ties: fewer excerpts)."""
    import itertools

    from kb.answer.compose import Limits

    best = None
    for n, add_min, ratio, type_lead, other, follow in itertools.product(
        (3, 5), (0.05, 0.15, 0.3), (0.2, 0.35, 0.5), (0.3, 0.6, 1.01), (0.4, 0.6, 0.8), (0.15, 0.3, 0.6)
    ):
        limits = Limits(
            max_sentences=n,
            add_min=add_min,
            add_ratio=ratio,
            type_lead=type_lead,
            other_ratio=other,
            follow_ratio=follow,
        )
        hit, lead, cover, size = answer_figures(cases, limits)
        key = (round(lead + 0.5 * hit + 0.25 * cover, 3), -size)
        if best is None or key > best[0]:
            best = (key, limits, hit, lead, cover, size)
    _, limits, hit, lead, cover, size = best
    params = dataclasses.asdict(limits)
    figures = {"answer_hit": round(hit, 4), "lead_hit": round(lead, 4), "mention_coverage": round(cover, 4)}
    return params, {**figures, "excerpts": round(size, 2)}


# --- 3. abstention -------------------------------------------------------------------------------


def evidence_rows(cases: list[Case], lexical) -> tuple[np.ndarray, np.ndarray]:
    """The evidence features (with the fitted rankers' scores) and labels (unanswerable)."""
    from kb.answer.abstain import gather_evidence

    X, y = [], []
    for case in cases:
        g = case.gathered
        g.evidence = gather_evidence(g.question, g.hits, g.candidates, lexical, list(g.asked.terms))
        X.append(g.evidence.vector())
        y.append(case.item["type"] == "unanswerable")
    return np.array(X), np.array(y, dtype=bool)


def choose_threshold(p: np.ndarray, y: np.ndarray, max_wrong: float) -> tuple[float, float, float]:
    """(threshold, recall, wrong refusals): the best recall with wrong refusals ≤ max_wrong."""
    best = (1.0, 0.0, 0.0)
    for t in np.unique(np.round(p, 4)):
        recall = float((p[y] >= t).mean()) if y.any() else 0.0
        wrong = float((p[~y] >= t).mean()) if (~y).any() else 0.0
        if wrong <= max_wrong and (recall > best[1] or (recall == best[1] and t > best[0])):
            best = (float(t), recall, wrong)
    return best


def fit_abstention(X: np.ndarray, y: np.ndarray, C: float, max_wrong: float) -> tuple[LinearModel, dict]:
    p_cv = np.zeros(len(y))
    for test in folds_of(len(y)):
        train = ~np.isin(np.arange(len(y)), test)
        m = fit_linear("abstention", EVIDENCE_FEATURES, X[train], y[train], C, balanced=True)
        p_cv[test] = m.probability(X[test])
    threshold, recall, wrong = choose_threshold(p_cv, y, max_wrong)
    curve = {f"recall_at_wrong_{w}": round(choose_threshold(p_cv, y, w)[1], 3) for w in (0.03, 0.05, 0.1, 0.15, 0.2)}
    model = fit_linear("abstention", EVIDENCE_FEATURES, X, y, C, balanced=True)
    model = LinearModel(
        model.name,
        model.features,
        model.mean,
        model.scale,
        model.coef,
        model.intercept,
        threshold,
        {"partial_min": 0.35},
    )
    return model, {
        "threshold": round(threshold, 4),
        "abstain_recall_cv": round(recall, 4),
        "wrong_refusals_cv": round(wrong, 4),
        "unanswerable": int(y.sum()),
        "answerable": int((~y).sum()),
        **curve,
    }


# --- the whole fit -------------------------------------------------------------------------------


def fit(
    items: list[dict],
    retriever,
    C: float,
    max_wrong: float,
    context_answers: dict[str, str],
    dev: list[dict] | None = None,
    train_cases: list[Case] | None = None,
) -> dict:
    """Fit on ``items`` (or their ``train_cases``, already collected); with ``dev``, the limits and
    the abstention threshold are chosen on the dev items, else on ``items`` (cross-validated)."""
    cases = train_cases if train_cases is not None else collect(items, retriever, context_answers)
    dev_cases = collect(dev, retriever, context_answers) if dev else None
    ranker, rank_fig = fit_sentences(cases, C)
    for group in (cases, dev_cases or []):
        score_candidates(ranker, group)
    passages, pass_fig = fit_passages(cases, C)
    for group in (cases, dev_cases or []):
        rerank(passages, group)
    if dev_cases:
        rank_fig["top1_dev"] = round(top1_accuracy(ranker, dev_cases) or 0.0, 4)
        pass_fig["hit@5_dev"] = round(hit_at5(None, [c for c in dev_cases if c.item["type"] != "unanswerable"]), 4)
    params, limit_fig = tune_limits(dev_cases or cases)
    ranker = LinearModel(
        ranker.name, ranker.features, ranker.mean, ranker.scale, ranker.coef, ranker.intercept, 0.5, params
    )
    if dev_cases:
        # the abstention model learns from the dev items, cross-validated: the encoder was trained on
        # the training questions, so their evidence looks more answerable than a new question's would
        # (fitted on them, it refused 0.10 of the test split's answerable questions at 0.05 on dev)
        X, y = evidence_rows(dev_cases, retriever.lexical)
    else:
        X, y = evidence_rows(cases, retriever.lexical)
    judge, abst_fig = fit_abstention(X, y, C, max_wrong)
    return {
        "sentence_ranker": (ranker, {**rank_fig, **limit_fig}),
        "passage_ranker": (passages, pass_fig),
        "abstention": (judge, abst_fig),
    }


def context_answers_for(items: list[dict], retriever) -> dict[str, str]:
    """The system's own answers to the context questions of the follow-ups (current models)."""
    from kb.answer.answering import answer_question

    load_model.cache_clear()
    out = {}
    for item in items:
        ctx = item.get("context_question")
        if ctx and ctx not in out:
            out[ctx] = answer_question(retriever, ctx).answer
    return out


def write(models: dict, meta: dict) -> None:
    for name, (model, figures) in models.items():
        path = MODELS_DIR / f"{name}.json"
        extra = {"fitted_on": meta, "figures": figures, "weights": model.weights()}
        path.write_text(json.dumps(model.to_json(extra), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    load_model.cache_clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default=str(DEFAULT_GOLD))
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--max-wrong-refusals", type=float, default=0.02)
    parser.add_argument("--no-train", action="store_true", help="fit on the dev split alone (no training set)")
    parser.add_argument("--holdout-doc", default=None, help="leave this document's training questions out (LODO)")
    args = parser.parse_args(argv)

    from kb.api import get_retriever
    from kb.index.indexer import ingest

    t0 = time.perf_counter()
    report = ingest()
    if not report.ok:
        print(f"ingest mislukt: {report.failed}", file=sys.stderr)
        return 1
    retriever = get_retriever()
    dev = select(load_gold(args.gold), "tune")
    if args.no_train:
        items, dev_items = dev, None
    else:
        from eval.trainset import as_gold, load_train

        items = [as_gold(i) for i in load_train() if not args.holdout_doc or i.get("doc") != args.holdout_doc]
        if args.holdout_doc:  # its near-misses too: those near a held-out document are not known
            items = [i for i in items if i.get("doc") or i.get("partial_doc") != args.holdout_doc]
        dev_items = dev
    meta = {
        "train": "eval/gold.jsonl tune split" if args.no_train else "eval/train/*.jsonl",
        "dev": None if args.no_train else "eval/gold.jsonl tune split",
        "items": len(items),
        "unanswerable": sum(i["type"] == "unanswerable" for i in items),
        "holdout_doc": args.holdout_doc,
        "C": args.C,
        "max_wrong_refusals": args.max_wrong_refusals,
    }
    context: dict[str, str] = {}
    train_cases = None
    for round_ in (1, 2):
        print(f"Ronde {round_}: passen op {len(items)} vragen…", file=sys.stderr)
        if dev_items is not None and round_ == 1:
            train_cases = collect(items, retriever, context)  # their follow-ups carry their own context
        models = fit(items, retriever, args.C, args.max_wrong_refusals, context, dev_items, train_cases)
        write(models, meta)
        context = context_answers_for(dev_items or items, retriever)
    for name, (model, figures) in models.items():
        print(f"{name}: {json.dumps(figures)}")
        print(f"  weights: {json.dumps(model.weights())}")
    print(f"{time.perf_counter() - t0:.0f} s; the test split: kb eval (reports tune and test side by side)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
