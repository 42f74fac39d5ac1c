"""Words damaged by conversion: OCR glyph errors, words run together, words split apart.

Not a pass: :mod:`ingest.clean.finish` runs :func:`fix_words` on every block's text.
Each repair is made only when the Dutch word list clearly says so, and is recorded with
:func:`ingest.clean.lexicon.trace`:

- ``ocr``: an accent or glyph read wrongly ("|eerkrachten", "coérdinatoren",
  "codrdinatie", "financién");
- ``split``: two frequent short words run together ("Eris een");
- ``camel``: two words run together at a case change ("OnderwijsMarc");
- ``merge``: a word split by a stray space ("verantwoordelijk heden", "e enduidig"),
  unless the joined word is rather English ("may be").

Footnote digits glued to a word ("leerlingen.12 Daarom", "onderwijs2;") are removed.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from ingest.clean.lexicon import WORD, compound_known, top_words, trace, zipf, zipf_en

# closed-class words: two of them run together ("Eris een") are split again
_CLOSED_CLASS = frozenset(
    "de het een en of in op aan van voor met bij te tot is er zijn was dat die dit deze als om uit "  # noqa: SIM905
    "naar door over ook niet nog al wel dan maar zo ik je hij ze we wij zij u men ons hun haar".split()
)

_RE_WORD_ALONE = re.compile(r"(?<![\w'’-])" + WORD + r"(?![\w'’-])")

#: the glyphs OCR reads in place of the letters Dutch words need
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
        if c == "d" and not (i > 0 and low[i - 1] in "aeiou"):
            continue  # "codrdinatie": an ö read as d, after a vowel
        for rep in _OCR_SUBS[c]:
            cand = low[:i] + rep.lower() + low[i + 1 :]
            z = zipf(cand)
            if z < 1.5 and not compound_known(cand):
                continue
            score = z if z else 1.0
            if best is None or score > best[0]:
                best = (score, cand)
    if best is None:
        return None
    return best[1]


def _fix_ocr(text: str) -> str:
    """OCR glyph errors: "|eerkrachten", "coérdinatoren", "codrdinatie", "financién"."""

    def ocr(m: re.Match[str]) -> str:
        tok = m.group(0)
        if any(c.isupper() for c in tok[1:]) or not re.search(r"[éóíáúèòì|10d]", tok):
            return tok
        cand = _ocr_candidate(tok)
        if cand is None:
            return tok
        if tok[:1].isupper():
            cand = cand[:1].upper() + cand[1:]
        return trace("ocr", tok, cand)

    return re.sub(r"(?<![\w/@.])[|]?[^\W_]*[^\W\d_][^\W_]*(?![\w@/])", ocr, text)


def _split_run_together(text: str, doc_counts: Counter[str]) -> str:
    """Two frequent words run together ("Eris een"), or run together at a case change ("OnderwijsMarc")."""

    def split_pair(m: re.Match[str]) -> str:
        tok = m.group(0)
        if len(tok) < 4 or zipf(tok) >= 2.5 or doc_counts.get(tok.lower(), 0) > 1:
            return tok
        low = tok.lower()
        for i in range(2, len(low) - 1):
            a, b = low[:i], low[i:]
            if a in _CLOSED_CLASS and b in _CLOSED_CLASS:
                return trace("split", tok, tok[:i] + " " + tok[i:])
        return tok

    text = re.sub(r"(?<![\w'’-])[^\W\d_]{4,7}(?=\s+[a-zà-ÿ])", split_pair, text)

    def camel(m: re.Match[str]) -> str:
        tok, left, right = m.group(0), m.group(1), m.group(2)
        if zipf(tok) > 0 or doc_counts.get(tok.lower(), 0) > 1:
            return tok
        if zipf(left) >= 3.0 and len(left) >= 4 and zipf(right) >= 2.0:
            return trace("camel", tok, left + " " + right)
        return tok

    return re.sub(r"(?<![\w-])([A-Z]?[a-zà-ÿ]{3,})([A-Z][a-zà-ÿ]{2,})(?![\w-])", camel, text)


def _merged(a: str, gap: str, b: str, top: frozenset[str]) -> str | None:
    """``a`` and ``b`` as one word, when they are one word split by a stray space; else None."""
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
    return trace("merge", a + gap + b, joined) if ok else None


def _merge_split_words(text: str, top: frozenset[str]) -> str:
    """Words split by a stray space: "verantwoordelijk heden", "e enduidig"."""
    # walk the word pairs (overlapping: "een  e enduidig" must reach the pair "e enduidig")
    words = list(_RE_WORD_ALONE.finditer(text))
    pieces: list[str] = []
    pos = 0
    k = 0
    while k < len(words) - 1:
        w1, w2 = words[k], words[k + 1]
        gap = text[w1.end() : w2.start()]
        if gap and not gap.strip(" "):
            merged = _merged(w1.group(0), gap, w2.group(0), top)
            if merged is not None:
                pieces.append(text[pos : w1.start()])
                pieces.append(merged)
                pos = w2.end()
                k += 2
                continue
        k += 1
    pieces.append(text[pos:])
    return "".join(pieces)


def _drop_footnote_digits(text: str) -> str:
    """Superscript footnote digits glued to a word: "leerlingen.12 Daarom", "onderwijs2;"."""
    text = re.sub(r"(?<=[a-zà-ÿ)][.;,:])(\d{1,2}(?:,\d{1,2})*)(?=\s+[A-Z\u00c0-\u00dd]|\s*$)", "", text)

    def glued(m: re.Match[str]) -> str:
        word = m.group(1)
        return word if zipf(word) >= 3.0 and word.islower() else m.group(0)

    return re.sub(r"(?<![\w-])([a-zà-ÿ]{4,})(\d{1,2})(?=[.,;:]?(?:\s|$))", glued, text)


def fix_words(text: str, doc_counts: Counter[str]) -> str:
    """The word repairs of one block's text, in order (see the module docstring)."""
    top = top_words()
    text = _fix_ocr(text)
    text = _split_run_together(text, doc_counts)
    text = _merge_split_words(text, top)
    return _drop_footnote_digits(text)
