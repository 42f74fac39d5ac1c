"""Repair conversion damage in Dutch PDF/slide text and cut it into clean blocks.

``clean_pages(pages)`` turns the pages of one document into an ordered list of
:class:`~ingest.types.Block` (heading, paragraph or list). The steps, in order:

1. **Lines.** Markup left by converters is stripped (``<sup>`` footnote markers,
   markdown links and emphasis, ``#`` heading marks are remembered as levels).
   Lines that are not content are dropped: page-break rules (``---``, ``.....``),
   lone page numbers, page footers (``… | Versie 2 | November 2020 4``), lines that
   recur on many pages (running headers/footers), table-of-contents lines
   (dot leaders or a tab before a page number), and junk OCR lines or logo text.
2. **Units.** Blank lines separate segments; a segment is cut further where a new
   page starts (a line that begins with a space after a finished line), after a
   short line that ends a sentence, before a bullet, and after a title line that is
   followed by running text. Lost bullets are recognised: an OCR'd lone ``e`` or a
   glyph at line start, or runs of segments that all start with a stray space (the
   bullet glyph was dropped and only its space is left).
3. **Blocks.** A unit that continues an unfinished sentence (it starts in lower case,
   or the previous one ends in a hyphen, comma or function word) is joined to it,
   also across page breaks and across a pull quote spliced into the sentence.
   Bullets become list blocks; a numbered list whose later items lost their numbers
   (items that end in ``;``) stays one list. Headings are markdown ``#`` lines, bold
   lines, ALL-CAPS lines and short title lines followed by running text.
4. **Words.** Hard-wrapped lines are joined; end-of-line hyphenation is undone with
   the Dutch word list (real hyphens survive); words split by stray spaces are
   merged and words run together are split, only when the word list clearly says
   so; OCR accent and glyph errors are corrected against the word list.
5. **Document.** Repeated blocks are dropped (the first occurrence is kept, except a
   teaser block that repeats a section's opening paragraph under the same heading,
   where the section keeps it), and so are pull quotes that repeat a sentence of the
   running text, photo captions (``V.l.n.r.:``), colophon/copyright blocks and
   headings whose whole content was removed.

Every block keeps the original lines it came from in ``raw``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.types import Block, Page

__all__ = ["clean_pages", "clean_text"]

# --------------------------------------------------------------------------------------
# Dutch word list (wordfreq), loaded lazily once

_FREQ: dict[str, float] | None = None
_TOP: frozenset[str] | None = None

#: when a list, word-level repairs are recorded here as (rule, before, after) for inspection
TRACE: list[tuple[str, str, str]] | None = None


def _trace(rule: str, before: str, after: str) -> str:
    if TRACE is not None and before != after:
        TRACE.append((rule, before, after))
    return after



def _freq() -> dict[str, float]:
    global _FREQ
    if _FREQ is None:
        try:
            import wordfreq

            _FREQ = wordfreq.get_frequency_dict("nl", wordlist="best")
        except Exception:  # pragma: no cover - wordfreq is a declared dependency
            _FREQ = {}
    return _FREQ


def _top() -> frozenset[str]:
    """The most frequent Dutch words (function words and the like)."""
    global _TOP
    if _TOP is None:
        try:
            import wordfreq

            _TOP = frozenset(wordfreq.top_n_list("nl", 300))
        except Exception:  # pragma: no cover
            _TOP = frozenset()
    return _TOP


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """Zipf frequency of a single Dutch word (0.0 when unknown)."""
    w = word.lower().replace("’", "'")
    f = _freq().get(w)
    return math.log10(f) + 9.0 if f else 0.0


_FREQ_EN: dict[str, float] | None = None


@lru_cache(maxsize=20_000)
def zipf_en(word: str) -> float:
    """Zipf frequency in English: Dutch documents quote English titles and text."""
    global _FREQ_EN
    if _FREQ_EN is None:
        try:
            import wordfreq

            _FREQ_EN = wordfreq.get_frequency_dict("en", wordlist="best")
        except Exception:  # pragma: no cover
            _FREQ_EN = {}
    f = _FREQ_EN.get(word.lower())
    return math.log10(f) + 9.0 if f else 0.0


_LINKERS = ("s", "e", "en", "er")


@lru_cache(maxsize=100_000)
def compound_known(word: str, depth: int = 2) -> bool:
    """True if ``word`` is known, or a compound of known parts (with a linking s/e/en)."""
    w = word.lower()
    if zipf(w) > 0:
        return True
    if depth == 0 or len(w) < 7:
        return False
    for i in range(3, len(w) - 3):
        head, tail = w[:i], w[i:]
        if zipf(tail) < 2.5:
            continue
        if zipf(head) >= 2.5 or (depth > 1 and compound_known(head, depth - 1)):
            return True
        for link in _LINKERS:
            if head.endswith(link) and len(head) - len(link) >= 3:
                stem = head[: -len(link)]
                if zipf(stem) >= 2.5 or (depth > 1 and compound_known(stem, depth - 1)):
                    return True
    return False


# --------------------------------------------------------------------------------------
# Character classes and small word lists

_QUOTES_OPEN = "“‘\"'„«"
_QUOTES_CLOSE = "”’\"'»"
_TERMINAL = ".!?"
_FUNCTION_END = frozenset(
    "van de het een en of met voor in op aan te tot door naar bij om dat die als over "
    "uit zijn is wordt worden hun haar deze dit zo zoals waar wat niet ook maar onder "
    "tussen tegen zonder binnen na dan er mijn onze jullie uw hij zij we wij ze je u".split()
)
# closed-class words: two of them run together ("Eris een") are split again
_CLOSED_CLASS = frozenset(
    "de het een en of in op aan van voor met bij te tot is er zijn was dat die dit deze als om uit "
    "naar door over ook niet nog al wel dan maar zo ik je hij ze we wij zij u men ons hun haar".split()
)
_CONJ_AFTER_HYPHEN = frozenset(["en", "of", "tot", "noch", "als", "dan", "&"])
_VOWEL_CLASH = frozenset(["aa", "ee", "oo", "uu", "ie", "ei", "eu", "ui", "oe", "ou", "au", "ij", "ae", "oi", "ai"])

_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")

_RE_BULLET = re.compile(r"^([•●○◦▪▫■□◆◇►▸‣⁃∙·°➢➤✓✔]|[-–—*](?=\s))\s*(?=\S)")
_RE_OCR_BULLET = re.compile(r"^([e«»¢])\s+(?=\S)")
_RE_NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+(?=[A-Z\u00c0-\u00dd(‘'\"“])")
_RE_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.I)

# page-break / rule lines, lone page numbers, footers, table-of-contents lines
_RE_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,}|(?:\.\s?){4,}|…{2,}|·{3,})\s*$")
_RE_PAGENUM = re.compile(
    r"^\s*(?:\d{1,3}|[-–—]\s*\d{1,3}\s*[-–—]|(?:pagina|page|blz\.?|p\.)\s*\d{1,3}(?:\s*(?:van|of|/)\s*\d{1,3})?"
    r"|\d{1,3}\s*(?:/|van|of)\s*\d{1,3})\s*$",
    re.I,
)
_RE_FOOTER = re.compile(r"^.{2,120}?\s\|\s.{1,80}\s\d{1,3}\s*$")
_RE_TOC = re.compile(r"^\s*(\S.{1,150}?)(?:\s*(?:\.\s?){3,}\s*|\s*…+\s*|\t+)\s*(\d{1,3})\s*$")
_RE_TOC_LOOSE = re.compile(r"^\s*([A-Z\u00c0-\u00dd0-9].{2,120}?[^\s.,;:!?])\s+(\d{1,3})\s*$")
_RE_CAPTION = re.compile(r"^(?:v\.?\s?l\.?\s?n\.?\s?r\.?|foto|beeld|fotografie|illustratie)\s*[:.]", re.I)
_RE_COPYRIGHT = re.compile(r"alle rechten voorbehouden|all rights reserved|niets uit deze uitgave", re.I)
_RE_COPYRIGHT_WEAK = re.compile(r"©|\(c\)\s*\d{4}|\bisbn\b|\bissn\b|\bcopyright\b", re.I)
_RE_COLOPHON_HEAD = re.compile(r"^(?:colofon|colophon|impressum|verantwoording uitgave)\b", re.I)
_RE_TOC_HEAD = re.compile(r"^(?:inhoud|inhoudsopgave|inhoudstafel|contents|table of contents)\s*$", re.I)
_RE_LINK_LABEL = re.compile(
    r"(?:(?<=[.!?])|^)\s*(?:→\s*)?(?:lees meer|meer lezen|lees verder|meer informatie|klik hier)\s*[.!]?(?=\s|$)",
    re.I,
)

# --------------------------------------------------------------------------------------
# Step 1: line markup


def _strip_markup(line: str) -> tuple[str, int, bool]:
    """Remove converter markup from one line; return (text, markdown level, all-bold)."""
    s = line.replace("\u00a0", " ")
    s = _ZERO_WIDTH.sub("", s)
    s = _PRIVATE_USE.sub("•", s)
    s = unicodedata.normalize("NFC", s)
    level = 0
    m = re.match(r"^\s{0,3}(#{1,6})\s+", s)
    if m:
        level = len(m.group(1))
        s = s[m.end():]
        s = re.sub(r"\s+#+\s*$", "", s)
    # footnote markers
    s = re.sub(r"<sup>[^<]{0,20}</sup>", "", s, flags=re.I)
    s = re.sub(r"</?(?:sup|sub|br|b|i|em|strong|u|span)[^>]*>", "", s, flags=re.I)
    # markdown link remnants: "→ [meer lezen](#)" goes; "[text](url)" keeps its text
    s = re.sub(r"\s*→\s*\[[^\]]*\]\([^)]*\)", "", s)
    s = re.sub(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)", r"\1", s)
    s = re.sub(r"<((?:https?://|www\.)[^>\s]+)>", r"\1", s)
    s = s.replace("\\\\_", "_").replace("\\_", "_").replace("\\*", "*")
    stripped = s.strip()
    bold = bool(re.fullmatch(r"(\*\*|__)(?=\S).+?(?<=\S)\1", stripped))
    # emphasis markers: keep the words
    s = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", s)
    s = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", s)
    s = re.sub(r"(?<![\w/])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w])", r"\1", s)
    s = re.sub(r"\*\*", "", s)
    s = s.rstrip()
    if re.fullmatch(r"\s*→\s*", s):
        s = ""
    return s, level, bold


# --------------------------------------------------------------------------------------
# Junk detection


_ODD = set("~^{}<>\\|@#$%=_¬§¤`")


def _is_junk_line(text: str) -> bool:
    """A short line that is mostly non-words with odd characters (OCR noise, logo text)."""
    s = text.strip()
    if not s or len(s) > 40:
        return False
    tokens = s.split()
    if len(tokens) > 4:
        return False
    if _RE_URL.fullmatch(s):
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


# --------------------------------------------------------------------------------------
# Units


@dataclass
class _Unit:
    lines: list[str]
    raw: list[str]
    page: int | None
    seg: int  # index of the blank-line separated segment it came from
    seg_start: bool  # first unit of its segment
    indent: bool = False  # first raw line started with whitespace
    md_level: int = 0
    bold: bool = False
    bullet: bool = False
    number: int | None = None
    title: bool = False  # extracted title line (followed by running text)
    kind: str = ""
    level: int = 0
    items: list[list[str]] = field(default_factory=list)  # list items (lines each)
    item_nums: list[int | None] = field(default_factory=list)
    toc_next: bool = False  # a table of contents followed (and was dropped)


@dataclass
class _Line:
    text: str
    raw: str
    page: int | None
    level: int = 0
    bold: bool = False
    blank: bool = False
    brk: bool = False  # a page break (rule line) stood here
    toc_next: bool = False  # table-of-contents lines followed this line


def _norm_repeat(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", s.strip().lower()))


def _prepare_lines(pages: list[Page]) -> list[_Line]:
    """Strip markup and drop non-content lines; blank lines are kept as separators."""
    per_page: list[list[_Line]] = []
    for page in pages:
        out: list[_Line] = []
        for raw in (page.text or "").splitlines():
            text, level, bold = _strip_markup(raw)
            if not text.strip():
                out.append(_Line("", raw, page.number, blank=True))
                continue
            out.append(_Line(text, raw, page.number, level=level, bold=bold))
        per_page.append(out)

    drop_norm: set[str] = set()
    # running headers/footers: short lines near the top/bottom that recur on many pages
    if len(per_page) >= 3:
        counts: Counter[str] = Counter()
        for lines in per_page:
            content = [ln for ln in lines if not ln.blank]
            edge = content[:3] + content[-3:]
            counts.update({_norm_repeat(ln.text) for ln in edge
                           if len(ln.text.strip()) < 100 and len(ln.text.split()) <= 12})
        need = max(3, math.ceil(0.4 * len(per_page)))
        drop_norm = {k for k, c in counts.items() if c >= need and re.search(r"\w", k)}
    else:
        # one page (txt/md): a line that recurs far apart with only its number changed is a
        # page footer ("… | Versie 2 | November 2020 4" and "… 5"); "Groep 1/Groep 2" is not
        by_norm: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for lines in per_page:
            for pos, ln in enumerate(lines):
                t = ln.text.strip()
                if not ln.blank and len(t) < 120 and len(t.split()) >= 3 and re.search(r"\d\s*$", t):
                    by_norm[_norm_repeat(t)].append((pos, t))
        drop_norm = {
            k for k, v in by_norm.items()
            if len({t for _, t in v}) >= 2 and min(b[0] - a[0] for a, b in zip(v, v[1:])) >= 5
        }

    result: list[_Line] = []
    for lines in per_page:
        if result:
            result.append(_Line("", "", None, blank=True, brk=True))
        # loose table-of-contents runs: >= 3 consecutive "Title 12" lines
        loose_m = [None if ln.blank else _RE_TOC_LOOSE.match(ln.text) for ln in lines]
        loose = [bool(m) and len(m.group(1).split()) >= 2 for m in loose_m]
        run_ok = [False] * len(lines)
        i = 0
        while i < len(lines):
            if loose[i]:
                j = i
                while j < len(lines) and loose[j]:
                    j += 1
                nums = [int(loose_m[k].group(2)) for k in range(i, j)]
                if j - i >= 3 and nums == sorted(nums) and nums[-1] > nums[0]:
                    for k in range(i, j):
                        run_ok[k] = True
                i = j
            else:
                i += 1
        for idx, ln in enumerate(lines):
            if ln.blank:
                result.append(ln)
                continue
            t = ln.text.strip()
            if _RE_RULE.match(t):
                result.append(_Line("", ln.raw, ln.page, blank=True, brk=True))
                continue
            if _RE_PAGENUM.match(t) or _RE_FOOTER.match(t) or _norm_repeat(t) in drop_norm:
                continue
            if (_RE_TOC.match(t) and not ln.level) or run_ok[idx]:
                prev = next((x for x in reversed(result) if not x.blank), None)
                if prev is not None:
                    prev.toc_next = True
                result.append(_Line("", ln.raw, ln.page, blank=True, brk=True))
                continue
            prev_blank = idx == 0 or lines[idx - 1].blank
            next_blank = idx + 1 >= len(lines) or lines[idx + 1].blank
            if prev_blank and next_blank and _is_junk_line(t):
                continue
            result.append(ln)
    return result


def _line_width(lines: list[_Line]) -> float:
    """Typical full line length: 90th percentile of the lines in multi-line segments."""
    lengths: list[int] = []
    run: list[int] = []
    for ln in lines + [_Line("", "", None, blank=True)]:
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


def _ends_terminal(s: str) -> bool:
    s = s.rstrip()
    while s and s[-1] in _QUOTES_CLOSE + ")]*":
        if s[-1] in "”»":
            return True  # a closed quotation ends the sentence
        s = s[:-1].rstrip()
    return bool(s) and s[-1] in _TERMINAL


def _finished(s: str) -> bool:
    """A line after which a new paragraph may start: a sentence end or a bare URL."""
    return _ends_terminal(s) or bool(_RE_URL.fullmatch(s.strip()))


def _ends_open(s: str) -> bool:
    """The text clearly continues: ends in hyphen, comma or a function word."""
    s = s.rstrip()
    if not s:
        return False
    if s[-1] in "-,(/&" or s.endswith("–"):
        return True
    last = re.findall(r"[\w’']+$", s)
    return bool(last) and last[0].lower() in _FUNCTION_END


def _starts_lower(s: str) -> bool:
    s = s.lstrip(" " + _QUOTES_OPEN + "(")
    return bool(s) and s[0].islower()


def _starts_upper(s: str) -> bool:
    s = s.lstrip(" " + _QUOTES_OPEN + "(")
    return bool(s) and (s[0].isupper() or s[0].isdigit())


def _bullet_of(text: str, ocr_bullets: bool) -> tuple[bool, int | None, str]:
    t = text.strip()
    m = _RE_NUMBERED.match(t)
    if m:
        return True, int(m.group(1)), t[m.end():]
    m = _RE_BULLET.match(t)
    if m:
        return True, None, t[m.end():]
    if ocr_bullets:
        m = _RE_OCR_BULLET.match(t)
        if m and t[0] in "e«»¢":
            return True, None, t[m.end():]
    return False, None, t


def _is_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    if len(letters) < 4:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) >= 0.85


def _title_like(s: str, width: float, bang: bool = False) -> bool:
    s = s.strip()
    if not s or len(s) > 90 or len(s) > 0.8 * width + 10:
        return False
    end = s.rstrip(_QUOTES_CLOSE + ")] ")
    if _RE_URL.search(s) or not end or end[-1] in ".,;:-–…" or end.endswith("?") and not _is_caps(s):
        return False
    if end.endswith("!") and not (bang or _is_caps(s)):
        return False
    if not _starts_upper(s):
        return False
    return sum(c.isalpha() for c in s) >= 3


def _make_units(lines: list[_Line], width: float) -> list[_Unit]:
    # OCR bullets ("e item") count only if at least two segments start that way
    seg_firsts: list[str] = []
    prev_blank = True
    for ln in lines:
        if not ln.blank and prev_blank:
            seg_firsts.append(ln.text.strip())
        prev_blank = ln.blank
    ocr_bullets = sum(1 for t in seg_firsts if _RE_OCR_BULLET.match(t) and t[0] == "e") >= 2 or sum(
        1 for t in seg_firsts if _RE_OCR_BULLET.match(t) and t[0] in "«»¢") >= 2

    # segments
    segments: list[list[_Line]] = []
    cur: list[_Line] = []
    for ln in lines:
        if ln.blank:
            if cur:
                segments.append(cur)
                cur = []
            continue
        cur.append(ln)
    if cur:
        segments.append(cur)

    units: list[_Unit] = []
    for si, seg in enumerate(segments):
        groups: list[list[_Line]] = []
        g: list[_Line] = []
        for i, ln in enumerate(seg):
            t = ln.text.strip()
            new = False
            if i > 0:
                prev = seg[i - 1].text.strip()
                is_bullet, _, _ = _bullet_of(t, ocr_bullets)
                in_list = bool(g) and _bullet_of(g[0].text, ocr_bullets)[0]
                if ln.level or seg[i - 1].level or ln.bold:
                    new = True
                elif seg[i - 1].bold and not (i == 1 and _title_like(t, width) and len(seg) == 2):
                    new = True
                elif is_bullet and (in_list or t[:1] not in "-–" or _ends_terminal(prev)
                                    or prev.endswith((":", ";"))):
                    new = True
                elif ln.raw[:1] in " \t" and _starts_upper(t) and (
                    _finished(prev) or prev.endswith((":", ";")) or not _ends_open(prev)
                ):
                    new = True  # a new page (or paragraph) starts with a stray space
                elif (_finished(prev) and (len(prev) < 0.6 * width or _RE_URL.fullmatch(prev))
                      and _starts_upper(t) and not _RE_URL.match(t)
                      and not _bullet_of(prev, ocr_bullets)[0]):
                    new = True  # short last line of a paragraph
            if new and not ln.level and not seg[i - 1].level and not is_bullet \
                    and _is_caps(t) and _is_caps(seg[i - 1].text):
                new = False  # a heading in capitals stacked on two lines
            if new and g:
                groups.append(g)
                g = []
            g.append(ln)
        if g:
            groups.append(g)
        for gi, grp in enumerate(groups):
            first = grp[0]
            u = _Unit(
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
            b, num, rest = _bullet_of(u.lines[0], ocr_bullets)
            if b and not u.md_level:
                u.bullet, u.number = True, num
                u.lines[0] = rest
            units.extend(_extract_titles(u, width))
    return units


def _extract_titles(u: _Unit, width: float) -> list[_Unit]:
    """Split leading title lines off a unit whose remaining lines are running text."""
    out: list[_Unit] = []
    while not u.bullet and not u.md_level and len(u.lines) >= 2:
        # a title run: a short line plus lower-case continuation lines
        j = 1
        joined = u.lines[0]
        while j < len(u.lines) and _starts_lower(u.lines[j]) and len(joined) + len(u.lines[j]) <= 90 \
                and len(u.lines[j]) < 0.6 * width:
            joined = joined + " " + u.lines[j]
            j += 1
        if j >= len(u.lines):
            break
        if any(len(x) >= 0.6 * width for x in u.lines[:j]) or not _title_like(joined, width):
            break
        if _is_caps(joined) is False and u.lines[0][-1:] in ",:" and j == 1:
            break
        rest = u.lines[j:]
        if not any(len(x) >= 0.6 * width for x in rest) and not _is_caps(joined) \
                and not (len(rest) == 1 and _ends_terminal(rest[0])):
            break
        if _is_caps(joined) and all(_is_caps(x) for x in rest):
            break  # a heading stacked on two lines
        if not _starts_upper(rest[0]):
            break
        head = _Unit(lines=u.lines[:j], raw=u.raw[:j], page=u.page, seg=u.seg, seg_start=u.seg_start,
                     indent=u.indent, title=True)
        out.append(head)
        u = _Unit(lines=rest, raw=u.raw[j:], page=u.page, seg=u.seg, seg_start=False)
    out.append(u)
    return out


# --------------------------------------------------------------------------------------
# Step 3: blocks


def _mark_lost_bullets(units: list[_Unit]) -> None:
    """Runs of >= 2 segments that each start with a stray space lost their bullet glyph."""
    starts = [u for u in units if u.seg_start]
    i = 0
    while i < len(starts):
        j = i
        while j < len(starts) and starts[j].indent and not starts[j].bullet and not starts[j].md_level \
                and not _is_caps(" ".join(starts[j].lines)) and not starts[j].title \
                and (j == i or starts[j].seg == starts[j - 1].seg + 1):
            j += 1
        if j - i >= 2:
            for k in range(i, j):
                starts[k].bullet = True
            i = j
        else:
            i += 1


def _drop_figure_labels(units: list[_Unit]) -> list[_Unit]:
    """Runs of >= 3 tiny segments (a word or three, no sentence) are labels of a figure."""

    def tiny(u: _Unit) -> bool:
        t = " ".join(u.lines)
        return (u.seg_start and not u.md_level and not u.bullet and len(t) <= 30 and len(t.split()) <= 3
                and not _RE_URL.search(t) and not re.search(r"[.!?:;]\W*$", t))

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
    return [u for u, k in zip(units, keep) if k]


def _line_list(u: _Unit, width: float) -> bool:
    """Three or more short lines that each stand alone (names, addresses): a list."""
    if len(u.lines) < 3:
        return False
    for ln in u.lines:
        if len(ln) >= 60 or len(ln) >= 0.6 * width or not _starts_upper(ln) or _ends_open(ln) \
                or ln.rstrip()[-1:] in ",;:-":
            return False
    return True


def _classify(units: list[_Unit], width: float) -> None:
    for idx, u in enumerate(units):
        text = " ".join(u.lines)
        if u.md_level:
            u.kind, u.level = "heading", u.md_level
        elif u.bullet:
            u.kind = "list"
        elif u.bold and len(text) <= 100 and not text.rstrip().endswith("."):
            u.kind, u.level = "heading", 2
        elif _is_caps(text) and len(text) <= 150 and not text.rstrip().endswith(".") \
                and not _RE_URL.search(text):
            u.kind, u.level = "heading", 2
        elif u.title:
            u.kind, u.level = "heading", 2
        elif _line_list(u, width):
            u.kind = "list"
            u.items = [[ln] for ln in u.lines]
            u.item_nums = [None] * len(u.lines)
        else:
            u.kind = "paragraph"


def _continues(a: _Unit, b: _Unit) -> bool:
    """Does unit ``b`` continue the unfinished sentence at the end of unit ``a``?"""
    if a.kind not in ("paragraph", "list") or b.kind != "paragraph" or b.title:
        return False
    last = a.lines[-1] if a.lines else ""
    if _ends_terminal(last) or last.rstrip().endswith((":", ";")):
        return False
    first = b.lines[0]
    if _starts_lower(first) and not _RE_URL.match(first):
        return True
    return _ends_open(last) and not _is_caps(first)


def _merge_continuations(units: list[_Unit]) -> list[_Unit]:
    out: list[_Unit] = []
    i = 0
    pending: list[_Unit] = []
    while i < len(units):
        u = units[i]
        if out and _continues(out[-1], u):
            out[-1].lines.extend(u.lines)
            out[-1].raw.extend(u.raw)
            i += 1
            continue
        # a pull quote or caption spliced into an unfinished sentence: look past it
        if out and out[-1].kind in ("paragraph", "list") and u.kind == "paragraph" \
                and len(" ".join(u.lines)) <= 250 and i + 1 < len(units):
            nxt = units[i + 1]
            last = out[-1].lines[-1]
            own = " ".join(u.lines)
            interrupting = (_ends_terminal(own) or _title_like(own, 1000)) and not _ends_open(own)
            if interrupting and not _ends_terminal(last) and not last.endswith((":", ";")) \
                    and nxt.kind == "paragraph" and not nxt.title and _starts_lower(nxt.lines[0]) \
                    and not _RE_URL.match(nxt.lines[0]) and not _starts_lower(u.lines[0]):
                out[-1].lines.extend(nxt.lines)
                out[-1].raw.extend(nxt.raw)
                pending.append(u)
                i += 2
                out.extend(pending)
                pending = []
                continue
        out.append(u)
        i += 1
    return out


def _build_lists(units: list[_Unit]) -> list[_Unit]:
    """Gather consecutive list units into one list; split lost-marker items; absorb the
    final item of a ';'-list that lost its marker."""
    out: list[_Unit] = []
    for u in units:
        if u.kind == "list":
            items: list[list[str]] = [[u.lines[0]]]
            nums: list[int | None] = [u.number]
            if u.items:
                items, nums = u.items, u.item_nums
            for ln in ([] if u.items else u.lines[1:]):
                prev = items[-1][-1]
                if prev.rstrip().endswith(";") and _starts_upper(ln):
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
            if last_item.endswith(";") and _starts_upper(u.lines[0]) and len(" ".join(u.lines)) <= 200:
                lst.items.append(list(u.lines))  # the last item of a ';' list lost its marker
                lst.item_nums.append(None)
                lst.raw.extend(u.raw)
                continue
        out.append(u)
    return out


def _resolve_headings(units: list[_Unit], width: float) -> None:
    """Short title-like paragraph units followed by running text become headings."""

    def real_paragraph(v: _Unit) -> bool:
        t = " ".join(v.lines)
        return v.kind == "list" or (v.kind == "paragraph" and (len(t) >= 80 or (
            len(t) >= 40 and _ends_terminal(t))))

    first_content = 0 if units else None
    for i in range(len(units) - 1, -1, -1):
        u = units[i]
        if u.kind != "paragraph":
            continue
        joined = " ".join(u.lines)
        if len(u.lines) > 1 and not all(_starts_lower(x) for x in u.lines[1:]):
            if not (i == first_content and all(len(x) < 0.6 * width for x in u.lines)):
                continue
        if not _title_like(joined, width, bang=u.indent):
            continue
        if _RE_CAPTION.match(joined):
            continue
        nxt = units[i + 1] if i + 1 < len(units) else None
        if i == first_content and (nxt is None or nxt.kind == "heading" or real_paragraph(nxt)):
            u.kind, u.level = "heading", 1
        elif nxt is not None and (u.seg_start or u.indent) and (
                (real_paragraph(nxt) and nxt.kind == "paragraph")
                or (u.indent and nxt.kind == "heading" and not nxt.md_level)):
            u.kind, u.level = "heading", 2


# --------------------------------------------------------------------------------------
# Step 4: text and word repair


def _dehyphen(left: str, right: str, vocab: set[str], hyph_vocab: set[str]) -> str:
    """Join ``left`` (ending in '-') with ``right`` (the next line's first token)."""
    stem = left[:-1]
    lw_m = re.search(r"([^\W\d_]+)$", stem)
    rw_m = re.match(r"([^\W\d_]+)", right)
    if not lw_m or not rw_m:
        return stem + "-" + right
    lw, rw = lw_m.group(1), rw_m.group(1)
    if rw.lower() in _CONJ_AFTER_HYPHEN:
        return stem + "- " + right  # "onderwijs- en jeugdhulp"
    if (lw.isupper() and len(lw) >= 2) or rw[0].isupper():
        return stem + "-" + right  # "IZEO-methodiek", "Zuid-Kennemerland"
    hyph = (lw + "-" + rw).lower()
    joined = (lw + rw).lower()
    if hyph in hyph_vocab:
        return _trace("hyphen-kept", left + "\n" + right, stem + "-" + right)  # written so elsewhere
    if joined in vocab or zipf(joined) > 0:
        return stem + right  # "belan-gen", "jeugd-hulp": the joined word is a word
    low = lw.lower()
    left_word = lw[0].islower() and zipf(low) >= 2.5 and not (low.endswith("s") and zipf(low[:-1]) >= 2.5)
    right_word = len(rw) >= 4 and (zipf(rw) >= 3.0 or (len(rw) >= 8 and compound_known(rw)))
    if left_word and right_word:
        # two words that are not one known word: "onderwijs-zorgconsulent"
        return _trace("hyphen-kept", left + "\n" + right, stem + "-" + right)
    if low[-1:] + rw[:1].lower() in _VOWEL_CLASH and zipf(low) >= 2.5 and zipf(rw) >= 2.5:
        return stem + "-" + right  # "zee-egel": a vowel clash keeps its hyphen
    return stem + right  # a word broken at a syllable: "samenwerkings-verbanden"


def _join_lines(lines: list[str], vocab: set[str], hyph_vocab: set[str], item: bool = False,
                heading: bool = False) -> str:
    text = ""
    for k, ln in enumerate(lines):
        ln = ln.strip()
        if not ln:
            continue
        if not text:
            text = ln
            continue
        if re.search(r"[^\W_]-$", text) and not re.search(r"\s-$", text):
            parts = text.rsplit(None, 1)
            head = parts[0] + " " if len(parts) == 2 else ""
            left = parts[-1]
            rparts = ln.split(None, 1)
            joined = _dehyphen(left, rparts[0], vocab, hyph_vocab)
            text = head + joined + (" " + rparts[1] if len(rparts) == 2 else "")
        elif text.endswith("/") and _starts_lower(ln) and not _RE_URL.match(ln):
            text = text + ln
        elif item and k == 1 and len(text) <= 40 and len(text.split()) <= 4 and not _ends_terminal(text) \
                and not text.endswith((":", ",", ";")) and _starts_upper(ln):
            text = text + ": " + ln  # "- Decentralisatie / Het is niet langer ..."
        elif heading and _starts_upper(ln) and not re.search(r"[.:;,!?…]\W*$", text):
            text = text + " – " + ln  # a title and subtitle on two lines
        else:
            text = text + " " + ln
    return text


_WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)?"
_RE_WORD_ALONE = re.compile(r"(?<![\w'’-])" + _WORD + r"(?![\w'’-])")


