"""Bidirectional and deep RNNs at work: a POS tagger, a sentence classifier, their data and training (notebook 07).

The layers themselves (``reverse_padded``, ``unroll``, ``BidirectionalLayer``, ``DeepBiRNN``, the torch
parity helpers and the padding-aware sentence encodings) live in ``course_lib.birnn_layers`` and are
re-exported here, so ``birnn.DeepBiRNN`` keeps working. This module builds on them:

* ``SequenceTagger`` (many-to-many) and ``SequenceClassifier`` (many-to-one) use ``impl="torch"``
  (nn.LSTM etc. on a packed sequence: the same function, much faster); ``impl="scratch"`` uses ``DeepBiRNN``.
  Between stacked layers they apply dropout (training only), as ``nn.LSTM(dropout=...)`` does.
* ``Vocab``, padded batches, ``train_tagger`` / ``train_classifier``, accuracy and the most-frequent-tag baseline;
* the SST-2 checkpoint of notebook 07: ``python -m course_lib.birnn train-sst`` (``--check`` verifies it).

Shapes are batch-first throughout: tokens ``(B, T)``, states ``(B, T, H)`` or ``(B, T, 2H)``.
"""
from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .birnn_layers import (CELLS, POOLINGS, BidirectionalLayer, DeepBiRNN, _check_pair,  # noqa: F401 (re-exported)
                           _direction_cells, _h, _lengths, _torch_class, _where_state, copy_from_torch,
                           count_parameters, encode, last_state, length_mask, make_cell, max_pool, mean_pool,
                           reverse_padded, run_torch, unroll)
from .train import token_loss

# ----------------------------------------------------------------------------- models

class _Encoder(nn.Module):
    """Embedding -> (bi)directional recurrent layers, torch or scratch, padding-aware. idx (B, T) -> (B, T, dirs·H)."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int, bidirectional: bool,
                 cell: str, impl: str, dropout: float):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if impl not in ("torch", "scratch"):
            raise ValueError(f"impl must be 'torch' or 'scratch', got {impl!r}")
        self.impl, self.cell = impl, cell
        self.directions = 2 if bidirectional else 1
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        between = dropout if num_layers > 1 else 0.0        # dropout between stacked layers (torch warns at 1)
        if impl == "torch":
            self.rnn = _torch_class(cell)(embed_dim, hidden_size, num_layers, batch_first=True,
                                          bidirectional=bidirectional, dropout=between)
        else:
            self.rnn = DeepBiRNN(embed_dim, hidden_size, num_layers, bidirectional, cell, dropout=between)
        self.output_size = self.directions * hidden_size

    def states(self, idx: torch.Tensor, lengths=None) -> torch.Tensor:
        if not isinstance(idx, torch.Tensor) or idx.ndim != 2 or idx.dtype != torch.long:
            raise ValueError(f"idx must be a (B, T) LongTensor of token ids, got {getattr(idx, 'shape', type(idx).__name__)}")
        x = self.dropout(self.embed(idx))                                     # (B, T, E)
        if self.impl == "torch":
            h, _ = run_torch(self.rnn, x, lengths)
        else:
            h, _ = self.rnn(x, lengths)
        return self.dropout(h)                                                # (B, T, dirs·H)


class SequenceTagger(nn.Module):
    """Many-to-many: one tag per word, ŷ_t = softmax(U [h→_t ; h←_t] + c).

    forward(idx (B, T), targets (B, T) or None, lengths (B,) or None) -> (logits (B, T, n_tags), loss)
    Token id 0 is the pad; targets of -100 (the pads) are ignored, so the loss is the mean over real words.
    """

    def __init__(self, vocab_size: int, n_tags: int, embed_dim: int = 64, hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = True, cell: str = "lstm", impl: str = "torch",
                 dropout: float = 0.0):
        super().__init__()
        self.encoder = _Encoder(vocab_size, embed_dim, hidden_size, num_layers, bidirectional, cell, impl, dropout)
        self.head = nn.Linear(self.encoder.output_size, n_tags)               # U, c

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, lengths=None):
        logits = self.head(self.encoder.states(idx, lengths))               # (B, T, n_tags)
        loss = None
        if targets is not None:
            loss = token_loss(logits, targets, idx)
        return logits, loss


class SequenceClassifier(nn.Module):
    """Many-to-one: one label per sentence from a sentence encoding ("last", "mean" or "max" over real words).

    forward(idx (B, T), labels (B,) or None, lengths (B,) or None) -> (logits (B, n_classes), loss)
    """

    def __init__(self, vocab_size: int, n_classes: int = 2, embed_dim: int = 64, hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = True, cell: str = "lstm", pooling: str = "mean",
                 impl: str = "torch", dropout: float = 0.0):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.encoder = _Encoder(vocab_size, embed_dim, hidden_size, num_layers, bidirectional, cell, impl, dropout)
        self.head = nn.Linear(self.encoder.output_size, n_classes)

    def encode(self, idx: torch.Tensor, lengths=None) -> torch.Tensor:
        """The sentence encodings (B, dirs·H)."""
        h = self.encoder.states(idx, lengths)
        return encode(h, lengths, self.pooling, self.encoder.directions)

    def forward(self, idx: torch.Tensor, labels: torch.Tensor | None = None, lengths=None):
        logits = self.head(self.encode(idx, lengths))
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return logits, loss


class BiLM(nn.Module):
    """A "language model" that may look both ways: logits for x_{t+1} from [h→_t ; h←_t].

    With ``bidirectional=True`` it is a wrong model on purpose: h←_t has read x_{t+1} (the very word
    it must predict), so the training loss falls towards 0 by copying, not by modelling language.
    forward(idx (B, T), targets (B, T)) -> (logits (B, T, V), loss)
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 64, bidirectional: bool = True):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear((2 if bidirectional else 1) * hidden_size, vocab_size)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        h, _ = self.rnn(self.embed(idx))
        logits = self.head(h)
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


