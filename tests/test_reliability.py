"""Nothing lost, nothing hung, nothing leaked: the defects of issue 9, each as a test.

Every test here failed on the code before the fix (round 1) and uses the real model,
real Chroma and real files. The ones that start processes are marked ``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import api
from kb.cli import main as cli
from kb.cli import terminal_safe
from kb.config import PROJECT_ROOT
from kb.layout import active, write_lock
from kb.store import Store
from kb.uploads import add_files

PINGUIN = "# Notities\n\nDe pinguinregeling geeft elke leerling een vaste contactpersoon op school.\n"
ZEBRA = "# Zebra\n\nHet zebraprotocol regelt dat ouders binnen twee weken een gesprek krijgen.\n"


def _texts(results) -> str:
    return " ".join(p.text for p in results)


# --- 1. a file name that starts with "_" ------------------------------------------------------


def test_a_document_whose_name_starts_with_an_underscore_stays_in_the_index(fresh_settings, embedder, tmp_path):
    folder = tmp_path / "u"
    folder.mkdir()
    (folder / "_notities.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([folder], settings=fresh_settings, embedder=embedder)
    second = api.ingest([folder], settings=fresh_settings, embedder=embedder)

    assert second.unchanged == ["_notities.txt"]
    found = api.search("pinguinregeling", settings=fresh_settings)
    assert found and found[0].source == "_notities.txt"
    assert "_notities.txt" in api.documents(fresh_settings)


# --- 2. one writer at a time -------------------------------------------------------------------


def test_a_second_writer_waits_and_then_stops_with_a_message(fresh_settings):
    from kb.layout import IndexBusyError

    script = (
        "import sys, time; from kb.config import Settings; from kb.layout import write_lock\n"
        "with write_lock(Settings.from_env(home=sys.argv[1])):\n"
        "    print('held', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(fresh_settings.home)], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        said: list[str] = []
        start = time.monotonic()
        with (
            pytest.raises(IndexBusyError, match="ander proces"),
            write_lock(fresh_settings, wait=1.0, on_wait=said.append),
        ):
            pass
        assert 0.9 < time.monotonic() - start < 10
        assert said and "wachten" in said[0]
    finally:
        holder.kill()
        holder.wait()
    with write_lock(fresh_settings, wait=5.0):  # free again once the other process is gone
        pass


@pytest.mark.slow
def test_two_ingests_at_once_lose_nothing(tmp_path):
    home = tmp_path / "kbhome"
    folders = []
    for name, text in (("a", PINGUIN), ("b", ZEBRA)):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(6):
            (folder / f"{name}{i}.txt").write_text(text + f"\nDeel {i} van map {name}.\n" * 3, encoding="utf-8")
        folders.append(folder)
    env = {**os.environ, "KB_HOME": str(home)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "kb.cli", "ingest", str(f)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for f in folders
    ]
    outputs = [r.communicate(timeout=600)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs

    from kb.config import Settings

    store = Store(Settings.from_env(home=home))
    assert len(store.documents()) == 12
    assert sorted(store.owned_ids()) == sorted(store.collection().get(include=[])["ids"])
    again = subprocess.run(
        [sys.executable, "-m", "kb.cli", "ingest", str(folders[0]), str(folders[1])],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "12 ongewijzigd" in again.stdout and "verwijderd" not in again.stdout, again.stdout


# --- 3. a full disk stops the ingest, and the index stays readable --------------------------------

_FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG, like a full disk
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from kb.cli import main
sys.argv = ["kb", "ingest", sys.argv[2]]
main()
"""


