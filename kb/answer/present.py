"""The answer shaped for who asks: the persona changes the presentation, never the cited facts.

- parents (``ouder``): a glossary explanation of a term they used comes first, clearly
  marked, and the answer ends with where to go for their own child;
- trainers (``trainer``): the answer as bullets with a source list, for a slide;
- a "wat is X" question gets the glossary's explanation as a marked extra after the
  definition from the sources.
"""

from __future__ import annotations

from kb.answer.compose import NEARBY_INTRO, PARTIAL_INTRO, as_item
from kb.results import Answer, Excerpt, Term
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


def present(
    answer: Answer,
    lines: list[tuple[str, int]] | None,
    body: str,
    asked: str,
    subject: str = "",
    not_said: str | None = None,
) -> None:
    """Fill the answer's parts (``body``, ``excerpts``, ``lead``, ``bullets``, ``glossary_extra``,
    ``persona_note``, ``not_said``) from the composed ``body``, and ``answer`` as their one text."""
    extra = glossary_extra(answer, subject) if subject and not answer.abstained else None
    answer.excerpts = [Excerpt(n, t) for t, n in lines or []]
    answer.glossary_extra, answer.not_said = extra, not_said
    answer.body = body
    if answer.persona == "trainer" and lines and not answer.abstained:
        answer.bullets = [f"{as_item(t)} [{n}]" for t, n in lines]
        answer.body = "\n".join(answer.bullets)
    if answer.persona == "ouder":
        if not answer.abstained and not extra:
            answer.lead = _parent_lead(answer, asked)
        answer.persona_note = PARENT_TAIL
    answer.answer = full_text(answer)


def full_text(answer: Answer) -> str:
    """The answer's parts as one text (the command line, ``--json``'s ``answer``)."""
    text = answer.body
    if answer.not_said and answer.body:
        text = f"{answer.not_said} {PARTIAL_INTRO} {text}"
    elif answer.not_said:
        text = answer.not_said
    if answer.glossary_extra:
        text += f"\n\n{answer.glossary_extra}"
    if answer.persona == "trainer" and answer.bullets:
        text += "\n\nBronnen:\n" + "\n".join(f"[{c.n}] {c.source_line()}" for c in answer.citations)
    if answer.lead:
        text = f"{answer.lead}\n\nWat de bronnen zeggen:\n{text}"
    if answer.abstained and not answer.partial and answer.nearby:
        text += f" {NEARBY_INTRO}\n" + "\n".join(f"- {p.source_line()}" for p in answer.nearby)
    if answer.persona_note:
        text += "\n\n" + answer.persona_note
    return text
