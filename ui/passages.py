"""Passages for display: safe HTML with highlights, and where a passage sits in its document.

Everything from documents and users is escaped with :func:`html.escape` first; only
then are our own tags (``<mark>``, ``<p>``, ``<sup>``) added around the escaped text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from ingest.clean.lexicon import zipf
from kb.retrieval.glossary import find_terms
from kb.retrieval.thesaurus import expand
from kb.text import STOPWORDS, analyze, fold

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)  # a word; a hyphenated word gives its parts
_CITE = re.compile(r"\[(\d{1,2})\]")

#: a word rarer than this in everyday Dutch (wordfreq's Zipf scale; "leerlingen" 4.8, "thuis" 5.5,
#: "mbo" 4.1, "zorgplicht" 2.9, "thuiszitters" 2.1) is marked wherever it occurs
RARE_ZIPF = 4.2
#: ... unless nearly every passage has it (its BM25 idf in the index is below this: "passend")
UBIQUITOUS_IDF = 1.0
MAX_GAP = 2  # stop words that may stand between the words of a phrase ("leerlingen die thuis zitten")


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def marked(text: str, spans: list[tuple[int, int]], tag: str = "mark") -> str:
    """``text`` escaped, with the character ``spans`` wrapped in ``<mark>``."""
    out, pos = [], 0
    for a, b in _merge(spans):
        out.append(html.escape(text[pos:a]))
        out.append(f"<{tag}>{html.escape(text[a:b])}</{tag}>")
        pos = b
    out.append(html.escape(text[pos:]))
    return "".join(out)


def quote_spans(text: str, quotes: list[str]) -> list[tuple[int, int]]:
    """Where each quoted sentence occurs in ``text`` (whitespace may differ)."""
    spans = []
    for q in quotes or []:
        q = q.strip().lstrip("-•* ").strip()
        if not q:
            continue
        i = text.find(q)
        if i >= 0:
            spans.append((i, i + len(q)))
            continue
        pattern = r"\s+".join(re.escape(w) for w in q.split())
        m = re.search(pattern, text)
        if m:
            spans.append(m.span())
    return spans


def _stem(word: str) -> str:
    terms = analyze(word)
    return terms[0] if terms else ""


def _content_words(text: str) -> list[str]:
    """The words of ``text`` worth marking, lower-cased: no stop words, no short words
    (under four letters) unless numbers or glossary terms ("opp")."""
    out = []
    for w in _TOKEN.findall((text or "").lower()):
        if fold(w) in STOPWORDS or not (len(w) >= 4 or w.isdigit() or find_terms(w)):
            continue
        out.append(w)
    return out


def term_spans(text: str, query: str, idf: Callable[[str], float] | None = None) -> list[tuple[int, int]]:
    """Where ``text`` has the query's rare words and its phrases; not every common word.

    - A rare word of the query is marked wherever a word of the text has its stem (also
      inside a compound: "zorgplicht" in "zorgplichtregeling"); so are the rare words the
      thesaurus adds ("thuiszitters" for "kinderen die thuis zitten"). Rare: rarer than
      :data:`RARE_ZIPF` in everyday Dutch, and, when ``idf`` gives a word's BM25 idf in the
      index, not in nearly every passage (:data:`UBIQUITOUS_IDF`).
    - A common word ("leerlingen", "thuis", "zitten") is marked only where two or more of the
      query's words stand together (a phrase: "thuis zitten", stop words between them
      allowed), or when it is the query's only word.
    """
    asked = _content_words(query)
    added = [w for w in _content_words(expand(query or "").query) if w not in asked]
    asked_stems = {st for st in map(_stem, asked) if st}

    def rare(w: str) -> bool:
        return (w.isdigit() or zipf(w) < RARE_ZIPF) and (idf is None or idf(w) >= UBIQUITOUS_IDF)

    everywhere = {_stem(w) for w in asked + added if rare(w)} - {""}
    if len(asked_stems) == 1:  # one word asked: it is what the reader looks for
        everywhere |= asked_stems
    if not everywhere and not asked_stems:
        return []
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []  # the phrase being read: the spans of its query words
    gap = 0

    def close() -> None:
        if len(run) >= 2:
            spans.append((run[0][0], run[-1][1]))

    for m in _TOKEN.finditer(text):
        w = m.group(0).lower()
        if fold(w) in STOPWORDS:
            gap += 1
            if gap > MAX_GAP:
                close()
                run.clear()
            continue
        terms = set(analyze(w))
        if terms & everywhere:
            spans.append(m.span())
        if terms & asked_stems:
            run.append(m.span())
        else:
            close()
            run.clear()
        gap = 0
    close()
    return spans


def paragraphs_html(text: str, spans: list[tuple[int, int]] | None = None) -> str:
    """Escaped text as paragraphs (blank line) with line breaks; highlights kept."""
    body = marked(text, spans or [])
    paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paras)


def answer_html(answer: str) -> str:
    """An answer with [n] markers: escaped, paragraphs and '- ' lists, markers as superscripts."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", answer or ""):
        lines = [ln for ln in para.split("\n") if ln.strip()]
        if not lines:
            continue
        items = [ln for ln in lines if ln.lstrip().startswith(("- ", "• "))]
        head = [ln for ln in lines if ln not in items]
        chunk = ""
        if head:
            chunk += "<p>" + "<br>".join(_cites(html.escape(ln)) for ln in head) + "</p>"
        if items:
            chunk += "<ul>" + "".join(f"<li>{_cites(html.escape(ln.lstrip()[2:]))}</li>" for ln in items) + "</ul>"
        out.append(chunk)
    return "".join(out)


