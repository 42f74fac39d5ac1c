"""Documents that app users add: saved under ``KB_HOME/uploads`` and ingested.

A name is made safe (no path, no leading dot); a file whose name is already used by
another document in the index is refused; a file that fails to ingest is removed
again, and every file gets a Dutch message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kb.config import Settings


@dataclass
class UploadResult:
    name: str
    ok: bool
    message: str  # Dutch, for the user


def safe_name(name: str) -> str:
    return re.sub(r"[^\w.\- ]", "_", Path(name).name).lstrip(".") or "document"


def add_files(files: list[tuple[str, bytes]], settings: Settings, progress=None, embedder=None) -> list[UploadResult]:
    """Save ``(name, content)`` pairs under ``KB_HOME/uploads`` and ingest them."""
    from kb.api import documents, ingest

    folder = settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    known = documents(settings)
    out: list[UploadResult] = []
    paths: list[Path] = []
    for name, data in files:
        name = safe_name(name)
        path = folder / name
        if name in known and Path(known[name].path).resolve() != path.resolve():
            out.append(
                UploadResult(
                    name,
                    False,
                    f"`{name}` is niet toegevoegd: er staat al een document met deze "
                    "bestandsnaam in de kennisbank; geef het bestand een andere naam",
                )
            )
            continue
        path.write_bytes(data)
        paths.append(path)
    if paths:
        report = ingest(paths, settings=settings, progress=progress, embedder=embedder)
        for failed, reason in report.failed + report.skipped:
            out.append(UploadResult(Path(failed).name, False, f"`{Path(failed).name}` is niet toegevoegd: {reason}"))
            Path(failed).unlink(missing_ok=True)
        out += [UploadResult(n, True, f"`{n}` is toegevoegd en doorzoekbaar.") for n in report.added + report.updated]
        out += [UploadResult(n, True, f"`{n}` stond al in de kennisbank.") for n in report.unchanged]
    return sorted(out, key=lambda r: r.ok)
