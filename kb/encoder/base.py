"""What every encoder shares: the batch size and late chunking (one vector per character span).

Both the torch encoder (:mod:`kb.encoder.embedding`) and the ONNX encoder
(:mod:`kb.encoder.onnx_embedder`) import from here, so neither imports the other.
"""

from __future__ import annotations

import numpy as np

# Measured on 2 CPU cores with ~1000-character passages: batches of 8 are ~20 % faster
# than 32 (smaller activations stay in cache); sentence-transformers already sorts the
# texts by length, so a batch carries little padding.
ENCODE_BATCH = 8


def span_vectors(tokens: np.ndarray, offsets: np.ndarray, spans, shift: int, dim: int) -> np.ndarray:
    """One vector per character span: the mean of the tokens inside it, normalised ("late chunking").

    ``offsets`` are the tokens' character offsets in the prompted text (the prompt is
    ``shift`` characters); a span whose tokens were cut off by the input length gets zeros.
    """
    rows = np.zeros((len(spans), dim), dtype=np.float32)
    if not len(spans) or not len(offsets):
        return rows
    x, y = offsets[:, 0], offsets[:, 1]
    real = y > x  # special tokens have empty offsets
    for k, (a, b) in enumerate(spans):
        inside = real & (x >= a + shift - 1) & (y <= b + shift + 1)
        if inside.any():
            v = tokens[inside].mean(axis=0)
            rows[k] = v / (np.linalg.norm(v) or 1.0)
    return rows
