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
    r"\b(?i:volgens|zegt|zeggen|vindt|vinden|denkt|denken|schrijft|schrijven|raadt|raden|adviseert|adviseren"
    r"|pleit|pleiten)\s+(?i:de |het |die |dat )?((?:[^\W\d_][\w'’&()-]*)(?:\s+(?:van|de|der|den|het|voor|en|&)?\s*[A-Z][\w'’&()-]*)*)"
)
_NAME_PART = re.compile(r"[A-Z][\w'’&()-]*")


def names_in(question: str) -> list[str]:
    """Who a question asks the opinion of: the name right after "volgens (de)" or "zegt / vindt /
    raadt … (de)": a run of capitalised words ("Jan de Vos", "Nederlands Jeugdinstituut"), or one
    word typed in lower case that is no common word ("volgens de onderwijsraad"). Other names in
    the question ("nu de RT'er bij ons weg is") are not who is asked."""
    names = []
    for m in _WHO_AFTER.finditer(question):
        name = m.group(1).strip()
        first = name.split()[0]
        if not _NAME_PART.match(first):  # lower case: the one word, if it is no everyday word
            name = first
            if fold(name) in common_words() or fold(name) in STOPWORDS:
                continue
        names.append(name.rstrip("?.,!"))
    return list(dict.fromkeys(names))
