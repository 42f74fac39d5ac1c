"""Questions as users type them: validation, language, question type and follow-ups.

:func:`analyse` turns the raw question and the conversation so far into a
:class:`Question`: the words to search with (a follow-up joined with the turn it
depends on), the user's own words (what the answer must be about) and the *kind*
of answer asked for (a definition, a frequency, a person, a reason, a list, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.text import STOPWORDS, analyze, common_words, fold, words

MAX_QUESTION_CHARS = 1000
EMPTY_NOTICE = "Stel een vraag in woorden, bijvoorbeeld: 'Wat is een ontwikkelingsperspectief?'"
ENGLISH_NOTICE = (
    "U stelde uw vraag in het Engels. De bronnen zijn Nederlandstalig; "
    "daarom staat het antwoord hieronder in het Nederlands, met letterlijke citaten."
)

# Words that point back to an earlier turn: "welke daarvan", "hoe groot zijn ze daar?".
_STRONG_ANAPHORA = {
    "daarvan",
    "daarover",
    "daarbij",
    "daarin",
    "daarmee",
    "daaraan",
    "daarna",
    "daardoor",
    "daarvoor",
    "ervan",
    "erover",
    "ermee",
    "eraan",
    "erin",
    "hiervan",
    "hierover",
    "hiermee",
    "hierin",
}
_WEAK_ANAPHORA = {
    "daar",
    "die",
    "dat",
    "deze",
    "dit",
    "ze",
    "zij",
    "hun",
    "hen",
    "hem",
    "haar",
    "zo'n",
    "dezelfde",
    "zoiets",
    "they",
    "it",
    "that",
    "this",
    "there",
}
# "het" and "er" are pronouns (not articles) before a particle or at the end: "wie stelt het op?"
_PARTICLES = {
    "op",
    "vast",
    "in",
    "uit",
    "aan",
    "mee",
    "over",
    "af",
    "toe",
    "dan",
    "nou",
    "eigenlijk",
    "precies",
    "bij",
    "door",
    "voor",
    "terug",
    "weer",
    "wel",
    "niet",
    "ook",
    "nog",
    "al",
    "zo",
    "goed",
}
_QUESTION_WORDS = {"welke", "wie", "waarom", "hoe", "wat", "wanneer", "waar", "hoeveel", "welk"}
_NOT_CONTENT = frozenset(STOPWORDS | _WEAK_ANAPHORA | _QUESTION_WORDS | _STRONG_ANAPHORA | _PARTICLES)
_ENGLISH = {
    "the",
    "what",
    "is",
    "are",
    "how",
    "does",
    "do",
    "which",
    "who",
    "why",
    "when",
    "of",
    "and",
    "to",
    "in",
    "for",
    "with",
    "about",
    "school",
    "schools",
    "can",
    "my",
    "child",
    "support",
    "education",
    "inclusive",
    "a",
    "an",
    "on",
    "at",
    "be",
    "should",
    "there",
    "has",
    "have",
    "it",
    "this",
    "that",
    "get",
    "need",
    "needs",
    "special",
    "parents",
    "teachers",
    "son",
    "daughter",
    "kid",
    "their",
    "they",
    "much",
    "many",
    "often",
    "long",
    "just",
    "here",
    "from",
    "our",
    "her",
    "his",
    "your",
    "anyone",
    "during",
    "hi",
    "would",
    "could",
    "if",
    "been",
    "whether",
    "only",
    "where",
}
_DUTCH_HINTS = {
    "de",
    "het",
    "een",
    "en",
    "van",
    "wat",
    "is",
    "hoe",
    "welke",
    "wie",
    "moet",
    "kan",
    "mijn",
    "kind",
    "school",
    "ik",
    "er",
    "zijn",
    "op",
    "voor",
    "niet",
    "dat",
    "die",
    "wordt",
    "met",
}

# The kind of answer a question asks for, by its opening words (folded text; first match wins).
_KINDS: list[tuple[str, re.Pattern]] = [
    (k, re.compile(p))
    for k, p in [
        ("frequency", r"\bhoe (vaak|dikwijls|regelmatig)\b|\bhow often\b|\bhoeveel keer\b"),
        (
            "duration",
            r"\bhoe lang\b|\bbinnen (hoeveel|welke) (tijd|termijn|dagen|weken|maanden)\b|\btermijn\b|\bhow long\b",
        ),
        (
            "quantity",
            r"\bhoeveel\b|\bhoe groot\b|\bhoe veel\b|\bwelk (percentage|bedrag|aantal)\b|\bwat kost\b"
            r"|\bhow (many|much)\b|\bwhat percentage\b",
        ),
        ("time", r"\bwanneer\b|\bin welk jaar\b|\bsinds wanneer\b|\bvanaf wanneer\b|\bwhen\b|\bwhat year\b"),
        ("reason", r"\bwaarom\b|\bhoe komt (het|dat)\b|\bwat is de (reden|oorzaak)\b|\bwaardoor\b|\bwhy\b"),
        (
            "person",
            r"^(en |maar )?(door )?wie\b|\bwie (is|zijn|stelt|beslist|bepaalt|betaalt|moet|doet|mag|heeft|gaat|zorgt)\b"
            r"|\bwho\b|\bbij wie\b|\bwelke (persoon|personen|instantie|organisatie)\b",
        ),
        # "waar ... aan/over/tegenaan" asks what, not where ("waar lopen scholen tegenaan?")
        (
            "place",
            r"^(en |maar )?waar\b(?!om|door|voor|van|aan|over|mee|op|in|uit|naar|bij)"
            r"(?!.*\b(aan|over|tegenaan|mee|van)\b)(?!.*\b(voor|op|naar|uit|bij|om|door|in|af|toe)\s*$)"
            # "waar moet je voor oppassen / op letten bij …": a preposition and its verb ask what
            r"(?!.*\b(voor|op|naar|uit|bij|om|door|in|af|toe) \w+en\b)|\bwhere\b",
        ),
        ("how", r"\bwat (moet|moeten|kan|kunnen|mag|mogen)\b.*\bdoen\b|\bwhat (should|can|must)\b.*\bdo\b"),
        (
            "definition",
            r"^(en |maar )?(wat is|wat zijn|wat betekent|wat houdt|wat bedoelen ze met|wat verstaat men onder"
            r"|wat wordt bedoeld met|wat is (een|de|het)|what is|what are|what does)\b"
            r"(?!.*\b(knelpunten|punten|stappen|voorbeelden|verschillen|gevolgen|effecten|redenen|oorzaken"
            r"|uitgangspunten|taken|doelen|conclusies|resultaten|ervaringen|voordelen|nadelen|problemen)\b)"
            r"(?=.{0,60}$)",
        ),
        (
            "list",
            r"\bwelke\b|\bnoem\b|\bwhich\b|\bopsomming\b|\blijst\b|\bwat zijn de\b|\bwat voor\b|\bwat (moet|moeten|kan|kunnen|doen|doet)\b",
        ),
        ("how", r"\bhoe\b|\bhow\b|\bop welke manier\b"),
        (
            "yesno",
            r"^(en |maar )?(is|zijn|heeft|hebben|kan|kun|kunnen|mag|mogen|moet|moeten|wordt|worden|klopt|gaat|gaan"
            r"|krijgt|krijgen|zit|zitten|werkt|werken|bestaat|bestaan|helpt|levert|leveren|doen|doet|komt|weten|weet"
            r"|vinden|vindt|blijft|blijven|geldt|gelden|does|do|is|are|can|should|will)\b",
        ),
    ]
]
_DEFINITION_TAIL = re.compile(
    r"^(?:en |maar )?(?:wat (?:is|zijn|betekent|betekenen|houdt|bedoelen ze met|verstaat men onder"
    r"|wordt bedoeld met)|what (?:is|are|does))\s+(?:een |de |het |die |dat |an? |the )?(.+?)"
    r"(?:\s+(?:precies|eigenlijk|nou|nu|in|mean|inhouden|in het kort))*\s*\??$"
)


@dataclass(frozen=True)
class Question:
    """A question ready to answer."""

    raw: str  # as typed
    asked: str  # the user's own words, whitespace normalised (and shortened if very long)
    query: str  # what to search with: a follow-up with the topic of the question it depends on
    kind: str  # frequency | duration | quantity | time | reason | person | place | definition | list | how | yesno | other
    language: str  # "nl" | "en"
    followup: bool = False
    previous_answer: str = ""  # the assistant's last answer, for a follow-up (not to be repeated)
    notice: str | None = None  # said to the user before the answer
    topic: str = ""  # a follow-up: the topic it takes from the earlier question ("opp")

    @property
    def empty(self) -> bool:
        return not self.asked

    @property
    def focus(self) -> str:
        """The question itself in a longer text: the last sentence with a question mark."""
        return focus_of(self.asked)

    @property
    def subject(self) -> str:
        """For "wat is X" questions: X ("de zorgplicht" → "zorgplicht"); else ''."""
        if self.kind != "definition":
            return ""
        m = _DEFINITION_TAIL.match(fold(self.asked))
        return m.group(1).strip(" ?!.") if m else ""


def normalise_question(question: str | None) -> tuple[str, str | None]:
    """(question to use, notice for the user or None). Empty input gives ('', notice)."""
    q = (question or "").replace("\x00", " ")
    q = re.sub(r"\s+", " ", q).strip()
    if not q or not any(c.isalnum() for c in q):
        return "", EMPTY_NOTICE
    notice = None
    if len(q) > MAX_QUESTION_CHARS:
        q = q[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        notice = f"Uw vraag was erg lang; alleen de eerste {MAX_QUESTION_CHARS} tekens zijn gebruikt."
    return q, notice


def is_english(question: str) -> bool:
    ws = words(question)
    if len(ws) < 3:
        return False
    en = sum(w in _ENGLISH for w in ws)
    if en < 2:
        return False
    dutch = common_words()  # Dutch words of everyday frequency ("hoeveel", "werken", "scholen")
    nl = sum(w not in _ENGLISH and not w.isdigit() and (w in _DUTCH_HINTS or w in dutch) for w in ws)
    return en > 1.5 * nl


def focus_of(text: str) -> str:
    """The question in a longer text (a story with a question at the end): the last sentence
    with a question mark, else the last sentence; a one-sentence text is itself."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p.strip()]
    if len(parts) < 2:
        return text
    return next((p for p in reversed(parts) if "?" in p), parts[-1])


