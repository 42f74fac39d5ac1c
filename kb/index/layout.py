"""Where the index lives under ``KB_HOME``, and the lock that lets one writer at a time in.

Layout::

    KB_HOME/
      CURRENT            the name of the active index folder (written atomically)
      index-<stamp>/     one complete index:
        chroma/          Chroma PersistentClient (cosine space, embeddings passed in)
        manifest.json    {"format": 2, "model": …, "chunker": …, "documents": {id: entry}}
        lexical/         BM25 index derived from the documents' chunks
        read/            the same chunks for queries: vectors and rows that open without Chroma
        docs/            per document (by a hash of its id): the cleaned blocks
      uploads/           documents added in the app
      gesprekken.sqlite3 conversations and feedback
      .write.lock        held by the one process that writes

``kb ingest --rebuild`` builds a new ``index-<stamp>/`` beside the active one and only
then points ``CURRENT`` at it, so a crash or a kill during a rebuild leaves the old
index as it was. An older home with ``chroma/`` directly under ``KB_HOME`` is used as it
is (its folder is ``KB_HOME`` itself) until the next rebuild.

In server mode (``KB_CHROMA_MODE=http``, see :mod:`kb.index.remote`) an index folder is a
*generation* of collections in the server, ``CURRENT`` is a pointer record there, and
the folder under ``KB_HOME/server/<host>-<port>/<generation>/`` only caches this
process's BM25 index. A writer holds the lock file in ``KB_HOME`` and, in server mode,
the server's write lock (:mod:`kb.index.serverlock`), so writers on other machines wait too.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kb.config import Settings
from kb.errors import IndexBusyError

POINTER = "CURRENT"
LOCK = ".write.lock"


@dataclass(frozen=True)
class IndexPaths:
    """The files of one index folder."""

    root: Path
    generation: str = ""  # server mode: the generation of collections ("" in embedded mode)

    @property
    def remote(self) -> bool:
        return bool(self.generation)

    @property
    def chroma(self) -> Path:
        return self.root / "chroma"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def lexical(self) -> Path:
        return self.root / "lexical"

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def read(self) -> Path:
        return self.root / "read"


def active(settings: Settings) -> IndexPaths:
    """The active index folder: the one ``CURRENT`` names (or a home of the older layout)."""
    home = settings.home
    if settings.server:
        from kb.index import remote

        return _generation(settings, remote.current_generation(settings) or remote.default_generation(settings))
    try:
        name = (home / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    if name and "/" not in name and name not in (".", ".."):
        return IndexPaths(home / name)
    if (home / "chroma").exists():
        return IndexPaths(home)  # the layout before the pointer
    return IndexPaths(home / "index")


def _generation(settings: Settings, generation: str) -> IndexPaths:
    cache = settings.home / "server" / f"{settings.chroma_host}-{settings.chroma_port}"
    return IndexPaths(cache / generation, generation)


def new_folder(settings: Settings) -> IndexPaths:
    """A fresh index folder beside the active one (for a rebuild)."""
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    if settings.server:
        return _generation(settings, f"{settings.collection}-{name}")
    return IndexPaths(settings.home / f"index-{name}")


def exists(settings: Settings, paths: IndexPaths) -> bool:
    """Whether ``paths`` holds an index (it may still have no documents)."""
    if paths.remote:
        from kb.index import remote

        return remote.generation_exists(settings, paths.generation)
    return paths.chroma.exists()


def discard(settings: Settings, paths: IndexPaths) -> None:
    """Remove an index that is no longer (or never was) the active one."""
    import shutil

    shutil.rmtree(paths.root, ignore_errors=True)
    if paths.remote:
        from kb.index import remote

        remote.drop_generation(settings, paths.generation)


def switch_to(settings: Settings, paths: IndexPaths) -> None:
    """Make ``paths`` the active index, atomically."""
    if paths.remote:
        from kb.index import remote

        remote.set_generation(settings, paths.generation)
        return
    tmp = settings.home / f".{POINTER}.tmp"
    tmp.write_text(paths.root.name + "\n", encoding="utf-8")
    os.replace(tmp, settings.home / POINTER)


def stamp(settings: Settings) -> tuple[str, int | str]:
    """Changes whenever a write finished (another folder, or its manifest rewritten)."""
    paths = active(settings)
    if paths.remote:
        from kb.index import remote

        return paths.generation, remote.generation_version(settings, paths.generation)
    try:
        return paths.root.name, paths.manifest.stat().st_mtime_ns
    except OSError:
        return paths.root.name, 0


_held: dict[Path, int] = {}  # KB_HOME -> how deep this process holds its lock
_guard = threading.RLock()  # one writing thread at a time within this process


@contextmanager
def write_lock(
    settings: Settings, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``KB_HOME/.write.lock`` (across processes) while writing, and in server mode the
    server's write lock too (across machines, :mod:`kb.index.serverlock`).

    A second writer waits up to ``wait`` seconds (``KB_LOCK_WAIT``), saying so once
    through ``on_wait``, and then stops with a message that says what to do. Within one
    process the lock is re-entrant (an upload that ingests holds it once).
    """
    from filelock import FileLock, Timeout

    home = settings.home.resolve()
    wait = settings.lock_wait if wait is None else wait
    if not _guard.acquire(timeout=wait if wait >= 0 else -1):
        raise IndexBusyError(_busy(settings))
    try:
        if _held.get(home):
            _held[home] += 1
            try:
                yield
            finally:
                _held[home] -= 1
            return
        home.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(home / LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_wait:
                on_wait(
                    f"Een ander proces werkt de kennisbank in {settings.home} bij; wachten (hoogstens {wait:.0f} s)…"
                )
            try:
                lock.acquire(timeout=wait)
            except Timeout:
                raise IndexBusyError(_busy(settings)) from None
        server = None
        if settings.server:  # and the server's own lock: writers on other machines (kb.index.serverlock)
            from kb.index.serverlock import ServerLock

            try:
                server = ServerLock(settings)
                server.acquire(wait, on_wait)
            except BaseException:
                lock.release()
                raise
        _held[home] = 1
        try:
            yield
        finally:
            _held.pop(home, None)
            if server is not None:
                server.release()
            lock.release()
    finally:
        _guard.release()


def _busy(settings: Settings) -> str:
    return (
        f"De kennisbank in {settings.home} wordt al bijgewerkt door een ander proces (kb ingest of een "
        "upload in de app). Probeer het opnieuw als dat klaar is, of wacht langer met KB_LOCK_WAIT."
    )
