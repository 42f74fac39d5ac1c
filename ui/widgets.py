"""Small shared pieces of the app: escaped text, source lines, source cards, the reader jump."""

from __future__ import annotations

import html
import json

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


def _formats() -> str:
    return " of ".join(f.name.split(" ")[0] for f in FORMATS)


def page_css() -> str:
    """The page's style, with the upload limit and the formats as this installation has them."""
    limit = state.settings().max_file_mb
    return CSS.replace("@FORMATS@", _formats()).replace("@MAX_MB@", f"{limit:g}")


#: Streamlit's own English labels that screen readers read out, in Dutch (exact label → Dutch)
DUTCH_LABELS = {
    "Thumbs up": "Duim omhoog: dit antwoord was nuttig",
    "Thumbs down": "Duim omlaag: dit antwoord was niet nuttig",
    "Feedback rating": "Beoordeling van dit antwoord",
    "Send message": "Vraag versturen",
    "Sidebar": "Zijbalk",
    "Collapse sidebar": "Zijbalk inklappen",
    "Expand sidebar": "Zijbalk uitklappen",
    "file upload": "Bestanden kiezen",
    "Add files": "Meer bestanden kiezen",
    "Chat message from user": "Uw vraag",
    "Chat message from assistant": "Antwoord van de kennisbank",
    "Open": "Keuzelijst openen",
    "Close": "Sluiten",
    "Clear value": "Keuze wissen",
    "Clear all": "Alles wissen",
    "Selected values": "Gekozen",
    "Main menu": "Menu",
    "Running...": "Bezig…",
    "Stop script": "Stoppen",
    "Notifications": "Meldingen",
    "Scroll tabs left": "Tabbladen naar links",
    "Scroll tabs right": "Tabbladen naar rechts",
}
#: labels that start with English words ("Help for Ik ben…", "Remove verslag.pdf")
DUTCH_PREFIXES = {"Help for ": "Uitleg bij ", "Remove ": "Weghalen: "}
SKIP_LINK = "Naar de inhoud"  # Streamlit's "Skip to main content"

# Our own script: the page is Dutch (screen readers, translation prompts), and Streamlit's
# English labels become Dutch, also in what it draws later (a MutationObserver). Only label
# attributes and the skip link's text change; the file uploader's button gets a Dutch name
# with the formats and the limit, and its English instructions (drawn over in Dutch by the
# CSS above) are hidden from screen readers. Material icons next to a text are decoration.
_DUTCH_SCRIPT = """<script>(function () {
  document.documentElement.lang = "nl";
  if (window.kbDutch) return;
  window.kbDutch = true;
  const LABELS = @LABELS@, PREFIXES = @PREFIXES@, SKIP = @SKIP@, UPLOAD = @UPLOAD@;
  function label(el, value) { if (el.getAttribute("aria-label") !== value) el.setAttribute("aria-label", value); }
  function dutch() {
    document.querySelectorAll("[aria-label]").forEach(function (el) {
      const v = el.getAttribute("aria-label");
      if (Object.prototype.hasOwnProperty.call(LABELS, v)) return label(el, LABELS[v]);
      for (const en in PREFIXES) if (v.startsWith(en)) return label(el, PREFIXES[en] + v.slice(en.length));
      if (el.matches('[data-testid="stIconMaterial"], span') && / icon$/.test(v)) {
        el.removeAttribute("aria-label");
        el.setAttribute("aria-hidden", "true");
      }
    });
    const skip = document.querySelector('[data-testid="stSkipToContent"]');
    if (skip && skip.firstChild && skip.firstChild.nodeType === 3 && skip.firstChild.nodeValue !== SKIP)
      skip.firstChild.nodeValue = SKIP;
    document.querySelectorAll('[data-testid="stFileUploaderDropzone"] button[data-testid="stBaseButton-secondary"]')
      .forEach(function (b) {
        label(b, UPLOAD);
        b.querySelectorAll("p").forEach(function (p) { if (!p.hasAttribute("aria-hidden")) p.setAttribute("aria-hidden", "true"); });
      });
    document.querySelectorAll('[data-testid="stFileUploaderDropzoneInstructions"]').forEach(function (d) {
      if (d.getAttribute("aria-hidden") !== "true") d.setAttribute("aria-hidden", "true");
    });
  }
  let queued = false;
  function later() { if (!queued) { queued = true; requestAnimationFrame(function () { queued = false; dutch(); }); } }
  dutch();
  new MutationObserver(later).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-label"]});
})();</script>"""


def dutch_script() -> str:
    """The page's Dutch script (see above), with this installation's upload formats and limit."""
    upload = f"Bestanden kiezen ({_formats()}, hoogstens {state.settings().max_file_mb:g} MB per bestand)"
    return (
        _DUTCH_SCRIPT.replace("@LABELS@", json.dumps(DUTCH_LABELS, ensure_ascii=False))
        .replace("@PREFIXES@", json.dumps(DUTCH_PREFIXES, ensure_ascii=False))
        .replace("@SKIP@", json.dumps(SKIP_LINK))
        .replace("@UPLOAD@", json.dumps(upload, ensure_ascii=False))
    )


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
            + (f'<div class="kb-meta">— {esc(c.speaker)}</div>' if c.speaker_differs else "")
            + f'<div class="kb-meta">{esc(meta_line(c))}</div>'
            f'<div class="kb-excerpt">{P.excerpt_html(c.text, P.quote_spans(c.text, c.quotes), 900)}</div>'
            + "".join(
                f'<div class="kb-note">Voetnoot {esc(m)}: {esc(note)}</div>'
                for q in c.quotes
                for m, note in c.notes_of(q).items()
            )
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