def content_words(ws: list[str]) -> list[str]:
    """The words that carry content: no stopword, question word, pronoun pointing back or particle."""
    return [w for w in ws if w not in _NOT_CONTENT]


def question_kind(text: str) -> str:
    """The kind of answer ``text`` asks for (see :data:`_KINDS`), or "other"."""
    folded = " ".join(words(focus_of(text)))
    for kind, pattern in _KINDS:
        if pattern.search(folded):
            return kind
    return "other"


def is_followup(question: str, previous: str = "") -> bool:
    """Whether a question only makes sense after the previous turn (``previous``: its text)."""
    ws = words(question)
    if not ws:
        return False
    content = content_words(ws)
    if ws[0] in ("en", "maar", "ook", "dus", "and", "but"):
        return True
    if any(w in _STRONG_ANAPHORA for w in ws) and len(content) <= 2:
        return True
    pronouns = [
        w
        for i, w in enumerate(ws)
        if (w == "het" and (i + 1 == len(ws) or ws[i + 1] in _PARTICLES))
        or (w == "er" and i + 1 < len(ws) and ws[i + 1] in _PARTICLES and len(content) <= 1)
    ]
    # a pronoun with little else ("wie beslist dat dan?"); a longer question with two content words of
    # its own ("wat is een opp precies en moet ik daar voor tekenen") stands on its own
    if (pronouns or any(w in _WEAK_ANAPHORA for w in ws)) and (
        len(content) <= 1 or (len(content) <= 2 and len(ws) <= 8)
    ):
        return True
    joined = " ".join(ws)
    if len(ws) <= 8 and _POINTS_BACK.search(joined):
        return True  # "waarom stapte hij over?", "wat helpt dan wel?", "kan het swv dan toch …?"
    if previous and len(ws) <= 10:  # "blijven die effecten …?": a word the previous turn used
        said = set(analyze(previous))
        if any(set(analyze(m.group(1))) & said for m in _DEMONSTRATIVE.finditer(joined)):
            return True
    return not content  # "waarom?", "hoe dan?"


