"""Heading-aware chunking of clean blocks into passages.

Blocks are packed into chunks within one section (a heading starts a new chunk); a
list stays whole; a paragraph longer than the chunk size is split on sentence
boundaries with langchain's ``RecursiveCharacterTextSplitter``. Each chunk carries
its section path and page and gets a short contextual header (title, story, section and
speaker: a byline of a collection, or the author of a talk, :data:`SPOKEN_TYPES`) that is
embedded with it, so a chunk is findable by the topic it belongs to and by who says it. A chunk stays within one story or contribution
(:func:`ingest.speakers.credits`) and carries the footnotes whose markers stand in its
text (``notes``, ``note_at``).
"""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.sentences import sentences, split_sentences
from ingest.speakers import Credit, credits
from ingest.types import Block, Chunk

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]
LIST_MAX_FACTOR = 3  # a list may be up to this many chunk sizes before it is split


def chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    """A stable id: the same passage in the same document always gets the same id."""
    h = hashlib.sha256(f"{doc_id}\x1f{occurrence}\x1f{text}".encode()).hexdigest()
    return h[:24]


def _splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=SEPARATORS, keep_separator="end"
    )


def _lead_in(block: Block) -> Block | None:
    """The last sentence of a paragraph that introduces a list ("… de volgende punten:")."""
    text = block.text.rstrip()
    if block.kind != "paragraph" or not text.endswith(":"):
        return None
    last = (sentences(text) or [text])[-1]
    return Block("paragraph", last, last, block.page, 0)


#: kinds of document that are someone's own words (a talk): their author is named in every header;
#: a report's authors are not (they stay in the passage's ``speaker`` and ``author``)
SPOKEN_TYPES = frozenset(["presentatie", "toespraak", "lezing", "interview", "column", "opinie", "blog"])


def header_for(title: str, section: str, story: str = "", speaker: str = "") -> str:
    """The contextual header: "Title — Story — Section — Speaker" (the story only where the
    section does not already name it)."""
    parts = [title]
    if story and not section.startswith(story):
        parts.append(story)
    if section:
        parts.append(section)
    if speaker:
        parts.append(speaker)
    return " — ".join(parts)


def _notes_in(text: str, parts: list[tuple[Block, int, int]]) -> tuple[dict[str, str], dict[str, int]]:
    """The footnotes of the blocks in ``parts`` — (block, start, end) of the part of its
    text that stands at ``text.find`` of that part — whose markers stand in the part."""
    notes: dict[str, str] = {}
    at: dict[str, int] = {}
    cursor = 0
    for block, lo, hi in parts:
        if not block.notes:
            continue
        piece = block.text[lo:hi]
        found = text.find(piece, cursor) if piece else -1
        if found < 0:
            continue
        cursor = found
        for marker, note in block.notes.items():
            offset = block.note_at.get(marker, hi)
            if lo < offset <= hi:
                key = marker
                while key in notes:
                    key += "′"
                notes[key] = note
                at[key] = found + offset - lo
    return notes, at


def chunk_blocks(doc_id: str, blocks: list[Block], meta: dict, size: int = 1200, overlap: int = 150) -> list[Chunk]:
    title = meta.get("short_title") or meta.get("title") or doc_id
    splitter = _splitter(size, overlap)
    credit_of = dict(zip(map(id, blocks), credits(blocks, meta)))
    spoken = str(meta.get("doc_type") or "").lower() in SPOKEN_TYPES  # the author speaks in every passage
    headings: list[tuple[int, str]] = []  # stack of (level, text)
    pending: list[Block] = []
    out: list[Chunk] = []

    def section() -> str:
        return " > ".join(text for _, text in headings)

    def credit(block: Block) -> Credit:
        return credit_of.get(id(block), Credit())

    def emit(text: str, raw: str, first: Block, last: Block, parts: list[tuple[Block, int, int]]) -> None:
        sec = section()
        who = credit(first)
        text = text.strip()
        notes, note_at = _notes_in(text, parts)
        out.append(
            Chunk(
                chunk_id="",
                doc_id=doc_id,
                text=text,
                header=header_for(title, sec, who.story, who.speaker if who.story or spoken else ""),
                raw=raw.strip(),
                section=sec,
                position=len(out),
                page=first.page,
                page_end=last.page,
                meta=dict(meta),
                notes=notes,
                note_at=note_at,
                story=who.story,
                speaker=who.speaker,
            )
        )

    def flush() -> None:
        if pending:
            emit(
                "\n\n".join(b.text for b in pending),
                "\n\n".join(b.raw or b.text for b in pending),
                pending[0],
                pending[-1],
                [(b, 0, len(b.text)) for b in pending],
            )
            pending.clear()

    def pending_len() -> int:
        return sum(len(b.text) + 2 for b in pending)

    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.kind == "heading":
            flush()
            level = block.level or 2
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
            continue
        limit = size * LIST_MAX_FACTOR if block.kind == "list" else size
        if len(text) > limit:
            flush()
            pieces = splitter.split_text(text)
            cursor = 0
            for piece in pieces:
                lo = block.text.find(piece, cursor)
                cursor = max(cursor, lo)
                span = [(block, lo, lo + len(piece))] if lo >= 0 else []
                emit(piece, block.raw if len(pieces) == 1 else piece, block, block, span)
            continue
        if pending and (block.page != pending[-1].page or credit(block) != credit(pending[-1])):
            flush()  # a PDF passage never spans pages (its page citation is exact), nor two stories
        if pending and pending_len() + len(text) > size:
            lead = _lead_in(pending[-1]) if block.kind == "list" else None
            flush()
            if lead is not None:
                credit_of[id(lead)] = credit(block)
                pending.append(lead)  # a list keeps the sentence that introduces it
        pending.append(block)
    flush()

    seen: dict[str, int] = {}
    for c in out:
        c.sentences = split_sentences(c.text)
        n = seen.get(c.text, 0)
        seen[c.text] = n + 1
        c.chunk_id = chunk_id(doc_id, c.text, n)
    return out
