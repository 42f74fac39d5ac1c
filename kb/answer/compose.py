"""From scored sentences to the text of an answer: one to three excerpts, each cited.

:func:`excerpts` picks the sentences: the one that answers first, then the few that
add to it, and for list questions the items gathered across passages. Each pick is
then made readable on its own: a sentence that leans on the one before it ("Dit
betekent …", "Het gaat om …", "Ten tweede …") brings that sentence along or is left
out, and a quotation is never cut inside its quotation marks. The picks become
*excerpts*: runs of contiguous sentences of one passage, in reading order, at most
three, the best first. :func:`cite` numbers the passages in order of use;
:func:`answer_text`, :func:`not_said` and :func:`abstention_text` write the Dutch
text. Every sentence is an exact span of its passage; nothing is reworded.
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

# "Dit", "Daardoor", "Ook", "Het gaat om" …: a sentence that leans on the one before it
_LEANS_BACK = re.compile(
    r"^(?:- )?[“\"‘']?(?:dit|dat|deze|die|daar|daardoor|daarom|daarbij|daarnaast|daarmee|daarin|daarvoor"
    r"|daarna|daaruit|hierdoor|hierbij|hiermee|hierin|hiervoor|zo|ook|toch|maar|wel|verder|bovendien"
    r"|tegelijkertijd|terwijl|want|dus|echter|vervolgens|anderzijds|en|zij|ze|hij|hun|hen|het gaat om"
    r"|het betreft|ten (?:eerste|tweede|derde|vierde|slotte)|tot slot|in de eerste plaats"
    r"|(?:indien|als|wanneer|omdat|doordat|hoewel|nu|zodra|toen|waardoor|daar) (?:dat|dit|die|deze|ze|zij|hij)"
    r"|toen|behalve|een andere|een ander|andere|het andere|de andere|ook hier|hierna|daarom"
    r"|(?:\w+ ){1,3}(?:dit|deze|zo'n|zulke)(?= )"
    r"|(?:op|in|bij|met|voor|van|aan|door|om|na|tot|uit|over|naar|onder|zonder|ondanks|volgens) (?:die|dat|daar|hier))\b",
    re.I,
)
MAX_EXCERPTS = 3
MAX_CONTEXT_BACK = 2  # sentences brought along for a sentence that leans back
MAX_QUOTE_SENTENCES = 5  # a quotation longer than this is not completed
MAX_LIST_ITEMS = 9  # items a lead-in brings along

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
    other_ratio: float = 0.6  # a sentence away from the first excerpt needs this share of the best probability
    other_excerpts: int = 1  # … and at most this many further excerpts (lists and comparisons: one more)
    follow_ratio: float = 0.25  # the sentence right after the excerpt joins it with this share
    follow_max: int = 3  # … at most this many

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


def excerpts(question: Question, cands: list[Candidate], limits: Limits) -> list[list[Candidate]]:
    """The answer's excerpts: runs of contiguous sentences of one passage, in reading order,
    each readable on its own; the excerpt with the answering sentence first."""
    if question.followup and picks_from_previous(question.asked):
        items = _picked_from_previous(cands)
        if items:  # "welke daarvan gaat over ouders?": the items of the previous answer that are about it
            return _runs(items, items[0])
    if (
        question.followup and question.kind != "yesno"
    ):  # a repeat would read as "yes" ("en helpt het ook tegen pesten?")
        said = _answered_before(cands, question.kind in STRICT_KINDS, re.findall(r"\d+", question.asked))
        if said is not None:  # "hoeveel leerlingen zitten daar dan?": the previous answer said it
            return _runs(_readable(said, cands) or [said], said)
    picked = _pick(question, cands, limits)
    if not picked:
        return []
    usable = _usable(question, cands)
    lead = picked[0]
    chosen: list[Candidate] = []
    for c in picked:
        if c in chosen:
            continue
        run = _readable(c, usable)
        if run is None:
            continue  # leans on a sentence that cannot be shown (a heading, a cut-off start)
        chosen.extend(x for x in run if x not in chosen)
    if not chosen:  # nothing picked stands on its own: the best sentence that does
        for c in sorted(usable, key=lambda c: -c.score)[:20]:
            run = _readable(c, usable)
            if run is not None:
                chosen, lead = run, c
                break
        else:
            return []
    if lead not in chosen:
        lead = max(chosen, key=lambda c: c.score)
    _continue(chosen, lead, usable, limits)
    return _runs(chosen, lead)


# a sentence that announces what follows: "… bestaat uit vier onderdelen.", "Dat zijn:", "de volgende …"
_ANNOUNCES = re.compile(
    r"\b(?:de volgende|als volgt|(?:twee|drie|vier|vijf|zes|zeven|acht|negen|tien|\d+) (?:\w+ )?"
    r"(?:onderdelen|punten|stappen|factoren|elementen|voorwaarden|aspecten|redenen|doelen|pijlers|uitgangspunten"
    r"|vormen|rollen|taken|fasen|typen|soorten|knelpunten|lessen|succesfactoren|modules|thema's))\b",
    re.I,
)


# "Nu, eind 2016 is dat anders.": what is different comes in the next sentences
_TURNS = re.compile(r"\b(?:is|was|ligt|werkt) (?:dat|dit|het) (?:nu |inmiddels )?(?:anders|veranderd)\W*$", re.I)

_QUALIFIES = re.compile(
    r"^(?:- )?[“\"‘']?(?:toch|maar|echter|wel|behalve|alleen|daarentegen|anderzijds|tegelijkertijd|ondanks)\b", re.I
)


def _continue(chosen: list[Candidate], lead: Candidate, usable: list[Candidate], limits: Limits) -> None:
    """Let the lead's excerpt go on while the next sentences carry on its answer: one that
    scores well, or what a sentence announcing a list or a number of points goes on to name."""
    same = _same_passage(lead, usable)
    run_end = max((c for c in chosen if c.hit_index == lead.hit_index), key=lambda c: c.start)
    announced = bool(_ANNOUNCES.search(lead.text)) and not lead.text.rstrip().endswith(":")  # ":" brought its items
    announced = announced or bool(_TURNS.search(run_end.text))
    added = 0
    while added < limits.follow_max:
        nxt = _after(run_end, same)
        if nxt is None or nxt in chosen:
            break
        # a sentence that qualifies the excerpt ("Toch zijn er hiaten …") must not be left out
        if not (announced or _QUALIFIES.match(nxt.text) or nxt.score >= limits.follow_ratio * lead.score):
            break
        run = _readable(nxt, usable)
        if run is None:
            break
        chosen.extend(x for x in run if x not in chosen)
        run_end = max(run, key=lambda c: c.start)
        added += 1


_ASKS_WHICH = re.compile(r"^(?:en |maar )?welke\b", re.I)  # "en welke gaat over ons als leraren?"
PICKS_FROM_PREVIOUS = re.compile(r"\b(?:daarvan|hiervan|ervan|welke van|wie van|wat van|die van)\b", re.I)


#: a sentence of the previous answer answers a follow-up again when it scores this well and this
#: many times better than any new sentence (fitted on the training set's follow-ups, eval/followups.py)
REPEAT_MIN = 0.2
REPEAT_RATIO = 1.2


def _answered_before(cands: list[Candidate], fact: bool, numbers: list[str]) -> Candidate | None:
    """The previous answer's sentence that answers the follow-up far better than anything new
    (for "hoeveel / wanneer / hoe vaak": one that holds such a fact; and every number the
    question names: "hoe staat het er eind 2016 voor?" is not answered by a sentence about 2014)."""
    said = [
        c
        for c in cands
        if c.features.get("in_previous_answer")
        and (not fact or c.features.get("type_match"))
        and all(re.search(rf"\b{n}\b", c.text) for n in numbers)
    ]
    if not said:
        return None
    best = max(said, key=lambda c: c.score)
    new = max((c.score for c in cands if not c.features.get("in_previous_answer")), default=0.0)
    return best if best.score >= REPEAT_MIN and best.score >= REPEAT_RATIO * new else None


def repeats_previous(runs: list[list[Candidate]]) -> bool:
    """Whether an answer's excerpts all come from the previous answer (said so to the user)."""
    return bool(runs) and all(c.features.get("in_previous_answer") for run in runs for c in run)


