"""Ingest: chunk metadata, PDF page numbers, incremental updates, bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import CORPUS, write_pdf

from kb.cli import main as cli
from kb.config import Settings
from kb.index.indexer import ingest
from kb.index.store import ModelMismatchError, Store
from kb.retrieval.retrieve import Retriever

ZORG = (
    "Scholen hebben een zorgplicht. Als een leerling extra ondersteuning nodig heeft, "
    "moet de school een passende plek bieden of zoeken, samen met het samenwerkingsverband."
)
OPP = (
    "Het ontwikkelingsperspectief beschrijft welke onderwijsdoelen een leerling kan halen "
    "en welke ondersteuning daarvoor nodig is. Ouders hebben instemmingsrecht op het handelingsdeel."
)
JEUGD = (
    "De samenwerking tussen onderwijs en jeugdhulp vraagt om korte lijnen en vaste contactpersonen "
    "op school, zodat hulp snel kan worden ingezet."
)


def _chunks(settings):
    got = Store(settings).collection().get(include=["documents", "metadatas"])
    return list(zip(got["ids"], got["documents"], got["metadatas"]))


# --- the bundled corpus --------------------------------------------------------------


def test_corpus_chunks_carry_rich_metadata(corpus_settings):
    chunks = _chunks(corpus_settings)
    assert len(chunks) > 100
    docs = {m["doc_id"] for _, _, m in chunks}
    assert docs == {p.name for p in CORPUS.glob("*.txt")}
    for _cid, text, m in chunks:
        assert text.strip()
        assert not m["title"].endswith(".txt"), "citations show titles, never file names"
        assert m["year"] in (2016, 2020)
        assert m["doc_type"] in (
            "onderzoeksrapport",
            "samenvatting",
            "praktijkvoorbeelden",
            "handreiking",
            "presentatie",
        )
        assert m["header"].startswith(m["short_title"])
        assert isinstance(m["position"], int)
    # positions are the order within each document
    for doc in docs:
        positions = sorted(m["position"] for _, _, m in chunks if m["doc_id"] == doc)
        assert positions == list(range(len(positions)))
    # sections come from the headings
    sections = {m["section"] for _, _, m in chunks if m["doc_id"].startswith("001")}
    assert any("Verevening" in s for s in sections)


def test_the_seven_uitgangspunten_stay_in_one_chunk(corpus_settings):
    texts = [t for _, t, m in _chunks(corpus_settings) if m["doc_id"].startswith("003")]
    items = [
        "De ondersteuningsbehoefte is leidend",
        "De leerling wordt gehoord",
        "De leraar wordt ondersteund en toegerust",
        "De ouder is gelijkwaardig partner",
        "dekkend netwerk van voorzieningen",
        "transparantie en verantwoording over ondersteuningsmiddelen",
        "acceptabele administratie",
    ]
    holding = [t for t in texts if all(i.lower() in t.lower() for i in items)]
    assert len(holding) == 1, "all seven uitgangspunten must be in one passage"


def test_second_ingest_of_corpus_changes_nothing(corpus_settings, embedder):
    before = Store(corpus_settings).collection().count()
    report = ingest(settings=corpus_settings, embedder=embedder)
    assert report.ok and not report.added and not report.updated
    assert len(report.unchanged) == 5 and report.chunks == 0
    assert report.total_chunks == before


# --- PDFs ------------------------------------------------------------------------------


def test_pdf_pages_are_kept_for_citations(fresh_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_pdf(docs / "handreiking.pdf", [ZORG, OPP, JEUGD])
    report = ingest([docs], settings=fresh_settings, embedder=embedder)
    assert report.ok and report.added == ["handreiking.pdf"]
    pages = {m["page"] for _, t, m in _chunks(fresh_settings)}
    assert pages == {1, 2, 3}
    hits = Retriever(fresh_settings, embedder=embedder).search("wat staat er in het ontwikkelingsperspectief", k=1)
    assert hits[0].record.page == 2
    assert "ontwikkelingsperspectief" in hits[0].text


def test_pdf_metadata_gives_the_title(fresh_settings, embedder, tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Handreiking thuiszitters")
    pdf.set_author("Samenwerkingsverband Test")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, ZORG)
    path = tmp_path / "x1.pdf"
    pdf.output(str(path))
    ingest([path], settings=fresh_settings, embedder=embedder)
    ((_, _, meta),) = _chunks(fresh_settings)
    assert meta["title"] == "Handreiking thuiszitters"


# --- incremental ---------------------------------------------------------------------------


def test_incremental_ingest_skips_replaces_and_prunes(any_fresh_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zorgplicht.txt").write_text(ZORG, encoding="utf-8")
    (docs / "opp.md").write_text("# Het OPP\n\n" + OPP, encoding="utf-8")

    first = ingest([docs], settings=any_fresh_settings, embedder=embedder)
    assert sorted(first.added) == ["opp.md", "zorgplicht.txt"] and first.ok
    ids_opp = {c for c, _, m in _chunks(any_fresh_settings) if m["doc_id"] == "opp.md"}

    again = ingest([docs], settings=any_fresh_settings, embedder=embedder)
    assert sorted(again.unchanged) == ["opp.md", "zorgplicht.txt"]
    assert again.chunks == 0 and not again.added and not again.updated

    (docs / "zorgplicht.txt").write_text(JEUGD, encoding="utf-8")
    changed = ingest([docs], settings=any_fresh_settings, embedder=embedder)
    assert changed.updated == ["zorgplicht.txt"] and changed.unchanged == ["opp.md"]
    texts = " ".join(t for _, t, m in _chunks(any_fresh_settings) if m["doc_id"] == "zorgplicht.txt")
    assert "jeugdhulp" in texts and "zorgplicht" not in texts, "the old version is replaced"
    assert {c for c, _, m in _chunks(any_fresh_settings) if m["doc_id"] == "opp.md"} == ids_opp

    (docs / "opp.md").unlink()
    kept = ingest([docs], settings=any_fresh_settings, embedder=embedder)
    assert not kept.removed and "opp.md" in Store(any_fresh_settings).documents()
    pruned = ingest([docs], settings=any_fresh_settings, embedder=embedder, prune=True)
    assert pruned.removed == ["opp.md"]
    assert {m["doc_id"] for _, _, m in _chunks(any_fresh_settings)} == {"zorgplicht.txt"}
    # the lexical index follows the collection
    hits = Retriever(any_fresh_settings, embedder=embedder).search("instemmingsrecht handelingsdeel", mode="bm25")
    assert all(h.record.doc_id != "opp.md" for h in hits)


def test_other_file_types_are_skipped_with_a_message(fresh_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(ZORG, encoding="utf-8")
    (docs / "plaatje.png").write_bytes(b"\x89PNG\r\n")
    report = ingest([docs], settings=fresh_settings, embedder=embedder)
    assert report.ok and report.added == ["a.txt"]
    assert [(p.endswith("plaatje.png"), "niet ondersteund" in r) for p, r in report.skipped] == [(True, True)]


# --- bad input ----------------------------------------------------------------------------------


def _bad_files(folder):
    folder.mkdir(exist_ok=True)
    write_pdf(folder / "goed.pdf", [ZORG])
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nxref garbage\n%%EOF")
    write_pdf(folder / "geheim.pdf", [OPP], owner_password="eigenaar", user_password="geheim")
    scan = folder / "scan.pdf"
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 150, style="F")  # a page with only graphics, like a scan
    pdf.output(str(scan))
    (folder / "leeg.txt").write_bytes(b"")
    (folder / "binair.txt").write_bytes(bytes(range(256)) * 8)
    return {
        "kapot.pdf": "beschadigd",
        "geheim.pdf": "versleuteld",
        "scan.pdf": "geen tekstlaag",
        "leeg.txt": "leeg",
        "binair.txt": "binair",
    }


def test_bad_files_are_reported_and_the_rest_is_indexed(fresh_settings, embedder, tmp_path):
    existing = tmp_path / "bestaand.txt"
    existing.write_text(JEUGD, encoding="utf-8")
    ingest([existing], settings=fresh_settings, embedder=embedder)
    before = Store(fresh_settings).collection().count()

    expected = _bad_files(tmp_path / "docs")
    report = ingest([tmp_path / "docs"], settings=fresh_settings, embedder=embedder)

    assert not report.ok
    failed = {p.rsplit("/", 1)[-1]: reason for p, reason in report.failed}
    assert set(failed) == set(expected)
    for name, word in expected.items():
        assert word.lower() in failed[name].lower(), (name, failed[name])
    assert report.added == ["goed.pdf"]
    docs = {m["doc_id"] for _, _, m in _chunks(fresh_settings)}
    assert docs == {"bestaand.txt", "goed.pdf"}, "no half documents, nothing lost"
    assert Store(fresh_settings).collection().count() > before


def test_cli_exit_code_is_nonzero_when_a_file_fails(tmp_path, monkeypatch):
    expected = _bad_files(tmp_path / "docs")
    monkeypatch.setenv("KB_HOME", str(tmp_path / "kbhome"))
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "docs")])
    assert result.exit_code == 1
    for name in expected:
        assert name in result.output
    assert "1 nieuw" in result.output

    found = CliRunner().invoke(cli, ["search", "zorgplicht passende plek", "--json", "-k", "3"])
    assert found.exit_code == 0, found.output
    data = json.loads(found.output)
    assert data["query"] == "zorgplicht passende plek"
    assert data["results"][0]["source"] == "goed.pdf"
    assert set(data["results"][0]) >= {"rank", "score", "source", "title", "page", "section", "text", "chunk_id"}


def test_a_failure_while_writing_leaves_no_half_document(fresh_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "eerst.txt").write_text(ZORG, encoding="utf-8")
    ingest([docs], settings=fresh_settings, embedder=embedder)

    long_doc = "\n\n".join(f"Paragraaf {i}. " + OPP * 3 for i in range(40))
    (docs / "lang.txt").write_text(long_doc, encoding="utf-8")

    class FailsHalfway:
        name = embedder.name
        calls = 0

        def embed_passages(self, texts, show_progress=False):
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("schijf vol")
            return embedder.embed_passages(texts)

    from dataclasses import replace

    small_batches = replace(fresh_settings, batch_size=1)  # embed a few chunks per call
    report = ingest([docs], settings=small_batches, embedder=FailsHalfway())
    assert not report.ok and "lang.txt" in report.failed[0][0]
    assert {m["doc_id"] for _, _, m in _chunks(fresh_settings)} == {"eerst.txt"}
    assert "lang.txt" not in Store(fresh_settings).documents()


def test_index_remembers_its_model(fresh_settings, embedder, tmp_path):
    (tmp_path / "a.txt").write_text(ZORG, encoding="utf-8")
    ingest([tmp_path / "a.txt"], settings=fresh_settings, embedder=embedder)
    store = Store(fresh_settings)
    assert store.model == embedder.name
    with pytest.raises(ModelMismatchError, match="kb ingest --rebuild"):
        store.check_model("intfloat/multilingual-e5-large")


def test_search_without_index_says_to_run_ingest(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_HOME", str(tmp_path / "nergens"))
    result = CliRunner().invoke(cli, ["search", "zorgplicht"])
    assert result.exit_code != 0
    assert "kb ingest" in result.output
    shutil.rmtree(tmp_path / "nergens", ignore_errors=True)


def test_a_big_file_shows_its_cleaning_and_a_pasted_repeat_is_kept_once(tmp_path, monkeypatch):
    from ingest.clean import PIPELINE

    docs = tmp_path / "docs"
    docs.mkdir()
    paragraph = "De leerling krijgt extra ondersteuning op school, zo staat het in het plan.\n\n"
    (docs / "geplakt.txt").write_text("# Plan\n\n" + paragraph * 14_000 + ZORG + "\n", encoding="utf-8")
    assert (docs / "geplakt.txt").stat().st_size > 1_000_000
    monkeypatch.setenv("KB_HOME", str(tmp_path / "kbhome"))
    result = CliRunner().invoke(cli, ["ingest", str(docs)])
    assert result.exit_code == 0, result.output
    assert "Opschonen" in result.output and f"/{len(PIPELINE)} [" in result.output

    texts = [doc for _, doc, _ in _chunks(Settings.from_env())]
    assert sum(t.count("De leerling krijgt extra ondersteuning op school") for t in texts) == 1
    assert any("zorgplicht" in t for t in texts)


def test_a_model_warm_up_started_from_the_ingest_thread_is_waited_for_at_exit(embedder, monkeypatch):
    # The ingest's kb-prepare thread (a daemon) starts the warm-up. A daemon warm-up thread that
    # is still loading when the interpreter ends aborts the process, so the process must wait for it.
    import threading

    import kb.encoder.embedding as embedding

    monkeypatch.setattr(embedding, "_cache", {})  # not loaded yet in this "process"
    started: list[threading.Thread] = []

    def prepare_thread() -> None:
        before = set(threading.enumerate())
        embedding.warm_up(Settings.from_env())
        started.extend(t for t in threading.enumerate() if t not in before and t.name == "kb-embedder")

    daemon = threading.Thread(target=prepare_thread, daemon=True)
    daemon.start()
    daemon.join()
    assert started, "warm_up started no thread"
    assert not started[0].daemon
    started[0].join(timeout=120)
    assert embedding.model_name(Settings.from_env()) in {e.name for e in embedding._cache.values()}
