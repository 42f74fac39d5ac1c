"""Data passed along the ingest pipeline: files → documents → blocks → chunks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Page:
    """One page of a PDF, or the whole text of a .txt/.md file (number None)."""

    number: int | None
    text: str


@dataclass
class Document:
    """A loaded file before cleaning."""

    doc_id: str  # stable id: the file name (e.g. "001_c189e2559444eabf.txt")
    path: str
    kind: str  # "pdf" | "txt" | "md"
    pages: list[Page]
    sha256: str
    meta: dict = field(default_factory=dict)  # title, author, year, doc_type, sectors


@dataclass
class Block:
    """A unit of clean text: a heading, a paragraph or a whole list.

    ``raw`` is the text as it stood in the file before cleaning, kept for display.
    ``page`` is the 1-based PDF page the block starts on (None for .txt/.md).
    ``level`` is the heading level (1 = top) for headings, 0 otherwise.
    ``notes`` are the footnotes whose marker stood in this block (marker → note text), and
    ``note_at`` where each marker stood: the offset in ``text`` just after the marked word,
    inside the sentence that carries it.
    """

    kind: str  # "heading" | "paragraph" | "list"
    text: str
    raw: str = ""
    page: int | None = None
    level: int = 0
    notes: dict[str, str] = field(default_factory=dict)
    note_at: dict[str, int] = field(default_factory=dict)


@dataclass
class Chunk:
    """A passage as stored in the index."""

    chunk_id: str
    doc_id: str
    text: str  # clean passage text, shown and cited
    header: str  # contextual header embedded with the text: title + section
    raw: str  # original text for display where cleaning changed it
    section: str  # section path, " > "-joined headings
    position: int  # order of the chunk in its document
    page: int | None = None
    page_end: int | None = None
    meta: dict = field(default_factory=dict)  # title, year, doc_type, sectors, ...
    sentences: list[tuple[int, int]] = field(default_factory=list)  # (start, end) of each sentence in text
    notes: dict[str, str] = field(default_factory=dict)  # footnotes: marker → note text
    note_at: dict[str, int] = field(default_factory=dict)  # marker → offset in text (inside its sentence)
    story: str = ""  # the story or contribution the passage belongs to (its title), when known
    speaker: str = ""  # who says it: a byline ("Rob Spardiaans, directeur SWV De Meijerij") or the author

    @property
    def embed_text(self) -> str:
        """The header, the text and its footnotes: what is embedded (the sentence spans stay put)."""
        text = f"{self.header}\n{self.text}" if self.header else self.text
        return "\n".join([text, *self.notes.values()]) if self.notes else text

    @property
    def embed_spans(self) -> list[tuple[int, int]]:
        """The sentence spans shifted to their place in :attr:`embed_text`."""
        shift = len(self.header) + 1 if self.header else 0
        return [(a + shift, b + shift) for a, b in self.sentences]