def picks_from_previous(asked: str) -> bool:
    """Whether a follow-up asks to pick from the previous answer ("welke daarvan …", "en welke …?")."""
    return bool(PICKS_FROM_PREVIOUS.search(asked) or _ASKS_WHICH.match(asked.strip()))


def _usable(question: Question, cands: list[Candidate]) -> list[Candidate]:
    """A follow-up asks something new: not the sentences the previous answer gave, unless it
    asks to pick from them ("welke daarvan …")."""
    if not question.followup or picks_from_previous(question.asked):
        return cands
    return [c for c in cands if not c.features.get("in_previous_answer")] or cands


def _picked_from_previous(cands: list[Candidate]) -> list[Candidate]:
    """The list items of the previous answer that hold most of the words asked now (at most three)."""
    items = [
        c
        for c in cands
        if c.features.get("in_previous_answer") and c.features.get("list_item") and c.features.get("cov_asked", 0) > 0
    ]
    if not items:
        return []
    most = max(c.features["cov_asked"] for c in items)
    best = [c for c in items if c.features["cov_asked"] >= most - 1e-9]
    return sorted(best, key=lambda c: -c.score)[:MAX_EXCERPTS]


def _same_passage(c: Candidate, cands: list[Candidate]) -> list[Candidate]:
    return sorted((x for x in cands if x.hit_index == c.hit_index), key=lambda x: x.start)