def _cites(escaped: str) -> str:
    return _CITE.sub(r'<sup class="kb-cite">[\1]</sup>', escaped)


# --- where a passage sits in its document ---------------------------------------------------


def _norm(s: str) -> str:
    return " ".join(s.split())


def locate(blocks: list[dict], text: str) -> tuple[int, int] | None:
    """(first, last) index of the blocks that make up passage ``text``, or None."""
    t = _norm(text)
    if not t:
        return None
    for i, b in enumerate(blocks):
        bt = _norm(b.get("text", ""))
        if not bt:
            continue
        if t.startswith(bt[:80]):
            offset = 0
        elif t[:50] in bt:
            offset = bt.index(t[:50])
        else:
            continue
        # extend over the following blocks while they are still part of the passage
        j, rest = i, t[len(bt) - offset :].strip()
        while rest and j + 1 < len(blocks):
            nxt = _norm(blocks[j + 1].get("text", ""))
            if not nxt or not (rest.startswith(nxt[:60]) or nxt.startswith(rest[:60])):
                break
            j += 1
            rest = rest[len(nxt) :].strip()
        return i, j
    return None


def sections(blocks: list[dict]) -> list[tuple[str, int, int]]:
    """The document's sections as (label, first block, last block), split at main headings."""
    levels = [b.get("level") or 2 for b in blocks if b.get("kind") == "heading"]
    if not levels:
        return [("Hele document", 0, len(blocks) - 1)] if blocks else []
    # the highest heading level that divides the document into at least three parts
    top = next((lv for lv in sorted(set(levels)) if sum(x <= lv for x in levels) >= 3), max(levels))
    starts = [i for i, b in enumerate(blocks) if b.get("kind") == "heading" and (b.get("level") or 2) <= top]
    out: list[tuple[str, int, int]] = []
    if not starts or starts[0] > 0:
        out.append(("Begin", 0, (starts[0] - 1) if starts else len(blocks) - 1))
    for k, s in enumerate(starts):
        end = (starts[k + 1] - 1) if k + 1 < len(starts) else len(blocks) - 1
        # a heading directly followed by another main heading is joined with it
        if end < s:
            continue
        out.append((_norm(blocks[s]["text"])[:90], s, end))
    merged: list[tuple[str, int, int]] = []
    for label, a, b in out:
        if merged and merged[-1][2] == merged[-1][1]:  # previous section was only a heading
            prev = merged.pop()
            label, a = f"{prev[0]} – {label}", prev[1]
        merged.append((label, a, b))
    return merged


