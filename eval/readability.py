"""Does an answer read as an answer? Counts of what a reader trips over, per answer.

Run over every answer of the gold set by ``kb eval`` (a ``readability`` section in the
report, and a CI floor of zero for each count in ``eval/floors.json``):

- ``dangling_start``: an excerpt opens with a sentence that leans on one not shown
  ("Dus schrijven ze …", "Ten tweede …", "Het gaat om …");
- ``non_sentence``: a cited unit that is a heading, byline, caption, reference-list
  entry, URL line, table-of-contents line or footnote;
- ``footnote_digit``: a footnote number glued to a word ("thuiszitters2") or a sentence
  that starts with a footnote's number ("2 Dit aantal …");
- ``cut_quote``: an excerpt whose quotation marks do not close (or close unopened);
- ``cut_list``: an excerpt that ends on a list's lead-in (":") without its items;
- ``repeated``: a follow-up's answer that repeats a sentence of the previous answer
  (not counted when the question picks from it: "welke daarvan …");
- ``false_absent``: an answer that says the sources name a word "nergens" while the
  corpus (or its expansion, "tos" → "taalontwikkelingsstoornis") has it.
"""

from __future__ import annotations

import re

from kb.answer.compose import leans_back, open_quotes, picks_from_previous
from kb.answer.features import unusable
from kb.results import Answer

COUNTS = ("dangling_start", "non_sentence", "footnote_digit", "cut_quote", "cut_list", "repeated", "false_absent")

_GLUED_FOOTNOTE = re.compile(r"[a-zà-ÿ]{3,}[.,;:]?\d{1,2}(?=\s|$)")
_NERGENS = re.compile(r"de bronnen noemen (.+?) nergens", re.I)


def _sentences(excerpt: str) -> list[str]:
    from ingest.sentences import sentences

    return [s for line in excerpt.split("\n") for s in (sentences(line) or [line]) if s.strip()]


def check(result: Answer, previous: Answer | None = None, known=None) -> dict[str, int]:
    """The counts for one answer (``known(word)``: whether the corpus has a word)."""
    counts = dict.fromkeys(COUNTS, 0)
    for e in result.excerpts:
        sents = _sentences(e.text)
        if sents and leans_back(sents[0].lstrip("- ")) and not sents[0].lstrip().startswith("- "):
            counts["dangling_start"] += 1
        if open_quotes(e.text) != 0:
            counts["cut_quote"] += 1
        if e.text.rstrip().endswith(":"):
            counts["cut_list"] += 1
    for c in result.citations:
        for q in c.quotes:
            why = unusable(q, c.section)
            if why in ("literatuurverwijzing", "bijschrift", "link", "kop", "voetnoot", "naamregel", "inhoudsopgave"):
                counts["non_sentence"] += 1
            if why == "voetnoot" or _GLUED_FOOTNOTE.search(q):
                counts["footnote_digit"] += 1
    if (
        previous is not None
        and previous.citations
        and not picks_from_previous(result.question)
        and not result.repeats_previous  # said so: "stond al in het vorige antwoord"
    ):
        said = {" ".join(q.split()) for c in previous.citations for q in c.quotes}
        counts["repeated"] += sum(" ".join(q.split()) in said for c in result.citations for q in c.quotes)
    if known is not None:
        for m in _NERGENS.finditer(result.not_said or result.answer or ""):
            for name in re.findall(r"'([^']+)'|(\d[\d.,]*)", m.group(1)):
                word = (name[0] or name[1]).lower()
                if word and known(word):
                    counts["false_absent"] += 1
    return counts


def total(rows: list[dict]) -> dict[str, int]:
    """The counts summed over the rows of a report (each row's ``readability``)."""
    out = dict.fromkeys(COUNTS, 0)
    for r in rows:
        for k, v in (r.get("readability") or {}).items():
            out[k] = out.get(k, 0) + v
    return out
