"""Footnotes: taken out of the running text and attached to the sentence that carries their marker.

A footnote is a numbered line at the foot of a page ("2 Dit aantal betreft leerlingen
die …", possibly going on over a few lines) whose number occurs as a *marker* above it: a
``<sup>2</sup>`` tag, a digit glued to a word ("thuiszitters2") or to the punctuation
after it ("leerlingen.2"), or markdown's ``[^2]``. In a PDF the foot of a page is the
end of its text (the numbered lines after the body, before a page number); in a
converted text, where the pages are gone, it is a block of such lines next to a page
break (``---``), or at the end. Markdown's own definitions (``[^2]: …``) count wherever
they stand.

:func:`take_footnotes` (a line pass, before the non-content lines are dropped) removes
the note's lines, so that a sentence broken by them continues, and the marker digit from
its word; it remembers the note, the raw line of its marker and the letters just before
the marker. :func:`attach_footnotes` (after the pieces are written) gives the piece built
from that line the note: ``notes`` (marker → text) and ``note_at`` (the offset in its text
just after the marked word, inside the sentence that carries it).

A numbered line without a marker above it is not a footnote (a list item, a sentence that
opens with a count), and a marker without a footnote is left to the word repairs (in
:mod:`ingest.clean.words`: a reference to a numbered literature list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from ingest.clean.draft import Draft, Footnote, Line, Piece
from ingest.clean.finish import fix_spacing
from ingest.clean.join import join_lines
from ingest.clean.lines import is_page_furniture, is_rule
from ingest.clean.markup import strip_markup

#: a footnote's first line: its number and a text that starts like a sentence ("2 Dit aantal …")
_RE_DEF = re.compile(r"^\s*(\d{1,3})(?:\s+|(?=[A-Z][a-z]))([A-Z\u00c0-\u00dd“‘\"'(].*)$")
#: a markdown footnote definition: "[^2]: text"
_RE_MD_DEF = re.compile(r"^\s*\[\^([\w-]{1,12})\]:\s*(.*)$")
_RE_SUP = re.compile(r"<sup>\s*([\d\s,–-]{1,20})\s*</sup>", re.I)
_RE_MD_MARK = re.compile(r"\[\^([\w-]{1,12})\](?!:)")
#: digits glued to a lower-case word ("thuiszitters2") or to the punctuation after it ("leerlingen.2")
_RE_GLUED = re.compile(
    r"(?:(?<=[a-zà-ÿ]{3})|(?<=[a-zà-ÿ)”’\"'%][.,;:!?])|(?<=[.!?][”’\"]))(\d{1,3}(?:,\d{1,3})*)(?=[\s.,;:!?)]|$)"
)

MAX_FOLLOW = 4  # lines a footnote may go on for after its numbered line
MAX_NOTE = 800  # characters: a longer "note" is running text
ANCHOR = 40  # letters before the marker that find it again in the finished text
MIN_ANCHOR = 12  # fewer letters on the marker's line: the previous line's are added


@dataclass
class _Def:
    """A footnote's lines in one page: where it starts, its marker and its lines."""

    start: int  # index of its first line in the page
    marker: str
    lines: list[str]


def letters(text: str) -> str:
    """The letters and digits of ``text``, lower-cased: what survives every repair of a line."""
    return "".join(c.lower() for c in text if c.isalnum())


def _numbers(group: str) -> list[str]:
    return [n for n in re.split(r"[\s,–-]+", group) if n]


def _def_start(line: Line) -> tuple[str, str] | None:
    """(number, text) when the line opens a footnote ("2 Dit aantal …")."""
    if line.blank or line.level or line.bold:
        return None
    m = _RE_DEF.match(line.text)
    if not m:
        return None
    text = m.group(2).strip()
    if len(text.split()) < 3 or not re.search(r"[a-zà-ÿ]{2}", text):
        return None
    return m.group(1), text


def _note_text(lines: list[str]) -> str:
    return fix_spacing(join_lines(lines, set(), set()))


