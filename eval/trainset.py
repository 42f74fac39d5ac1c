"""The training set ``eval/train/*.jsonl``: questions written to train the reader, never to report on.

Three splits keep the figures honest:

- **train**: ``eval/train/*.jsonl`` (this module), written by the team for training only;
- **dev**: the *tune* split of ``eval/gold.jsonl``, for choices and thresholds;
- **test**: the *test* split of ``eval/gold.jsonl``, never trained or tuned on.

An item has the fields of a gold item (``id``, ``persona``, ``question``, ``type``,
``context_question``, ``doc``, ``quotes``) and some of its own: ``style`` (how it is
asked: typo, english, long_story, premise, speaker, …), ``section`` (of the answering
passage), ``partial_quotes`` (for an unanswerable near-miss: the related sentence a
partial answer may cite), ``context_quotes`` (for a follow-up: what answered the first
turn) and ``speaker``. Quotes are verbatim from the cleaned passages (after lower-casing
and collapsing whitespace), as the index holds them.

``python -m eval.trainset`` checks every quote against the cleaned corpus and writes the
coverage per document section to ``eval/train/COVERAGE.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from eval.gold import DEFAULT_CORPUS, EVAL_DIR
from eval.metrics import normalise

TRAIN_DIR = EVAL_DIR / "train"
#: the extra kinds of question in the training set, mapped to the gold set's types
TYPE_AS_GOLD = {"numbers": "factoid", "speaker": "explain", "premise": "explain"}


def load_train(directory: Path = TRAIN_DIR) -> list[dict]:
    """Every item of ``directory/*.jsonl``, with ``gold_type`` (the gold set's type) added."""
    items = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                item["gold_type"] = TYPE_AS_GOLD.get(item["type"], item["type"])
                item.setdefault("also_quotes", {})
                items.append(item)
    return items


def as_gold(item: dict) -> dict:
    """The item in the gold set's shape (``type`` one of the gold types), for ``eval.fit``."""
    return {**item, "type": item.get("gold_type") or TYPE_AS_GOLD.get(item["type"], item["type"])}


def corpus_chunks(corpus: Path = DEFAULT_CORPUS) -> dict[str, list]:
    """The chunks of every corpus document, exactly as the index stores them."""
    from ingest.loaders import is_supported
    from kb.config import Settings
    from kb.index.preparing import prepare

    settings = Settings.from_env()
    out = {}
    for path in sorted(Path(corpus).iterdir()):
        if path.is_file() and is_supported(path) and path.name != "README.md":
            _, chunks, _ = prepare(path, settings)
            out[path.name] = chunks
    return out


def locate(quote: str, chunks: list) -> list[tuple[int, int]]:
    """(chunk position, sentence index) of every sentence that holds the quote or most of it."""
    q = normalise(quote)
    found = []
    for c in chunks:
        if q not in normalise(c.text):
            continue
        for k, (a, b) in enumerate(c.sentences):
            s = normalise(c.text[a:b])
            if q in s or (s in q and len(s) >= 0.3 * len(q)):
                found.append((c.position, k))
    return found


def check(items: list[dict], chunks: dict[str, list]) -> list[str]:
    problems = []
    seen = set()
    for item in items:
        if item["id"] in seen:
            problems.append(f"{item['id']}: duplicate id")
        seen.add(item["id"])
        if item["type"] == "followup" and not item.get("context_question"):
            problems.append(f"{item['id']}: a follow-up without context_question")
        for key in ("quotes", "partial_quotes", "context_quotes"):
            doc = item.get("doc") or item.get("partial_doc")
            for q in item.get(key) or []:
                pool = chunks.get(doc, []) if doc else [c for cs in chunks.values() for c in cs]
                if not locate(q, pool):
                    problems.append(f"{item['id']}: {key} not in the cleaned passages of {doc}: {q[:70]!r}")
    return problems


def coverage(items: list[dict], chunks: dict[str, list]) -> str:
    """A Markdown table: per document section, its passages and the questions answered there."""
    per_section: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for doc, cs in chunks.items():
        for c in cs:
            per_section[(doc, c.section)]["passages"] += 1
    for item in items:
        doc = item.get("doc")
        if not doc or doc not in chunks:
            continue
        where = {c.section for q in item["quotes"] for c in chunks[doc] if normalise(q) in normalise(c.text)}
        for section in where:
            per_section[(doc, section)]["followup" if item["type"] == "followup" else "questions"] += 1
    lines = ["| document | section | passages | questions | follow-ups |", "|---|---|---|---|---|"]
    for (doc, section), n in sorted(per_section.items()):
        lines.append(f"| {doc[:3]} | {section[-70:]} | {n['passages']} | {n['questions']} | {n['followup']} |")
    return "\n".join(lines)


def summary(items: list[dict]) -> str:
    kinds = Counter(i["type"] for i in items)
    styles = Counter(s for i in items for s in i.get("style") or [])
    docs = Counter(i.get("doc") or "(unanswerable)" for i in items)
    answerable = sum(i["type"] != "unanswerable" for i in items)
    return "\n".join(
        [
            f"{len(items)} items: {answerable} answerable ({kinds['followup']} follow-ups), "
            f"{kinds['unanswerable']} unanswerable near-misses",
            "types: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()),
            "styles: " + ", ".join(f"{k} {v}" for k, v in styles.most_common()),
            "documents: " + ", ".join(f"{k} {v}" for k, v in sorted(docs.items())),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.trainset", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(TRAIN_DIR))
    args = parser.parse_args(argv)
    items = load_train(Path(args.dir))
    chunks = corpus_chunks()
    problems = check(items, chunks)
    for p in problems:
        print(p)
    print(summary(items))
    (Path(args.dir) / "COVERAGE.md").write_text(
        "# Coverage of the training set per document section\n\n"
        "Written by `python -m eval.trainset`: per section of each corpus document, its passages and the "
        "training questions whose answer quote stands there.\n\n"
        "```\n" + summary(items) + "\n```\n\n" + coverage(items, chunks) + "\n",
        encoding="utf-8",
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
