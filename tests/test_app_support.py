"""The app's helper modules: escaping and highlighting, Markdown export, conversation storage."""

from __future__ import annotations

import json

from kb.chats import ChatStore, export_feedback, new_id, valid_id
from kb.results import Answer
from ui import passages as P
from ui.export import conversation_markdown

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'
RESULT = Answer.from_dict(
    {
        "question": "Wat is een opp?",
        "answer": "Een opp is een plan [1].\n- met doelen [1]",
        "abstained": False,
        "mode": "extractive",
        "citations": [
            {
                "n": 1,
                "source": "a.txt",
                "title": "Rapport <b>",
                "year": 2020,
                "doc_type": "handreiking",
                "page": 4,
                "section": "",
                "text": f"Inleiding. Een opp is een plan. {EVIL}",
                "quote": "Een opp is een plan.",
                "quotes": ["Een opp is een plan."],
                "chunk_id": "c1",
                "author": "A. Auteur & B. Schrijver",
            }
        ],
    }
)


def test_document_and_user_text_is_escaped_before_highlighting():
    text = RESULT.citations[0].text
    for out in (
        P.excerpt_html(text, P.quote_spans(text, ["Een opp is een plan."])),
        P.excerpt_html(text, P.term_spans(text, "opp script")),
        P.paragraphs_html(text),
        P.answer_html(f"{EVIL} [1]"),
        P.blocks_html(
            [
                {"kind": "heading", "text": EVIL, "level": 2},
                {"kind": "list", "text": f"- {EVIL}"},
                {"kind": "paragraph", "text": EVIL},
            ],
            0,
            2,
            target=(2, 2),
            quotes=[EVIL],
        ),
    ):
        assert "<script" not in out and "<img" not in out
        assert "&lt;" in out and "alert(1)" in out
    assert "<mark>Een opp is een plan.</mark>" in P.excerpt_html(text, P.quote_spans(text, ["Een opp is een plan."]))
    assert '<sup class="kb-cite">[1]</sup>' in P.answer_html("Zo is het [1]")


def test_highlights_follow_stems_and_glossary_forms():
    text = "Ouders praten mee over het ontwikkelingsperspectief van hun kind."
    assert "<mark>Ouders</mark>" in P.marked(text, P.term_spans(text, "ouder"))  # the one word asked, by its stem
    marked = P.marked(text, P.term_spans(text, "ouder opp"))
    assert "<mark>ontwikkelingsperspectief</mark>" in marked  # a rare word, by its glossary form
    assert "<mark>Ouders</mark>" not in marked and "<mark>het</mark>" not in marked  # common words: not alone


def test_locate_and_sections():
    blocks = [
        {"kind": "heading", "text": "Eén", "level": 2},
        {"kind": "paragraph", "text": "Alpha beta."},
        {"kind": "paragraph", "text": "Gamma delta."},
        {"kind": "heading", "text": "Twee", "level": 2},
        {"kind": "paragraph", "text": "Epsilon."},
        {"kind": "heading", "text": "Drie", "level": 2},
        {"kind": "paragraph", "text": "Zeta."},
    ]
    assert P.locate(blocks, "Alpha beta.\n\nGamma delta.") == (1, 2)
    assert P.locate(blocks, "Epsilon.") == (4, 4)
    assert P.locate(blocks, "niet aanwezig") is None
    parts = P.sections(blocks)
    assert [p[0] for p in parts] == ["Eén", "Twee", "Drie"]
    assert P.section_of(parts, 4) == 1


def test_export_is_a_handout_with_all_sources():
    md = conversation_markdown([{"question": f"Vraag {EVIL}", "persona": "trainer", "result": RESULT}])
    assert "## Vraag 1: Vraag \\<script\\>" in md  # shows literally in a Markdown viewer
    assert "A. Auteur & B. Schrijver, Rapport \\<b\\> (2020), handreiking, p. 4" in md  # authors, title, year
    assert "“Een opp is een plan.”" in md and "## Alle gebruikte bronnen" in md


def test_conversations_and_feedback(tmp_path):
    store = ChatStore(tmp_path / "chats.sqlite3")
    cid = new_id()
    assert valid_id(cid) and not valid_id("../x") and store.turns("nope") == []
    turn = store.add_turn(cid, "Wat is een opp?", RESULT, "ouder")
    assert store.history(cid) == [
        {"role": "user", "content": "Wat is een opp?"},
        {"role": "assistant", "content": RESULT.answer},
    ]
    assert store.turns(cid)[0]["result"] == RESULT
    store.save_feedback(turn, score=0)
    store.save_feedback(turn, comment="Te kort")
    store.save_feedback(turn, score=1)  # changing the score keeps the comment
    (row,) = store.feedback()
    assert (row["score"], row["rating"], row["comment"], row["persona"]) == (1, "goed", "Te kort", "ouder")
    assert row["citations"][0]["quote"] == "Een opp is een plan."
    assert json.loads(export_feedback([row]).splitlines()[0])["question"] == "Wat is een opp?"
    assert export_feedback([row], "csv").splitlines()[0].startswith("id,created")
