"""Units written out as finished blocks: lines joined, words repaired, spacing tidied.

Each unit becomes a :class:`~ingest.clean.draft.Piece`: its lines are joined (with
:func:`ingest.clean.join.join_lines`), its words repaired (with
:func:`ingest.clean.words.fix_words`), link labels such as "Lees meer" dropped and the
spacing around punctuation fixed ("wel , maar" → "wel, maar", "“ Je" → "“Je"). A list
becomes one piece with a ``- `` line per item; a numbered list whose later items lost
their numbers is numbered on. Units left without a word are dropped.
"""

from __future__ import annotations

import re
from collections import Counter

from ingest.clean.draft import Draft, Piece
from ingest.clean.join import join_lines
from ingest.clean.words import fix_words

_RE_LINK_LABEL = re.compile(
    r"(?:(?<=[.!?])|^)\s*(?:→\s*)?(?:lees meer|meer lezen|lees verder|meer informatie|klik hier)\s*[.!]?(?=\s|$)",
    re.I,
)


def fix_spacing(text: str, collapse: bool = True) -> str:
    """Runs of spaces collapsed (when ``collapse``) and stray spaces around punctuation removed."""
    t = re.sub(r"[ \t]+", " ", text).strip() if collapse else text.replace("\t", " ").strip()
    t = re.sub(r"([“‘„(\[])\s+(?=\w)", r"\1", t)  # "“ Je" -> "“Je"
    t = re.sub(r"(?<=\w)\s+([,;:!?](?:\s|$))", r"\1", t)  # "wel , maar"
    t = re.sub(r"(?<=\w)\s+([.,;:!?])$", r"\1", t)
    t = re.sub(r"(?<=\w)\s+([”’)\]])(?=\s|[.,;:!?]|$)", r"\1", t)
    return t


def finish(text: str, doc_counts: Counter[str]) -> str:
    """One joined text with its words repaired and its spacing tidied."""
    text = fix_spacing(text, collapse=False)
    text = fix_words(text, doc_counts)
    text = _RE_LINK_LABEL.sub("", text)
    return fix_spacing(text)


def write_pieces(d: Draft) -> None:
    """Pass: every unit as a piece with its finished text (see the module docstring)."""
    out: list[Piece] = []
    for u in d.units:
        raw = "\n".join(r.rstrip() for r in u.raw).strip("\n")
        if u.kind == "list":
            items = []
            # a numbered list whose later items lost their numbers is numbered on
            nums = list(u.item_nums)
            if nums and nums[0] is not None:
                for k in range(1, len(nums)):
                    prev = nums[k - 1]
                    if nums[k] is None and prev is not None:
                        nums[k] = prev + 1
            for it, n in zip(u.items, nums):
                t = finish(join_lines(it, d.vocab, d.hyph_vocab, item=True), d.doc_counts)
                if not t:
                    continue
                items.append(f"- {n}. {t}" if n is not None else f"- {t}")
            if items:
                out.append(Piece("list", "\n".join(items), raw, u.page, 0))
            continue
        text = finish(join_lines(u.lines, d.vocab, d.hyph_vocab, heading=u.kind == "heading"), d.doc_counts)
        if not text or not re.search(r"\w", text):
            continue
        out.append(
            Piece(
                u.kind,
                text,
                raw,
                u.page,
                u.level if u.kind == "heading" else 0,
                toc_next=u.toc_next,
                md_level=u.md_level,
            )
        )
    d.pieces = out
