"""Footnotes (ingest.clean.footnotes): out of the running text, onto the sentence that carries the marker."""

from __future__ import annotations

import re

from clean_corpus import CORPUS, F000, F001, F002, F003, F004, blocks, one, text

from ingest.chunk import chunk_blocks
from ingest.clean import clean_pages
from ingest.sentences import split_sentences
from ingest.types import Page

FOOTNOTE_LINE = re.compile(r"^\d{1,2} [A-Z]")  # how a footnote's text looked in a passage before


def _noted(bs) -> list[tuple[str, str, str]]:
    """(marker, note, the sentence that carries it) for every footnote of the blocks."""
    out = []
    for b in bs:
        for marker, note in b.notes.items():
            at = b.note_at[marker]
            sentence = next(b.text[s:e] for s, e in split_sentences(b.text) if s < at <= e)
            out.append((marker, note, sentence))
    return out


def test_a_footnote_of_a_converted_text_goes_to_the_sentence_with_its_marker():
    bs = one(
        "Het gaat om ruim 4000 leerlingen in het onderwijs<sup>2</sup>; het aantal stijgt. Dat is veel.\n\n"
        "Een tweede alinea zonder noot.\n\n---\n\n"
        "2 Dit aantal betreft leerlingen die op enig moment thuiszitter waren.\n"
        "Het zijn dus niet allemaal leerlingen die nu thuiszitten.\n\n"
        "## Volgende kop\n\nMeer tekst over iets anders.\n"
    )
    assert not any("Dit aantal betreft" in b.text for b in bs)
    assert _noted(bs) == [
        (
            "2",
            "Dit aantal betreft leerlingen die op enig moment thuiszitter waren. "
            "Het zijn dus niet allemaal leerlingen die nu thuiszitten.",
            "Het gaat om ruim 4000 leerlingen in het onderwijs; het aantal stijgt.",
        )
    ]


def test_a_pdf_page_foot_note_is_taken_out_and_its_glued_digit_leaves_the_word():
    page1 = (
        "Het aantal thuiszitters2 is niet gedaald. Vaak spelen complexe problemen een rol, waarbij naast\n"
        "onderwijs ook zorg nodig is. Het lukt niet altijd om leerlingen terug te geleiden naar school.3 De\n"
        "samenwerking met de jeugdhulp is daarom\n"
        "2 Dit aantal betreft leerlingen die op enig moment in een schooljaar thuiszitter waren.\n"
        "3 Zie ook de notitie van Ingrado over de definitie van thuiszitter.\n"
        "4"
    )
    page2 = "belangrijk voor scholen en gemeenten in de regio.\n5"
    bs = clean_pages([Page(1, page1), Page(2, page2)])
    body = "\n".join(b.text for b in bs)
    assert "thuiszitters2" not in body and "school.3" not in body and "Dit aantal" not in body
    assert "De samenwerking met de jeugdhulp is daarom belangrijk voor scholen" in body  # across the notes
    assert {(m, s) for m, _, s in _noted(bs)} == {
        ("2", "Het aantal thuiszitters is niet gedaald."),
        ("3", "Het lukt niet altijd om leerlingen terug te geleiden naar school."),
    }


def test_numbered_lines_without_a_marker_stay_in_the_text():
    out = one("Tekst over leerlingen en hun ouders op school.\n\n---\n\n3 Scholen kregen meer geld in 2016.\n")
    assert [b.text for b in out][-1] == "3 Scholen kregen meer geld in 2016."
    assert not any(b.notes for b in out)
    # a reference number without a footnote is still removed from its word (ingest.clean.words)
    assert "hebben.1,2,3" not in text(F000) and not any(b.notes for b in blocks(F000))


def test_markdown_footnotes_are_attached_too():
    bs = one("Ouders hebben recht op overleg[^1] met de school.\n\n[^1]: Zie artikel 8 van de wet.\n")
    assert [b.text for b in bs] == ["Ouders hebben recht op overleg met de school."]
    assert _noted(bs) == [("1", "Zie artikel 8 van de wet.", "Ouders hebben recht op overleg met de school.")]


def test_the_bundled_corpus_keeps_no_footnote_text_in_its_passages():
    """Before: two passages of 001 held a footnote line ("1 Cluster 1: …", "2 Dit aantal betreft …")."""
    notes = {}
    for name in (F000, F001, F002, F003, F004):
        chunks = chunk_blocks(name, list(blocks(name)), {"title": name})
        lines = [ln for c in chunks for ln in c.text.split("\n") if FOOTNOTE_LINE.match(ln.strip())]
        assert lines == [], (name, lines)
        for c in chunks:
            for marker, note in c.notes.items():
                at = c.note_at[marker]
                notes[(name, marker)] = (note, next(c.text[s:e] for s, e in c.sentences if s < at <= e))
    assert set(notes) == {(F001, "1"), (F001, "2")}
    note, sentence = notes[(F001, "1")]
    assert note.startswith("Cluster 1: scholen voor kinderen met visuele beperkingen. Cluster 2:")
    assert sentence.endswith("voor de clusters 1 en 2 van het speciaal onderwijs.")
    note, sentence = notes[(F001, "2")]
    assert note.startswith("Dit aantal betreft leerlingen die op enig moment in een schooljaar thuiszitter waren.")
    assert sentence.startswith("Het gaat om ruim 4000 leerlingen in het primair en voortgezet onderwijs;")
    assert "thuiszitter waren" not in text(F001)
    assert (CORPUS / F001).read_text(encoding="utf-8").count("<sup>") == 2


def test_a_generated_pdf_with_a_footnote(tmp_path):
    """A real PDF (fpdf2): a superscript marker in the body, the note in small print at the foot."""
    from fpdf import FPDF

    from ingest.loaders import load_file

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.write(6, "Het aantal thuiszitters")
    pdf.char_vpos = "SUP"
    pdf.write(6, "2")
    pdf.char_vpos = "LINE"
    pdf.write(6, " is niet gedaald. Vaak spelen bij hen complexe problemen een rol, waarbij naast onderwijs ")
    pdf.write(6, "ook zorg nodig is. Het lukt nog lang niet altijd om leerlingen terug te geleiden naar school.")
    pdf.set_y(-40)
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(0, 4, "2 Dit aantal betreft leerlingen die op enig moment in een schooljaar thuiszitter waren.")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Op de tweede pagina staat gewone tekst over passend onderwijs in de klas.")
    path = tmp_path / "noot.pdf"
    pdf.output(str(path))

    doc = load_file(path)
    assert "thuiszitters2" in doc.pages[0].text  # the damage this repairs
    bs = clean_pages(doc.pages)
    assert all("thuiszitters2" not in b.text and "Dit aantal" not in b.text for b in bs)
    [chunk] = [c for c in chunk_blocks(doc.doc_id, bs, {"title": "Noot"}) if c.page == 1]
    assert chunk.notes == {"2": "Dit aantal betreft leerlingen die op enig moment in een schooljaar thuiszitter waren."}
    at = chunk.note_at["2"]
    assert chunk.text[:at].endswith("Het aantal thuiszitters")
