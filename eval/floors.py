"""Quality floors that CI holds the pipeline to (``kb eval --floors eval/floors.json``).

The pipeline is deterministic, so the floors sit a little under today's figures: a
change that loses recall or stops abstaining on unanswerable questions fails CI.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval import readability

# floor name → (section of the summary, key, comparison)
CHECKS = {
    "hit@5": ("retrieval", "hit@5", "min"),
    "answer_hit": ("answers", "answer_hit", "min"),
    "mention_coverage": ("answers", "mention_coverage", "min"),
    "abstain_recall": ("abstention", "abstain_recall", "min"),
    "wrong_refusals": ("abstention", "wrong_refusals", "max"),
    "citations_verbatim": ("answers", "citations_verbatim", "min"),
    # readability over every answer of the split: each count at most this many (eval/readability.py)
    **{f"readability_{k}": ("readability", k, "max") for k in readability.COUNTS},
}


def check_floors(report: dict, floors: dict) -> list[str]:
    """Human-readable violations of ``floors`` by an evaluation report (empty when fine).

    ``floors["split"]`` names the part of the gold set they apply to ("test", "tune" or
    "all"; default "all"); the other keys are floors from :data:`CHECKS`.
    """
    split = floors.get("split", "all")
    summary = report["summary"] if split == "all" else (report.get("splits") or {}).get(split)
    if not summary:
        return [f"the report has no '{split}' split"]
    problems = []
    for key, limit in floors.items():
        if key.startswith("_") or key == "split":
            continue
        # "all:<floor>" holds over every item of the gold set, whatever the split
        name, where = (key[4:], report["summary"]) if key.startswith("all:") else (key, summary)
        if name not in CHECKS:
            problems.append(f"unknown floor '{name}' (known: {', '.join(CHECKS)})")
            continue
        section, field, kind = CHECKS[name]
        value = (where.get(section) or {}).get(field)
        if value is None:
            problems.append(f"{name}: no value in the report")
        elif kind == "min" and value < limit:
            problems.append(f"{name} = {value:.3f} is below the floor {limit}")
        elif kind == "max" and value > limit:
            problems.append(f"{name} = {value:.3f} is above the ceiling {limit}")
    return problems


def read_floors(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
