"""Public tests for 04_bptt: two random cases per test (T > 1, non-zero values, W_hh not
symmetric); a wrong answer is told which path or term of the backward pass is off."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(4)


def _delta_case(B, H, M):
    return (rng.normal(size=(B, M)), rng.normal(size=(B, H)), rng.normal(size=(M, H)), rng.normal(size=(H, H)),
            np.tanh(rng.normal(size=(B, H))))


DELTA_CASES = [_delta_case(2, 4, 3), _delta_case(3, 5, 2)]


def _delta_h(dy, dhn, W_hy, W_hh, h):
    return (dy @ W_hy + dhn @ W_hh) * (1 - h ** 2)


def _which_path(out, dy, dhn, W_hy, W_hh, h):
    guesses = [((dy @ W_hy + dhn @ W_hh), "multiply by tanh'(z_t), written with h_t"),
               ((dy @ W_hy + dhn @ W_hh) * (1 - h), "tanh'(z_t) is 1 − h_t², not 1 − h_t"),
               ((dy @ W_hy) * (1 - h ** 2), "the path through the next step (W_hh and δ_h^(t+1)) is missing"),
               ((dhn @ W_hh) * (1 - h ** 2), "the path through this step's output (W_hy and δ_y^t) is missing"),
               ((dy @ W_hy + dhn @ W_hh.T) * (1 - h ** 2), "the next step's path goes back through W_hhᵀ: for row "
                "vectors that is delta_h_next @ W_hh, not @ W_hh.T")]
    for guess, why in guesses:
        if out.shape == guess.shape and np.allclose(out, guess, atol=1e-6):
            return f": {why}"
    return ""


@test("delta_h_step", points=1)
def both_paths_and_the_slope(student):
    """δ_h^t = ∂E/∂z_t on two random cases"""
    for case in DELTA_CASES:
        B, H = case[1].shape
        out = as_array(student.call("delta_h_step", *case), "delta_h_step(...)", shape=(B, H))
        expect_close(out, _delta_h(*case), "δ_h^t = ∂E/∂z_t is wrong" + _which_path(out, *case))


@test("delta_h_step", points=1)
def last_step_has_only_the_output_path(student):
    """at t = T, δ_h^(T+1) = 0: only the output path remains"""
    for dy, _, W_hy, W_hh, h in DELTA_CASES:
        out = as_array(student.call("delta_h_step", dy, np.zeros_like(h), W_hy, W_hh, h), "delta_h_step(...)",
                       shape=h.shape)
        expect_close(out, (dy @ W_hy) * (1 - h ** 2), "with δ_h^(T+1) = 0 only the path through s_t is left: "
                     "W_hyᵀ δ_y^t (delta_y_t @ W_hy) times tanh'(z_t)")


def _grad_case(B, T, H):
    return np.tanh(rng.normal(size=(B, T + 1, H))), rng.normal(size=(B, T, H))


@test("grad_W_hh", points=1)
def one_step_is_an_outer_product(student):
    """T = 1: ∂E/∂W_hh = δ_h^1 h_0ᵀ"""
    h = rng.normal(size=(1, 2, 4))
    dh = rng.normal(size=(1, 1, 4))
    out = as_array(student.call("grad_W_hh", h, dh), "grad_W_hh(...)", shape=(4, 4))
    expect_close(out, np.outer(dh[0, 0], h[0, 0]), "with one step, ∂E/∂W_hh = δ_h^1 h_0ᵀ (h_0, not h_1; "
                 "row i is δ_i, column j is h_j)")


@test("grad_W_hh", points=1)
def summed_over_every_step(student):
    """T = 4 and T = 3, B = 2: one term per step and per sequence"""
    for h, dh in (_grad_case(2, 4, 3), _grad_case(2, 3, 5)):
        H = h.shape[-1]
        out = as_array(student.call("grad_W_hh", h, dh), "grad_W_hh(...)", shape=(H, H))
        ref = np.einsum("bti,btj->ij", dh, h[:, :-1])
        why = ""
        if np.allclose(out, np.einsum("bi,bj->ij", dh[:, -1], h[:, -2])):
            why = ": this is the last step's term only; W_hh is shared by all T steps, so add every step's term"
        elif np.allclose(out, ref / dh.shape[1]):
            why = ": the terms are added, not averaged over time"
        elif np.allclose(out, np.einsum("bti,btj->ij", dh, h[:, 1:])):
            why = ": δ_h^t pairs with h_(t-1), the state W_hh multiplies in z_t, not with h_t"
        elif np.allclose(out, ref.T):
            why = ": transposed: entry (i, j) is Σ δ_i h_j"
        expect_close(out, ref, "∂E/∂W_hh should be Σ_t Σ_batch δ_h^t h_(t-1)ᵀ" + why)


def _jn(W, h, a, b):
    J = np.eye(W.shape[0])
    for i in range(a + 1, b + 1):
        J = (1 - h[i] ** 2)[:, None] * W @ J
    return np.linalg.norm(J, 2)


W_JAC = rng.normal(size=(4, 4))


@test("jacobian_norm", points=1)
def one_step_norm(student):
    """one step: ‖diag(1 − h_1²) W_hh‖₂"""
    h = np.tanh(rng.normal(size=(3, 4)))
    got = student.call("jacobian_norm", W_JAC, h, 0, 1)
    J = (1 - h[1] ** 2)[:, None] * W_JAC
    why = ""
    if np.isclose(float(np.asarray(got, float)), np.linalg.norm(J)):
        why = ": that is the Frobenius norm; the spectral norm is the largest singular value (np.linalg.norm(J, 2))"
    elif np.isclose(float(np.asarray(got, float)), np.linalg.norm(W_JAC, 2)):
        why = ": the tanh slopes diag(1 − h_1²) are missing"
    expect_close(got, _jn(W_JAC, h, 0, 1), "one step back: the spectral norm (largest singular value) of "
                 "diag(1 − h_1²) W_hh, with the slopes of step 1 scaling the rows" + why)


@test("jacobian_norm", points=1)
def three_steps_back(student):
    """from step 2 to step 5 (three factors) on two random sequences"""
    for H in (3, 5):
        W, h = rng.normal(size=(H, H)), np.tanh(rng.normal(size=(6, H)))
        got = student.call("jacobian_norm", W, h, 2, 5)
        expect_close(got, _jn(W, h, 2, 5), "‖J_5 J_4 J_3‖₂ with J_i = diag(1 − h_i²) W_hh: the factors of steps "
                     "t_from+1 .. t_to, the latest on the left", rtol=1e-6)


# ----------------------------------------------------------------------------- the full backward pass

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
WHAT = {"W_hy": "the output weights: one δ_y^t h_tᵀ term per step and sequence",
        "b_y": "the output bias: δ_y^t summed over steps and sequences",
        "W_xh": "the input weights: one δ_h^t x_tᵀ term per step and sequence",
        "W_hh": "the recurrent weights: one δ_h^t h_(t-1)ᵀ term per step and sequence",
        "b_h": "the hidden bias: δ_h^t summed over steps and sequences",
        "h0": "the initial state: it reaches E only through z_1 = ... + W_hh h_0"}


def bptt_case(B, T, D, H, M, seed):
    r = np.random.default_rng(seed)
    params = {"W_xh": r.normal(0, 0.6, (H, D)), "W_hh": r.normal(0, 0.6, (H, H)), "b_h": r.normal(0, 0.4, H),
              "W_hy": r.normal(0, 0.8, (M, H)), "b_y": r.normal(0, 0.4, M)}
    return params, r.normal(size=(B, T, D)), r.uniform(size=(B, T, M)), r.normal(0, 0.5, (B, H))


def autograd_reference(params, X, d, h0):
    """E and every gradient, by PyTorch's autograd in float64 (the lecture's network, written plainly)."""
    import torch
    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(h0, requires_grad=True)
    start, E = h, 0.0
    for t in range(X.shape[1]):
        h = torch.tanh(torch.tensor(X[:, t]) @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])
        y = torch.sigmoid(h @ P["W_hy"].T + P["b_y"])
        E = E + 0.5 * ((y - torch.tensor(d[:, t])) ** 2).sum()
    E.backward()
    return E.item(), {**{k: p.grad.numpy() for k, p in P.items()}, "h0": start.grad.numpy()}


def compare_bptt(student, case, names):
    params, X, d, h0 = case
    out = student.call("bptt", {k: v.copy() for k, v in params.items()}, X, d, h0)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return a tuple (E, grads)")
    E, grads = out
    E_ref, ref = autograd_reference(params, X, d, h0)
    B, T = X.shape[:2]
    expect_close(E, E_ref, f"E = Σ_t ½‖y_t − d_t‖² (summed over the batch too) is wrong (B = {B}, T = {T})")
    expect(isinstance(grads, dict), "grads should be a dict with keys " + ", ".join((*PARAM_NAMES, "h0")))
    for name in names:
        expect(name in grads, f"grads has no key {name!r}")
        expect_close(grads[name], ref[name], f"∂E/∂{name} differs from autograd's (B = {B}, T = {T}); "
                     f"it is {WHAT[name]}")


BPTT_CASES = [bptt_case(2, 4, 3, 4, 2, 11), bptt_case(3, 3, 2, 3, 3, 12)]


@test("bptt", points=1)
def output_layer_gradients(student):
    """E, ∂E/∂W_hy and ∂E/∂b_y against autograd, two random cases"""
    for case in BPTT_CASES:
        compare_bptt(student, case, ("W_hy", "b_y"))


@test("bptt", points=1)
def recurrent_layer_gradients(student):
    """∂E/∂W_xh, ∂E/∂W_hh, ∂E/∂b_h against autograd (T = 4 and 3)"""
    for case in BPTT_CASES:
        compare_bptt(student, case, ("W_xh", "W_hh", "b_h"))


@test("bptt", points=1)
def initial_state_gradient(student):
    """∂E/∂h_0 against autograd"""
    for case in BPTT_CASES:
        compare_bptt(student, case, ("h0",))