def _fix_spacing(text: str, collapse: bool = True) -> str:
    t = re.sub(r"[ \t]+", " ", text).strip() if collapse else text.replace("\t", " ").strip()
    t = re.sub(r"([“‘„(\[])\s+(?=\w)", r"\1", t)  # "“ Je" -> "“Je"
    t = re.sub(r"(?<=\w)\s+([,;:!?](?:\s|$))", r"\1", t)  # "wel , maar"
    t = re.sub(r"(?<=\w)\s+([.,;:!?])$", r"\1", t)
    t = re.sub(r"(?<=\w)\s+([”’)\]])(?=\s|[.,;:!?]|$)", r"\1", t)
    return t


_OCR_SUBS = {
    "é": ("ë", "ö", "è"),
    "ó": ("ö", "ò"),
    "d": ("ö",),
    "í": ("ï",),
    "á": ("ä",),
    "ú": ("ü",),
    "è": ("ë",),
    "ò": ("ö",),
    "ì": ("ï",),
    "|": ("l", "I"),
    "1": ("l", "i"),
    "0": ("o",),
}


@lru_cache(maxsize=50_000)
def _ocr_candidate(token: str) -> str | None:
    """Correct an OCR glyph error in one token, or None."""
    core = token
    if len(core) < 4 or compound_known(core):
        return None
    if not re.fullmatch(r"[^\W\d_|]*[|10]?[^\W\d_|]+", core) and not re.fullmatch(r"[^\W\d_]+", core):
        return None
    if not any(c in _OCR_SUBS for c in core.lower()):
        return None
    best: tuple[float, str] | None = None
    low = core.lower()
    positions = [i for i, c in enumerate(low) if c in _OCR_SUBS]
    if len(positions) > 6:
        return None
    for i in positions:
        c = low[i]
        if c == "d" and not (0 < i and low[i - 1] in "aeiou"):
            continue  # "codrdinatie": an ö read as d, after a vowel
        for rep in _OCR_SUBS[c]:
            cand = low[:i] + rep.lower() + low[i + 1:]
            z = zipf(cand)
            if z < 1.5 and not compound_known(cand):
                continue
            score = z if z else 1.0
            if best is None or score > best[0]:
                best = (score, cand)
    if best is None:
        return None
    return best[1]


