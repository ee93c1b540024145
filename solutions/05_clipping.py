# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-widgets
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Exercises: gradient clipping and orthogonal initialisation
#
# Gradients come as a **list of arrays**, one per parameter (e.g. `[dW_xh, dW_hh, db_h]`), of any
# shapes. Norm clipping (Pascanu, Mikolov & Bengio 2013) treats them as ONE long vector g:
#
# $$\lVert g \rVert_p = \Big(\sum_{\text{all entries } i} |g_i|^p\Big)^{1/p}, \qquad
# \text{if } \lVert g\rVert > \text{threshold}: \quad g \leftarrow \text{threshold}\cdot \frac{g}{\lVert g\rVert}$$
#
# (for p = ∞ the norm is the largest |entry|; any p ≥ 1 may be asked for). Value clipping, the
# older heuristic (Mikolov 2012), cuts every entry separately instead. Your functions return new
# arrays and leave their inputs unchanged: the caller may still need the raw gradients.

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import numpy as np

from course_lib import cliff
from course_lib.grading import check, needs_exercise

# %% [markdown]
# ## Exercise 1: `clip_grad_norm`: clipping by the global norm
#
# Return `(clipped, total_norm)`: the list of clipped gradients (same shapes) and the norm of the
# ORIGINAL gradients, the number that tells you an explosion happened. Behave as PyTorch's
# `clip_grad_norm_` does: one common factor for all arrays, so the direction of g is kept; a
# gradient already inside the threshold is never enlarged; and a tiny ε = 1e-6 is added to the
# norm before anything is divided by it, so that all-zero gradients (a norm of 0) stay finite.

# %%
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """grads: list of arrays (any shapes) -> (list of clipped arrays, total norm of the originals)."""
    ### HINT: one norm over every entry of every array (not one per array), of the order you are given (1, 2, 3, ∞...); a factor above 1 would enlarge a small gradient; think of what the norm is for all-zero gradients
    ### BEGIN SOLUTION
    flat = np.concatenate([np.ravel(g) for g in grads])
    total = float(np.linalg.norm(flat, ord=norm_type))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("clip_grad_norm")

# %% [markdown]
# ## Exercise 2: `clip_grad_value`: clipping by value
#
# Clamp every entry to [−clip_value, clip_value], each entry on its own (the Sequence Models
# course's clipping). Unlike norm clipping this can change the direction of g. Return the list of
# clipped arrays.

# %%
def clip_grad_value(grads, clip_value):
    """grads: list of arrays -> list of arrays with every entry in [-clip_value, clip_value]."""
    ### HINT: entry by entry and on both sides: a large negative entry is cut too and keeps its sign; an entry inside the range is left alone
    ### BEGIN SOLUTION
    return [np.clip(g, -clip_value, clip_value) for g in grads]
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("clip_grad_value")

# %% [markdown]
# ## Exercise 3: `orthogonal_from`: an orthogonal W_hh, the way PyTorch makes it
#
# `torch.nn.init.orthogonal_` turns a Gaussian matrix A of shape (rows, cols) into the orthonormal
# factor of its QR factorisation, times `gain`. QR is unique only up to the signs of R's diagonal,
# and every linear-algebra library picks its own; PyTorch fixes them so that R's diagonal is
# positive, which makes the result a function of A alone. A wide matrix (rows < cols) cannot have
# orthonormal columns, so it gets orthonormal rows instead. Given A, return that matrix (shape
# (rows, cols)). For a square matrix W Wᵀ = I: every singular value is 1.

# %%
def orthogonal_from(A, gain=1.0):
    """A: (rows, cols) Gaussian matrix -> (rows, cols) with orthonormal rows or columns, times gain."""
    ### HINT: QR gives orthonormal columns only for a tall or square matrix, so think of which matrix to factorise in the wide case; a sign flip of R's row j is undone by flipping the matching column of Q
    ### BEGIN SOLUTION
    rows, cols = A.shape
    tall = A.T if rows < cols else A
    q, r = np.linalg.qr(tall)
    q = q * np.sign(np.diag(r))
    return gain * (q.T if rows < cols else q)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("orthogonal_from")

# %% [markdown]
# ## Exercise 4: `clipped_descent`: make the diverging descent train
#
# The one-unit RNN of the notebook, $x_t = w\,\sigma(x_{t-1}) + b$ with loss
# $L = (x_{10} - 0.7)^2$, has a cliff. `cliff.loss_and_grad(w, b)` gives `(L, dL/dw, dL/db)`.
# Starting at `start = (w, b)`, take `steps` steps of gradient descent
# $p \leftarrow p - \text{lr}\cdot g$, where g = (dL/dw, dL/db) is first clipped by its norm to
# `threshold` (use your `clip_grad_norm`). Return all points, the start included: an array of
# shape (steps + 1, 2).
#
# Without clipping (a huge threshold) the descent from (10, −3) with lr 0.01 hits the wall and
# is thrown tens of units away; with threshold 10 it must stay near the bottom of the valley.

# %%
def clipped_descent(start, lr, steps, threshold):
    """Gradient descent on cliff.loss_and_grad with the gradient clipped to norm ≤ threshold -> (steps+1, 2)."""
    ### HINT: what is clipped is the gradient, not the step; the learning rate and the start are arguments, not the notebook's constants; the start is the first point returned
    ### BEGIN SOLUTION
    p = np.array(start, dtype=float)
    points = [p.copy()]
    for _ in range(steps):
        _, dw, db = cliff.loss_and_grad(p[0], p[1])
        (g,), _ = clip_grad_norm([np.array([dw, db])], threshold)
        p = p - lr * g
        points.append(p.copy())
    return np.array(points)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("clipped_descent")

