"""The "Vraag het" tab: the conversation, each answer with its sources and feedback."""

from __future__ import annotations

import streamlit as st

from kb import api
from kb.answer.compose import ABSTAIN_TEXT
from kb.results import Answer
from ui import passages as P
from ui import state
from ui.plaintext import md_plain
from ui.widgets import esc, note, passage_card, plain, source_card

ABSTAIN_HEAD = f"{ABSTAIN_TEXT} Ik geef daarom geen antwoord."

EXAMPLES = {
    "ouder": [
        "Wat is een ontwikkelingsperspectief (opp)?",
        "Mag de school mijn kind weigeren?",
        "Zijn ouders tevreden over passend onderwijs?",
    ],
    "leraar": [
        "Wat zijn de zeven uitgangspunten van passend onderwijs?",
        "Waar hebben leraren behoefte aan?",
        "Wat is basisondersteuning?",
    ],
    "trainer": [
        "Wat zijn de belangrijkste conclusies van de evaluatie?",
        "Wat zijn de zeven uitgangspunten van passend onderwijs?",
        "Hoe werken onderwijs en jeugdzorg samen?",
    ],
}


def show_abstention(result: Answer, key: str) -> None:
    """No answer: what the sources do not say, and (once) the passages that came nearest."""
    st.warning(ABSTAIN_HEAD, icon=":material/search_off:")
    if result.not_said and result.not_said != ABSTAIN_TEXT:
        plain(result.not_said.removeprefix(ABSTAIN_TEXT).strip(" ()."))
    if result.nearby:
        st.markdown("**Wel gevonden**, maar geen antwoord op uw vraag:")
        for i, p in enumerate(result.nearby):
            passage_card(p, P.term_spans(p.text, result.query or result.question), 260, f"{key}-buurt-{i}")


def show_answer(result: Answer, turn_id: int | None, persona: str) -> None:
    """One answer, rendered from its parts (nothing is read back out of its text)."""
    key = f"t{turn_id}"
    if result.notice:  # may quote an LLM server's error text: shown as plain text
        st.info(md_plain(result.notice), icon=":material/info:")
    if result.corrected_query:
        note(f"Gezocht op: {result.corrected_query}")
    if result.topic:
        note(f"Opgevat als vervolgvraag over: {result.topic}")
    if result.searched_also:
        note("Ook gezocht op: " + ", ".join(result.searched_also))
    if result.abstained and not result.partial:
        show_abstention(result, key)
    else:
        if result.lead:
            st.info(result.lead, icon=":material/lightbulb:")
        if result.partial:
            st.warning(
                "De bronnen beantwoorden deze vraag niet precies; hieronder staat wat ze er wel over zeggen.",
                icon=":material/help:",
            )
            if result.not_said:
                plain(result.not_said)
        st.html(f'<div class="kb-answer">{P.answer_html(result.body)}</div>')
        if result.glossary_extra:
            plain(result.glossary_extra, "kb-note")
        if result.mode == "llm":
            st.caption(
                ":material/smart_toy: Modus: **taalmodel** — in eigen woorden geschreven door een taalmodel, "
                "op basis van de genummerde bronnen. Controleer belangrijke punten in de bron."
            )
        else:
            st.caption(
                ":material/format_quote: Modus: **extractief** — het antwoord bestaat uit letterlijke zinnen uit de bronnen."
            )
        if result.citations:
            st.markdown(f"**Bronnen** ({len(result.citations)})")
            for c in result.citations:
                source_card(c, f"{key}-bron-{c.n}")
    if result.persona_note:
        st.info(result.persona_note, icon=":material/support_agent:")
    if result.terms and not result.lead and not result.glossary_extra:
        with st.expander("Begrippen in deze vraag", icon=":material/dictionary:"):
            for t in result.terms:
                st.html(f"<p><b>{esc(t.full)}</b> ({esc(t.term)}): {esc(t.uitleg)}</p>")
    if turn_id is not None:
        feedback(turn_id)


def feedback(turn_id: int) -> None:
    chats = state.chats()
    saved = chats.feedback_for(turn_id) or {}
    key = f"fb-{turn_id}"

    def save_score():
        score = st.session_state[key]
        chats.save_feedback(turn_id, score=score)
        icon = ":material/thumb_down:" if score == 0 else ":material/thumb_up:"
        st.toast("Bedankt voor uw beoordeling!", icon=icon)

    cols = st.columns([0.35, 0.65], vertical_alignment="center")
    cols[0].caption("Was dit antwoord nuttig?")
    with cols[1]:
        score = st.feedback("thumbs", key=key, default=saved.get("score"), on_change=save_score)
    if score is not None:
        with st.form(f"fbt-{turn_id}", border=False, enter_to_submit=True):
            comment = st.text_input(
                "Toelichting (niet verplicht)",
                value=saved.get("comment") or "",
                placeholder="Wat was goed, of wat miste u?",
                max_chars=2000,
            )
            if st.form_submit_button("Verstuur toelichting", type="secondary"):
                chats.save_feedback(turn_id, comment=comment)
                st.toast("Bedankt, uw toelichting is opgeslagen.", icon=":material/check:")


def ask_and_show(question: str, conversation: str, persona: str) -> None:
    chats = state.chats()
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        stream = st.empty()
        tokens: list[str] = []

        def on_token(token: str) -> None:  # generative mode: show the answer as it is written
            tokens.append(token)
            stream.text("".join(tokens) + " ▌")

        with st.spinner("Ik zoek het antwoord in de bronnen…"):
            result = api.ask(
                question,
                history=chats.history(conversation),
                persona=persona,
                settings=state.settings(),
                on_token=on_token,
            )
        stream.empty()
        turn_id = chats.add_turn(conversation, question, result, persona)
        show_answer(result, turn_id, persona)


def render(conversation: str, persona: str, prompt: str | None) -> None:
    turns = state.chats().turns(conversation)
    welcome = st.empty()  # emptied at once when the first question comes (no faded leftovers)
    if turns or prompt:
        welcome.empty()
    else:
        with welcome.container(), st.chat_message("assistant"):
            st.markdown(
                "Hallo! Stel hieronder uw vraag over **passend onderwijs**. Ik zoek het antwoord in "
                f"{len(state.documents())} onderzoeken en handreikingen en laat precies zien waar het staat. "
                "Staat het er niet in, dan zeg ik dat eerlijk."
            )
            st.pills(
                "Probeer bijvoorbeeld:",
                EXAMPLES.get(persona, EXAMPLES["ouder"]),
                key="voorbeeld",
                on_change=lambda: st.session_state.update(vraag=st.session_state.voorbeeld, voorbeeld=None),
            )
    for t in turns:
        with st.chat_message("user"):
            st.text(t["question"])
        with st.chat_message("assistant"):
            show_answer(t["result"], t["id"], t.get("persona") or persona)
    if prompt:
        ask_and_show(prompt, conversation, persona)
