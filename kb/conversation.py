"""Questions as users type them: validation and follow-ups resolved against history."""

from __future__ import annotations

import re

from kb.text import STOPWORDS, words

MAX_QUESTION_CHARS = 1000

# Words that point back to an earlier turn: "welke daarvan", "hoe groot zijn ze daar?".
_STRONG_ANAPHORA = {
    "daarvan", "daarover", "daarbij", "daarin", "daarmee", "daaraan", "daarna", "daardoor", "daarvoor",
    "ervan", "erover", "ermee", "eraan", "erin", "hiervan", "hierover", "hiermee", "hierin",
}
_WEAK_ANAPHORA = {"daar", "die", "dat", "deze", "dit", "ze", "zij", "hun", "hen", "hem", "haar", "zo'n", "dezelfde"}
_QUESTION_WORDS = {"welke", "wie", "waarom", "hoe", "wat", "wanneer", "waar", "hoeveel"}
_ENGLISH = {
    "the", "what", "is", "are", "how", "does", "do", "which", "who", "why", "when", "of",
    "and", "to", "in", "for", "with", "about", "school", "schools", "can", "my", "child",
    "support", "education", "inclusive", "a", "an", "on", "at", "be", "should", "there",
}
_DUTCH_HINTS = {"de", "het", "een", "en", "van", "wat", "is", "hoe", "welke", "wie", "moet", "kan", "mijn", "kind", "school", "ik", "er", "zijn"}


def normalise_question(question: str | None) -> tuple[str, str | None]:
    """(question to use, notice for the user or None). Empty input gives ('', notice)."""
    q = (question or "").replace("\x00", " ")
    q = re.sub(r"\s+", " ", q).strip()
    if not q or not any(c.isalnum() for c in q):
        return "", "Stel een vraag in woorden, bijvoorbeeld: 'Wat is een ontwikkelingsperspectief?'"
    notice = None
    if len(q) > MAX_QUESTION_CHARS:
        q = q[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        notice = f"Uw vraag was erg lang; alleen de eerste {MAX_QUESTION_CHARS} tekens zijn gebruikt."
    if is_english(q):
        notice = (notice + " " if notice else "") + (
            "De bronnen zijn Nederlandstalig; het antwoord is daarom in het Nederlands."
        )
    return q, notice


def is_english(question: str) -> bool:
    ws = words(question)
    if len(ws) < 3:
        return False
    en = sum(w in _ENGLISH for w in ws)
    nl = sum(w in _DUTCH_HINTS for w in ws)
    return en >= 2 and en > 1.5 * nl


def is_followup(question: str) -> bool:
    """Whether a question only makes sense after the previous turn."""
    ws = words(question)
    if not ws:
        return False
    content = [w for w in ws if w not in STOPWORDS and w not in _WEAK_ANAPHORA and w not in _QUESTION_WORDS]
    if ws[0] in ("en", "maar", "ook", "dus"):
        return True
    if any(w in _STRONG_ANAPHORA for w in ws):
        return True
    if any(w in _WEAK_ANAPHORA for w in ws) and len(content) <= 3:
        return True
    return not content  # "waarom?", "hoe dan?"


def resolve(question: str, history: list[dict] | None) -> str:
    """The question to retrieve with: a follow-up is joined with the previous user turn."""
    if not history or not is_followup(question):
        return question
    previous = [t.get("content", "") for t in history if t.get("role") == "user" and t.get("content")]
    if not previous:
        return question
    return f"{previous[-1]} {question}"
