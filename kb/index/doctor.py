"""``kb doctor``: check an index on disk and say what is wrong and which command repairs it.

Checks: the ``KB_HOME`` layout and its ``CURRENT`` pointer, the manifest, the Chroma
database file (SQLite ``quick_check``), manifest vs Chroma (chunks no document owns,
chunks a document misses), the BM25 index, the embedding model and chunker version,
and what an interrupted run leaves behind (index folders of a killed rebuild,
temporary files, half-saved uploads, and uploads saved but never indexed: an app whose
upload was cut off, a process that died). ``repair=True`` fixes what is safe to fix under
the write lock (it indexes such uploads); for the rest it names the command.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from kb.config import Settings
from kb.errors import KBError
from kb.index.layout import POINTER, active, exists, write_lock

REBUILD = "kb ingest --rebuild"


@dataclass
class Finding:
    """One problem: what is wrong (Dutch), the command that repairs it, and whether it was repaired."""

    problem: str
    fix: str
    repaired: bool = False


@dataclass
class Checkup:
    home: Path
    index: Path
    documents: int = 0
    chunks: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(f.repaired for f in self.findings)


def check(settings: Settings | None = None, repair: bool = False) -> Checkup:
    """Check the index under ``KB_HOME``; with ``repair`` fix what is safe to fix."""
    settings = settings or Settings.from_env()
    if repair:
        with write_lock(settings):
            return _check(settings, True)
    return _check(settings, False)


def _check(settings: Settings, repair: bool) -> Checkup:
    from kb.index.store import CHUNKER_VERSION, Store

    home = settings.home
    paths = active(settings)
    result = Checkup(home, paths.root)
    found = result.findings.append
    if paths.remote:
        if not _server_layout(settings, paths, repair, found):
            return result
    elif not _folder_layout(settings, paths, repair, found):
        return result
    try:
        store = Store(settings)
        owned = set(store.owned_ids())
        present = set(store.collection().get(include=[])["ids"]) if owned or store.documents() else set()
    except KBError as e:
        found(Finding(str(e), REBUILD))
        return result
    except Exception as e:  # a foreign or damaged folder: say so, never a traceback
        found(
            Finding(f"De index in {paths.root} kan niet worden gelezen ({type(e).__name__}: {str(e)[:160]}).", REBUILD)
        )
        return result
    result.documents, result.chunks = len(store.documents()), len(owned)

    if store.model and store.model != settings.embed_model:
        found(
            Finding(
                f"De index is gebouwd met het model '{store.model}', ingesteld is '{settings.embed_model}'.", REBUILD
            )
        )
    wanted = _encoder(settings)
    if store.model == settings.embed_model and wanted and store.encoder and store.encoder != wanted:
        found(Finding(f"De index is gemaakt met de encoder '{store.encoder}', ingesteld is '{wanted}'.", REBUILD))
    if store.manifest.get("chunker") != CHUNKER_VERSION:
        found(
            Finding(
                f"De index is gemaakt met een oudere versie van het opschonen en opdelen "
                f"({store.manifest.get('chunker')}, nu {CHUNKER_VERSION}).",
                REBUILD,
            )
        )
    orphans, missing = present - owned, owned - present
    if orphans or missing:
        finding = Finding(
            f"Manifest en Chroma lopen uiteen: {len(orphans)} passages zonder document, "
            f"{len(missing)} passages van documenten ontbreken.",
            "kb doctor --repair  (daarna kb ingest voor de documenten die opnieuw moeten)",
        )
        if repair:
            store.reconcile()
            finding.repaired = True
        found(finding)
    if not paths.remote and store.lexical_stale():  # in a server these are per-process caches
        finding = Finding(
            "De zoekindex (BM25 of de leesindex voor vragen) hoort niet bij de passages in de index.",
            "kb doctor --repair",
        )
        if repair:
            store.rebuild_lexical()
            finding.repaired = True
        found(finding)
    waiting = unindexed_uploads(settings, store)
    if waiting:
        finding = Finding(
            f"{len(waiting)} geüpload(e) bestand(en) opgeslagen maar niet geïndexeerd (bv. {waiting[0].name}); "
            "ze zijn nog niet doorzoekbaar.",
            "kb doctor --repair",
        )
        if repair:
            failed = finish_uploads(settings, waiting)
            finding.repaired = not failed
            if failed:
                name, reason = failed[0]
                finding.problem += f" Toevoegen lukte niet voor {len(failed)} bestand(en), bv. {name}: {reason}"
                finding.fix = f"verwijder het bestand uit {settings.home / 'uploads'} en voeg het opnieuw toe"
        found(finding)
    gone = [d for d, e in store.documents().items() if e.get("path") and not Path(e["path"]).exists()]
    if gone:
        found(
            Finding(
                f"{len(gone)} document(en) staan in de index maar hun bestand bestaat niet meer "
                f"(bv. {gone[0]}); ze blijven doorzoekbaar.",
                "kb ingest <map> --prune  (om ze te verwijderen)",
                repaired=True,
            )
        )
    return result


def unindexed_uploads(settings: Settings, store=None) -> list[Path]:
    """Files in ``KB_HOME/uploads`` that no document of the index comes from: an upload that
    was saved and then cut off (a closed tab, a rerun, a killed process) before it was indexed."""
    from kb.index.store import NoIndexError, Store

    folder = settings.home / "uploads"
    if not folder.is_dir():
        return []
    try:
        store = store or Store(settings)
        indexed = {str(Path(e["path"]).resolve()) for e in store.documents().values() if e.get("path")}
    except NoIndexError:
        indexed = set()
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and str(p.resolve()) not in indexed
    )


def finish_uploads(settings: Settings, paths: list[Path], progress=None, embedder=None) -> list[tuple[str, str]]:
    """Index uploads that were saved but not indexed; the ``(name, reason)`` of those that fail.
    The caller holds the write lock (or this takes it)."""
    from kb.index.indexer import ingest

    with write_lock(settings):
        report = ingest(list(paths), settings=settings, progress=progress, embedder=embedder)
    return [(Path(p).name, reason) for p, reason in report.failed + report.skipped]


def _folder_layout(settings: Settings, paths, repair: bool, found) -> bool:
    """The checks of an index folder under KB_HOME; False when there is nothing more to check."""
    home = settings.home
    if not home.exists():
        found(Finding(f"{home} bestaat niet: er is nog geen kennisbank.", "kb ingest"))
        return False
    pointer = home / POINTER
    if pointer.exists() and not paths.root.is_dir():
        found(Finding(f"{pointer} verwijst naar {paths.root.name}, maar die map bestaat niet.", REBUILD))
        return False
    if not paths.manifest.exists():
        if any(home.iterdir()) and not (home / "uploads").exists() and not paths.chroma.exists():
            found(
                Finding(
                    f"{home} lijkt geen map van deze kennisbank (geen manifest, geen index). Kies met "
                    "KB_HOME een eigen, lege map.",
                    "KB_HOME=<lege map> kb ingest",
                )
            )
        else:
            found(Finding("Er is nog geen index.", "kb ingest"))
        return False

    _leftovers(settings, paths.root, repair, found)
    database = paths.chroma / "chroma.sqlite3"
    damaged = _database_problem(database)
    if damaged:
        found(Finding(f"Het databasebestand {database} is beschadigd ({damaged}).", REBUILD))
        return False
    return True


def _server_layout(settings: Settings, paths, repair: bool, found) -> bool:
    """The checks of an index in a Chroma server; False when there is nothing more to check."""
    from kb.index import remote

    if not exists(settings, paths):
        found(Finding(f"Er is nog geen index in de Chroma-server op {remote.address(settings)}.", "kb ingest"))
        return False
    others = [g for g in remote.generations(settings) if g != paths.generation]
    if others:
        finding = Finding(
            f"{len(others)} collectie(s) van een afgebroken herbouw (bv. {others[0]}).", "kb doctor --repair"
        )
        if repair:
            for generation in others:
                remote.drop_generation(settings, generation)
            finding.repaired = True
        found(finding)
    return True


def _database_problem(database: Path) -> str:
    if not database.exists():
        return "het bestand ontbreekt"
    try:
        with open(database, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return "geen SQLite-bestand"
        con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except (OSError, sqlite3.Error) as e:
        return str(e)
    return "" if row and row[0] == "ok" else str(row[0] if row else "onbekend")


def _leftovers(settings: Settings, current: Path, repair: bool, found) -> None:
    home = settings.home
    folders = [p for p in home.glob("index-*") if p.is_dir() and p.resolve() != current.resolve()]
    temps = [p for p in home.rglob(".*.tmp") if p.is_file()]
    staged = [p for p in (home / "uploads" / ".nieuw").glob("*") if p.is_file()]
    for what, items in (
        ("map(pen) van een afgebroken herbouw", folders),
        ("tijdelijk(e) bestand(en) van een afgebroken schrijfactie", temps),
        ("half opgeslagen upload(s)", staged),
    ):
        if not items:
            continue
        finding = Finding(f"{len(items)} {what} (bv. {items[0].name}).", "kb doctor --repair")
        if repair:
            for item in items:
                if item.is_dir():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
            finding.repaired = True
        found(finding)


def _encoder(settings: Settings) -> str | None:
    """The encoder the settings ask for, as the index records it (None when KB_ENCODER is invalid)."""
    from kb.encoder.embedding import EmbeddingModelError, recorded_encoder

    try:
        return recorded_encoder(settings)
    except EmbeddingModelError:
        return None
