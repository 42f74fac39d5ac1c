"""``python -m eval.followups``: fit the follow-up boost on the training set's follow-ups.

A follow-up gives the passages its previous answer quoted, and their neighbours, a boost in
the fused ranking (:data:`kb.retrieval.retrieve.NEAR_BOOST`, :data:`NEIGHBOUR_SHARE`). This
asks every follow-up pair of ``eval/train/`` (the context question first, as in ``kb eval``)
for each setting of a small grid and prints hit@5, answer hit and lead hit per setting; the
chosen setting is the best on the training follow-ups. The gold set's follow-ups (tune and
test split) are reported for the chosen setting and the old one (no boost), never used to
choose.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.gold import DEFAULT_GOLD, load_gold
from eval.harness import run_items, summarise
from eval.split import select

TRAIN_DIR = Path(__file__).resolve().parent / "train"
GRID = [(0.0, 0.0), (0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (2.0, 0.5), (2.0, 1.0)]


def train_followups() -> list[dict]:
    items = [i for f in sorted(TRAIN_DIR.glob("*.jsonl")) for i in load_gold(f)]
    return [i for i in items if i.get("context_question")]


def figures(items: list[dict], retriever, boost: float, share: float) -> dict:
    from kb.retrieval import retrieve

    old = retrieve.NEAR_BOOST, retrieve.NEIGHBOUR_SHARE
    retrieve.NEAR_BOOST, retrieve.NEIGHBOUR_SHARE = boost, share
    try:
        s = summarise(run_items(items, retriever, desc=f"boost {boost} {share}", progress=False))
    finally:
        retrieve.NEAR_BOOST, retrieve.NEIGHBOUR_SHARE = old
    return {
        "n": s["n"],
        "hit@5": round(s["retrieval"]["hit@5"], 3),
        "answered": round(s["answers"]["answered"], 3),
        "answer_hit": round(s["answers"]["answer_hit"], 3),
        "lead_hit": round(s["answers"]["lead_hit"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.followups", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    from kb.api import get_retriever

    retriever = get_retriever()
    train = train_followups()
    rows = []
    for boost, share in GRID:
        row = {"boost": boost, "share": share, **figures(train, retriever, boost, share)}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    best = max(rows, key=lambda r: (r["answer_hit"] * r["answered"] + 0.5 * r["lead_hit"] * r["answered"], r["hit@5"]))
    gold = [i for i in load_gold(DEFAULT_GOLD) if i["type"] == "followup"]
    report = {"train": rows, "chosen": {"boost": best["boost"], "share": best["share"]}}
    for split in ("tune", "test"):
        items = select(gold, split)
        report[f"gold_{split}"] = {
            "before (no boost)": figures(items, retriever, 0.0, 0.0),
            "chosen": figures(items, retriever, best["boost"], best["share"]),
        }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
