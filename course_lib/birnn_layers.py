"""Bidirectional and deep (stacked) RNN layers over any of the course's cells, with padding, and sentence encodings.

The lecture's bidirectional RNN runs two independent recurrences over the same sentence, one left to
right and one right to left, and reads both at every position::

    h→_t = f(W→ x_t + V→ h→_{t-1} + b→)           the forward cell (any cell: RNN, LSTM, GRU)
    h←_t = f(W← x_t + V← h←_{t+1} + b←)           the backward cell, its own weights (twice the parameters)
    ŷ_t  = g(U [h→_t ; h←_t] + c)                  the output reads the concatenation (B, T, 2H)

A deep RNN stacks layers: layer i's states (both directions, concatenated) are layer i+1's inputs.
In the notes' notation, with h_t^(0) = x_t and one direction written out::

    h_t^(i) = f(W^(i) h_t^(i-1) + V^(i) h_{t-1}^(i) + b^(i))     i = 1..L: W reads the layer below, V the past

``DeepBiRNN(dropout=p)`` drops units of h^(i) on the way up to layer i+1 (training only), as
``nn.LSTM(dropout=p)`` does; nothing is dropped along time.

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

The models, data and training built on these layers (tagger, classifier, SST-2 checkpoint) are in
``course_lib.birnn``, which re-exports everything here: ``from course_lib import birnn; birnn.DeepBiRNN``.

Shapes are batch-first throughout: tokens ``(B, T)``, states ``(B, T, H)`` or ``(B, T, 2H)``.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .lstm_gru import GRUCellScratch, LSTMCellScratch
from .rnn import RNNCellScratch
from .text import length_mask  # (B, T) bool, True at the real positions

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
                 cell: str = "lstm", dropout: float = 0.0):
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.between = nn.Dropout(dropout)                  # between layers only, as nn.LSTM(dropout=...)
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
        for l, layer in enumerate(self.layers):
            if l:
                layer_input = self.between(layer_input)           # identity in eval mode or with dropout 0
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


__all__ = ["CELLS", "POOLINGS", "reverse_padded", "length_mask", "unroll", "make_cell", "BidirectionalLayer",
           "DeepBiRNN", "copy_from_torch", "run_torch", "count_parameters", "last_state", "mean_pool", "max_pool",
           "encode"]
