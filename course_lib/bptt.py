"""Backpropagation through time, by hand, for exactly the lecture's network (NumPy).

Forward, for t = 1..T (row vectors, batch-first: x_t is (B, D)):

    z_t = W_xh x_t + W_hh h_{t-1} + b_h        h_t = tanh(z_t)
    s_t = W_hy h_t + b_y                        y_t = σ(s_t)
    E   = Σ_t ½ ‖y_t − d_t‖²

Backward (the lecture's deltas):

    δ_y^t = (y_t − d_t) ⊙ σ'(s_t)                              σ'(s) = y (1 − y)
    δ_h^t = (W_hyᵀ δ_y^t + W_hhᵀ δ_h^{t+1}) ⊙ f'(z_t)           f'(z) = 1 − h_t²,  δ_h^{T+1} = 0
    ∂E/∂W_hy = Σ_t δ_y^t h_tᵀ      ∂E/∂b_y = Σ_t δ_y^t
    ∂E/∂W_xh = Σ_t δ_h^t x_tᵀ      ∂E/∂W_hh = Σ_t δ_h^t h_{t-1}ᵀ      ∂E/∂b_h = Σ_t δ_h^t

The weights are shared across time, so their gradients are *sums over t*. Note h_{t-1} in
∂E/∂W_hh: W_hh multiplies the previous state (the slide's "δ_h^t (h^(t))ᵀ" is a typo).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARAMS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def _sigmoid(s):
    return 1.0 / (1.0 + np.exp(-s))


def init_params(D: int, H: int, M: int, seed: int = 0, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Random float64 parameters for input size D, hidden size H and output size M."""
    rng = np.random.default_rng(seed)
    return {"W_xh": rng.normal(0, scale, (H, D)), "W_hh": rng.normal(0, scale / np.sqrt(H), (H, H)),
            "b_h": rng.normal(0, scale, H), "W_hy": rng.normal(0, scale, (M, H)), "b_y": rng.normal(0, scale, M)}


def _check(params, X, Dt=None):
    missing = [k for k in PARAMS if k not in params]
    if missing:
        raise KeyError(f"params is missing {missing}; it needs {PARAMS}")
    X = np.asarray(X, dtype=np.float64)
    H, Din = params["W_xh"].shape
    if X.ndim != 3 or X.shape[-1] != Din:
        raise ValueError(f"X must have shape (batch, time, {Din}), got {X.shape}")
    if Dt is not None:
        Dt = np.asarray(Dt, dtype=np.float64)
        M = params["W_hy"].shape[0]
        if Dt.shape != X.shape[:2] + (M,):
            raise ValueError(f"targets d must have shape {X.shape[:2] + (M,)}, got {Dt.shape}")
    return X, Dt


@dataclass
class Cache:
    X: np.ndarray      # (B, T, D)
    h: np.ndarray      # (B, T+1, H): h[:, 0] = h0, h[:, t] = h_t
    y: np.ndarray      # (B, T, M)
    loss: float


def forward(params: dict, X, d, h0=None) -> Cache:
    """Run the network over X (B, T, D) with targets d (B, T, M); keep what backward needs."""
    X, d = _check(params, X, d)
    B, T, _ = X.shape
    H = params["W_hh"].shape[0]
    h = np.zeros((B, T + 1, H))
    if h0 is not None:
        h[:, 0] = h0
    y = np.zeros(d.shape)
    for t in range(T):
        z = X[:, t] @ params["W_xh"].T + h[:, t] @ params["W_hh"].T + params["b_h"]
        h[:, t + 1] = np.tanh(z)
        y[:, t] = _sigmoid(h[:, t + 1] @ params["W_hy"].T + params["b_y"])
    return Cache(X, h, y, float(0.5 * ((y - d) ** 2).sum()))


def backward(params: dict, cache: Cache, d) -> dict[str, np.ndarray]:
    """Full BPTT: every parameter gradient of E, and ∂E/∂h0 under the key "h0"."""
    d = np.asarray(d, dtype=np.float64)
    X, h, y = cache.X, cache.h, cache.y
    T = X.shape[1]
    grads = {k: np.zeros_like(params[k]) for k in PARAMS}
    delta_h_next = np.zeros_like(h[:, 0])                          # δ_h^{T+1} = 0
    for t in reversed(range(T)):                                   # t here is the lecture's t+1 - 1
        delta_y = (y[:, t] - d[:, t]) * y[:, t] * (1 - y[:, t])     # (B, M)
        delta_h = (delta_y @ params["W_hy"] + delta_h_next @ params["W_hh"]) * (1 - h[:, t + 1] ** 2)  # (B, H)
        grads["W_hy"] += delta_y.T @ h[:, t + 1]
        grads["b_y"] += delta_y.sum(0)
        grads["W_xh"] += delta_h.T @ X[:, t]
        grads["W_hh"] += delta_h.T @ h[:, t]                        # h_{t-1}: the state W_hh multiplied
        grads["b_h"] += delta_h.sum(0)
        delta_h_next = delta_h
    grads["h0"] = delta_h_next @ params["W_hh"]
    return grads


def truncated_backward(params: dict, cache: Cache, d, k: int) -> dict[str, np.ndarray]:
    """Truncated BPTT with window k: the error of each step t flows back through at most k steps
    (t, t-1, ..., t-k+1); what came earlier is treated as a constant input. Cost O(T k) instead of
    unbounded memory; k >= T is full BPTT. (The lecture's pseudo-code, for every t.)"""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"the truncation window k must be a positive int, got {k!r}")
    d = np.asarray(d, dtype=np.float64)
    X, h, y = cache.X, cache.h, cache.y
    T = X.shape[1]
    grads = {key: np.zeros_like(params[key]) for key in PARAMS}
    grads["h0"] = np.zeros_like(h[:, 0])
    for t in range(T):
        delta_y = (y[:, t] - d[:, t]) * y[:, t] * (1 - y[:, t])
        grads["W_hy"] += delta_y.T @ h[:, t + 1]
        grads["b_y"] += delta_y.sum(0)
        delta_h = (delta_y @ params["W_hy"]) * (1 - h[:, t + 1] ** 2)
        for j in range(t, max(t - k, -1), -1):                     # k steps back at most
            if j < t:
                delta_h = (delta_h @ params["W_hh"]) * (1 - h[:, j + 1] ** 2)
            grads["W_xh"] += delta_h.T @ X[:, j]
            grads["W_hh"] += delta_h.T @ h[:, j]
            grads["b_h"] += delta_h.sum(0)
        if t - k < 0:                                              # the chain reached h0
            grads["h0"] += delta_h @ params["W_hh"]
    return grads


def loss_only(params: dict, X, d, h0=None) -> float:
    return forward(params, X, d, h0).loss


def numerical_gradient(params: dict, X, d, name: str, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences (E(θ+ε) − E(θ−ε)) / 2ε for one parameter, entry by entry."""
    grad = np.zeros_like(params[name])
    it = np.nditer(params[name], flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = params[name][i]
        params[name][i] = old + eps
        plus = loss_only(params, X, d)
        params[name][i] = old - eps
        minus = loss_only(params, X, d)
        params[name][i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def jacobian_product(params: dict, cache: Cache, t_from: int, t_to: int) -> np.ndarray:
    """∂h_{t_to}/∂h_{t_from} = Π_{i=t_from+1}^{t_to} diag(1 − h_i²) W_hh for the first sequence (H, H)."""
    H = params["W_hh"].shape[0]
    J = np.eye(H)
    for i in range(t_from + 1, t_to + 1):
        J = (1 - cache.h[0, i] ** 2)[:, None] * params["W_hh"] @ J
    return J