class _Markers:
    """Finds the marker of a footnote in the lines above it and takes it out of its word."""

    def __init__(self, page_lines: list[list[Line]]):
        self.pages = page_lines
        self.used: set[tuple[int, int, int]] = set()  # (page, line, position) of markers taken

    def take(self, number: str, page: int, before: int, first_page: int) -> tuple[Line, str] | None:
        """The line whose marker ``number`` is nearest above line ``before`` of ``page`` (not
        above ``first_page``), and the letters before the marker; the marker leaves the text."""
        for p in range(page, first_page - 1, -1):
            lines = self.pages[p]
            end = before if p == page else len(lines)
            for i in range(end - 1, -1, -1):
                found = self._find(lines[i], number, (p, i))
                if found is None:
                    continue
                line, before_text, key = found
                self.used.add(key)
                if len(letters(before_text)) < MIN_ANCHOR:
                    prev = next((x for x in reversed(lines[:i]) if not x.blank), None)
                    if prev is not None:
                        before_text = prev.text + " " + before_text
                return line, letters(before_text)[-ANCHOR:]
        return None

    def _find(self, line: Line, number: str, at: tuple[int, int]) -> tuple[Line, str, tuple[int, int, int]] | None:
        if line.blank:
            return None
        for m in reversed(list(_RE_SUP.finditer(line.raw))):
            if number in _numbers(m.group(1)) and (*at, -1 - m.start()) not in self.used:
                return line, strip_markup(line.raw[: m.start()])[0], (*at, -1 - m.start())
        for rx in (_RE_MD_MARK, _RE_GLUED):
            for m in reversed(list(rx.finditer(line.text))):
                if number in _numbers(m.group(1)) and (*at, m.start()) not in self.used:
                    before = line.text[: m.start()]
                    line.text = before + line.text[m.end() :]
                    return line, before, (*at, m.start())
        return None


def _chain(lines: list[Line], idx: list[int]) -> list[_Def]:
    """The numbered footnote lines among ``idx`` (lines of one page, in order), each with the
    lines that go on with it; a line of running text after one ends the chain."""
    defs: list[_Def] = []
    for i in idx:
        opened = _def_start(lines[i])
        if opened is not None and (not defs or int(opened[0]) > int(defs[-1].marker)):
            defs.append(_Def(i, opened[0], [opened[1]]))
        elif defs and len(defs[-1].lines) <= MAX_FOLLOW:
            defs[-1].lines.append(lines[i].text.strip())
        else:
            return []
    return defs


def _page_foot(lines: list[Line]) -> list[_Def]:
    """The footnotes at the end of a PDF page's text: numbered lines with rising numbers,
    each followed by at most ``MAX_FOLLOW`` lines, up to the page number or footer."""
    content = [i for i, ln in enumerate(lines) if not ln.blank and not is_rule(ln.text)]
    while content and is_page_furniture(lines[content[-1]].text):
        content.pop()
    starts = [k for k, i in enumerate(content) if _def_start(lines[i]) is not None]
    # the longest tail of the page that reads as footnotes, from its highest possible start
    for k in starts:
        if len(content) - k > (MAX_FOLLOW + 1) * 6:
            continue
        defs = _chain(lines, content[k:])
        if defs:
            return defs
    return []


def _segments(lines: list[Line], lo: int, hi: int) -> list[list[int]]:
    """The blank-line separated runs of lines ``lo``..``hi`` (indices)."""
    out: list[list[int]] = []
    cur: list[int] = []
    for i in range(lo, hi):
        if lines[i].blank:
            if cur:
                out.append(cur)
                cur = []
        else:
            cur.append(i)
    if cur:
        out.append(cur)
    return out


