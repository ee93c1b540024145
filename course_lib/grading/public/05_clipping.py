"""Public tests for 05_clipping."""
import numpy as np

from course_lib import cliff
from course_lib.grading.spec import Fail, StudentError, as_array, expect, expect_close, test

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


@test("clip_grad_norm", points=1)
def other_norm_orders(student):
    """norm_type = 1 and 3: the p-norm of all entries together, for any p"""
    grads = _grads(2.0)
    for p in (1.0, 3.0):
        clipped, total = _unpack(student.call("clip_grad_norm", grads, 1.5, p), 3)
        want, want_total = _reference_norm(grads, 1.5, p)
        expect_close(total, want_total, f"with norm_type = {p:g} the total norm is the {p:g}-norm of all entries "
                     "(the order is an argument: 2 and inf are not the only ones)")
        for k, (c, w) in enumerate(zip(clipped, want)):
            expect_close(c, w, f"gradient {k} with norm_type = {p:g}: one factor from the {p:g}-norm")


@test("clip_grad_norm", points=1)
def all_zero_gradients(student):
    """all-zero gradients (a flat spot): norm 0, gradients 0, no division by zero"""
    grads = [np.zeros((3, 2)), np.zeros((3, 3)), np.zeros(3)]
    try:
        out = student.call("clip_grad_norm", grads, 1.0)
    except StudentError as exc:
        raise Fail(f"all-zero gradients have norm 0, and your clipping divides by it ({exc}): the ε added to the "
                   "norm before dividing is what keeps this case finite") from None
    clipped, total = _unpack(out, 3)
    expect_close(total, 0.0, "the norm of all-zero gradients is 0")
    for k, c in enumerate(clipped):
        expect_close(c, np.zeros(SHAPES[k]), f"gradient {k}: zero gradients must stay zero (no nan from 0 / 0)")


@test("clip_grad_norm", points=1)
def the_callers_gradients_are_not_overwritten(student):
    """integer-valued gradients: the clipped values (not integers) come back in new float arrays"""
    grads = [np.array([[30, -40], [0, 12]]), np.array([5, -9, 7])]     # integer dtype, norm ≈ 53.6
    want, want_total = _reference_norm([g.astype(float) for g in grads], 10.0)
    try:
        out = student.call("clip_grad_norm", grads, 10.0)
    except StudentError as exc:
        raise Fail("your clipping wrote the clipped values back into the gradient arrays it was given (in place; "
                   f"an integer array cannot hold them: {exc}). Return NEW arrays and leave the caller's "
                   "gradients unchanged") from None
    clipped, total = _unpack(out, 2)
    expect_close(total, want_total, "total_norm: the global 2-norm of the original gradients")
    for k, (c, w) in enumerate(zip(clipped, want)):
        expect_close(c, w, f"gradient {k}: the clipped values were rounded to integers, so they were written into "
                     "the arrays you were given (in place). Return NEW arrays and leave the caller's gradients "
                     "unchanged")


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


@test("clip_grad_value", points=1)
def value_clipping_returns_new_arrays(student):
    """integer-valued gradients clipped at 2.5: new float arrays, the caller's gradients untouched"""
    grads = [np.array([[4, -7], [1, 2]]), np.array([-3, 0, 9])]
    try:
        out = student.call("clip_grad_value", grads, 2.5)
    except StudentError as exc:
        raise Fail("your clipping wrote into the gradient arrays it was given (in place; an integer array cannot "
                   f"hold ±2.5: {exc}). Return NEW arrays and leave the caller's gradients unchanged") from None
    expect(isinstance(out, (list, tuple)) and len(out) == 2, "return a list with one clipped array per gradient")
    for k, (c, g) in enumerate(zip(out, grads)):
        expect_close(c, np.clip(g.astype(float), -2.5, 2.5), f"gradient {k}: ±2.5 was rounded, so the values were "
                     "written into the arrays you were given (in place): return NEW arrays")


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
    expect_close(W, _orth(A), "W differs from PyTorch's: QR fixes Q only up to the sign of each column; PyTorch's "
                 "convention makes R's diagonal positive, so the result does not depend on the QR routine")