def _adjacent(a: Candidate, b: Candidate) -> bool:
    """Whether ``b`` follows ``a`` directly in their passage (only white space between)."""
    return a.hit_index == b.hit_index and 0 <= b.start - a.end <= 3


def _before(c: Candidate, same: list[Candidate]) -> Candidate | None:
    k = same.index(c)
    return same[k - 1] if k > 0 and _adjacent(same[k - 1], c) else None


def _after(c: Candidate, same: list[Candidate]) -> Candidate | None:
    k = same.index(c)
    return same[k + 1] if k + 1 < len(same) and _adjacent(c, same[k + 1]) else None


def leans_back(text: str) -> bool:
    """Whether a sentence opens by pointing back to the one before it."""
    return bool(_LEANS_BACK.match(text.strip()))


def open_quotes(text: str) -> int:
    """Quotation marks opened and not closed; negative when one closes before it was opened
    (also when another opens later: "… stellen.” Die blokkades … “Mensen …")."""
    depth = lowest = 0
    for ch in text:
        if ch == "“":
            depth += 1
        elif ch == "”":
            depth -= 1
            lowest = min(lowest, depth)
    if lowest < 0:
        return lowest
    return depth if depth else text.count('"') % 2


def _readable(c: Candidate, cands: list[Candidate]) -> list[Candidate] | None:
    """``c`` with what it needs to be read on its own, in reading order; None when that is not shown.

    Repeated until nothing changes: a sentence that leans back brings the one before it; an
    open quotation brings the sentences up to its end (a closing one those from its start);
    a lead-in (":") brings the items or the quotation it introduces.
    """
    same = _same_passage(c, cands)
    run = [c]
    back = 0
    for _ in range(MAX_QUOTE_SENTENCES + MAX_LIST_ITEMS):
        first, last = run[0], run[-1]
        balance = open_quotes(" ".join(x.text for x in run))
        if leans_back(first.text) and not first.features.get("list_item"):
            back += 1
            prev = _before(first, same)
            if prev is None or back > MAX_CONTEXT_BACK + 1:
                return None
            run.insert(0, prev)
        elif balance > 0:
            nxt = _after(last, same)
            if nxt is None:
                return None  # a quotation that does not end in what we can show
            run.append(nxt)
        elif balance < 0:
            prev = _before(first, same)
            if prev is None:
                return None
            run.insert(0, prev)
        elif last.text.rstrip().endswith(":"):
            items = _introduced(last, same)
            if not items:
                return None  # a lead-in without what it introduces
            run.extend(items)
        else:
            return run if len(run) <= MAX_QUOTE_SENTENCES + MAX_LIST_ITEMS else None
    return None


def _introduced(lead_in: Candidate, same: list[Candidate]) -> list[Candidate]:
    """The items (or the quotation) a lead-in introduces: the sentences right after it, up to
    the first that ends a sentence rather than an item (";", "," or a list item go on)."""
    out: list[Candidate] = []
    cur = lead_in
    while len(out) < MAX_LIST_ITEMS:
        nxt = _after(cur, same)
        if nxt is None:
            break
        out.append(nxt)
        tail = nxt.text.rstrip()
        if not (nxt.features.get("list_item") or tail.endswith((";", ","))):
            break
        cur = nxt
    return out


