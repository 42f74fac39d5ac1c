"""Benchmarks: speed of the two encoders side by side, and query latency as the index grows.

    python -m eval.bench [--rounds 3] [--sizes 10000,100000] [--queries 60] [--out eval/out/bench] [--chroma-mode http]

1. Speed (:mod:`eval.speed`), torch and ONNX side by side in one run: each encoder
   alone on the corpus' passages, ingest end to end, cold ``kb search`` / ``kb ask``,
   and the first start (conversion, index, first answer). Peak memory from ``getrusage``.
2. Query: at the corpus size and at each of ``--sizes`` chunks, the index grown
   synthetically and an app process measured as :mod:`eval.scale` does (a fresh
   process: its start, warm ``search`` and ``ask`` p50/p95 over gold-set questions, its
   memory). ``python -m eval.scale`` runs this part alone, up to a million passages.

Writes ``bench.json`` and ``bench.md`` to ``--out`` and prints the tables. Numbers
depend on the machine and on what else runs on it: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from eval.gold import DEFAULT_GOLD, load_gold
from eval.scale import HEADER, grow, markdown_row, measure, rebuild


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


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
        f"## Query latency in an app process (warm, onnx encoder, {result['queries']} gold questions; seconds)",
        "",
        *HEADER,
        *(markdown_row(q) for q in result["query"]),
        "",
        "As `python -m eval.scale` measures it (see there): a fresh process per size.",
        "",
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
    from kb.encoder.embedding import load_embedder

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
        settings = replace(settings, chroma_timeout=120.0)
        t0 = time.perf_counter()
        if mode == "http":  # the query figures from a scratch collection in the server, deleted afterwards
            from kb.index.indexer import ingest as run_ingest

            settings = replace(settings, chroma_mode="http", collection=f"bench{os.getpid()}")
            run_ingest(settings=settings, embedder=embedder)
        query = [{**measure(settings, questions), "write": {"ingest_s": time.perf_counter() - t0}}]
        for size in sorted(s for s in sizes if s > speed["ingest"]["onnx"]["chunks"]):
            grown = grow(settings, embedder, size)
            grown["rebuild_s"] = rebuild(settings)
            query.append({**measure(settings, questions), "write": grown})
        if settings.server:
            from kb.index import remote

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
