"""Hybrid retrieval: Dutch stems and compounds, fusion, glossary, filters, follow-ups."""

from __future__ import annotations

from ingest.catalog import passage_sectors
from kb import text
from kb.answer.question import analyse, is_followup
from kb.api import get_retriever, search
from kb.retrieval.glossary import find_terms, load_glossary
from kb.retrieval.thesaurus import expand
from kb.text import analyze, compound_parts


def test_compounds_are_split_into_known_dutch_words():
    assert compound_parts("bezuinigingsoperatie") == ("bezuiniging", "operatie")
    assert compound_parts("schoolondersteuningsprofiel") == ("school", "ondersteuning", "profiel")
    assert compound_parts("thuiszitters") == ()
    # a parent's "bezuiniging" and the report's "bezuinigingsoperatie" share a term
    assert set(analyze("bezuiniging")) & set(analyze("de bezuinigingsoperatie"))


def test_the_word_lists_come_from_wordfreq_once_and_then_from_a_cached_file(tmp_path, monkeypatch):
    from wordfreq import top_n_list, zipf_frequency

    monkeypatch.setenv("KB_MODEL_CACHE", str(tmp_path / "models"))
    made = text._cached_words("probe", lambda: frozenset(["aanmelding", "zorgplicht"]))
    [cached] = (tmp_path / "lexicon").glob("probe-wordfreq*.txt")
    assert made == {"aanmelding", "zorgplicht"} and cached.read_text(encoding="utf-8") == "aanmelding\nzorgplicht"
    assert text._cached_words("probe", lambda: frozenset(["anders"])) == made  # read back, not rebuilt
    # the cached lists are what wordfreq says
    assert text._lexicon() >= {text.fold(w) for w in top_n_list("nl", 2000) if len(w) >= text.MIN_PART}
    common = text.common_words()
    assert {"als", "ook", "niet"} <= common and "pgb" not in common and "opp" not in common
    assert all(zipf_frequency(w, "nl") >= text.COMMON_ZIPF for w in sorted(common)[:200])


def test_bm25_finds_a_compound_from_its_head(any_corpus_settings):
    hits = get_retriever(any_corpus_settings).search("bezuiniging", k=5, mode="bm25")
    assert any("bezuinigingsoperatie" in h.text for h in hits)


def test_hybrid_fuses_dense_and_lexical_rankings(any_corpus_settings):
    r = get_retriever(any_corpus_settings)
    q = "verevening van de ondersteuningsmiddelen tussen regio's"
    dense = [h.chunk_id for h in r.search(q, k=10, mode="dense")]
    lexical = [h.chunk_id for h in r.search(q, k=10, mode="bm25")]
    hybrid = r.search(q, k=10)
    ids = [h.chunk_id for h in hybrid]
    candidates = {h.chunk_id for mode in ("dense", "bm25") for h in r.search(q, k=50, mode=mode)}
    assert set(ids) <= candidates, "fusion only ranks what one of the two sides found"
    top = hybrid[0]
    assert top.chunk_id in dense[:5] and top.chunk_id in lexical[:5], "the fused top is strong on both sides"
    assert "verevening" in top.text.lower()
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


def test_glossary_expands_abbreviations():
    assert "ontwikkelingsperspectief" in expand("wat is een opp").query
    assert "samenwerkingsverband" in expand("wie betaalt het swv?").query
    assert "intern begeleider" in expand("moet de ib'er helpen?").query
    assert [t.term for t in find_terms("Wat doet de school met het ontwikkelingsperspectief?")] == ["opp"]
    terms = {t.term for t in load_glossary()}
    assert {
        "opp",
        "sop",
        "swv",
        "ib'er",
        "so",
        "vso",
        "sbo",
        "lwoo",
        "pro",
        "thuiszitter",
        "zorgplicht",
        "verevening",
        "arrangement",
        "basisondersteuning",
    } <= terms
    assert all(t.uitleg for t in load_glossary())


