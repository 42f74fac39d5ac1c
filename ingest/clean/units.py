"""Lines wrongly run together or apart: where one block ends and the next begins, and lost bullets.

Blank lines separate segments; a segment is cut further where a new page starts (a line
that begins with a space after a finished line), after a short line that ends a
sentence, before a bullet, and after a title line that is followed by running text.
Lost bullets are recognised: an OCR'd lone ``e`` or a glyph at line start, or runs of
segments that all start with a stray space (the bullet glyph was dropped and only its
space is left). Runs of three or more tiny segments (labels of a figure) are dropped.
"""

from __future__ import annotations

import re

from ingest.clean.draft import Draft, Line, Unit
from ingest.clean.shapes import (
    RE_URL,
    ends_open,
    ends_terminal,
    finished,
    is_caps,
    starts_lower,
    starts_upper,
    title_like,
)

_RE_BULLET = re.compile(r"^([•●○◦▪▫■□◆◇►▸‣⁃∙·°➢➤✓✔]|[-–—*](?=\s))\s*(?=\S)")
_RE_OCR_BULLET = re.compile(r"^([e«»¢])\s+(?=\S)")
_RE_NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+(?=[A-Z\u00c0-\u00dd(‘'\"“])")


def bullet_of(text: str, ocr_bullets: bool) -> tuple[bool, int | None, str]:
    """(is a list item, its number, the text without the marker)."""
    t = text.strip()
    m = _RE_NUMBERED.match(t)
    if m:
        return True, int(m.group(1)), t[m.end() :]
    m = _RE_BULLET.match(t)
    if m:
        return True, None, t[m.end() :]
    if ocr_bullets:
        m = _RE_OCR_BULLET.match(t)
        if m and t[0] in "e«»¢":
            return True, None, t[m.end() :]
    return False, None, t


def _uses_ocr_bullets(lines: list[Line]) -> bool:
    """OCR bullets ("e item") count only if at least two segments start that way."""
    seg_firsts: list[str] = []
    prev_blank = True
    for ln in lines:
        if not ln.blank and prev_blank:
            seg_firsts.append(ln.text.strip())
        prev_blank = ln.blank
    return (
        sum(1 for t in seg_firsts if _RE_OCR_BULLET.match(t) and t[0] == "e") >= 2
        or sum(1 for t in seg_firsts if _RE_OCR_BULLET.match(t) and t[0] in "«»¢") >= 2
    )


def _segments(lines: list[Line]) -> list[list[Line]]:
    segments: list[list[Line]] = []
    cur: list[Line] = []
    for ln in lines:
        if ln.blank:
            if cur:
                segments.append(cur)
                cur = []
            continue
        cur.append(ln)
    if cur:
        segments.append(cur)
    return segments


def _groups(seg: list[Line], width: float, ocr_bullets: bool) -> list[list[Line]]:
    """Cut one segment where a new block starts."""
    groups: list[list[Line]] = []
    g: list[Line] = []
    for i, ln in enumerate(seg):
        t = ln.text.strip()
        new = False
        if i > 0:
            prev = seg[i - 1].text.strip()
            is_bullet, _, _ = bullet_of(t, ocr_bullets)
            in_list = bool(g) and bullet_of(g[0].text, ocr_bullets)[0]
            if ln.level or seg[i - 1].level or ln.bold:
                new = True  # a heading mark or a bold line
            elif seg[i - 1].bold and not (i == 1 and title_like(t, width) and len(seg) == 2):
                new = True  # after a bold line
            elif is_bullet and (in_list or t[:1] not in "-–" or ends_terminal(prev) or prev.endswith((":", ";"))):
                new = True  # a bullet
            elif (
                ln.raw[:1] in " \t"
                and starts_upper(t)
                and (finished(prev) or prev.endswith((":", ";")) or not ends_open(prev))
            ):
                new = True  # a new page (or paragraph) starts with a stray space
            elif (
                finished(prev)
                and (len(prev) < 0.6 * width or RE_URL.fullmatch(prev))
                and starts_upper(t)
                and not RE_URL.match(t)
                and not bullet_of(prev, ocr_bullets)[0]
            ):
                new = True  # short last line of a paragraph
        if new and not ln.level and not seg[i - 1].level and not is_bullet and is_caps(t) and is_caps(seg[i - 1].text):
            new = False  # a heading in capitals stacked on two lines
        if new and g:
            groups.append(g)
            g = []
        g.append(ln)
    if g:
        groups.append(g)
    return groups


def cut_units(d: Draft) -> None:
    """Pass: the content lines cut into units (see the module docstring)."""
    width = d.width
    ocr_bullets = _uses_ocr_bullets(d.lines)
    units: list[Unit] = []
    for si, seg in enumerate(_segments(d.lines)):
        for gi, grp in enumerate(_groups(seg, width, ocr_bullets)):
            first = grp[0]
            u = Unit(
                lines=[x.text.strip() for x in grp],
                raw=[x.raw for x in grp],
                page=first.page,
                seg=si,
                seg_start=gi == 0,
                indent=first.raw[:1] in " \t",
                md_level=first.level,
                bold=first.bold and len(grp) == 1,
                toc_next=grp[-1].toc_next,
            )
            b, num, rest = bullet_of(u.lines[0], ocr_bullets)
            if b and not u.md_level:
                u.bullet, u.number = True, num
                u.lines[0] = rest
            units.extend(extract_titles(u, width))
    d.units = units


def extract_titles(u: Unit, width: float) -> list[Unit]:
    """Split leading title lines off a unit whose remaining lines are running text."""
    out: list[Unit] = []
    while not u.bullet and not u.md_level and len(u.lines) >= 2:
        # a title run: a short line plus lower-case continuation lines
        j = 1
        joined = u.lines[0]
        while (
            j < len(u.lines)
            and starts_lower(u.lines[j])
            and len(joined) + len(u.lines[j]) <= 90
            and len(u.lines[j]) < 0.6 * width
        ):
            joined = joined + " " + u.lines[j]
            j += 1
        if j >= len(u.lines):
            break
        if any(len(x) >= 0.6 * width for x in u.lines[:j]) or not title_like(joined, width):
            break
        if is_caps(joined) is False and u.lines[0][-1:] in ",:" and j == 1:
            break
        rest = u.lines[j:]
        if (
            not any(len(x) >= 0.6 * width for x in rest)
            and not is_caps(joined)
            and not (len(rest) == 1 and ends_terminal(rest[0]))
        ):
            break
        if is_caps(joined) and all(is_caps(x) for x in rest):
            break  # a heading stacked on two lines
        if not starts_upper(rest[0]):
            break
        head = Unit(
            lines=u.lines[:j], raw=u.raw[:j], page=u.page, seg=u.seg, seg_start=u.seg_start, indent=u.indent, title=True
        )
        out.append(head)
        u = Unit(lines=rest, raw=u.raw[j:], page=u.page, seg=u.seg, seg_start=False)
    out.append(u)
    return out


def drop_figure_labels(d: Draft) -> None:
    """Pass: runs of >= 3 tiny segments (a word or three, no sentence) are labels of a figure."""
    units = d.units

    def tiny(u: Unit) -> bool:
        t = " ".join(u.lines)
        return (
            u.seg_start
            and not u.md_level
            and not u.bullet
            and len(t) <= 30
            and len(t.split()) <= 3
            and not RE_URL.search(t)
            and not re.search(r"[.!?:;]\W*$", t)
        )

    keep = [True] * len(units)
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and tiny(units[j]) and (j == i or units[j].seg == units[j - 1].seg + 1):
            j += 1
        if j - i >= 3:
            for k in range(i, j):
                keep[k] = False
            i = j
        else:
            i += 1
    d.units = [u for u, k in zip(units, keep) if k]


def mark_lost_bullets(d: Draft) -> None:
    """Pass: runs of >= 2 segments that each start with a stray space lost their bullet glyph."""
    starts = [u for u in d.units if u.seg_start]
    i = 0
    while i < len(starts):
        j = i
        while (
            j < len(starts)
            and starts[j].indent
            and not starts[j].bullet
            and not starts[j].md_level
            and not is_caps(" ".join(starts[j].lines))
            and not starts[j].title
            and (j == i or starts[j].seg == starts[j - 1].seg + 1)
        ):
            j += 1
        if j - i >= 2:
            for k in range(i, j):
                starts[k].bullet = True
            i = j
        else:
            i += 1
