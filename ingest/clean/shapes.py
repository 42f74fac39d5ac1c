"""What a line of text looks like: does it end a sentence, run on, start in capitals, read as a title?

Not a pass: the predicates that the unit, block, word and document passes share. They
look only at the characters of the text, never at the word list.
"""

from __future__ import annotations

import re

QUOTES_OPEN = "“‘\"'„«"
QUOTES_CLOSE = "”’\"'»"
_TERMINAL = ".!?"
_FUNCTION_END = frozenset(
    "van de het een en of met voor in op aan te tot door naar bij om dat die als over "  # noqa: SIM905
    "uit zijn is wordt worden hun haar deze dit zo zoals waar wat niet ook maar onder "
    "tussen tegen zonder binnen na dan er mijn onze jullie uw hij zij we wij ze je u".split()
)

RE_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.I)
RE_CAPTION = re.compile(r"^(?:v\.?\s?l\.?\s?n\.?\s?r\.?|foto|beeld|fotografie|illustratie)\s*[:.]", re.I)


def ends_terminal(s: str) -> bool:
    """The text ends a sentence (also behind closing quotes and brackets)."""
    s = s.rstrip()
    while s and s[-1] in QUOTES_CLOSE + ")]*":
        if s[-1] in "”»":
            return True  # a closed quotation ends the sentence
        s = s[:-1].rstrip()
    return bool(s) and s[-1] in _TERMINAL


def finished(s: str) -> bool:
    """A line after which a new paragraph may start: a sentence end or a bare URL."""
    return ends_terminal(s) or bool(RE_URL.fullmatch(s.strip()))


def ends_open(s: str) -> bool:
    """The text clearly continues: ends in hyphen, comma or a function word."""
    s = s.rstrip()
    if not s:
        return False
    if s[-1] in "-,(/&" or s.endswith("–"):
        return True
    last = re.findall(r"[\w’']+$", s)
    return bool(last) and last[0].lower() in _FUNCTION_END


def starts_lower(s: str) -> bool:
    s = s.lstrip(" " + QUOTES_OPEN + "(")
    return bool(s) and s[0].islower()


def starts_upper(s: str) -> bool:
    s = s.lstrip(" " + QUOTES_OPEN + "(")
    return bool(s) and (s[0].isupper() or s[0].isdigit())


def is_caps(s: str) -> bool:
    """Written in capitals (at least 85% of at least four letters)."""
    letters = [c for c in s if c.isalpha()]
    if len(letters) < 4:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) >= 0.85


def title_like(s: str, width: float, bang: bool = False) -> bool:
    """Short, starts in capitals and does not end like a sentence or a running line."""
    s = s.strip()
    if not s or len(s) > 90 or len(s) > 0.8 * width + 10:
        return False
    end = s.rstrip(QUOTES_CLOSE + ")] ")
    if RE_URL.search(s) or not end or end[-1] in ".,;:-–…" or (end.endswith("?") and not is_caps(s)):
        return False
    if end.endswith("!") and not (bang or is_caps(s)):
        return False
    if not starts_upper(s):
        return False
    return sum(c.isalpha() for c in s) >= 3
