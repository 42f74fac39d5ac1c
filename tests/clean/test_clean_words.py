"""Damaged words (ingest.clean.words): stray spaces, words run together, OCR glyph errors."""

from __future__ import annotations

from clean_corpus import F003, F004, text

from ingest.clean import clean_text


def test_stray_space_merges_small_examples():
    out = clean_text("Zij krijgt een  e enduidig antwoord over taken en verantwoordelijk heden van de school.")
    assert "een eenduidig antwoord" in out
    assert "verantwoordelijkheden van de school" in out


def test_stray_space_merges_are_conservative():
    sentence = (
        "Ten slotte werken we samen aan hulp op maat voor zo veel mogelijk kinderen; "
        "ze mee denken is nodig. The results may be used by some times."
    )
    assert clean_text(sentence) == sentence


def test_words_run_together_split():
    out = clean_text("Ouders & OnderwijsMarc Dullaert sprak op de conferentie.")
    assert "Ouders & Onderwijs Marc Dullaert" in out
    # brand names in camel case stay, above all when the document repeats them
    keep = "KinderThuisZorg helpt. De school PassePartout groeit. PassePartout is een basisschool."
    assert clean_text(keep) == keep


def test_corpus_split_and_run_together_words():
    t4 = text(F004)
    assert "altijd een eenduidig antwoord" in t4
    assert "verantwoordelijkheden maar ook in de rolneming" in t4
    assert "Ouders & Onderwijs Marc Dullaert" in t4
    assert "PassePartout" in t4 and "KinderThuisZorg" in t4
    assert "ten slotte" in t4 and "zo veel mogelijk" in t4


def test_ocr_fixes_small_examples():
    out = clean_text(
        "De wet is geévalueerd door coérdinatoren. De codrdinatie van financién ligt bij |eerkrachten. "
        "Eris een dekkend netwerk."
    )
    assert out == (
        "De wet is geëvalueerd door coördinatoren. De coördinatie van financiën ligt bij leerkrachten. "
        "Er is een dekkend netwerk."
    )


def test_ocr_leaves_real_words_alone():
    sentence = "Dé school van het café opleven; het idee van een model met 10 leerlingen en Eris."
    assert clean_text(sentence) == sentence


def test_ocr_fixes_in_corpus():
    t3 = text(F003)
    for good in (
        "geëvalueerd",
        "ondersteuningscoördinatoren",
        "coördinatie",
        "financiën;",
        "- leerkrachten en interne zorgmedewerkers;",
        "Er is een dekkend netwerk",
    ):
        assert good in t3, good
    for bad in ("geévalueerd", "coérdinatoren", "codrdinatie", "financién", "|eerkrachten", "Eris"):
        assert bad not in t3, bad


def test_fix_words_repairs_each_damage_class():
    from collections import Counter

    from ingest.clean.words import fix_words

    assert fix_words("De |eerkrachten en coérdinatoren.", Counter()) == "De leerkrachten en coördinatoren."
    assert fix_words("Zij zijn verantwoordelijk heden. Eris een plan.", Counter()) == (
        "Zij zijn verantwoordelijkheden. Er is een plan."
    )
    assert fix_words("This may be so.", Counter()) == "This may be so."
