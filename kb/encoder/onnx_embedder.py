"""The default model on ONNX Runtime: the int8 model of :mod:`kb.encoder.e5onnx`, no torch needed.

Needs only ``onnxruntime``, ``tokenizers`` (passages), ``sentencepiece`` (queries: the
same ids, loaded in half the time) and numpy, so a query loads in well under a second. The model returns token embeddings; pooling happens here, in numpy, with the
same rules as the torch model (mean over the attended tokens, then normalised), and
the sentence-span vectors of :meth:`OnnxEmbedder.embed_passages_with_spans` come from
the same forward pass.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kb.encoder.base import ENCODE_BATCH, span_vectors
from kb.encoder.e5onnx import INFO_FILE, QUERY_TOKENIZER


class OnnxEmbedder:
    """Sentence embeddings for passages and queries, normalised float32 (same API as ``Embedder``)."""

    def __init__(self, folder: Path, name: str, threads: int, batch_size: int = ENCODE_BATCH):
        self.folder = Path(folder)
        info = json.loads((self.folder / INFO_FILE).read_text(encoding="utf-8"))
        self.name = name  # the model identifier recorded in the index
        self.encoder = str(info["encoder"])  # and the encoder
        self.dim = int(info["dim"])
        self.max_seq_length = int(info["max_seq_length"])
        self.pad_id = int(info["pad_id"])
        self.query_prompt = info["prompts"]["query"]
        self.passage_prompt = info["prompts"]["passage"]
        self.batch_size = max(1, batch_size)
        self.threads = max(1, threads)
        self._tokenizer: Any = None  # for passages (with character offsets); loaded on first use
        self._query_tokenizer: Any = None  # SentencePiece, for queries
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxEmbedder({self.name!r}, {self.encoder}, dim={self.dim}, threads={self.threads})"

    # --- the model -----------------------------------------------------------------------------
    def session(self, threads: int):
        """One ONNX Runtime session per thread count, made on first use."""
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                # no busy-waiting between operators: the cores are shared (the app, other work)
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                options.log_severity_level = 3
                self._sessions[threads] = ort.InferenceSession(
                    str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[threads]

    def warm(self) -> None:
        """Make the query model and tokenizer now (the first query does it otherwise)."""
        self.session(1)
        self._sentencepiece()

    # --- tokens ----------------------------------------------------------------------------------
    @property
    def tokenizer(self):
        """The ``tokenizers`` tokenizer (ids and character offsets), cut at the input length."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tokenizer.enable_truncation(self.max_seq_length)
                tokenizer.no_padding()
                self._tokenizer = tokenizer
            return self._tokenizer

    def _sentencepiece(self):
        """The SentencePiece tokenizer (written into a folder converted before it existed);
        None if it cannot be had, and then queries use the ``tokenizers`` one."""
        with self._tokenizer_lock:
            if self._query_tokenizer is None:
                import sentencepiece as spm

                path = self.folder / QUERY_TOKENIZER
                try:
                    if not path.exists():
                        from kb.encoder.e5onnx import add_query_tokenizer

                        add_query_tokenizer(self.folder)
                    self._query_tokenizer = spm.SentencePieceProcessor(model_file=str(path))
                except (OSError, RuntimeError):
                    self._query_tokenizer = False
            return self._query_tokenizer or None

    def token_ids(self, text: str) -> list[int]:
        """The token ids the model reads for ``text`` (cut at its input length)."""
        return list(self.tokenizer.encode(text).ids)

    def query_token_ids(self, text: str) -> list[int]:
        """The same ids as :meth:`token_ids`, from the SentencePiece tokenizer where it gives
        the same (NFC first; not for text with outer whitespace or a literal ``<mask>``)."""
        sp = self._sentencepiece()
        if sp is None or text != text.strip() or "<mask>" in text:
            return self.token_ids(text)
        ids = sp.encode(unicodedata.normalize("NFC", text))
        return [sp.bos_id(), *ids[: self.max_seq_length - 2], sp.eos_id()]

    # --- the forward pass ------------------------------------------------------------------------
    def _run(
        self, ids_per_text: list[list[int]], threads: int, done: Callable[[int], None] | None = None
    ) -> list[np.ndarray]:
        """Per text: its token embeddings (attended tokens only), in batches of similar length
        (``done(n)`` after each batch: the texts embedded so far)."""
        lengths = np.array([len(ids) for ids in ids_per_text])
        order = np.argsort(-lengths, kind="stable")  # batches of similar length: little padding
        session = self.session(threads)
        out: list = [None] * len(ids_per_text)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = ids_per_text[i]
                mask[r, : lengths[i]] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for r, i in enumerate(rows):
                out[i] = np.asarray(hidden[r, : lengths[i]], dtype=np.float32)
            if done is not None:
                done(start + len(rows))
        return out

    def _forward(
        self, full: list[str], threads: int, done: Callable[[int], None] | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: its token embeddings (attended tokens only) and the tokens' character offsets."""
        encodings = self.tokenizer.encode_batch(full)
        hidden = self._run([e.ids for e in encodings], threads, done)
        return [(h, np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2)) for h, e in zip(hidden, encodings)]

    def _encode(self, texts: list[str], prompt: str, threads: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _pooled([t for t, _ in self._forward([prompt + t.strip() for t in texts], threads)])

    # --- the API shared with the torch embedder --------------------------------------------------
    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), self.passage_prompt, self.threads)

    def embed_passages_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]], done: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, and per passage one vector per character span (see ``Embedder``)."""
        texts = [t.strip() for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        tokens = self._forward([self.passage_prompt + t for t in texts], self.threads, done)
        passages = _pooled([t for t, _ in tokens])
        shift = len(self.passage_prompt)
        per_text = [span_vectors(t, offsets, s, shift, self.dim) for (t, offsets), s in zip(tokens, spans)]
        return passages, per_text

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # one short query is fastest on one thread, and stays fast when other work keeps the cores busy
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _pooled(self._run([self.query_token_ids(self.query_prompt + t.strip()) for t in texts], 1))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]


def _pooled(tokens: list[np.ndarray]) -> np.ndarray:
    """Per text the mean of its token embeddings, normalised."""
    return np.stack([_normalised(t.mean(axis=0)) for t in tokens]).astype(np.float32)


def _normalised(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)