def _fix_words(text: str, doc_counts: Counter) -> str:
    top = _top()

    # OCR glyph errors: "|eerkrachten", "coérdinatoren", "codrdinatie", "financién"
    def ocr(m: re.Match) -> str:
        tok = m.group(0)
        if any(c.isupper() for c in tok[1:]) or not re.search(r"[éóíáúèòì|10d]", tok):
            return tok
        cand = _ocr_candidate(tok)
        if cand is None:
            return tok
        if tok[:1].isupper():
            cand = cand[:1].upper() + cand[1:]
        return _trace("ocr", tok, cand)

    text = re.sub(r"(?<![\w/@.])[|]?[^\W_]*[^\W\d_][^\W_]*(?![\w@/])", ocr, text)

    # two frequent words run together: "Eris een" -> "Er is een"
    def split_pair(m: re.Match) -> str:
        tok = m.group(0)
        if len(tok) < 4 or zipf(tok) >= 2.5 or doc_counts.get(tok.lower(), 0) > 1:
            return tok
        low = tok.lower()
        for i in range(2, len(low) - 1):
            a, b = low[:i], low[i:]
            if a in _CLOSED_CLASS and b in _CLOSED_CLASS:
                return _trace("split", tok, tok[:i] + " " + tok[i:])
        return tok

    text = re.sub(r"(?<![\w'’-])[^\W\d_]{4,7}(?=\s+[a-zà-ÿ])", split_pair, text)

    # words run together at a case change: "OnderwijsMarc" -> "Onderwijs Marc"
    def camel(m: re.Match) -> str:
        tok, left, right = m.group(0), m.group(1), m.group(2)
        if zipf(tok) > 0 or doc_counts.get(tok.lower(), 0) > 1:
            return tok
        if zipf(left) >= 3.0 and len(left) >= 4 and zipf(right) >= 2.0:
            return _trace("camel", tok, left + " " + right)
        return tok

    text = re.sub(r"(?<![\w-])([A-Z]?[a-zà-ÿ]{3,})([A-Z][a-zà-ÿ]{2,})(?![\w-])", camel, text)

    # a word split by a stray space: "verantwoordelijk heden", "e enduidig"
    def merge(a: str, gap: str, b: str) -> str | None:
        if not b[:1].islower() or (a[1:] and not a[1:].islower()):
            return None
        joined = a + b
        zj = zipf(joined)
        if zj == 0:
            return None
        la, lb = a.lower(), b.lower()
        za, zb = zipf(la), zipf(lb)
        if la in top or lb in top:
            # "ten slotte", "zo veel", "op maat" are words too: only a non-word fragment merges
            ok = (za == 0 or zb == 0) and zj >= 2.5
        elif za == 0 or zb == 0:
            ok = zj >= 2.5  # "e enduidig": a fragment that is no word, and a word when joined
        else:
            # both are words: the joined word must be far more likely than the pair
            score = zj - za - zb + 9.0
            ok = (zj >= 2.5 and score >= 3.0) or (len(gap) >= 3 and zj >= 1.0 and score >= 1.0)
        if ok and zipf_en(joined) >= zj:
            ok = False  # "may be" -> "maybe" is English, not a split Dutch word
        return _trace("merge", a + gap + b, joined) if ok else None

    # walk the word pairs (overlapping: "een  e enduidig" must reach the pair "e enduidig")
    words = list(_RE_WORD_ALONE.finditer(text))
    pieces: list[str] = []
    pos = 0
    k = 0
    while k < len(words) - 1:
        w1, w2 = words[k], words[k + 1]
        gap = text[w1.end():w2.start()]
        if gap and not gap.strip(" "):
            merged = merge(w1.group(0), gap, w2.group(0))
            if merged is not None:
                pieces.append(text[pos:w1.start()])
                pieces.append(merged)
                pos = w2.end()
                k += 2
                continue
        k += 1
    pieces.append(text[pos:])
    text = "".join(pieces)

    # superscript footnote digits glued to a word: "leerlingen.12 Daarom", "onderwijs2;"
    text = re.sub(r"(?<=[a-zà-ÿ)][.;,:])(\d{1,2}(?:,\d{1,2})*)(?=\s+[A-Z\u00c0-\u00dd]|\s*$)", "", text)

    def glued(m: re.Match) -> str:
        word = m.group(1)
        return word if zipf(word) >= 3.0 and word.islower() else m.group(0)

    text = re.sub(r"(?<![\w-])([a-zà-ÿ]{4,})(\d{1,2})(?=[.,;:]?(?:\s|$))", glued, text)
    return text


