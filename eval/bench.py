"""Benchmarks: speed of the two encoders side by side, and query latency as the index grows.

    python -m eval.bench [--rounds 3] [--sizes 10000,100000] [--queries 60] [--out eval/out/bench] [--chroma-mode http]

1. Speed (:mod:`eval.speed`), torch and ONNX side by side in one run: each encoder
   alone on the corpus' passages, ingest end to end, cold ``kb search`` / ``kb ask``,
   and the first start (conversion, index, first answer). Peak memory from ``getrusage``.
2. Query: warm ``kb.api.search`` and ``kb.api.ask`` p50/p95 over gold-set questions,
   at the corpus size and at each of ``--sizes`` chunks. The index is grown
   synthetically: copies of the real chunks with other numbers and names, with the
   real embeddings slightly perturbed and re-normalised (re-encoding 100,000 chunks
   would take hours on 2 cores), written through :class:`kb.store.Store` with
   manifest entries, so the BM25 index and ``reconcile()`` see a consistent index.

Writes ``bench.json`` and ``bench.md`` to ``--out`` and prints the tables. Numbers
depend on the machine and on what else runs on it: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.gold import DEFAULT_GOLD, load_gold
from eval.metrics import percentile

NAMES = [
    "Jansen",
    "De Vries",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "De Boer",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Dijkstra",
    "Zwolle",
    "Almere",
    "Tilburg",
    "Leeuwarden",
    "Enschede",
    "Delft",
    "Venlo",
    "Emmen",
    "Helmond",
    "Oss",
]
_NUMBER = re.compile(r"\d+")
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{3,}")  # a capitalised word mid-sentence: a name or place
_NAMES_BY_LENGTH: dict[int, list[str]] = {}
for _n in NAMES:
    _NAMES_BY_LENGTH.setdefault(len(_n), []).append(_n)
NOISE = 0.01  # per dimension; cosine with the original stays around 0.98
BATCH = 5000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return float("nan")


# --- synthetic growth ----------------------------------------------------------------------


def vary(text: str, rng: random.Random) -> str:
    """The same passage with other numbers and names, of the same length (the text keeps its length)."""

    def number(m):
        digits = [rng.choice("0123456789") for _ in m.group()]
        if len(digits) > 1:
            digits[0] = rng.choice("123456789")
        return "".join(digits)

    def name(m):
        same = _NAMES_BY_LENGTH.get(len(m.group()))
        return rng.choice(same) if same else m.group()

    return _NAME.sub(name, _NUMBER.sub(number, text))


def _perturb(vec: np.ndarray, nprng: np.random.Generator) -> np.ndarray:
    v = vec + nprng.normal(0.0, NOISE, vec.shape).astype(np.float32)
    return v / np.linalg.norm(v)


def _flush(collection, rows: list[tuple], final: bool) -> list[tuple]:
    """Upsert full batches of (id, document, metadata, vector); all of them when ``final``."""
    while len(rows) >= BATCH or (final and rows):
        part, rows = rows[:BATCH], rows[BATCH:]
        collection.upsert(
            ids=[r[0] for r in part],
            documents=[r[1] for r in part],
            metadatas=[r[2] for r in part],
            embeddings=np.stack([r[3] for r in part]),
        )
    return rows


def grow(settings, embedder, target: int, seed: int = 0) -> dict:
    """Add synthetic copies of the real chunks up to ``target`` chunks."""
    from kb.store import Store

    store = Store(settings)
    col = store.collection(model=embedder.name, encoder=embedder.encoder)
    real_docs = {d: e for d, e in store.documents().items() if e.get("sha256") != "synthetic"}
    got = col.get(
        ids=[c for e in real_docs.values() for c in e["chunk_ids"]], include=["documents", "metadatas", "embeddings"]
    )
    originals = list(
        zip(got["ids"], got["documents"], got["metadatas"], np.asarray(got["embeddings"], dtype=np.float32))
    )

    rng, nprng = random.Random(seed + target), np.random.default_rng(seed + target)
    start, before = time.perf_counter(), col.count()
    copy = sum(1 for d in store.documents() if d.startswith("synth")) // max(len(real_docs), 1)
    needed, rows = target - before, []
    while needed > 0:
        copy += 1
        for cid, text, meta, vec in originals[:needed]:
            doc_id, new_id, new_text = f"synth{copy:05d}_{meta['doc_id']}", f"s{copy:05d}-{cid}", vary(text, rng)
            new_meta = {k: v for k, v in meta.items() if k != "raw"}
            new_meta.update(doc_id=doc_id, title=f"{meta['title']} (kopie {copy})")
            rows.append((new_id, new_text, new_meta, _perturb(vec, nprng)))
            entry = store.documents().setdefault(
                doc_id,
                {
                    "sha256": "synthetic",
                    "path": "",
                    "kind": "txt",
                    "pages": None,
                    "chunk_ids": [],
                    "meta": {**real_docs[meta["doc_id"]].get("meta", {}), "title": new_meta["title"]},
                },
            )
            entry["chunk_ids"].append(new_id)
        needed -= min(needed, len(originals))
        rows = _flush(col, rows, final=needed <= 0)
    store.save_manifest()  # Store has no public bulk add; the manifest is written once here
    print(
        f"  wrote {col.count() - before:,} chunks in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True
    )
    return {"added": col.count() - before, "write_s": time.perf_counter() - start}


def rebuild_lexical(settings) -> float:
    from kb.store import Store

    t0 = time.perf_counter()
    Store(settings).rebuild_lexical()
    return time.perf_counter() - t0


# --- queries --------------------------------------------------------------------------------


def bench_queries(settings, questions: list[str]) -> dict:
    """Warm p50/p95 seconds of kb.api.search and kb.api.ask over ``questions``."""
    from kb import api

    t0 = time.perf_counter()
    retriever = api.get_retriever(settings)  # loads the index (the embedder is cached)
    load_s = time.perf_counter() - t0
    for q in questions[:3]:  # warm up
        api.search(q, settings=settings)
        api.ask(q, settings=settings)
    timings: dict[str, list[float]] = {"search": [], "ask": []}
    for q in questions:
        for name, fn in (("search", api.search), ("ask", api.ask)):
            t0 = time.perf_counter()
            fn(q, settings=settings)
            timings[name].append(time.perf_counter() - t0)
    return {
        "chunks": retriever.count(),
        "load_s": load_s,
        **{f"{n}_{p}": percentile(v, int(p[1:])) for n, v in timings.items() for p in ("p50", "p95")},
        "rss_mb": rss_mb(),
    }


# --- report ---------------------------------------------------------------------------------


def markdown(result: dict) -> str:
    from eval.speed import speed_rows

    m = result["machine"]
    lines = [
        "# Benchmarks Kennisbank Passend Onderwijs",
        "",
        f"{result['created']} · {m['cpus']} cores (os.cpu_count()) · load average {m['load_before']} → {m['load_after']} · "
        f"model {result['model']} (load: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result["model_load_s"].items())
        + f") · Chroma {result.get('mode', 'embedded')}",
        "",
        "## Speed: torch and ONNX side by side (bundled corpus)",
        "",
        *speed_rows(result["speed"]),
        "",
        f"## Query latency (warm, onnx encoder, {result['queries']} gold questions; seconds)",
        "",
        "| chunks | search p50 | search p95 | ask p50 | ask p95 | index load s | grow s (write + BM25) | RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for q in result["query"]:
        g = q.get("grow")
        grow_s = f"{g['write_s']:.0f} + {g['lexical_s']:.0f}" if g else "–"
        lines.append(
            f"| {q['chunks']:,} | {q['search_p50']:.3f} | {q['search_p95']:.3f} | {q['ask_p50']:.3f} | "
            f"{q['ask_p95']:.3f} | {q['load_s']:.1f} | {grow_s} | {q['rss_mb']:.0f} |"
        )
    lines += [
        "",
        f"Peak RSS of the whole run: {result['peak_rss_mb']:.0f} MB; total {result['seconds']:.0f} s.",
        "",
        'Commands: `python -m eval.bench` (this report); cold CLI by hand: `time .venv/bin/kb search "thuiszitters"`, '
        '`time .venv/bin/kb ask "Wat is een OPP?"` (`KB_ENCODER=torch` for the torch encoder, with an index built by it).',
        "",
    ]
    return "\n".join(lines)


def run(
    sizes: list[int],
    n_queries: int,
    out: Path,
    gold: Path = DEFAULT_GOLD,
    rounds: int = 3,
    cli_runs: int = 3,
    first: bool = True,
    mode: str = "embedded",
) -> dict:
    from dataclasses import replace

    from eval.speed import run_speed
    from kb.config import Settings
    from kb.embedding import load_embedder

    started = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    questions = [i["question"] for i in load_gold(gold) if not i.get("context_question")][:n_queries]
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        base = Settings.from_env(home=Path(tmp) / "onnx")
        embedders, model_load_s = {}, {}
        for name in ("torch", "onnx"):
            t0 = time.perf_counter()
            embedders[name] = load_embedder(replace(base, encoder=name))
            model_load_s[name] = time.perf_counter() - t0
        speed = run_speed(base, embedders, Path(tmp), rounds, cli_runs, first)
        settings, embedder = replace(base, encoder="onnx"), embedders["onnx"]  # the index speed left in tmp/onnx
        if mode == "http":  # the query figures from a scratch collection in the server, deleted afterwards
            from kb.indexer import ingest as run_ingest

            settings = replace(settings, chroma_mode="http", collection=f"bench{os.getpid()}")
            run_ingest(settings=settings, embedder=embedder)
        query = [bench_queries(settings, questions)]
        for size in sorted(s for s in sizes if s > speed["ingest"]["onnx"]["chunks"]):
            print(f"grow to {size:,} chunks…", file=sys.stderr, flush=True)
            grown = grow(settings, embedder, size)
            grown["lexical_s"] = rebuild_lexical(settings)
            query.append({**bench_queries(settings, questions), "grow": grown})
        from kb import api

        api.forget_retrievers()
        if settings.server:
            from kb import remote

            for generation in remote.generations(settings):
                remote.drop_generation(settings, generation)
    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
        "model": embedder.name,
        "mode": mode,
        "model_load_s": model_load_s,
        "queries": len(questions),
        "speed": speed,
        "query": query,
        "peak_rss_mb": peak_rss_mb(),
        "seconds": time.perf_counter() - started,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (out / "bench.md").write_text(markdown(result), encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="index sizes (chunks) beyond the corpus, comma-separated"
    )
    parser.add_argument("--queries", type=int, default=60, help="gold-set questions timed per size")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each encoder (encode, ingest)")
    parser.add_argument("--cli-runs", type=int, default=3, help="cold kb search / kb ask runs per encoder")
    parser.add_argument("--no-first-start", action="store_true", help="skip the first start (empty model cache)")
    parser.add_argument("--out", type=Path, default=Path("eval/out/bench"), help="folder for bench.json and bench.md")
    parser.add_argument(
        "--chroma-mode",
        choices=["embedded", "http"],
        default="embedded",
        help="http: a scratch collection in the Chroma server of KB_CHROMA_HOST/KB_CHROMA_PORT",
    )
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    result = run(
        sizes,
        args.queries,
        args.out,
        rounds=args.rounds,
        cli_runs=args.cli_runs,
        first=not args.no_first_start,
        mode=args.chroma_mode,
    )
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
