"""Bidirectional and deep (stacked) RNNs over any of the course's cells, with padding; a tagger and a classifier.

The lecture's bidirectional RNN runs two independent recurrences over the same sentence, one left to
right and one right to left, and reads both at every position::

    h→_t = f(W→ x_t + V→ h→_{t-1} + b→)           the forward cell (any cell: RNN, LSTM, GRU)
    h←_t = f(W← x_t + V← h←_{t+1} + b←)           the backward cell, its own weights (twice the parameters)
    ŷ_t  = g(U [h→_t ; h←_t] + c)                  the output reads the concatenation (B, T, 2H)

A deep RNN stacks layers: layer i's states (both directions, concatenated) are layer i+1's inputs.

Padding. A batch holds sentences of different lengths, padded at the end to ``(B, T, D)``; ``lengths``
``(B,)`` says how many positions of each row are real. Two things must hold for a padded batch to
give the same per-sentence result as running each sentence alone:

* the forward direction reads positions 0..len-1 in order; the pads come after, so they only need
  to be kept out of the final state (it is the state at position len-1) and out of the outputs (zeros);
* the backward direction must start at the last *real* word, not at the last pad: each row's valid
  prefix is reversed (``reverse_padded``), run left to right, and reversed back. Reversing the whole
  row would feed the pads first and change every backward state.

The scratch cells (``rnn.RNNCellScratch``, ``lstm_gru.LSTMCellScratch`` / ``GRUCellScratch``) map
``(x_t (B, D), state) -> (h_t (B, H), state)``; ``unroll`` runs one over time like
``rnn.StackedRecurrent`` does, with a mask: at a padded step the state is not updated. ``DeepBiRNN``
with copied weights computes what ``nn.LSTM / nn.GRU / nn.RNN(bidirectional=True, num_layers=L)``
computes on a packed sequence (``copy_from_torch``; tests/test_birnn.py, float64, ≤ 1e-6).

For training, ``SequenceTagger`` and ``SequenceClassifier`` use ``impl="torch"`` (nn.LSTM etc. on a
packed sequence: the same function, much faster); ``impl="scratch"`` uses ``DeepBiRNN``.
Shapes are batch-first throughout: tokens ``(B, T)``, states ``(B, T, H)`` or ``(B, T, 2H)``.
"""
from __future__ import annotations

import random
from pathlib import Path
from collections import Counter

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .lstm_gru import GRUCellScratch, LSTMCellScratch
from .rnn import RNNCellScratch
from .text import length_mask  # (B, T) bool, True at the real positions
from .train import token_loss

CELLS = ("rnn", "lstm", "gru")
POOLINGS = ("last", "mean", "max")


# ----------------------------------------------------------------------------- padding helpers

def _lengths(lengths, B: int, T: int, device) -> torch.Tensor:
    """``lengths`` as a LongTensor (B,) on ``device`` (``None``: every row is T long), checked."""
    if lengths is None:
        return torch.full((B,), T, dtype=torch.long, device=device)
    lengths = torch.as_tensor(lengths, dtype=torch.long).to(device)
    if lengths.shape != (B,):
        raise ValueError(f"lengths must have shape (batch,) = ({B},), got {tuple(lengths.shape)}")
    if B and (int(lengths.min()) < 1 or int(lengths.max()) > T):
        raise ValueError(f"every length must be in 1..T = 1..{T}, got min {int(lengths.min())} max {int(lengths.max())}")
    return lengths


def reverse_padded(x: torch.Tensor, lengths=None) -> torch.Tensor:
    """Reverse each row's first ``length`` positions along time; the pads stay where they are.

    x (B, T, ...) -> (B, T, ...). Row b becomes x[b, len-1], ..., x[b, 0], pads. Applying it twice
    gives x back, which is how the backward direction's outputs are put back in sentence order.
    """
    B, T = x.shape[:2]
    lengths = _lengths(lengths, B, T, x.device)
    t = torch.arange(T, device=x.device)[None, :]                         # (1, T)
    src = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T): where each position reads from
    idx = src.reshape(B, T, *([1] * (x.ndim - 2))).expand_as(x)
    return x.gather(1, idx)


def _where_state(keep: torch.Tensor, new, old):
    """Per row: the new state where ``keep`` (B,) is True, else the old one (a state is h or (h, c))."""
    if isinstance(new, tuple):
        return tuple(_where_state(keep, n, o) for n, o in zip(new, old))
    return torch.where(keep[:, None], new, old)


