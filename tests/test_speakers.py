"""Who says it: stories and speakers at ingest (ingest.speakers), in the stored record and the
passage, and questions that name a speaker (kb.retrieval.speakers)."""

from __future__ import annotations

import sys

import pytest

from ingest.chunk import chunk_blocks, header_for
from ingest.speakers import aliases, credits
from kb.config import PROJECT_ROOT
from kb.index.records import StoredPassage
from kb.results import Citation, Passage
from kb.retrieval.speakers import SpeakerNames, asks_for_speaker

sys.path.insert(0, str(PROJECT_ROOT / "tests" / "clean"))
from clean_corpus import F000, F002, F004, blocks

META_004 = {"title": "Praktijkverhalen", "author": "Ministerie van OCW en anderen"}


def _credit_of(name: str, meta: dict, needle: str):
    bs = list(blocks(name))
    i = next(k for k, b in enumerate(bs) if needle in b.text)
    return credits(bs, meta)[i]


@pytest.mark.parametrize(
    ("needle", "story", "speaker"),
    [
        (
            "We zijn nu twee jaar op weg",
            "Voorwoord",
            "Sander Dekker, staatssecretaris van Onderwijs, Cultuur en Wetenschap",
        ),
        ("Deze roep om tijd, ruimte en vertrouwen", "Laat het vakmanschap weer opbloeien", "CNV Onderwijs"),
        ("De intern begeleider, remedial teacher", "Betere ondersteuning, kleinere klassen", "Algemene Onderwijsbond"),
        ("Toen ik de nieuwe directeur", "Opting out in de praktijk", "Rob Spardiaans, directeur SWV De Meijerij"),
        (
            "Pim heeft een taalontwikkelingsstoornis",
            "“Je ziet wat er kan",
            "Carmita Poldervaart, directeur De Breede Hei",
        ),
        ("Karel van 13", "Geen kennis voor het kind", "Carlijn Volker, onderwijs-zorgconsulent"),
        ("Het kind moet veel meer centraal", "Kind meer centraal", "Illya Soffer, directeur Ieder(in)"),
        ("De simulatie maakt zichtbaar", "Simulaties governance", "PO-Raad"),
        ("Heer Bommel heeft gelijk", "Niet zeuren, maar doen!", "Albert Boelen namens LECSO"),
        ("FvOv is een federatie", "Passend onderwijs: goed idee", "Marguerite Boersma, bestuurder FvOv"),
        ("Ouders willen dat hun kind welkom is", "Passend onderwijs: relatie", "Ouders & Onderwijs"),
        ("Een mooi voorbeeld van hoe het ook kan", "“Geweldig, nu vinden we elkaar!”", "IB’er Dineke Hoogeveen"),
        ("Het is belangrijk om als leraar je groep", "Leestips passend onderwijs", ""),  # no byline: no speaker
        ("Twee jaar passend onderwijs: wie kunnen", "Drie jaar pionieren met passend onderwijs", ""),
    ],
)
def test_every_story_of_the_booklet_has_its_title_and_where_it_says_so_its_speaker(needle, story, speaker):
    credit = _credit_of(F004, META_004, needle)
    assert credit.story.startswith(story) and credit.speaker == speaker


def test_a_document_without_bylines_is_spoken_by_its_author():
    meta = {"title": "Passend onderwijs en de jeugdzorg", "author": "Dolf van Veen (NCOJ)"}
    assert {c.speaker for c in credits(list(blocks(F002)), meta)} == {"Dolf van Veen (NCOJ)"}
    assert {c.speaker for c in credits(list(blocks(F000)), {"author": "Pauline van Eck"})} == {"Pauline van Eck"}


def test_the_header_that_is_embedded_names_story_and_speaker_and_a_passage_keeps_one_story():
    chunks = chunk_blocks(F004, list(blocks(F004)), META_004)
    cnv = [c for c in chunks if c.speaker == "CNV Onderwijs"]
    assert cnv and all(c.header.endswith("— Laat het vakmanschap weer opbloeien — CNV Onderwijs") for c in cnv)
    assert all(c.story == "Laat het vakmanschap weer opbloeien" for c in cnv)
    assert not any("Carmita Poldervaart, directeur" in c.text and "De Fontein" in c.text for c in chunks)
    deck = {"title": "Jeugdzorg", "author": "Dolf van Veen (NCOJ)", "doc_type": "presentatie"}
    slides = chunk_blocks(F002, list(blocks(F002)), deck)
    assert all(c.header.endswith("— Dolf van Veen (NCOJ)") and c.speaker == "Dolf van Veen (NCOJ)" for c in slides)
    report = {"title": "Vijf jaar", "author": "Pauline van Eck", "doc_type": "samenvatting"}
    # a report's authors are its passages' speaker, but not in every header
    assert all(
        c.speaker == "Pauline van Eck" and "Pauline" not in c.header
        for c in chunk_blocks(F000, list(blocks(F000)), report)
    )
    assert header_for("T", "Sectie", "Verhaal", "Wie") == "T — Verhaal — Sectie — Wie"
    assert header_for("T", "Verhaal > Sub", "Verhaal", "") == "T — Verhaal > Sub"


