"""One index on disk: a Chroma collection, a manifest of documents and the BM25 index.

Where it lives is :mod:`kb.index.layout`. A document is written all or nothing: its chunks
are upserted first, its old chunks deleted after, and only then is the manifest
updated. Chunks that no manifest entry owns (left by a crash or a kill) are never
served (readers keep to the manifest's chunks) and are removed by :meth:`Store.reconcile`.
A write that fails (a full disk) or stalls stops with a Dutch message; what was there
before stays.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ingest.types import Block, Chunk
from kb.config import Settings
from kb.errors import KBError
from kb.index.layout import IndexPaths, active, exists
from kb.index.lexical import LexicalIndex, fingerprint
from kb.index.readindex import ReadIndex, ReadIndexWriter, read_stamp, stored_stamp
from kb.index.records import (  # noqa: F401  (re-exported)
    chunk_metadata,
    get_all,
    notes_text,
    pack_vectors,
    unpack_vectors,
)
from kb.index.remote import RemoteManifest, address, connect
from kb.index.safewrite import SPACE_HINT as _SPACE_HINT
from kb.index.safewrite import WriteError, check_space, guarded, write_json
from kb.text import analyze, surface_words

MANIFEST_FORMAT = 2
REBUILD_PAGE = 2_000  # chunks read from Chroma per page when the derived indexes are rebuilt
CHUNKER_VERSION = 4  # bump when cleaning or chunking changes what a document becomes (3: notes, speakers; 4: no images, links or HTML in the text, sectors per passage)


class NoIndexError(KBError):
    pass


class ModelMismatchError(KBError):
    pass


LEGACY_ENCODER = "torch"  # what embedded an index that does not say


def encoder_mismatch(settings: Settings, built: str, now: str) -> str:
    """The Dutch message for an index embedded by another encoder than the one set."""
    setting = built.split("-")[0]  # "onnx-int8" -> KB_ENCODER=onnx
    return (
        f"De index in {settings.home} is gemaakt met de encoder '{built}', maar nu is '{now}' ingesteld "
        f"(KB_ENCODER). De vectoren verschillen dan net iets. Bouw de index opnieuw met: kb ingest --rebuild   "
        f"(of zet KB_ENCODER terug op '{setting}')."
    )


class Store:
    """One index folder (the active one unless ``paths`` names another).

    In server mode (``paths.remote``) the collection, the manifest and the documents'
    blocks live in the Chroma server (:mod:`kb.index.remote`); the folder only caches BM25.
    """

    def __init__(self, settings: Settings, create: bool = False, paths: IndexPaths | None = None):
        self.settings = settings
        self.paths = paths or active(settings)
        self.where = address(settings) if self.paths.remote else str(settings.home)
        if not create and not exists(settings, self.paths):
            raise NoIndexError(f"Er is nog geen index in {self.where}. Bouw die eerst met: kb ingest")
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.remote = RemoteManifest(settings, self.paths.generation) if self.paths.remote else None
        self._manifest: dict | None = None if self.remote is not None else self._read_manifest()
        self._head: dict | None = None
        self._client: Any = None
        self._lexical: LexicalIndex | None = None
        self._read: ReadIndex | None = None
        self._collection: Any = None

    @property
    def manifest(self) -> dict:
        """Every document's entry, with its chunk ids (in server mode read on first use: a
        query process needs only :meth:`head`)."""
        if self._manifest is None:
            self._manifest = self._read_manifest()
        return self._manifest

    def head(self) -> dict:
        """The model, the encoder, the chunker and (in server mode) the version, without the
        documents' entries."""
        if self._manifest is not None:
            return self._manifest
        if self._head is None:
            from kb.index.remote import ServerUnavailableError, describe, unreachable

            try:
                assert self.remote is not None  # embedded mode read the manifest in __init__
                self._head = self.remote.head(MANIFEST_FORMAT, CHUNKER_VERSION)
            except Exception as e:
                raise ServerUnavailableError(unreachable(self.settings, describe(e))) from None
        return self._head

    @property
    def client(self):
        """The Chroma client, opened on first use (a query that the read index answers never needs it)."""
        if self._client is None and self.paths.remote:
            self._client = connect(self.settings)  # a server that does not answer: a Dutch message
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            try:
                self._client = chromadb.PersistentClient(
                    path=str(self.paths.chroma),
                    settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
                )
            except Exception as e:
                raise KBError(
                    f"De index in {self.paths.root} kan niet worden geopend ({type(e).__name__}: {str(e)[:160]}). "
                    "Controleer de map met: kb doctor   (of bouw de index opnieuw: kb ingest --rebuild)"
                ) from e
        return self._client

    # --- collection -------------------------------------------------------------
    def collection(self, model: str | None = None, encoder: str | None = None):
        """The chunk collection; ``model`` and ``encoder`` (when creating) record what embeds it."""
        if self._collection is not None:
            return self._collection
        name = self.paths.generation or self.settings.collection
        try:
            col = self.client.get_collection(name)
        except Exception:
            if model is None:
                raise NoIndexError(f"De index in {self.where} is leeg. Bouw die eerst met: kb ingest") from None
            encoder = encoder or LEGACY_ENCODER
            col = self.client.create_collection(
                name, metadata={"hnsw:space": "cosine", "embed_model": model, "encoder": encoder}
            )
            self.manifest["model"], self.manifest["encoder"] = model, encoder
            if self.remote is not None:  # the manifest head marks the generation as an index
                self.save_manifest("de index", [])
        self._collection = col
        return col

    def _recorded(self) -> dict:
        """What embedded the index, as recorded: the manifest says it (without opening Chroma)
        once a document was written; before that the collection does."""
        head = self.head()
        if head.get("model"):
            return {"embed_model": head["model"], "encoder": head.get("encoder")}
        try:
            return self.collection().metadata or {}
        except NoIndexError:
            return {}

    @property
    def model(self) -> str | None:
        return self._recorded().get("embed_model")

    @property
    def encoder(self) -> str | None:
        """The encoder that embedded the index ("onnx-int8", "torch"); an index from before
        encoders were recorded was embedded by torch. None for an empty index."""
        recorded = self._recorded()
        if not recorded.get("embed_model"):
            return None
        return recorded.get("encoder") or LEGACY_ENCODER

    def check_model(self, model: str, encoder: str | None = None) -> None:
        built = self.model
        if built and built != model:
            raise ModelMismatchError(
                f"De index in {self.where} is gebouwd met het model '{built}', "
                f"maar nu is '{model}' ingesteld (KB_EMBED_MODEL). Bouw de index opnieuw "
                f"met: kb ingest --rebuild   (of zet KB_EMBED_MODEL terug op '{built}')."
            )
        made = self.encoder
        if encoder and made and made != encoder:
            raise ModelMismatchError(encoder_mismatch(self.settings, made, encoder))

    def count(self) -> int:
        return self.collection().count()

    # --- documents ----------------------------------------------------------------
    def documents(self) -> dict[str, dict]:
        return self.manifest["documents"]

    def owned_ids(self) -> list[str]:
        """The chunk ids of every document in the manifest."""
        return [cid for e in self.documents().values() for cid in e.get("chunk_ids", [])]

    def write_document(
        self,
        doc_id: str,
        entry: dict,
        chunks: list[Chunk],
        embeddings,
        blocks: list[Block],
        sentence_vectors: list | None = None,
    ) -> None:
        """Replace one document's chunks; all or nothing as seen from the manifest."""
        col = self.collection()
        ids = [c.chunk_id for c in chunks]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate chunk ids in {doc_id}")
        self._check_space(doc_id, chunks)
        batch = 500 if self.remote is not None else 2000  # a request to a server stays small and quick
        try:
            for i in range(0, len(chunks), batch):
                part = chunks[i : i + batch]
                metas = [
                    chunk_metadata(c, sentence_vectors[i + j] if sentence_vectors is not None else None)
                    for j, c in enumerate(part)
                ]
                vectors = [list(map(float, e)) for e in embeddings[i : i + batch]]
                self._guarded(
                    doc_id,
                    col.upsert,
                    ids=ids[i : i + batch],
                    embeddings=vectors,
                    documents=[c.text for c in part],
                    metadatas=metas,
                )
        except WriteError:
            raise  # a stalled write cannot be undone from this process; readers ignore its chunks
        except BaseException:
            # roll back: remove what this call added that no document owned before
            owned = set(self.owned_ids())
            added = [cid for cid in ids if cid not in owned]
            if added:
                with contextlib.suppress(Exception):
                    col.delete(ids=added)
            raise
        old = set(self.documents().get(doc_id, {}).get("chunk_ids", [])) - set(ids)
        if old:
            self._guarded(doc_id, col.delete, ids=sorted(old))
        self.write_blocks(
            doc_id, {"doc_id": doc_id, "meta": entry.get("meta", {}), "blocks": [asdict(b) for b in blocks]}
        )
        self.documents()[doc_id] = {**entry, "chunk_ids": ids}
        self.save_manifest(doc_id, [doc_id])

    def write_blocks(self, doc_id: str, data: dict) -> None:
        """Store a document's cleaned blocks (``{"doc_id", "meta", "blocks"}``) for reading it whole."""
        if self.remote is not None:
            self._guarded(doc_id, self.remote.put_blocks, key=doc_id, data=data)
        else:
            self._write_json(doc_id, self._doc_path(doc_id), data)

    def delete_document(self, doc_id: str) -> None:
        ids = self.documents().get(doc_id, {}).get("chunk_ids", [])
        if ids:
            self._guarded(doc_id, self.collection().delete, ids=ids)
        if self.remote is not None:
            self._guarded(doc_id, self.remote.drop_blocks, key=doc_id)
        else:
            self._doc_path(doc_id).unlink(missing_ok=True)
        self.documents().pop(doc_id, None)
        self.save_manifest(doc_id, [doc_id])

    def reconcile(self) -> int:
        """Delete chunks no document owns (left by an interrupted run); return how many."""
        owned = set(self.owned_ids())
        present = set(get_all(self.collection(), include=[])["ids"])
        orphans = sorted(present - owned)
        if orphans:
            self._guarded("(opruimen)", self.collection().delete, ids=orphans)
        missing = owned - present
        for doc_id, e in list(self.documents().items()):
            if missing & set(e.get("chunk_ids", [])):
                # chunks of this document are gone: forget it so the next ingest redoes it
                self.documents().pop(doc_id)
        if missing:
            self.save_manifest()
        return len(orphans)

    def orphans(self) -> list[str]:
        """Chunks in the collection that no document owns."""
        return sorted(set(get_all(self.collection(), include=[])["ids"]) - set(self.owned_ids()))

    def _doc_path(self, doc_id: str) -> Path:
        return self.paths.docs / doc_file(doc_id)

    def read_blocks(self, doc_id: str) -> list[dict]:
        if self.remote is not None:
            return self.remote.read_blocks(doc_id)
        p = self._doc_path(doc_id)
        return json.loads(p.read_text(encoding="utf-8"))["blocks"] if p.exists() else []

    # --- derived: the BM25 index and the read index ------------------------------------------
    def rebuild_lexical(self, progress: Callable[[int, int], None] | None = None) -> LexicalIndex:
        """Rebuild what is derived from the documents' chunks (chunks no document owns are left
        out): the BM25 index and the read index (:mod:`kb.index.readindex`), in one pass over Chroma,
        a page at a time, with the same row order (``progress(done, total)`` after each page).
        Memory holds the analysed terms of every chunk, not their texts or vectors."""
        ids = self.owned_ids()
        read_stamp, collection = self._read_stamp(), self.collection()
        kept: list[str] = []
        terms: list[list[str]] = []
        seen: dict[str, str] = {}
        counted: Counter[str] = Counter()  # the words as written: what a misspelt query word is corrected to
        writer: ReadIndexWriter | None = None
        try:
            for start in range(0, len(ids), REBUILD_PAGE):
                got = collection.get(
                    ids=ids[start : start + REBUILD_PAGE], include=["documents", "metadatas", "embeddings"]
                )
                vectors = np.asarray(got["embeddings"], dtype=np.float32)
                if writer is None:
                    writer = ReadIndexWriter(
                        self.paths.read, read_stamp, len(ids), vectors.shape[1] if vectors.size else 0
                    )
                writer.add(got["ids"], got["documents"], got["metadatas"], vectors)
                kept.extend(got["ids"])
                texts = [  # a passage is found by its footnotes too
                    f"{m.get('header', '')} {m.get('author', '')}\n{d}\n{notes_text(m)}"
                    for d, m in zip(got["documents"], got["metadatas"])
                ]
                terms.extend(  # one string per distinct term: a million passages' terms fit in memory
                    [seen.setdefault(t, t) for t in analyze(text)] for text in texts
                )
                for text in texts:
                    counted.update(surface_words(text))
                if progress is not None:
                    progress(min(start + REBUILD_PAGE, len(ids)), len(ids))
            if writer is None:
                writer = ReadIndexWriter(self.paths.read, read_stamp, 0, 0)
            writer.set_documents(self.documents())
            lex = LexicalIndex.from_terms(kept, terms, counted)
            lex.stamp, lex.read_stamp = self._lexical_stamp(), read_stamp
            del terms
            lex.save(self.paths.lexical)
            writer.commit()
        except OSError as e:
            raise WriteError(
                f"De zoekindex kon niet worden opgeslagen in {self.paths.root}: {e.strerror or e}. {_SPACE_HINT}"
            ) from e
        finally:
            if writer is not None:
                writer.discard()
        self._lexical, self._read = lex, None
        return lex

    def _lexical_stamp(self) -> str:
        """The chunk ids; in server mode the generation's version, which every write changes
        (so a reader checks one record, not every document's entry)."""
        if self.remote is not None:
            return fingerprint([f"@{self.paths.generation}@version:{self.head()['version']}"])
        return fingerprint(self.owned_ids())

    def lexical_stale(self) -> bool:
        return LexicalIndex.read_stamp_of(self.paths.lexical) != self._lexical_stamp() or self.read_stale()

    def read_stale(self) -> bool:
        return stored_stamp(self.paths.read) != self._read_stamp()

    def _read_stamp(self) -> str:
        """The documents and their chunks; in server mode the generation's version."""
        if self.remote is not None:
            return f"{self.paths.generation}@{self.head()['version']}"
        return read_stamp(self.documents())

    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            lex = None if self.lexical_stale() else LexicalIndex.load(self.paths.lexical)
            if lex is None:
                lex = self.rebuild_lexical()
            self._lexical = lex
        return self._lexical

    def read_index(self) -> ReadIndex:
        """The read index, rebuilt from Chroma first when it is missing or out of step."""
        if self._read is None:
            if self.read_stale():
                self.rebuild_lexical()
            self._read = ReadIndex(self.paths.read)
        return self._read

    # --- writing safely ----------------------------------------------------------------
    def _guarded(self, doc_id: str, call, **kwargs) -> Any:
        """Run one Chroma write; a failure or a stall (a full disk can hang it) becomes a WriteError."""
        return guarded(self.settings, self.paths.root, self.remote is not None, doc_id, call, **kwargs)

    def _check_space(self, doc_id: str, chunks: list[Chunk]) -> None:
        if self.remote is None:  # a server's disk: a failed write says so
            check_space(self.paths.root, doc_id, chunks)

    def _write_json(self, doc_id: str, path: Path, data) -> None:
        write_json(doc_id, path, data)

    # --- manifest ----------------------------------------------------------------------
    def _read_manifest(self) -> dict:
        if self.remote is not None:
            from kb.index.remote import ServerUnavailableError, describe, unreachable

            try:
                return self.remote.read(MANIFEST_FORMAT, CHUNKER_VERSION)
            except Exception as e:
                raise ServerUnavailableError(unreachable(self.settings, describe(e))) from None
        return read_manifest(self.paths.manifest)

    def save_manifest(self, doc_id: str = "de index", changed: list[str] | None = None) -> None:
        """Write the manifest (in server mode: the entries of ``changed``, all when None)."""
        if self.remote is not None:
            self.manifest["version"] = self._guarded(doc_id, self.remote.write, manifest=self.manifest, changed=changed)
            return
        self._write_json(doc_id, self.paths.manifest, self.manifest)


