"""Public tests for 05_clipping."""
import numpy as np

from course_lib import cliff
from course_lib.grading.spec import Fail, as_array, expect, expect_close, test

rng = np.random.default_rng(5)
SHAPES = [(3, 2), (3, 3), (3,)]                  # dW_xh, dW_hh, db_h of a 3-unit RNN with 2 inputs


def _grads(scale=1.0):
    return [rng.normal(size=s) * scale for s in SHAPES]


def _reference_norm(grads, max_norm, p=2.0):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]), ord=p)
    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total


def _unpack(out, n):
    if out is None:
        raise Fail("clip_grad_norm returned None: return (clipped list, total_norm)")
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[0], (list, tuple))
            and len(out[0]) == n):
        raise Fail(f"return a pair (list of {n} clipped arrays, total norm of the original gradients)")
    return out


@test("clip_grad_norm", points=1)
def one_global_norm(student):
    """an exploding gradient: all arrays scaled by ONE factor to global norm = max_norm"""
    grads = _grads()
    grads[1][2, 0] = 50.0                            # one huge entry in W_hh's gradient
    clipped, total = _unpack(student.call("clip_grad_norm", grads, 2.0), 3)
    want, want_total = _reference_norm(grads, 2.0)
    expect_close(total, want_total, "total_norm should be the global 2-norm of the ORIGINAL gradients "
                 "(all entries of all arrays together, before clipping)")
    for k, (c, w) in enumerate(zip(clipped, want)):
        expect_close(c, w, f"gradient {k} after clipping: every array must be multiplied by the same factor "
                     "max_norm / global norm (one norm for all parameters, not one per array)")


@test("clip_grad_norm", points=1)
def below_the_threshold_nothing_changes(student):
    """‖g‖ below the threshold: the gradients come back unchanged"""
    grads = _grads(0.1)
    clipped, total = _unpack(student.call("clip_grad_norm", grads, 100.0), 3)
    expect_close(total, _reference_norm(grads, 100.0)[1], "total_norm: the global norm of the gradients")
    for k, (c, g) in enumerate(zip(clipped, grads)):
        expect_close(c, g, f"gradient {k}: below the threshold clipping must not change anything "
                     "(the factor is capped at 1, never scaled up to the threshold)")


@test("clip_grad_norm", points=1)
def infinity_norm(student):
    """norm_type = inf: the norm is the largest |entry|"""
    grads = _grads(3.0)
    clipped, total = _unpack(student.call("clip_grad_norm", grads, 1.0, np.inf), 3)
    want, want_total = _reference_norm(grads, 1.0, np.inf)
    expect_close(total, want_total, "with norm_type = inf the total norm is the largest |entry| over all arrays")
    for k, (c, w) in enumerate(zip(clipped, want)):
        expect_close(c, w, f"gradient {k} with the inf-norm: scale by max_norm / (largest |entry|)")


@test("clip_grad_value", points=1)
def both_sides_are_clamped(student):
    """entries above c become c, below −c become −c, the rest stay"""
    grads = _grads(2.0)
    out = student.call("clip_grad_value", grads, 0.7)
    expect(isinstance(out, (list, tuple)) and len(out) == 3, "return a list with one clipped array per gradient")
    for k, (c, g) in enumerate(zip(out, grads)):
        expect_close(c, np.clip(g, -0.7, 0.7), f"gradient {k}: each entry must be clamped to [−c, c]: "
                     "negative entries keep their sign, entries inside stay unchanged")


@test("clip_grad_value", points=1)
def value_clipping_changes_the_direction(student):
    """g = (4, 0.8) clipped at 1 is (1, 0.8), not a rescaled (4, 0.8)"""
    out = student.call("clip_grad_value", [np.array([4.0, 0.8]), np.array([[-3.0, 0.2]])], 1.0)
    expect(isinstance(out, (list, tuple)) and len(out) == 2, "return a list with one clipped array per gradient")
    expect_close(out[0], [1.0, 0.8], "value clipping cuts each entry separately (4 -> 1, 0.8 stays): "
                 "this is not norm clipping, the direction changes")
    expect_close(out[1], [[-1.0, 0.2]], "the negative entry −3 must become −1")


def _orth(A, gain=1.0):
    rows, cols = A.shape
    t = A.T if rows < cols else A
    q, r = np.linalg.qr(t)
    q = q * np.sign(np.diag(r))
    return gain * (q.T if rows < cols else q)


@test("orthogonal_from", points=1)
def square_matches_torch_recipe(student):
    """a square 6 × 6 matrix: Q with the sign of R's diagonal, W Wᵀ = I"""
    A = rng.normal(size=(6, 6))
    W = as_array(student.call("orthogonal_from", A), "orthogonal_from(A)", shape=(6, 6))
    expect_close(W @ W.T, np.eye(6), "W Wᵀ should be the identity: take the Q of the QR factorisation")
    expect_close(W, _orth(A), "each column of Q must be multiplied by the sign of R's diagonal entry "
                 "(the result must not depend on the QR routine's sign convention)")


@test("orthogonal_from", points=1)
def wide_and_gain(student):
    """a wide 3 × 5 matrix with gain 2: orthonormal rows times 2"""
    A = rng.normal(size=(3, 5))
    W = as_array(student.call("orthogonal_from", A, 2.0), "orthogonal_from(A, 2.0)", shape=(3, 5))
    expect_close(W @ W.T, 4 * np.eye(3), "with gain 2 and a wide matrix, W Wᵀ = 4 I: factorise Aᵀ, transpose back, "
                 "then multiply by the gain")
    expect_close(W, _orth(A, 2.0), "a wide matrix: QR of Aᵀ, sign fix, transpose back, times gain")


def _descent(start, lr, steps, threshold):
    p, pts = np.array(start, float), [np.array(start, float)]
    for _ in range(steps):
        _, dw, db = cliff.loss_and_grad(*p)
        g = np.array([dw, db])
        g = g * min(1.0, threshold / (np.linalg.norm(g) + 1e-6))
        p = p - lr * g
        pts.append(p.copy())
    return np.array(pts)


@test("clipped_descent", points=1)
def clipped_descent_stays_near_the_wall(student):
    """threshold 10 from (10, −3): every step ≤ lr·10, and the same path as clipped descent"""
    pts = as_array(student.call("clipped_descent", (10.0, -3.0), 0.01, 40, 10.0), "clipped_descent(...)",
                   shape=(41, 2))
    expect_close(pts[0], [10.0, -3.0], "the first point is the start")
    jumps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    expect(jumps.max() <= 0.01 * 10.0 + 1e-6, f"a step was {jumps.max():.3g} long: with the gradient clipped to "
           "norm 10, no step can be longer than lr · 10 = 0.1 (clip g itself, by its norm)")
    expect_close(pts, _descent((10.0, -3.0), 0.01, 40, 10.0), "the path differs from descent with the gradient "
                 "rescaled to norm ≤ threshold before each update p ← p − lr·g", atol=1e-5)


@test("clipped_descent", points=1)
def huge_threshold_is_plain_descent(student):
    """a huge threshold: plain gradient descent, thrown far at the wall"""
    pts = as_array(student.call("clipped_descent", (10.0, -3.0), 0.01, 35, 1e9), "clipped_descent(...)",
                   shape=(36, 2))
    expect_close(pts, _descent((10.0, -3.0), 0.01, 35, 1e9), "with a threshold far above every gradient norm "
                 "nothing is clipped: the path must be plain gradient descent", atol=1e-5)