#: a short question that points back: "hij/hem", or "dan" as a particle ("is er dan wel iets veranderd?")
_POINTS_BACK = re.compile(r"\b(?:hij|hem|\w+ (?:er|ze|het|dat|hij) dan|(?:dan|toch) (?:wel|niet|ook|nog))\b")
#: "die/deze/dit" and a noun: points back when the previous turn named that noun ("die opleiding")
_DEMONSTRATIVE = re.compile(
    r"(?:^|\b(?:over|van|bij|in|op|met|aan|voor|uit|doet|doen|is|zijn|heeft|hebben|gaat|komt|wordt|krijgt|bestaat|werkt|helpt|blijven|blijft|kost|kosten) )(?:die|deze|dit) (\w{4,})"
)


#: words that say nothing about the topic of a question ("mijn kind", "kunt u uitleggen")
_NOT_TOPIC = {
    "kind",
    "kinderen",
    "zoon",
    "dochter",
    "school",
    "weet",
    "weten",
    "vraag",
    "vragen",
    "vind",
    "vinden",
    "graag",
    "uitleggen",
    "leg",
    "uit",
    "zeggen",
    "zegt",
    "staat",
    "bronnen",
    "onderzoek",
    "gebeurt",
    "klopt",
    "gaat",
    "komt",
    "krijgt",
    "krijgen",
    "kunt",
    "klopte",
    "wij",
    "jullie",
    "jij",
}


