"""Server mode (KB_CHROMA_MODE=http) against a real ``chroma run``: shared index, errors, copies.

The ingest/search/ask tests of the other files run in both modes (the ``any_*`` fixtures
of conftest.py); this file holds what only server mode has.
"""

from __future__ import annotations

import time

import pytest
from conftest import server_settings

from kb import api
from kb.config import Settings
from kb.errors import KBError
from kb.index.indexer import ingest
from kb.index.layout import active
from kb.index.store import Store

ZORG = (
    "De zorgplicht houdt in dat het schoolbestuur een passende plek biedt aan elke leerling die extra "
    "ondersteuning nodig heeft. Het bestuur zoekt die plek binnen zes weken."
)
KRAAN = (
    "Het waterschap beheert de kribbenkraan aan de Lekdijk. De kribbenkraan wordt elk voorjaar "
    "geïnspecteerd door de dijkgraaf."
)


def _docs(tmp_path, **files: str):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for name, text in files.items():
        (docs / f"{name}.txt").write_text(text, encoding="utf-8")
    return docs


def test_settings_read_the_server_variables(monkeypatch):
    for k, v in {"CHROMA_MODE": "http", "CHROMA_HOST": "db", "CHROMA_PORT": "9000", "CHROMA_SSL": "ja"}.items():
        monkeypatch.setenv(f"KB_{k}", v)
    monkeypatch.setenv("KB_CHROMA_TOKEN", "geheim")
    s = Settings.from_env()
    assert (s.server, s.chroma_host, s.chroma_port, s.chroma_ssl, s.chroma_token) == (True, "db", 9000, True, "geheim")
    monkeypatch.setenv("KB_CHROMA_MODE", "cloud")
    with pytest.raises(KBError, match="KB_CHROMA_MODE"):
        Settings.from_env()
    monkeypatch.delenv("KB_CHROMA_MODE")
    assert not Settings.from_env().server, "embedded stays the default"


def test_the_cli_says_what_is_wrong_with_a_bad_mode(monkeypatch):
    from click.testing import CliRunner

    from kb.cli import main

    monkeypatch.setenv("KB_CHROMA_MODE", "cloud")
    result = CliRunner().invoke(main, ["search", "opp"])
    assert result.exit_code == 1 and "KB_CHROMA_MODE" in result.output
    assert isinstance(result.exception, SystemExit), "a message, not a traceback"


