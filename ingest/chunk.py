"""Heading-aware chunking of clean blocks into passages.

Blocks are packed into chunks within one section (a heading starts a new chunk); a
list stays whole; a paragraph longer than the chunk size is split on sentence
boundaries with langchain's ``RecursiveCharacterTextSplitter``. Each chunk carries
its section path and page and gets a short contextual header (title and section)
that is embedded with it, so a chunk is findable by the topic it belongs to.
"""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.sentences import sentences, split_sentences
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


def chunk_blocks(doc_id: str, blocks: list[Block], meta: dict, size: int = 1200, overlap: int = 150) -> list[Chunk]:
    title = meta.get("short_title") or meta.get("title") or doc_id
    splitter = _splitter(size, overlap)
    headings: list[tuple[int, str]] = []  # stack of (level, text)
    pending: list[Block] = []
    out: list[Chunk] = []

    def section() -> str:
        return " > ".join(text for _, text in headings)

    def emit(text: str, raw: str, first: Block, last: Block) -> None:
        sec = section()
        header = f"{title} — {sec}" if sec else title
        out.append(
            Chunk(
                chunk_id="",
                doc_id=doc_id,
                text=text.strip(),
                header=header,
                raw=raw.strip(),
                section=sec,
                position=len(out),
                page=first.page,
                page_end=last.page,
                meta=dict(meta),
            )
        )

    def flush() -> None:
        if pending:
            emit(
                "\n\n".join(b.text for b in pending),
                "\n\n".join(b.raw or b.text for b in pending),
                pending[0],
                pending[-1],
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
            for piece in pieces:
                emit(piece, block.raw if len(pieces) == 1 else piece, block, block)
            continue
        if pending and block.page != pending[-1].page:
            flush()  # a PDF passage never spans pages, so its page citation is exact
        if pending and pending_len() + len(text) > size:
            lead = _lead_in(pending[-1]) if block.kind == "list" else None
            flush()
            if lead is not None:
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