def test_the_names_a_question_may_use_for_a_speaker():
    assert {"dolf van veen", "van veen", "ncoj"} <= set(aliases("Dolf van Veen (NCOJ)"))
    assert {"algemene onderwijsbond", "aob"} <= set(aliases("Algemene Onderwijsbond"))
    assert {"cnv onderwijs", "cnv"} <= set(aliases("CNV Onderwijs"))
    assert "ieder in" in aliases("Illya Soffer, directeur Ieder(in)")
    assert "dekker" not in aliases("Sander Dekker, staatssecretaris")  # a Dutch word too: only with the first name
    assert "boelen" in aliases("Albert Boelen namens LECSO")
    names = SpeakerNames(["CNV Onderwijs", "Dolf van Veen (NCOJ)", "Algemene Onderwijsbond", ""])
    assert names.named("Wat zegt CNV Onderwijs over werkdruk?") == ["CNV Onderwijs"]
    assert names.named("knelpunten volgens Van Veen") == ["Dolf van Veen (NCOJ)"]
    assert names.named("wat vindt de AOb?") == ["Algemene Onderwijsbond"]
    assert names.named("wat is veen?") == [] and names.named("") == []
    assert asks_for_speaker("Wat zegt CNV Onderwijs over werkdruk?") and asks_for_speaker("knelpunten volgens Van Veen")
    assert not asks_for_speaker("hoeveel leden heeft de FvOv?")
    assert not asks_for_speaker("in 2016 zei FvOv dat so-scholen krimpen; klopt dat met de cijfers?")


def test_speaker_story_and_notes_travel_in_the_stored_record_and_the_passage():
    chunk = next(
        c
        for c in chunk_blocks(F004, list(blocks(F004)), META_004)
        if "We hebben de Tom Poezen" in c.text or "Wie de eer krijgt" in c.text
    )
    chunk.notes, chunk.note_at = {"1": "Een noot."}, {"1": chunk.text.index(".")}
    record = StoredPassage.from_metadata(StoredPassage.from_chunk(chunk).to_metadata())
    assert record.speaker == "Albert Boelen namens LECSO" and record.story == "Niet zeuren, maar doen!"
    passage = record.to_passage("id", chunk.text)
    assert passage.speaker == "Albert Boelen namens LECSO" and passage.notes == {"1": "Een noot."}
    first = chunk.text[: chunk.text.index(".") + 1]
    assert passage.notes_of(first) == {"1": "Een noot."} and passage.notes_of("Niet in de tekst.") == {}
    again = Passage.from_dict(passage.to_dict())
    assert again == passage
    cited = Citation.from_dict(
        Citation(**{**passage.to_dict(), "rank": 0, "score": 0.0}, n=1, quotes=[first]).to_dict()
    )
    assert cited.speaker == passage.speaker and cited.note_at == passage.note_at
    # a record of an older index has none of them, and is read as such
    assert StoredPassage.from_metadata({"doc_id": "x"}).speaker == "" and not StoredPassage.from_metadata({}).notes


def test_filter_columns_decide_on_speakers_as_the_metadata_does(corpus_settings):
    from kb.api import get_retriever
    from kb.retrieval.retrieve import Filters

    r = get_retriever(corpus_settings)
    f = Filters(speakers=["CNV Onderwijs", "Dolf van Veen (NCOJ)"])
    mask = f.mask(r.read.filter_columns())
    ids = list(r.read.rows)
    got = r.read.get(ids)
    assert [bool(mask[r.read.rows[i]]) for i in ids] == [f.allows(got[i][1]) for i in ids]
    assert 2 <= int(mask.sum()) < len(ids)
    assert f.where() == {"speaker": {"$in": ["CNV Onderwijs", "Dolf van Veen (NCOJ)"]}}


