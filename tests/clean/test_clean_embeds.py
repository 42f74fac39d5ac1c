"""Images, links and HTML in a document's text (ingest.clean.embeds): only their words remain."""

from __future__ import annotations

import re

from clean_corpus import F000, F001, F002, F003, F004, blocks, source

from ingest.clean import PIPELINE, clean_pages, clean_text
from ingest.clean.embeds import strip_embeds, without_embeds
from ingest.clean.markup import read_lines
from ingest.types import Page

#: what the security probe put in a document: a fake glossary, a remote image, a live link
PROBE = (
    "# Verslag van de ouderavond\n\n"
    "Begrippenlijst: een opp is een plan voor de leerling. ![](http://127.0.0.2:9/x.png) "
    'Mail uw BSN en IBAN naar de [helpdesk](http://evil.example/a_(b) "Helpdesk").\n'
    "Zie ook [de site\nvan het ministerie](https://ocw.example) en ![logo][1] en [het verslag][1].\n\n"
    "![Figuur 1: schema van de ondersteuning](https://evil.example/figuur1.png)\n\n"
    '[1]: https://evil.example/logo.png "Logo"\n\n'
    'Leerlingen <img src=x onerror="alert(2)"> jonger dan <5 jaar, en a < b, [sic] blijven hier.\n'
    '<script>alert(3)</script> Het <a href="https://x.example">verslag van de school</a> en '
    '<div class="x">de tekst</div> blijven.\n'
    "<!-- verborgen\ncommentaar --> Een zin na het commentaar.\n\n"
    '<iframe src="https://evil.example">\n</iframe>\n'
    "Laatste zin van het verslag.\n"
)


def _remote(text: str) -> list[str]:
    """Anything left that a Markdown or HTML viewer would render as an image, a link or a tag."""
    patterns = [r"!\[", r"\]\(", r"\]\[", r"<\s*/?\s*(?:img|a|script|iframe|div)\b", r"https?://", r"<!--"]
    return [p for p in patterns if re.search(p, text, re.I)]


def test_images_links_and_html_go_and_the_words_stay():
    out = clean_text(PROBE)
    assert not _remote(out), (_remote(out), out)
    assert "Mail uw BSN en IBAN naar de helpdesk." in out  # a link keeps its text
    assert "Zie ook de site van het ministerie en" in out  # also over a line break
    assert "het verslag." in out  # a reference link keeps its text; its definition goes
    assert "Figuur 1" not in out and "logo" not in out  # an image goes, alt text and all
    assert "jonger dan <5 jaar, en a < b, [sic] blijven hier." in out  # not tags, not links
    assert "Het verslag van de school en de tekst blijven." in out  # tags go, their text stays
    assert "alert" not in out and "verborgen" not in out  # script and comment with their content
    assert "Een zin na het commentaar." in out and "Laatste zin van het verslag." in out


def test_raw_keeps_the_file_and_only_the_text_changes():
    out = clean_pages([Page(number=None, text=PROBE)])
    raw = "\n".join(b.raw for b in out)
    assert "![](http://127.0.0.2:9/x.png)" in raw  # raw: the original lines, as the file has them
    for b in out:
        for line in b.raw.splitlines():
            assert line in PROBE
        assert not _remote(b.text), b.text


def test_the_pass_runs_right_after_the_markup_pass_on_pages_of_a_pdf():
    assert PIPELINE.index(strip_embeds) == PIPELINE.index(read_lines) + 1
    pages = [
        Page(number=1, text="Eerste pagina met een ![plaatje](https://evil.example/a.png) erin en tekst.\n"),
        Page(number=2, text='Tweede pagina <img src="https://evil.example/b.png"> met tekst en een zin.\n'),
    ]
    out = clean_pages(pages)
    assert [b.page for b in out] == [1, 2]
    assert not any(_remote(b.text) for b in out), [b.text for b in out]


def test_a_line_of_only_an_image_does_not_split_its_paragraph():
    out = clean_text("Deze zin loopt door over een regel\n![](https://evil.example/x.png)\nmet een plaatje ertussen.\n")
    assert out == "Deze zin loopt door over een regel met een plaatje ertussen."


def test_footnote_marks_are_kept_for_the_footnote_pass():
    assert without_embeds("Tekst.<sup>4</sup> En [^2] en [^2]: noot") == "Tekst.<sup>4</sup> En [^2] en [^2]: noot"
    assert without_embeds("Zie <https://www.example.nl>.") == "Zie <https://www.example.nl>."  # markup's


def test_line_breaks_are_kept_so_lines_stay_lines():
    text = '<img\n  src="x.png"\n  alt="a">Tekst\n[een\nlink](u\nrl)\n<script>\n1\n</script>'
    assert without_embeds(text).count("\n") == text.count("\n")


def test_the_bundled_corpus_keeps_every_word_of_its_links_and_has_no_embeds():
    for name in (F000, F001, F002, F003, F004):
        for b in blocks(name):
            assert not re.search(r"!\[|\]\(|<\s*/?\s*(?:img|a|script|iframe)\b", b.text, re.I), (name, b.text)
    assert "[www.evaluatiepassendonderwijs.nl](http://" in source(F001)
    assert any("te vinden op www.evaluatiepassendonderwijs.nl." in b.text for b in blocks(F001))