def _runs(chosen: list[Candidate], lead: Candidate) -> list[list[Candidate]]:
    """Contiguous runs per passage in reading order; the lead's run first, then by best score."""
    runs: list[list[Candidate]] = []
    for c in sorted(chosen, key=lambda c: (c.hit_index, c.start)):
        if runs and _adjacent(runs[-1][-1], c):
            runs[-1].append(c)
        else:
            runs.append([c])
    runs.sort(key=lambda r: (lead not in r, -max(c.score for c in r)))
    return runs[:MAX_EXCERPTS]


def _pick(question: Question, cands: list[Candidate], limits: Limits) -> list[Candidate]:
    """The sentences that answer, best first (before they are made readable)."""
    usable = _usable(question, cands)
    ranked = sorted(usable, key=lambda c: -c.score)
    if not ranked:
        return []
    lead = ranked[0]
    if question.kind in STRICT_KINDS and not lead.features["type_match"]:
        typed = [c for c in ranked if c.features["type_match"] and c.score >= limits.type_lead * lead.score]
        if typed:
            lead = typed[0]
            ranked = [lead] + [c for c in ranked if c is not lead]
    if question.kind == "definition" and not lead.features.get("definition_opening"):
        # "wat is X?": a sentence that opens by defining X leads ("De zorgplicht: …", "X is een …")
        defining = [
            c for c in ranked if c.features.get("definition_opening") and c.score >= limits.type_lead * lead.score
        ]
        if defining:
            lead = defining[0]
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
            return chosen
    chosen = [lead]
    chars = len(lead.text)
    limit_n = limits.max_sentences + (2 if question.kind == "list" else 0)
    elsewhere = 0  # picks away from the lead's neighbourhood: each a further excerpt
    most_elsewhere = limits.other_excerpts + (1 if question.kind in ("list", "compare") else 0)
    for c in ranked[1:]:
        if len(chosen) >= limit_n or c.score < limits.add_min or c.score < limits.add_ratio * lead.score:
            break
        if chars + len(c.text) > limits.max_chars or any(_similar(c, x) for x in chosen):
            continue
        near = c.hit_index == lead.hit_index and abs(c.start - lead.start) < 400
        if not near:
            if elsewhere >= most_elsewhere or c.score < limits.other_ratio * lead.score:
                continue
            elsewhere += 1
        chosen.append(c)
        chars += len(c.text)
    return chosen


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


def cite_excerpts(hits: list[Hit], runs: list[list[Candidate]]) -> tuple[list[Citation], list[tuple[str, int]]]:
    """Citations as :func:`cite` numbers them, and one (text, number) line per excerpt: its
    sentences joined in reading order (a list as its lead-in and '- ' items on lines of their own)."""
    chosen = [c for run in runs for c in run]
    citations, sentence_lines = cite(hits, chosen)
    number = {c.hit_index: n for c, (_, n) in zip(chosen, sentence_lines)}
    lines = []
    for run in runs:
        items = [c for c in run if c.features.get("list_item")]
        if len(items) >= 2:
            text = "\n".join(as_item(c.text) if c in items else c.text.strip() for c in run)
        else:
            text = " ".join(_prose(c.text) for c in run)
        lines.append((text, number[run[0].hit_index]))
    return citations, lines


def as_item(text: str) -> str:
    t = text.strip()
    return t if t.startswith("- ") else f"- {t.lstrip('•* ').strip()}"


def is_list(lines: list[tuple[str, int]]) -> bool:
    return len(lines) > 2 and all(t.lstrip().startswith("- ") for t, _ in lines[1:])


def answer_text(lines: list[tuple[str, int]]) -> str:
    """The lines with their [n]: excerpts as paragraphs; a list as a lead line and '- ' items."""
    if is_list(lines):
        (head, n), *items = lines
        return f"{head} [{n}]\n" + "\n".join(f"{as_item(t)} [{m}]" for t, m in items)
    if any("\n" in t for t, _ in lines):  # an excerpt that holds a list
        return "\n\n".join(f"{t} [{n}]" for t, n in lines)
    return "\n\n".join(f"{_prose(t)} [{n}]" for t, n in lines)


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


def abstention_text(reasons: list[str], nearby: list[Passage]) -> str:
    text = ABSTAIN_TEXT
    if reasons:
        text += " (" + "; ".join(reasons) + ".)"
    if nearby:
        text += f" {NEARBY_INTRO}\n" + "\n".join(f"- {p.source_line()}" for p in nearby)
    return text
