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

# This exercise notebook is generated from solutions/05_clipping.py by `course-grade generate`: do not edit.

# %% [markdown]
# # 05 · Exercises: gradient clipping and orthogonal initialisation
#
# Gradients come as a **list of arrays**, one per parameter (e.g. `[dW_xh, dW_hh, db_h]`), of any
# shapes. Mikolov's clipping treats them as ONE long vector g:
#
# $$\lVert g \rVert_p = \Big(\sum_{\text{all entries } i} |g_i|^p\Big)^{1/p}, \qquad
# \text{if } \lVert g\rVert > \text{threshold}: \quad g \leftarrow \text{threshold}\cdot \frac{g}{\lVert g\rVert}$$
#
# (for p = ∞ the norm is the largest |entry|). Your functions return new arrays and leave their
# inputs unchanged.

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
# ORIGINAL gradients, the number that tells you an explosion happened. Scale as PyTorch's
# `clip_grad_norm_` does: every gradient times `min(1, max_norm / (total_norm + 1e-6))` (the 1e-6
# keeps all-zero gradients finite).

# %%
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """grads: list of arrays (any shapes) -> (list of clipped arrays, total norm of the originals)."""
    # YOUR CODE HERE
    raise NotImplementedError('one norm for ALL entries of ALL arrays together (not one per array); norm_type may be np.inf; the factor is capped at 1')


# %%
# NBVAL_CHECK_OUTPUT
check("clip_grad_norm")

# %% [markdown]
# ## Exercise 2: `clip_grad_value`: clipping by value
#
# Clamp every entry to [−clip_value, clip_value] (what the Sequence Models course does with
# `np.clip`). Return the list of clipped arrays.

# %%
def clip_grad_value(grads, clip_value):
    """grads: list of arrays -> list of arrays with every entry in [-clip_value, clip_value]."""
    # YOUR CODE HERE
    raise NotImplementedError('entry by entry, both sides: large negative entries are cut too, and their sign is kept')


# %%
# NBVAL_CHECK_OUTPUT
check("clip_grad_value")

# %% [markdown]
# ## Exercise 3: `orthogonal_from`: an orthogonal W_hh, the way PyTorch makes it
#
# `torch.nn.init.orthogonal_` draws a Gaussian matrix A of shape (rows, cols) and returns the Q
# of its QR factorisation A = QR, with each column of Q multiplied by the sign of R's diagonal
# entry (so the result does not depend on the QR routine's sign convention), times `gain`. A
# wide matrix (rows < cols) is factorised transposed, and Q is transposed back. Given A, return
# that matrix (shape (rows, cols)). For a square matrix W Wᵀ = I: every singular value is 1.

# %%
def orthogonal_from(A, gain=1.0):
    """A: (rows, cols) Gaussian matrix -> (rows, cols) with orthonormal rows or columns, times gain."""
    # YOUR CODE HERE
    raise NotImplementedError('np.linalg.qr of a tall (or square) matrix; multiply column j of Q by sign(R[j, j]); mind the wide case')


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
# is thrown 34 units away; with threshold 10 it must stay near the bottom of the valley.

# %%
def clipped_descent(start, lr, steps, threshold):
    """Gradient descent on cliff.loss_and_grad with the gradient clipped to norm ≤ threshold -> (steps+1, 2)."""
    # YOUR CODE HERE
    raise NotImplementedError('clip the gradient g (not the step lr·g) before each update, with one norm over both entries')


# %%
# NBVAL_CHECK_OUTPUT
check("clipped_descent")

# %% [markdown]
# ## Try it: clipped and unclipped descent on the cliff

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("clipped_descent"):
    for threshold in (1e9, 10.0, 1.0):
        pts = clipped_descent(cliff.START, cliff.LR, 60, threshold)
        jumps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        end_loss = cliff.loss_and_grad(*pts[-1])[0]
        print(f"threshold {threshold:8.3g}: largest step {jumps.max():7.3f}, final loss {end_loss:9.3f}")
