"""Questions that name who says something: "Wat zegt CNV Onderwijs over werkdruk?", "knelpunten volgens Van Veen".

Every passage knows its speaker (:mod:`ingest.speakers`: a byline in the text, or the
document's author). :class:`SpeakerNames` holds the names a question may use for each
speaker of the index (a person's name, "Van Veen", an organisation's name or abbreviation)
and :meth:`SpeakerNames.named` finds the speakers a question names. :func:`asks_for_speaker`
tells whether the question asks what they say ("wat zegt", "volgens", "vindt", "mening van"):
then only their passages answer; a name alone gives their passages a boost
(:data:`BOOST`, a share of a first place in the fused ranking).
"""

from __future__ import annotations

import re

from ingest.speakers import aliases, fold
from kb.text import STOPWORDS, common_words

BOOST = 0.5  # a passage of a speaker the question names (without asking what they say) gains this
# share of a first place in the fused ranking

#: words that ask what someone says or thinks (folded)
_SPEECH = re.compile(
    r"\b(?:zegt|zeggen|zei|vindt|vinden|vond|volgens|mening|standpunt|visie|opvatting|schrijft|schrijven|schreef"
    r"|vertelt|vertellen|stelt|pleit|pleiten|bepleit|waarschuwt|noemt|denkt|ziet|vraagt|bijdrage|column|verhaal"
    r"|reactie|boodschap|oproep|vertelde|zeiden|wil|willen|wilde|aan het woord|raadt|raden|adviseert|adviseren"
    r"|aanbeveling|aanbevelingen|says|according)\b"
)
#: a question that checks a claim someone made ("X zei dat …; klopt dat?") asks about more than X
_CHECK = re.compile(r"\b(?:klopt|kloppen|is het waar|is dat waar|waar of niet|true)\b")


def asks_for_speaker(query: str) -> bool:
    """Whether the question asks what someone says or thinks ("wat zegt …", "volgens …"),
    and not whether a claim of theirs holds ("… zei dat …; klopt dat?")."""
    folded = fold(query)
    return bool(_SPEECH.search(folded)) and not _CHECK.search(folded)


class SpeakerNames:
    """The names of the speakers of one index, ready to be found in questions."""

    def __init__(self, speakers: list[str]):
        self.speakers = [s for s in dict.fromkeys(speakers) if s]
        self._by_name: dict[str, list[str]] = {}
        for speaker in self.speakers:
            for name in aliases(speaker):
                self._by_name.setdefault(name, []).append(speaker)
        names = sorted(self._by_name, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w&])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w&])") if names else None
        )

    def named(self, query: str) -> list[str]:
        """The speakers the question names (in the order of the index), none when it names none."""
        if self._pattern is None or not query:
            return []
        found: set[str] = set()
        for m in self._pattern.finditer(fold(query)):
            found.update(self._by_name.get(m.group(0), []))
        return [s for s in self.speakers if s in found]


#: after these words comes who says it: "volgens de Onderwijsraad", "wat zegt de kinderombudsman"
_WHO_AFTER = re.compile(
    r"\b(?:volgens|zegt|zeggen|vindt|vinden|denkt|denken|schrijft|schrijven|raadt|raden|adviseert|adviseren"
    r"|pleit|pleiten)\s+(?:de |het |die |dat )?([^\W\d_][\w'’&()-]{2,})",
    re.I,
)
_NAME_PART = re.compile(r"[A-Z][\w'’&()-]*|[A-Z]{2,}")
_JOINERS = {"van", "de", "der", "den", "het", "voor", "en", "&"}


def names_in(question: str) -> list[str]:
    """The names a question gives to who says something: runs of capitalised words and acronyms
    after its first word ("Bert Wienen", "Leraren van het Jaar"), and the word after "volgens (de)"
    or "zegt / vindt … de" in a question typed in lower case ("volgens de onderwijsraad")."""
    tokens = re.findall(r"[\w'’&()-]+", question)
    names: list[str] = []
    run: list[str] = []
    for i, tok in enumerate(tokens):
        if (i > 0 and _NAME_PART.fullmatch(tok)) or (
            run and tok.lower() in _JOINERS and i + 1 < len(tokens) and _NAME_PART.fullmatch(tokens[i + 1])
        ):
            run.append(tok)
        else:
            if run:
                names.append(" ".join(run))
            run = []
    if run:
        names.append(" ".join(run))
    for m in _WHO_AFTER.finditer(question):
        word = m.group(1)
        if fold(word) in common_words() or fold(word) in STOPWORDS:
            continue  # "volgens het onderzoek", "wat vinden leraren": not a name
        if not any(fold(word) in fold(n).split() for n in names):
            names.append(word)
    return names
