"""Lines that are not content: page-break rules, page numbers, footers, running headers, contents, junk.

Dropped: lone page numbers (``12``, ``- 13 -``, ``Pagina 3 van 9``), page footers
(``… | Versie 2 | November 2020 4``), lines that recur at the top or bottom of many pages
(running headers and footers; in a one-page text, a line that recurs far apart with only
its number changed), table-of-contents lines (dot leaders or a tab before a page number,
or a run of three or more ``Title 12`` lines with rising numbers), and short lines of OCR
noise or logo text (``@ idersregister PO``). Page-break rules (``---``, ``.....``) and
contents lines become blank lines marked as a break, so that a sentence may continue
across them. Also measures the document's typical full line length and counts its words
(the hyphenation and word repairs ask what the document itself writes).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from itertools import pairwise

from ingest.clean.draft import Draft, Line
from ingest.clean.lexicon import WORD, zipf
from ingest.clean.shapes import RE_URL

_RE_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,}|(?:\.\s?){4,}|…{2,}|·{3,})\s*$")
_RE_PAGENUM = re.compile(
    r"^\s*(?:\d{1,3}|[-–—]\s*\d{1,3}\s*[-–—]|(?:pagina|page|blz\.?|p\.)\s*\d{1,3}(?:\s*(?:van|of|/)\s*\d{1,3})?"
    r"|\d{1,3}\s*(?:/|van|of)\s*\d{1,3})\s*$",
    re.I,
)
_RE_FOOTER = re.compile(r"^.{2,120}?\s\|\s.{1,80}\s\d{1,3}\s*$")
_RE_TOC = re.compile(r"^\s*(\S.{1,150}?)(?:\s*(?:\.\s?){3,}\s*|\s*…+\s*|\t+)\s*(\d{1,3})\s*$")
_RE_TOC_LOOSE = re.compile(r"^\s*([A-Z\u00c0-\u00dd0-9].{2,120}?[^\s.,;:!?])\s+(\d{1,3})\s*$")

_ODD = set("~^{}<>\\|@#$%=_¬§¤`")


def is_rule(text: str) -> bool:
    """A page-break rule: ``---``, ``.....`` and the like."""
    return bool(_RE_RULE.match(text))


def is_page_furniture(text: str) -> bool:
    """A page number (``12``, ``Pagina 3 van 9``) or a page footer (``… | Versie 2 | November 2020 4``)."""
    t = text.strip()
    return bool(_RE_PAGENUM.match(t) or _RE_FOOTER.match(t))


def is_junk_line(text: str) -> bool:
    """A short line that is mostly non-words with odd characters (OCR noise, logo text)."""
    s = text.strip()
    if not s or len(s) > 40:
        return False
    tokens = s.split()
    if len(tokens) > 4:
        return False
    if RE_URL.fullmatch(s):
        return False
    if s[0] in "@©®™" and len(s) < 50:
        return True  # logo text: "@ idersregister PO"
    words = [re.sub(r"[^\w’']", "", t) for t in tokens]
    words = [w for w in words if w and not w.isdigit()]
    if not words:
        return False
    known = sum(1 for w in words if zipf(w) >= 2.0 or (w.isupper() and 2 <= len(w) <= 6))
    odd = any(c in _ODD for c in s)
    mixed = any(re.search(r"[a-z][A-Z]", w) and zipf(w) == 0 for w in words)
    novowel = any(len(w) >= 4 and not re.search(r"[aeiouyAEIOUYà-ÿ]", w) for w in words)
    return known / len(words) < 0.5 and (odd or mixed or novowel)


def _norm_repeat(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", s.strip().lower()))


def _repeated_lines(per_page: list[list[Line]]) -> set[str]:
    """Running headers and footers (normalised by :func:`_norm_repeat`)."""
    if len(per_page) >= 3:
        # short lines near the top/bottom that recur on many pages
        counts: Counter[str] = Counter()
        for lines in per_page:
            content = [ln for ln in lines if not ln.blank]
            edge = content[:3] + content[-3:]
            counts.update(
                {_norm_repeat(ln.text) for ln in edge if len(ln.text.strip()) < 100 and len(ln.text.split()) <= 12}
            )
        need = max(3, math.ceil(0.4 * len(per_page)))
        return {k for k, c in counts.items() if c >= need and re.search(r"\w", k)}
    # one page (txt/md): a line that recurs far apart with only its number changed is a
    # page footer ("… | Versie 2 | November 2020 4" and "… 5"); "Groep 1/Groep 2" is not
    by_norm: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for lines in per_page:
        for pos, ln in enumerate(lines):
            t = ln.text.strip()
            if not ln.blank and len(t) < 120 and len(t.split()) >= 3 and re.search(r"\d\s*$", t):
                by_norm[_norm_repeat(t)].append((pos, t))
    return {
        k for k, v in by_norm.items() if len({t for _, t in v}) >= 2 and min(b[0] - a[0] for a, b in pairwise(v)) >= 5
    }


def _loose_toc_runs(lines: list[Line]) -> list[bool]:
    """Lines in a loose table-of-contents run: >= 3 consecutive "Title 12" lines."""
    loose_m = [None if ln.blank else _RE_TOC_LOOSE.match(ln.text) for ln in lines]
    loose = [m is not None and len(m.group(1).split()) >= 2 for m in loose_m]
    run_ok = [False] * len(lines)
    i = 0
    while i < len(lines):
        if loose[i]:
            j = i
            while j < len(lines) and loose[j]:
                j += 1
            nums = [int(m.group(2)) for m in loose_m[i:j] if m]
            if j - i >= 3 and nums == sorted(nums) and nums[-1] > nums[0]:
                for k in range(i, j):
                    run_ok[k] = True
            i = j
        else:
            i += 1
    return run_ok


def drop_non_content(d: Draft) -> None:
    """Pass: the content lines of all pages, in order; blank lines are kept as separators."""
    per_page = d.page_lines
    drop_norm = _repeated_lines(per_page)
    result: list[Line] = []
    for lines in per_page:
        if result:
            result.append(Line("", "", None, blank=True, brk=True))
        run_ok = _loose_toc_runs(lines)
        for idx, ln in enumerate(lines):
            if ln.blank:
                result.append(ln)
                continue
            t = ln.text.strip()
            if _RE_RULE.match(t):
                result.append(Line("", ln.raw, ln.page, blank=True, brk=True))
                continue
            if _RE_PAGENUM.match(t) or _RE_FOOTER.match(t) or _norm_repeat(t) in drop_norm:
                continue
            if (_RE_TOC.match(t) and not ln.level) or run_ok[idx]:
                prev = next((x for x in reversed(result) if not x.blank), None)
                if prev is not None:
                    prev.toc_next = True
                result.append(Line("", ln.raw, ln.page, blank=True, brk=True))
                continue
            prev_blank = idx == 0 or lines[idx - 1].blank
            next_blank = idx + 1 >= len(lines) or lines[idx + 1].blank
            if prev_blank and next_blank and is_junk_line(t):
                continue
            result.append(ln)
    d.lines = result


def line_width(lines: list[Line]) -> float:
    """Typical full line length: 90th percentile of the lines in multi-line segments."""
    lengths: list[int] = []
    run: list[int] = []
    for ln in [*lines, Line("", "", None, blank=True)]:
        if ln.blank:
            if len(run) >= 2:
                lengths.extend(run)
            run = []
        else:
            run.append(len(ln.text.strip()))
    if not lengths:
        lengths = [len(ln.text.strip()) for ln in lines if not ln.blank] or [80]
    lengths.sort()
    return float(max(40, lengths[int(0.9 * (len(lengths) - 1))]))


def measure_width(d: Draft) -> None:
    """Pass: the typical full line length, which tells short lines (titles, paragraph ends) apart."""
    d.width = line_width(d.lines)


def count_words(d: Draft) -> None:
    """Pass: the document's own words, and the hyphenated words it writes within a line."""
    doc_counts: Counter[str] = Counter()
    hyph_vocab: set[str] = set()
    for ln in d.lines:
        if ln.blank:
            continue
        doc_counts.update(w.lower() for w in re.findall(WORD, ln.text))
        for m in re.finditer(r"(?<![\w-])[^\W\d_]+(?:-[^\W\d_]+)+(?![\w-])", ln.text):
            hyph_vocab.add(m.group(0).lower())
    d.doc_counts = doc_counts
    d.hyph_vocab = hyph_vocab
    d.vocab = {w for w in doc_counts if len(w) > 3}
