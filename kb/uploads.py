"""Documents that app users add: saved under ``KB_HOME/uploads`` and ingested.

A name is made safe (no path, no leading dot); a file whose name is already used by
another document in the index is refused; a file that fails is removed again and an
earlier upload of the same name stays; every file gets a Dutch message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import LoadError
from kb.config import Settings


@dataclass
class UploadResult:
    name: str
    ok: bool
    message: str  # Dutch, for the user


def safe_name(name: str) -> str:
    return re.sub(r"[^\w.\- ]", "_", Path(name).name).lstrip(".") or "document"


def add_files(files: list[tuple[str, bytes]], settings: Settings, progress=None, embedder=None) -> list[UploadResult]:
    """Save ``(name, content)`` pairs under ``KB_HOME/uploads`` and ingest them.

    Each file is first written beside the uploads and checked (type by content, size,
    text); only a file that passes replaces an earlier upload of the same name, and if
    indexing it fails after all, the earlier file is put back.
    """
    from kb.api import documents, ingest
    from kb.index.indexer import prepare
    from kb.index.layout import write_lock
    from kb.index.store import NoIndexError

    folder = settings.home / "uploads"
    staging = folder / ".nieuw"
    out: list[UploadResult] = []
    with write_lock(settings, on_wait=(lambda m: progress("wait", 0, 0, m)) if progress else None):
        staging.mkdir(parents=True, exist_ok=True)
        try:
            known = documents(settings)
        except NoIndexError:
            known = {}
        placed: dict[Path, Path | None] = {}  # final path -> backup of the earlier upload (or None)
        for raw_name, data in files:
            name = safe_name(raw_name)
            path = folder / name
            if name in known and Path(known[name].path).resolve() != path.resolve():
                out.append(
                    UploadResult(
                        name,
                        False,
                        f"`{name}` is niet toegevoegd: er staat al een document met "
                        "deze bestandsnaam in de kennisbank; geef het bestand een andere naam",
                    )
                )
                continue
            staged = staging / name
            try:
                staged.write_bytes(data)
                prepare(staged, settings)  # loads, checks and cleans it; the index is not touched
            except LoadError as e:
                staged.unlink(missing_ok=True)
                out.append(UploadResult(name, False, f"`{name}` is niet toegevoegd: {e.reason}"))
                continue
            except OSError as e:
                staged.unlink(missing_ok=True)
                out.append(
                    UploadResult(
                        name,
                        False,
                        f"`{name}` is niet toegevoegd: het bestand kon niet worden "
                        f"opgeslagen ({e.strerror or e}); maak ruimte vrij en probeer het opnieuw",
                    )
                )
                continue
            backup = None
            if path.exists():
                backup = staging / f"{name}.vorige"
                os.replace(path, backup)
            os.replace(staged, path)
            placed[path] = backup
        if placed:
            report = ingest(list(placed), settings=settings, progress=progress, embedder=embedder)
            for failed, reason in report.failed + report.skipped:
                out.append(
                    UploadResult(Path(failed).name, False, f"`{Path(failed).name}` is niet toegevoegd: {reason}")
                )
                backup = placed.get(Path(failed))
                if backup is not None:
                    os.replace(backup, failed)  # the earlier upload, which the index still holds
                else:
                    Path(failed).unlink(missing_ok=True)
            for backup in placed.values():
                if backup is not None:
                    backup.unlink(missing_ok=True)
            if report.stopped and not report.failed:
                out.append(UploadResult("", False, report.stopped))
            out += [
                UploadResult(n, True, f"`{n}` is toegevoegd en doorzoekbaar.") for n in report.added + report.updated
            ]
            out += [UploadResult(n, True, f"`{n}` stond al in de kennisbank.") for n in report.unchanged]
    return sorted(out, key=lambda r: r.ok)
