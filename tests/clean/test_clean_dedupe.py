"""Blocks that occur twice (ingest.clean.dedupe): teasers, pull quotes, repeated slides."""

from __future__ import annotations

from clean_corpus import F000, F002, F004, find, headings, one, text

from ingest.clean import clean_text


def test_teaser_copy_dropped_section_keeps_its_lead():
    out = one(
        "### Meer vrijheid\n\nScholen krijgen meer vrijheid om middelen naar eigen inzicht te besteden en "
        "ondersteuning te bieden. → [meer lezen](#)\n\n### Leraren\n\nLeraren voelen zich zwaarder belast "
        "door passend onderwijs en willen extra handen in de klas.\n\n"
        "## Meer vrijheid\n\nScholen krijgen meer vrijheid om middelen naar eigen inzicht te besteden en "
        "ondersteuning te bieden.\n\n### Sneller\n\nVeel scholen kunnen meer eigen keuzes maken dan voorheen.\n\n"
        "## Leraren\n\nLeraren voelen zich zwaarder belast door passend onderwijs en willen extra handen in de "
        "klas en hulp.\n\n### Deskundigheid\n\nMinder vraag naar deskundigheidsbevordering dan verwacht.\n"
    )
    assert [(b.kind, b.level) for b in out][:2] == [("heading", 2), ("paragraph", 0)]
    assert sum("Scholen krijgen meer vrijheid" in b.text for b in out) == 1
    assert sum("Leraren voelen zich zwaarder belast" in b.text for b in out) == 1
    assert [b.text for b in out if b.kind == "heading"] == ["Meer vrijheid", "Sneller", "Leraren", "Deskundigheid"]


def test_corpus_teaser_000():
    lead = "Passend onderwijs heeft geleid tot een grotere vrijheid voor scholen"
    hits = find(F000, lead)
    assert len(hits) == 1
    assert "Meer vrijheid leidt tot flexibeler ondersteuning" in headings(F000)
    assert "Intensievere samenwerking tussen regulier en speciaal onderwijs" not in headings(F000)
    assert len(find(F000, "Passend onderwijs leidt nog niet tot minder doorverwijzingen")) == 1
    assert find(F000, "Het NRO heeft het meerjarige onderzoeksprogramma")  # unique teaser text stays


def test_pull_quotes_dropped_running_text_kept():
    out = one(
        "Marja kan zich in dat verhaal vinden: “Het meest trots ben ik op de hele cultuuromslag: kijk niet wat\n"
        "er niet kan, maar kijk naar de mogelijkheden en voer die dan ook uit. Dat zie ik steeds meer.”\n\n"
        "“Het meest trots ben ik op de hele\ncultuuromslag: kijk niet wat er niet kan,\n\n"
        "maar kijk naar de mogelijkheden”\n\nDaarna gaat het verhaal verder over iets anders.\n"
    )
    assert sum("Het meest trots ben ik" in b.text for b in out) == 1
    assert out[0].text.startswith("Marja kan zich")


def test_corpus_pull_quotes_and_captions_004():
    t4 = text(F004)
    for quote in (
        "Het meest trots ben ik op de hele cultuuromslag",
        "voor elk kind een thuis nabije passende onderwijsplek",
        "In hoeverre sluit jij aan op het kind?",
        "Kortom, open communicatie, goed rekenwerk",
    ):
        assert t4.lower().count(quote.lower()) == 1, quote
    assert "waarbij je van jongs af aan" in t4
    assert "V.l.n.r." not in t4


def test_repeated_slide_keeps_first_occurrence():
    out = one(
        "INHOUD BIJDRAGE\n\nGevraagd: visie op samenwerking met de jeugdzorg in de regio\n\n"
        "• Terugblik\n\n• Vooruitblik\n\nMIJN ACHTERGROND\n\nIk werkte lang in de jeugdzorg en in het onderwijs.\n\n"
        "TERUG NAAR INHOUD BIJDRAGE\n\nGevraagd: visie op samenwerking met de jeugdzorg in de regio\n\n"
        "• Terugblik\n\n• Vooruitblik\n\nSLOT\n\nDank voor uw aandacht en tot ziens.\n"
    )
    texts = [b.text for b in out]
    assert texts.count("Gevraagd: visie op samenwerking met de jeugdzorg in de regio") == 1
    assert texts.index("INHOUD BIJDRAGE") < texts.index("Gevraagd: visie op samenwerking met de jeugdzorg in de regio")
    assert "TERUG NAAR INHOUD BIJDRAGE" not in texts
    assert "- Terugblik\n- Vooruitblik" in texts


def test_corpus_repeated_agenda_002():
    assert len(find(F002, "Welke beelden regulier/speciaal/jeugdzorg bemoeilijken samenwerken?")) == 1
    assert len(find(F002, "Gevraagd: visie op passend onderwijs")) == 1
    assert "INHOUD BIJDRAGE" in headings(F002)
    assert "TERUG NAAR INHOUD BIJDRAGE" not in headings(F002)


def test_similar_but_different_paragraphs_all_stay():
    body = (
        "Het ontwikkelingsperspectief beschrijft welke onderwijsdoelen een leerling kan halen "
        "en welke ondersteuning daarvoor nodig is. "
    )
    doc = "\n\n".join(f"Paragraaf {i}. " + body * 3 for i in range(12))
    assert clean_text(doc).count("Paragraaf") == 12
    twice = "Een zin die twee keer in het document staat, als hele alinea.\n\nTussenin iets anders.\n\n"
    assert clean_text(twice * 2).count("Een zin die twee keer") == 1


def test_similar_headings_ignores_case_not_words():
    from ingest.clean.dedupe import similar_headings

    assert similar_headings("Inleiding", "inleiding")
    assert not similar_headings("Inleiding", "Conclusie")
