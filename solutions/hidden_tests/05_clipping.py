"""Hidden tests for 05_clipping."""
import numpy as np

from course_lib import cliff
from course_lib.grading.spec import Fail, StudentError, as_array, expect, expect_close, test

rng = np.random.default_rng(50)


def _ref(grads, max_norm, p=2.0):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]), ord=p)
    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total


def _pair(out, n):
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[0], (list, tuple)) and len(out[0]) == n):
        raise Fail(f"return a pair (list of {n} clipped arrays, total norm)")
    return out


@test("clip_grad_norm", points=1)
def other_p_norms_and_shapes(student):
    """p = 1 and p = 3 over arrays of shapes (4, 5), (5, 5), (5,), (1, 5), (1,)"""
    grads = [rng.normal(size=s) * 4 for s in [(4, 5), (5, 5), (5,), (1, 5), (1,)]]
    for p in (1.0, 3.0):
        clipped, total = _pair(student.call("clip_grad_norm", grads, 1.5, p), 5)
        want, want_total = _ref(grads, 1.5, p)
        expect_close(total, want_total, f"the global {p:g}-norm of all entries (norm_type = {p:g})")
        for c, w in zip(clipped, want):
            expect_close(c, w, f"clipping with norm_type = {p:g}")


@test("clip_grad_norm", points=1)
def zero_gradients_stay_zero(student):
    """all-zero gradients: norm 0, gradients 0, no division by zero"""
    grads = [np.zeros((3, 3)), np.zeros(3)]
    clipped, total = _pair(student.call("clip_grad_norm", grads, 1.0), 2)
    expect_close(total, 0.0, "the norm of zero gradients is 0")
    for c in clipped:
        expect_close(c, np.zeros_like(c), "zero gradients must stay zero (no NaN: add 1e-6 to the norm before dividing)")


@test("clip_grad_norm", points=1)
def inputs_are_not_modified_and_norm_after_is_threshold(student):
    """integer gradients (which cannot hold the clipped values in place); the clipped global norm is max_norm"""
    grads = [rng.integers(-90, 90, size=(6, 6)), rng.integers(-5, 5, size=6), np.array([[7]])]
    floats = [g.astype(float) for g in grads]
    try:
        out = student.call("clip_grad_norm", grads, 3.0)
    except StudentError as exc:
        raise Fail(f"the clipped values were written into the gradients you were given (in place): {exc}") from None
    clipped, total = _pair(out, 3)
    for c, w in zip(clipped, _ref(floats, 3.0)[0]):
        expect_close(c, w, "return new arrays: the clipped values must not be written into the caller's gradients")
    after = np.linalg.norm(np.concatenate([np.ravel(c) for c in clipped]))
    expect_close(after, 3.0, "after clipping the global norm should be max_norm", rtol=1e-5)
    expect_close(total, np.linalg.norm(np.concatenate([g.ravel() for g in floats])),
                 "return the norm of the ORIGINAL gradients, not of the clipped ones")


@test("clip_grad_norm", points=1)
def zero_gradients_with_other_orders(student):
    """all-zero gradients with norm_type 1 and inf, and a threshold of 0.3"""
    for p in (1.0, np.inf):
        try:
            out = student.call("clip_grad_norm", [np.zeros((2, 5)), np.zeros(1)], 0.3, p)
        except StudentError as exc:
            raise Fail(f"all-zero gradients (norm_type {p}): {exc}") from None
        clipped, total = _pair(out, 2)
        expect_close(total, 0.0, "the norm of zero gradients is 0")
        for c in clipped:
            expect_close(c, np.zeros_like(np.asarray(c, float)), "zero gradients stay zero")


@test("clip_grad_value", points=1)
def many_shapes_and_inf(student):
    """entries of ±inf become ±c; 3-D arrays too"""
    grads = [rng.normal(size=(2, 3, 4)) * 3, np.array([np.inf, -np.inf, 0.25])]
    out = student.call("clip_grad_value", grads, 0.5)
    expect(isinstance(out, (list, tuple)) and len(out) == 2, "one array per gradient")
    expect_close(out[0], np.clip(grads[0], -0.5, 0.5), "a (2, 3, 4) gradient clamped entry by entry")
    expect_close(out[1], [0.5, -0.5, 0.25], "+inf becomes +c and −inf becomes −c")


@test("clip_grad_value", points=1)
def inside_untouched(student):
    """a gradient entirely inside [−c, c] comes back unchanged"""
    g = rng.uniform(-0.9, 0.9, size=(5, 2))
    out = student.call("clip_grad_value", [g], 1.0)
    expect_close(out[0], g, "entries inside [−c, c] must not change (value clipping never rescales)")


def _orth(A, gain=1.0):
    rows, cols = A.shape
    t = A.T if rows < cols else A
    q, r = np.linalg.qr(t)
    q = q * np.sign(np.diag(r))
    return gain * (q.T if rows < cols else q)


@test("orthogonal_from", points=1)
def tall_matrix(student):
    """a tall 7 × 3 matrix: orthonormal columns, Wᵀ W = I"""
    A = rng.normal(size=(7, 3))
    W = as_array(student.call("orthogonal_from", A), "orthogonal_from(A)", shape=(7, 3))
    expect_close(W.T @ W, np.eye(3), "a tall matrix has orthonormal columns: Wᵀ W = I")
    expect_close(W, _orth(A), "tall case: Q (7 × 3) with the sign fix")