@test("orthogonal_from", points=1)
def wide_and_gain(student):
    """a wide 3 × 5 matrix with gain 2: orthonormal rows times 2"""
    A = rng.normal(size=(3, 5))
    W = as_array(student.call("orthogonal_from", A, 2.0), "orthogonal_from(A, 2.0)", shape=(3, 5))
    expect_close(W @ W.T, 4 * np.eye(3), "with gain 2 and a wide matrix, W Wᵀ = 4 I: a wide matrix gets orthonormal ROWS, "
                 "and the gain scales every singular value")
    expect_close(W, _orth(A, 2.0), "a wide matrix: orthonormal rows, with the same sign convention as the square case (R's diagonal "
                 "positive), times the gain")


@test("orthogonal_from", points=1)
def tall_and_one_row(student):
    """a tall 5 × 2 matrix with gain 0.5 (orthonormal columns) and a 1 × 4 row"""
    A = rng.normal(size=(5, 2))
    W = as_array(student.call("orthogonal_from", A, 0.5), "orthogonal_from(A, 0.5)", shape=(5, 2))
    expect_close(W.T @ W, 0.25 * np.eye(2), "a tall matrix has orthonormal COLUMNS: Wᵀ W = gain² I")
    expect_close(W, _orth(A, 0.5), "a tall matrix: the same sign convention (R's diagonal positive), times the gain")
    A = rng.normal(size=(1, 4))
    W = as_array(student.call("orthogonal_from", A), "orthogonal_from(A)", shape=(1, 4))
    expect_close(W, _orth(A), "a single row: a unit vector pointing the way the row of A points")


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


@test("clipped_descent", points=1)
def another_start_and_learning_rate(student):
    """start (9, −2.5), lr 0.02, threshold 4: the arguments, not the notebook's constants"""
    pts = as_array(student.call("clipped_descent", (9.0, -2.5), 0.02, 25, 4.0), "clipped_descent(...)",
                   shape=(26, 2))
    expect_close(pts[0], [9.0, -2.5], "the first point must be the start you were given, not the notebook's")
    want = _descent((9.0, -2.5), 0.02, 25, 4.0)
    expect_close(pts[1], want[1], "the first step: p ← p − lr · g with the learning rate you were given (0.02 here) "
                 "and g clipped to norm ≤ threshold (4 here)", atol=1e-7)
    expect_close(pts, want, "the path from (9, −2.5) with lr 0.02 and threshold 4 differs from clipped descent",
                 atol=1e-5)


# ----------------------------------------------------------------------------- train_adding (end to end)

def _irnn(seed):
    import torch
    from course_lib import tasks
    from course_lib.rnn import init_recurrent_
    torch.manual_seed(seed)
    net = tasks.AddingRegressor(hidden_size=16, nonlinearity="relu")
    init_recurrent_(net.rnn, "identity", gain=1.1)
    return net


def reference_training(steps, lr, threshold, T=100, seed=0, batch_size=20):
    """Plain SGD with the gradients of all parameters clipped together: (losses, norms, params, start)."""
    import torch
    from course_lib import tasks
    net = _irnn(seed)
    start = {n: p.detach().numpy().copy() for n, p in net.named_parameters()}
    batches = tasks.adding_batches(batch_size, T, seed=seed + 1)
    losses, norms = [], []
    for _ in range(steps):
        x, y = next(batches)
        net.zero_grad()
        _, loss = net(x, y)
        loss.backward()
        grads = [p.grad.detach().numpy().astype(np.float64) for p in net.parameters()]
        total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))
        scale = min(1.0, threshold / (total + 1e-6))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p -= torch.from_numpy((lr * scale * g).astype(np.float32))
        losses.append(loss.item())
        norms.append(total)
    return losses, norms, {n: p.detach().numpy().copy() for n, p in net.named_parameters()}, start


