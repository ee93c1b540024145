"""The vanilla RNN, from the lecture's equations, and the RNN language model.

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)          (the cell)
    y_t = softmax(W_hy h_t + b_y)                       (the LM's output layer)

Shapes are batch-first throughout: x is ``(B, T, D)``, hidden states ``(B, T, H)``, and the
state passed between steps ``(B, H)`` per layer. Stacked states follow ``nn.RNN``:
``(num_layers, B, H)``.

Design, for the notebooks that follow: a *cell* maps ``(x_t, state) -> (h_t, state)``;
``StackedRecurrent`` unrolls any list of cells over time and layers. The LSTM and GRU cells of
notebook 06 (state ``(h, c)`` or ``h``) plug into the same unroller, and so do the BiRNN,
seq2seq and attention models built on them.

Initialisers against vanishing gradients (notebook 05): ``init_recurrent_(rnn, "identity")`` (the
IRNN: W_hh = I, b_h = 0, for ReLU cells) and ``init_recurrent_(rnn, "orthogonal")`` (W_hh = Q,
QQᵀ = I, equal to ``nn.init.orthogonal_``), for the scratch RNN and ``nn.RNN`` alike.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .train import token_loss

_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z}


def _check_x(x: torch.Tensor, input_size: int, what: str = "x") -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 3 or x.shape[-1] != input_size:
        raise ValueError(f"{what} must have shape (batch, time, {input_size}) (batch-first), got {tuple(x.shape)}")


class RNNCellScratch(nn.Module):
    """One step of the vanilla RNN: h_t = f(W_xh x_t + W_hh h_{t-1} + b_h), f = tanh by default.

    x_t: (B, D), h_prev: (B, H) -> h_t: (B, H). The parameters have the lecture's names.
    ``nonlinearity`` may be "tanh", "relu" (notebook 05) or "linear" (for gradient experiments).
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh", bias: bool = True):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"nonlinearity must be one of {sorted(_ACTIVATIONS)}, got {nonlinearity!r}")
        self.input_size, self.hidden_size, self.nonlinearity = input_size, hidden_size, nonlinearity
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b_h = nn.Parameter(torch.empty(hidden_size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # the same uniform(-1/sqrt(H), 1/sqrt(H)) as nn.RNN
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        return torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype or self.W_xh.dtype)

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = x_t @ self.W_xh.T + h_prev @ self.W_hh.T        # (B, H): W_xh x_t + W_hh h_{t-1}
        if self.b_h is not None:
            z = z + self.b_h
        h = _ACTIVATIONS[self.nonlinearity](z)               # (B, H)
        return h, h                                          # output and state are the same for an RNN


class StackedRecurrent(nn.Module):
    """Unroll a stack of cells over time: layer l reads the hidden states of layer l-1.

    forward(x (B, T, D), state=None) -> (outputs (B, T, H) of the top layer, final state)
    where ``state`` is a list with one cell state per layer (``None``: zeros).
    """

    def __init__(self, cells: list[nn.Module]):
        super().__init__()
        if not cells:
            raise ValueError("StackedRecurrent needs at least one cell")
        self.cells = nn.ModuleList(cells)
        self.input_size = cells[0].input_size
        self.hidden_size = cells[-1].hidden_size

    def init_state(self, batch_size: int, device=None, dtype=None) -> list:
        return [cell.init_state(batch_size, device, dtype) for cell in self.cells]

    def forward(self, x: torch.Tensor, state: list | None = None):
        _check_x(x, self.input_size)
        B, T, _ = x.shape
        state = list(state) if state is not None else self.init_state(B, x.device, x.dtype)
        if len(state) != len(self.cells):
            raise ValueError(f"state must hold one entry per layer ({len(self.cells)}), got {len(state)}")
        layer_input = x
        for l, cell in enumerate(self.cells):
            s, outputs = state[l], []
            for x_t in layer_input.unbind(1):                # T steps of (B, D); unbind is cheap in backward
                h, s = cell(x_t, s)
                outputs.append(h)
            state[l] = s
            layer_input = torch.stack(outputs, dim=1)        # (B, T, H): the next layer's input
        return layer_input, state


class HiddenStateStack(StackedRecurrent):
    """``StackedRecurrent`` with the interface of ``nn.RNN``/``nn.GRU`` for cells whose state is one
    tensor h: forward(x (B, T, D), h_0 (L, B, H) or None) -> (outputs (B, T, H), h_n (L, B, H)).
    Subclasses set ``num_layers``."""

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        if h0 is not None:
            expected = (self.num_layers, x.shape[0], self.hidden_size)
            if tuple(h0.shape) != expected:
                raise ValueError(f"h0 must have shape (num_layers, batch, hidden) = {expected}, got {tuple(h0.shape)}")
            h0 = list(h0.unbind(0))
        outputs, state = super().forward(x, h0)
        return outputs, torch.stack(state, dim=0)


class RNNScratch(HiddenStateStack):
    """A multi-layer vanilla RNN with the batch-first interface of ``nn.RNN(batch_first=True)``:

    forward(x (B, T, D), h0 (L, B, H) or None) -> (outputs (B, T, H), h_n (L, B, H)).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True):
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
        super().__init__([RNNCellScratch(input_size if l == 0 else hidden_size, hidden_size, nonlinearity, bias)
                          for l in range(num_layers)])
        self.num_layers = num_layers


@torch.no_grad()
def copy_rnn_weights(scratch: RNNScratch, reference: nn.RNN) -> None:
    """Give ``scratch`` the weights of ``reference`` (an ``nn.RNN``), so both compute the same function.

    nn.RNN has two biases per layer (b_ih and b_hh); their sum is the lecture's single b_h.
    """
    if reference.num_layers != scratch.num_layers or reference.hidden_size != scratch.hidden_size \
            or reference.input_size != scratch.input_size or reference.bidirectional:
        raise ValueError("the two RNNs differ in size, layers or direction")
    for l, cell in enumerate(scratch.cells):
        cell.W_xh.copy_(getattr(reference, f"weight_ih_l{l}"))
        cell.W_hh.copy_(getattr(reference, f"weight_hh_l{l}"))
        if cell.b_h is not None:
            cell.b_h.copy_(getattr(reference, f"bias_ih_l{l}") + getattr(reference, f"bias_hh_l{l}"))


# ----------------------------------------------------------------------------- initialisers (notebook 05)

def orthogonal_matrix(gaussian: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """The (semi-)orthogonal matrix that ``nn.init.orthogonal_`` makes from a Gaussian matrix.

    gaussian: (rows, cols) with N(0, 1) entries -> (rows, cols) with orthonormal rows (rows ≤ cols)
    or columns (rows ≥ cols), times ``gain``. QR-factorise A = QR (of Aᵀ when the matrix is wide)
    and flip each column of Q by the sign of R's diagonal: without the flip the result depends on
    the QR routine's sign convention and is not uniformly distributed (Mezzadri 2007).
    """
    if gaussian.ndim != 2:
        raise ValueError(f"gaussian must be a matrix (rows, cols), got shape {tuple(gaussian.shape)}")
    rows, cols = gaussian.shape
    a = gaussian.T if rows < cols else gaussian                 # QR needs a tall (or square) matrix
    q, r = torch.linalg.qr(a)                                   # q (max, min), r (min, min)
    q = q * torch.diagonal(r).sign()                            # column j times sign(r_jj)
    return gain * (q.T if rows < cols else q)


@torch.no_grad()
def orthogonal_(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill a (rows, cols) tensor with an orthogonal matrix, in place; equal to
    ``nn.init.orthogonal_(tensor, gain, generator)`` for the same generator state."""
    gaussian = tensor.new_empty(tensor.shape).normal_(0, 1, generator=generator)
    return tensor.copy_(orthogonal_matrix(gaussian, gain))


def _recurrent_layers(rnn: nn.Module) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
    """(W_hh, [biases]) per layer of an RNNScratch / StackedRecurrent of RNN cells, or an nn.RNN."""
    if isinstance(rnn, RNNCellScratch):
        return [(rnn.W_hh, [rnn.b_h] if rnn.b_h is not None else [])]
    if isinstance(rnn, StackedRecurrent):
        return [layer for cell in rnn.cells for layer in _recurrent_layers(cell)]
    if isinstance(rnn, nn.RNN) and not rnn.bidirectional:
        return [(getattr(rnn, f"weight_hh_l{l}"), [getattr(rnn, f"bias_{k}_l{l}") for k in ("ih", "hh") if rnn.bias])
                for l in range(rnn.num_layers)]
    raise TypeError(f"expected a vanilla RNN (RNNCellScratch, RNNScratch or a one-way nn.RNN), got {type(rnn).__name__}")


@torch.no_grad()
def init_recurrent_(rnn: nn.Module, scheme: str, gain: float = 1.0,
                    generator: torch.Generator | None = None) -> nn.Module:
    """Initialise the recurrent weights W_hh of every layer, in place, against vanishing gradients.

    scheme="identity": W_hh = gain · I and b_h = 0 (the IRNN of Le et al. 2015, meant for ReLU
    cells: with h_{t-1} ≥ 0 and no input the state is copied unchanged, so ∂h_t/∂h_{t-1} = I
    where units are active). W_xh keeps its default initialisation (the paper draws it from
    N(0, 0.001²); the default learns faster in our short runs).
    scheme="orthogonal": W_hh = gain · Q with Q a random orthogonal matrix (all singular values 1,
    so the linear part of each step neither shrinks nor grows any direction); biases are kept.
    Works on RNNCellScratch, RNNScratch / StackedRecurrent of RNN cells and nn.RNN (whose two
    biases b_ih + b_hh are the lecture's b_h). Returns ``rnn``.
    """
    if scheme not in ("identity", "orthogonal"):
        raise ValueError(f"scheme must be 'identity' or 'orthogonal', got {scheme!r}")
    for W_hh, biases in _recurrent_layers(rnn):
        if scheme == "identity":
            W_hh.copy_(gain * torch.eye(W_hh.shape[0], dtype=W_hh.dtype))
            for b in biases:
                b.zero_()
        else:
            orthogonal_(W_hh, gain, generator)
    return rnn


# ----------------------------------------------------------------------------- the RNN language model

class RNNLM(nn.Module):
    """Embedding -> recurrent layers -> linear output: y_t = softmax(W_hy h_t + b_y).

    forward(idx (B, T), targets (B, T) or None, state=None) -> (logits (B, T, V), loss)
    The loss is the cross-entropy per step, averaged over all steps (targets of -100 ignored);
    exp(loss) is the perplexity. ``impl="torch"`` uses nn.RNN (fast, oneDNN), ``impl="scratch"``
    the RNNScratch above; after ``copy_rnn_weights`` they compute the same thing.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256, num_layers: int = 1,
                 impl: str = "torch", nonlinearity: str = "tanh"):
        super().__init__()
        if impl not in ("torch", "scratch"):
            raise ValueError(f"impl must be 'torch' or 'scratch', got {impl!r}")
        self.vocab_size, self.impl = vocab_size, impl
        self.embed = nn.Embedding(vocab_size, embed_dim)
        if impl == "torch":
            self.rnn = nn.RNN(embed_dim, hidden_size, num_layers, nonlinearity=nonlinearity, batch_first=True)
        else:
            self.rnn = RNNScratch(embed_dim, hidden_size, num_layers, nonlinearity)
        self.head = nn.Linear(hidden_size, vocab_size)                # W_hy, b_y

    def step_logits(self, idx: torch.Tensor, state: torch.Tensor | None = None):
        """(logits (B, T, V), final state (L, B, H)) for token ids ``idx`` (B, T), from ``state``."""
        if not isinstance(idx, torch.Tensor) or idx.ndim != 2 or idx.dtype != torch.long:
            raise ValueError(f"idx must be a (B, T) LongTensor of token ids, got "
                             f"{getattr(idx, 'shape', type(idx).__name__)} {getattr(idx, 'dtype', '')}")
        if int(idx.min()) < 0 or int(idx.max()) >= self.vocab_size:
            raise ValueError(f"token ids must be in [0, {self.vocab_size}), got min {int(idx.min())} max {int(idx.max())}")
        outputs, state = self.rnn(self.embed(idx), state)              # (B, T, H), (L, B, H)
        return self.head(outputs), state

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, state=None):
        logits, _ = self.step_logits(idx, state)
        loss = None
        if targets is not None:
            loss = token_loss(logits, targets, idx)
        return logits, loss


def temperature_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                      banned: list[int] | None = None) -> torch.Tensor:
    """softmax(logits / T) over the last axis, optionally keeping only the k largest and giving
    ``banned`` ids (e.g. <unk>, <pad>) probability 0, renormalised."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    logits = logits / temperature
    if banned:
        logits = logits.clone()
        logits[..., banned] = -math.inf
    if top_k is not None:
        if not 1 <= top_k:
            raise ValueError(f"top_k must be >= 1, got {top_k!r}")
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    return torch.softmax(logits, dim=-1)


@torch.no_grad()
def generate(model: RNNLM, start: list[int], max_new_tokens: int = 100, temperature: float = 1.0,
             top_k: int | None = None, eos_id: int | None = None, banned: list[int] | None = None,
             generator: torch.Generator | None = None) -> list[int]:
    """Sample a continuation of ``start`` (token ids): feed the prompt, then repeatedly draw the
    next token from softmax(logits / T), feed it back, and stop at ``eos_id``. Ids in ``banned``
    (e.g. ``<unk>``) are never drawn: the lecture's "resample if <unk>", done exactly."""
    if not start:
        raise ValueError("start must hold at least one token id (e.g. <bos>, or a prompt)")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    logits, state = model.step_logits(torch.tensor([start], device=device))
    out: list[int] = []
    for _ in range(max_new_tokens):
        p = temperature_probs(logits[0, -1], temperature, top_k, banned)
        nxt = int(torch.multinomial(p.cpu(), 1, generator=generator))
        if eos_id is not None and nxt == eos_id:
            break
        out.append(nxt)
        logits, state = model.step_logits(torch.tensor([[nxt]], device=device), state)
    model.train(was_training)
    return out
