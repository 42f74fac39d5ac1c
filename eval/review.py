"""``python -m eval.review``: answers of the test split, written out for a judged review.

A reviewer who has not seen the code reads each answer as the asking teacher, parent or
trainer would and labels it GOOD / PARTIAL / MISS / WRONG_REFUSAL / MISLEADING with a
reason (``eval/review/labels-<name>.jsonl``: ``{"id", "label", "reason"}``).
``python -m eval.review --summary NAME`` prints the figures of a labelled round.

The sample is fixed: ``--n`` items of the test split of ``eval/gold.jsonl``, spread over
the types in proportion, chosen by a hash of their id (so a rerun reviews the same
questions). A follow-up is asked after its context question, as in ``kb eval``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from eval.gold import DEFAULT_GOLD, load_gold
from eval.split import select
from kb.results import Answer

REVIEW_DIR = Path(__file__).resolve().parent / "review"
LABELS = ("GOOD", "PARTIAL", "MISS", "WRONG_REFUSAL", "MISLEADING")
PERSONA_OF = {"leraar": "leraar", "ouder": "ouder", "trainer": "trainer", "schoolleider": "trainer", "beleid": None}


def sample(items: list[dict], n: int) -> list[dict]:
    """``n`` items spread over the types in proportion, each type's by the hash of their ids."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for item in sorted(items, key=lambda i: hashlib.sha256(("review" + i["id"]).encode()).hexdigest()):
        by_type[item["type"]].append(item)
    share = {t: max(1, round(n * len(v) / len(items))) for t, v in by_type.items()}
    out = [i for t, v in by_type.items() for i in v[: share[t]]]
    return sorted(out, key=lambda i: i["id"])[:n]


def as_shown(result: Answer) -> str:
    """The answer as the app shows it, from its parts."""
    lines = []
    if result.notice:
        lines.append(f"(melding) {result.notice}")
    if result.corrected_query:
        lines.append(f"(gezocht op: {result.corrected_query})")
    if result.topic:
        lines.append(f"(opgevat als vervolgvraag over: {result.topic})")
    if result.abstained and not result.partial:
        lines.append(result.not_said or "Dat staat niet in de bronnen.")
        if result.nearby:
            lines.append(
                "Wel gevonden, maar geen antwoord op uw vraag: " + "; ".join(p.source_line() for p in result.nearby)
            )
    else:
        if result.lead:
            lines.append(f"(uitleg vooraf) {result.lead}")
        if result.partial:
            lines.append("(De bronnen beantwoorden deze vraag niet precies; hieronder wat ze er wel over zeggen.)")
            if result.not_said:
                lines.append(result.not_said)
        lines.append(result.body)
        if result.glossary_extra:
            lines.append(f"(begrippenlijst, geen citaat) {result.glossary_extra}")
        for c in result.citations:
            lines.append(f"  [{c.n}] {c.source_line()}")
    if result.persona_note:
        lines.append(f"(tip voor ouders) {result.persona_note}")
    return "\n".join(lines)


def write_round(name: str, n: int, kind: str | None = None, questions: Path | None = None, split: str = "test") -> Path:
    """Answers to ``n`` sampled test-split questions; with ``kind`` all test-split questions of
    that type; with ``questions`` every question of that file (the gold format)."""
    from kb.api import ask

    if questions:
        items = load_gold(questions)
    elif kind:
        items = [i for i in select(load_gold(DEFAULT_GOLD), split) if i["type"] == kind]
    else:
        items = sample(select(load_gold(DEFAULT_GOLD), split), n)
    out = REVIEW_DIR / f"answers-{name}.md"
    rows = []
    for item in items:
        persona = PERSONA_OF.get(item.get("persona") or "")
        history = None
        first_shown = ""
        if item.get("context_question"):
            first = ask(item["context_question"], persona=persona)
            history = [
                {"role": "user", "content": item["context_question"]},
                {"role": "assistant", "content": first.answer},
            ]
            first_shown = as_shown(first)
        result = ask(item["question"], history=history, persona=persona)
        rows.append((item, persona, first_shown, result))
    parts = [
        f"# Answers to review: round '{name}'\n",
        "Each item: who asks, the question (and for a follow-up the earlier turn), the answer as the app "
        "shows it, and the team's reference note of what the sources say.\n",
    ]
    for item, _persona, first_shown, result in rows:
        parts.append(f"\n## {item['id']} — {item.get('persona')} — {item['type']}\n")
        if item.get("context_question"):
            parts.append(
                f"**Earlier question:** {item['context_question']}\n\n**Earlier answer:**\n\n```\n{first_shown}\n```\n"
            )
        parts.append(f"**Question:** {item['question']}\n\n**Answer shown:**\n\n```\n{as_shown(result)}\n```\n")
        parts.append(f"**Reference note (team):** {item.get('answer', '')}\n")
    out.write_text("\n".join(parts), encoding="utf-8")
    raw = REVIEW_DIR / f"answers-{name}.jsonl"
    raw.write_text(
        "".join(json.dumps({"id": i["id"], **r.to_dict()}, ensure_ascii=False) + "\n" for i, _, _, r in rows),
        encoding="utf-8",
    )
    return out


def summary(name: str, questions: Path | None = None) -> dict:
    gold = {i["id"]: i for i in load_gold(questions or DEFAULT_GOLD)}
    labels = [
        json.loads(x)
        for x in (REVIEW_DIR / f"labels-{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]

    def unanswerable_item(x) -> bool:
        item = gold[x["id"]]
        return item["type"] == "unanswerable" or item.get("expect") == "nothing_from_speaker"

    answerable = [x for x in labels if not unanswerable_item(x)]
    unanswerable = [x for x in labels if unanswerable_item(x)]
    count = Counter(x["label"] for x in answerable)
    per_type: dict[str, Counter] = defaultdict(Counter)
    for x in labels:
        per_type[gold[x["id"]]["type"]][x["label"]] += 1
    n = len(answerable) or 1
    return {
        "answerable": len(answerable),
        "good": round(count["GOOD"] / n, 3),
        "good_or_partial": round((count["GOOD"] + count["PARTIAL"]) / n, 3),
        "wrong_refusal": round(count["WRONG_REFUSAL"] / n, 3),
        "misleading": round(count["MISLEADING"] / n, 3),
        "unanswerable": len(unanswerable),
        "unanswerable_good": round(sum(x["label"] == "GOOD" for x in unanswerable) / (len(unanswerable) or 1), 3),
        "per_type": {t: dict(c) for t, c in sorted(per_type.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.review", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the round's name (answers-<name>.md, labels-<name>.jsonl)")
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--type", dest="kind", help="every test-split question of this type (e.g. followup)")
    parser.add_argument("--questions", type=Path, help="every question of this file (gold format), e.g. speakers")
    parser.add_argument("--split", default="test", help="the gold split to draw from (test; tune for developing)")
    parser.add_argument("--summary", action="store_true", help="print the figures of the labelled round")
    args = parser.parse_args(argv)
    if args.summary:
        print(json.dumps(summary(args.name, args.questions), indent=1))
        return 0
    print(write_round(args.name, args.n, args.kind, args.questions, args.split), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
