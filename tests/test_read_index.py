"""The read index (what queries open instead of Chroma) and the ingest pipeline that
prepares the next files while the encoder runs; on the real corpus and a real index."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

import kb.index.preparing as preparing
from kb import api
from kb.config import Settings
from kb.index.indexer import IngestReport, discover, ingest
from kb.index.readindex import ReadIndex, read_stamp, stored_stamp
from kb.index.records import StoredPassage
from kb.index.store import Store, get_all
from kb.retrieval.retrieve import Retriever
from tests.conftest import CORPUS


def test_the_read_index_holds_what_chroma_holds(corpus_settings):
    store = Store(corpus_settings)
    read = store.read_index()
    got = get_all(store.collection(), include=["documents", "metadatas", "embeddings"], ids=store.owned_ids())
    assert read.count() == len(got["ids"]) == len(store.owned_ids()) > 150
    assert stored_stamp(store.paths.read) == read_stamp(store.documents())
    rows = read.get(got["ids"])
    for cid, text, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
        assert rows[cid] == (text, StoredPassage.from_metadata(meta))
        assert StoredPassage.from_metadata(meta).to_metadata() == meta  # the codec round-trips
        np.testing.assert_array_equal(read.vectors[read.rows[cid]], np.asarray(vec, dtype=np.float32))


def test_dense_search_ranks_as_chroma_does(corpus_settings, embedder):
    """Exact search on the read index gives Chroma's top 10 (its HNSW graph is exact at this size)."""
    retriever = api.get_retriever(corpus_settings)
    for question in ("Wat is een OPP?", "thuiszitters", "Hoe worden de middelen verdeeld?", "zorgplicht"):
        q = embedder.embed_query(question)
        ours = retriever.read.nearest(q, 10)
        res = retriever.collection.query(query_embeddings=[q.tolist()], n_results=10, include=["distances"])
        assert [c for c, _ in ours] == res["ids"][0], question
        np.testing.assert_allclose([s for _, s in ours], 1 - np.array(res["distances"][0]), atol=1e-5)


def test_filters_apply_to_the_dense_side_too(corpus_settings):
    retriever = api.get_retriever(corpus_settings)
    columns = retriever.read.filter_columns()
    types = set(columns.types)
    assert len(types) > 1
    wanted = sorted(types)[0]
    hits = retriever.search("Wat is een OPP?", k=10, filters={"doc_types": [wanted]}, mode="dense")
    assert hits and {h.record.doc_type for h in hits} == {wanted}
    allowed = int((columns.table["type"] == columns.types.index(wanted)).sum())
    assert len(retriever.dense("Wat is een OPP?", 500, retriever_filters(wanted))) == allowed


def test_filter_columns_decide_as_the_metadata_does(corpus_settings):
    """Every filter kind, alone and combined, over every passage of the corpus: the columns
    give the same rows as checking each passage's metadata."""
    from kb.retrieval.retrieve import Filters

    retriever = api.get_retriever(corpus_settings)
    read = retriever.read
    ids = read.ids_of(list(range(read.count())))
    metas = read.get(ids.values())
    docs = sorted({m.doc_id for _, m in metas.values()})
    years = sorted({m.year for _, m in metas.values()})
    cases = [
        Filters(docs=docs[:2]),
        Filters(docs=["geen-document.pdf"]),
        Filters(doc_types=["onderzoeksrapport", "handreiking"]),
        Filters(year_from=years[1]),
        Filters(year_to=years[-2]),
        Filters(years=years[:1]),
        Filters(sectors=["vo"]),
        Filters(sectors=["po", "mbo"]),
        Filters(docs=docs, sectors=["vo"], year_from=years[0], year_to=years[-1]),
    ]
    for f in cases:
        expected = [f.allows(metas[ids[r]][1]) for r in range(read.count())]
        assert retriever._allowed_rows(f).tolist() == expected, f
    assert any(any(retriever._allowed_rows(f)) for f in cases) and not all(
        all(retriever._allowed_rows(f)) for f in cases
    )


