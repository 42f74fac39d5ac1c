"""Blocks broken apart by page breaks and lost formatting: sentences cut in two, lists, headings.

Each unit becomes a heading, a paragraph or a list. A unit that continues an unfinished
sentence (it starts in lower case, or the previous one ends in a hyphen, comma or
function word) is joined to it, also across page breaks and across a pull quote spliced
into the sentence. Bullets become list blocks; a numbered list whose later items lost
their numbers (items that end in ``;``) stays one list. Headings are markdown ``#``
lines, bold lines, ALL-CAPS lines and short title lines followed by running text.
"""

from __future__ import annotations

from ingest.clean.draft import Draft, Unit
from ingest.clean.shapes import (
    RE_CAPTION,
    RE_URL,
    ends_open,
    ends_terminal,
    is_caps,
    starts_lower,
    starts_upper,
    title_like,
)


def _line_list(u: Unit, width: float) -> bool:
    """Three or more short lines that each stand alone (names, addresses): a list."""
    if len(u.lines) < 3:
        return False
    for ln in u.lines:
        if (
            len(ln) >= 60
            or len(ln) >= 0.6 * width
            or not starts_upper(ln)
            or ends_open(ln)
            or ln.rstrip()[-1:] in ",;:-"
        ):
            return False
    return True


def classify(d: Draft) -> None:
    """Pass: each unit's kind (heading, paragraph, list) and heading level, from its own lines."""
    for u in d.units:
        text = " ".join(u.lines)
        if u.md_level:
            u.kind, u.level = "heading", u.md_level
        elif u.bullet:
            u.kind = "list"
        elif u.bold and len(text) <= 100 and not text.rstrip().endswith("."):
            u.kind, u.level = "heading", 2  # a bold line
        elif is_caps(text) and len(text) <= 150 and not text.rstrip().endswith(".") and not RE_URL.search(text):
            u.kind, u.level = "heading", 2  # a line in capitals
        elif u.title:
            u.kind, u.level = "heading", 2  # a title line followed by running text
        elif _line_list(u, d.width):
            u.kind = "list"
            u.items = [[ln] for ln in u.lines]
            u.item_nums = [None] * len(u.lines)
        else:
            u.kind = "paragraph"


def _continues(a: Unit, b: Unit) -> bool:
    """Does unit ``b`` continue the unfinished sentence at the end of unit ``a``?"""
    if a.kind not in ("paragraph", "list") or b.kind != "paragraph" or b.title:
        return False
    last = a.lines[-1] if a.lines else ""
    if ends_terminal(last) or last.rstrip().endswith((":", ";")):
        return False
    first = b.lines[0]
    if starts_lower(first) and not RE_URL.match(first):
        return True
    return ends_open(last) and not is_caps(first)


def merge_continuations(d: Draft) -> None:
    """Pass: a unit that continues the previous one's sentence is joined to it (see the docstring)."""
    units = d.units
    out: list[Unit] = []
    i = 0
    pending: list[Unit] = []
    while i < len(units):
        u = units[i]
        if out and _continues(out[-1], u):
            out[-1].lines.extend(u.lines)
            out[-1].raw.extend(u.raw)
            i += 1
            continue
        # a pull quote or caption spliced into an unfinished sentence: look past it
        if (
            out
            and out[-1].kind in ("paragraph", "list")
            and u.kind == "paragraph"
            and len(" ".join(u.lines)) <= 250
            and i + 1 < len(units)
        ):
            nxt = units[i + 1]
            last = out[-1].lines[-1]
            own = " ".join(u.lines)
            interrupting = (ends_terminal(own) or title_like(own, 1000)) and not ends_open(own)
            if (
                interrupting
                and not ends_terminal(last)
                and not last.endswith((":", ";"))
                and nxt.kind == "paragraph"
                and not nxt.title
                and starts_lower(nxt.lines[0])
                and not RE_URL.match(nxt.lines[0])
                and not starts_lower(u.lines[0])
            ):
                out[-1].lines.extend(nxt.lines)
                out[-1].raw.extend(nxt.raw)
                pending.append(u)
                i += 2
                out.extend(pending)
                pending = []
                continue
        out.append(u)
        i += 1
    d.units = out


def build_lists(d: Draft) -> None:
    """Pass: consecutive list units become one list; items that lost their marker are found.

    A line after an item ending in ';' that starts in capitals is a new item, and so is a
    short paragraph right after a ';'-list (its last item lost its marker).
    """
    out: list[Unit] = []
    for u in d.units:
        if u.kind == "list":
            items: list[list[str]] = [[u.lines[0]]]
            nums: list[int | None] = [u.number]
            if u.items:
                items, nums = u.items, u.item_nums
            for ln in [] if u.items else u.lines[1:]:
                prev = items[-1][-1]
                if prev.rstrip().endswith(";") and starts_upper(ln):
                    items.append([ln])  # the item marker was lost
                    nums.append(None)
                else:
                    items[-1].append(ln)
            if out and out[-1].kind == "list":
                lst = out[-1]
                lst.items.extend(items)
                lst.item_nums.extend(nums)
                lst.raw.extend(u.raw)
                continue
            u.items, u.item_nums = items, nums
            out.append(u)
            continue
        if out and out[-1].kind == "list" and u.kind == "paragraph":
            lst = out[-1]
            last_item = lst.items[-1][-1].rstrip()
            if last_item.endswith(";") and starts_upper(u.lines[0]) and len(" ".join(u.lines)) <= 200:
                lst.items.append(list(u.lines))  # the last item of a ';' list lost its marker
                lst.item_nums.append(None)
                lst.raw.extend(u.raw)
                continue
        out.append(u)
    d.units = out


def resolve_headings(d: Draft) -> None:
    """Pass: short title-like paragraph units followed by running text become headings."""
    units, width = d.units, d.width

    def real_paragraph(v: Unit) -> bool:
        t = " ".join(v.lines)
        return v.kind == "list" or (v.kind == "paragraph" and (len(t) >= 80 or (len(t) >= 40 and ends_terminal(t))))

    first_content = 0 if units else None
    for i in range(len(units) - 1, -1, -1):
        u = units[i]
        if u.kind != "paragraph":
            continue
        joined = " ".join(u.lines)
        if (
            len(u.lines) > 1
            and not all(starts_lower(x) for x in u.lines[1:])
            and not (i == first_content and all(len(x) < 0.6 * width for x in u.lines))
        ):
            continue
        if not title_like(joined, width, bang=u.indent):
            continue
        if RE_CAPTION.match(joined):
            continue
        nxt = units[i + 1] if i + 1 < len(units) else None
        if i == first_content and (nxt is None or nxt.kind == "heading" or real_paragraph(nxt)):
            u.kind, u.level = "heading", 1
        elif (
            nxt is not None
            and (u.seg_start or u.indent)
            and (
                (real_paragraph(nxt) and nxt.kind == "paragraph")
                or (u.indent and nxt.kind == "heading" and not nxt.md_level)
            )
        ):
            u.kind, u.level = "heading", 2
