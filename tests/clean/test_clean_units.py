"""Where blocks begin (ingest.clean.units): bullets, lost bullet glyphs."""

from __future__ import annotations

from clean_corpus import F002, find, one


def test_glyph_and_ocr_bullets_become_list_items():
    out = one(
        "Samenwerking met:\n\n• het bestuur;\n\n\uf0b7 de leraren;\n\n° de ouders;\n\n- de gemeente.\n\n"
        "Daarna volgt gewone tekst die als paragraaf blijft staan."
    )
    lists = [b for b in out if b.kind == "list"]
    assert len(lists) == 1
    assert lists[0].text == "- het bestuur;\n- de leraren;\n- de ouders;\n- de gemeente."
    ocr = one("Met:\n\ne het bestuur en de\nfinanciën;\n\ne de leraren.\n")
    assert [b.kind for b in ocr] == ["paragraph", "list"]
    assert ocr[1].text == "- het bestuur en de financiën;\n- de leraren."


def test_lost_bullet_glyphs_leading_space_runs():
    out = one(
        "WAAROM SAMENWERKEN?\n\n betere resultaten voor jeugdigen\n\n minder onderwijs in speciale\n"
        "voorzieningen\n\n herstel van het gewone leven\n"
    )
    assert out[0].kind == "heading"
    assert out[1].kind == "list"
    assert out[1].text.splitlines() == [
        "- betere resultaten voor jeugdigen",
        "- minder onderwijs in speciale voorzieningen",
        "- herstel van het gewone leven",
    ]


def test_corpus_lost_bullets_002():
    lst = find(F002, "- betere resultaten voor jeugdigen")
    assert len(lst) == 1 and lst[0].kind == "list"
    assert len(lst[0].text.splitlines()) == 8
    obs = find(F002, "- het speciaal onderwijs krijgt relatief weinig")
    assert len(obs) == 1 and len(obs[0].text.splitlines()) == 6
    agenda = find(F002, "- Terugblik (persoonlijk, belang van samenwerken)")
    assert agenda[0].text.splitlines()[1:] == [
        "- Evaluatie passend onderwijs (onderzoek/ervaringen buitenland)",
        "- Vooruitblik",
    ]


def test_bullet_of_reads_glyphs_ocr_bullets_and_numbers():
    from ingest.clean.units import bullet_of

    assert bullet_of("• Eerste punt", False) == (True, None, "Eerste punt")
    assert bullet_of("e Eerste punt", True) == (True, None, "Eerste punt")  # an OCR'd bullet glyph
    assert bullet_of("3. Derde", False) == (True, 3, "Derde")
    assert bullet_of("Gewone zin.", False) == (False, None, "Gewone zin.")
