"""Split Dutch passages into sentences (and list items) for extractive answers.

Every unit returned is an exact substring of the passage, so a cited sentence can
always be found verbatim in its passage.
"""

from __future__ import annotations

import re

# Abbreviations after which a period does not end a sentence.
ABBREVIATIONS = {
    "o.a",
    "bijv",
    "bv",
    "b.v",
    "m.m.v",
    "e.d",
    "enz",
    "etc",
    "d.w.z",
    "i.p.v",
    "m.b.t",
    "t.a.v",
    "n.a.v",
    "z.g.a",
    "vgl",
    "resp",
    "ca",
    "nr",
    "p",
    "pp",
    "blz",
    "dr",
    "drs",
    "mr",
    "prof",
    "ir",
    "ing",
    "mw",
    "dhr",
    "st",
    "jl",
    "a.s",
    "t.b.v",
    "i.v.m",
    "m.n",
    "o.b.v",
    "e.a",
    "al",
    "red",
    "zgn",
}
_END = re.compile(r"[.!?…]+[\"'”’)]*\s+(?=[\"'“‘(]?[A-ZÀ-Ý0-9])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences and list items in ``text``."""
    spans: list[tuple[int, int]] = []
    for line_start, line in _lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        offset = line_start + (len(line) - len(line.lstrip()))
        if stripped.startswith(("- ", "• ", "* ")) or re.match(r"\d+[.)] ", stripped):
            spans.append((offset, offset + len(stripped)))  # a list item is one unit
            continue
        start = 0
        for m in _END.finditer(stripped):
            before = stripped[start : m.start()].split()
            last = before[-1].lower().strip("(\"'“‘").rstrip(".") if before else ""
            if last in ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue
            end = m.start() + len(m.group(0).rstrip())
            spans.append((offset + start, offset + end))
            start = m.end()
        if start < len(stripped):
            spans.append((offset + start, offset + len(stripped)))
    return [(a, b) for a, b in spans if b - a > 1]


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def _lines(text: str):
    """Paragraph lines with their offsets; blank lines separate paragraphs."""
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1
