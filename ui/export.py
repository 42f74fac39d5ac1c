"""A conversation as a Markdown handout: questions, answers and the full source list."""

from __future__ import annotations

import time

from kb.results import Citation, Passage
from ui.plaintext import md_plain

PERSONA_LABELS = {"ouder": "ouder of verzorger", "leraar": "leraar of schoolteam", "trainer": "trainer of opleider"}


def md_text(text: str) -> str:
    """Text from documents, users or a model, safe in Markdown: it shows as written, with no
    image, link, HTML or markup (:func:`ui.plaintext.md_plain`, line by line); the answer's
    own "- " bullets stay bullets."""
    lines = (text or "").replace("\r", "").split("\n")
    return "\n".join(f"- {md_plain(ln[2:])}" if ln.startswith("- ") else md_plain(ln) for ln in lines)


def md_line(text: object) -> str:
    """One line of such text (a question, a title, a place): its line breaks become spaces."""
    return md_plain(" ".join(str(text or "").split()))


def where(c: Passage) -> str:
    """'p. 4' or the (innermost) section a passage is in, quoted; '' when neither is known."""
    return c.quoted_where


def source_line(c: Passage) -> str:
    """'Authors, Title (year), type, place' — as a reference on a handout."""
    parts = [f"{c.author + ', ' if c.author else ''}{c.title or c.source} ({c.year or 'z.j.'})"]
    if c.doc_type:
        parts.append(c.doc_type)
    if where(c):
        parts.append(where(c))
    return ", ".join(md_line(p) for p in parts)


def _quote(c: Citation) -> str:
    return "\n".join(f"   > “{md_line(q)}”" for q in c.quotes)


def conversation_markdown(
    turns: list[dict], title: str = "Kennisbank Passend Onderwijs", when: float | None = None
) -> str:
    """``turns`` as stored by :class:`kb.chats.ChatStore` ({question, persona, result: Answer})."""
    date = time.strftime("%d-%m-%Y", time.localtime(when or time.time()))
    out = [
        f"# {title}",
        "",
        f"Gesprek van {date}. Elk antwoord is samengesteld uit de bronnen;",
        "de nummers [n] verwijzen naar de bronnenlijst onder het antwoord.",
        "",
    ]
    all_sources: dict[str, dict] = {}  # per document: the first citation and the places cited
    for i, t in enumerate(turns, start=1):
        r = t["result"]
        out += [f"## Vraag {i}: {md_line(t.get('question', ''))}", ""]
        if t.get("persona") in PERSONA_LABELS:
            out += [f"*Antwoord voor een {PERSONA_LABELS[t['persona']]}.*", ""]
        parts = [r.lead, r.not_said, r.body or (r.answer if not r.not_said else ""), r.glossary_extra, r.persona_note]
        out += [md_text("\n\n".join(p for p in parts if p)), ""]  # the full source list follows
        if r.abstained and not r.citations:
            if r.nearby:
                out += ["*Wel gevonden, maar geen antwoord op de vraag:*", ""]
                out += [f"- {source_line(p)}" for p in r.nearby]
                out.append("")
            continue
        if r.citations:
            out += ["**Bronnen bij dit antwoord**", ""]
            for c in r.citations:
                out.append(f"{c.n}. {source_line(c)}")
                q = _quote(c)
                if q:
                    out.append(q)
                doc = all_sources.setdefault(c.source or c.title, {"c": c, "places": []})
                if where(c) and where(c) not in doc["places"]:
                    doc["places"].append(where(c))
            out.append("")
    if all_sources:
        out += ["## Alle gebruikte bronnen", ""]
        for doc in sorted(all_sources.values(), key=lambda d: str(d["c"].title)):
            c = doc["c"]
            author = f"{md_line(c.author)}, " if c.author else ""
            line = f"- {author}{md_line(c.title or c.source)} ({md_line(c.year or 'z.j.')})"
            if c.doc_type:
                line += f", {md_line(c.doc_type)}"
            if doc["places"]:
                line += "; geciteerd uit: " + "; ".join(md_line(p) for p in doc["places"])
            out.append(line)
        out.append("")
    out += [
        "---",
        "",
        "*Gemaakt met de Kennisbank Passend Onderwijs. Controleer citaten in de oorspronkelijke documenten.*",
        "",
    ]
    return "\n".join(out)
