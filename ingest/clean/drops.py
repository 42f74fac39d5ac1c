"""Blocks that are not content: colophons, copyright lines, photo captions, emptied headings.

A colophon section (``Colofon``, ``Impressum``) goes whole, up to the next heading of its
level; copyright blocks ("Alle rechten voorbehouden", ``©``, ISBN) and photo captions
(``V.l.n.r.:``, ``Foto:``) go. After :mod:`ingest.clean.dedupe` has run, the heading of
a table of contents goes, and so does a heading all of whose content was removed as a
repeat, teaser, colophon, copyright or pull quote, when it is a real heading (markdown,
capitals, or like another heading); a short line that was only taken for a heading is
kept as a paragraph.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ingest.clean.dedupe import lower_words, similar_headings
from ingest.clean.draft import Draft
from ingest.clean.shapes import RE_CAPTION, is_caps

_RE_COPYRIGHT = re.compile(r"alle rechten voorbehouden|all rights reserved|niets uit deze uitgave", re.I)
_RE_COPYRIGHT_WEAK = re.compile(r"©|\(c\)\s*\d{4}|\bisbn\b|\bissn\b|\bcopyright\b", re.I)
_RE_COLOPHON_HEAD = re.compile(r"^(?:colofon|colophon|impressum|verantwoording uitgave)\b", re.I)
_RE_TOC_HEAD = re.compile(r"^(?:inhoud|inhoudsopgave|inhoudstafel|contents|table of contents)\s*$", re.I)


def drop_sections(d: Draft) -> None:
    """Pass: colophon sections, copyright blocks and captions."""
    blocks = d.pieces
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind == "heading" and _RE_COLOPHON_HEAD.match(b.text):
            b.removed = "colophon"
            j = i + 1
            while j < len(blocks) and not (blocks[j].kind == "heading" and blocks[j].level <= b.level):
                blocks[j].removed = "colophon"
                j += 1
            i = j
            continue
        if b.kind == "paragraph" and (
            (_RE_COPYRIGHT.search(b.text) and len(b.text) < 600)
            or (_RE_COPYRIGHT_WEAK.search(b.text) and len(b.text) < 150)
        ):
            b.removed = "copyright"
        elif b.kind == "paragraph" and RE_CAPTION.match(b.text) and len(b.text) < 200:
            b.removed = "caption"
        i += 1


def drop_empty_headings(d: Draft) -> None:
    """Pass: the heading of a table of contents, and headings whose whole content was removed."""
    blocks = d.pieces
    by_word: dict[str, list[int]] = defaultdict(list)  # headings by their words: similar ones share one
    for k, h in enumerate(blocks):
        if h.kind == "heading":
            for w in set(lower_words(h.text)):
                by_word[w].append(k)

    def like_another_heading(i: int) -> bool:
        near = {k for w in set(lower_words(blocks[i].text)) for k in by_word[w]}
        return any(
            k != i
            and blocks[k].kind == "heading"
            and not blocks[k].removed
            and similar_headings(blocks[i].text, blocks[k].text)
            for k in near
        )

    for i, b in enumerate(blocks):
        if b.toc_next and _RE_TOC_HEAD.match(b.text) and not b.removed:
            b.removed = "toc"
            continue
        if b.kind != "heading" or b.removed:
            continue
        if b.toc_next and _RE_TOC_HEAD.match(b.text):
            b.removed = "toc"
            continue
        following = []
        for j in range(i + 1, len(blocks)):
            if blocks[j].kind == "heading" and not blocks[j].removed and blocks[j].level <= b.level:
                break
            if blocks[j].kind == "heading" and blocks[j].removed:
                continue
            following.append(blocks[j])
        if (
            following
            and all(f.removed for f in following)
            and any(f.removed in ("teaser", "repeat", "colophon", "copyright", "pull quote") for f in following)
        ):
            if b.md_level or is_caps(b.text) or like_another_heading(i):
                b.removed = "empty"  # a teaser's or repeated slide's heading
            else:
                b.kind, b.level = "paragraph", 0  # a short line taken for a heading: keep it
