"""Speed side by side, in one run: the torch and the ONNX encoder on the same passages.

- encoders: ``embed_passages`` on the corpus' passages, the two encoders taking turns
  (``rounds`` times, the order alternating), so that what else runs on the machine hits
  both alike; rate = passages / median seconds;
- ingest end to end: the corpus into a fresh ``KB_HOME`` per encoder (load, clean, chunk,
  embed, write Chroma, BM25 and the read index), taking turns as well, against the
  same encoder's own rate;
- cold CLI: ``kb search`` and ``kb ask`` as new processes (after one warm-up run, so the
  OS file cache is warm and the process cold), wall and CPU seconds;
- first start: ``kb ingest`` with an empty model cache and an empty ``KB_HOME`` (the
  one-time conversion, then the index), then the first ``kb ask``: what ``make run``
  does after the install, before the app answers.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEARCH = ["search", "thuiszitters"]
ASK = ["ask", "Wat is een OPP?"]


def corpus_texts(settings) -> list[str]:
    from kb.index.indexer import IngestReport, discover, prepare

    return [c.embed_text for f in discover([settings.corpus_dir], IngestReport()) for c in prepare(f, settings)[1]]


def bench_encoders(embedders: dict, texts: list[str], rounds: int) -> dict:
    """Each encoder's passages/s on ``texts``, taking turns; plus their cosines."""
    for e in embedders.values():
        e.embed_passages(["opwarmen"] * 8)  # the first call is slow; keep it out of the timings
    seconds: dict[str, list[float]] = {name: [] for name in embedders}
    vectors: dict[str, np.ndarray] = {}
    names = list(embedders)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            vectors[name] = embedders[name].embed_passages(texts)
            seconds[name].append(time.perf_counter() - t0)
    out: dict = {name: {"seconds": s, "rate": len(texts) / statistics.median(s)} for name, s in seconds.items()}
    if "torch" in vectors and "onnx" in vectors:
        cos = np.sum(vectors["torch"] * vectors["onnx"], axis=1)
        out["cosine"] = {"min": float(cos.min()), "mean": float(cos.mean())}
    out["passages"] = len(texts)
    return out


def bench_ingest(settings, embedders: dict, homes: dict[str, Path], rounds: int) -> dict:
    """Ingest the corpus end to end into a fresh home per encoder and round, taking turns
    (a new folder each time: Chroma keeps a client per path for the whole process); the
    last round's index of each encoder stays in ``homes[name]``."""
    from dataclasses import replace

    from kb.index.indexer import IngestReport, discover, ingest

    # the first ingest of a process imports Chroma and opens its bindings: keep it out of the timings
    smallest = min(discover([settings.corpus_dir], IngestReport()), key=lambda p: p.stat().st_size)
    scratch = homes[next(iter(embedders))].with_name("warm-up")
    ingest([smallest], settings=replace(settings, home=scratch), embedder=next(iter(embedders.values())))
    seconds: dict[str, list[float]] = {name: [] for name in embedders}
    chunks = 0
    names = list(embedders)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            home = homes[name] if r == rounds - 1 else homes[name].with_name(f"{homes[name].name}-{r}")
            run_settings = replace(settings, home=home, encoder=name)
            t0 = time.perf_counter()
            report = ingest(settings=run_settings, embedder=embedders[name])
            seconds[name].append(time.perf_counter() - t0)
            if not report.ok:
                raise RuntimeError(f"ingest failed: {report.failed}")
            chunks = report.total_chunks
    return {
        name: {"seconds": s, "rate": chunks / statistics.median(s), "chunks": chunks} for name, s in seconds.items()
    }


def _kb_command() -> list[str]:
    script = Path(sys.executable).with_name("kb")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kb.cli"]


