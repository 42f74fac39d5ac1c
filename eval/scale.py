"""Scale: the index grown to 10k, 100k, 1M passages, measured as an app process sees it.

    python -m eval.scale [--sizes 10000,100000,1000000] [--chroma-mode http] [--queries 40]

The bundled corpus is indexed first; then the index is grown synthetically: copies of
the real chunks with other numbers and names, with the real embeddings slightly
perturbed and re-normalised (re-encoding a million chunks would take days on 2 cores),
written to the collection with manifest entries, so the derived indexes and
``reconcile()`` see a consistent index. At each size:

* **write**: chunks per second into the collection, and the time to rebuild the derived
  indexes (BM25 and the read index) from it, which every machine does once after a write;
* **an app process**: a fresh Python process (as a second app replica would be) opens the
  index and lists the documents as the app's sidebar does, and answers a first question:
  the wall time from its start to that answer is the *start*; then warm ``search`` and
  ``ask`` p50/p95 over gold questions, and its memory from ``/proc/self/status``:
  anonymous (its own) and file-backed (the memory-mapped indexes, shared by every process
  on the machine through the page cache).

``--chroma-mode http`` starts a ``chroma run`` of its own (a temporary ``--path``) unless
``--server host:port`` names one. Writes ``scale.json`` and ``scale.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
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
BATCH = {"embedded": 5000, "http": 1000}  # a request to the server stays a few MB


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


def _flush(collection, rows: list[tuple], batch: int, final: bool) -> list[tuple]:
    """Upsert full batches of (id, document, metadata, vector); all of them when ``final``."""
    while len(rows) >= batch or (final and rows):
        part, rows = rows[:batch], rows[batch:]
        collection.upsert(
            ids=[r[0] for r in part],
            documents=[r[1] for r in part],
            metadatas=[r[2] for r in part],
            embeddings=np.stack([r[3] for r in part]),
        )
    return rows


def grow(settings, embedder, target: int, seed: int = 0) -> dict:
    """Add synthetic copies of the real chunks up to ``target`` chunks."""
    from tqdm import tqdm

    from kb.index.store import Store

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
    needed, rows, batch = target - before, [], BATCH[settings.chroma_mode]
    with tqdm(total=max(needed, 0), desc=f"grow to {target:,}", unit="chunk", file=sys.stderr, mininterval=5) as bar:
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
            added = min(needed, len(originals))
            needed -= added
            rows = _flush(col, rows, batch, final=needed <= 0)
            bar.update(added)
    store.save_manifest()  # Store has no public bulk add; the manifest is written once here
    seconds = time.perf_counter() - start
    return {"added": col.count() - before, "write_s": seconds}


def rebuild(settings) -> float:
    """Rebuild the derived indexes from the collection (what each machine does once after a write)."""
    from tqdm import tqdm

    from kb.index.store import Store

    t0 = time.perf_counter()
    with tqdm(desc="rebuild BM25 + read index", unit="chunk", file=sys.stderr, mininterval=5) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        Store(settings).rebuild_lexical(progress)
    return time.perf_counter() - t0


# --- an app process ------------------------------------------------------------------------


def memory_mb() -> dict[str, float]:
    """This process' resident memory (MB): its own (anonymous) and file-backed (memory-mapped files)."""
    fields = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            out[fields[key]] = int(value.split()[0]) / 1024
    return out


def probe(questions: list[str]) -> dict:
    """Run in a fresh process: open the index, list the documents, answer; then time queries."""
    t0 = time.perf_counter()
    from kb import api

    retriever = api.get_retriever()
    load_s = time.perf_counter() - t0
    documents = len(api.documents())
    api.ask(questions[0])
    print("ready", flush=True)  # the parent takes the time here: the process' start to its first answer
    first_s = time.perf_counter() - t0
    for q in questions[:3]:  # warm up
        api.search(q)
        api.ask(q)
    timings: dict[str, list[float]] = {"search": [], "ask": []}
    for q in questions:
        for name, fn in (("search", api.search), ("ask", api.ask)):
            t = time.perf_counter()
            fn(q)
            timings[name].append(time.perf_counter() - t)
    return {
        "chunks": retriever.count(),
        "documents": documents,
        "load_s": load_s,
        "first_answer_s": first_s,
        **{f"{n}_{p}": percentile(v, int(p[1:])) for n, v in timings.items() for p in ("p50", "p95")},
        "memory_mb": memory_mb(),
    }