def _text_feet(lines: list[Line]) -> list[_Def]:
    """The footnotes of a text without pages: numbered blocks next to a page break (``---``)
    or at the end, and markdown definitions (``[^2]: …``) anywhere."""
    defs: list[_Def] = []
    rules = [i for i, ln in enumerate(lines) if not ln.blank and is_rule(ln.text)]
    bounds = [-1, *rules, len(lines)]
    for lo, hi in pairwise(bounds):
        segs = _segments(lines, lo + 1, hi)
        chosen: list[list[int]] = []
        for seg in segs:  # from the top of the stretch
            if _def_start(lines[seg[0]]) is None or lo < 0:
                break
            chosen.append(seg)
        for seg in reversed(segs[len(chosen) :]):  # and from its end
            if _def_start(lines[seg[0]]) is None:
                break
            chosen.append(seg)
        for seg in chosen:
            if len(seg) <= MAX_FOLLOW * 2:
                defs.extend(_chain(lines, seg))
    for i, ln in enumerate(lines):
        m = _RE_MD_DEF.match(ln.raw)
        if m and not ln.blank:
            follow = [j for j in range(i + 1, min(len(lines), i + 1 + MAX_FOLLOW)) if lines[j].raw[:1] in " \t"]
            follow = follow[: next((k for k, j in enumerate(follow) if lines[j].blank), len(follow))]
            text = [strip_markup(m.group(2))[0], *(lines[j].text.strip() for j in follow)]
            defs.append(_Def(i, m.group(1), [t for t in text if t]))
    return sorted(defs, key=lambda d: d.start)


def take_footnotes(d: Draft) -> None:
    """Pass: footnotes out of the running text, their markers out of their words (see the docstring)."""
    markers = _Markers(d.page_lines)
    for p, lines in enumerate(d.page_lines):
        paged = d.pages[p].number is not None if p < len(d.pages) else False
        found = _page_foot(lines) if paged else _text_feet(lines)
        drop: set[int] = set()
        for fn in found:
            text = _note_text(fn.lines)
            if not text or len(text) > MAX_NOTE:
                continue
            marked = markers.take(fn.marker, p, fn.start, max(0, p - 1) if paged else p)
            if marked is None:
                continue  # a number, not a note: it stays where it is
            line, anchor = marked
            d.footnotes.append(Footnote(fn.marker, text, line.raw, anchor))
            drop.update(range(fn.start, fn.start + 1))
            drop.update(_follow_lines(lines, fn))
        if drop:
            d.page_lines[p] = [ln for i, ln in enumerate(lines) if i not in drop]


def _follow_lines(lines: list[Line], fn: _Def) -> list[int]:
    """The indices of the lines after a footnote's first line that belong to it."""
    out: list[int] = []
    want = len(fn.lines) - 1
    i = fn.start + 1
    while want > 0 and i < len(lines):
        if not lines[i].blank and not is_rule(lines[i].text) and not is_page_furniture(lines[i].text):
            out.append(i)
            want -= 1
        i += 1
    return out


def _place(piece: Piece, anchor: str) -> int | None:
    """The offset in the piece's text just after the letters ``anchor`` (or its last part)."""
    idx = [i for i, c in enumerate(piece.text) if c.isalnum()]
    flat = "".join(piece.text[i].lower() for i in idx)
    for size in (len(anchor), 20, 10):
        part = anchor[-size:]
        if len(part) < min(size, len(anchor)) or not part:
            continue
        at = flat.find(part)
        if at >= 0:
            return idx[at + len(part) - 1] + 1
    return None


def attach_footnotes(d: Draft) -> None:
    """Pass: each footnote to the piece built from its marker's line, at the marked word."""
    for fn in d.footnotes:
        raw = fn.raw.rstrip()
        holders = [p for p in d.pieces if not p.removed and raw in p.raw.splitlines()]
        placed = [(p, _place(p, fn.anchor)) for p in holders]
        found = next(((p, at) for p, at in placed if at is not None), None)
        if found is None:  # the line was joined or repaired beyond recognition: look for the words
            found = next(
                ((p, at) for p in d.pieces if not p.removed and (at := _place(p, fn.anchor)) is not None), None
            )
        if found is None and holders:
            found = (holders[0], len(holders[0].text))
        if found is None:
            continue
        piece, at = found
        key = fn.marker
        while key in piece.notes:
            key += "′"
        piece.notes[key] = fn.text
        piece.note_at[key] = at
