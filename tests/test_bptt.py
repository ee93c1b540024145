"""Hand-written BPTT equals autograd (<= 1e-8, float64) and central finite differences (<= 1e-5
relative) for every parameter; truncated BPTT equals an autograd construction that detaches the
state k steps back; the Jacobian product equals autograd's Jacobian."""
import numpy as np
import pytest
import torch

from course_lib import bptt


def _autograd(params, X, d, k=None):
    """E (or the truncated objective) differentiated by autograd."""
    P = {n: torch.tensor(v, requires_grad=True) for n, v in params.items()}
    Xt, dt = torch.tensor(X), torch.tensor(d)
    B, T, _ = X.shape
    H = params["W_hh"].shape[0]
    step = lambda x, h: torch.tanh(x @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])  # noqa: E731
    h0 = torch.zeros(B, H, dtype=torch.double, requires_grad=True)
    total = 0.0
    if k is None:
        h = h0
        for t in range(T):
            h = step(Xt[:, t], h)
            total = total + 0.5 * ((torch.sigmoid(h @ P["W_hy"].T + P["b_y"]) - dt[:, t]) ** 2).sum()
    else:
        with torch.no_grad():
            hs = [torch.zeros(B, H, dtype=torch.double)]
            for t in range(T):
                hs.append(step(Xt[:, t], hs[-1]))
        for t in range(T):
            start = max(t - k + 1, 0)
            h = h0 if start == 0 else hs[start].detach()
            for j in range(start, t + 1):
                h = step(Xt[:, j], h)
            total = total + 0.5 * ((torch.sigmoid(h @ P["W_hy"].T + P["b_y"]) - dt[:, t]) ** 2).sum()
    total.backward()
    out = {n: P[n].grad.numpy() for n in bptt.PARAMS}
    out["h0"] = h0.grad.numpy()
    return total.item(), out


@pytest.mark.parametrize("B, T, D, H, M, seed", [(1, 1, 1, 1, 1, 0), (2, 6, 3, 4, 2, 1), (3, 12, 2, 5, 3, 2)])
def test_full_bptt_equals_autograd_and_finite_differences(B, T, D, H, M, seed):
    params = bptt.init_params(D, H, M, seed=seed)
    rng = np.random.default_rng(seed)
    X, d = rng.normal(size=(B, T, D)), rng.uniform(size=(B, T, M))
    cache = bptt.forward(params, X, d)
    grads = bptt.backward(params, cache, d)
    loss, ref = _autograd(params, X, d)
    assert cache.loss == pytest.approx(loss, abs=1e-12)
    for name in (*bptt.PARAMS, "h0"):
        assert np.abs(grads[name] - ref[name]).max() <= 1e-8, name
    for name in bptt.PARAMS:
        numeric = bptt.numerical_gradient(params, X, d, name)
        rel = np.abs(grads[name] - numeric).max() / max(np.abs(numeric).max(), 1e-12)
        assert rel <= 1e-5, name


@pytest.mark.parametrize("k", [1, 2, 3, 7, 20])
def test_truncated_bptt_equals_detached_autograd(k):
    params = bptt.init_params(3, 4, 2, seed=5)
    rng = np.random.default_rng(5)
    X, d = rng.normal(size=(2, 7, 3)), rng.uniform(size=(2, 7, 2))
    grads = bptt.truncated_backward(params, bptt.forward(params, X, d), d, k)
    _, ref = _autograd(params, X, d, k=k)
    for name in (*bptt.PARAMS, "h0"):
        assert np.abs(grads[name] - ref[name]).max() <= 1e-10, (k, name)


def test_truncation_at_t_is_full_bptt():
    params = bptt.init_params(2, 3, 2, seed=1)
    rng = np.random.default_rng(1)
    X, d = rng.normal(size=(1, 5, 2)), rng.uniform(size=(1, 5, 2))
    c = bptt.forward(params, X, d)
    full, trunc = bptt.backward(params, c, d), bptt.truncated_backward(params, c, d, 5)
    assert all(np.allclose(full[n], trunc[n], atol=1e-14) for n in full)


def test_jacobian_product_equals_autograd():
    params = bptt.init_params(2, 4, 1, seed=3)
    rng = np.random.default_rng(3)
    X, d = rng.normal(size=(1, 6, 2)), rng.uniform(size=(1, 6, 1))
    c = bptt.forward(params, X, d)
    W = {n: torch.tensor(v) for n, v in params.items()}

    def f(h):
        for t in range(2, 6):
            h = torch.tanh(torch.tensor(X[0, t]) @ W["W_xh"].T + h @ W["W_hh"].T + W["b_h"])
        return h
    J = torch.autograd.functional.jacobian(f, torch.tensor(c.h[0, 2])).numpy()
    assert np.abs(bptt.jacobian_product(params, c, 2, 6) - J).max() < 1e-12


def test_bad_input():
    params = bptt.init_params(3, 4, 2)
    with pytest.raises(ValueError, match=r"\(batch, time, 3\)"):
        bptt.forward(params, np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="targets d must have shape"):
        bptt.forward(params, np.zeros((1, 5, 3)), np.zeros((1, 4, 2)))
    with pytest.raises(KeyError, match="missing"):
        bptt.forward({"W_xh": params["W_xh"]}, np.zeros((1, 5, 3)), np.zeros((1, 5, 2)))
    c = bptt.forward(params, np.zeros((1, 5, 3)), np.zeros((1, 5, 2)))
    with pytest.raises(ValueError, match="window k"):
        bptt.truncated_backward(params, c, np.zeros((1, 5, 2)), 0)
