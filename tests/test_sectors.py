"""The sector filter (po, vo, so, mbo) works per passage where the passage says its sector
(issue 23): a passage about the mbo is found under mbo, one about po and vo is not, also in a
document about all four sectors."""

from __future__ import annotations

import re

from ingest.catalog import passage_sectors, sectors_named
from kb import api


def test_a_passage_names_its_sectors_by_abbreviation_or_name():
    assert sectors_named("Studenten in het mbo en mbo-instellingen") == ["mbo"]
    assert sectors_named("Impact op ouders in het primair en voortgezet onderwijs") == ["po", "vo"]
    assert sectors_named("het vmbo, de havo en het (v)so; roc's") == ["vo", "so", "mbo"]
    assert sectors_named("Scholen variëren volop; zo'n klas, de positie van ouders") == []


def test_the_innermost_heading_then_the_text_then_the_document_decides():
    doc = ["po", "vo", "so", "mbo"]
    assert passage_sectors("Samenvatting > Ontwikkelingen in het mbo", "Het po doet het anders.", doc) == ["mbo"]
    assert passage_sectors("Impact op scholen in het po en vo > Bureaucratie", "Ook in het mbo.", doc) == ["po", "vo"]
    assert passage_sectors("Samenvatting > Conclusie", "Mbo-instellingen krijgen een vast budget.", doc) == ["mbo"]
    assert passage_sectors("Samenvatting > Conclusie", "Scholen krijgen een vast budget.", doc) == doc


def _says(p) -> list[str]:
    """The sectors a found passage names itself (its headings, then its text); [] for none."""
    return passage_sectors(p.section, p.text, [])


def _footnote(p) -> bool:
    return bool(re.match(r"\s*\d{1,3}\s+[A-Z]", p.text)) or len(p.text) < 120


def test_the_mbo_filter_finds_passages_about_the_mbo_not_about_po_and_vo(corpus_settings):
    # a question every sector has: under mbo, no passage that is about po or vo only
    for query in ("leraren ervaren meer belasting door passend onderwijs", "tevredenheid van ouders", "mbo"):
        hits = api.search(query, k=10, filters={"sectors": ["mbo"]}, settings=corpus_settings)
        assert hits, query
        for h in hits:
            said = _says(h)
            assert not said or "mbo" in said, (query, h.section, h.text[:120])
    # "mbo": the best hit is a passage about the mbo, not a footnote
    top = api.search("mbo", k=10, filters={"sectors": ["mbo"]}, settings=corpus_settings)[0]
    assert "mbo" in _says(top) and not _footnote(top), (top.section, top.text[:200])


def test_a_passage_about_the_mbo_is_not_found_under_po(corpus_settings):
    hits = api.search("studenten in het mbo", k=10, filters={"sectors": ["po"]}, settings=corpus_settings)
    for h in hits:
        assert _says(h) != ["mbo"], (h.section, h.text[:120])
    unfiltered = api.search("studenten in het mbo", k=10, settings=corpus_settings)
    assert any(_says(h) == ["mbo"] for h in unfiltered)  # they are there, under their own sector
