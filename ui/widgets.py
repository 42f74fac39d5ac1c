"""Small shared pieces of the app: escaped text, source lines, source cards, the reader jump."""

from __future__ import annotations

import html

import streamlit as st

from ingest.loaders import FORMATS
from kb.results import Citation, Passage
from ui import passages as P
from ui import state

#: the app's tabs by key, in the order shown; a new tab is one line here and one block in app.py
TABS = {
    "chat": ":material/chat: Vraag het",
    "search": ":material/search: Zoeken",
    "sources": ":material/menu_book: Bronnen",
    "terms": ":material/dictionary: Begrippenlijst",
}

CSS = """<style>
.kb-answer p, .kb-answer ul {margin: 0 0 .5rem 0}
sup.kb-cite {color: #1d4ed8; font-weight: 600; font-size: .75em; margin-left: .1em}
mark {background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px}
.kb-src-title {font-weight: 600; line-height: 1.35}
.kb-n {display: inline-block; min-width: 1.6em; text-align: center; margin-right: .3em; border-radius: .8em;
       background: #dbeafe; color: #1d4ed8; font-size: .85em}
.kb-meta, .kb-note {color: #6b7280; font-size: .85rem}
.kb-excerpt {border-left: 3px solid #e5e7eb; padding-left: .75rem; font-size: .93rem}
.kb-excerpt p {margin: .2rem 0}
.kb-context {max-height: 26rem; overflow-y: auto; font-size: .93rem}
.kb-context > div, .kb-doc > div, .kb-doc > ul {margin-bottom: .6rem}
.kb-faint {color: #6b7280}
.kb-doel {background: #eff6ff; border-left: 3px solid #3b82f6; padding: .3rem .6rem; scroll-margin-top: 5rem}
.kb-doc h3, .kb-doc h4, .kb-doc h5, .kb-doc h6 {margin: 1rem 0 .4rem 0; scroll-margin-top: 5rem}
[data-testid="InputInstructions"] {display: none}
/* Streamlit's own English texts in the file uploader, in Dutch */
[data-testid="stFileUploaderDropzone"] button p, [data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0}
[data-testid="stFileUploaderDropzone"] button p::after {content: "Bestanden kiezen"; font-size: .875rem}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
    content: "of sleep ze hierheen · @FORMATS@ · hoogstens @MAX_MB@ MB per bestand"; font-size: .8rem}
</style>"""


def page_css() -> str:
    """The page's style, with the upload limit and the formats as this installation has them."""
    limit = state.settings().max_file_mb
    return CSS.replace("@FORMATS@", " of ".join(f.name.split(" ")[0] for f in FORMATS)).replace(
        "@MAX_MB@", f"{limit:g}"
    )


DUTCH = '<script>document.documentElement.lang = "nl";</script>'  # for screen readers and translation prompts


def esc(text) -> str:
    return html.escape(str(text if text is not None else ""))


def note(text: str) -> None:
    """A grey line of plain text (never interpreted as Markdown or HTML)."""
    st.html(f'<div class="kb-note">{esc(text)}</div>')


def plain(text: str, css_class: str = "kb-plain") -> None:
    """Text shown as it is: never interpreted as Markdown or HTML (it may quote a document)."""
    st.html(f'<div class="{css_class}">{esc(text)}</div>')


def doc_type(t: str | None) -> str:
    return "" if not t or t == "onbekend" else t.capitalize()


def meta_line(p: Passage) -> str:
    place = p.quoted_where
    return " · ".join(x for x in (str(p.year or "z.j."), doc_type(p.doc_type), place) if x)


def open_in_reader(doc_id: str, text: str = "", quotes: list[str] | None = None) -> None:
    """Button callback: switch to the Bronnen tab at the passage ``text`` of ``doc_id``."""
    blocks = state.doc_blocks(doc_id)
    span = P.locate(blocks, text) if text else None
    st.session_state.tab = TABS["sources"]
    st.session_state.lezer_doc = doc_id
    st.session_state.lezer_doel = span
    st.session_state.lezer_quotes = quotes or []
    parts = P.sections(blocks)
    st.session_state.lezer_deel = P.section_of(parts, span[0]) if span and parts else -1
    st.session_state.sprong = st.session_state.get("sprong", 0) + 1


def reader_button(p: Passage, key: str, quotes: list[str] | None = None) -> None:
    st.button(
        "Lees in het document",
        key=key,
        icon=":material/open_in_new:",
        type="tertiary",
        on_click=open_in_reader,
        args=(p.source, p.text, quotes),
    )


def passage_card(p: Passage, highlight: list[tuple[int, int]], width: int, key: str) -> None:
    """A found passage: title, year, type, place and an excerpt around the highlights."""
    with st.container(border=True):
        st.html(
            f'<div class="kb-src-title">{esc(p.title)}</div><div class="kb-meta">{esc(meta_line(p))}</div>'
            f'<div class="kb-excerpt">{P.excerpt_html(p.text, highlight, width)}</div>'
        )
        reader_button(p, key)


def source_card(c: Citation, key: str) -> None:
    """One cited passage: title, year, type, place, the passage with the cited sentence marked."""
    with st.container(border=True, key=key):
        st.html(
            f'<div class="kb-src-title"><span class="kb-n">{c.n}</span>{esc(c.title)}</div>'
            f'<div class="kb-meta">{esc(meta_line(c))}</div>'
            f'<div class="kb-excerpt">{P.excerpt_html(c.text, P.quote_spans(c.text, c.quotes), 900)}</div>'
        )
        with st.expander("Toon de tekst eromheen"):
            blocks = state.doc_blocks(c.source)
            span = P.locate(blocks, c.text)
            if span:
                before = P.blocks_html(blocks, span[0] - 2, span[0] - 1, css_class="kb-faint", anchors=False)
                after = P.blocks_html(blocks, span[1] + 1, span[1] + 2, css_class="kb-faint", anchors=False)
                middle = P.blocks_html(blocks, span[0], span[1], target=span, quotes=c.quotes, anchors=False)
                st.html(f'<div class="kb-context">{before}{middle}{after}</div>')
            else:
                st.html(f'<div class="kb-context">{P.paragraphs_html(c.text, P.quote_spans(c.text, c.quotes))}</div>')
            reader_button(c, f"{key}-lees", c.quotes)
