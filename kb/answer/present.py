"""The answer shaped for who asks: the persona changes the presentation, never the cited facts.

- parents (``ouder``): a glossary explanation of a term they used comes first, clearly
  marked, and the answer ends with where to go for their own child;
- trainers (``trainer``): the answer as bullets with a source list, for a slide;
- a "wat is X" question gets the glossary's explanation as a marked extra after the
  definition from the sources.
"""

from __future__ import annotations

from kb.answer.compose import as_item
from kb.results import Answer, Term
from kb.retrieval.glossary import mentions

PERSONAS = ("ouder", "leraar", "trainer")
PLAIN_TERMS = {"po", "vo", "mbo", "ouders", "extra ondersteuning"}  # no explanation needed for parents

PARENT_TAIL = (
    "Voor vragen over de situatie van uw eigen kind kunt u terecht bij de school "
    "(bijvoorbeeld de intern begeleider of de mentor) en bij het samenwerkingsverband "
    "passend onderwijs in uw regio. Komen u en de school er samen niet uit, dan kunt u "
    "gratis advies vragen aan de onderwijsconsulenten."
)
GLOSSARY_EXTRA = "Ter aanvulling, uit de begrippenlijst van deze kennisbank (geen citaat uit de bronnen):"


def glossary_extra(answer: Answer, subject: str) -> str | None:
    """The glossary's explanation of the "wat is X" subject, marked as not from the sources."""
    for t in answer.terms:
        if subject and mentions(subject, t.term, t.full):
            return f"{GLOSSARY_EXTRA} {t.full} ({t.term}) — {t.uitleg}"
    return None


def _parent_lead(answer: Answer, asked: str) -> str | None:
    named = [t for t in answer.terms if t.term not in PLAIN_TERMS and mentions(asked, t.term, t.full)]
    if not named:
        return None
    t: Term = named[0]
    return f"Eerst een begrip: {t.full} ({t.term}) — {t.uitleg}"


def present(answer: Answer, lines: list[tuple[str, int]] | None, body: str, asked: str, subject: str = "") -> None:
    """Write ``answer.answer`` (and ``lead`` / ``bullets``) from the composed ``body``."""
    extra = glossary_extra(answer, subject) if subject and not answer.abstained else None
    text = body + (f"\n\n{extra}" if extra else "")
    if answer.persona == "trainer" and lines and not answer.abstained:
        answer.bullets = [f"{as_item(t)} [{n}]" for t, n in lines]
        sources = "\n".join(f"[{c.n}] {c.source_line()}" for c in answer.citations)
        text = "\n".join(answer.bullets) + (f"\n\n{extra}" if extra else "") + "\n\nBronnen:\n" + sources
    elif answer.persona == "ouder":
        if not answer.abstained and not extra:
            answer.lead = _parent_lead(answer, asked)
        if answer.lead:
            text = f"{answer.lead}\n\nWat de bronnen zeggen:\n{text}"
        text += "\n\n" + PARENT_TAIL
    answer.answer = text