@test("orthogonal_from", points=1)
def many_square_sizes(student):
    """sizes 1, 2, 16 and gain 0.5: singular values all equal to the gain"""
    for n in (1, 2, 16):
        A = rng.normal(size=(n, n))
        W = as_array(student.call("orthogonal_from", A, 0.5), "orthogonal_from(A, 0.5)", shape=(n, n))
        expect_close(np.linalg.svd(W, compute_uv=False), np.full(n, 0.5), f"n = {n}: every singular value = gain")
        expect_close(W, _orth(A, 0.5), f"n = {n}: Q with the sign of R's diagonal, times the gain")


def _descent(start, lr, steps, threshold):
    p, pts = np.array(start, float), [np.array(start, float)]
    for _ in range(steps):
        _, dw, db = cliff.loss_and_grad(*p)
        g = np.array([dw, db])
        p = p - lr * g * min(1.0, threshold / (np.linalg.norm(g) + 1e-6))
        pts.append(p.copy())
    return np.array(pts)


@test("clipped_descent", points=1)
def another_start_and_threshold(student):
    """start (8, −2), lr 0.03, threshold 5"""
    pts = student.call("clipped_descent", (8.0, -2.0), 0.03, 30, 5.0)
    expect_close(pts, _descent((8.0, -2.0), 0.03, 30, 5.0), "clipped descent from (8, −2) with threshold 5", atol=1e-5)


@test("clipped_descent", points=1)
def clipping_makes_it_train(student):
    """threshold 10 keeps the loss far below the unclipped run's after 60 steps"""
    pts = as_array(student.call("clipped_descent", cliff.START, cliff.LR, 60, 10.0), "clipped_descent(...)",
                   shape=(61, 2))
    clipped_loss = cliff.loss_and_grad(*pts[-1])[0]
    plain_loss = cliff.loss_and_grad(*_descent(cliff.START, cliff.LR, 60, 1e12)[-1])[0]
    expect(clipped_loss < plain_loss / 10, f"final loss {clipped_loss:.3g} should be far below the unclipped "
           f"run's {plain_loss:.3g}")


@test("clipped_descent", points=1)
def tiny_threshold_and_lr(student):
    """start (11, −3.5), lr 0.005, threshold 0.5, 50 steps"""
    pts = as_array(student.call("clipped_descent", (11.0, -3.5), 0.005, 50, 0.5), "clipped_descent(...)",
                   shape=(51, 2))
    expect_close(pts, _descent((11.0, -3.5), 0.005, 50, 0.5), "clipped descent from (11, −3.5)", atol=1e-6)


# ----------------------------------------------------------------------------- train_adding

def _irnn(seed):
    import torch
    from course_lib import tasks
    from course_lib.rnn import init_recurrent_
    torch.manual_seed(seed)
    net = tasks.AddingRegressor(hidden_size=16, nonlinearity="relu")
    init_recurrent_(net.rnn, "identity", gain=1.1)
    return net


def _reference(steps, lr, threshold, T, seed, batch_size):
    import torch
    from course_lib import tasks
    net = _irnn(seed)
    batches = tasks.adding_batches(batch_size, T, seed=seed + 1)
    norms = []
    for _ in range(steps):
        x, y = next(batches)
        net.zero_grad()
        net(x, y)[1].backward()
        grads = [p.grad.detach().numpy().astype(np.float64) for p in net.parameters()]
        total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p -= torch.from_numpy((lr * min(1.0, threshold / (total + 1e-6)) * g).astype(np.float32))
        norms.append(total)
    return norms, {n: p.detach().numpy().copy() for n, p in net.named_parameters()}


@test("train_adding", points=1)
def other_seed_length_and_batch(student):
    """seed 3, T = 12, batch 7, lr 0.02, threshold 0.5, three steps"""
    out = student.call("train_adding", 3, 0.02, 0.5, 12, 3, 7)
    expect(isinstance(out, (tuple, list)) and len(out) == 3, "return (losses, grad_norms, params)")
    norms, params = _reference(3, 0.02, 0.5, 12, 3, 7)
    expect_close(out[1], norms, "gradient norms before clipping (seed 3, T = 12, batch 7)", rtol=1e-3)
    for name, p in params.items():
        expect_close(out[2][name], p, f"{name} after three steps (seed 3, T = 12, batch 7, lr 0.02, threshold 0.5)",
                     atol=2e-6, rtol=1e-4)


@test("train_adding", points=1)
def clipping_keeps_the_exploding_run_finite(student):
    """T = 100, seed 1, 12 steps of lr 0.05 with threshold 1: every loss finite, every step clipped"""
    out = student.call("train_adding", 12, 0.05, 1.0, 100, 1, 20)
    losses = as_array(out[0], "losses", shape=(12,))
    expect(np.all(np.isfinite(losses)), "a loss became inf or nan although every step was to be clipped")
    norms, params = _reference(12, 0.05, 1.0, 100, 1, 20)
    expect_close(out[1][0], norms[0], "the first gradient norm before clipping", rtol=1e-3)
    start = {n: p.detach().numpy() for n, p in _irnn(1).named_parameters()}
    moved = np.sqrt(sum(((np.asarray(out[2][n], float) - start[n]) ** 2).sum() for n in start))
    expect(moved <= 12 * 0.05 * 1.01, f"the parameters moved {moved:.3g} in 12 steps of at most lr · threshold = 0.05")
