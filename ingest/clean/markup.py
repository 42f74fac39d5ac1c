"""Markup that converters leave in the text: footnote tags, links, emphasis, heading marks.

``<sup>4</sup>`` footnote markers and stray HTML tags go, markdown links keep only their
text (``→ [meer lezen](#)`` goes entirely), ``**bold**`` and ``*emphasis*`` keep their
words, private-use glyphs become bullets, and zero-width characters and no-break spaces
are cleaned up. A ``#`` heading mark and a line that is bold as a whole are remembered
(as the line's level and bold flag) for the block passes.
"""

from __future__ import annotations

import re
import unicodedata

from ingest.clean.draft import Draft, Line

_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def strip_markup(line: str) -> tuple[str, int, bool]:
    """Remove converter markup from one line; return (text, markdown level, all-bold)."""
    s = line.replace("\u00a0", " ")
    s = _ZERO_WIDTH.sub("", s)
    s = _PRIVATE_USE.sub("•", s)
    s = unicodedata.normalize("NFC", s)
    level = 0
    m = re.match(r"^\s{0,3}(#{1,6})\s+", s)
    if m:
        level = len(m.group(1))
        s = s[m.end() :]
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


def read_lines(d: Draft) -> None:
    """Pass: each page's lines with their markup stripped; lines left empty count as blank."""
    d.page_lines = []
    for page in d.pages:
        out: list[Line] = []
        for raw in (page.text or "").splitlines():
            text, level, bold = strip_markup(raw)
            if not text.strip():
                out.append(Line("", raw, page.number, blank=True))
                continue
            out.append(Line(text, raw, page.number, level=level, bold=bold))
        d.page_lines.append(out)
