"""Lines that are no content (ingest.clean.lines): page numbers, footers, running headers, contents."""

from __future__ import annotations

from clean_corpus import F003, text

from ingest.clean import clean_pages, clean_text
from ingest.types import Page


def test_footers_page_numbers_logo_and_junk_are_dropped():
    out = clean_text(
        "Eerste alinea over passend onderwijs.\n\n12\n\nSamenwerken aan passend onderwijs | Versie 2 | November 2020 4\n\n"
        "@ idersregister PO\n\nTweede alinea over samenwerking.\n\n- 13 -\n\nPagina 3 van 9\n"
    )
    assert out == "Eerste alinea over passend onderwijs.\n\nTweede alinea over samenwerking."


def test_corpus_footers_and_logo_dropped():
    t3 = text(F003)
    assert "Versie 2" not in t3 and "idersregister" not in t3 and "@" not in t3


def test_repeated_header_and_footer_lines_across_pdf_pages():
    bodies = [
        "De samenwerking tussen scholen en gemeenten verloopt steeds beter, maar er is nog veel te\n"
        "doen voor leerlingen die extra ondersteuning nodig hebben en voor hun ouders die de\n"
        "weg moeten vinden. Dit blijkt uit het onderzoek naar de praktijk van de zorgplicht in de",
        "klas, waar leraren het verschil maken voor de leerlingen.\n\n"
        "Ouders zijn gemiddeld tevreden over het onderwijsaanbod en de relatie met de school.",
        "Scholen ervaren minder strakke kaders en geven aan daardoor meer leerlingen te kunnen\n"
        "ondersteunen dan vroeger.",
        "Leerlingen die lang niet naar school gaan zijn beter in beeld, maar hun aantal daalt niet.",
    ]
    pages = [
        Page(number=n, text=f"Evaluatie passend onderwijs\n\n{body}\n\nKohnstamm Instituut | Rapport 1046\n{n}\n")
        for n, body in enumerate(bodies, start=1)
    ]
    out = clean_pages(pages)
    joined = "\n".join(b.text for b in out)
    assert "Kohnstamm Instituut" not in joined and "Evaluatie passend onderwijs" not in joined
    assert [b.page for b in out] == [1, 2, 3, 4]
    assert out[0].text.endswith("de zorgplicht in de klas, waar leraren het verschil maken voor de leerlingen.")
    assert out[1].text.startswith("Ouders zijn gemiddeld tevreden")


def test_is_junk_line_only_for_noise():
    from ingest.clean.lines import is_junk_line

    assert is_junk_line("@ idersregister PO")
    assert not is_junk_line("Ouders zijn tevreden.")
    assert not is_junk_line("Het OPP")
