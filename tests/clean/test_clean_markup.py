"""Markup converters leave (ingest.clean.markup): footnote tags, links, emphasis."""

from __future__ import annotations

import re

from clean_corpus import F000, F001, text

from ingest.clean import clean_text


def test_footnote_markers_are_removed():
    out = clean_text(
        "Scholen besteden de middelen aan deskundigheidsbevordering.<sup>4</sup> In het vo kiezen ze\n"
        "voor voorzieningen.<sup>3,5</sup> Het aantal leerlingen in het onderwijs2; stijgt. "
        "Daarom is dit belangrijk voor leerlingen.12 Daarna volgt groep 8 en COVID19."
    )
    assert "<sup>" not in out
    assert "deskundigheidsbevordering. In het vo kiezen ze voor voorzieningen. Het aantal" in out
    assert "in het onderwijs; stijgt" in out
    assert "belangrijk voor leerlingen. Daarna volgt groep 8 en COVID19." in out
    assert "<sup>" not in text(F000) and "<sup>" not in text(F001)
    assert "meer kunnen afstemmen op wat de leerlingen nodig hebben. Scholen" not in text(F000)  # sanity


def test_link_remnants_and_emphasis_markers():
    out = clean_text(
        "### **Meer vrijheid leidt tot flexibeler ondersteuning**\n\n"
        "Scholen *variëren* volop en _ook_ **sterk**. → [meer lezen](#)\n\n"
        "Zie [evaluatiepassendonderwijs](#) en [de site](http://www.example.nl) of "
        "<https://www.swpbs.nl>. Bron: https://x.nl/a_b_c_d."
    )
    assert "Scholen variëren volop en ook sterk." in out
    assert "meer lezen" not in out and "](" not in out and "**" not in out
    assert "Zie evaluatiepassendonderwijs en de site of https://www.swpbs.nl." in out
    assert "https://x.nl/a_b_c_d" in out
    t0 = text(F000)
    assert "meer lezen" not in t0 and "](#)" not in t0 and "**" not in t0
    assert not re.search(r"(?<![\w])\*\w", t0)


def test_strip_markup_keeps_words_and_remembers_level_and_bold():
    from ingest.clean.markup import strip_markup

    assert strip_markup("### **Meer vrijheid** [lees](#)") == ("Meer vrijheid lees", 3, False)
    assert strip_markup("**Hele regel vet**") == ("Hele regel vet", 0, True)
    assert strip_markup("Tekst<sup>4</sup> en *nadruk*") == ("Tekst en nadruk", 0, False)
