"""The LSTM and the GRU, from the lecture's equations, plugged into ``rnn.StackedRecurrent``.

LSTM (one step; σ is the logistic sigmoid, ⊙ the elementwise product)::

    i_t = σ(W_xi x_t + W_hi h_{t-1} + b_i)          input gate
    f_t = σ(W_xf x_t + W_hf h_{t-1} + b_f)          forget gate
    c̃_t = tanh(W_xc x_t + W_hc h_{t-1} + b_c)       candidate cell content
    o_t = σ(W_xo x_t + W_ho h_{t-1} + b_o)          output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t                 the cell state: a sum, not a squashing
    h_t = o_t ⊙ tanh(c_t)

The lecture writes W_f[h_{t-1}, x_t]: that is the same product split in two, W_hf h_{t-1} + W_xf x_t.

GRU, in the lecture's convention (reset applied to h_{t-1} *before* the product)::

    r_t = σ(W_xr x_t + W_hr h_{t-1} + b_r)          reset gate
    z_t = σ(W_xz x_t + W_hz h_{t-1} + b_z)          update gate
    h̃_t = tanh(W_xh x_t + W_hh (r_t ⊙ h_{t-1}) + b_h)
    h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t

and in ``nn.GRU``'s convention (``reset_after=True``, Keras' name for it), the reset gate
multiplies the product's *result*: h̃_t = tanh(W_xh x_t + b_xh + r_t ⊙ (W_hh h_{t-1} + b_hh)).
The two are different functions (same parameters, different outputs); both are here.

Storage: like ``nn.LSTM`` / ``nn.GRU``, the gate blocks are stacked in one matrix, in PyTorch's
order, so that a step is two matrix products: LSTM ``W_xh`` (4H, D), ``W_hh`` (4H, H) with
blocks (i, f, c̃, o) (PyTorch calls c̃ "g"); GRU ``W_xh`` (3H, D), ``W_hh`` (3H, H) with blocks
(r, z, h̃) (PyTorch calls h̃ "n"). The LSTM has the lecture's single bias b (4H); the GRU keeps
two, b_xh and b_hh (3H each), because in nn.GRU's convention b_hh's h̃ block sits inside the
reset product (in the lecture's convention they simply add up to the lecture's b).

``LSTMScratch`` runs each layer as ``LSTMLayerBPTT`` by default: the same equations over the whole
sequence, with the backward pass (BPTT, notebook 04) written out by hand, which is as fast as nn.LSTM
on a CPU; ``bptt="autograd"`` steps ``LSTMCellScratch`` and lets autograd differentiate.

Shapes are batch-first: x ``(B, T, D)``, outputs ``(B, T, H)``; a cell's state is ``(h, c)``
(LSTM) or ``h`` (GRU), each ``(B, H)``; stacked states follow nn.LSTM/nn.GRU: ``(L, B, H)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from .rnn import RNNLM, HiddenStateStack, StackedRecurrent, _check_x

CELLS = ("rnn", "lstm", "gru")


def _positive_int(name: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")


def _uniform_init(module: nn.Module, hidden_size: int) -> None:
    # the same uniform(-1/sqrt(H), 1/sqrt(H)) as nn.LSTM and nn.GRU
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


def _check_state(t: torch.Tensor, B: int, H: int, what: str) -> None:
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != (B, H):
        raise ValueError(f"{what} must have shape (batch, hidden) = {(B, H)}, got {tuple(getattr(t, 'shape', ()))}")


# ----------------------------------------------------------------------------- the LSTM cell

class LSTMCellScratch(nn.Module):
    """One LSTM step: x_t (B, D), state (h_{t-1}, c_{t-1}) each (B, H) -> (h_t, (h_t, c_t)).

    Parameters: ``W_xh`` (4H, D), ``W_hh`` (4H, H), ``b`` (4H,), gate blocks in the order
    (i, f, c̃, o) (nn.LSTM's (i, f, g, o)). ``forget_bias`` sets b_f (the forget gate's block of b)
    after the uniform initialisation: a positive value starts f_t near 1, so the cell state is kept
    and the gradient flows back through c_t (Gers et al. 2000; Jozefowicz et al. 2015 use 1).
    ``peephole=True`` adds Gers & Schmidhuber's peephole weights ``w_ci, w_cf, w_co`` (H,): the
    gates also see the cell, i_t = σ(... + w_ci ⊙ c_{t-1}), f_t likewise, o_t = σ(... + w_co ⊙ c_t).
    """

    GATES = ("i", "f", "c̃", "o")

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0, peephole: bool = False):
        super().__init__()
        _positive_int("input_size", input_size)
        _positive_int("hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.peephole = input_size, hidden_size, bool(peephole)
        H = hidden_size
        self.W_xh = nn.Parameter(torch.empty(4 * H, input_size))
        self.W_hh = nn.Parameter(torch.empty(4 * H, H))
        self.b = nn.Parameter(torch.empty(4 * H))
        if self.peephole:
            self.w_ci, self.w_cf, self.w_co = (nn.Parameter(torch.empty(H)) for _ in range(3))
        self.forget_bias = float(forget_bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)
        with torch.no_grad():
            if self.forget_bias:
                self.b[self.hidden_size:2 * self.hidden_size] = self.forget_bias
            if self.peephole:                # start as the plain LSTM: the peepholes are learned from zero
                for w in (self.w_ci, self.w_cf, self.w_co):
                    w.zero_()

    def init_state(self, batch_size: int, device=None, dtype=None) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype or self.W_xh.dtype)
        return z, z.clone()

    def step(self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Every quantity of one step, by the lecture's names: i, f, c̃ ("c_tilde"), o, c, h, each (B, H)."""
        h_prev, c_prev = state
        pre = torch.addmm(self.b, x_t, self.W_xh.T) + h_prev @ self.W_hh.T      # (B, 4H): all four gates at once
        a_i, a_f, a_c, a_o = pre.chunk(4, dim=1)                              # (B, H) each, order i, f, c̃, o
        if self.peephole:
            a_i = a_i + self.w_ci * c_prev
            a_f = a_f + self.w_cf * c_prev
        i, f, c_tilde = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_c)
        c = f * c_prev + i * c_tilde                  # keep a fraction f of the old cell, write i of the new
        if self.peephole:
            a_o = a_o + self.w_co * c                 # the output gate peeks at the *new* cell state
        o = torch.sigmoid(a_o)
        h = o * torch.tanh(c)
        return {"i": i, "f": f, "c_tilde": c_tilde, "o": o, "c": c, "h": h}

    def forward(self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        s = self.step(x_t, state)
        return s["h"], (s["h"], s["c"])


# ----------------------------------------------------------------------------- the GRU cell

class GRUCellScratch(nn.Module):
    """One GRU step: x_t (B, D), h_{t-1} (B, H) -> (h_t, h_t).

    Parameters: ``W_xh`` (3H, D), ``W_hh`` (3H, H), ``b_xh`` and ``b_hh`` (3H,), blocks (r, z, h̃)
    (nn.GRU's (r, z, n)). ``reset_after=False`` is the lecture's h̃_t = tanh(W_xh x_t + W_hh (r_t ⊙ h_{t-1}) + b);
    ``reset_after=True`` is nn.GRU's h̃_t = tanh(W_xh x_t + b_xh + r_t ⊙ (W_hh h_{t-1} + b_hh)).
    ``update_bias`` sets the update gate's bias b_z (in b_xh): a positive value starts z_t near 1,
    which keeps h_{t-1} (the GRU's counterpart of the LSTM's forget-gate bias).
    """

    GATES = ("r", "z", "h̃")

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = False, update_bias: float = 0.0):
        super().__init__()
        _positive_int("input_size", input_size)
        _positive_int("hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.reset_after = input_size, hidden_size, bool(reset_after)
        H = hidden_size
        self.W_xh = nn.Parameter(torch.empty(3 * H, input_size))
        self.W_hh = nn.Parameter(torch.empty(3 * H, H))
        self.b_xh = nn.Parameter(torch.empty(3 * H))
        self.b_hh = nn.Parameter(torch.empty(3 * H))
        self.update_bias = float(update_bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)
        if self.update_bias:
            with torch.no_grad():
                self.b_xh[self.hidden_size:2 * self.hidden_size] = self.update_bias
                self.b_hh[self.hidden_size:2 * self.hidden_size] = 0.0

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        return torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype or self.W_xh.dtype)

    def step(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every quantity of one step: r, z, h_tilde, h, each (B, H)."""
        H = self.hidden_size
        gx = torch.addmm(self.b_xh, x_t, self.W_xh.T)                         # (B, 3H): input part of r, z, h̃
        if self.reset_after:                          # nn.GRU: one product for all three blocks
            gh = torch.addmm(self.b_hh, h_prev, self.W_hh.T)                   # (B, 3H)
            r, z = torch.sigmoid(gx[:, :2 * H] + gh[:, :2 * H]).chunk(2, dim=1)
            h_tilde = torch.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])           # r_t ⊙ (W_hh h_{t-1} + b_hh)
        else:                                         # the lecture: reset h_{t-1} first, then multiply
            gh = torch.addmm(self.b_hh[:2 * H], h_prev, self.W_hh[:2 * H].T)  # (B, 2H)
            r, z = torch.sigmoid(gx[:, :2 * H] + gh).chunk(2, dim=1)
            h_tilde = torch.tanh(gx[:, 2 * H:] + torch.addmm(self.b_hh[2 * H:], r * h_prev, self.W_hh[2 * H:].T))
        h = z * h_prev + (1 - z) * h_tilde            # z keeps the old state, 1 − z lets the candidate in
        return {"r": r, "z": z, "h_tilde": h_tilde, "h": h}

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor):
        h = self.step(x_t, h_prev)["h"]
        return h, h


# ----------------------------------------------------------------------------- one LSTM layer, BPTT by hand

def _onednn_probe() -> bool:
    """True if PyTorch's oneDNN matrix product (the library nn.LSTM runs on, on a CPU) is there and right."""
    op = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)
    if op is None or not torch.backends.mkldnn.is_available():
        return False
    try:
        g = torch.Generator().manual_seed(0)
        a, w, base = (torch.randn(*shape, generator=g) for shape in ((3, 5), (4, 5), (3, 4)))
        ok = torch.allclose(op.binary(a, base, w, None, "add"), torch.addmm(base, a, w.T), atol=1e-5)
        return ok and torch.allclose(op(a, w, base[0], "none", [], ""), torch.addmm(base[0], a, w.T), atol=1e-5)
    except Exception:                                   # an op's signature changed: use torch.addmm
        return False


