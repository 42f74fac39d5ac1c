"""The index in a Chroma server (``KB_CHROMA_MODE=http``): the client, the pointer and the manifest.

What a folder under ``KB_HOME`` holds in embedded mode lives in the server here, so
that every process (on any machine) sees the same index:

* ``<collection>.current``: one record, ``current``, that names the active
  *generation* (the counterpart of the ``CURRENT`` file). A generation is
  ``<collection>-<stamp>``; ``kb ingest --rebuild`` fills a new one beside the active
  one and only then points ``current`` at it.
* ``<generation>``: the chunk collection (cosine space, embeddings passed in), as in
  embedded mode.
* ``<generation>.manifest``: one record per document (its manifest entry as JSON) and
  a head record, ``_head``, with the model, the encoder, the chunker version and a *version* that
  every write changes. A reader compares the version to decide whether its BM25 index
  and its loaded retriever are still current.
* ``<generation>.docs``: one record per document with its cleaned blocks (JSON).

Records of the bookkeeping collections carry a one-number placeholder embedding: the
project never lets Chroma embed anything.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from typing import Any

from kb.config import Settings
from kb.errors import KBError
from kb.index.records import get_all

HEAD = "_head"
HEAD_KEYS = ("model", "encoder", "chunker", "format")  # what the head record carries
CURRENT = "current"
_PLACEHOLDER = [0.0]


class ServerUnavailableError(KBError):
    """The Chroma server does not answer (or answers with an error)."""


def address(settings: Settings) -> str:
    scheme = "https" if settings.chroma_ssl else "http"
    return f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"


def unreachable(settings: Settings, reason: str) -> str:
    """The Dutch message for a server that does not answer, with what to do."""
    return (
        f"De Chroma-server op {address(settings)} is niet bereikbaar ({reason}). Start de server "
        f"(bijvoorbeeld: chroma run --path <map> --host {settings.chroma_host} --port {settings.chroma_port}) "
        "of controleer KB_CHROMA_HOST, KB_CHROMA_PORT en KB_CHROMA_SSL; zonder server: KB_CHROMA_MODE=embedded. "
        "Wat al in de index stond, blijft; voer daarna de opdracht opnieuw uit."
    )


def refused(settings: Settings, status: int) -> str:
    """The Dutch message for a server that answers but will not let us in (a wrong or missing token)."""
    given = "een token is meegestuurd, maar dat wordt geweigerd" if settings.chroma_token else "er is geen token"
    return (
        f"De Chroma-server op {address(settings)} weigert de toegang (HTTP {status}): {given}. "
        "Controleer het token in KB_CHROMA_TOKEN (het moet gelijk zijn aan het token van de server of de proxy ervoor) "
        "en voer de opdracht opnieuw uit. De server zelf is bereikbaar."
    )


def describe(e: BaseException) -> str:
    """A short reason for a failed request (the exception's class and first words)."""
    text = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def connect(settings: Settings):
    """A ``chromadb.HttpClient`` for the configured server (one per process and address).

    The server is asked for its heartbeat first, with a short timeout, so that a server
    that is down or hangs gives a Dutch message within seconds instead of a traceback
    or a hang; every later request has ``KB_CHROMA_TIMEOUT`` as its timeout.
    """
    import httpx

    key = (settings.chroma_host, settings.chroma_port, settings.chroma_ssl, settings.chroma_token)
    timeout = httpx.Timeout(settings.chroma_timeout, connect=min(3.0, settings.chroma_timeout))
    with _clients_lock:
        if key in _clients:
            return _clients[key]
        headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else {}
        try:
            r = httpx.get(f"{address(settings)}/api/v2/heartbeat", headers=headers, timeout=timeout)
        except httpx.HTTPError as e:
            raise ServerUnavailableError(unreachable(settings, describe(e))) from None
        if r.status_code in (401, 403):
            raise ServerUnavailableError(refused(settings, r.status_code))
        if r.status_code != 200:
            raise ServerUnavailableError(unreachable(settings, f"HTTP {r.status_code}"))
        # the heartbeat needs no token; asking who we are does, so a wrong token is told as such
        # (not as a server that is down) before the first real request
        try:
            r = httpx.get(f"{address(settings)}/api/v2/auth/identity", headers=headers, timeout=timeout)
        except httpx.HTTPError as e:
            raise ServerUnavailableError(unreachable(settings, describe(e))) from None
        if r.status_code in (401, 403):
            raise ServerUnavailableError(refused(settings, r.status_code))
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                headers=headers,
                settings=ChromaSettings(anonymized_telemetry=False),
            )
        except Exception as e:
            raise ServerUnavailableError(unreachable(settings, describe(e))) from None
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):  # chromadb leaves its requests without a timeout
            session.timeout = timeout
        _clients[key] = client
        return client


