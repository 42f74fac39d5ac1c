"""From scored sentences to the text of an answer, with a citation after every sentence.

:func:`choose` picks the sentences: the one that answers first, then the few that
add to it (context from the same passage stays together), and for list questions
the items gathered across passages. :func:`cite` numbers the passages in order of
use. :func:`answer_text`, :func:`partial_text` and :func:`abstention_text` write the
Dutch text. Every sentence is an exact span of its passage; nothing is reworded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.answer.features import STRICT_KINDS, Candidate
from kb.answer.question import Question
from kb.results import Citation, Passage
from kb.retrieval.retrieve import Hit

ABSTAIN_TEXT = "Dat staat niet in de bronnen van deze kennisbank."
NEARBY_INTRO = "Wel gevonden, maar geen antwoord op uw vraag:"
PARTIAL_INTRO = "Wel staat erin:"

# "Dit", "Daardoor", "Ook" …: a sentence that leans on the one before it
_LEANS_BACK = re.compile(
    r"^(?:- )?(?:dit|dat|deze|die|daardoor|daarom|daarbij|daarnaast|daarmee|hierdoor|hierbij"
    r"|zo|ook|toch|maar|wel|verder|bovendien|tegelijkertijd|zij|ze|hij)\b",
    re.I,
)

# what the sources do not say, per kind of question ("De bronnen zeggen niet …")
NOT_SAID = {
    "frequency": "hoe vaak dat gebeurt",
    "duration": "hoe lang dat duurt of binnen welke termijn",
    "quantity": "om hoeveel het gaat",
    "time": "wanneer dat is",
    "person": "wie dat is of doet",
    "place": "waar dat is",
    "reason": "waarom dat zo is",
    "yesno": "of dat zo is",
    "definition": "wat dat precies is",
}


@dataclass(frozen=True)
class Limits:
    """How many sentences an answer takes (fitted with the sentence ranker, see eval/fit.py)."""

    max_sentences: int = 4
    max_chars: int = 900
    add_min: float = 0.2  # a further sentence needs at least this probability …
    add_ratio: float = 0.35  # … and this share of the first sentence's probability
    list_items: int = 8  # list questions: at most this many items
    list_min: float = 0.1  # … each with at least this probability
    type_lead: float = 0.5  # "hoe vaak/hoeveel/wanneer": a sentence with such an answer leads if it has this share of the best probability

    @classmethod
    def from_params(cls, params: dict) -> Limits:
        known = cls.__dataclass_fields__
        return cls(**{k: type(getattr(cls, k))(v) for k, v in params.items() if k in known})


def _similar(a: Candidate, b: Candidate) -> bool:
    if not a.terms or not b.terms:
        return False
    return len(a.terms & b.terms) / len(a.terms | b.terms) > 0.6


def _list_of(lead: Candidate, cands: list[Candidate]) -> list[Candidate]:
    """The list the lead belongs to (or introduces) in its passage, with its lead-in."""
    same = sorted((c for c in cands if c.hit_index == lead.hit_index), key=lambda c: c.start)
    k = same.index(lead)
    is_item = lambda c: c.features["list_item"] > 0  # noqa: E731
    if not is_item(lead) and not (lead.features["lead_in"] and k + 1 < len(same) and is_item(same[k + 1])):
        return []
    a = k
    while a > 0 and is_item(same[a - 1]):
        a -= 1
    if a > 0 and same[a - 1].features["lead_in"]:
        a -= 1
    b = k + 1 if not is_item(lead) else k
    while b + 1 < len(same) and is_item(same[b + 1]):
        b += 1
    block = same[a : b + 1]
    return block if sum(is_item(c) for c in block) >= 2 else []


def choose(question: Question, cands: list[Candidate], limits: Limits) -> list[Candidate]:
    """The sentences of the answer, in the order they are shown."""
    # a follow-up asks something new: do not repeat the previous answer (but "welke daarvan …" picks from it)
    repeat_ok = question.kind in ("list", "yesno", "other")
    usable = [c for c in cands if repeat_ok or not c.features.get("in_previous_answer")] or cands
    ranked = sorted(usable, key=lambda c: -c.score)
    if not ranked:
        return []
    lead = ranked[0]
    if question.kind in STRICT_KINDS and not lead.features["type_match"]:
        typed = [c for c in ranked if c.features["type_match"] and c.score >= limits.type_lead * lead.score]
        if typed:
            lead = typed[0]
            ranked = [lead] + [c for c in ranked if c is not lead]
    if question.kind == "list" or lead.features["lead_in"]:
        block = _list_of(lead, usable)
        if block:
            chosen = block[: limits.list_items + 1]
            if question.kind == "list":  # items elsewhere that answer as well
                for c in ranked[1:]:
                    if len(chosen) >= limits.list_items + 1 or c.score < max(
                        limits.list_min, limits.add_ratio * lead.score
                    ):
                        break
                    if c not in chosen and not any(_similar(c, x) for x in chosen):
                        chosen.append(c)
            return _order(chosen, lead, reading=True)
    chosen = [lead]
    chars = len(lead.text)
    limit_n = limits.max_sentences + (2 if question.kind == "list" else 0)
    for c in ranked[1:]:
        if len(chosen) >= limit_n or c.score < limits.add_min or c.score < limits.add_ratio * lead.score:
            break
        if chars + len(c.text) > limits.max_chars or any(_similar(c, x) for x in chosen):
            continue
        chosen.append(c)
        chars += len(c.text)
    if _LEANS_BACK.match(lead.text):  # "Dit komt doordat …": give it the sentence it points back to
        before = [c for c in usable if c.hit_index == lead.hit_index and c.end <= lead.start]
        if before:
            prev = max(before, key=lambda c: c.end)
            if prev not in chosen and lead.start - prev.end < 3:
                chosen.append(prev)
    return _order(chosen, lead)


def _order(chosen: list[Candidate], lead: Candidate, reading: bool = False) -> list[Candidate]:
    """The lead's passage first, then the other passages by their best sentence. Within the
    lead's passage the lead comes first (what it leans on may precede it) unless ``reading``
    (a list: its lead-in and items in reading order); elsewhere, reading order."""
    groups: dict[int, list[Candidate]] = {}
    for c in chosen:
        groups.setdefault(c.hit_index, []).append(c)
    order = sorted(groups, key=lambda i: (i != lead.hit_index, -max(c.score for c in groups[i])))
    out: list[Candidate] = []
    for i in order:
        group = sorted(groups[i], key=lambda c: c.start)
        if i == lead.hit_index and not reading:  # the answering sentence leads
            k = group.index(lead)
            head = (
                group[k - 1 : k] if k > 0 and _LEANS_BACK.match(lead.text) and lead.start - group[k - 1].end < 3 else []
            )
            rest = [c for c in group if c is not lead and c not in head]
            group = (
                head + [lead] + [c for c in rest if c.start > lead.start] + [c for c in rest if c.start < lead.start]
            )
        out.extend(group)
    return out


def cite(hits: list[Hit], chosen: list[Candidate]) -> tuple[list[Citation], list[tuple[str, int]]]:
    """Citations numbered in order of first use, and the (sentence, number) lines."""
    numbers: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    lines: list[tuple[str, int]] = []
    for c in chosen:
        n = numbers.setdefault(c.hit_index, len(numbers) + 1)
        quotes.setdefault(n, []).append(c.text)
        lines.append((c.text, n))
    citations = []
    for i, n in numbers.items():
        p = hits[i].passage()
        citations.append(Citation(**{**p.to_dict(), "rank": 0, "score": 0.0}, n=n, quotes=quotes[n]))
    return citations, lines


def as_item(text: str) -> str:
    t = text.strip()
    return t if t.startswith("- ") else f"- {t.lstrip('•* ').strip()}"


def is_list(lines: list[tuple[str, int]]) -> bool:
    return len(lines) > 2 and all(t.lstrip().startswith("- ") for t, _ in lines[1:])


def answer_text(lines: list[tuple[str, int]]) -> str:
    """The sentences with their [n]; a list as a lead line and '- ' items."""
    if is_list(lines):
        (head, n), *items = lines
        return f"{head} [{n}]\n" + "\n".join(f"{as_item(t)} [{m}]" for t, m in items)
    return " ".join(f"{_prose(t)} [{n}]" for t, n in lines)


def _prose(text: str) -> str:
    """A list item inside running text, without its bullet (and list number)."""
    return re.sub(r"^- (?:\d+[.)] )?", "", text.strip())


def not_said(question: Question, reasons: list[str]) -> str:
    """'De bronnen zeggen niet …' for a question whose asked fact is not in the sources."""
    names = [r for r in reasons if r.endswith("nergens")]
    if names:
        return "; ".join(r[0].upper() + r[1:] for r in names) + "."
    what = NOT_SAID.get(question.kind, "precies wat u vraagt")
    return f"De bronnen zeggen niet {what} (uw vraag: “{question.asked}”)."


def partial_text(question: Question, reasons: list[str], lines: list[tuple[str, int]]) -> str:
    """'De bronnen zeggen niet …; wel staat erin: …' with the related cited sentences."""
    return f"{not_said(question, reasons)} {PARTIAL_INTRO} {answer_text(lines)}"


def abstention_text(reasons: list[str], nearby: list[Passage]) -> str:
    text = ABSTAIN_TEXT
    if reasons:
        text += " (" + "; ".join(reasons) + ".)"
    if nearby:
        text += f" {NEARBY_INTRO}\n" + "\n".join(f"- {p.source_line()}" for p in nearby)
    return text
