"""Writes to the index that end: a failure or a stall becomes a Dutch :class:`WriteError`.

A full disk can make a Chroma write hang for ever; :func:`guarded` runs the write in a
thread and gives up after ``KB_WRITE_TIMEOUT`` seconds. :func:`check_space` stops before
a document that clearly does not fit, and :func:`atomic_write_json` never leaves half a
file.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from ingest.types import Chunk
from kb.config import Settings
from kb.errors import KBError
from kb.index.remote import describe, unreachable

SPACE_HINT = (
    "Maak schijfruimte vrij (of kies met KB_HOME een andere plek) en voer kb ingest opnieuw uit; "
    "wat al in de index stond, blijft."
)


class WriteError(KBError):
    """Writing to the index failed or stalled; the index is as it was before this document.

    ``stalled``: the write hung and is still running in its thread (it cannot be cancelled).
    """

    def __init__(self, message: str, stalled: bool = False):
        super().__init__(message)
        self.stalled = stalled


def atomic_write_json(path: Path, data) -> None:
    """Write JSON to a temporary file beside ``path``, flush it to disk, then swap it in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def guarded(settings: Settings, root: Path, remote: bool, doc_id: str, call, **kwargs) -> Any:
    """Run one write ``call(**kwargs)``; a failure or a stall becomes a WriteError that says what to do."""
    done = threading.Event()
    failure: list[BaseException] = []
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(call(**kwargs))
        except BaseException as e:
            failure.append(e)
        finally:
            done.set()

    worker = threading.Thread(target=run, name="kb-write", daemon=True)
    worker.start()
    if not done.wait(settings.write_timeout):
        if remote:
            raise WriteError(
                f"Het schrijven van {doc_id} naar de Chroma-server staat al {settings.write_timeout:.0f} s "
                f"stil. {unreachable(settings, 'geen antwoord')}",
                stalled=True,
            )
        raise WriteError(
            f"Het schrijven van {doc_id} naar de index staat al {settings.write_timeout:.0f} s stil; "
            f"waarschijnlijk is de schijf vol of geblokkeerd ({root}). {SPACE_HINT}",
            stalled=True,
        )
    if failure:
        e = failure[0]
        if remote:
            raise WriteError(
                f"Het schrijven van {doc_id} naar de Chroma-server is mislukt. {unreachable(settings, describe(e))}"
            ) from e
        full = "full" in str(e).lower() or "no space" in str(e).lower() or "disk" in str(e).lower()
        reason = "de schijf is vol" if full else f"{type(e).__name__}: {str(e)[:160]}"
        raise WriteError(f"Het schrijven van {doc_id} naar de index is mislukt: {reason}. {SPACE_HINT}") from e
    return result[0] if result else None


def check_space(root: Path, doc_id: str, chunks: list[Chunk]) -> None:
    """Stop before writing when the disk clearly has no room for the document."""
    need = 2_000_000 + sum(len(c.text) * 4 + 12_000 for c in chunks)
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        return
    if free < need:
        raise WriteError(
            f"Er is te weinig schijfruimte om {doc_id} toe te voegen: {free // 1_000_000} MB vrij, "
            f"ongeveer {need // 1_000_000 + 1} MB nodig. {SPACE_HINT}"
        )


def write_json(doc_id: str, path: Path, data) -> None:
    """:func:`atomic_write_json`, with a WriteError that names the file and the document."""
    try:
        atomic_write_json(path, data)
    except OSError as e:
        raise WriteError(
            f"{path.name} kon niet worden geschreven voor {doc_id}: {e.strerror or e}. {SPACE_HINT}"
        ) from e
