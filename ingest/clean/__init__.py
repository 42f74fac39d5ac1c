"""Repair conversion damage in Dutch PDF/slide text and cut it into clean blocks.

``clean_pages(pages)`` turns the pages of one document into an ordered list of
:class:`~ingest.types.Block` (heading, paragraph or list); every block keeps the original
lines it came from in ``raw``. It runs the passes of :data:`PIPELINE` in order on one
:class:`~ingest.clean.draft.Draft` of the document; each module's docstring says what
its passes repair:

1. **Lines** (:mod:`~ingest.clean.markup`, :mod:`~ingest.clean.embeds`,
   :mod:`~ingest.clean.footnotes`, :mod:`~ingest.clean.lines`): converter markup stripped,
   images, links and HTML taken out (their words kept), footnotes taken out of the
   running text, non-content lines dropped, the document's line width and words measured.
2. **Units** (:mod:`~ingest.clean.units`): lines cut into the units that become blocks;
   lost bullets found, figure labels dropped.
3. **Blocks** (:mod:`~ingest.clean.blocks`): headings, paragraphs and lists; sentences
   cut by page breaks and pull quotes joined again.
4. **Words** (:mod:`~ingest.clean.finish`, with :mod:`~ingest.clean.join` and
   :mod:`~ingest.clean.words`): lines joined, hyphenation undone, damaged words repaired;
   each footnote attached to the piece and sentence that carry its marker
   (:mod:`~ingest.clean.footnotes`).
5. **Document** (:mod:`~ingest.clean.drops`, :mod:`~ingest.clean.dedupe`): colophons,
   captions, repeats, teasers, pull quotes and emptied headings removed.

The word repairs consult :mod:`~ingest.clean.lexicon`; set ``lexicon.TRACE`` to a list to
see them (``lexicon.TRACE = []``, then clean, then read ``lexicon.TRACE``).
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.clean.blocks import build_lists, classify, merge_continuations, resolve_headings
from ingest.clean.dedupe import dedupe
from ingest.clean.draft import Draft
from ingest.clean.drops import drop_empty_headings, drop_sections
from ingest.clean.embeds import strip_embeds
from ingest.clean.finish import write_pieces
from ingest.clean.footnotes import attach_footnotes, take_footnotes
from ingest.clean.lexicon import compound_known as compound_known
from ingest.clean.lexicon import zipf as zipf
from ingest.clean.lexicon import zipf_en as zipf_en
from ingest.clean.lines import count_words, drop_non_content, measure_width
from ingest.clean.markup import read_lines
from ingest.clean.units import cut_units, drop_figure_labels, mark_lost_bullets
from ingest.types import Block, Page

__all__ = ["clean_pages", "clean_text"]

#: the passes of :func:`clean_pages`, in order; each reads and rewrites the one draft
PIPELINE: tuple[Callable[[Draft], None], ...] = (
    read_lines,
    strip_embeds,
    take_footnotes,
    drop_non_content,
    measure_width,
    count_words,
    cut_units,
    drop_figure_labels,
    mark_lost_bullets,
    classify,
    merge_continuations,
    build_lists,
    resolve_headings,
    write_pieces,
    attach_footnotes,
    drop_sections,
    dedupe,
    drop_empty_headings,
)


def clean_pages(pages: list[Page], on_step: Callable[[int, int, str], None] | None = None) -> list[Block]:
    """Turn the pages of one document into an ordered list of clean blocks.

    ``on_step(done, total, name)`` is called after each pass of :data:`PIPELINE` (progress
    for a big document: the time grows linearly with its size, about 1.6 s per MB).
    """
    draft = Draft(pages)
    for done, step in enumerate(PIPELINE, start=1):
        step(draft)
        if on_step:
            on_step(done, len(PIPELINE), step.__name__)
    return draft.blocks()


def clean_text(text: str) -> str:
    """Clean one plain text; the block texts joined with blank lines."""
    return "\n\n".join(b.text for b in clean_pages([Page(number=None, text=text)]))
