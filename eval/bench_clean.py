"""Benchmark: reading, cleaning and chunking one big file, at 1, 10 and 50 MB.

    python -m eval.bench_clean [--sizes 1,10,50] [--out eval/out/bench]

Two kinds of file, each written to a scratch folder and prepared with
:func:`kb.index.indexer.prepare` (load, clean, describe, chunk: all of ingest but the
embedding) in a fresh process, so that the peak memory is that of one file:

- ``rapporten``: the bundled corpus pasted again and again, each copy with its own
  numbers and names (so that the copies are near-duplicates, not exact repeats);
- ``herhaald``: one paragraph pasted over and over (boilerplate, a broken export).

The time should grow linearly with the size. Writes ``clean.json`` and ``clean.md``.
Embedding the chunks comes on top: see ``python -m eval.bench`` for the encoder's rate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from dataclasses import replace
from kb.config import Settings
from kb.index.indexer import prepare
settings = replace(Settings.from_env(), max_file_mb=1e6)
start = time.perf_counter()
blocks, chunks, _ = prepare(sys.argv[1], settings)
print(json.dumps({"seconds": time.perf_counter() - start, "blocks": len(blocks), "chunks": len(chunks),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_file(kind: str, mb: float, folder: Path) -> Path:
    """A .txt of about ``mb`` MB of the given kind."""
    target = int(mb * 1_000_000)
    path = folder / f"{kind}-{mb:g}mb.txt"
    if kind == "herhaald":
        path.write_text(
            "# Plan\n\n" + "De leerling krijgt extra ondersteuning op school.\n\n" * (target // 52), encoding="utf-8"
        )
        return path
    corpus = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(Path("corpus").glob("*.txt")))
    parts, size, copy = [], 0, 0
    while size < target:
        copy += 1
        # another number in every number, another year: near-duplicates, as in a series of reports
        text = re.sub(r"\d+", lambda m, c=copy: str(int(m.group()) + c), corpus)
        text = text.replace("passend onderwijs", f"passend onderwijs (regio {copy})")
        parts.append(text)
        size += len(text.encode("utf-8"))
    path.write_text("\n\n".join(parts)[:target], encoding="utf-8")
    return path


def measure(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{path.name}: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_clean", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,50", help="file sizes in MB, comma-separated")
    parser.add_argument("--kinds", default="rapporten,herhaald", help="kinds of file (rapporten, herhaald)")
    parser.add_argument("--out", type=Path, default=Path("eval/out/bench"), help="folder for clean.json and clean.md")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-bench-clean-") as tmp:
        for kind in args.kinds.split(","):
            for mb in (float(s) for s in args.sizes.split(",")):
                path = make_file(kind, mb, Path(tmp))
                row = {"kind": kind, "mb": mb, **measure(path)}
                row["s_per_mb"] = row["seconds"] / mb
                rows.append(row)
                print(
                    f"{kind:10} {mb:5g} MB  {row['seconds']:7.1f} s  {row['s_per_mb']:5.2f} s/MB  "
                    f"{row['chunks']:6} passages  peak {row['peak_mb']:6.0f} MB",
                    flush=True,
                )
                path.unlink()
    args.out.mkdir(parents=True, exist_ok=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    (args.out / "clean.json").write_text(json.dumps({"rows": rows, "loadavg": load}, indent=2) + "\n")
    lines = [
        f"Load, clean and chunk one file (`python -m eval.bench_clean`; load average {load})",
        "",
        "| kind | MB | seconds | s per MB | passages | peak RSS MB |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['kind']} | {r['mb']:g} | {r['seconds']:.1f} | {r['s_per_mb']:.2f} | {r['chunks']} | {r['peak_mb']:.0f} |"
            for r in rows
        ),
    ]
    (args.out / "clean.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