class _MatMul:
    """``base + a @ W.T`` (and ``a @ W.T + bias``), on the library that fits the tensors.

    Why: on a CPU, nn.LSTM runs its matrix products in oneDNN; plain ``@`` goes to MKL, which on
    some CPUs (the course's AMD machine) is about 2× slower at these sizes. For a fair race the
    hand-written LSTM uses oneDNN too where nn.LSTM would (CPU, float32); anywhere else (float64,
    CUDA, a PyTorch without the op) it is ``torch.addmm``. ``use_onednn = False`` switches it off.
    """

    def __init__(self):
        self.use_onednn = None                          # None: probe on first use

    def _onednn(self, a: torch.Tensor) -> bool:
        if a.device.type != "cpu" or a.dtype != torch.float32:
            return False
        if self.use_onednn is None:
            self.use_onednn = _onednn_probe()
        return self.use_onednn

    def add(self, base: torch.Tensor, a: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
        """base (N, M) + a (N, K) @ W.T, W (M, K)."""
        if self._onednn(a):
            return torch.ops.mkldnn._linear_pointwise.binary(a, base, W, None, "add")
        return torch.addmm(base, a, W.T)

    def linear(self, a: torch.Tensor, W: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """a (N, K) @ W.T (W (M, K)) + bias (M,)."""
        if self._onednn(a):
            return torch.ops.mkldnn._linear_pointwise(a, W, bias, "none", [], "")
        return a @ W.T if bias is None else torch.addmm(bias, a, W.T)


matmul = _MatMul()


def _tanh(a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """tanh(a) = 2σ(2a) − 1, written to ``out``: the same function, and on the course's CPU PyTorch's
    sigmoid kernel is several times faster than its tanh (measured: ~4 µs against ~35 µs for 64×256 floats)."""
    return torch.mul(a, 2, out=out).sigmoid_().mul_(2).sub_(1)


class LSTMLayerBPTT(torch.autograd.Function):
    """One LSTM layer over all T steps, with backpropagation through time written out by hand.

    forward(x (B, T, D), W_xh (4H, D), W_hh (4H, H), b (4H,), h_0 (B, H), c_0 (B, H))
    -> (outputs h_1..h_T (B, T, H), h_T (B, H), c_T (B, H)).

    The forward is ``LSTMCellScratch.step``'s equations, without building an autograd graph: the input
    part W_xh x_t + b of every step is one matrix product up front, then each step adds W_hh h_{t-1}
    (tanh is computed as 2σ(2a) − 1, the same function, because it is faster here; see ``_tanh``).
    It keeps i, f, c̃, o, c_t and tanh(c_t) of every step for the backward, which is notebook 04's
    BPTT for the LSTM (δa = gradient at a gate's pre-activation, σ' = σ(1 − σ), tanh' = 1 − tanh²):

        δh_t  = ∂L/∂h_t (from the outputs) + W_hhᵀ δa_{t+1}      (the recurrence through h)
        δc_t  = δc_{t+1} ⊙ f_{t+1} + δh_t ⊙ o_t ⊙ tanh'(c_t)      (the cell-state highway: only f)
        δa_o = δh_t ⊙ tanh(c_t) ⊙ σ'(a_o)     δa_i = δc_t ⊙ c̃_t ⊙ σ'(a_i)
        δa_f = δc_t ⊙ c_{t-1} ⊙ σ'(a_f)       δa_c̃ = δc_t ⊙ i_t ⊙ tanh'(a_c̃)
        ∂L/∂W_hh = Σ_t δa_t h_{t-1}ᵀ     ∂L/∂W_xh = Σ_t δa_t x_tᵀ     ∂L/∂b = Σ_t δa_t
        ∂L/∂x_t = W_xhᵀ δa_t             ∂L/∂h_0 = W_hhᵀ δa_1         ∂L/∂c_0 = δc_1 ⊙ f_1

    The weights are shared in time, so their gradients are sums over t: each is one matrix product
    over all steps (and sequences) at the end. tests/test_lstm_gru.py checks all of it against the
    step-by-step autograd path, nn.LSTM and finite differences. Differentiable once (no gradient of
    the gradient).
    """

    @staticmethod
    def forward(ctx, x, W_xh, W_hh, b, h0, c0):
        B, T, D = x.shape
        H = W_hh.shape[1]
        x = x.contiguous()
        gates = matmul.linear(x.view(B * T, D), W_xh, b).view(B, T, 4 * H)   # W_xh x_t + b, every t at once
        out = x.new_empty(B, T, H)                       # h_t
        cs = x.new_empty(B, T, H)                        # c_t
        tanh_c = x.new_empty(B, T, H)                    # tanh(c_t)
        h, c = h0, c0
        for t in range(T):
            pre = matmul.add(gates[:, t], h, W_hh)      # (B, 4H): + W_hh h_{t-1}
            g = gates[:, t]                              # overwritten by the gates i, f, c̃, o themselves
            pre[:, 2 * H:3 * H].mul_(2)                  # c̃ = tanh(a) = 2σ(2a) − 1: one sigmoid for all four
            torch.sigmoid(pre, out=g)
            i, f, c_tilde, o = g.chunk(4, dim=1)
            c_tilde.mul_(2).sub_(1)
            c = torch.mul(f, c, out=cs[:, t]).addcmul_(i, c_tilde)            # c_t = f ⊙ c_{t-1} + i ⊙ c̃
            h = torch.mul(o, _tanh(c, out=tanh_c[:, t]), out=out[:, t])       # h_t = o ⊙ tanh(c_t)
        ctx.save_for_backward(x, W_xh, W_hh, h0, c0, gates, out, cs, tanh_c)
        return out, out[:, -1].clone(), cs[:, -1].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_hT, d_cT):
        x, W_xh, W_hh, h0, c0, gates, out, cs, tanh_c = ctx.saved_tensors
        B, T, H4 = gates.shape
        H = H4 // 4
        delta = torch.empty_like(gates)                  # δa_t, (B, T, 4H), blocks i, f, c̃, o
        slope = gates.new_empty(B, H4)                   # σ' (i, f, o) and tanh' (c̃) of one step
        one = gates.new_ones(B, H)
        W_hh_T = W_hh.T.contiguous()
        dh = gates.new_zeros(B, H) if d_hT is None else d_hT.clone(memory_format=torch.contiguous_format)
        dc = gates.new_zeros(B, H) if d_cT is None else d_cT.clone(memory_format=torch.contiguous_format)
        if d_out is not None:
            d_out = d_out.contiguous()                   # (B, T, H); out.sum() sends a stride-0 one
            dh += d_out[:, T - 1]
        for t in reversed(range(T)):
            g, c_prev = gates[:, t], (cs[:, t - 1] if t else c0)
            i, f, c_tilde, o = g.chunk(4, dim=1)
            d_i, d_f, d_c, d_o = delta[:, t].chunk(4, dim=1)
            dc.addcmul_(dh, torch.addcmul(one, tanh_c[:, t], tanh_c[:, t], value=-1).mul_(o))  # + δh ⊙ o ⊙ tanh'(c_t)
            torch.mul(dh, tanh_c[:, t], out=d_o)
            torch.mul(dc, c_tilde, out=d_i)
            torch.mul(dc, c_prev, out=d_f)
            torch.mul(dc, i, out=d_c)
            torch.addcmul(g, g, g, value=-1, out=slope)                                # σ(1 − σ) for i, f, o
            torch.addcmul(one, c_tilde, c_tilde, value=-1, out=slope[:, 2 * H:3 * H])  # 1 − c̃² for c̃
            delta[:, t].mul_(slope)
            if t > 0 and d_out is not None:              # δh_{t-1} = ∂L/∂h_{t-1} + W_hhᵀ δa_t
                dh = matmul.add(d_out[:, t - 1], delta[:, t], W_hh_T)
            else:
                dh = matmul.linear(delta[:, t], W_hh_T)
            dc.mul_(f)                                   # δc_{t-1} gets δc_t ⊙ f_t: the highway
        flat = delta.view(B * T, H4)                      # every step's δa, one row per (sequence, step)
        dx = matmul.linear(flat, W_xh.T).view(B, T, -1) if ctx.needs_input_grad[0] else None
        # Σ_t δa_t [h_{t-1}; x_t; 1]ᵀ: the three weight gradients in one product over all rows (b is the
        # weight of a constant input 1). inputs_T holds, transposed, what each row of flat multiplied.
        D = x.shape[2]
        inputs_T = x.new_empty(H + D + 1, B, T)
        inputs_T[:H, :, 0] = h0.T
        inputs_T[:H, :, 1:] = out[:, :-1].permute(2, 0, 1)
        inputs_T[H:H + D] = x.permute(2, 0, 1)
        inputs_T[H + D] = 1
        grads = matmul.linear(inputs_T.view(H + D + 1, B * T), flat.T)            # (H + D + 1, 4H)
        dW_hh, dW_xh, db = grads[:H].T, grads[H:H + D].T, grads[H + D]
        return dx, dW_xh, dW_hh, db, dh, dc


# ----------------------------------------------------------------------------- multi-layer, nn.LSTM/nn.GRU interface

class LSTMScratch(StackedRecurrent):
    """A multi-layer LSTM with the batch-first interface of ``nn.LSTM(batch_first=True)``:

    forward(x (B, T, D), (h_0, c_0) each (L, B, H), or None) -> (outputs (B, T, H), (h_n, c_n) each (L, B, H)).

    Two ways to run it, the same function (tests/test_lstm_gru.py checks they agree to 1e-10 in float64):
    ``bptt="hand"`` (the default) runs each layer as ``LSTMLayerBPTT``, the whole sequence at once with
    the backward pass written out by hand: forward + backward about as fast as nn.LSTM on the course's
    CPU (`python tests/benchmarks/bench_lstm_gru.py 1`, B 64, T 100, D 64, H 256: median 1.05× nn.LSTM's
    time, against 1.54× for the step-by-step path; figures in that script's docstring);
    ``bptt="autograd"`` unrolls ``LSTMCellScratch`` step by step (``StackedRecurrent``) and lets
    autograd build the graph, as every other scratch model of the course does. A peephole LSTM
    always runs step by step (``LSTMLayerBPTT`` has no peephole terms).
    """

    BPTT = ("hand", "autograd")

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, forget_bias: float = 0.0,
                 peephole: bool = False, bptt: str = "hand"):
        _positive_int("num_layers", num_layers)
        if bptt not in self.BPTT:
            raise ValueError(f"bptt must be one of {self.BPTT}, got {bptt!r}")
        super().__init__([LSTMCellScratch(input_size if l == 0 else hidden_size, hidden_size, forget_bias, peephole)
                          for l in range(num_layers)])
        self.num_layers, self.bptt = num_layers, bptt

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        _check_x(x, self.input_size)
        if state is not None:
            if not (isinstance(state, (tuple, list)) and len(state) == 2):
                raise ValueError("state must be a pair (h_0, c_0), as for nn.LSTM")
            expected = (self.num_layers, x.shape[0], self.hidden_size)
            for name, s in zip(("h_0", "c_0"), state):
                if tuple(s.shape) != expected:
                    raise ValueError(f"{name} must have shape (num_layers, batch, hidden) = {expected}, got {tuple(s.shape)}")
        if self.bptt == "hand" and not any(cell.peephole for cell in self.cells) and x.shape[1] > 0:
            return self._forward_by_layer(x, state)
        per_layer = None if state is None else list(zip(state[0].unbind(0), state[1].unbind(0)))
        outputs, final = super().forward(x, per_layer)
        return outputs, (torch.stack([h for h, _ in final]), torch.stack([c for _, c in final]))

    def _forward_by_layer(self, x: torch.Tensor, state):
        B = x.shape[0]
        layer_input, h_n, c_n = x, [], []
        for l, cell in enumerate(self.cells):
            if state is None:
                h0 = c0 = x.new_zeros(B, cell.hidden_size)
            else:
                h0, c0 = state[0][l], state[1][l]
            layer_input, h, c = LSTMLayerBPTT.apply(layer_input, cell.W_xh, cell.W_hh, cell.b, h0, c0)
            h_n.append(h)
            c_n.append(c)
        return layer_input, (torch.stack(h_n), torch.stack(c_n))


class GRUScratch(HiddenStateStack):
    """A multi-layer GRU with the batch-first interface of ``nn.GRU(batch_first=True)``:

    forward(x (B, T, D), h_0 (L, B, H) or None) -> (outputs (B, T, H), h_n (L, B, H)).
    ``reset_after=True`` computes what nn.GRU computes; False, the lecture's equations.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, reset_after: bool = False,
                 update_bias: float = 0.0):
        _positive_int("num_layers", num_layers)
        super().__init__([GRUCellScratch(input_size if l == 0 else hidden_size, hidden_size, reset_after, update_bias)
                          for l in range(num_layers)])
        self.num_layers, self.reset_after = num_layers, bool(reset_after)


# ----------------------------------------------------------------------------- weights from / to nn.LSTM, nn.GRU

def _layer_pairs(scratch: nn.Module, reference: nn.Module):
    """(scratch cell, suffix of the reference's parameter names) for every layer, after checking sizes."""
    if isinstance(scratch, (LSTMCellScratch, GRUCellScratch)):
        want = nn.LSTMCell if isinstance(scratch, LSTMCellScratch) else nn.GRUCell
        if not isinstance(reference, want):
            raise TypeError(f"a {type(scratch).__name__} copies from/to an nn.{want.__name__}, got {type(reference).__name__}")
        cells, suffixes, layers = [scratch], [""], 1
    else:
        want = nn.LSTM if isinstance(scratch, LSTMScratch) else nn.GRU if isinstance(scratch, GRUScratch) else None
        if want is None:
            raise TypeError(f"expected an LSTM/GRU cell or LSTMScratch/GRUScratch, got {type(scratch).__name__}")
        if not isinstance(reference, want):
            raise TypeError(f"a {type(scratch).__name__} copies from/to an nn.{want.__name__}, got {type(reference).__name__}")
        if reference.bidirectional or getattr(reference, "proj_size", 0):
            raise ValueError("bidirectional and projected (proj_size) references are not supported")
        cells, layers = list(scratch.cells), reference.num_layers
        suffixes = [f"_l{l}" for l in range(layers)]
    if len(cells) != layers or reference.hidden_size != cells[-1].hidden_size or reference.input_size != cells[0].input_size:
        raise ValueError("the two differ in input size, hidden size or number of layers")
    if not reference.bias:
        raise ValueError("the reference has bias=False; the scratch cells always have biases")
    return list(zip(cells, suffixes))


@torch.no_grad()
def copy_from_torch(scratch: nn.Module, reference: nn.Module) -> None:
    """Give ``scratch`` the weights of ``reference`` (nn.LSTM / nn.GRU, or nn.LSTMCell / nn.GRUCell).

    The gate order is already PyTorch's, so the blocks copy as they are. nn.LSTM's two biases
    b_ih + b_hh add up to the lecture's b; nn.GRU's two biases are kept apart (see the module doc).
    The peephole weights of a peephole LSTM (which nn.LSTM has not) are set to zero.
    """
    for cell, sfx in _layer_pairs(scratch, reference):
        cell.W_xh.copy_(getattr(reference, f"weight_ih{sfx}"))
        cell.W_hh.copy_(getattr(reference, f"weight_hh{sfx}"))
        if isinstance(cell, LSTMCellScratch):
            cell.b.copy_(getattr(reference, f"bias_ih{sfx}") + getattr(reference, f"bias_hh{sfx}"))
            if cell.peephole:
                for w in (cell.w_ci, cell.w_cf, cell.w_co):
                    w.zero_()
        else:
            cell.b_xh.copy_(getattr(reference, f"bias_ih{sfx}"))
            cell.b_hh.copy_(getattr(reference, f"bias_hh{sfx}"))


@torch.no_grad()
def copy_to_torch(scratch: nn.Module, reference: nn.Module) -> None:
    """Give ``reference`` (nn.LSTM / nn.GRU / their cells) the weights of ``scratch``.

    The LSTM's single b goes to bias_ih (bias_hh = 0). A peephole LSTM with non-zero peepholes,
    and a lecture-convention GRU, compute something nn.LSTM / nn.GRU cannot: the first is refused;
    the second is copied (same shapes), and the two then differ, which is the point notebook 06 makes.
    """
    for cell, sfx in _layer_pairs(scratch, reference):
        if isinstance(cell, LSTMCellScratch) and cell.peephole and any(
                bool(w.abs().max() > 0) for w in (cell.w_ci, cell.w_cf, cell.w_co)):
            raise ValueError("nn.LSTM has no peephole connections: this cell's peephole weights are not zero")
        getattr(reference, f"weight_ih{sfx}").copy_(cell.W_xh)
        getattr(reference, f"weight_hh{sfx}").copy_(cell.W_hh)
        if isinstance(cell, LSTMCellScratch):
            getattr(reference, f"bias_ih{sfx}").copy_(cell.b)
            getattr(reference, f"bias_hh{sfx}").zero_()
        else:
            getattr(reference, f"bias_ih{sfx}").copy_(cell.b_xh)
            getattr(reference, f"bias_hh{sfx}").copy_(cell.b_hh)


@torch.no_grad()
def set_memory_bias(module: nn.Module, value: float) -> None:
    """Set the bias of the gate that keeps memory, in every layer: the LSTM's forget gate f
    (nn.LSTM: block 1 of (i, f, g, o)), the GRU's update gate z (nn.GRU: block 1 of (r, z, n)).
    Works on nn.LSTM / nn.GRU and on the scratch models and cells (the whole value goes in the
    input-side bias; the recurrent-side one is zeroed, so the sum is ``value``)."""
    if isinstance(module, (nn.LSTM, nn.GRU)):
        H = module.hidden_size
        for l in range(module.num_layers):
            getattr(module, f"bias_ih_l{l}")[H:2 * H] = value
            getattr(module, f"bias_hh_l{l}")[H:2 * H] = 0.0
        return
    cells = [module] if isinstance(module, (LSTMCellScratch, GRUCellScratch)) else list(getattr(module, "cells", []))
    if not cells or not all(isinstance(c, (LSTMCellScratch, GRUCellScratch)) for c in cells):
        raise TypeError(f"expected an LSTM or GRU (torch or scratch), got {type(module).__name__}")
    for c in cells:
        H = c.hidden_size
        if isinstance(c, LSTMCellScratch):
            c.b[H:2 * H] = value
        else:
            c.b_xh[H:2 * H] = value
            c.b_hh[H:2 * H] = 0.0


# ----------------------------------------------------------------------------- counting parameters

def count_parameters(module: nn.Module) -> int:
    """Number of trainable numbers in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def recurrent_parameters(cell: str, input_size: int, hidden_size: int) -> int:
    """Parameters of one layer, by the formula: gates × (H·D + H·H + biases). nn.RNN / nn.LSTM / nn.GRU
    keep two bias vectors per gate block (b_ih and b_hh), hence 2H per block."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    return gates * (hidden_size * input_size + hidden_size * hidden_size + 2 * hidden_size)


# ----------------------------------------------------------------------------- the language model, any cell

class RecurrentLM(RNNLM):
    """Embedding -> RNN / LSTM / GRU layers -> linear output, with the course's signature

    forward(idx (B, T), targets (B, T) or None, state=None) -> (logits (B, T, V), loss)

    (everything but the recurrent layers is notebook 03's ``RNNLM``). ``impl="torch"`` uses
    nn.RNN / nn.LSTM / nn.GRU (fast); ``impl="scratch"`` the cells of this module (the GRU in
    nn.GRU's convention unless ``reset_after=False``). ``memory_bias`` sets the forget-gate (LSTM)
    or update-gate (GRU) bias at initialisation. The state is h (RNN, GRU) or (h, c) (LSTM).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256, num_layers: int = 1,
                 cell: str = "lstm", impl: str = "torch", memory_bias: float = 0.0, reset_after: bool = True):
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        super().__init__(vocab_size, embed_dim, hidden_size, num_layers, impl=impl)   # embedding, RNN, head
        self.cell = cell
        if cell == "lstm":                               # replace the RNN layers by gated ones
            self.rnn = (nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True) if impl == "torch"
                        else LSTMScratch(embed_dim, hidden_size, num_layers))
        elif cell == "gru":
            self.rnn = (nn.GRU(embed_dim, hidden_size, num_layers, batch_first=True) if impl == "torch"
                        else GRUScratch(embed_dim, hidden_size, num_layers, reset_after=reset_after))
        if cell != "rnn" and memory_bias:
            set_memory_bias(self.rnn, memory_bias)


def last_step_accuracy(model: nn.Module, idx: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of sequences whose target at the *last* position is the model's most likely token."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits, _ = model(idx.to(device))
    model.train(was_training)
    return float((logits[:, -1].argmax(-1).cpu() == targets[:, -1]).double().mean())


@torch.no_grad()
def trace_gates(rnn: nn.Module, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Run an LSTM or GRU over ``x`` (B, T, D) step by step with the scratch cells' ``step`` and
    return, for every layer, each quantity by its lecture name as a (B, T, H) tensor: i, f,
    c_tilde, o, c, h (LSTM) or r, z, h_tilde, h (GRU), from h_0 = c_0 = 0.

    ``rnn`` is nn.LSTM / nn.GRU (its weights are copied into LSTMScratch / GRUScratch in nn.GRU's
    convention, so the trace is of the same function) or an LSTMScratch / GRUScratch."""
    if isinstance(rnn, (nn.LSTM, nn.GRU)):
        scratch = (LSTMScratch(rnn.input_size, rnn.hidden_size, rnn.num_layers) if isinstance(rnn, nn.LSTM)
                   else GRUScratch(rnn.input_size, rnn.hidden_size, rnn.num_layers, reset_after=True))
        copy_from_torch(scratch.to(device=x.device, dtype=x.dtype), rnn)
    elif isinstance(rnn, (LSTMScratch, GRUScratch)):
        scratch = rnn
    else:
        raise TypeError(f"expected nn.LSTM, nn.GRU, LSTMScratch or GRUScratch, got {type(rnn).__name__}")
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise ValueError(f"x must be (batch, time, features), got {tuple(getattr(x, 'shape', ()))}")
    layers, layer_input = [], x
    for cell in scratch.cells:
        state, steps = cell.init_state(x.shape[0], x.device, x.dtype), []
        for x_t in layer_input.unbind(1):
            q = cell.step(x_t, state)
            state = (q["h"], q["c"]) if isinstance(cell, LSTMCellScratch) else q["h"]
            steps.append(q)
        layers.append({k: torch.stack([q[k] for q in steps], 1) for k in steps[0]})   # each (B, T, H)
        layer_input = layers[-1]["h"]
    return layers


__all__ = ["LSTMCellScratch", "GRUCellScratch", "LSTMScratch", "LSTMLayerBPTT", "GRUScratch", "copy_from_torch",
           "copy_to_torch", "set_memory_bias", "count_parameters", "recurrent_parameters", "RecurrentLM",
           "last_step_accuracy", "trace_gates"]