# %% [markdown]
# ## Try it: clipped and unclipped descent on the cliff
#
# The digits of these runs may differ slightly from machine to machine (the cliff amplifies
# last-digit differences); the checks below them do not.

# %%
with needs_exercise("clipped_descent"):
    runs = {}
    for threshold in (1e9, 10.0, 1.0):
        pts = clipped_descent(cliff.START, cliff.LR, 60, threshold)
        jumps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        runs[threshold] = (jumps.max(), cliff.loss_and_grad(*pts[-1])[0])
        print(f"threshold {threshold:8.3g}: largest step {jumps.max():7.3f}, final loss {runs[threshold][1]:9.3f}")

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.claims import claim

with needs_exercise("clipped_descent"):
    if len(runs) < 3:
        raise NotImplementedError("the cell above needs your answer first")
    claim(runs[1e9][0] > 10, "unclipped, one step at the wall is longer than 10 units")
    claim(runs[10.0][0] <= cliff.LR * 10.0 + 1e-9 and runs[1.0][0] <= cliff.LR * 1.0 + 1e-9,
          "clipped, no step is longer than lr × threshold")
    claim(runs[10.0][1] < runs[1e9][1] / 10, "threshold 10 ends with a loss far below the unclipped run's")

# %% [markdown]
# ## Exercise 5: `train_adding`: an RNN that trains only because you clip
#
# The notebook's diverging run, now with your own training loop. `exploding_irnn(seed)` (given
# below) builds the adding-problem regressor of `course_lib.tasks` whose ReLU RNN starts with
# $W_{hh}$ = 1.1·I: on sequences of T = 100 steps its first gradients have norms around $10^9$.
# Write plain SGD, $\theta \leftarrow \theta - \text{lr}\cdot \text{clip}(g)$, where the gradients of ALL
# parameters are clipped together by your `clip_grad_norm` to `threshold`:
#
# * the model is `exploding_irnn(seed)`, the batches come from `tasks.adding_batches(batch_size, T,
#   seed=seed + 1)` (one `next(...)` per step), and the loss is the model's own MSE
#   (`_, loss = model(x, y)`);
# * return `(losses, grad_norms, params)`: the loss of every step (floats), the global 2-norm of
#   every step's gradients BEFORE clipping, and the final parameters `{name: array}`.
#
# Your `clip_grad_norm` works on numpy arrays: `p.grad.numpy()` gives one (float32) and
# `torch.from_numpy(a)` turns an array back into a tensor.

# %%
import torch

from course_lib import tasks
from course_lib.rnn import init_recurrent_


def exploding_irnn(seed=0):
    """Given: the adding-problem regressor (ReLU RNN, 16 units) with W_hh = 1.1·I, seeded."""
    torch.manual_seed(seed)
    net = tasks.AddingRegressor(hidden_size=16, nonlinearity="relu")
    init_recurrent_(net.rnn, "identity", gain=1.1)
    return net


# %%
def train_adding(steps, lr, threshold, T=100, seed=0, batch_size=20):
    """SGD with every step's gradients clipped by clip_grad_norm -> (losses, grad norms before clipping,
    {name: final parameter array})."""
    ### HINT: backward() adds to .grad, so each step must start from clean gradients; the parameters change outside autograd's recording; all parameters' gradients go to ONE call of your clipping, so they share one factor
    ### BEGIN SOLUTION
    model = exploding_irnn(seed)
    batches = tasks.adding_batches(batch_size, T, seed=seed + 1)
    params = list(model.parameters())
    losses, norms = [], []
    for _ in range(steps):
        x, y = next(batches)
        _, loss = model(x, y)
        model.zero_grad()
        loss.backward()
        clipped, total = clip_grad_norm([p.grad.numpy() for p in params], threshold)
        with torch.no_grad():
            for p, g in zip(params, clipped):
                p -= lr * torch.from_numpy(np.asarray(g, dtype=np.float32))
        losses.append(loss.item())
        norms.append(float(total))
    return losses, norms, {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("train_adding")

# %% [markdown]
# ### Try it: with and without clipping
#
# 40 steps with learning rate 0.05, once with threshold 1 and once with a threshold no gradient
# reaches (no clipping at all). The exact losses may differ slightly from machine to machine; the
# checks below them do not.

# %%
results = {}
with needs_exercise("train_adding"):
    with np.errstate(all="ignore"):
        for thr in (1.0, 1e30):
            results[thr] = train_adding(40, 0.05, thr)
    for thr, (losses, norms, _) in results.items():
        label = "clipped at 1" if thr == 1.0 else "no clipping "
        print(f"{label}: first gradient norm {norms[0]:.2g}, losses finite {int(np.isfinite(losses).sum())}/40, "
              f"first loss {losses[0]:.3g}, mean of the last 10 {np.mean(losses[-10:]):.3g}")

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("train_adding"):
    if len(results) < 2:
        raise NotImplementedError("the cell above needs your answer first")
    (c_loss, c_norm, _), (u_loss, u_norm, _) = results[1.0], results[1e30]
    claim(c_norm[0] > 1e6, "the first gradient norm is over a million (an explosion)")
    claim(not np.all(np.isfinite(u_loss)), "without clipping the loss becomes inf or NaN")
    claim(np.all(np.isfinite(c_loss)), "with clipping all 40 losses are finite")
    claim(np.mean(c_loss[-10:]) < c_loss[0] / 1000, "clipped, the loss falls by more than a factor of 1 000")