def _timed(args: list[str], env: dict) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(_kb_command() + args, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"kb {' '.join(args)} failed: {done.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _env(**values) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({f"KB_{k.upper()}": str(v) for k, v in values.items()})
    return env


def cold_cli(home: Path, model_cache: Path, encoder: str, runs: int) -> dict:
    """Median wall and CPU seconds of ``kb search`` and ``kb ask`` as fresh processes."""
    env = _env(home=home, model_cache=model_cache, encoder=encoder)
    out = {}
    for name, args in (("search", SEARCH), ("ask", ASK)):
        _timed(args, env)  # warm-up: the files are in the OS cache afterwards
        timings = [_timed(args, env) for _ in range(runs)]
        out[name] = {
            "wall": statistics.median(t[0] for t in timings),
            "cpu": statistics.median(t[1] for t in timings),
            "walls": [round(t[0], 2) for t in timings],
        }
    return out


def first_start(corpus_dir: Path) -> dict:
    """``kb ingest`` from nothing (empty model cache and home), then the first ``kb ask``."""
    with tempfile.TemporaryDirectory(prefix="kb-first-") as tmp:
        env = _env(home=Path(tmp) / "home", model_cache=Path(tmp) / "models", corpus=corpus_dir)
        ingest_s, _ = _timed(["ingest"], env)
        ask_s, _ = _timed(ASK, env)
    return {"ingest_s": ingest_s, "first_answer_s": ask_s, "total_s": ingest_s + ask_s}


def speed_rows(speed: dict) -> list[str]:
    """The side-by-side table of :func:`run_speed`'s result, as Markdown lines."""
    enc, ing, cli = speed["encoders"], speed["ingest"], speed["cli"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×" if b else "–"

    rows = [
        "| | torch (KB_ENCODER=torch) | onnx int8 (default) | onnx / torch |",
        "|---|---|---|---|",
        f"| encoder alone, passages/s | {enc['torch']['rate']:.1f} | {enc['onnx']['rate']:.1f} | "
        f"{ratio(enc['onnx']['rate'], enc['torch']['rate'])} |",
        f"| ingest end to end, passages/s | {ing['torch']['rate']:.1f} | {ing['onnx']['rate']:.1f} | "
        f"{ratio(ing['onnx']['rate'], ing['torch']['rate'])} |",
        f"| end to end / encoder alone | {ing['torch']['rate'] / enc['torch']['rate']:.2f} | "
        f"{ing['onnx']['rate'] / enc['onnx']['rate']:.2f} | |",
    ]
    for name in ("search", "ask"):
        t, o = cli["torch"][name], cli["onnx"][name]
        rows.append(
            f"| cold `kb {name}`, s wall (CPU) | {t['wall']:.2f} ({t['cpu']:.2f}) | {o['wall']:.2f} ({o['cpu']:.2f}) | "
            f"{ratio(o['wall'], t['wall'])} |"
        )
    first = speed.get("first_start")
    if first:
        rows.append(
            f"| first start after install (convert + `kb ingest` + first `kb ask`), s | | "
            f"{first['total_s']:.0f} ({first['ingest_s']:.0f} + {first['first_answer_s']:.1f}) | |"
        )
    cos = enc.get("cosine")
    notes = [
        "",
        f"{enc['passages']} passages of the corpus; {len(enc['onnx']['seconds'])} rounds taking turns "
        "(rates: the median round); "
        f"cosine onnx vs torch: min {cos['min']:.4f}, mean {cos['mean']:.4f}."
        if cos
        else "",
        "",
        spread_note(speed),
    ]
    return rows + notes


NOISY = 0.10  # rounds further apart than this (slowest vs fastest) make a ratio unreliable


def spread_note(speed: dict) -> str:
    """The slowest and fastest round of each timing, and a warning when they are far apart
    (other work on the machine: run the benchmark again when it is idle)."""
    parts, noisy = [], []
    for step, label in (("encoders", "encoder alone"), ("ingest", "ingest")):
        for name in ("torch", "onnx"):
            seconds = speed[step][name]["seconds"]
            lo, hi = min(seconds), max(seconds)
            parts.append(f"{label} {name} {lo:.1f}–{hi:.1f}")
            if lo and hi / lo - 1 > NOISY:
                noisy.append(f"{label} {name}")
    note = "Spread of the rounds, s (fastest–slowest): " + "; ".join(parts) + "."
    if noisy:
        note += (
            f" **Noisy** ({', '.join(noisy)}: rounds more than {NOISY:.0%} apart): the machine was busy;"
            " run the benchmark again on an idle machine before comparing ratios."
        )
    return note


def run_speed(settings, embedders: dict, work: Path, rounds: int, cli_runs: int, first: bool) -> dict:
    """All speed figures; the onnx index of the ingest step is left in ``work / 'onnx'``."""
    texts = corpus_texts(settings)
    print("encoders…", file=sys.stderr, flush=True)
    encoders = bench_encoders(embedders, texts, rounds)
    print("ingest…", file=sys.stderr, flush=True)
    homes = {name: work / name for name in embedders}
    ingest = bench_ingest(settings, embedders, homes, rounds)
    print("cold CLI…", file=sys.stderr, flush=True)
    cli = {name: cold_cli(homes[name], settings.model_cache, name, cli_runs) for name in embedders}
    result = {"encoders": encoders, "ingest": ingest, "cli": cli}
    if first:
        print("first start (empty model cache and index)…", file=sys.stderr, flush=True)
        result["first_start"] = first_start(settings.corpus_dir)
    return result
