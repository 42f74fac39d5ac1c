"""The "Zoeken" tab: passages with the search words marked, with filters."""

from __future__ import annotations

import streamlit as st

from ui import passages as P
from ui import state
from ui.widgets import note, passage_card

SECTORS = {
    "po": "Primair onderwijs (po)",
    "vo": "Voortgezet onderwijs (vo)",
    "so": "Speciaal onderwijs (so)",
    "mbo": "Middelbaar beroepsonderwijs (mbo)",
}


def filters_form(docs: dict) -> dict:
    """The filter widgets; the filters chosen (empty lists mean: all)."""
    years = sorted({d.year for d in docs.values() if d.year})
    with st.expander("Filters", icon=":material/filter_list:"):
        c1, c2 = st.columns(2)
        chosen = c1.multiselect(
            "Document",
            list(docs),
            key="f_docs",
            placeholder="Alle documenten",
            select_all=False,
            format_func=lambda d: docs[d].short_title,
        )
        types = c2.multiselect(
            "Soort document",
            sorted({d.doc_type for d in docs.values()}),
            key="f_types",
            placeholder="Alle soorten",
            select_all=False,
            format_func=str.capitalize,
        )
        sectors = c1.multiselect(
            "Sector",
            list(SECTORS),
            key="f_sectors",
            placeholder="Alle sectoren",
            select_all=False,
            format_func=SECTORS.get,
        )
        picked = (
            c2.pills("Jaar", years, key="f_years", selection_mode="multi", help="Niets gekozen: alle jaren.")
            if len(years) > 1
            else []
        )
    return {"docs": chosen, "doc_types": types, "sectors": sectors, "years": list(picked or [])}


def render() -> None:
    docs = state.documents()
    query = st.text_input(
        "Zoek in de bronnen", key="zoek", placeholder="bijvoorbeeld: ontwikkelingsperspectief", icon=":material/search:"
    )
    filters = filters_form(docs)
    if not query.strip():
        note(
            "Typ een of meer woorden; de passages waarin ze voorkomen verschijnen hier, met de zoekwoorden gemarkeerd."
        )
        return
    hits = state.search(query, filters)
    if not hits:
        st.info("Geen passages gevonden. Probeer andere woorden of minder filters.", icon=":material/search_off:")
        return
    searched = getattr(hits, "corrected_query", "") or query  # misspelt words corrected: what was searched
    if searched != query:
        note(f"Gezocht op: {searched}")
    note(f"{len(hits)} passage{'s' if len(hits) != 1 else ''}, de best passende eerst.")
    for h in hits:
        passage_card(h, P.term_spans(h.text, searched, state.term_idf), 500, f"zoek-{h.chunk_id}")