def test_an_abbreviation_finds_the_passage_that_spells_it_out(corpus_settings):
    results = search("opp", k=5, settings=corpus_settings)
    assert any("ontwikkelingsperspectief" in r.text.lower() for r in results[:3])


def test_filters_on_document_type_year_and_sector(any_corpus_settings):
    q = "samenwerking met de jeugdhulp"
    only_004 = search(q, k=10, filters={"docs": ["004_e6d995f045a2cb92.txt"]}, settings=any_corpus_settings)
    assert only_004 and {r.source for r in only_004} == {"004_e6d995f045a2cb92.txt"}
    pres = search(q, k=10, filters={"doc_types": ["presentatie"]}, settings=any_corpus_settings)
    assert pres and {r.doc_type for r in pres} == {"presentatie"}
    old = search(q, k=10, filters={"year_to": 2017}, settings=any_corpus_settings)
    assert old and {r.year for r in old} == {2016}
    recent = search(q, k=10, filters={"year_from": 2018}, settings=any_corpus_settings)
    assert recent and {r.year for r in recent} == {2020}
    exact = search(q, k=10, filters={"years": [2016]}, settings=any_corpus_settings)
    assert exact and {r.year for r in exact} == {2016}
    mbo = search(q, k=10, filters={"sectors": ["mbo"]}, settings=any_corpus_settings)
    assert mbo
    for r in mbo:  # per passage: one that names the mbo, or one that names no sector in a document about the mbo
        said = passage_sectors(r.section, r.text, [])
        assert "mbo" in said or (not said and r.source in {"001_c189e2559444eabf.txt", "002_0c56365852a53764.txt"})
    nothing = search(q, k=10, filters={"docs": ["bestaat-niet.pdf"]}, settings=any_corpus_settings)
    assert nothing == []


def test_followups_are_resolved_against_the_history():
    history = [
        {"role": "user", "content": "Wat zijn de uitgangspunten van passend onderwijs?"},
        {"role": "assistant", "content": "Er zijn zeven uitgangspunten [1]."},
    ]
    assert is_followup("welke daarvan gaat over ouders?")
    assert is_followup("en in het vo?")
    assert is_followup("En wie stelt het op?")
    assert not is_followup("Wat is de zorgplicht van een school?")
    assert not is_followup("hoeveel thuiszitters zijn er")
    # the follow-up keeps its own words and takes the topic of the question it depends on
    followup = analyse("welke daarvan gaat over ouders?", history)
    assert followup.topic == "uitgangspunten passend onderwijs"
    assert followup.query == "welke daarvan gaat over ouders? (uitgangspunten passend onderwijs)"
    assert analyse("Wat is de zorgplicht van een school?", history).query == "Wat is de zorgplicht van een school?"
    assert analyse("en in het vo?", []).query == "en in het vo?"
    later = [
        *history,
        {"role": "user", "content": "welke daarvan gaat over ouders?"},
        {"role": "assistant", "content": "…"},
    ]
    assert "uitgangspunten" in analyse("en waarom?", later).topic, "a chain goes back to its start"


def test_a_followup_retrieves_what_the_user_means(corpus_settings):
    from kb.api import ask

    history = [
        {"role": "user", "content": "wat zijn de zeven uitgangspunten van passend onderwijs"},
        {"role": "assistant", "content": "..."},
    ]
    result = ask("welke daarvan gaat over ouders?", history=history, settings=corpus_settings)
    assert not result.abstained
    assert "gelijkwaardig partner" in result.answer


def test_search_json_fields_are_stable(corpus_settings):
    (r,) = search("zorgplicht", k=1, settings=corpus_settings)
    assert {"rank", "score", "source", "title", "page", "section", "text", "chunk_id"} <= set(r.to_dict())
    assert r.rank == 1 and not r.title.endswith(".txt")


def test_search_lists_only_passages_that_match(any_corpus_settings):
    few = search("plaatsingstafel", k=10, settings=any_corpus_settings)
    assert 0 < len(few) < 10, "passages without the words and far in meaning are left out"
    assert any("plaatsingstafel" in r.text.lower() for r in few)