def unroll(cell: nn.Module, x: torch.Tensor, lengths=None, state=None):
    """Run one cell left to right over a padded batch.

    x (B, T, D), lengths (B,) or None, state: the cell's (None: zeros) ->
    (outputs (B, T, H), final state). At a padded step t >= length the state is not updated and the
    output is 0, so the final state is the one after each row's last real word.
    """
    B, T, _ = x.shape
    lengths = _lengths(lengths, B, T, x.device)
    state = cell.init_state(B, x.device, x.dtype) if state is None else state
    outputs = []
    for t, x_t in enumerate(x.unbind(1)):                 # T steps of (B, D)
        h, new_state = cell(x_t, state)
        real = lengths > t                                  # (B,) rows that still have a word at t
        state = _where_state(real, new_state, state)
        outputs.append(h * real[:, None].to(h.dtype))       # pads give 0, as pad_packed_sequence does
    return torch.stack(outputs, dim=1), state


def _h(state):
    return state[0] if isinstance(state, tuple) else state


# ----------------------------------------------------------------------------- layers

def make_cell(cell: str, input_size: int, hidden_size: int) -> nn.Module:
    """A scratch cell by name: "rnn" (tanh), "lstm", or "gru" (nn.GRU's convention, reset after the product)."""
    if cell == "rnn":
        return RNNCellScratch(input_size, hidden_size)
    if cell == "lstm":
        return LSTMCellScratch(input_size, hidden_size)
    if cell == "gru":
        return GRUCellScratch(input_size, hidden_size, reset_after=True)
    raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")


class BidirectionalLayer(nn.Module):
    """Two cells over one sentence: forward reads x_1..x_n, backward reads x_n..x_1 (its own weights).

    forward(x (B, T, D), lengths (B,) or None) -> (outputs (B, T, 2H) = [h→_t ; h←_t], (final→, final←))
    where final→ is the forward cell's state after the last real word, final← the backward cell's
    state after reading back to the first word (both the cell's kind of state: h, or (h, c)).
    With ``backward_cell=None`` the layer is one-directional: outputs (B, T, H).
    """

    def __init__(self, forward_cell: nn.Module, backward_cell: nn.Module | None = None):
        super().__init__()
        if backward_cell is not None and (backward_cell.input_size != forward_cell.input_size
                                          or backward_cell.hidden_size != forward_cell.hidden_size):
            raise ValueError("the two directions' cells must have the same input and hidden sizes")
        self.forward_cell, self.backward_cell = forward_cell, backward_cell
        self.input_size = forward_cell.input_size
        self.directions = 1 if backward_cell is None else 2
        self.hidden_size = forward_cell.hidden_size
        self.output_size = self.directions * self.hidden_size

    def forward(self, x: torch.Tensor, lengths=None):
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"x must have shape (batch, time, {self.input_size}), got {tuple(x.shape)}")
        out_f, final_f = unroll(self.forward_cell, x, lengths)                 # (B, T, H)
        if self.backward_cell is None:
            return out_f, (final_f,)
        x_rev = reverse_padded(x, lengths)                                     # each sentence back to front
        out_b_rev, final_b = unroll(self.backward_cell, x_rev, lengths)        # h←, in reversed order
        out_b = reverse_padded(out_b_rev, lengths)                             # h←_t back at position t
        return torch.cat([out_f, out_b], dim=-1), (final_f, final_b)           # (B, T, 2H)


