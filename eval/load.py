"""Load test of the Python API: N concurrent users on loopback, answers compared with one user.

    python -m eval.load [--users 20] [--questions 10] [--out eval/out/load.json]

Every user (a thread) asks the same ``--questions`` gold questions in its own order
through ``kb.api.ask``; the answers must be identical to those of a single user, and
no call may fail. Prints p50/p95 per question for 1 and N users, the wall time and the
peak memory (``getrusage``). Uses the index under ``KB_HOME`` (built if missing).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval.gold import DEFAULT_GOLD, load_gold
from eval.metrics import percentile


@dataclass
class LoadResult:
    users: int
    questions: int
    single_p50: float
    single_p95: float
    p50: float
    p95: float
    wall: float
    errors: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)  # questions whose answer differed from one user's
    peak_rss_mb: float = 0.0


def run(users: int = 20, n_questions: int = 10, settings=None) -> LoadResult:
    from kb import api

    def same(answer) -> str:  # what a user reads and is cited; not the time it took
        d = answer.to_dict()
        d.pop("seconds", None)
        return json.dumps(d, sort_keys=True)

    questions = [item["question"] for item in load_gold(DEFAULT_GOLD) if not item.get("context_question")][:n_questions]
    if not api.index_exists(settings):
        api.ingest(settings=settings)
    api.ask(questions[0], settings=settings)  # warm: model and index loaded once

    single: dict[str, str] = {}
    single_times = []
    for q in questions:
        start = time.perf_counter()
        single[q] = same(api.ask(q, settings=settings))
        single_times.append(time.perf_counter() - start)

    times: list[float] = []
    errors: list[str] = []
    differing: set[str] = set()

    def user(seed: int) -> None:
        order = questions[:]
        random.Random(seed).shuffle(order)
        for q in order:
            start = time.perf_counter()
            try:
                got = same(api.ask(q, settings=settings))
            except Exception as e:  # counted, never raised: the figure is the number of failures
                errors.append(f"{q}: {type(e).__name__}: {e}")
                continue
            times.append(time.perf_counter() - start)
            if got != single[q]:
                differing.add(q)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(user, range(users)))
    wall = time.perf_counter() - start
    return LoadResult(
        users=users,
        questions=len(questions),
        single_p50=percentile(single_times, 50),
        single_p95=percentile(single_times, 95),
        p50=percentile(times, 50),
        p95=percentile(times, 95),
        wall=wall,
        errors=errors,
        differing=sorted(differing),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("eval/out/load.json"))
    args = parser.parse_args(argv)
    result = run(args.users, args.questions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asdict(result), indent=1, ensure_ascii=False), encoding="utf-8")
    print(
        f"1 user: p50 {result.single_p50:.3f} s, p95 {result.single_p95:.3f} s | {result.users} users: "
        f"p50 {result.p50:.3f} s, p95 {result.p95:.3f} s, wall {result.wall:.1f} s for "
        f"{result.users * result.questions} questions | errors {len(result.errors)}, differing answers "
        f"{len(result.differing)} | peak memory {result.peak_rss_mb:.0f} MB"
    )
    return 1 if result.errors or result.differing else 0


if __name__ == "__main__":
    sys.exit(main())
