"""How far back does a gradient reach? Measured, and predicted from the Jacobians.

For a loss read at the last step, L_T = vᵀ h_T with a fixed unit vector v (so ‖∂L_T/∂h_T‖ = 1),
the chain rule through the recurrence gives

    ∂L_T/∂h_t = J_{t+1}ᵀ ⋯ J_Tᵀ v,     J_i = ∂h_i/∂h_{i-1} = diag(f'(z_i)) W_hh   (vanilla RNN)

so its norm is bounded by Π_i ‖J_i‖₂ ≤ Π_i γ_i ‖W_hh‖₂ with γ_i = max_j f'(z_i)_j ≤ 1 for tanh
(Pascanu et al., 2013; the widget draws this bound). So ‖W_hh‖₂ < 1/γ is sufficient for the
product to shrink geometrically (vanishing gradients), and a spectral radius ρ(W_hh) > 1/γ is
necessary for it to grow (exploding); over many steps the product behaves like ρ^k, since
‖W_hh^k‖^{1/k} → ρ. ``measure`` runs a real forward pass and gets every ‖∂L_T/∂h_t‖ by
autograd, for a vanilla RNN (tanh / ReLU / linear), an LSTM or a GRU (the course's own cells,
``course_lib.lstm_gru``, proven equal to nn.LSTM / nn.GRU).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "relu", "linear")
INITS = ("gaussian", "orthogonal", "identity")


@dataclass(frozen=True)
class FlowSettings:
    cell: str = "rnn"
    activation: str = "tanh"         # vanilla RNN only
    hidden: int = 64
    T: int = 100
    rho: float = 1.0                 # spectral radius of the recurrent weight (per gate block for LSTM/GRU)
    init: str = "orthogonal"
    input_scale: float = 1.0
    clip: float | None = None        # clip the gradient flowing back through each step to this norm
    memory_bias: float = 0.0         # bias of the gate that keeps memory: LSTM forget gate f, GRU update gate z
    seed: int = 0

    def checked(self) -> "FlowSettings":
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if not (isinstance(self.hidden, int) and 1 <= self.hidden <= 1024):
            raise ValueError(f"hidden must be an int in [1, 1024], got {self.hidden!r}")
        if not (isinstance(self.T, int) and 2 <= self.T <= 2000):
            raise ValueError(f"T must be an int in [2, 2000], got {self.T!r}")
        if not self.rho > 0:
            raise ValueError(f"rho must be > 0, got {self.rho!r}")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {self.clip!r}")
        return self


@dataclass
class FlowResult:
    settings: FlowSettings
    distance: np.ndarray             # k = T - t = 0..T-1
    grad_norm: np.ndarray            # ‖∂L_T/∂h_{T-k}‖ measured by autograd
    bound: np.ndarray | None         # Π γ_i ‖W_hh‖₂ over the k steps (vanilla RNN), None for gated cells
    jac_sv: np.ndarray               # (T, 3): largest, median, smallest singular value of J_t (NaN where not computed)
    horizon: int | None              # first k with grad_norm < 1e-3 (None: never within T)
    extra: dict = field(default_factory=dict)


def recurrent_matrix(H: int, rho: float, init: str, rng: np.random.Generator) -> np.ndarray:
    """An (H, H) matrix with spectral radius ``rho``.

    gaussian: N(0, 1/H) entries, rescaled so the largest |eigenvalue| is rho (its singular values
    spread around it); orthogonal: rho × a random orthogonal matrix (all singular values = rho);
    identity: rho × I (the identity initialisation of notebook 05).
    """
    if init == "identity":
        return rho * np.eye(H)
    if init == "orthogonal":
        q, r = np.linalg.qr(rng.normal(size=(H, H)))
        return rho * q * np.sign(np.diag(r))
    W = rng.normal(0, 1 / np.sqrt(H), (H, H))
    return W * (rho / np.max(np.abs(np.linalg.eigvals(W))))


def _inputs(s: FlowSettings, rng) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(0, s.input_scale, (s.T, s.hidden))
    W_xh = rng.normal(0, 1 / np.sqrt(s.hidden), (s.hidden, s.hidden))
    return X, W_xh


def _build_cell(s: FlowSettings, rng, dtype=torch.float64):
    """The cell as a torch function state -> state, and how to read h from the state."""
    H = s.hidden
    if s.cell == "rnn":
        W = torch.tensor(recurrent_matrix(H, s.rho, s.init, rng), dtype=dtype)
        act = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z}[s.activation]
        return (lambda xp, h: act(xp + h @ W.T)), (lambda st: st), W
    # the course's own cells (course_lib.lstm_gru, proven equal to nn.LSTM / nn.GRU); the GRU in nn.GRU's convention
    from .lstm_gru import GRUCellScratch, LSTMCellScratch
    cell = LSTMCellScratch(H, H) if s.cell == "lstm" else GRUCellScratch(H, H, reset_after=True)
    cell = cell.to(dtype).requires_grad_(False)   # only ∂L/∂h_t is wanted, not the weights' gradients
    gates = 4 if s.cell == "lstm" else 3
    with torch.no_grad():          # every gate's recurrent block gets the chosen spectral radius and init
        cell.W_hh.copy_(torch.tensor(np.concatenate([recurrent_matrix(H, s.rho, s.init, rng) for _ in range(gates)])))
        cell.W_xh.copy_(torch.tensor(rng.normal(0, 1 / np.sqrt(H), (gates * H, H))))
        for b in ((cell.b,) if s.cell == "lstm" else (cell.b_xh, cell.b_hh)):
            b.zero_()
        # gate blocks in PyTorch's order: LSTM (i, f, c̃, o), GRU (r, z, h̃); the second keeps memory
        (cell.b if s.cell == "lstm" else cell.b_hh)[H:2 * H] = s.memory_bias
    return (lambda x, st: cell(x, st)[1]), (lambda st: st[0] if s.cell == "lstm" else st), None


def measure(settings: FlowSettings | None = None, dtype: torch.dtype = torch.float64, **kwargs) -> FlowResult:
    """Gradient norms through time for one setting (see FlowSettings), by autograd.

    float64 by default (the proofs compare it with the Jacobian product); the widget uses float32,
    which is faster and exact enough for a plot that spans 1e-12 to 1e12."""
    if settings is None:
        settings = FlowSettings(**kwargs)
    elif kwargs:
        settings = replace(settings, **kwargs)
    s = settings.checked()
    rng = np.random.default_rng(s.seed)
    X, W_xh = _inputs(s, rng)
    step, read_h, W = _build_cell(s, rng, dtype)
    x = torch.tensor(X, dtype=dtype)
    xp = x @ torch.tensor(W_xh, dtype=dtype).T if s.cell == "rnn" else x  # (T, H) input projection
    H = s.hidden
    h0 = torch.zeros(1, H, dtype=dtype, requires_grad=True)             # a leaf, so every h_t is in the graph
    state = (h0, torch.zeros(1, H, dtype=dtype)) if s.cell == "lstm" else h0
    hs = []

    def clip(g):                   # the gradient flowing back through h_t, scaled down to norm <= s.clip
        return g * torch.clamp(s.clip / (g.norm() + 1e-30), max=1.0)
    with torch.enable_grad():
        states = []
        for t in range(s.T):
            states.append(state)
            state = step(xp[t:t + 1], state)
            h = read_h(state)
            if s.clip is not None:
                h.register_hook(clip)
            hs.append(h)
        v = torch.tensor(np.random.default_rng(s.seed + 1).normal(size=H), dtype=dtype)
        v = v / v.norm()
        # one backward pass that returns ∂L_T/∂h_t for every t (cheaper than retain_grad on each h_t)
        grads = torch.autograd.grad(hs[-1][0] @ v, hs)
        if s.clip is not None:     # autograd.grad returns what reached h_t, before h_t's own clipping hook
            grads = [clip(g) for g in grads]
    norms = torch.cat(grads).norm(dim=1).flip(0).numpy().astype(float)               # by distance k = T - 1 - t
    jac_sv, bound = _jacobian_spectra(s, hs, W, step, read_h, xp, states)
    below = np.nonzero(norms < 1e-3 * norms[0])[0]
    return FlowResult(s, np.arange(s.T), norms, bound, jac_sv, int(below[0]) if below.size else None)


def _sampled_steps(T: int, most: int = 25) -> np.ndarray:
    return np.unique(np.linspace(1, T - 1, min(most, T - 1)).astype(int))


def _spectrum_rows(J: torch.Tensor) -> np.ndarray:
    sv = torch.linalg.svdvals(J).numpy()                                  # (n, H), descending
    return np.stack([sv[:, 0], np.median(sv, 1), sv[:, -1]], 1)


def _jacobian_spectra(s, hs, W, step, read_h, xp, states):
    """Singular values (largest, median, smallest) of the one-step Jacobian ∂h_t/∂h_{t-1} at up to
    25 evenly spaced steps, and for the vanilla RNN the bound Π γ_i ‖W_hh‖₂ for every distance."""
    steps = _sampled_steps(s.T, 25 if s.cell == "rnn" else 6)          # gated: autograd Jacobians cost more
    out = np.full((s.T, 3), np.nan)
    if s.cell == "rnn":
        h = torch.cat([h.detach() for h in hs])                           # (T, H)
        fprime = {"tanh": lambda: 1 - h ** 2, "relu": lambda: (h > 0).to(h.dtype),
                  "linear": lambda: torch.ones_like(h)}[s.activation]()
        out[steps] = _spectrum_rows(fprime[steps, :, None] * W[None])      # J_t = diag(f'(z_t)) W_hh
        w_norm = float(torch.linalg.matrix_norm(W, ord=2))
        gamma = fprime.max(dim=1).values.numpy()                          # γ_t = max_j f'(z_t)_j
        bound = np.concatenate([[1.0], np.cumprod(gamma[::-1][: s.T - 1] * w_norm)])
        return out, bound
    # all sampled steps as one batch (row b = step steps[b]; rows do not interact), so one Jacobian call:
    # d(Σ_b h_t[b])/d h_{t-1} has shape (H, n, H) and its block [:, b, :] is J at step steps[b]
    x_b = xp[steps]                                                        # (n, H)
    h_prev = torch.cat([read_h(states[t]).detach() for t in steps])        # (n, H)
    c_prev = torch.cat([states[t][1].detach() for t in steps]) if s.cell == "lstm" else None

    def f(hp):
        if s.cell == "lstm":       # the h_{t-1} -> h_t path, with c_{t-1} held at its value
            return read_h(step(x_b, (hp, c_prev))).sum(0)
        return step(x_b, hp).sum(0)
    J = torch.autograd.functional.jacobian(f, h_prev, vectorize=True)     # (H, n, H)
    out[steps] = _spectrum_rows(J.permute(1, 0, 2))
    return out, None


def horizons(cells=("rnn", "lstm", "gru"), **settings) -> dict[str, int | None]:
    """The information horizon of each cell at the same settings."""
    return {c: measure(FlowSettings(cell=c, **settings)).horizon for c in cells}
