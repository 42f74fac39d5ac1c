"""Hard-wrapped lines joined into one text, with end-of-line hyphenation undone.

Not a pass: :mod:`ingest.clean.finish` joins the lines of every unit with
:func:`join_lines`. A line that ends in a hyphen is joined to the next one without it
when the document or the Dutch word list knows the joined word ("belan-" "gen"), and
keeps it when the word is written with a hyphen elsewhere in the document, when both
halves are words of their own ("onderwijs-zorgconsulent"), before a capital
("Zuid-Kennemerland"), after an abbreviation ("IZEO-methodiek") or at a vowel clash
("zee-egel"); before "en"/"of" it stays a hyphen followed by a space ("onderwijs- en
jeugdhulp"). A list item's short first line is its label (``Label: text``) and a
heading's second line its subtitle (``Title – subtitle``).
"""

from __future__ import annotations

import re

from ingest.clean.lexicon import compound_known, trace, zipf
from ingest.clean.shapes import RE_URL, ends_terminal, starts_lower, starts_upper

_CONJ_AFTER_HYPHEN = frozenset(["en", "of", "tot", "noch", "als", "dan", "&"])
_VOWEL_CLASH = frozenset(["aa", "ee", "oo", "uu", "ie", "ei", "eu", "ui", "oe", "ou", "au", "ij", "ae", "oi", "ai"])


def dehyphen(left: str, right: str, vocab: set[str], hyph_vocab: set[str]) -> str:
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
        return trace("hyphen-kept", left + "\n" + right, stem + "-" + right)  # written so elsewhere
    if joined in vocab or zipf(joined) > 0:
        return stem + right  # "belan-gen", "jeugd-hulp": the joined word is a word
    low = lw.lower()
    left_word = lw[0].islower() and zipf(low) >= 2.5 and not (low.endswith("s") and zipf(low[:-1]) >= 2.5)
    right_word = len(rw) >= 4 and (zipf(rw) >= 3.0 or (len(rw) >= 8 and compound_known(rw)))
    if left_word and right_word:
        # two words that are not one known word: "onderwijs-zorgconsulent"
        return trace("hyphen-kept", left + "\n" + right, stem + "-" + right)
    if low[-1:] + rw[:1].lower() in _VOWEL_CLASH and zipf(low) >= 2.5 and zipf(rw) >= 2.5:
        return stem + "-" + right  # "zee-egel": a vowel clash keeps its hyphen
    return stem + right  # a word broken at a syllable: "samenwerkings-verbanden"


def join_lines(
    lines: list[str], vocab: set[str], hyph_vocab: set[str], item: bool = False, heading: bool = False
) -> str:
    """The lines of one block (or list item) as one line of text."""
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
            joined = dehyphen(left, rparts[0], vocab, hyph_vocab)
            text = head + joined + (" " + rparts[1] if len(rparts) == 2 else "")
        elif text.endswith("/") and starts_lower(ln) and not RE_URL.match(ln):
            text = text + ln
        elif (
            item
            and k == 1
            and len(text) <= 40
            and len(text.split()) <= 4
            and not ends_terminal(text)
            and not text.endswith((":", ",", ";"))
            and starts_upper(ln)
        ):
            text = text + ": " + ln  # "- Decentralisatie / Het is niet langer ..."
        elif heading and starts_upper(ln) and not re.search(r"[.:;,!?…]\W*$", text):
            text = text + " – " + ln  # a title and subtitle on two lines
        else:
            text = text + " " + ln
    return text
