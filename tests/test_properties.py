"""Property-based tests (hypothesis): cleaning, chunking and the query pipeline take any
text — arbitrary Unicode, control characters, huge lines, empty documents — without a
crash, and their invariants hold."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunk import chunk_blocks
from ingest.clean import clean_pages, clean_text
from ingest.types import Page
from kb import api
from kb.answer.question import analyse

WORDS = st.sampled_from(
    [
        "De",
        "leerling",
        "school",
        "zorgplicht",
        "ontwikkelingsperspectief",
        "OPP",
        "ouders",
        "samenwerkingsverband",
        "passend",
        "onderwijs",
        "thuiszitter",
        "-",
        "•",
        "1.",
        "2)",
        "*",
        "#",
        "##",
        "###",
        "\xad",
        "\u200b",
        "\x0c",
        "\t",
        "é",
        "ë",
        "ï",
        "ß",
        "中文",
        "🙂",
        "\x1b[31m",
        "\x07",
        "\r",
        "http://x.nl",
    ]
)
LINE = st.lists(WORDS, max_size=40).map(" ".join)
PAGE_TEXT = st.one_of(
    st.lists(LINE, max_size=30).map("\n".join),
    st.text(max_size=2000),  # any Unicode, control characters included
    st.builds(lambda w, n: (w + " ") * n, WORDS, st.integers(0, 4000)),  # one huge line
    st.just(""),
)
PAGES = st.lists(PAGE_TEXT, min_size=1, max_size=5)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(PAGES, st.booleans())
def test_cleaning_and_chunking_take_any_text(texts, numbered):
    pages = [Page(i + 1 if numbered else None, t) for i, t in enumerate(texts)]
    blocks = clean_pages(pages)
    assert all(b.kind in ("heading", "paragraph", "list") and isinstance(b.text, str) for b in blocks)

    chunks = chunk_blocks("doc.txt", blocks, {"title": "Doc"}, size=300, overlap=40)
    sources = [b.text.strip() for b in blocks if b.text.strip()]
    for c in chunks:
        assert c.text, "no empty passages"
        for part in c.text.split("\n\n"):
            assert any(part.strip() in s for s in sources), "every passage comes from its document"
        assert all(0 <= a < b <= len(c.text) for a, b in c.sentences)
    ids = [c.chunk_id for c in chunks]
    assert len(set(ids)) == len(ids), "ids are unique"
    again = chunk_blocks("doc.txt", clean_pages(pages), {"title": "Doc"}, size=300, overlap=40)
    assert [c.chunk_id for c in again] == ids, "ids are stable"


@FAST
@given(st.text(max_size=3000))
def test_clean_text_takes_any_text(text):
    assert isinstance(clean_text(text), str)


QUESTIONS = st.one_of(
    st.text(max_size=300),
    st.lists(WORDS, max_size=25).map(" ".join),
    st.builds(lambda w: w * 500, WORDS),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(question=QUESTIONS, followup=st.booleans())
def test_the_query_pipeline_takes_any_question(corpus_settings, question, followup):
    history = [{"question": "Wat is een OPP?", "answer": "Een ontwikkelingsperspectief [1]."}] if followup else []
    q = analyse(question, history)
    assert isinstance(q.query, str)

    found = api.search(question, k=5, settings=corpus_settings)
    assert len(found) <= 5
    answer = api.ask(question, history=history, settings=corpus_settings)
    assert answer.answer, "always a text: an answer or a refusal"
    for c in answer.citations:
        assert all(q in c.text for q in c.quotes), "citations stay verbatim"