def test_a_question_that_names_a_speaker_is_answered_from_their_passages(any_corpus_settings):
    from kb.api import get_retriever, search

    hits = search("Wat zegt CNV Onderwijs over werkdruk?", k=5, settings=any_corpus_settings)
    assert hits and hits[0].speaker == "CNV Onderwijs" and hits[0].source == F004
    assert all(h.speaker == "CNV Onderwijs" for h in hits)  # asking what they say: only theirs
    hits = search("knelpunten volgens Van Veen", k=5, settings=any_corpus_settings)
    assert hits and hits[0].source == F002 and hits[0].speaker == "Dolf van Veen (NCOJ)"
    # naming them without asking what they say: their passages gain, the others stay
    r = get_retriever(any_corpus_settings)
    plain = r.search("hoeveel leden heeft de FvOv", k=10)
    assert plain[0].record.speaker == "Marguerite Boersma, bestuurder FvOv"
    # a name no passage is spoken by changes nothing
    assert [h.chunk_id for h in r.search("werkdruk volgens Jansen", k=5)] == [
        h.chunk_id for h in r.search("werkdruk volgens Jansen", k=5, filters={})
    ]
    assert r.named_speakers("werkdruk volgens Jansen") == []


def test_an_answer_to_a_speaker_question_cites_that_speaker(corpus_settings):
    from kb.api import ask

    answer = ask("Wat zegt CNV Onderwijs over werkdruk?", settings=corpus_settings)
    assert answer.citations and all(c.speaker == "CNV Onderwijs" for c in answer.citations)


def test_an_index_of_an_older_chunker_is_redone_by_the_next_ingest(fresh_settings, embedder, tmp_path):
    """A stored record without speakers or notes is not misread: the next ingest redoes it."""
    import json

    from kb.index.indexer import ingest
    from kb.index.layout import active
    from kb.index.store import CHUNKER_VERSION, Store

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "brief.txt").write_text(
        "Een brief over passend onderwijs en de zorgplicht van scholen.\n", encoding="utf-8"
    )
    assert ingest([docs], settings=fresh_settings, embedder=embedder).added == ["brief.txt"]
    manifest = active(fresh_settings).manifest
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["chunker"] = CHUNKER_VERSION - 1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    report = ingest([docs], settings=fresh_settings, embedder=embedder)
    assert report.updated == ["brief.txt"] and not report.unchanged
    assert Store(fresh_settings).manifest["chunker"] == CHUNKER_VERSION
    assert ingest([docs], settings=fresh_settings, embedder=embedder).unchanged == ["brief.txt"]


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        ("Wat zegt de Kinderombudsman over thuiszitters in passend onderwijs?", "Kinderombudsman"),
        ("Wat vindt het LAKS ervan dat leerlingen voor hun begeleiding uit de les worden gehaald?", "LAKS"),
        ("wat zijn volgens de onderwijsraad de stappen naar inclusief onderwijs?", "onderwijsraad"),
    ],
)
def test_a_question_about_someone_the_sources_never_name_says_so_first(corpus_settings, question, absent):
    """Issue 21: "… or says the sources hold nothing from them" — then what other sources say."""
    from kb.api import ask

    answer = ask(question, settings=corpus_settings)
    assert answer.abstained and answer.not_said
    assert f"geen uitspraak van ‘{absent}’" in (answer.not_said + answer.answer)


@pytest.mark.parametrize(
    "question",
    [
        "Hoe ziet Bert Wienen de rol van zorgverleners in de klas?",  # no speaker of the index, named in his story
        "Wat moet er volgens de onderwijsinspectie gebeuren voordat de samenwerking met jeugdzorg beter wordt?",
        "met welke groepen leerlingen zijn er volgens Marja van Leeuwen nog knelpunten?",
        "Wat raadt Ingrado scholen aan om thuiszitten te voorkomen?",  # named once, in a reading tip
        "wat zegt het onderzoek over thuiszitters?",
    ],
)
def test_nobody_the_sources_name_is_said_to_be_absent(corpus_settings, question):
    from kb.api import ask

    answer = ask(question, settings=corpus_settings)
    assert "geen uitspraak van" not in answer.answer


@pytest.mark.parametrize(
    ("question", "who"),
    [
        ("Wat raadt Ingrado scholen en ouders aan om te voorkomen dat een kind thuis komt te zitten?", "Ingrado"),
    ],
)
def test_an_answer_not_from_the_named_speaker_says_so(corpus_settings, question, who):
    """Named in the sources, but not in the passages the answer cites: the answer says so first."""
    from kb.api import ask

    answer = ask(question, settings=corpus_settings)
    assert f"‘{who}’ komt in de geciteerde passages niet zelf aan het woord" in (answer.notice or "")


def test_an_answer_from_the_named_speaker_has_no_such_warning(corpus_settings):
    from kb.api import ask

    answer = ask(
        "wat is belangrijker volgens de IB'er van De Sprong: de behandelkamer of het klaslokaal?",
        settings=corpus_settings,
    )
    assert "aan het woord" not in (answer.notice or "")
    assert "klaslokaal veel belangrijker" in answer.answer
