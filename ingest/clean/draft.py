"""The document as the passes hand it on: lines, then units, then pieces of finished text.

Not a pass. Every pass in ``ingest.clean.PIPELINE`` takes the one :class:`Draft` of the
document being cleaned and reads or rewrites some of its fields:

- ``page_lines`` and ``lines``: :class:`Line` objects, one per source line (step 1);
- ``width``, ``doc_counts``, ``vocab``, ``hyph_vocab``: what the document itself says
  about line length and its words (step 1);
- ``units``: :class:`Unit` objects, groups of lines that become one block (steps 2-3);
- ``pieces``: :class:`Piece` objects, blocks with their finished text (steps 4-5);
- ``footnotes``: :class:`Footnote` objects, the notes taken out of the running text (step 1),
  attached to the pieces that carry their markers (step 4).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ingest.types import Block, Page


@dataclass
class Line:
    """One source line with its converter markup stripped (blank lines separate segments)."""

    text: str
    raw: str
    page: int | None
    level: int = 0
    bold: bool = False
    blank: bool = False
    brk: bool = False  # a page break (rule line) stood here
    toc_next: bool = False  # table-of-contents lines followed this line


@dataclass
class Unit:
    """Consecutive lines that belong together: a heading, a paragraph or (part of) a list."""

    lines: list[str]
    raw: list[str]
    page: int | None
    seg: int  # index of the blank-line separated segment it came from
    seg_start: bool  # first unit of its segment
    indent: bool = False  # first raw line started with whitespace
    md_level: int = 0
    bold: bool = False
    bullet: bool = False
    number: int | None = None
    title: bool = False  # extracted title line (followed by running text)
    kind: str = ""
    level: int = 0
    items: list[list[str]] = field(default_factory=list)  # list items (lines each)
    item_nums: list[int | None] = field(default_factory=list)
    toc_next: bool = False  # a table of contents followed (and was dropped)


@dataclass
class Piece:
    """A block with its finished text; ``removed`` says why a document pass dropped it."""

    kind: str
    text: str
    raw: str
    page: int | None
    level: int
    removed: str = ""
    toc_next: bool = False
    md_level: int = 0
    heading_idx: int | None = None  # index of the governing heading
    notes: dict[str, str] = field(default_factory=dict)  # footnotes: marker → note text
    note_at: dict[str, int] = field(default_factory=dict)  # marker → offset in text after the marked word


@dataclass
class Footnote:
    """A footnote found at the foot of a page, and the line whose marker refers to it."""

    marker: str  # the number, as written ("2")
    text: str  # the note's text, without its number
    raw: str  # the raw source line that carried the marker
    anchor: str  # the letters of the words just before the marker (see ``footnotes.letters``)


@dataclass
class Draft:
    """One document on its way through the pipeline."""

    pages: list[Page]
    page_lines: list[list[Line]] = field(default_factory=list)  # per page, markup stripped
    lines: list[Line] = field(default_factory=list)  # content lines of all pages, in order
    width: float = 80.0  # typical full line length
    doc_counts: Counter[str] = field(default_factory=Counter)  # lower-cased words of the document
    vocab: set[str] = field(default_factory=set)  # the document's words longer than three letters
    hyph_vocab: set[str] = field(default_factory=set)  # hyphenated words written within a line
    units: list[Unit] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)

    def blocks(self) -> list[Block]:
        """The pieces that no pass removed, as blocks."""
        return [
            Block(
                kind=b.kind,
                text=b.text,
                raw=b.raw,
                page=b.page,
                level=b.level,
                notes=dict(b.notes),
                note_at=dict(b.note_at),
            )
            for b in self.pieces
            if not b.removed
        ]