# ----------------------------------------------------------------------------- data: vocabularies and batches

class Vocab:
    """Word <-> id. Id 0 is the pad, id 1 the unknown word; the rest by frequency (ties alphabetical)."""

    PAD, UNK = "<pad>", "<unk>"

    def __init__(self, sentences, min_count: int = 1, lower: bool = True):
        self.lower = lower
        counts = Counter(self._norm(w) for s in sentences for w in s)
        words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        self.itos = [self.PAD, self.UNK] + words
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def _norm(self, w: str) -> str:
        return w.lower() if self.lower else w

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, w: str) -> bool:
        return self._norm(w) in self.stoi

    def encode(self, words) -> list[int]:
        return [self.stoi.get(self._norm(w), 1) for w in words]


def pad_batch(seqs: list[list[int]], pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Lists of ids -> (ids (B, T) padded with ``pad`` at the end, lengths (B,)); T = the longest."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if not len(seqs) or int(lengths.min()) < 1:
        raise ValueError("pad_batch needs at least one sequence, each at least one token long")
    out = torch.full((len(seqs), int(lengths.max())), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out, lengths


def _shuffled_batches(examples: list, batch_size: int, seed: int, collate):
    """Endless batches of ``batch_size`` examples, reshuffled every pass (seeded), each made by ``collate``."""
    rng = random.Random(seed)
    order = list(range(len(examples)))
    while True:
        rng.shuffle(order)
        for i in range(0, len(order) - batch_size + 1, batch_size):
            yield collate([examples[j] for j in order[i:i + batch_size]])


def tagging_batches(examples: list[tuple[list[int], list[int]]], batch_size: int, seed: int = 0):
    """Endless shuffled batches (ids (B, T), tags (B, T) with -100 at the pads, lengths (B,)) for train.train."""
    def collate(chunk):
        ids, lengths = pad_batch([w for w, _ in chunk])
        tags, _ = pad_batch([t for _, t in chunk], pad=-100)
        return ids, tags, lengths
    return _shuffled_batches(examples, batch_size, seed, collate)


def classification_batches(examples: list[tuple[list[int], int]], batch_size: int, seed: int = 0):
    """Endless shuffled batches (ids (B, T), labels (B,), lengths (B,)) for train.train."""
    def collate(chunk):
        ids, lengths = pad_batch([w for w, _ in chunk])
        return ids, torch.tensor([y for _, y in chunk]), lengths
    return _shuffled_batches(examples, batch_size, seed, collate)


@torch.no_grad()
def _argmax_batches(model: nn.Module, sentences: list[list[int]], batch_size: int):
    """(predictions (B, T) or (B,), lengths (B,)) per padded batch of ``sentences``, in eval mode."""
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    for i in range(0, len(sentences), batch_size):
        ids, lengths = pad_batch(sentences[i:i + batch_size])
        logits, _ = model(ids.to(device), None, lengths.to(device))
        yield logits.argmax(-1).cpu(), lengths
    model.train(was)


def predict_tags(model: SequenceTagger, sentences: list[list[int]], batch_size: int = 256) -> list[list[int]]:
    """The most likely tag id of every word, sentence by sentence (padded batches, pads dropped)."""
    return [pred[b, :int(n)].tolist() for pred, lengths in _argmax_batches(model, sentences, batch_size)
            for b, n in enumerate(lengths)]


def predict_labels(model: SequenceClassifier, sentences: list[list[int]], batch_size: int = 256) -> list[int]:
    """The most likely class of every sentence."""
    return [label for pred, _ in _argmax_batches(model, sentences, batch_size) for label in pred.tolist()]


@torch.no_grad()
def positive_probability(model: SequenceClassifier, vocab: Vocab, sentences: list[list[str]]) -> list[float]:
    """P(positive) for each tokenised sentence."""
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    ids, lengths = pad_batch([vocab.encode(s) for s in sentences])
    logits, _ = model(ids.to(device), None, lengths.to(device))
    model.train(was)
    return torch.softmax(logits, -1)[:, 1].cpu().tolist()


def tag_accuracy(gold: list[list[int]], pred: list[list[int]], only=None) -> float:
    """Fraction of words tagged right; ``only(sentence_index, position) -> bool`` picks a subset (e.g. unknown words)."""
    right = total = 0
    for s, (g, p) in enumerate(zip(gold, pred)):
        for t, (a, b) in enumerate(zip(g, p)):
            if only is None or only(s, t):
                total += 1
                right += int(a == b)
    return right / total if total else float("nan")


class MostFrequentTag:
    """The baseline: each known word gets the tag it had most often in training; an unknown word the most
    frequent tag overall (no context at all, left or right)."""

    def __init__(self, sentences: list[tuple[list[str], list[str]]], lower: bool = True):
        self.lower = lower
        per_word: dict[str, Counter] = {}
        overall = Counter()
        for words, tags in sentences:
            for w, t in zip(words, tags):
                per_word.setdefault(self._norm(w), Counter())[t] += 1
                overall[t] += 1
        self.default = min(overall, key=lambda t: (-overall[t], t))
        self.best = {w: min(c, key=lambda t: (-c[t], t)) for w, c in per_word.items()}

    def _norm(self, w: str) -> str:
        return w.lower() if self.lower else w

    def tag(self, words: list[str]) -> list[str]:
        return [self.best.get(self._norm(w), self.default) for w in words]


# ----------------------------------------------------------------------------- what each layer holds: linear probes

def _one_layer_modules(encoder: "_Encoder") -> list[nn.Module]:
    """The encoder's stack as L one-layer modules (weights shared by copy), so each layer's states can be read."""
    rnn = encoder.rnn
    if isinstance(rnn, DeepBiRNN):
        return list(rnn.layers)
    singles = []
    for l in range(rnn.num_layers):
        d_in = rnn.input_size if l == 0 else encoder.output_size
        one = type(rnn)(d_in, rnn.hidden_size, 1, batch_first=True, bidirectional=rnn.bidirectional)
        one = one.to(dtype=next(rnn.parameters()).dtype)
        one.load_state_dict({name.replace(f"_l{l}", "_l0"): p for name, p in rnn.named_parameters()
                             if name.endswith((f"_l{l}", f"_l{l}_reverse"))})
        singles.append(one.to(next(rnn.parameters()).device))
    return singles


@torch.no_grad()
def layer_states(model: SequenceTagger, sentences: list[list[int]], batch_size: int = 256) -> list[torch.Tensor]:
    """Every real word's representation at each level of the tagger's stack, in eval mode (no dropout):
    [embeddings (N, E), layer 1 states (N, dirs·H), ..., layer L states (N, dirs·H)], N = the number of words,
    in sentence order (the rows line up with the flattened gold tags)."""
    enc = model.encoder
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    singles = _one_layer_modules(enc)
    levels: list[list[torch.Tensor]] = [[] for _ in range(len(singles) + 1)]
    for i in range(0, len(sentences), batch_size):
        ids, lengths = pad_batch(sentences[i:i + batch_size])
        ids, lengths = ids.to(device), lengths.to(device)
        real = length_mask(lengths, ids.shape[1])                            # (B, T)
        h = enc.embed(ids)                                                   # (B, T, E)
        levels[0].append(h[real].cpu())
        for l, one in enumerate(singles, start=1):
            h = run_torch(one, h, lengths)[0] if not isinstance(one, BidirectionalLayer) else one(h, lengths)[0]
            levels[l].append(h[real].cpu())                                  # (words in batch, dirs·H)
    model.train(was)
    return [torch.cat(rows) for rows in levels]


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 ridge: float = 1.0) -> float:
    """Test accuracy of a linear readout fit to frozen features: how much of the tag can be *read off
    linearly* from a representation. x (N, C) float, y (N,) tag ids.

    The readout is least squares onto one-hot tags with a small ridge (closed form: one (C+1)x(C+1) solve,
    no training loop, no learning rate to tune per layer); the predicted tag is the largest output.
    """
    mu, sd = train_x.mean(0), train_x.std(0) + 1e-6                         # standardised: one ridge fits all
    def design(x):
        return torch.cat([(x - mu) / sd, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)   # (N, C+1), bias column
    X, Xt = design(train_x).double(), design(test_x).double()
    n_cls = int(max(train_y.max(), test_y.max())) + 1
    Y = F.one_hot(train_y, n_cls).double()                                   # (N, n_cls)
    W = torch.linalg.solve(X.T @ X + ridge * torch.eye(X.shape[1], dtype=X.dtype), X.T @ Y)
    return float(((Xt @ W).argmax(1) == test_y).double().mean())


# ----------------------------------------------------------------------------- POS tagging, one call

def pos_data(train_sentences, test_sentences, min_count: int = 1):
    """Vocabulary (from the training words), tag list, and id-encoded (words, tags) examples for both splits."""
    from .data import UPOS_TAGS
    vocab = Vocab([w for w, _ in train_sentences], min_count=min_count)
    tag_id = {t: i for i, t in enumerate(UPOS_TAGS)}

    def enc(sents):
        return [(vocab.encode(w), [tag_id[t] for t in ts]) for w, ts in sents]
    return vocab, list(UPOS_TAGS), enc(train_sentences), enc(test_sentences)


def train_tagger(train_examples, vocab_size: int, n_tags: int, *, bidirectional: bool, steps: int, seed: int = 0,
                 batch_size: int = 32, embed_dim: int = 64, hidden_size: int = 64, num_layers: int = 1,
                 cell: str = "lstm", lr: float = 5e-3, dropout: float = 0.2, device=None, progress: bool = False):
    """A seeded SequenceTagger trained with train.train; returns (model, history). Same seed: same start, same batches."""
    from .train import train
    torch.manual_seed(seed)
    model = SequenceTagger(vocab_size, n_tags, embed_dim, hidden_size, num_layers, bidirectional, cell,
                           dropout=dropout)
    hist = train(model, tagging_batches(train_examples, batch_size, seed), steps=steps, lr=lr,
                 device=device, progress=progress, desc="bi" if bidirectional else "uni")
    return model, hist


def train_classifier(train_examples, vocab_size: int, *, bidirectional: bool, pooling: str, steps: int,
                     seed: int = 0, batch_size: int = 64, embed_dim: int = 64, hidden_size: int = 64,
                     cell: str = "lstm", lr: float = 3e-3, dropout: float = 0.3, device=None, progress: bool = False):
    """A seeded SequenceClassifier trained with train.train; returns (model, history)."""
    from .train import train
    torch.manual_seed(seed)
    model = SequenceClassifier(vocab_size, 2, embed_dim, hidden_size, 1, bidirectional, cell, pooling,
                               dropout=dropout)
    hist = train(model, classification_batches(train_examples, batch_size, seed), steps=steps, lr=lr,
                 device=device, progress=progress, desc=f"{'bi' if bidirectional else 'uni'}-{pooling}")
    return model, hist


__all__ = ["reverse_padded", "length_mask", "unroll", "make_cell", "BidirectionalLayer", "DeepBiRNN",
           "copy_from_torch", "run_torch", "count_parameters", "last_state", "mean_pool", "max_pool", "encode",
           "SequenceTagger", "SequenceClassifier", "BiLM", "Vocab", "pad_batch", "tagging_batches",
           "classification_batches", "predict_tags", "predict_labels", "positive_probability", "tag_accuracy",
           "MostFrequentTag", "pos_data", "train_tagger", "train_classifier", "load_sst_models", "layer_states",
           "linear_probe"]


# ----------------------------------------------------------------------------- the SST-2 checkpoint of notebook 07
# made by:  python -m course_lib.birnn train-sst      (checked by: python -m course_lib.birnn train-sst --check)

SST_CONFIG = {"min_count": 10, "embed_dim": 32, "hidden_size": 32, "batch_size": 64, "steps": 2500, "lr": 2e-3,
              "dropout": 0.3, "seed": 0}
SST_MODELS = (("uni", "last"), ("uni", "mean"), ("bi", "last"), ("bi", "mean"), ("bi", "max"))


def sst_checkpoint_path() -> Path:
    return Path(__file__).resolve().parent.parent / "assets" / "sst2_birnn.pt"


def sst_vocab_and_examples(min_count: int = SST_CONFIG["min_count"]):
    """Vocabulary from the SST-2 training phrases and the id-encoded (train, dev, test) examples."""
    from .data import load_sst
    train_set = load_sst("sst2-train")
    vocab = Vocab([w for w, _ in train_set], min_count=min_count)

    def enc(rows):
        return [(vocab.encode(w), y) for w, y in rows]
    return vocab, enc(train_set), enc(load_sst("sst2-dev")), enc(load_sst("sst2-test"))


def train_sst_models(progress: bool = True) -> dict:
    """Train the five SST-2 classifiers of notebook 07 (seeded, CPU). Returns {name: (model, history)}."""
    cfg = SST_CONFIG
    vocab, train_ex, _, _ = sst_vocab_and_examples(cfg["min_count"])
    out = {}
    for direction, pooling in SST_MODELS:
        model, hist = train_classifier(train_ex, len(vocab), bidirectional=direction == "bi", pooling=pooling,
                                       steps=cfg["steps"], seed=cfg["seed"], batch_size=cfg["batch_size"],
                                       embed_dim=cfg["embed_dim"], hidden_size=cfg["hidden_size"], lr=cfg["lr"],
                                       # CPU on purpose: the shipped checkpoint is reproduced bit for bit
                                       dropout=cfg["dropout"], device="cpu", progress=progress)
        out[f"{direction}-{pooling}"] = (model, hist)
    return out


def _half_state(model: nn.Module) -> dict:
    # stored in float16 (half the size); the notebook's numbers are those of these rounded weights
    return {k: v.detach().cpu().half() for k, v in model.state_dict().items()}


def load_sst_models(path=None) -> tuple[Vocab, dict, dict]:
    """(vocab, {name: SequenceClassifier in eval mode}, info) from the shipped checkpoint."""
    ckpt = torch.load(path or sst_checkpoint_path(), map_location="cpu", weights_only=True)
    cfg = ckpt["config"]
    vocab, _, _, _ = sst_vocab_and_examples(cfg["min_count"])
    if len(vocab) != ckpt["vocab_size"]:
        raise ValueError(f"the SST-2 vocabulary has {len(vocab)} words, the checkpoint {ckpt['vocab_size']}")
    models = {}
    for name, state in ckpt["models"].items():
        direction, pooling = name.split("-")
        m = SequenceClassifier(len(vocab), 2, cfg["embed_dim"], cfg["hidden_size"], 1, direction == "bi", "lstm",
                               pooling, dropout=cfg["dropout"])
        m.load_state_dict({k: v.float() for k, v in state.items()})
        models[name] = m.eval()
    return vocab, models, ckpt["info"]


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.birnn")
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train-sst", help="train notebook 07's SST-2 classifiers and save assets/sst2_birnn.pt")
    t.add_argument("--out", default=str(sst_checkpoint_path()))
    t.add_argument("--check", action="store_true", help="retrain and compare with the saved file instead of writing")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # bit for bit reproducible with one thread
    trained = train_sst_models()
    vocab, _, _, test_ex = sst_vocab_and_examples()
    states = {name: _half_state(m) for name, (m, _) in trained.items()}
    if args.check:
        saved = torch.load(args.out, map_location="cpu", weights_only=True)["models"]
        same = saved.keys() == states.keys() and all(
            saved[n].keys() == states[n].keys() and all(torch.equal(saved[n][k], states[n][k]) for k in states[n])
            for n in states)
        print("identical to" if same else "DIFFERENT from", args.out)
        return 0 if same else 1
    info = {}
    for name, (m, hist) in trained.items():
        pred = predict_labels(m, [w for w, _ in test_ex])
        info[name] = {"test_accuracy": sum(int(p == y) for p, (_, y) in zip(pred, test_ex)) / len(test_ex),
                      "seconds": round(hist.seconds[-1], 1), "final_loss": round(hist.final_loss, 4)}
        print(name, info[name])
    torch.save({"config": SST_CONFIG, "vocab_size": len(vocab), "models": states, "info": info,
                "torch": torch.__version__.split("+")[0]}, args.out)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
