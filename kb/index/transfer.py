"""Copy an index between the two backends (embedded folder ⇄ Chroma server), without re-embedding.

``copy_index(source, target)`` reads the active index of ``source`` (chunks with their
embeddings and metadata, the manifest, the documents' blocks) and writes it into a new
index of ``target`` beside the active one, which it then makes active, as
``kb ingest --rebuild`` does: a copy that fails leaves the target's index as it was.
The CLI calls it as ``kb export`` (embedded → server) and ``kb import`` (server → embedded).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kb.config import Settings

PAGE = 1000


@dataclass
class TransferReport:
    documents: int
    chunks: int
    seconds: float
    source: str
    target: str

    def summary(self) -> str:
        return (
            f"{self.documents} documenten en {self.chunks} passages gekopieerd van {self.source} "
            f"naar {self.target} in {self.seconds:.1f} s"
        )


def copy_index(source: Settings, target: Settings, progress=None) -> TransferReport:
    """Copy the active index of ``source`` into ``target`` (which keeps its old index on failure)."""
    from kb.index.layout import active, discard, new_folder, switch_to, write_lock
    from kb.index.store import Store

    start = time.perf_counter()
    progress = progress or (lambda *a: None)
    src = Store(source)
    model, encoder = src.model, src.encoder
    with write_lock(target, on_wait=lambda message: progress("wait", 0, 0, message)):
        old, paths = active(target), new_folder(target)
        try:
            dst = Store(target, create=True, paths=paths)
            _copy_into(src, dst, model, encoder, progress)
        except BaseException:
            discard(target, paths)
            raise
        switch_to(target, paths)
        if old.root != paths.root and old.root != target.home:
            discard(target, old)
    return TransferReport(len(dst.documents()), len(dst.owned_ids()), time.perf_counter() - start, src.where, dst.where)


def _copy_into(src, dst, model: str | None, encoder: str | None, progress) -> None:
    col = dst.collection(model=model or "onbekend", encoder=encoder)
    ids = src.owned_ids()
    for i in range(0, len(ids), PAGE):
        progress("chunks", i, len(ids), "")
        got = src.collection().get(ids=ids[i : i + PAGE], include=["embeddings", "documents", "metadatas"])
        dst._guarded(
            "(kopie)",
            col.upsert,
            ids=got["ids"],
            embeddings=got["embeddings"],
            documents=got["documents"],
            metadatas=got["metadatas"],
        )
    progress("chunks", len(ids), len(ids), "")
    for doc_id, entry in src.documents().items():
        dst.write_blocks(doc_id, {"doc_id": doc_id, "meta": entry.get("meta", {}), "blocks": src.read_blocks(doc_id)})
    dst.manifest["documents"] = {d: dict(e) for d, e in src.documents().items()}
    dst.manifest["model"], dst.manifest["chunker"] = model, src.manifest.get("chunker")
    dst.manifest["encoder"] = encoder
    dst.save_manifest()
    dst.rebuild_lexical()
