"""Dutch text analysis for lexical search: words, stems and compound parts.

Dutch writes compounds as one word: a parent types "bezuiniging", the report says
"bezuinigingsoperatie". :func:`analyze` therefore emits, next to the stem of each
word, the stems of the known Dutch words it is composed of (checked against the
wordfreq Dutch word list, with the linking letters -s-, -e- and -en-).
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_stemmer = Stemmer.Stemmer("dutch")

# Frequent function words that carry no topic; Snowball's Dutch stop list, trimmed of
# words that matter in this domain (e.g. "geen", "niet" are kept for the answers).
STOPWORDS = frozenset(
    [
        "de",
        "en",
        "van",
        "ik",
        "te",
        "dat",
        "die",
        "in",
        "een",
        "hij",
        "het",
        "niet",
        "zijn",
        "is",
        "was",
        "op",
        "aan",
        "met",
        "als",
        "voor",
        "had",
        "er",
        "maar",
        "om",
        "hem",
        "dan",
        "zou",
        "of",
        "wat",
        "mijn",
        "men",
        "dit",
        "zo",
        "door",
        "over",
        "ze",
        "zich",
        "bij",
        "ook",
        "tot",
        "je",
        "mij",
        "uit",
        "der",
        "daar",
        "haar",
        "naar",
        "heb",
        "hoe",
        "heeft",
        "hebben",
        "deze",
        "u",
        "want",
        "nog",
        "zal",
        "me",
        "zij",
        "nu",
        "ge",
        "omdat",
        "iets",
        "worden",
        "toch",
        "al",
        "waren",
        "veel",
        "meer",
        "doen",
        "toen",
        "moet",
        "ben",
        "zonder",
        "kan",
        "hun",
        "dus",
        "alles",
        "onder",
        "ja",
        "eens",
        "hier",
        "wie",
        "werd",
        "altijd",
        "doch",
        "wordt",
        "wezen",
        "kunnen",
        "ons",
        "zelf",
        "tegen",
        "na",
        "reeds",
        "wil",
        "kon",
        "niets",
        "uw",
        "iemand",
        "geweest",
        "andere",
        "welke",
        "wel",
        "waar",
        "wanneer",
        "waarom",
        "hoeveel",
        "kun",
        "mag",
        "moeten",
    ]
) | frozenset(
    # conversational fillers in typed questions ("wat is dat nou eigenlijk precies?")
    [
        "eigenlijk",
        "nou",
        "precies",
        "gewoon",
        "echt",
        "even",
        "zoveel",
        "allemaal",
        "ergens",
        "niks",
        "best",
        "soms",
        "misschien",
        "graag",
        "please",
        "hoor",
        "joh",
        "zeg",
        "eens",
        "dus",
    ]
)

# Bump when analysis changes, so stored BM25 indexes are rebuilt.
ANALYZER_VERSION = 2

MIN_PART = 4  # shortest compound part we trust
MIN_COMPOUND = 9  # shortest word we try to split
MAX_COMPOUND = 60  # longer tokens are not compounds (Dutch ones stay well under this)
LINKERS = ("", "s", "e", "en")


def fold(text: str) -> str:
    """Lower-case and strip accents, so "geëvalueerd" matches "geevalueerd"."""
    text = text.lower()
    if text.isascii():  # nothing to strip (most words): 4x faster for the 120,000-word lexicon
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text))]


_LETTERS = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)


def surface_words(text: str) -> list[str]:
    """The words of ``text`` as written, lower-cased, accents kept ("geëvalueerd"); no numbers."""
    return _LETTERS.findall(text.lower())


LEXICON_SIZE = 120_000  # the most frequent Dutch words (wordfreq) that count as compound parts


COMMON_ZIPF = 4.5  # a word at least this frequent in Dutch (wordfreq's Zipf scale) is common


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """The known Dutch words, for splitting compounds."""

    def build() -> frozenset[str]:
        from wordfreq import top_n_list

        return frozenset(fold(w) for w in top_n_list("nl", LEXICON_SIZE) if len(w) >= MIN_PART)

    return _cached_words(f"nl-{LEXICON_SIZE}-{MIN_PART}", build)


def dutch_words() -> frozenset[str]:
    """The known Dutch words of at least ``MIN_PART`` letters (the ``LEXICON_SIZE`` most
    frequent in wordfreq), folded."""
    return _lexicon()


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Dutch words with a Zipf frequency of at least ``COMMON_ZIPF`` ("de", "als", "ook"), folded."""

    def build() -> frozenset[str]:
        from wordfreq import top_n_list, zipf_frequency

        return frozenset(fold(w) for w in top_n_list("nl", 20_000) if zipf_frequency(fold(w), "nl") >= COMMON_ZIPF)

    return _cached_words(f"nl-common-{COMMON_ZIPF}", build)


