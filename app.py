"""Kennisbank Passend Onderwijs — de app.   streamlit run app.py

A thin shell over the Python API (:mod:`kb.api`); the parts live in :mod:`ui`:
``ui.chat`` (Vraag het), ``ui.search`` (Zoeken), ``ui.sources`` (Bronnen and the
reader), ``ui.glossary`` (Begrippenlijst), with shared state and widgets in
``ui.state`` and ``ui.widgets``.
"""

from __future__ import annotations

import re
import time

import streamlit as st

from kb.chats import new_id, valid_id
from kb.errors import KBError
from kb.index.remote import ServerUnavailableError
from ui import chat, glossary, search, sources, state, uploading
from ui.export import conversation_markdown
from ui.plaintext import md_plain
from ui.widgets import TABS, dutch_script, page_css

st.set_page_config(page_title="Kennisbank Passend Onderwijs", page_icon="📚")
PERSONAS = {"ouder": "Ouder of verzorger", "leraar": "Leraar of schoolteam", "trainer": "Trainer of opleider"}


def persona_of(value: str | None) -> str | None:
    """The persona a link names (``?rol=``), by its key or its label, in any case; None when unknown."""
    wanted = " ".join(str(value or "").split()).casefold()
    return next((key for key, label in PERSONAS.items() if wanted in (key, label.casefold())), None)


def unknown_persona(value: str | None) -> str:
    shown = re.sub(r"[^\w .-]", "", str(value or ""))[:40]
    return (
        f"De rol ‘{shown}’ uit de link bestaat niet; kies hieronder wie u bent. "
        f"Een link kan ?rol={', ?rol='.join(PERSONAS)} gebruiken."
    )


def new_conversation() -> None:
    st.query_params["gesprek"] = new_id()
    st.session_state.tab = TABS["chat"]


def export_button(slot, turns: list[dict], key: str) -> None:
    """The sidebar's "Exporteer gesprek" in ``slot``: the conversation as a Markdown handout."""
    slot.download_button(
        "Exporteer gesprek",
        icon=":material/download:",
        width="stretch",
        disabled=not turns,
        data=conversation_markdown(turns) if turns else "",
        mime="text/markdown",
        file_name=f"gesprek-passend-onderwijs-{time.strftime('%Y-%m-%d')}.md",
        help="Download de vragen, antwoorden en alle bronnen als Markdown, bijvoorbeeld als hand-out.",
        key=key,
    )


# --- the index: built on the first visit, loaded once --------------------------------------------
st.html(page_css())
try:
    if st.session_state.pop("herbouwen", False) or not state.has_index():
        state.build_index(rebuild=state.has_index())
    state.retriever()
except ServerUnavailableError as e:  # KB_CHROMA_MODE=http and the server does not answer
    st.error(md_plain(e), icon=":material/cloud_off:")
    st.button("Opnieuw proberen", type="primary")
    st.stop()
except KBError as e:  # e.g. an index of an older version or another model
    st.error(md_plain(e), icon=":material/error:")  # it may quote a file name or a path
    st.button(
        "De kennisbank nu opnieuw opbouwen",
        type="primary",
        on_click=st.session_state.update,
        kwargs={"herbouwen": True},
    )
    st.stop()

conversation = st.query_params.get("gesprek")
if not valid_id(conversation):
    conversation = new_id()
    st.query_params["gesprek"] = conversation

# --- the sidebar: who asks, the conversation ------------------------------------------------------
with st.sidebar:
    st.title(":material/school: Kennisbank Passend Onderwijs")
    st.caption("Antwoorden uit onderzoek en handreikingen over passend onderwijs — altijd met de bron erbij.")
    if "rol" not in st.session_state and st.query_params.get("rol"):  # a link: ?rol=trainer or ?rol=<label>
        linked = persona_of(st.query_params.get("rol"))
        if linked is None:
            st.warning(md_plain(unknown_persona(st.query_params.get("rol"))), icon=":material/person_alert:")
        else:
            st.session_state["rol"] = linked
    persona = st.radio(
        "Ik ben…",
        list(PERSONAS),
        format_func=PERSONAS.get,
        key="rol",
        bind="query-params",
        help="Het antwoord wordt op u afgestemd; de feiten en bronnen blijven dezelfde.",
    )
    st.divider()
    st.button("Nieuw gesprek", icon=":material/add_comment:", width="stretch", on_click=new_conversation)
    export_slot = st.empty()
    # drawn now, so that it stays while an upload or an answer takes its time; drawn again at
    # the end when this run stored an answer
    turns = state.chats().turns(conversation)
    export_button(export_slot, turns, "export")
    st.caption("Dit gesprek blijft bewaard als u de pagina ververst. De antwoorden zijn geen persoonlijk advies.")
    st.html(dutch_script(), unsafe_allow_javascript=True)

# --- the tabs --------------------------------------------------------------------------------------
tab = dict(zip(TABS, st.tabs(list(TABS.values()), key="tab", on_change="rerun"), strict=True))
prompt = st.chat_input("Stel uw vraag over passend onderwijs…", max_chars=1000) if tab["chat"].open else None
prompt = prompt or st.session_state.pop("vraag", None)
if not tab["sources"].open and uploading.pending_report():
    uploading.watch_elsewhere()  # a toast when this session's upload ends while another tab is open
for key, render in (
    ("chat", lambda: chat.render(conversation, persona, prompt)),
    ("search", search.render),
    ("sources", sources.render),
    ("terms", glossary.render),
):
    if tab[key].open:
        with tab[key]:
            render()

stored = state.chats().turns(conversation)
if [t["id"] for t in stored] != [t["id"] for t in turns]:  # this run answered a question
    export_button(export_slot, stored, "export-bijgewerkt")
