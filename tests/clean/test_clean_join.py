"""Hard-wrapped lines and end-of-line hyphenation (ingest.clean.join)."""

from __future__ import annotations

import re

from clean_corpus import F002, F003, F004, find, one, text

from ingest.clean import clean_text


def test_hard_wrapped_lines_become_one_paragraph():
    out = one(
        "Vanaf de invoering van de wet geldt voor iedere school een zorgplicht voor\n"
        "leerlingen die zich aanmelden of zijn ingeschreven. Alle kinderen moeten een\n"
        "plek op een school kunnen krijgen.\n"
    )
    assert [b.kind for b in out] == ["paragraph"]
    assert out[0].text == (
        "Vanaf de invoering van de wet geldt voor iedere school een zorgplicht voor leerlingen die "
        "zich aanmelden of zijn ingeschreven. Alle kinderen moeten een plek op een school kunnen krijgen."
    )


def test_corpus_wrapped_paragraph_is_one_block():
    hits = find(F003, "Vanaf de invoering Wet Passend Onderwijs in 2014")
    assert len(hits) == 1 and hits[0].kind == "paragraph"
    assert "\n" not in hits[0].text
    assert hits[0].text.endswith("(Eimers, Ledoux & Smeets, 2016).")


def test_dehyphenation_small_examples():
    out = clean_text(
        "Passend onderwijs vraagt om het opzij zetten van belan-\ngen en het bouwen van bruggen in Zuid-\n"
        "Kennemerland met de onderwijs-\nzorgconsulent en de jeugd-\nhulp. De IZEO-\nmethodiek helpt bij onderwijs-\n"
        "en jeugdhulp en bij een cluster 4-\nindicatie voor samenwerkings-\nverbanden."
    )
    assert "belangen" in out and "belan-" not in out
    assert "Zuid-Kennemerland" in out
    assert "onderwijs-zorgconsulent" in out
    assert "jeugdhulp." in out
    assert "IZEO-methodiek" in out
    assert "onderwijs- en jeugdhulp" in out
    assert "cluster 4-indicatie" in out
    assert "samenwerkingsverbanden" in out


def test_dehyphenation_in_corpus_keeps_real_hyphens():
    t4 = text(F004)
    assert "het opzij zetten van belangen en het bouwen van bruggen" in t4
    assert "Dat jeugdhulp meer preventief wordt ingezet" in t4
    assert "Een maatschappij waarbij je van jongs af aan" in t4
    assert "Zuid-Kennemerland" in t4
    assert "als onderwijs-zorgconsulent bij scholen" in t4  # "onder-" / "wijs-zorgconsulent"
    t2 = text(F002)
    assert "IZEO-methodiek" in t2 and "so/sbo" in t2 and "regulier/speciaal" in t2
    assert "ontwikkelingsstimulering" in t2 and "schoolontwikkeling" in t2
    assert "wet- en regelgeving" in text(F003)
    assert not re.search(r"[a-z]- [a-z]{3,}(?<!en)\b", t4.replace("- en ", "").replace("- of ", ""))


def test_dehyphen_decides_per_word():
    from ingest.clean.join import dehyphen

    assert dehyphen("belan-", "gen", set(), set()) == "belangen"
    assert dehyphen("onderwijs-", "zorgconsulent", set(), set()) == "onderwijs-zorgconsulent"
    assert dehyphen("Noord-", "Holland", set(), set()) == "Noord-Holland"
    assert dehyphen("onderwijs-", "en jeugdhulp", set(), set()) == "onderwijs- en jeugdhulp"