def _finish(text: str, doc_counts: Counter) -> str:
    text = _fix_spacing(text, collapse=False)
    text = _fix_words(text, doc_counts)
    text = _RE_LINK_LABEL.sub("", text)
    return _fix_spacing(text)


# --------------------------------------------------------------------------------------
# Step 5: document-level removal


def _letters(s: str) -> str:
    return re.sub(r"[^a-z0-9à-ÿ]", "", s.lower())


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9à-ÿ]+", s.lower())


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


@dataclass
class _Out:
    kind: str
    text: str
    raw: str
    page: int | None
    level: int
    removed: str = ""
    toc_next: bool = False
    md_level: int = 0
    heading_idx: int | None = None  # index of the governing heading


def _similar_headings(a: str, b: str) -> bool:
    wa, wb = set(_words(a)), set(_words(b))
    if not wa or not wb:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= 0.6


def _dedupe(blocks: list[_Out]) -> None:
    """Drop repeated blocks, teaser copies and pull quotes (see the module docstring)."""
    cur: int | None = None
    for i, b in enumerate(blocks):
        if b.kind == "heading":
            cur = i
            b.heading_idx = None
        else:
            b.heading_idx = cur

    def first_under_heading(i: int) -> bool:
        h = blocks[i].heading_idx
        return h is not None and all(
            blocks[k].kind == "heading" or blocks[k].removed for k in range(h + 1, i))

    def section(h: int) -> range:
        """The blocks under heading ``h`` up to the next heading of its level or higher."""
        end = h + 1
        while end < len(blocks) and not (blocks[end].kind == "heading" and blocks[end].level <= blocks[h].level):
            end += 1
        return range(h + 1, end)

    cands = [i for i, b in enumerate(blocks) if b.kind in ("paragraph", "list") and not b.removed]
    words = {i: _words(blocks[i].text) for i in cands}
    sh = {i: _shingles(words[i]) for i in cands}
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in cands:
        for s in sh[i]:
            index[s].append(i)

    pairs: list[tuple[int, int]] = []  # (earlier, later) repeats of about the same size
    for i in cands:
        if len(words[i]) < 6:
            continue
        counter: Counter[int] = Counter()
        for s in sh[i]:
            for j in index[s]:
                if j != i:
                    counter[j] += 1
        for j, shared in counter.items():
            small, big = (i, j) if (len(sh[i]), i) <= (len(sh[j]), j) else (j, i)
            if small != i:
                continue  # every pair is judged once, from its smaller block
            overlap = shared / max(1, len(sh[small]))
            if overlap < 0.8:
                continue
            if len(sh[small]) / max(1, len(sh[big])) < 0.6:
                # a short block repeated inside a longer one: a pull quote
                if len(blocks[small].text) <= 300 and (
                        overlap >= 0.9 or _letters(blocks[small].text) in _letters(blocks[big].text)):
                    blocks[small].removed = "pull quote"
                continue
            pairs.append((min(i, j), max(i, j)))

    dup_members = {k for p in pairs for k in p}
    letter_counts = Counter(_letters(b.text) for b in blocks if b.kind != "heading")
    for k, b in enumerate(blocks):
        if b.kind != "heading" and letter_counts[_letters(b.text)] > 1:
            dup_members.add(k)  # short exact repeats ("Aanvliegroute en opbouw?") count too
    for a, b in sorted(set(pairs)):
        if blocks[a].removed or blocks[b].removed:
            continue
        ha, hb = blocks[a].heading_idx, blocks[b].heading_idx
        pairset = set(pairs)
        run = b + 1 < len(blocks) and blocks[a + 1].kind != "heading" and blocks[b + 1].kind != "heading" and (
            _letters(blocks[a + 1].text) == _letters(blocks[b + 1].text) or (a + 1, b + 1) in pairset)
        teaser = (
            not run  # a copied run of blocks (a repeated slide) keeps its first copy
            and ha is not None and hb is not None and ha != hb
            and _similar_headings(blocks[ha].text, blocks[hb].text)
            and first_under_heading(a) and first_under_heading(b)
            # the later section goes on with content of its own: it is the real one
            and any(blocks[k].kind != "heading" and k not in dup_members for k in section(hb))
        )
        if teaser:
            blocks[a].removed = "teaser"
        elif _letters(blocks[a].text) == _letters(blocks[b].text):
            blocks[b].removed = "repeat"  # the same block again: keep the first
        # two paragraphs that are only alike (a list of similar entries) both stay

    # short blocks repeated next to a removed repeat (a repeated slide): remove them too
    norm = [_letters(b.text) for b in blocks]
    first_seen: dict[str, int] = {}
    for i, b in enumerate(blocks):
        if b.kind in ("paragraph", "list") and norm[i] and norm[i] not in first_seen:
            first_seen[norm[i]] = i
    changed = True
    while changed:
        changed = False
        for i, b in enumerate(blocks):
            if b.removed or b.kind not in ("paragraph", "list") or not norm[i]:
                continue
            j = first_seen.get(norm[i])
            if j is None or j >= i or blocks[j].removed:
                continue
            nb = [k for k in (i - 1, i + 1) if 0 <= k < len(blocks)]
            if any(blocks[k].removed == "repeat" for k in nb):
                b.removed = "repeat"
                changed = True


