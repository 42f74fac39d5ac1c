"""Sections that go whole (ingest.clean.drops): colophon, copyright, table of contents."""

from __future__ import annotations

from clean_corpus import F001, headings, one, text

from ingest.clean import clean_text


def test_table_of_contents_is_dropped():
    out = one(
        "# Inhoud\n\nAanleiding voor het onderzoek\t6\nDe onderzoeksvraag\t9\nConclusie ........ 10\n\n"
        "# Aanleiding\n\nPassend onderwijs moest de oplossing zijn voor organisatorische problemen.\n"
    )
    assert [(b.kind, b.text) for b in out] == [
        ("heading", "Aanleiding"),
        ("paragraph", "Passend onderwijs moest de oplossing zijn voor organisatorische problemen."),
    ]
    plain = clean_text(
        "Inhoud\n\nAanleiding voor het onderzoek 6\nDe onderzoeksvraag van de studie 9\n"
        "Conclusie en aanbevelingen 10\n\nGroep 1\nGroep 2\nGroep 3\n\nTekst."
    )
    assert plain == "- Groep 1\n- Groep 2\n- Groep 3\n\nTekst."  # numbered lines that are no contents stay
    text(F001)
    assert "Inhoud" not in headings(F001)
    assert "Aanleiding voor het onderzoek: de stelselwijziging passend onderwijs" in headings(F001)


def test_colophon_and_copyright_are_dropped():
    out = one(
        "# Slot\n\nDe ontwikkeling gaat door.\n\n# Colofon\n\nRedactie: Willy\n\nDruk: Drukkerij\n\n"
        "Alle rechten voorbehouden. Niets uit deze uitgave mag worden vermenigvuldigd.\n"
    )
    assert [b.text for b in out] == ["Slot", "De ontwikkeling gaat door."]
    t1 = text(F001)
    for gone in ("Colofon", "Alle rechten voorbehouden", "All rights reserved", "ISBN", "Drukkerij", "©"):
        assert gone not in t1, gone