def test_documents_come_from_the_read_index_without_chunk_ids(corpus_settings):
    store = api.get_retriever(corpus_settings).store
    listed = api.documents(corpus_settings)
    assert set(listed) == set(store.documents())
    for doc_id, entry in store.documents().items():
        assert listed[doc_id].passages == len(entry["chunk_ids"]) > 0


def retriever_filters(doc_type: str):
    from kb.retrieval.retrieve import Filters

    return Filters(doc_types=[doc_type])


def test_a_missing_or_stale_read_index_is_rebuilt(fresh_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("De zorgplicht geldt voor het schoolbestuur.", encoding="utf-8")
    ingest([docs], settings=fresh_settings, embedder=embedder)
    paths = Store(fresh_settings).paths
    shutil.rmtree(paths.read)  # as an index of an earlier version
    hits = Retriever(fresh_settings, embedder=embedder).search("zorgplicht", k=3)
    assert hits and hits[0].record.doc_id == "a.txt"
    assert paths.read.exists()
    (docs / "b.txt").write_text("Het samenwerkingsverband verdeelt de middelen.", encoding="utf-8")
    ingest([docs], settings=fresh_settings, embedder=embedder)
    store = Store(fresh_settings)
    assert not store.read_stale() and ReadIndex(paths.read).count() == len(store.owned_ids()) == 2


def test_a_rebuild_in_pages_gives_the_same_indexes_with_the_same_rows(corpus_settings, tmp_path, monkeypatch):
    """The derived indexes are rebuilt a page at a time (a million chunks never sit in memory);
    BM25 and the read index share their row order, so search maps BM25 rows to ids through
    the read index and no process loads every id."""
    import kb.index.store as store_module

    copy = tmp_path / "kb"
    shutil.copytree(corpus_settings.home, copy)
    settings = Settings.from_env(home=copy, corpus_dir=corpus_settings.corpus_dir)
    before = Retriever(settings)
    expected = {q: [(h.chunk_id, round(h.score, 6)) for h in before.search(q, k=10)] for q in QUESTIONS}
    store = Store(settings)
    monkeypatch.setattr(store_module, "REBUILD_PAGE", 7)
    pages: list[tuple[int, int]] = []
    store.rebuild_lexical(progress=lambda done, total: pages.append((done, total)))
    n = len(store.owned_ids())
    assert len(pages) == -(-n // 7) and pages[-1] == (n, n)
    after = Retriever(settings)
    assert after.aligned and after.lexical.count == after.read.count() == n
    assert isinstance(after.lexical.retriever.scores["data"], np.memmap)  # shared pages, not a copy
    for q in QUESTIONS:
        assert [(h.chunk_id, round(h.score, 6)) for h in after.search(q, k=10)] == expected[q], q
    assert after.lexical._ids is None  # searching never loaded the ids
    assert after.lexical.ids == [after.read.ids_of([r])[r] for r in range(n)]


def test_a_chunk_missing_from_chroma_leaves_a_smaller_read_index(corpus_settings, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(corpus_settings.home, copy)
    settings = Settings.from_env(home=copy, corpus_dir=corpus_settings.corpus_dir)
    store = Store(settings)
    gone = store.owned_ids()[3]
    store.collection().delete(ids=[gone])
    store.rebuild_lexical()
    read = ReadIndex(store.paths.read)
    assert read.count() == len(store.owned_ids()) - 1 == read.vectors.shape[0] == store.lexical().count
    assert gone not in read.rows and gone not in store.lexical().ids


QUESTIONS = ("Wat is een OPP?", "thuiszitters", "Hoe worden de middelen verdeeld?", "zorgplicht schoolbestuur")


# ----------------------------------------------------------------------------- the pipeline


def _files(tmp_path):
    files = discover([CORPUS], IngestReport())
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "leeg.txt").write_text("   \n", encoding="utf-8")  # nothing left after cleaning
    (extra / files[0].name).write_text("Zelfde naam als een corpusbestand.", encoding="utf-8")
    return [*files, extra / "leeg.txt", extra / files[0].name]


def test_read_ahead_gives_the_outcomes_in_order_prepared_in_the_background(tmp_path, monkeypatch):
    files, settings = _files(tmp_path), Settings.from_env()
    threads: list[str] = []
    real = preparing.prepare

    def watched(path, s, on_step=None):
        threads.append(threading.current_thread().name)
        return real(path, s, on_step)

    monkeypatch.setattr(preparing, "prepare", watched)
    ahead = [(o.index, o.path, o.unchanged, o.failed, o.prepared) for o in preparing.prepared(files, {}, settings)]
    threads_ahead, threads[:] = list(threads), []
    inline = [(o.index, o.path, o.unchanged, o.failed, o.prepared) for o in preparing.outcomes(files, {}, settings)]
    assert ahead == inline and [a[0] for a in ahead] == list(range(len(files)))
    assert set(threads_ahead) == {"kb-prepare"} and set(threads) == {threading.current_thread().name}
    assert "leeg" in ahead[-2][3] and "dezelfde naam" in ahead[-1][3]
    assert all(a[4] is not None for a in ahead[:-2])


def test_read_ahead_is_bounded_and_stops_when_closed(tmp_path, monkeypatch):
    files, settings = _files(tmp_path)[:5], Settings.from_env()
    started: list[int] = []
    real = preparing.prepare
    monkeypatch.setattr(preparing, "prepare", lambda path, s, on_step=None: started.append(1) or real(path, s, on_step))
    stream = preparing.prepared(files, {}, settings, ahead=1)
    first = next(stream)
    assert first.index == 0 and first.prepared is not None and started
    # the consumer holds file 0: at most one waits in the queue and one more is being prepared
    seen_before = len(started)
    assert seen_before <= 3
    stream.close()
    assert not any(t.name == "kb-prepare" and t.is_alive() for t in threading.enumerate())
    assert len(started) <= 3 < len(files)


def test_the_model_loads_only_when_a_file_changed(corpus_settings, monkeypatch):
    import kb.encoder.embedding as embedding

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded for an index that is up to date")

    monkeypatch.setattr(embedding, "load_embedder", no_model)
    monkeypatch.setattr(embedding, "warm_up", no_model)
    report = ingest(settings=corpus_settings)
    assert report.ok and len(report.unchanged) == 5 and report.chunks == 0


@pytest.mark.parametrize("stage", ["files", "chunks"])
def test_ingest_reports_progress_from_the_callers_thread(fresh_settings, embedder, tmp_path, stage):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"d{i}.txt").write_text(f"Document {i} over de zorgplicht van het schoolbestuur.", encoding="utf-8")
    calls: list[tuple] = []

    def progress(*args) -> None:
        calls.append((*args, threading.current_thread().name))

    ingest([docs], settings=fresh_settings, embedder=embedder, progress=progress)
    mine = [c for c in calls if c[0] == stage]
    assert mine and {c[4] for c in calls} == {threading.current_thread().name}  # never the background thread
    assert mine[-1][1] == mine[-1][2] == 3  # three files, one passage each


def test_ingest_progress_moves_batch_by_batch_within_one_encoder_call(fresh_settings, embedder, tmp_path):
    # two small documents of the corpus (26 passages) go to the encoder in one call;
    # the bar must not sit still until that call ends
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("002_0c56365852a53764.txt", "003_99f945db3d15438d.txt"):
        shutil.copy(CORPUS / name, docs / name)
    seen: list[tuple[int, int]] = []

    def progress(stage: str, done: int, total: int, _name: str) -> None:
        if stage == "chunks":
            seen.append((done, total))

    assert ingest([docs], settings=fresh_settings, embedder=embedder, progress=progress).ok
    total = seen[-1][1]
    assert total > 2 * embedder.batch_size and seen[-1][0] == total
    between = sorted({done for done, _ in seen if 0 < done < total})
    assert len(between) >= total // embedder.batch_size - 1, seen