def measure(settings, questions: list[str]) -> dict:
    """:func:`probe` in a fresh process; ``start_s`` is its wall time from launch to the first answer."""
    from eval.services import settings_env

    env = {**os.environ, **settings_env(settings)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "eval.scale", "--probe", json.dumps(questions)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    start_s, last = None, ""
    for line in proc.stdout:
        if line.strip() == "ready" and start_s is None:
            start_s = time.perf_counter() - t0
        last = line
    if proc.wait() != 0:
        raise RuntimeError(f"the probe process failed (exit {proc.returncode})")
    return {**json.loads(last), "start_s": start_s}


# --- the run -------------------------------------------------------------------------------


def run(sizes: list[int], n_queries: int, out: Path, mode: str = "embedded", server: str | None = None) -> dict:
    from eval.services import ChromaServer
    from kb.config import Settings
    from kb.encoder.embedding import load_embedder
    from kb.index.indexer import ingest

    started, load_before = time.perf_counter(), [round(x, 2) for x in os.getloadavg()]
    questions = [i["question"] for i in load_gold(DEFAULT_GOLD) if not i.get("context_question")][:n_queries]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="kb-scale-") as tmp:
        settings = Settings.from_env(home=Path(tmp) / "kb", chroma_mode=mode, chroma_timeout=120.0)
        chroma = None
        if mode == "http":
            if server:
                host, _, port = server.rpartition(":")
                settings = replace(settings, chroma_host=host, chroma_port=int(port))
            else:
                chroma = ChromaServer(Path(tmp) / "chroma").start()
                settings = replace(settings, chroma_host=chroma.host, chroma_port=chroma.port)
            settings = replace(settings, collection=f"scale{os.getpid()}")
        try:
            embedder = load_embedder(settings)
            t0 = time.perf_counter()
            ingest(settings=settings, embedder=embedder)
            rows.append({**measure(settings, questions), "write": {"ingest_s": time.perf_counter() - t0}})
            print(markdown_row(rows[-1]), file=sys.stderr, flush=True)
            for size in sorted(sizes):
                if size <= rows[-1]["chunks"]:
                    continue
                grown = grow(settings, embedder, size)
                grown["rebuild_s"] = rebuild(settings)
                rows.append({**measure(settings, questions), "write": grown})
                print(markdown_row(rows[-1]), file=sys.stderr, flush=True)
                partial = _result(rows, mode, load_before, n_queries, started)
                _write(out, partial)  # a long run leaves what it measured so far
        finally:
            if mode == "http" and server:
                from kb.index import remote

                for generation in remote.generations(settings):
                    remote.drop_generation(settings, generation)
            if chroma is not None:
                chroma.stop()
    result = _result(rows, mode, load_before, n_queries, started)
    _write(out, result)
    return result


def _result(rows, mode, load_before, n_queries, started) -> dict:
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "mode": mode,
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
        "queries": n_queries,
        "rows": rows,
        "seconds": time.perf_counter() - started,
    }


def _write(out: Path, result: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (out / "scale.md").write_text(markdown(result), encoding="utf-8")


HEADER = [
    "| passages | write chunks/s | rebuild s | start s (load s) | search p50 / p95 | ask p50 / p95 | memory MB: own (mapped) |",
    "|---|---|---|---|---|---|---|",
]


def markdown_row(r: dict) -> str:
    w, m = r["write"], r["memory_mb"]
    rate = f"{w['added'] / w['write_s']:,.0f}" if w.get("added") else "(ingest of the corpus)"
    rebuild_s = f"{w['rebuild_s']:.0f}" if "rebuild_s" in w else "–"
    return (
        f"| {r['chunks']:,} | {rate} | {rebuild_s} | {r['start_s']:.1f} ({r['load_s']:.1f}) | "
        f"{r['search_p50']:.3f} / {r['search_p95']:.3f} | {r['ask_p50']:.3f} / {r['ask_p95']:.3f} | "
        f"{m.get('anon', 0):.0f} ({m.get('file', 0):.0f}) |"
    )


def markdown(result: dict) -> str:
    m = result["machine"]
    return "\n".join(
        [
            f"# Scale ({result['mode']} Chroma)",
            "",
            f"{result['created']} · {m['cpus']} cores · load average {m['load_before']} → {m['load_after']} · "
            f"{result['queries']} gold questions per size · total {result['seconds']:.0f} s",
            "",
            *HEADER,
            *(markdown_row(r) for r in result["rows"]),
            "",
            "start: a fresh process, from launch to its first answer (index opened, documents listed); "
            "load: opening the index within it. Memory of that process after the queries: anonymous "
            "(its own) and, in brackets, file-backed pages of the memory-mapped indexes (shared by all "
            "processes on the machine).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="index sizes (passages), comma-separated")
    parser.add_argument("--queries", type=int, default=40, help="gold-set questions timed per size")
    parser.add_argument("--chroma-mode", choices=["embedded", "http"], default="http")
    parser.add_argument("--server", help="host:port of a running Chroma server (http; default: start one)")
    parser.add_argument("--out", type=Path, default=Path("eval/out/scale"), help="folder for scale.json and scale.md")
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: the app process
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(json.loads(args.probe))))
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    result = run(sizes, args.queries, args.out, args.chroma_mode, args.server)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
