"""The gold set ``eval/gold.jsonl``: loading and validation.

Each line of the gold set is one JSON object (a question with its reference answer)
written from the bundled corpus::

    id                e.g. "g001", unique
    persona           leraar | ouder | trainer | schoolleider | beleid
    question          the question as that person would type it (paraphrased)
    type              factoid | explain | list | compare | unanswerable | followup
    context_question  first turn of the conversation for a followup, else null
    doc               corpus file that answers it; null when unanswerable
    also_docs         other corpus files that also answer it ([] if none)
    quotes            1-3 exact substrings of ``doc`` (30-160 characters) holding the answer
    also_quotes       {file: [quotes]} for every file in ``also_docs``
    answer            short reference answer in Dutch
    must_mention      1-4 key terms a correct answer contains; each occurs in a quote

Evaluation matches quotes against cleaned passages after lower-casing and whitespace
normalisation, so a quote must come from clean running text: no markdown or footnote
markup and no word hyphenated across a line break. The checker enforces that too.

Run ``python -m eval.gold [PATH] [--corpus DIR] [--clean] [--partial]``: prints the problems and exits 1, or
prints a summary (counts per type, doc and persona) and exits 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = EVAL_DIR.parent
DEFAULT_GOLD = EVAL_DIR / "gold.jsonl"
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"

FIELDS = (
    "id",
    "persona",
    "question",
    "type",
    "context_question",
    "doc",
    "also_docs",
    "quotes",
    "also_quotes",
    "answer",
    "must_mention",
)
PERSONAS = ("leraar", "ouder", "trainer", "schoolleider", "beleid")
TYPES = ("factoid", "explain", "list", "compare", "unanswerable", "followup")

QUOTE_MIN, QUOTE_MAX = 30, 160
MAX_QUOTES = 3
MAX_MUST_MENTION = 4
MIN_ITEMS = 80
MIN_UNANSWERABLE = 10
MIN_FOLLOWUPS = 8

# Markup that the ingester strips, so a quote containing it can never match a passage.
_MARKUP = ("<sup>", "</sup>", "**", "](", "\u2022")
# A word hyphenated across a line break: "belan-\ngen". The ingester rejoins it.
_LINE_END_HYPHEN = re.compile(r"\w-[ \t]*\r?\n")


def normalise(text: str) -> str:
    """Lower-case and collapse all whitespace to single spaces."""
    return " ".join(text.split()).lower()


def load_gold(path: str | Path = DEFAULT_GOLD) -> list[dict]:
    """Read the gold set: one JSON object per non-blank line.

    Raises ``ValueError`` naming the line number for a line that is not a JSON object.
    It does not validate the items; use :func:`check_gold` for that.
    """
    items: list[dict] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {lineno}: invalid JSON: {exc.msg}") from exc
            if not isinstance(obj, dict):
                raise ValueError(f"{path}: line {lineno}: not a JSON object")
            items.append(obj)
    return items


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_quote(where: str, quote, text: str | None, fname: str) -> list[str]:
    if not isinstance(quote, str):
        return [f"{where}: quote is not a string: {quote!r}"]
    problems = []
    short = quote if len(quote) <= 60 else quote[:57] + "..."
    if not QUOTE_MIN <= len(quote) <= QUOTE_MAX:
        problems.append(f"{where}: quote length {len(quote)} outside {QUOTE_MIN}-{QUOTE_MAX}: {short!r}")
    if text is not None and quote not in text:
        problems.append(f"{where}: quote not found in {fname}: {short!r}")
    for mark in _MARKUP:
        if mark in quote:
            problems.append(f"{where}: quote contains markup {mark!r}: {short!r}")
    if _LINE_END_HYPHEN.search(quote):
        problems.append(f"{where}: quote contains a word hyphenated across a line break: {short!r}")
    return problems


def _check_item(item: dict, where: str, corpus: dict[str, str | None]) -> list[str]:
    problems: list[str] = []
    missing = [f for f in FIELDS if f not in item]
    unknown = sorted(set(item) - set(FIELDS))
    if missing:
        problems.append(f"{where}: missing field(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"{where}: unknown field(s): {', '.join(unknown)}")

    for f in ("id", "question", "answer"):
        if f in item and (not isinstance(item[f], str) or not item[f].strip()):
            problems.append(f"{where}: {f} must be a non-empty string")
    persona, typ = item.get("persona"), item.get("type")
    if "persona" in item and persona not in PERSONAS:
        problems.append(f"{where}: bad persona {persona!r} (allowed: {', '.join(PERSONAS)})")
    if "type" in item and typ not in TYPES:
        problems.append(f"{where}: bad type {typ!r} (allowed: {', '.join(TYPES)})")

    ctx = item.get("context_question")
    if "context_question" in item and ctx is not None and not isinstance(ctx, str):
        problems.append(f"{where}: context_question must be a string or null")
    if typ == "followup" and not (isinstance(ctx, str) and ctx.strip()):
        problems.append(f"{where}: followup without context_question")
    if typ in TYPES and typ != "followup" and ctx is not None:
        problems.append(f"{where}: context_question must be null for type {typ!r}")

    doc = item.get("doc")
    quotes = item.get("quotes", [])
    must = item.get("must_mention", [])
    also_docs = item.get("also_docs", [])
    also_quotes = item.get("also_quotes", {})
    for f, ok in (
        ("quotes", _is_str_list(quotes)),
        ("must_mention", _is_str_list(must)),
        ("also_docs", _is_str_list(also_docs)),
        ("also_quotes", isinstance(also_quotes, dict)),
    ):
        if not ok:
            problems.append(f"{where}: {f} has the wrong shape")
    if not (_is_str_list(quotes) and _is_str_list(must) and _is_str_list(also_docs) and isinstance(also_quotes, dict)):
        return problems
    if doc is not None and not isinstance(doc, str):
        problems.append(f"{where}: doc must be a file name or null")
        return problems

    if typ == "unanswerable":
        if doc is not None:
            problems.append(f"{where}: unanswerable item has a doc ({doc})")
        if quotes:
            problems.append(f"{where}: unanswerable item has quotes")
        if must:
            problems.append(f"{where}: unanswerable item has must_mention")
        if also_docs or also_quotes:
            problems.append(f"{where}: unanswerable item has also_docs/also_quotes")
        return problems

    if typ not in TYPES:
        return problems
    if doc is None:
        problems.append(f"{where}: answerable item without a doc")
        return problems
    if doc not in corpus:
        problems.append(f"{where}: unknown doc {doc!r} (not in the corpus directory)")
    text = corpus.get(doc)
    if not 1 <= len(quotes) <= MAX_QUOTES:
        problems.append(f"{where}: needs 1-{MAX_QUOTES} quotes, has {len(quotes)}")
    for q in quotes:
        problems.extend(_check_quote(where, q, text, doc))
    if not 1 <= len(must) <= MAX_MUST_MENTION:
        problems.append(f"{where}: needs 1-{MAX_MUST_MENTION} must_mention, has {len(must)}")
    joined = [normalise(q) for q in quotes]
    for term in must:
        if not normalise(term) or not any(normalise(term) in q for q in joined):
            problems.append(f"{where}: must_mention {term!r} not in any quote")

    if len(set(also_docs)) != len(also_docs):
        problems.append(f"{where}: duplicate entries in also_docs")
    if doc in also_docs:
        problems.append(f"{where}: also_docs repeats doc {doc}")
    if set(also_quotes) != set(also_docs):
        problems.append(f"{where}: also_quotes keys {sorted(also_quotes)} differ from also_docs {sorted(also_docs)}")
    for adoc in also_docs:
        if adoc not in corpus:
            problems.append(f"{where}: unknown doc in also_docs {adoc!r}")
    for adoc, aquotes in also_quotes.items():
        if not _is_str_list(aquotes) or not 1 <= len(aquotes) <= MAX_QUOTES:
            problems.append(f"{where}: also_quotes[{adoc!r}] needs 1-{MAX_QUOTES} quotes")
            continue
        for q in aquotes:
            problems.extend(_check_quote(f"{where} also_quotes", q, corpus.get(adoc), adoc))
    return problems


def _read_corpus(corpus_dir: Path) -> dict[str, str | None]:
    corpus: dict[str, str | None] = {}
    if corpus_dir.is_dir():
        for p in sorted(corpus_dir.iterdir()):
            if p.is_file():
                try:
                    corpus[p.name] = p.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    corpus[p.name] = None
    return corpus


def clean_passages(corpus_dir: str | Path = DEFAULT_CORPUS) -> dict[str, list[str]]:
    """The normalised passages the ingest pipeline cuts from each corpus file (no embedding)."""
    from ingest.catalog import describe
    from ingest.chunk import chunk_blocks
    from ingest.clean import clean_pages
    from ingest.loaders import LoadError, is_supported, load_file

    out: dict[str, list[str]] = {}
    for p in sorted(Path(corpus_dir).iterdir()):
        if not p.is_file() or not is_supported(p) or p.name == "README.md":
            continue
        try:
            doc = load_file(p)
        except LoadError:
            continue
        blocks = clean_pages(doc.pages)
        out[p.name] = [normalise(c.text) for c in chunk_blocks(doc.doc_id, blocks, describe(doc, blocks))]
    return out


def _check_clean(items: list[dict], passages: dict[str, list[str]]) -> list[str]:
    """Every quote must lie inside one clean passage, or no retrieved passage can ever match it."""
    problems = []
    for item in items:
        pairs = [(item.get("doc"), q) for q in item.get("quotes") or []]
        pairs += [(d, q) for d, qs in (item.get("also_quotes") or {}).items() for q in qs or []]
        for doc, q in pairs:
            if doc in passages and isinstance(q, str) and not any(normalise(q) in t for t in passages[doc]):
                short = q if len(q) <= 60 else q[:57] + "..."
                problems.append(
                    f"{item.get('id')}: quote is not inside one clean passage of {doc} "
                    f"(it spans two passages or text the cleaner changes): {short!r}"
                )
    return problems


def check_gold(
    path: str | Path = DEFAULT_GOLD,
    corpus_dir: str | Path = DEFAULT_CORPUS,
    *,
    min_items: int = MIN_ITEMS,
    min_unanswerable: int = MIN_UNANSWERABLE,
    min_followups: int = MIN_FOLLOWUPS,
    clean: bool = False,
) -> list[str]:
    """Validate the gold set at ``path`` against the corpus files in ``corpus_dir``.

    With ``clean``, also check every quote against the clean passages of the ingest
    pipeline. Returns human-readable problems; an empty list means the gold set is valid.
    """
    path, corpus_dir = Path(path), Path(corpus_dir)
    if not path.is_file():
        return [f"{path}: gold file not found"]
    if not corpus_dir.is_dir():
        return [f"{corpus_dir}: corpus directory not found"]
    corpus = _read_corpus(corpus_dir)

    problems: list[str] = []
    items: list[dict] = []
    ids: dict[str, int] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {lineno}: invalid JSON: {exc.msg}")
                continue
            if not isinstance(item, dict):
                problems.append(f"line {lineno}: not a JSON object")
                continue
            item_id = item.get("id")
            where = f"line {lineno} ({item_id})" if isinstance(item_id, str) else f"line {lineno}"
            if isinstance(item_id, str):
                if item_id in ids:
                    problems.append(f"{where}: duplicate id {item_id!r} (first on line {ids[item_id]})")
                else:
                    ids[item_id] = lineno
            problems.extend(_check_item(item, where, corpus))
            items.append(item)

    types = Counter(i.get("type") for i in items)
    if len(items) < min_items:
        problems.append(f"only {len(items)} items; at least {min_items} required")
    if types["unanswerable"] < min_unanswerable:
        problems.append(f"only {types['unanswerable']} unanswerable items; at least {min_unanswerable} required")
    if types["followup"] < min_followups:
        problems.append(f"only {types['followup']} followup items; at least {min_followups} required")
    if clean:
        problems.extend(_check_clean(items, clean_passages(corpus_dir)))
    return problems


def summary(items: list[dict]) -> str:
    """Counts per type, per doc and per persona, as printable text."""
    lines = [f"{len(items)} gold items"]
    for field in ("type", "doc", "persona"):
        counts = Counter(str(i.get(field)) for i in items)
        lines.append(f"per {field}:")
        lines += [f"  {k:<28} {v:>4}" for k, v in sorted(counts.items())]
    also = Counter(d for i in items for d in i.get("also_docs", []))
    if also:
        lines.append("also_docs:")
        lines += [f"  {k:<28} {v:>4}" for k, v in sorted(also.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.gold", description="Validate the gold set against the corpus."
    )
    parser.add_argument("path", nargs="?", default=str(DEFAULT_GOLD), help="gold JSONL file")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus directory")
    parser.add_argument(
        "--clean",
        action="store_true",
        help="also check that every quote lies inside one clean passage (runs the cleaner)",
    )
    parser.add_argument(
        "--partial",
        action="store_true",
        help="a part of a gold set: skip the minimum counts of items, unanswerable and followups",
    )
    args = parser.parse_args(argv)
    minima = dict(min_items=0, min_unanswerable=0, min_followups=0) if args.partial else {}
    problems = check_gold(args.path, args.corpus, clean=args.clean, **minima)
    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s) in {args.path}", file=sys.stderr)
        return 1
    print(summary(load_gold(args.path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