class DeepBiRNN(nn.Module):
    """L layers of ``BidirectionalLayer``: layer l+1 reads layer l's outputs (2H wide when bidirectional).

    forward(x (B, T, D), lengths (B,) or None) -> (outputs (B, T, directions·H) of the top layer,
    h_n (L·directions, B, H)) with h_n ordered as nn.LSTM's: layer 0 forward, layer 0 backward, layer 1 ...
    (for the LSTM, h_n holds h only; ``final_states`` keeps the full states of the last call).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = True,
                 cell: str = "lstm"):
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
        self.cell, self.num_layers, self.bidirectional = cell, num_layers, bool(bidirectional)
        self.directions = 2 if bidirectional else 1
        self.input_size, self.hidden_size = input_size, hidden_size
        layers = []
        for l in range(num_layers):
            d_in = input_size if l == 0 else self.directions * hidden_size   # the layer below's [h→ ; h←]
            layers.append(BidirectionalLayer(make_cell(cell, d_in, hidden_size),
                                             make_cell(cell, d_in, hidden_size) if bidirectional else None))
        self.layers = nn.ModuleList(layers)
        self.output_size = self.directions * hidden_size
        self.final_states: list = []

    def forward(self, x: torch.Tensor, lengths=None):
        finals = []
        layer_input = x
        for layer in self.layers:
            layer_input, final = layer(layer_input, lengths)      # this layer's states are the next one's inputs
            finals.extend(final)
        self.final_states = finals
        return layer_input, torch.stack([_h(s) for s in finals], dim=0)


def _torch_class(cell: str):
    return {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]


def _direction_cells(model: DeepBiRNN):
    for l, layer in enumerate(model.layers):
        yield layer.forward_cell, f"_l{l}"
        if layer.backward_cell is not None:
            yield layer.backward_cell, f"_l{l}_reverse"


def _check_pair(model: DeepBiRNN, reference: nn.Module) -> None:
    want = _torch_class(model.cell)
    if not isinstance(reference, want):
        raise TypeError(f"a {model.cell} DeepBiRNN copies from/to an nn.{want.__name__}, got {type(reference).__name__}")
    if (reference.num_layers, reference.bidirectional, reference.input_size, reference.hidden_size) != \
            (model.num_layers, model.bidirectional, model.input_size, model.hidden_size):
        raise ValueError("the two differ in layers, direction, input size or hidden size")
    if not reference.bias or getattr(reference, "proj_size", 0) or \
            (model.cell == "rnn" and reference.nonlinearity != "tanh"):
        raise ValueError("only references with biases, no projection and (RNN) tanh are supported")


@torch.no_grad()
def copy_from_torch(model: DeepBiRNN, reference: nn.Module) -> None:
    """Give ``model`` the weights of ``reference`` (nn.RNN / nn.LSTM / nn.GRU with the same shape).

    PyTorch names the backward direction's parameters ``..._l{l}_reverse``. Its two biases
    b_ih + b_hh add up to the lecture's single bias (RNN, LSTM); the GRU keeps both (see lstm_gru).
    """
    _check_pair(model, reference)
    for cell, sfx in _direction_cells(model):
        cell.W_xh.copy_(getattr(reference, f"weight_ih{sfx}"))
        cell.W_hh.copy_(getattr(reference, f"weight_hh{sfx}"))
        b_ih, b_hh = getattr(reference, f"bias_ih{sfx}"), getattr(reference, f"bias_hh{sfx}")
        if isinstance(cell, GRUCellScratch):
            cell.b_xh.copy_(b_ih)
            cell.b_hh.copy_(b_hh)
        elif isinstance(cell, LSTMCellScratch):
            cell.b.copy_(b_ih + b_hh)
        else:
            cell.b_h.copy_(b_ih + b_hh)


def run_torch(reference: nn.Module, x: torch.Tensor, lengths=None):
    """nn.RNN/LSTM/GRU(batch_first=True) on a padded batch, packed so that the pads are never read:
    -> (outputs (B, T, directions·H), zeros at the pads; h_n (layers·directions, B, H))."""
    B, T, _ = x.shape
    lengths = _lengths(lengths, B, T, x.device)
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, state = reference(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
    return out, (state[0] if isinstance(state, tuple) else state)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable numbers in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- sentence encodings

def last_state(h: torch.Tensor, lengths, directions: int = 1) -> torch.Tensor:
    """The sentence as the last states: h (B, T, directions·H) -> (B, directions·H).

    Forward direction: its state at the last real word (position len-1). Backward direction: its
    state at position 0, which is where it finishes reading (it has seen the whole sentence there).
    """
    B, T, C = h.shape
    lengths = _lengths(lengths, B, T, h.device)
    H = C // directions
    fwd = h[torch.arange(B, device=h.device), lengths - 1, :H]           # (B, H)
    if directions == 1:
        return fwd
    return torch.cat([fwd, h[:, 0, H:]], dim=-1)                         # (B, 2H)


def mean_pool(h: torch.Tensor, lengths) -> torch.Tensor:
    """Mean over the real positions only: h (B, T, C) -> (B, C). Pads count neither in the sum nor in the count."""
    B, T, _ = h.shape
    lengths = _lengths(lengths, B, T, h.device)
    mask = length_mask(lengths, T).to(h.dtype)[..., None]                # (B, T, 1)
    return (h * mask).sum(1) / lengths[:, None].to(h.dtype)


def max_pool(h: torch.Tensor, lengths) -> torch.Tensor:
    """Elementwise max over the real positions only: h (B, T, C) -> (B, C) (pads set to -inf first)."""
    B, T, _ = h.shape
    lengths = _lengths(lengths, B, T, h.device)
    mask = length_mask(lengths, T)[..., None]
    return h.masked_fill(~mask, float("-inf")).max(dim=1).values


def encode(h: torch.Tensor, lengths, pooling: str, directions: int = 1) -> torch.Tensor:
    """A sentence encoding (B, C) from states (B, T, C): pooling "last", "mean" or "max" (all padding-aware)."""
    if pooling == "last":
        return last_state(h, lengths, directions)
    if pooling == "mean":
        return mean_pool(h, lengths)
    if pooling == "max":
        return max_pool(h, lengths)
    raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")


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
        if impl == "torch":
            self.rnn = _torch_class(cell)(embed_dim, hidden_size, num_layers, batch_first=True,
                                          bidirectional=bidirectional)
        else:
            self.rnn = DeepBiRNN(embed_dim, hidden_size, num_layers, bidirectional, cell)
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
           "MostFrequentTag", "pos_data", "train_tagger", "train_classifier", "load_sst_models"]


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