def _bookkeeping(client, name: str):
    return client.get_or_create_collection(name, metadata={"kb_role": "bookkeeping"})


def pointer_name(settings: Settings) -> str:
    return f"{settings.collection}.current"


def default_generation(settings: Settings) -> str:
    return f"{settings.collection}-index"


_handles: dict[tuple, Any] = {}  # (address, name) -> collection: a stamp check is then one request


def _missing(e: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(e, NotFoundError) or "does not exist" in str(e) or "not found" in str(e).lower()


def _existing(settings: Settings, name: str, cached: bool = True):
    """The collection ``name``, or None when the server has none (a server that fails: an error)."""
    key = (address(settings), name)
    if cached and key in _handles:
        return _handles[key]
    client = connect(settings)
    try:
        col = _handles[key] = client.get_collection(name)
        return col
    except Exception as e:
        if _missing(e):
            return None
        raise ServerUnavailableError(unreachable(settings, describe(e))) from None


def _read(settings: Settings, name: str, rid: str, include: list) -> dict | None:
    """One record of a bookkeeping collection (documents and metadatas), or None."""
    for cached in (True, False):  # a cached handle of a collection deleted since: look it up again
        col = _existing(settings, name, cached)
        if col is None:
            return None
        try:
            got = col.get(ids=[rid], include=include)
            break
        except Exception as e:
            _handles.pop((address(settings), name), None)
            if not (cached and _missing(e)):
                if _missing(e):
                    return None
                raise ServerUnavailableError(unreachable(settings, describe(e))) from None
    if not got["ids"]:
        return None
    return {k: (got[k] or [None])[0] for k in include}


def current_generation(settings: Settings) -> str | None:
    """The generation ``current`` names, or None when the server has no index yet."""
    got = _read(settings, pointer_name(settings), CURRENT, ["documents"])
    return got["documents"] if got else None


def generation_exists(settings: Settings, generation: str) -> bool:
    """Whether the generation has a chunk collection and a manifest head."""
    return (
        _existing(settings, generation) is not None and _read(settings, f"{generation}.manifest", HEAD, []) is not None
    )


def generation_version(settings: Settings, generation: str) -> str:
    """The version every write to the generation changes ("" for a generation without manifest)."""
    got = _read(settings, f"{generation}.manifest", HEAD, ["metadatas"])
    return str((got["metadatas"] or {}).get("version", "")) if got else ""


def set_generation(settings: Settings, generation: str) -> None:
    """Point ``current`` at ``generation`` (one upsert: readers see the old or the new one)."""
    _bookkeeping(connect(settings), pointer_name(settings)).upsert(
        ids=[CURRENT], embeddings=[_PLACEHOLDER], documents=[generation], metadatas=[{"generation": generation}]
    )


def generations(settings: Settings) -> list[str]:
    """The generations that have a chunk collection in the server."""
    import re

    own = re.compile(re.escape(settings.collection) + r"-(index|\d{8}-\d{6}-\d+)")
    names = [getattr(c, "name", c) for c in connect(settings).list_collections(limit=10_000)]
    return sorted(n for n in names if own.fullmatch(n))


def drop_generation(settings: Settings, generation: str) -> None:
    """Delete a generation's collections (an abandoned rebuild, or the one a rebuild replaced)."""
    client = connect(settings)
    for name in (generation, f"{generation}.manifest", f"{generation}.docs"):
        _handles.pop((address(settings), name), None)
        with contextlib.suppress(Exception):
            client.delete_collection(name)


class RemoteManifest:
    """The manifest and the stored documents of one generation, in the server."""

    def __init__(self, settings: Settings, generation: str):
        self.settings = settings
        self.generation = generation
        client = connect(settings)
        self._entries = _bookkeeping(client, f"{generation}.manifest")
        self._docs = _bookkeeping(client, f"{generation}.docs")

    def exists(self) -> bool:
        return bool(self._entries.get(ids=[HEAD], include=[])["ids"])

    def version(self) -> str:
        got = self._entries.get(ids=[HEAD], include=["metadatas"])
        return str((got["metadatas"][0] or {}).get("version", "")) if got["ids"] and got["metadatas"] else ""

    def head(self, fmt: int, chunker: int) -> dict:
        """The head record alone (model, encoder, chunker, format, version): what a reader checks."""
        got = self._entries.get(ids=[HEAD], include=["documents", "metadatas"])
        head: dict = {"format": fmt, "model": None, "chunker": chunker, "version": ""}
        if got["ids"]:
            stored = json.loads((got["documents"] or [None])[0] or "{}")
            head.update({k: stored[k] for k in HEAD_KEYS if k in stored})
            head["version"] = str(((got["metadatas"] or [None])[0] or {}).get("version", ""))
        return head

    def has_documents(self) -> bool:
        """Whether any document is recorded (the head aside), in one request."""
        return self._entries.count() > (1 if self.exists() else 0)

    def read(self, fmt: int, chunker: int) -> dict:
        """The whole manifest, in the shape of embedded mode's manifest.json."""
        got = get_all(self._entries, include=["documents", "metadatas"])
        manifest: dict = {"format": fmt, "model": None, "chunker": chunker, "documents": {}, "version": ""}
        for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            if rid == HEAD:
                head = json.loads(doc or "{}")
                manifest.update({k: head[k] for k in HEAD_KEYS if k in head})
                manifest["version"] = str((meta or {}).get("version", ""))
            else:
                manifest["documents"][rid] = json.loads(doc)
        return manifest

    def write(self, manifest: dict, changed: list[str] | None) -> str:
        """Write the entries of ``changed`` (all when None; absent ones are deleted), then a new version."""
        docs = manifest["documents"]
        if changed is None:
            known = set(get_all(self._entries, include=[])["ids"]) - {HEAD}
            gone = sorted(known - set(docs))
            changed = sorted(docs)
        else:
            gone = [d for d in changed if d not in docs]
            changed = [d for d in changed if d in docs]
        for i in range(0, len(changed), 500):
            part = changed[i : i + 500]
            self._entries.upsert(
                ids=part,
                embeddings=[_PLACEHOLDER] * len(part),
                documents=[json.dumps(docs[d], ensure_ascii=False) for d in part],
            )
        if gone:
            self._entries.delete(ids=gone)
        version = uuid.uuid4().hex
        head = {k: manifest.get(k) for k in HEAD_KEYS}
        self._entries.upsert(
            ids=[HEAD],
            embeddings=[_PLACEHOLDER],
            documents=[json.dumps(head)],
            metadatas=[{"version": version}],
        )
        return version

    def put_blocks(self, key: str, data: dict) -> None:
        self._docs.upsert(ids=[key], embeddings=[_PLACEHOLDER], documents=[json.dumps(data, ensure_ascii=False)])

    def drop_blocks(self, key: str) -> None:
        self._docs.delete(ids=[key])

    def read_blocks(self, doc_id: str) -> list[dict]:
        got = self._docs.get(ids=[doc_id], include=["documents"])
        return json.loads(got["documents"][0])["blocks"] if got["ids"] and got["documents"] else []
