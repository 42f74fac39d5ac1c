"""Tests of ingest.clean: every repair rule on the bundled corpus and on small examples."""

from __future__ import annotations

import re
import time
from functools import cache

import pytest

from ingest.clean import clean_pages, clean_text
from ingest.types import Block, Page
from kb.config import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
F000 = "000_4d92f3448d83df09.txt"
F001 = "001_c189e2559444eabf.txt"
F002 = "002_0c56365852a53764.txt"
F003 = "003_99f945db3d15438d.txt"
F004 = "004_e6d995f045a2cb92.txt"


@cache
def source(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


@cache
def blocks(name: str) -> tuple[Block, ...]:
    return tuple(clean_pages([Page(number=None, text=source(name))]))


def text(name: str) -> str:
    return "\n\n".join(b.text for b in blocks(name))


def find(name: str, needle: str) -> list[Block]:
    return [b for b in blocks(name) if needle in b.text]


def headings(name: str) -> dict[str, int]:
    return {b.text: b.level for b in blocks(name) if b.kind == "heading"}


def one(text_: str) -> list[Block]:
    return clean_pages([Page(number=None, text=text_)])


# --------------------------------------------------------------------------------------
# hard-wrapped lines


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


# --------------------------------------------------------------------------------------
# end-of-line hyphenation


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


# --------------------------------------------------------------------------------------
# stray spaces and words run together


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


# --------------------------------------------------------------------------------------
# OCR accent and glyph errors


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


# --------------------------------------------------------------------------------------
# bullets and lists


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


# --------------------------------------------------------------------------------------
# things that are dropped


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


# --------------------------------------------------------------------------------------
# repeated blocks: teaser, pull quotes, repeated slides


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


# --------------------------------------------------------------------------------------
# headings


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


# --------------------------------------------------------------------------------------
# raw text, no loss of content, speed


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


def test_similar_but_different_paragraphs_all_stay():
    body = (
        "Het ontwikkelingsperspectief beschrijft welke onderwijsdoelen een leerling kan halen "
        "en welke ondersteuning daarvoor nodig is. "
    )
    doc = "\n\n".join(f"Paragraaf {i}. " + body * 3 for i in range(12))
    assert clean_text(doc).count("Paragraaf") == 12
    twice = "Een zin die twee keer in het document staat, als hele alinea.\n\nTussenin iets anders.\n\n"
    assert clean_text(twice * 2).count("Een zin die twee keer") == 1


def test_cleaning_the_corpus_is_fast():
    names = (F000, F001, F002, F003, F004)
    clean_text("De woordenlijst wordt eenmalig geladen.")  # the word list loads once, lazily
    start = time.perf_counter()
    for name in names:
        clean_pages([Page(number=None, text=source(name))])
    assert time.perf_counter() - start < 3.0
