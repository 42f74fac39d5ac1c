"""The "Begrippenlijst" tab: the glossary, each term with where the sources discuss it."""

from __future__ import annotations

import re

import streamlit as st

from kb.retrieval.glossary import load_glossary
from ui import passages as P
from ui import state
from ui.widgets import esc, passage_card


def _name(t) -> str:  # "opp" → "OPP", "ib'er" → "IB'er", "zorgplicht" → "Zorgplicht"
    return re.sub(r"^[a-z]+", lambda m: m.group().upper(), t.term) if len(t.term) <= 5 else t.term.capitalize()


def render() -> None:
    st.caption(
        "Afkortingen en begrippen uit passend onderwijs, kort uitgelegd. "
        "Open een begrip om te zien waar het in de bronnen wordt besproken."
    )
    for t in sorted(load_glossary(), key=lambda t: _name(t).lower()):
        label = f"**{_name(t)}** — {t.full}" if t.term != t.full else f"**{_name(t)}**"
        box = st.expander(label, key=f"begrip-{t.term}", on_change="rerun")
        with box:
            st.html(f"<p>{esc(t.uitleg)}</p>")
            if box.open:
                hits = state.search(t.full, k=3)
                if hits:
                    st.markdown("**In de bronnen**")
                for h in hits:
                    passage_card(h, P.term_spans(h.text, t.full, state.term_idf), 300, f"begrip-{t.term}-{h.chunk_id}")