def _training(student, *args):
    out = student.call("train_adding", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 3, "train_adding must return (losses, grad_norms, params)")
    steps = args[0]
    losses, norms = as_array(out[0], "losses"), as_array(out[1], "grad_norms")
    expect(losses.shape == (steps,) and norms.shape == (steps,), f"return one loss and one gradient norm per step "
           f"({steps}), got {losses.shape} and {norms.shape}")
    expect(isinstance(out[2], dict), "return the final parameters as {name: array} (model.named_parameters())")
    return losses, norms, {k: as_array(v, k) for k, v in out[2].items()}


@test("train_adding", points=1)
def plain_sgd_steps_on_short_sequences(student):
    """T = 10 (no explosion), a threshold no gradient reaches, lr 0.03: two steps of θ ← θ − lr·g, every parameter"""
    losses, norms, params = _training(student, 2, 0.03, 1e9, 10, 0, 20)
    ref_losses, ref_norms, ref_params, start = reference_training(2, 0.03, 1e9, 10, 0, 20)
    expect(set(params) == set(ref_params), f"return every parameter by name: {sorted(ref_params)}")
    expect_close(losses[0], ref_losses[0], "the first loss differs: build the model with exploding_irnn(seed) and "
                 "take the batches from tasks.adding_batches(batch_size, T, seed=seed + 1)", rtol=1e-4)
    for name, p in params.items():
        expect(p.shape == start[name].shape, f"{name}: shape {p.shape}, expected {start[name].shape}")
        expect(not np.allclose(p, start[name], rtol=0, atol=1e-8), f"{name} never moved from its starting value: "
               "every parameter of the model is updated at every step")
    expect_close(norms[0], ref_norms[0], "grad_norms[0] should be the global 2-norm of all parameters' gradients "
                 "at the first step, before clipping", rtol=1e-4)
    for name in ref_params:
        expect_close(params[name], ref_params[name], f"{name} after two steps differs from θ ← θ − lr·g (lr 0.03 "
                     "here). Does each step start from clean gradients (backward() ADDS to .grad), and use the "
                     "learning rate you were given, on a new batch?", atol=2e-6, rtol=1e-4)


@test("train_adding", points=1)
def clipped_steps_on_exploding_gradients(student):
    """T = 100, W_hh = 1.1·I, threshold 1, lr 0.05: gradient norms around 1e9, steps of length lr·threshold"""
    _, norms, params = _training(student, 2, 0.05, 1.0)
    ref_losses, ref_norms, ref_params, start = reference_training(2, 0.05, 1.0)
    expect(norms[0] > 1e6, f"grad_norms[0] is {norms[0]:.3g}: record the norm of the ORIGINAL gradients (around "
           f"{ref_norms[0]:.2g} here), before clipping, which is how an explosion shows")
    expect(set(params) == set(start), f"return every parameter by name: {sorted(start)}")
    moved = np.sqrt(sum(((params[n] - start[n]) ** 2).sum() for n in start))
    expect(moved < 2 * 0.05 * 1.0 * 1.01, f"the parameters moved {moved:.3g} in two steps: with every step's "
           "gradient clipped to norm 1, two steps of lr 0.05 move them at most 0.1 (clip the gradients of all "
           "parameters together, before the update)")
    expect_close(norms, ref_norms, "the gradient norms before clipping differ from the reference run's", rtol=1e-3)
    for name in start:
        expect_close(params[name], ref_params[name], f"{name} after two clipped steps differs from θ ← θ − lr·clip(g): "
                     "one factor for all parameters (one global norm), the gradient clipped (not the step lr·g), "
                     "clean gradients at every step", atol=1e-5, rtol=1e-3)