@pytest.mark.slow
def test_a_full_disk_stops_the_ingest_within_seconds_and_keeps_what_was_there(tmp_path, embedder):
    from kb.config import Settings

    home = tmp_path / "kbhome"
    settings = Settings.from_env(home=home)
    first = tmp_path / "eerst"
    first.mkdir()
    (first / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([first], settings=settings, embedder=embedder)

    big = tmp_path / "groot"
    big.mkdir()
    body = "\n\n".join(
        f"## Deel {i}\n\nHet zebraprotocol deel {i} regelt gesprekken met ouders en school. " * 4 for i in range(400)
    )
    (big / "groot.txt").write_text(body, encoding="utf-8")
    env = {**os.environ, "KB_HOME": str(home), "KB_WRITE_TIMEOUT": "5"}
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(2_000_000), str(big)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    took = time.monotonic() - start
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    assert "schijf" in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
    assert took < 120, took

    found = api.search("pinguinregeling", settings=settings)
    assert found and found[0].source == "pinguin.txt", "the earlier document is still there and readable"
    assert set(api.documents(settings)) == {"pinguin.txt"}


# --- 4. a rebuild builds beside the old index; readers ignore chunks no document owns -------------


def test_a_failed_rebuild_leaves_the_old_index_in_use(fresh_settings, embedder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([folder], settings=fresh_settings, embedder=embedder)
    before = active(fresh_settings)

    class DiesHalfway:
        name = embedder.name

        def __getattr__(self, attr):
            return getattr(embedder, attr)

        def embed_passages_with_spans(self, *args, **kwargs):
            raise KeyboardInterrupt  # like a kill in the middle of embedding

    with pytest.raises(KeyboardInterrupt):
        api.ingest([folder], settings=fresh_settings, embedder=DiesHalfway(), rebuild=True)

    assert active(fresh_settings) == before
    found = api.search("pinguinregeling", settings=fresh_settings)
    assert found and found[0].source == "pinguin.txt"
    assert [p.name for p in fresh_settings.home.iterdir() if p.name.startswith("index")] == [before.root.name]


def test_a_rebuild_swaps_in_the_new_index_and_keeps_the_documents(fresh_settings, embedder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    other = tmp_path / "zebra.txt"
    other.write_text(ZEBRA, encoding="utf-8")
    api.ingest([folder, other], settings=fresh_settings, embedder=embedder)
    before = active(fresh_settings)

    report = api.ingest([folder], settings=fresh_settings, embedder=embedder, rebuild=True)
    assert report.ok and sorted(report.added) == ["pinguin.txt", "zebra.txt"]
    assert active(fresh_settings) != before and not before.root.exists()
    assert api.search("zebraprotocol", settings=fresh_settings)[0].source == "zebra.txt"


def test_chunks_that_no_document_owns_are_never_served(fresh_settings, embedder, tmp_path):
    (tmp_path / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "pinguin.txt"], settings=fresh_settings, embedder=embedder)
    # what a kill in the middle of a write leaves: chunks in Chroma that the manifest does not list
    text = "Het zebraprotocol regelt dat ouders binnen twee weken een gesprek krijgen."
    Store(fresh_settings).collection().upsert(
        ids=["wees::0"],
        embeddings=[embedder.embed_passages([text])[0].tolist()],
        documents=[text],
        metadatas=[{"doc_id": "wees.txt", "source": "wees.txt", "title": "wees"}],
    )
    api.forget_retrievers()
    found = api.search("zebraprotocol gesprek ouders", settings=fresh_settings)
    assert all(p.source != "wees.txt" for p in found)
    answer = api.ask("Wat regelt het zebraprotocol?", settings=fresh_settings)
    assert all(c.source != "wees.txt" for c in answer.citations)


# --- 5. a failed re-upload never touches the earlier upload ----------------------------------------


def test_a_failed_reupload_keeps_the_earlier_upload(fresh_settings, embedder):
    ok = add_files([("notities.txt", PINGUIN.encode())], fresh_settings, embedder=embedder)
    assert [r.ok for r in ok] == [True]
    bad = add_files([("notities.txt", bytes(range(256)) * 8)], fresh_settings, embedder=embedder)
    assert [r.ok for r in bad] == [False] and "binair" in bad[0].message

    kept = fresh_settings.home / "uploads" / "notities.txt"
    assert kept.read_text(encoding="utf-8") == PINGUIN
    api.ingest([fresh_settings.home / "uploads"], settings=fresh_settings, embedder=embedder, prune=True)
    assert "notities.txt" in api.documents(fresh_settings)
    assert not list((fresh_settings.home / "uploads").glob(".nieuw/*"))


def test_an_upload_is_checked_by_content_and_size(fresh_settings, embedder):
    fake = add_files(
        [("rapport.pdf", b"Dit is gewoon tekst met een verkeerde extensie. " * 20)], fresh_settings, embedder=embedder
    )
    assert not fake[0].ok and "geen PDF" in fake[0].message
    small = _with(fresh_settings, max_file_mb=0.001)
    big = add_files([("groot.txt", PINGUIN.encode() * 100)], small, embedder=embedder)
    assert not big[0].ok and "te groot" in big[0].message and "KB_MAX_FILE_MB" in big[0].message
    assert not (fresh_settings.home / "uploads" / "groot.txt").exists()


def _with(settings, **changes):
    import dataclasses

    return dataclasses.replace(settings, **changes)


# --- smaller ------------------------------------------------------------------------------------


def test_names_that_look_alike_keep_their_own_stored_copy(fresh_settings, embedder, tmp_path):
    (tmp_path / "rapport 2020.txt").write_text(PINGUIN, encoding="utf-8")
    (tmp_path / "rapport_2020.txt").write_text(ZEBRA, encoding="utf-8")
    api.ingest([tmp_path], settings=fresh_settings, embedder=embedder)
    first = " ".join(b["text"] for b in api.document_blocks("rapport 2020.txt", fresh_settings))
    second = " ".join(b["text"] for b in api.document_blocks("rapport_2020.txt", fresh_settings))
    assert "pinguinregeling" in first and "zebraprotocol" not in first
    assert "zebraprotocol" in second and "pinguinregeling" not in second


def test_escape_sequences_from_documents_never_reach_the_terminal(tmp_path, monkeypatch):
    hostile = (
        "# Links\n\nDe pinguinregeling staat op \x1b]8;;https://example.invalid\x1b\\deze pagina\x1b]8;;\x1b\\ "
        "en \x1b[31mrood\x1b[0m gemaakt, met een bel\x07 erbij.\n"
    )
    (tmp_path / "links.txt").write_text(hostile, encoding="utf-8")
    monkeypatch.setenv("KB_HOME", str(tmp_path / "kbhome"))
    assert CliRunner().invoke(cli, ["ingest", str(tmp_path / "links.txt")]).exit_code == 0
    for command in (
        ["search", "pinguinregeling"],
        ["ask", "Waar staat de pinguinregeling?"],
        ["search", "pinguinregeling", "--json"],
    ):
        out = CliRunner().invoke(cli, command).output
        assert "pinguinregeling" in out or command[0] == "ask"
        assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert terminal_safe("a\x1b]8;;http://x\x07b\x1b]8;;\x07c\x1b[2Jd") == "abcd"


@pytest.mark.parametrize(
    "encoding, data",
    [
        ("latin-1", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("latin-1")),
        ("cp1252", "De leerling wordt geëvalueerd – “één” gesprek voor ouders.".encode("cp1252")),
        ("utf-8-sig", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("utf-8-sig")),
        ("utf-16", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("utf-16")),
        ("utf-16-le", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("utf-16-le")),
    ],
)
def test_text_in_any_common_encoding_is_read(tmp_path, encoding, data):
    from ingest.loaders import load_file

    path = tmp_path / "tekst.txt"
    path.write_bytes(data)
    text = load_file(path).pages[0].text
    assert "geëvalueerd" in text and "één" in text, (encoding, text)


def test_a_file_over_the_size_limit_is_refused_with_the_setting_named(fresh_settings, embedder, tmp_path):
    big = tmp_path / "groot.txt"
    big.write_text(PINGUIN * 20_000, encoding="utf-8")  # about 1.8 MB
    report = api.ingest([big], settings=_with(fresh_settings, max_file_mb=1.0), embedder=embedder)
    assert not report.ok and "KB_MAX_FILE_MB" in report.failed[0][1]


def test_a_damaged_manifest_gives_a_message_not_a_traceback(fresh_settings, embedder, tmp_path, monkeypatch):
    (tmp_path / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "pinguin.txt"], settings=fresh_settings, embedder=embedder)
    active(fresh_settings).manifest.write_text("{niet af", encoding="utf-8")
    monkeypatch.setenv("KB_HOME", str(fresh_settings.home))
    result = CliRunner().invoke(cli, ["search", "pinguinregeling"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "beschadigd" in result.output and "kb ingest --rebuild" in result.output


def test_a_manifest_of_the_first_layout_is_read(fresh_settings, embedder, tmp_path):
    (tmp_path / "_pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "_pinguin.txt"], settings=fresh_settings, embedder=embedder)
    path = active(fresh_settings).manifest
    data = json.loads(path.read_text(encoding="utf-8"))
    old = {"_model": data["model"], **data["documents"]}  # round 1 kept documents and "_" keys side by side
    path.write_text(json.dumps(old), encoding="utf-8")
    assert set(Store(fresh_settings).documents()) == {"_pinguin.txt"}


def test_the_default_settings_make_no_network_connection(corpus_settings, embedder, monkeypatch):
    import socket

    calls: list = []
    real = socket.socket.connect

    def traced(sock, address):
        calls.append(address)
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", traced)
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda address, *a, **k: (
            calls.append(address) or (_ for _ in ()).throw(OSError("network blocked in this test"))
        ),
    )
    answer = api.ask("Wat is de zorgplicht?", settings=corpus_settings)
    assert answer.citations
    api.search("ontwikkelingsperspectief", settings=corpus_settings)
    outside = [
        a
        for a in calls
        if not (isinstance(a, tuple) and str(a[0]) in ("127.0.0.1", "::1", "localhost")) and not isinstance(a, str)
    ]
    assert outside == []


def test_paths_of_the_index_do_not_depend_on_file_names(fresh_settings):
    from kb.store import doc_file

    assert doc_file("rapport 2020.txt") != doc_file("rapport_2020.txt")
    assert Path(doc_file("../../etc/passwd")).name == doc_file("../../etc/passwd")


# --- kb doctor and kb forget ------------------------------------------------------------------


def test_doctor_finds_what_a_killed_run_leaves_and_repairs_it(fresh_settings, embedder, tmp_path, monkeypatch):
    from kb.doctor import check

    (tmp_path / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "pinguin.txt"], settings=fresh_settings, embedder=embedder)
    assert check(fresh_settings).findings == []

    text = "Een passage die geen document bezit."
    Store(fresh_settings).collection().upsert(
        ids=["wees::0"],
        embeddings=[embedder.embed_passages([text])[0].tolist()],
        documents=[text],
        metadatas=[{"doc_id": "wees.txt"}],
    )
    (fresh_settings.home / "index-20260101-000000-1").mkdir()  # a rebuild that was killed
    (active(fresh_settings).root / ".manifest.json.99.tmp").write_text("{", encoding="utf-8")
    monkeypatch.setenv("KB_HOME", str(fresh_settings.home))

    found = CliRunner().invoke(cli, ["doctor"])
    assert found.exit_code == 1
    assert "1 passages zonder document" in found.output and "afgebroken herbouw" in found.output
    assert "tijdelijk" in found.output and "kb doctor --repair" in found.output

    repaired = CliRunner().invoke(cli, ["doctor", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "HERSTELD" in repaired.output
    assert check(fresh_settings).findings == []
    assert Store(fresh_settings).orphans() == []
    assert api.search("pinguinregeling", settings=fresh_settings)[0].source == "pinguin.txt"


def test_doctor_names_a_damaged_database_and_a_foreign_home(fresh_settings, embedder, tmp_path, monkeypatch):
    from kb.doctor import check

    (tmp_path / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "pinguin.txt"], settings=fresh_settings, embedder=embedder)
    database = active(fresh_settings).chroma / "chroma.sqlite3"
    database.write_bytes(database.read_bytes()[:3000])  # truncated
    findings = check(fresh_settings).findings
    assert findings and "beschadigd" in findings[0].problem and findings[0].fix == "kb ingest --rebuild"

    foreign = tmp_path / "iets anders"
    foreign.mkdir()
    (foreign / "foto.jpg").write_bytes(b"\xff\xd8")
    monkeypatch.setenv("KB_HOME", str(foreign))
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "geen map van deze kennisbank" in result.output


def test_forget_and_retention_remove_conversations(fresh_settings):
    import dataclasses
    import sqlite3

    from kb.chats import ChatStore, new_id
    from kb.results import Answer

    store = ChatStore.for_settings(fresh_settings)
    old, recent = new_id(), new_id()
    for conversation in (old, recent):
        store.ensure(conversation)
        turn = store.add_turn(conversation, "Mijn zoon Daan heeft ADHD, wat nu?", Answer(question="x", answer="y"))
        store.save_feedback(turn, score=1, comment="privé")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE conversations SET updated = updated - 40 * 86400 WHERE id = ?", (old,))

    kept = ChatStore.for_settings(dataclasses.replace(fresh_settings, retention_days=30))
    assert kept.turns(old) == [] and len(kept.turns(recent)) == 1
    assert [f["conversation"] for f in kept.feedback()] == [recent]
    assert kept.forget() == 1 and kept.turns(recent) == []
    assert b"Daan" not in store.path.read_bytes()


# --- load ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_twenty_concurrent_users_get_the_answers_one_user_gets(corpus_settings):
    from eval.load import run

    result = run(users=20, n_questions=3, settings=corpus_settings)
    assert result.errors == []
    assert result.differing == []