def pages(blocks: list[dict]) -> list[tuple[str, int, int]]:
    """(label 'Pagina n', first block, last block) per page; empty for documents without pages."""
    out: list[tuple[str, int, int]] = []
    for i, b in enumerate(blocks):
        p = b.get("page")
        if not p:
            return []
        if out and out[-1][0] == f"Pagina {p}":
            out[-1] = (out[-1][0], out[-1][1], i)
        else:
            out.append((f"Pagina {p}", i, i))
    return out


def section_of(parts: list[tuple[str, int, int]], block: int) -> int:
    for k, (_, a, b) in enumerate(parts):
        if a <= block <= b:
            return k
    return 0


def blocks_html(
    blocks: list[dict],
    first: int,
    last: int,
    target: tuple[int, int] | None = None,
    quotes: list[str] | None = None,
    css_class: str = "kb-doc",
    anchors: bool = True,
) -> str:
    """Blocks ``first..last`` as HTML, with an anchor id per block (``blok-<i>``) if ``anchors``."""
    parts = [f'<div class="{css_class}">']
    for i in range(max(0, first), min(len(blocks), last + 1)):
        b = blocks[i]
        text = b.get("text", "")
        hit = target is not None and target[0] <= i <= target[1]
        spans = quote_spans(text, quotes or []) if hit else []
        cls = (f' id="blok-{i}"' if anchors else "") + (' class="kb-doel"' if hit else "")
        if b.get("kind") == "heading":
            level = min(6, max(3, (b.get("level") or 2) + 2))
            parts.append(f"<h{level}{cls}>{marked(text, spans)}</h{level}>")
        elif b.get("kind") == "list":
            items = [ln.strip() for ln in text.split("\n") if ln.strip()]
            items = [ln.lstrip("-•* ").strip() for ln in items]
            lis = "".join(f"<li>{marked(it, quote_spans(it, quotes or []) if hit else [])}</li>" for it in items)
            parts.append(f"<ul{cls}>{lis}</ul>")
        else:
            parts.append(f"<div{cls}>{paragraphs_html(text, spans)}</div>")
    parts.append("</div>")
    return "".join(parts)


def excerpt_html(text: str, spans: list[tuple[int, int]], width: int = 420) -> str:
    """The part of ``text`` around the highlighted ``spans`` (about ``width`` characters).

    The excerpt starts at the beginning of the sentence with the first highlight and
    ends on a word boundary; cuts are marked with an ellipsis. Without spans the
    beginning of the text is shown.
    """
    spans = _merge(spans)
    if len(text) <= width * 1.25:
        return paragraphs_html(text, spans)
    first = spans[0][0] if spans else 0
    last = max((b for a, b in spans if b - first <= width), default=spans[0][1]) if spans else 0
    # start of the sentence (or line) with the first highlight, if not too far back
    floor = max(0, first - width // 3)
    bounds = [0] if floor == 0 else []
    bounds += [floor + m.end() for m in re.finditer(r"[.!?:;]\s+|\n", text[floor:first])]
    if len(bounds) >= 2 and last - first < width // 2:
        start = bounds[-2]  # one sentence of context before the highlight
    elif bounds:
        start = bounds[-1]
    else:
        start = text.find(" ", floor, first) + 1 or floor
    while start < first and text[start].isspace():
        start += 1
    end = max(last, start + width)
    if end < len(text):  # end at a sentence end if there is one late enough, else between words
        sentence_end = max(text.rfind(". ", last, end), text.rfind("\n", last, end))
        space = text.rfind(" ", last, end)
        end = sentence_end + 1 if sentence_end > start + width // 2 else (space if space > 0 else end)
    end = min(end, len(text))
    inner = [(max(a, start) - start, min(b, end) - start) for a, b in spans if b > start and a < end]
    body = paragraphs_html(text[start:end], inner)
    if start > 0:
        body = body.replace("<p>", "<p>… ", 1)
    if end < len(text):
        k = body.rfind("</p>")
        body = body[:k] + " …" + body[k:]
    return body
