"""``kb doctor`` finds and repairs what a killed run leaves; ``kb forget`` removes conversations."""

from __future__ import annotations

import contextlib

from click.testing import CliRunner

from kb import api
from kb.cli import main as cli
from kb.index.layout import active
from kb.index.store import Store

PINGUIN = "# Notities\n\nDe pinguinregeling geeft elke leerling een vaste contactpersoon op school.\n"


def test_doctor_finds_what_a_killed_run_leaves_and_repairs_it(fresh_settings, embedder, tmp_path, monkeypatch):
    from kb.index.doctor import check

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
    from kb.index.doctor import check

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


def test_an_upload_cut_off_mid_ingest_is_reported_by_doctor_and_finished_by_repair(
    fresh_settings, embedder, tmp_path, monkeypatch
):
    """What a tab switch did to an upload in the app: Streamlit stops the script run by raising
    its StopException (a BaseException) in the next drawing call, here the progress bar. The
    file was saved in uploads/ and never indexed; doctor must say so and --repair finish it."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from kb.index.doctor import check, unindexed_uploads
    from kb.uploads import add_files

    (tmp_path / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "pinguin.txt"], settings=fresh_settings, embedder=embedder)

    def cut_off(stage, done, total, label):
        if stage == "chunks":
            raise StopException()

    text = "# Walrus\n\nDe walrusaanpak laat elke leerling op vrijdag zelf het weekrooster kiezen.\n"
    with contextlib.suppress(StopException):
        add_files([("walrus.txt", text.encode())], fresh_settings, progress=cut_off, embedder=embedder)
    assert (fresh_settings.home / "uploads" / "walrus.txt").is_file()
    assert "walrus.txt" not in api.documents(fresh_settings)
    assert [p.name for p in unindexed_uploads(fresh_settings)] == ["walrus.txt"]

    monkeypatch.setenv("KB_HOME", str(fresh_settings.home))
    found = CliRunner().invoke(cli, ["doctor"])
    assert found.exit_code == 1
    assert "opgeslagen maar niet geïndexeerd" in found.output and "walrus.txt" in found.output

    repaired = CliRunner().invoke(cli, ["doctor", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert check(fresh_settings).findings == []
    assert api.search("walrusaanpak weekrooster", settings=fresh_settings)[0].source == "walrus.txt"