def topic_of(question: str) -> str:
    """The topic of a question, its content words in order: "wat is een opp precies?" → "opp",
    "waar geven scholen het geld voor passend onderwijs aan uit?" → "scholen geld passend onderwijs"."""
    keep = [w for w in content_words(words(focus_of(question))) if w not in _NOT_TOPIC and len(w) > 1]
    return " ".join(dict.fromkeys(keep[:6]))


def analyse(question: str | None, history: list[dict] | None = None) -> Question:
    """The :class:`Question` for ``question`` asked after ``history`` (chat turns)."""
    asked, notice = normalise_question(question)
    if not asked:
        return Question(question or "", "", "", "other", "nl", notice=notice)
    language = "en" if is_english(asked) else "nl"
    if language == "en":
        notice = f"{notice} {ENGLISH_NOTICE}" if notice else ENGLISH_NOTICE
    query, followup, previous_answer, topic = asked, False, "", ""
    turns = [t for t in history or [] if t.get("content")]
    users = [str(t["content"]) for t in turns if t.get("role") == "user"]
    if users and is_followup(asked, " ".join(str(t["content"]) for t in turns[-2:])):
        followup = True
        root = len(users) - 1
        while root > 0 and is_followup(users[root]):  # a chain of follow-ups goes back to its first question
            root -= 1
        own = set(words(topic_of(asked)))
        topic = " ".join(w for w in topic_of(users[root]).split() if w not in own)
        if root < len(users) - 1:  # what the follow-ups in between added ("en in het vo?" → "vo")
            extra = [w for u in users[root + 1 :] for w in topic_of(u).split()]
            topic = " ".join(dict.fromkeys([*topic.split(), *[w for w in extra if w not in own]]))
        query = f"{asked} ({topic})" if topic else f"{users[-1]} {asked}"
        answers = [str(t["content"]) for t in turns if t.get("role") == "assistant"]
        previous_answer = answers[-1] if answers else ""
    kind = question_kind(asked)
    return Question(question or "", asked, query, kind, language, followup, previous_answer, notice, topic)