def read_manifest(p: Path) -> dict:
    """The manifest at ``p`` in the current format (a missing file is an empty index; a
    round-1 manifest, with documents and ``_`` keys side by side, is converted)."""
    try:
        data = json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
    except (OSError, ValueError) as e:
        raise KBError(
            f"Het manifest van de index ({p}) is beschadigd ({e}). Herstel met: kb doctor --repair "
            "(of bouw opnieuw: kb ingest --rebuild)"
        ) from e
    if not isinstance(data, dict):
        raise KBError(f"{p} is geen manifest van deze kennisbank. Herstel met: kb doctor --repair")
    if not data:
        return {"format": MANIFEST_FORMAT, "model": None, "chunker": CHUNKER_VERSION, "documents": {}}
    if data.get("format") != MANIFEST_FORMAT:  # the first layout: documents and "_" keys side by side
        docs = {k: v for k, v in data.items() if isinstance(v, dict) and "chunk_ids" in v}
        data = {"format": MANIFEST_FORMAT, "model": data.get("_model"), "chunker": 1, "documents": docs}
    data.setdefault("documents", {})
    data.setdefault("chunker", CHUNKER_VERSION)
    return data


def doc_file(doc_id: str) -> str:
    """The stored copy of a document, by a hash of its id: names that look alike never share one."""
    import hashlib

    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:24] + ".json"
