"""The whole cleaning pipeline (ingest.clean): raw lines kept, no content lost."""

from __future__ import annotations

import re

import pytest
from clean_corpus import F000, F001, F002, F003, F004, blocks, find, source, text

from ingest.clean import clean_pages, clean_text
from ingest.types import Page


def test_raw_keeps_the_original_lines():
    for name in (F000, F001, F002, F003, F004):
        src = source(name)
        for b in blocks(name):
            assert b.raw.strip(), b
            for line in b.raw.splitlines():
                assert line in src, (name, line)
    uitgangspunten = find(F003, "De ondersteuningsbehoefte is leidend;")[0]
    assert "Eris een dekkend netwerk" in uitgangspunten.raw
    assert "Er is een dekkend netwerk" in uitgangspunten.text


def _sentences(paragraph: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph) if len(s) > 20]


def _plain(md: str) -> str:
    md = re.sub(r"<sup>[^<]*</sup>", "", md)
    md = re.sub(r"\*+([^*]+)\*+", r"\1", md)
    return md.strip()


@pytest.mark.parametrize("name", [F000, F001])
def test_no_sentence_of_running_text_is_lost_markdown(name):
    """Every sentence of the long running-text paragraphs of a markdown source survives."""
    out = text(name)
    colophon = source(name).find("# Colofon")
    body = source(name)[: colophon if colophon > 0 else None]
    teaser_end = body.find("Door: Pauline") if name == F000 else 0
    checked = 0
    for line in body[teaser_end:].splitlines():
        if len(line) < 200 or line.startswith(("#", "-", "*", "|")) or re.match(r"\d+\.", line):
            continue
        for sentence in _sentences(_plain(line)):
            assert sentence in out, sentence
            checked += 1
    assert checked > 100


def test_no_sentence_lost_in_damaged_sources():
    expected = {
        F003: [
            "Schoolbesturen hebben als bevoegd gezag formeel de verantwoordelijkheid voor de kwaliteit van "
            "ondersteuning aan leerlingen met een ondersteuningsbehoefte en de uitvoering van de zorgplicht.",
            "Op veel scholen bevindt de afstemming zich nog in de opbouwfase.",
            "Het OPP wordt minimaal één keer per jaar met de ouders geëvalueerd.",
            "Voor passend onderwijs is ook een goede samenwerking met andere partijen, die zich bezighouden met "
            "het opvoeden, leren of de ontwikkeling van leerlingen, van belang (Harinck, Van de Ven & Willemse, 2012).",
        ],
        F004: [
            "We zijn nu twee jaar op weg naar meer passend onderwijs.",
            "Passend onderwijs vraagt om samenwerking, om het opzij zetten van belangen en het bouwen van bruggen "
            "richting gemeenten en instellingen voor jeugdhulp.",
            "Iedereen snapte het, de nieuwe werkwijze werd herkend en erkend.",
            "Kortom, open communicatie, goed rekenwerk en inhoudelijke besprekingen zijn de cocktail voor een "
            "geslaagde implementatie.",
            "Heer Bommel heeft gelijk: “Hier ligt een schone taak.”",
            "Worden kinderen uitgedaagd steeds opnieuw de grenzen te zoeken of is vooraf al duidelijk wat wel en "
            "niet mag op school?",
        ],
        F002: [
            "Beleidsarme invoering per schooljaar 2014/15: geen stip op de horizon, schoolbesturen en "
            "samenwerkingsverbanden PO en VO zijn aan zet; ontwikkeling moet van onderop komen.",
            "‘Waar is de ondersteuning? Ik ben er niet voor opgeleid!’",
        ],
    }
    for name, sentences in expected.items():
        out = text(name)
        for sentence in sentences:
            assert sentence in out, (name, sentence)


def test_almost_every_source_word_survives():
    for name in (F002, F003, F004):
        src_words = re.findall(r"[^\W\d_]{4,}", source(name))
        out_words = {w.lower() for w in re.findall(r"[^\W\d_]{4,}", text(name))}
        # a hyphenated fragment ("belan-") or an OCR error is repaired, not lost
        kept = sum(1 for w in src_words if w.lower() in out_words)
        assert kept / len(src_words) > 0.98, name


def test_clean_text_joins_blocks():
    assert clean_text("# Kop\n\nEen zin.\n\nNog een zin.") == "Kop\n\nEen zin.\n\nNog een zin."
    assert clean_pages([]) == []
    assert clean_text("") == ""


def test_every_pass_is_listed_once_and_says_what_it_repairs():
    import ingest.clean
    from ingest.clean import PIPELINE

    assert len(set(PIPELINE)) == len(PIPELINE)
    for step in PIPELINE:
        module = __import__(step.__module__, fromlist=["_"])
        assert module.__doc__ and step.__doc__, step.__qualname__
    assert PIPELINE[0].__name__ == "read_lines" and PIPELINE[-1].__name__ == "drop_empty_headings"
    assert ingest.clean.clean_pages.__doc__


def test_each_pass_reports_when_it_is_done():
    from ingest.clean import PIPELINE

    seen: list[tuple[int, int, str]] = []
    clean_pages(
        [Page(number=1, text="# Kop\n\nEen zin over de zorgplicht van de school.")],
        on_step=lambda *step: seen.append(step),
    )
    assert seen == [(k, len(PIPELINE), step.__name__) for k, step in enumerate(PIPELINE, start=1)]