def _cached_words(name: str, build) -> frozenset[str]:
    """A word set made from wordfreq once per wordfreq version and kept as a text file:
    loading wordfreq takes ~0.7 s, most of a cold ``kb search``; the file takes 0.05 s."""
    from importlib.metadata import version

    from kb.config import Settings

    cached = Settings.from_env().model_cache.parent / "lexicon" / f"{name}-wordfreq{version('wordfreq')}.txt"
    try:
        return frozenset(w for w in cached.read_text(encoding="utf-8").split("\n") if w)
    except OSError:
        pass
    words = build()
    try:  # a cache that cannot be written only costs time
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        tmp.write_text("\n".join(sorted(words)), encoding="utf-8")
        os.replace(tmp, cached)
    except OSError:
        pass
    return words


@lru_cache(maxsize=200_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """Split a Dutch compound into known words: "bezuinigingsoperatie" → (bezuiniging, operatie).

    Greedy on the longest known head, recursive on the tail; returns () if no full split.
    """
    if len(word) < MIN_COMPOUND or len(word) > MAX_COMPOUND or "-" in word:
        return ()  # a "word" longer than any compound (pasted junk) is not split: no deep recursion
    lex = _lexicon()
    for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
        head = word[:cut]
        if head not in lex:
            continue
        rest = word[cut:]
        for link in LINKERS:
            if link and not rest.startswith(link):
                continue
            tail = rest[len(link) :]
            if len(tail) < MIN_PART:
                continue
            if tail in lex:
                return (head, tail)
            deeper = compound_parts(tail)
            if deeper:
                return (head, *deeper)
    return ()


@lru_cache(maxsize=200_000)
def _analyze_word(word: str) -> tuple[str, ...]:
    out = [_stemmer.stemWord(word)]
    for part in word.split("-") if "-" in word else ():
        if len(part) >= 2 and part not in STOPWORDS:
            out.append(_stemmer.stemWord(part))
    for part in compound_parts(word):
        out.append(_stemmer.stemWord(part))
    return tuple(out)


def analyze(text: str) -> list[str]:
    """Terms for BM25: stems of all non-stop words, plus stems of compound parts."""
    terms: list[str] = []
    for w in words(text):
        if w in STOPWORDS or (len(w) < 2 and not w.isdigit()):
            continue
        terms.extend(_analyze_word(w))
    return terms


# Sentences that speak to a language model rather than to a reader: prompt injection.
_INSTRUCTION = re.compile(
    r"\b(?:negeer|vergeet|ignore|disregard|forget)\b.{0,40}\b(?:instructies?|regels|opdrachten|prompt"
    r"|instructions?|rules)\b"
    r"|\b(?:systeem|system)[ -]?(?:prompt|bericht|message)\b"
    r"|\b(?:je|jij|u) (?:bent|is) (?:nu|vanaf nu) (?:een|de)\b|\byou are now\b"
    r"|\b(?:antwoord|zeg|schrijf|vertel)\b.{0,20}\b(?:voortaan|vanaf nu|altijd|in elk antwoord)\b"
    r"|\b(?:taalmodel|ai[- ]assistent|chatbot|language model|assistant)\b.{0,40}\b(?:moet|must|should)\b"
    r"|^\s*(?:system|systeem|assistant|assistent)\s*:",
    re.I,
)


def is_instruction(sentence: str) -> bool:
    """True for a sentence that gives orders to a language model (prompt injection)."""
    return bool(_INSTRUCTION.search(sentence))
