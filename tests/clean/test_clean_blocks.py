"""Blocks (ingest.clean.blocks): sentences cut by page breaks, lists, headings."""

from __future__ import annotations

from clean_corpus import F000, F001, F002, F003, F004, find, headings, one, text

from ingest.clean import clean_text


def test_sentence_continues_across_blank_line_and_page_break_rules():
    out = clean_text(
        "Een aandachtspunt is wel dat\n\n\n\n.....\n\nscholen sterk verschillen in het aantal plannen.\n\n"
        "Het is de vraag of het\n\n---\n\nrealistisch is om dat te verwachten."
    )
    assert "Een aandachtspunt is wel dat scholen sterk verschillen in het aantal plannen." in out
    assert "Het is de vraag of het realistisch is om dat te verwachten." in out
    assert "....." not in out and "---" not in out


def test_corpus_sentences_joined_across_page_breaks():
    assert "Een aandachtspunt is wel dat scholen sterk verschillen" in text(F001)
    assert "Het is de vraag of het realistisch is om te verwachten" in text(F001)
    assert "als het om passend onderwijs gaat. Het heeft ook veel te maken" in text(F004)
    assert "Ministerie van OCW (2020a). Beleidsnota Evaluatie Passend Onderwijs. Den Haag: Ministerie van OCW." in text(
        F003
    )


def test_numbered_list_with_lost_numbers_is_one_list():
    out = one(
        "Uitgangspunten:\n\n1. De ondersteuningsbehoefte is leidend;\nDe leerling wordt gehoord;\n"
        "De leraar wordt ondersteund;\n\nXq~zzWk\n\nEr is acceptabele administratieve belasting.\n"
        " Voor passend onderwijs is samenwerking van belang.\n"
    )
    assert [b.kind for b in out] == ["paragraph", "list", "paragraph"]
    assert out[1].text.splitlines() == [
        "- 1. De ondersteuningsbehoefte is leidend;",
        "- 2. De leerling wordt gehoord;",
        "- 3. De leraar wordt ondersteund;",
        "- 4. Er is acceptabele administratieve belasting.",
    ]
    assert "Xq~zzWk" not in clean_text("Tekst.\n\nXq~zzWk\n\nMeer tekst.")


def test_corpus_seven_uitgangspunten_are_one_list():
    lists = find(F003, "De ondersteuningsbehoefte is leidend;")
    assert len(lists) == 1 and lists[0].kind == "list"
    items = lists[0].text.splitlines()
    assert len(items) == 7
    assert all(item.startswith("- ") for item in items)
    assert items[4] == "- 5. Er is een dekkend netwerk van voorzieningen in elke regio;"
    assert items[6] == "- 7. Er is acceptabele administratieve belasting."
    assert "Nouvhs" not in text(F003)
    assert "Nouvhs~wDN" in lists[0].raw or "Nouvhs" not in lists[0].raw  # raw keeps only its lines
    ocr_list = find(F003, "- ouders, enerzijds bij de aanmelding")
    assert ocr_list[0].kind == "list" and len(ocr_list[0].text.splitlines()) == 4


def test_markdown_list_and_line_list():
    out = one("Consortium:\n\n- Kohnstamm Instituut, Amsterdam\n- Oberon, Utrecht\n- KBA Nijmegen\n")
    assert out[1].text == "- Kohnstamm Instituut, Amsterdam\n- Oberon, Utrecht\n- KBA Nijmegen"
    names = find(F001, "- Anke de Boer (RUG)")
    assert names and names[0].kind == "list" and len(names[0].text.splitlines()) == 7
    refs = find(F000, "- 1. Inspectie van het Onderwijs (2018).")
    assert len(refs) == 1 and len(refs[0].text.splitlines()) == 34


def test_heading_styles_and_levels():
    out = one(
        "# Titel\n\nInleiding met een zin.\n\n### Sub\n\nTekst van de sub.\n\n**Vet kopje**\n\n"
        "Tekst onder het vette kopje, die lang genoeg is om een alinea te zijn.\n\n"
        "KRITISCHE OBSERVATIES ANNO 2019\n\nTekst onder de kapitalen.\n\n"
        "Stand van zaken\n\nSchoolbesturen hebben als bevoegd gezag formeel de verantwoordelijkheid voor de "
        "kwaliteit van ondersteuning.\n\nDit is geen kop want hij eindigt met een punt.\n\nKort.\n"
    )
    got = [(b.kind, b.text, b.level) for b in out if b.kind == "heading"]
    assert got == [
        ("heading", "Titel", 1),
        ("heading", "Sub", 3),
        ("heading", "Vet kopje", 2),
        ("heading", "KRITISCHE OBSERVATIES ANNO 2019", 2),
        ("heading", "Stand van zaken", 2),
    ]
    assert all(b.level == 0 for b in out if b.kind != "heading")


def test_title_line_followed_by_running_text_in_the_same_block():
    out = one(
        "Passie en bevlogenheid\nDie visie heeft De Fontein tot een schoolvoorbeeld gemaakt van passend onderwijs. "
        "Hoewel de wet er nog\nniet was toen er werd begonnen.\n"
    )
    assert next((b.kind, b.text) for b in out) == ("heading", "Passie en bevlogenheid")
    assert out[1].kind == "paragraph"


def test_corpus_headings():
    h1, h2, h3, h4 = headings(F001), headings(F002), headings(F003), headings(F004)
    assert h1["Samenvatting"] == 1 and h1["Verevening"] == 4
    assert h1["Organisatorische oplossingen: decentralisatie en budgetfinanciering"] == 3
    assert "MIJN ACHTERGROND" in h2 and "KRITISCHE OBSERVATIES ANNO 2019" in h2
    assert h3["Stand van zaken in het onderwijs"] == 2 and "Literatuurlijst" in h3
    assert "Passie en bevlogenheid" in h4 and "Netwerklogica" in h4 and "Voorwoord" in h4
    # a line that is a sentence is not a heading
    assert not any(t.endswith(".") for t in list(h3) + list(h4))
