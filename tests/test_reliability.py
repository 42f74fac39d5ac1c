"""Nothing lost, nothing hung, nothing leaked: the defects of issue 9, each as a test.

Every test here failed on the code before the fix (round 1) and uses the real model,
real Chroma and real files. The ones that start processes are marked ``slow``. Input from
outside is tested in ``test_untrusted_input.py``, ``kb doctor`` in ``test_doctor.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from kb import api
from kb.config import PROJECT_ROOT
from kb.index.layout import active, write_lock
from kb.index.store import Store

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
    from kb.index.layout import IndexBusyError

    script = (
        "import sys, time; from kb.config import Settings; from kb.index.layout import write_lock\n"
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


def test_a_failed_rebuild_leaves_the_old_index_in_use(any_fresh_settings, embedder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([folder], settings=any_fresh_settings, embedder=embedder)
    before = active(any_fresh_settings)

    class DiesHalfway:
        name = embedder.name

        def __getattr__(self, attr):
            return getattr(embedder, attr)

        def embed_passages_with_spans(self, *args, **kwargs):
            raise KeyboardInterrupt  # like a kill in the middle of embedding

    with pytest.raises(KeyboardInterrupt):
        api.ingest([folder], settings=any_fresh_settings, embedder=DiesHalfway(), rebuild=True)

    assert active(any_fresh_settings) == before
    found = api.search("pinguinregeling", settings=any_fresh_settings)
    assert found and found[0].source == "pinguin.txt"
    if any_fresh_settings.server:  # the abandoned generation's collections are gone from the server
        from kb.index.remote import generations

        assert generations(any_fresh_settings) == [before.generation]
    else:
        assert [p.name for p in any_fresh_settings.home.iterdir() if p.name.startswith("index")] == [before.root.name]


def test_a_rebuild_swaps_in_the_new_index_and_keeps_the_documents(any_fresh_settings, embedder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    other = tmp_path / "zebra.txt"
    other.write_text(ZEBRA, encoding="utf-8")
    api.ingest([folder, other], settings=any_fresh_settings, embedder=embedder)
    before = active(any_fresh_settings)

    report = api.ingest([folder], settings=any_fresh_settings, embedder=embedder, rebuild=True)
    assert report.ok and sorted(report.added) == ["pinguin.txt", "zebra.txt"]
    assert active(any_fresh_settings) != before and not before.root.exists()
    assert api.search("zebraprotocol", settings=any_fresh_settings)[0].source == "zebra.txt"


def test_chunks_that_no_document_owns_are_never_served(any_fresh_settings, embedder, tmp_path):
    (tmp_path / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "pinguin.txt"], settings=any_fresh_settings, embedder=embedder)
    # what a kill in the middle of a write leaves: chunks in Chroma that the manifest does not list
    text = "Het zebraprotocol regelt dat ouders binnen twee weken een gesprek krijgen."
    Store(any_fresh_settings).collection().upsert(
        ids=["wees::0"],
        embeddings=[embedder.embed_passages([text])[0].tolist()],
        documents=[text],
        metadatas=[{"doc_id": "wees.txt", "source": "wees.txt", "title": "wees"}],
    )
    api.forget_retrievers()
    found = api.search("zebraprotocol gesprek ouders", settings=any_fresh_settings)
    assert all(p.source != "wees.txt" for p in found)
    answer = api.ask("Wat regelt het zebraprotocol?", settings=any_fresh_settings)
    assert all(c.source != "wees.txt" for c in answer.citations)


# --- load ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_twenty_concurrent_users_get_the_answers_one_user_gets(corpus_settings):
    from eval.load import run

    result = run(users=20, n_questions=3, settings=corpus_settings)
    assert result.errors == []
    assert result.differing == []


# --- conversations: kept as long as allowed, no longer; never all deleted by mistake (issue 23) ---


def _old(store, conversation: str, days: float) -> None:
    """Make a conversation look as if nobody used it for ``days`` days."""
    import sqlite3

    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time() - days * 86400, conversation))


def test_the_retention_period_holds_for_a_store_that_lives_as_long_as_the_app(tmp_path):
    from kb.chats import ChatStore, new_id
    from kb.config import Settings
    from kb.results import Answer

    store = ChatStore.for_settings(Settings.from_env(home=tmp_path / "kb", retention_days=30))
    kept, expired = new_id(), new_id()
    for conversation in (kept, expired):
        turn = store.add_turn(conversation, "Wat is een opp?", Answer(question="Wat is een opp?", answer="Een plan."))
        store.save_feedback(turn, score=1)
    _old(store, kept, 29)
    _old(store, expired, 31)  # expires while the app (and its one store) keeps running
    assert store.turns(expired) == [] and store.history(expired) == []
    assert [t["question"] for t in store.turns(kept)] == ["Wat is een opp?"]
    assert [r["conversation"] for r in store.feedback()] == [kept]


def test_a_conversation_keeps_its_last_turns(tmp_path):
    from kb.chats import MAX_TURNS, ChatStore, new_id
    from kb.results import Answer

    store = ChatStore(tmp_path / "gesprekken.sqlite3")
    conversation = new_id()
    for i in range(MAX_TURNS + 5):
        store.add_turn(conversation, f"vraag {i}", Answer(question=f"vraag {i}", answer="antwoord"))
    turns = store.turns(conversation)
    assert len(turns) == MAX_TURNS == 200
    assert turns[0]["question"] == "vraag 5" and turns[-1]["question"] == f"vraag {MAX_TURNS + 4}"


@pytest.mark.parametrize("days", ["0", "-1", "0.5", "nan"])
def test_forget_older_than_less_than_a_day_deletes_nothing(tmp_path, days):
    from click.testing import CliRunner

    from kb.chats import ChatStore, new_id
    from kb.cli import main
    from kb.results import Answer

    store = ChatStore(tmp_path / "gesprekken.sqlite3")
    conversation = new_id()
    store.add_turn(conversation, "Wat is een opp?", Answer(question="Wat is een opp?", answer="Een plan."))
    run = CliRunner().invoke(main, ["forget", "--older-than", days], env={"KB_HOME": str(tmp_path)})
    assert run.exit_code != 0 and "minstens 1" in run.output, run.output
    assert len(store.turns(conversation)) == 1, "nothing was deleted"
    run = CliRunner().invoke(main, ["forget", "--older-than", "1"], env={"KB_HOME": str(tmp_path)})
    assert run.exit_code == 0 and "0 gesprek(ken) gewist" in run.output
    assert len(store.turns(conversation)) == 1