def _drop_sections(blocks: list[_Out]) -> None:
    """Colophon sections, copyright blocks and captions."""
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
                or (_RE_COPYRIGHT_WEAK.search(b.text) and len(b.text) < 150)):
            b.removed = "copyright"
        elif b.kind == "paragraph" and _RE_CAPTION.match(b.text) and len(b.text) < 200:
            b.removed = "caption"
        i += 1


def _drop_empty_headings(blocks: list[_Out]) -> None:
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
        if following and all(f.removed for f in following) and any(
                f.removed in ("teaser", "repeat", "colophon", "copyright", "pull quote") for f in following):
            others = [h for k, h in enumerate(blocks) if k != i and h.kind == "heading" and not h.removed]
            if b.md_level or _is_caps(b.text) or any(_similar_headings(b.text, h.text) for h in others):
                b.removed = "empty"  # a teaser's or repeated slide's heading
            else:
                b.kind, b.level = "paragraph", 0  # a short line taken for a heading: keep it


# --------------------------------------------------------------------------------------
# Public API


def clean_pages(pages: list[Page]) -> list[Block]:
    """Turn the pages of one document into an ordered list of clean blocks."""
    lines = _prepare_lines(pages)
    width = _line_width(lines)

    # document vocabulary (for hyphenation and run-together decisions)
    doc_counts: Counter[str] = Counter()
    hyph_vocab: set[str] = set()
    for ln in lines:
        if ln.blank:
            continue
        doc_counts.update(w.lower() for w in re.findall(_WORD, ln.text))
        for m in re.finditer(r"(?<![\w-])[^\W\d_]+(?:-[^\W\d_]+)+(?![\w-])", ln.text):
            hyph_vocab.add(m.group(0).lower())
    vocab = {w for w in doc_counts if len(w) > 3}

    units = _make_units(lines, width)
    units = _drop_figure_labels(units)
    _mark_lost_bullets(units)
    _classify(units, width)
    units = _merge_continuations(units)
    units = _build_lists(units)
    _resolve_headings(units, width)

    out: list[_Out] = []
    for u in units:
        raw = "\n".join(r.rstrip() for r in u.raw).strip("\n")
        if u.kind == "list":
            items = []
            # a numbered list whose later items lost their numbers is numbered on
            nums = list(u.item_nums)
            if nums and nums[0] is not None:
                for k in range(1, len(nums)):
                    if nums[k] is None and nums[k - 1] is not None:
                        nums[k] = nums[k - 1] + 1
            for it, n in zip(u.items, nums):
                t = _finish(_join_lines(it, vocab, hyph_vocab, item=True), doc_counts)
                if not t:
                    continue
                items.append(f"- {n}. {t}" if n is not None else f"- {t}")
            if items:
                out.append(_Out("list", "\n".join(items), raw, u.page, 0))
            continue
        text = _finish(_join_lines(u.lines, vocab, hyph_vocab, heading=u.kind == "heading"), doc_counts)
        if not text or not re.search(r"\w", text):
            continue
        out.append(_Out(u.kind, text, raw, u.page, u.level if u.kind == "heading" else 0,
                        toc_next=u.toc_next, md_level=u.md_level))

    _drop_sections(out)
    _dedupe(out)
    _drop_empty_headings(out)
    return [Block(kind=b.kind, text=b.text, raw=b.raw, page=b.page, level=b.level)
            for b in out if not b.removed]


def clean_text(text: str) -> str:
    """Clean one plain text; the block texts joined with blank lines."""
    return "\n\n".join(b.text for b in clean_pages([Page(number=None, text=text)]))