def test_a_server_that_is_down_gives_a_dutch_message_within_seconds(tmp_path, embedder):
    from eval.services import free_port

    settings = Settings.from_env(home=tmp_path / "kb", chroma_mode="http", chroma_port=free_port())
    for call in (
        lambda: api.search("zorgplicht", settings=settings),
        lambda: api.ask("Wat is de zorgplicht?", settings=settings),
        lambda: ingest([_docs(tmp_path, zorg=ZORG)], settings=settings, embedder=embedder),
    ):
        start = time.monotonic()
        with pytest.raises(KBError) as e:
            call()
        assert time.monotonic() - start < 5
        assert f"127.0.0.1:{settings.chroma_port}" in str(e.value) and "niet bereikbaar" in str(e.value)
        assert "chroma run" in str(e.value)
    from click.testing import CliRunner

    from kb.cli import main

    env = {"KB_HOME": str(settings.home), "KB_CHROMA_MODE": "http", "KB_CHROMA_PORT": str(settings.chroma_port)}
    for args in (["doctor"], ["search", "zorgplicht"], ["ask", "Wat is de zorgplicht?"], ["import"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 1 and "niet bereikbaar" in result.output, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)


def test_a_document_one_process_ingests_is_found_by_another_without_restart(chroma_server, embedder, tmp_path):
    # two KB_HOMEs: two processes (or machines), each with its own BM25 cache and loaded retriever
    a = server_settings(chroma_server, home=tmp_path / "a")
    b = server_settings(chroma_server, home=tmp_path / "b", collection=a.collection)
    assert ingest([_docs(tmp_path, zorg=ZORG)], settings=a, embedder=embedder).ok
    assert api.search("zorgplicht", settings=b)[0].source == "zorg.txt"
    assert not any(p.source == "kraan.txt" for p in api.search("kribbenkraan", settings=b))

    assert ingest([_docs(tmp_path, kraan=KRAAN)], settings=a, embedder=embedder).ok
    hits = api.search("kribbenkraan", settings=b)  # the same process, no restart, no forget_retrievers()
    assert hits and hits[0].source == "kraan.txt"
    answer = api.ask("Wie inspecteert de kribbenkraan?", settings=b)
    assert answer.citations and answer.citations[0].source == "kraan.txt", answer.answer
    assert api.documents(b).keys() == {"zorg.txt", "kraan.txt"}
    assert any("dijkgraaf" in blk["text"] for blk in api.document_blocks("kraan.txt", settings=b))


def test_a_rebuild_makes_a_new_generation_and_drops_the_old_one(chroma_server, embedder, tmp_path):
    from kb.index import remote

    settings = server_settings(chroma_server, home=tmp_path / "kb")
    docs = _docs(tmp_path, zorg=ZORG, kraan=KRAAN)
    assert ingest([docs], settings=settings, embedder=embedder).ok
    first = active(settings).generation
    report = ingest([docs], settings=settings, embedder=embedder, rebuild=True)
    assert report.ok and sorted(report.added) == ["kraan.txt", "zorg.txt"]
    second = active(settings).generation
    assert second != first and remote.generations(settings) == [second]
    assert api.search("kribbenkraan", settings=settings)[0].source == "kraan.txt"


def test_doctor_checks_an_index_in_the_server_and_removes_an_abandoned_rebuild(chroma_server, embedder, tmp_path):
    from kb.index import remote
    from kb.index.doctor import check

    settings = server_settings(chroma_server, home=tmp_path / "kb")
    assert not check(settings).healthy, "no index yet"
    assert ingest([_docs(tmp_path, zorg=ZORG)], settings=settings, embedder=embedder).ok
    result = check(settings)
    assert result.healthy and (result.documents, result.chunks) == (1, len(Store(settings).owned_ids()))
    abandoned = f"{settings.collection}-20260101-000000-1"  # what a killed rebuild leaves behind
    Store(settings, create=True, paths=active(settings).__class__(tmp_path / "x", abandoned)).collection(model="m")
    result = check(settings)
    assert not result.healthy and abandoned in result.findings[0].problem
    assert check(settings, repair=True).healthy and remote.generations(settings) == [active(settings).generation]


def test_an_index_moves_to_the_server_and_back_without_reembedding(chroma_server, embedder, tmp_path):
    from kb.index.transfer import copy_index

    embedded = Settings.from_env(home=tmp_path / "emb")
    assert ingest([_docs(tmp_path, zorg=ZORG, kraan=KRAAN)], settings=embedded, embedder=embedder).ok
    server = server_settings(chroma_server, home=tmp_path / "srv")
    report = copy_index(embedded, server)
    assert (report.documents, report.chunks) == (2, len(Store(embedded).owned_ids()))
    assert api.search("kribbenkraan", settings=server)[0].source == "kraan.txt"
    back = Settings.from_env(home=tmp_path / "terug")
    copy_index(server, back)
    assert Store(back).documents().keys() == Store(embedded).documents().keys()
    assert [p.chunk_id for p in api.search("zorgplicht", settings=back)] == [
        p.chunk_id for p in api.search("zorgplicht", settings=embedded)
    ]


@pytest.mark.slow
def test_killing_the_server_mid_ingest_stops_with_a_message_and_the_next_run_completes(embedder, tmp_path, monkeypatch):
    from eval.services import ChromaServer

    server = ChromaServer(tmp_path / "chroma").start()
    try:
        settings = server_settings(server, home=tmp_path / "kb", chroma_timeout=3.0)
        docs = _docs(tmp_path, **{f"doc{i}": f"{ZORG} Document {i}. {KRAAN}" for i in range(4)})
        writes: list[str] = []
        write_document = Store.write_document

        def write_then_die(self, doc_id, *args, **kwargs):
            writes.append(doc_id)
            if len(writes) == 3:  # two documents are in; the server dies before the third is written
                server.kill()
            return write_document(self, doc_id, *args, **kwargs)

        monkeypatch.setattr(Store, "write_document", write_then_die)
        report = ingest([docs], settings=settings, embedder=embedder)
        monkeypatch.setattr(Store, "write_document", write_document)
        assert report.stopped and not report.ok
        assert f"127.0.0.1:{server.port}" in report.stopped and "niet bereikbaar" in report.stopped
        assert len(report.added) == 2

        server.start()
        again = ingest([docs], settings=settings, embedder=embedder)
        assert again.ok and not again.stopped
        assert sorted(again.added) == ["doc2.txt", "doc3.txt"] and len(again.unchanged) == 2
        store = Store(settings)
        assert not store.orphans() and len(store.documents()) == 4 and not store.lexical_stale()
    finally:
        server.stop()


SEARCHER = """
import json, sys
from kb import api
for line in sys.stdin:
    print(json.dumps([p.source for p in api.search(line.strip())]), flush=True)
"""


@pytest.mark.slow
def test_a_running_process_sees_what_another_process_ingested(chroma_server, embedder, tmp_path):
    """Two real processes: a long-running searcher (as an app process is) and `kb ingest` beside it."""
    import json
    import os
    import subprocess
    import sys

    from conftest import environment

    settings = server_settings(chroma_server, home=tmp_path / "kb")
    assert ingest([_docs(tmp_path, zorg=ZORG)], settings=settings, embedder=embedder).ok
    env = {**os.environ, **environment(settings)}
    searcher = subprocess.Popen(
        [sys.executable, "-c", SEARCHER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:

        def ask_searcher(query: str) -> list[str]:
            assert searcher.stdin and searcher.stdout
            searcher.stdin.write(query + "\n")
            searcher.stdin.flush()
            return json.loads(searcher.stdout.readline())

        assert ask_searcher("zorgplicht")[:1] == ["zorg.txt"]
        assert "kraan.txt" not in ask_searcher("kribbenkraan")
        kraan = tmp_path / "later"
        kraan.mkdir()
        (kraan / "kraan.txt").write_text(KRAAN, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "kb.cli", "ingest", str(kraan)], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        assert ask_searcher("kribbenkraan")[:1] == ["kraan.txt"], "seen without a restart"
    finally:
        searcher.kill()
        searcher.wait(10)


HOLDER = """
import sys, time
from kb.config import Settings
from kb.index.layout import write_lock
with write_lock(Settings.from_env()):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_one_writer_at_a_time_on_a_server_from_any_machine(chroma_server, embedder, tmp_path):
    """Two KB_HOMEs (two machines: no lock file in common) write to one server: the second
    waits for the server's lock, is told who holds it, and gets it once the holder is gone,
    also when the holder was killed without releasing it."""
    import os
    import subprocess
    import sys

    from conftest import environment

    from kb.errors import IndexBusyError
    from kb.index.layout import write_lock

    here = server_settings(chroma_server, home=tmp_path / "here", lock_ttl=2.0)
    there = server_settings(chroma_server, home=tmp_path / "there", collection=here.collection)
    env = {**os.environ, **environment(there), "KB_LOCK_TTL": "2"}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "held"
        said: list[str] = []
        with pytest.raises(IndexBusyError, match=f"pid {holder.pid}") as busy, write_lock(here, 3.0, said.append):
            pass
        assert "Chroma-server" in str(busy.value) and "KB_LOCK_WAIT" in str(busy.value)
        assert said and f"pid {holder.pid}" in said[0], said  # said once, while waiting
        # the holder renews its lock (TTL 2 s): after twice the TTL it is still held
        time.sleep(4)
        with pytest.raises(IndexBusyError), write_lock(here, wait=0):
            pass
        # an ingest from here is refused with the same message, and writes nothing
        with pytest.raises(IndexBusyError):
            ingest([_docs(tmp_path, zorg=ZORG)], settings=replace_wait(here), embedder=embedder)
        holder.kill()  # killed: it never releases the lock
        holder.wait(10)
        t0 = time.monotonic()
        with write_lock(here, wait=15.0):
            taken_after = time.monotonic() - t0
        assert taken_after < 10, "an expired lock is taken over"
    finally:
        holder.kill()
        holder.wait(10)
    # released on leaving: the next writer gets it at once, and the ingest now runs
    with write_lock(there, wait=0):
        pass
    assert ingest([_docs(tmp_path, zorg=ZORG)], settings=here, embedder=embedder).ok
    assert api.search("zorgplicht", settings=there)[0].source == "zorg.txt"


def replace_wait(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, lock_wait=0.5)
