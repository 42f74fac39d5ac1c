"""The "Bronnen" tab: the documents, a reader by section or page, and (if allowed) uploads."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ingest.loaders import format_names, upload_types
from ui import passages as P
from ui import state, uploading
from ui.plaintext import md_plain
from ui.widgets import doc_type, esc, note, open_in_reader

# Our own script, never with user text: the only values in it are two integers.
SCROLL = """<script>/* sprong {jump} */ (function() {{
  let tries = 0;
  (function go() {{
    const el = document.getElementById("blok-{block}");
    if (el) el.scrollIntoView({{block: "center", behavior: "smooth"}});
    else if (tries++ < 40) setTimeout(go, 100);
  }})();
}})();</script>"""


def documents_list() -> None:
    uploads = (state.settings().home / "uploads").resolve()
    for doc_id, d in state.documents().items():
        uploaded = Path(d.path).parent == uploads
        facts = [
            d.author,
            d.year,
            doc_type(d.doc_type),
            ", ".join(d.sectors),
            f"{d.passages} passage{'s' if d.passages != 1 else ''}",
            f"eigen bestand {doc_id}" if uploaded else None,
        ]
        with st.container(border=True):
            text, button = st.columns([0.82, 0.18], vertical_alignment="center")
            text.html(
                f'<div class="kb-src-title">{esc(d.title)}</div>'
                f'<div class="kb-meta">{esc(" · ".join(str(f) for f in facts if f))}</div>'
            )
            button.button(
                "Lezen", key=f"lees-{doc_id}", icon=":material/menu_book:", on_click=open_in_reader, args=(doc_id,)
            )


def reader() -> None:
    docs = state.documents()
    if st.session_state.get("lezer_doc") not in docs:
        st.session_state.lezer_doc = next(iter(docs))

    def reset():
        st.session_state.update(lezer_deel=-1, lezer_doel=None, lezer_quotes=[])

    doc = st.selectbox("Document", list(docs), key="lezer_doc", on_change=reset, format_func=lambda d: docs[d].title)
    blocks = state.doc_blocks(doc)
    d = docs[doc]
    note(" · ".join(str(x) for x in (d.author, d.year, doc_type(d.doc_type)) if x))
    by_page = P.pages(blocks)
    parts = by_page if by_page and st.toggle("Per pagina", key="lezer_paginas") else P.sections(blocks)
    if st.session_state.get("lezer_deel", -1) >= len(parts):
        st.session_state.lezer_deel = -1
    k = st.selectbox(
        "Pagina" if parts is by_page else "Hoofdstuk",
        range(-1, len(parts)),
        key="lezer_deel",
        format_func=lambda i: "Hele document" if i < 0 else parts[i][0],
    )
    first, last = (0, len(blocks) - 1) if k < 0 else parts[k][1:]
    target = st.session_state.get("lezer_doel")
    st.html(P.blocks_html(blocks, first, last, target=target, quotes=st.session_state.get("lezer_quotes")))
    if target:  # scroll to the passage; runs again only for a new jump (the script text changes)
        st.html(
            SCROLL.format(block=int(target[0]), jump=st.session_state.get("sprong", 0)), unsafe_allow_javascript=True
        )


def upload() -> None:
    results = uploading.collect()  # an upload that finished, perhaps while another tab was open
    if results is not None:
        st.session_state.upload_meldingen = [(r.ok, r.message) for r in results]
    messages = st.session_state.get("upload_meldingen", [])  # the result of the last upload
    job = uploading.running()
    # the outcome above the expander: in view even when the user closed it meanwhile (an expander
    # keeps the state the user gave it, whatever ``expanded`` says on a later run)
    for ok, message in messages:
        (st.success if ok else st.error)(md_plain(message))  # it names the file, may quote the PDF
    with st.expander("Eigen documenten toevoegen", icon=":material/upload_file:", expanded=bool(messages or job)):
        progress = st.empty()  # an upload's progress: at the top, in view, not below the file list
        st.caption(f"Bestanden in {format_names()}. Ze worden alleen aan deze kennisbank toegevoegd.")
        if job:
            st.caption("U kunt intussen verder werken in de andere tabbladen; het toevoegen gaat door.")
            uploading.watch(progress)
        waiting = [] if job else uploading.waiting_uploads()
        if waiting:
            st.warning(
                md_plain(
                    f"{len(waiting)} eerder geüpload(e) bestand(en) zijn opgeslagen maar nog niet doorzoekbaar "
                    f"(bv. ‘{waiting[0]}’): het toevoegen werd onderbroken."
                ),
                icon=":material/warning:",
            )
            st.button("Alsnog toevoegen", icon=":material/restart_alt:", on_click=uploading.finish_pending)
        n = st.session_state.get("upload_n", 0)
        files = st.file_uploader(
            "Kies bestanden",
            type=upload_types(),
            accept_multiple_files=True,
            key=f"upload-{n}",
            max_upload_size=max(1, int(state.settings().max_file_mb)),
            disabled=bool(job),  # one upload at a time per user; the next waits for this one
        )
        if files and not job:
            # a callback, not "if st.button(…)": Streamlit runs it at the start of the next run
            # whatever that run draws, so a click followed at once by another tab is not lost
            st.button("Toevoegen aan de kennisbank", type="primary", on_click=_add, args=(f"upload-{n}",))


def _add(key: str) -> None:
    """The click on "Toevoegen": start the upload of what the uploader ``key`` holds."""
    files = st.session_state.get(key) or []
    if files and not uploading.running():
        st.session_state.upload_meldingen = []
        uploading.start([(f.name, f.getvalue()) for f in files])
        st.session_state.upload_n = st.session_state.get("upload_n", 0) + 1  # a fresh, empty uploader


def render() -> None:
    st.subheader("Documenten in de kennisbank", anchor=False)
    documents_list()
    if state.settings().allow_upload:
        upload()
    st.subheader("Lezen", anchor=False)
    reader()
