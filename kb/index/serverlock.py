"""The write lock in server mode: one writer at a time on a Chroma server, from any machine.

A lock file in ``KB_HOME`` only keeps out writers that share that folder. In server mode
the lock is also a record in the server, ``write`` in the collection ``<collection>.lock``:

* taking it is one ``add``: Chroma adds a record only when its id is new, so of two
  writers that try at once exactly one gets it (each reads the record back to see whose it is);
* the holder renews its expiry (``KB_LOCK_TTL`` seconds ahead) while it writes, so a lock
  whose holder was killed expires, and the next writer removes it with a delete that only
  matches that holder (``where``), never a lock someone took meanwhile;
* releasing it deletes the record, again only if it is still the holder's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from kb.config import Settings
from kb.errors import IndexBusyError
from kb.index.remote import ServerUnavailableError, _bookkeeping, address, connect, describe, unreachable

LOCK_ID = "write"
_PLACEHOLDER = [0.0]


def lock_name(settings: Settings) -> str:
    return f"{settings.collection}.lock"


class ServerLock:
    """The server's write lock for ``settings.collection``; :meth:`acquire`, then :meth:`release`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.ttl = settings.lock_ttl
        self.owner = uuid.uuid4().hex
        self.holder = f"{socket.gethostname()} (pid {os.getpid()})"
        self._col = self._call(lambda: _bookkeeping(connect(settings), lock_name(settings)))
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _call(self, fn):
        try:
            return fn()
        except ServerUnavailableError:
            raise
        except Exception as e:
            raise ServerUnavailableError(unreachable(self.settings, describe(e))) from None

    def _record(self) -> dict:
        return {"owner": self.owner, "holder": self.holder, "expires": time.time() + self.ttl}

    def _current(self) -> dict | None:
        got = self._call(lambda: self._col.get(ids=[LOCK_ID], include=["metadatas"]))
        return (got["metadatas"] or [None])[0] if got["ids"] else None

    def _try(self) -> dict | None:
        """Take the lock if it is free (or expired); None when taken, else the holder's record."""
        record = self._record()
        self._call(lambda: self._col.add(ids=[LOCK_ID], embeddings=[_PLACEHOLDER], metadatas=[record]))
        held = self._current()
        if held is None:  # released between the add and the read: try again
            return {}
        if held.get("owner") == self.owner:
            return None
        if float(held.get("expires", 0)) < time.time():  # its holder stopped without releasing it
            self._call(lambda: self._col.delete(ids=[LOCK_ID], where={"owner": held["owner"]}))
            return {}
        return held

    def acquire(self, wait: float, on_wait: Callable[[str], None] | None = None) -> None:
        """Take the lock, waiting up to ``wait`` seconds (saying so once); else an :class:`IndexBusyError`."""
        deadline, said = (time.monotonic() + wait if wait >= 0 else float("inf")), False
        while True:
            held = self._try()
            if held is None:
                break
            if not held:
                continue
            if time.monotonic() >= deadline:
                raise IndexBusyError(self.busy(held))
            if on_wait and not said:
                most = f" (hoogstens {wait:.0f} s)" if wait >= 0 else ""
                on_wait(
                    f"{held.get('holder', 'Een ander proces')} werkt de kennisbank in de Chroma-server op "
                    f"{address(self.settings)} bij; wachten{most}…"
                )
                said = True
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="kb-server-lock", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if (self._current() or {}).get("owner") != self.owner:
                    return  # broken (this process stalled longer than the TTL): never take it back
                self._col.update(ids=[LOCK_ID], metadatas=[self._record()])
            except Exception:  # the server is away: the write itself will say so
                continue

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        with contextlib.suppress(Exception):  # a server that is away: the lock expires by itself
            self._col.delete(ids=[LOCK_ID], where={"owner": self.owner})

    def busy(self, held: dict) -> str:
        return (
            f"De kennisbank in de Chroma-server op {address(self.settings)} wordt al bijgewerkt door "
            f"{held.get('holder', 'een ander proces')}. Probeer het opnieuw als dat klaar is, of wacht langer met "
            f"KB_LOCK_WAIT. (Is dat proces gestopt zonder af te ronden, dan vervalt de vergrendeling binnen "
            f"{self.ttl:.0f} s.)"
        )
