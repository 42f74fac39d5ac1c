"""Documents that app users add: saved under ``KB_HOME/uploads`` and ingested.

A name is made safe (no path, no leading dot, no characters a file system or a link
trips over, not too long) without two names becoming one. An upload never replaces
another document: a file whose name is already used (by an earlier upload, by a
document in the index or by another file of the same batch) is refused, unless it is
that very file again. A file that fails is removed again; every file gets a Dutch
message, and an unexpected error in one file never stops the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import LoadError
from kb.config import Settings
from kb.errors import KBError

log = logging.getLogger(__name__)

#: the longest stored name, in UTF-8 bytes (file systems allow 255; a margin for the staging copy)
MAX_NAME_BYTES = 180
_UNSAFE = re.compile(r"[^\w.\-() ]")


@dataclass
class UploadResult:
    name: str
    ok: bool
    message: str  # Dutch, for the user


def safe_name(name: str) -> str:
    """The name an upload is stored under: its last path part, with characters other than
    letters, digits, ``. - ( )`` and spaces replaced and no leading dot. A name that had to
    be changed or shortened gets a short hash of the name as given, so that two different
    names (``verslag [1].txt``, ``verslag {1}.txt``) never end up as one."""
    given = Path(str(name)).name
    cleaned = _UNSAFE.sub("_", given).lstrip(". ")
    if cleaned == given and 0 < len(cleaned.encode("utf-8")) <= MAX_NAME_BYTES:
        return cleaned
    suffix = Path(cleaned).suffix
    if len(suffix) > 12 or not suffix[1:].replace("_", "").isalnum():
        suffix = ""
    stem = (cleaned[: -len(suffix)] if suffix else cleaned).rstrip(". ") or "document"
    tag = "-" + hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    room = MAX_NAME_BYTES - len((tag + suffix).encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(". ") or "document"
    return stem + tag + suffix


def _refused(name: str, reason: str) -> UploadResult:
    return UploadResult(name, False, f"‘{name}’ is niet toegevoegd: {reason}")


def add_files(files: list[tuple[str, bytes]], settings: Settings, progress=None, embedder=None) -> list[UploadResult]:
    """Save ``(name, content)`` pairs under ``KB_HOME/uploads`` and ingest them.

    Each file is first written beside the uploads and checked (type by content, size,
    pages, passages, text); only a file that passes is moved into ``uploads/``, and only
    under a name nothing else uses. Files that end up not indexed are removed again.
    Never raises for what a file holds: every outcome is a result with a Dutch message.
    """
    from kb.index.layout import write_lock

    try:
        with write_lock(settings, on_wait=(lambda m: progress("wait", 0, 0, m)) if progress else None):
            out = _add(files, settings, progress, embedder)
    except KBError as e:  # another writer did not finish in time, a server that went away
        out = [UploadResult("", False, f"De bestanden zijn niet toegevoegd: {e}")]
    return sorted(out, key=lambda r: r.ok)


def _add(files: list[tuple[str, bytes]], settings: Settings, progress, embedder) -> list[UploadResult]:
    from kb.api import documents, ingest
    from kb.index.indexer import prepare
    from kb.index.store import NoIndexError

    folder = settings.home / "uploads"
    staging = folder / ".nieuw"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        known = documents(settings)
    except NoIndexError:
        known = {}
    # every name in use, case-insensitively (a file system may not tell "A.txt" from "a.txt")
    taken = {n.casefold() for n in known} | {p.name.casefold() for p in folder.iterdir() if p.is_file()}
    out: list[UploadResult] = []
    placed: list[Path] = []  # moved into uploads/ by this call: removed again unless indexed
    again: list[Path] = []  # the same file as an earlier upload: ingested, never touched
    batch: set[str] = set()
    for raw_name, data in files:
        name = safe_name(raw_name)
        path = folder / name
        staged = staging / name
        try:
            if name.casefold() in batch:
                out.append(
                    _refused(name, "er zit al een bestand met deze naam in deze upload; geef het een andere naam")
                )
                continue
            batch.add(name.casefold())
            if name.casefold() in taken:
                if path.is_file() and _same_bytes(path, data):
                    again.append(path)  # this very file again: nothing to replace
                    continue
                out.append(
                    _refused(
                        name,
                        "er staat al een document met deze bestandsnaam in de kennisbank, en dat wordt niet "
                        "vervangen; geef het bestand een andere naam en voeg het opnieuw toe",
                    )
                )
                continue
            staged.write_bytes(data)
            prepare(staged, settings)  # loads, checks and cleans it; the index is not touched
            os.replace(staged, path)
            placed.append(path)
            taken.add(name.casefold())
        except LoadError as e:
            out.append(_refused(name, e.reason))
        except OSError as e:
            out.append(
                _refused(
                    name,
                    f"het bestand kon niet worden opgeslagen ({e.strerror or type(e).__name__}); "
                    "maak ruimte vrij of geef het een kortere naam, en probeer het opnieuw",
                )
            )
        except Exception as e:  # a file that trips over something unforeseen must not stop the others
            log.exception("upload %s failed", name)
            out.append(_refused(name, f"onverwachte fout bij het verwerken ({type(e).__name__})"))
        finally:
            _remove(staged)
    if not (placed or again):
        return out
    try:
        report = ingest(placed + again, settings=settings, progress=progress, embedder=embedder)
    except Exception as e:  # the index could not be written at all: nothing of this batch stays
        log.exception("ingest of uploads failed")
        reason = str(e) if isinstance(e, KBError) else f"onverwachte fout bij het indexeren ({type(e).__name__})"
        for path in placed:
            _remove(path)
        return out + [_refused(p.name, reason) for p in placed + again]
    indexed = set(report.added + report.updated + report.unchanged)
    for failed, reason in report.failed + report.skipped:
        out.append(_refused(Path(failed).name, reason))
    for path in placed:
        if path.name not in indexed:
            _remove(path)  # never saved-but-not-indexed
    if report.stopped and not report.failed:
        out.append(UploadResult("", False, report.stopped))
    out += [UploadResult(n, True, f"‘{n}’ is toegevoegd en doorzoekbaar.") for n in report.added + report.updated]
    out += [UploadResult(n, True, f"‘{n}’ stond al in de kennisbank.") for n in report.unchanged]
    return out


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
