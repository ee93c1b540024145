"""Hidden tests for 05_clipping."""
import numpy as np

from course_lib import cliff
from course_lib.grading.spec import Fail, as_array, expect, expect_close, test

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
    """the originals are left unchanged; the clipped global norm is max_norm"""
    grads = [rng.normal(size=(6, 6)) * 100, rng.normal(size=6)]
    saved = [g.copy() for g in grads]
    clipped, total = _pair(student.call("clip_grad_norm", grads, 3.0), 2)
    after = np.linalg.norm(np.concatenate([np.ravel(c) for c in clipped]))
    expect_close(after, 3.0, "after clipping the global norm should be max_norm", rtol=1e-5)
    expect_close(total, np.linalg.norm(np.concatenate([g.ravel() for g in saved])),
                 "return the norm of the ORIGINAL gradients, not of the clipped ones")


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
