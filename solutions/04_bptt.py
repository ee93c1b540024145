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
# # 04 · Exercises: backpropagation through time by hand
#
# The lecture's network, with batch-first row vectors (a batch of B sequences, steps t = 1..T):
#
# $$z_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h,\quad h_t = \tanh(z_t),\quad s_t = W_{hy} h_t + b_y,\quad y_t = \sigma(s_t),
# \quad E = \sum_t \tfrac12 \lVert y_t - d_t \rVert^2$$
#
# The backward pass works with two "deltas", the gradient of E with respect to the two
# pre-activations of step t:
#
# $$\delta_y^t = \frac{\partial E}{\partial s_t} \;(B \times M), \qquad \delta_h^t = \frac{\partial E}{\partial z_t} \;(B \times H).$$
#
# Deriving them is part of the exercises: the chain rule, $\tanh'(z) = 1 - \tanh^2(z)$ and
# $\sigma'(s) = \sigma(s)(1 - \sigma(s))$ are all you need. With deltas stored as rows of shape
# `(B, H)`, a matrix-transpose-times-delta $A^\top \delta$ for every row is `delta @ A`.

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import numpy as np

from course_lib.grading import check, needs_exercise

# %% [markdown]
# ## Exercise 1: `delta_h_step`: one step of the backward recursion
#
# $z_t$ influences E along two paths: through this step's output $s_t$ (whose delta is
# $\delta_y^t$) and through the next step's pre-activation $z_{t+1}$ (whose delta is
# $\delta_h^{t+1}$, zero after the last step). Derive $\delta_h^t$ from those two, and write it.
# Only $h_t$ is given, not $z_t$: express $\tanh'(z_t)$ with $h_t$.

# %%
def delta_h_step(delta_y_t, delta_h_next, W_hy, W_hh, h_t):
    """δ_h^t = ∂E/∂z_t from δ_y^t (B, M), δ_h^{t+1} (B, H) and h_t (B, H) -> (B, H)."""
    ### HINT: add the two paths (each is a transposed matrix times its delta) before multiplying, unit by unit, by the slope of tanh at z_t; W_hh is not symmetric
    ### BEGIN SOLUTION
    return (delta_y_t @ W_hy + delta_h_next @ W_hh) * (1 - h_t ** 2)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("delta_h_step")

# %% [markdown]
# <details><summary>Stuck? A second hint</summary>
#
# $s_t = W_{hy} h_t + b_y$ and $z_{t+1} = W_{xh} x_{t+1} + W_{hh} h_t + b_h$ both contain $h_t$,
# each through one matrix. By the chain rule the gradient that reaches $h_t$ is the sum of what
# comes back along each path, and a matrix that carries $h_t$ forward carries a delta backward
# through its transpose. From $h_t$ to $z_t$ the step is tanh, applied unit by unit.
# </details>

# %% [markdown]
# ## Exercise 2: `grad_W_hh`: the shared weight's gradient is a sum over time
#
# Given all hidden states `h` of shape `(B, T+1, H)` (`h[:, 0]` is $h_0$, `h[:, t]` is $h_t$) and
# all deltas `delta_h` of shape `(B, T, H)` (`delta_h[:, t-1]` is $\delta_h^t$), return
#
# $$\frac{\partial E}{\partial W_{hh}} = \sum_{t=1}^{T} \sum_{\text{batch}} \delta_h^t\, h_{t-1}^\top \quad (H \times H).$$
#
# Careful with the index: $W_{hh}$ multiplies the *previous* state $h_{t-1}$ in $z_t$. (One slide
# writes $h^{(t)}$ here: a typo.)

# %%
def grad_W_hh(h, delta_h):
    """∂E/∂W_hh = Σ_t δ_h^t h_{t-1}ᵀ, summed over the batch too. h (B, T+1, H), delta_h (B, T, H) -> (H, H)."""
    ### HINT: one outer product per step and per sequence, all added up; the state that pairs with step t's delta is the one W_hh multiplied in z_t
    ### BEGIN SOLUTION
    return np.einsum("bti,btj->ij", delta_h, h[:, :-1])
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("grad_W_hh")

# %% [markdown]
# <details><summary>Stuck? A second hint</summary>
#
# For one sequence and one step the term is the outer product of `delta_h[b, t-1]` (the rows, i)
# and `h[b, t-1]` (the columns, j): the state *before* step t. Sum it over b and t, either with two
# loops or with one `np.einsum` whose output keeps only the indices i and j.
# </details>

# %% [markdown]
# ## Exercise 3: `jacobian_norm`: how much of the gradient survives k steps?
#
# For one sequence with states `h` of shape `(T+1, H)`, the Jacobian from step `t_from` to step
# `t_to` is the product of one-step Jacobians, the latest on the left:
#
# $$\frac{\partial h_{t_{to}}}{\partial h_{t_{from}}} = J_{t_{to}} \cdots J_{t_{from}+1}, \qquad J_i = \mathrm{diag}(1 - h_i^2)\, W_{hh}.$$
#
# Return its spectral norm (largest singular value: `np.linalg.norm(M, 2)`). It bounds how much
# a gradient can grow or shrink on its way back from `t_to` to `t_from`.

# %%
def jacobian_norm(W_hh, h, t_from, t_to):
    """‖∂h_{t_to}/∂h_{t_from}‖₂ for one sequence of states h (T+1, H)."""
    ### HINT: the product has t_to - t_from factors, the latest step on the left; with no factor at all it is the identity; the norm is the largest singular value
    ### BEGIN SOLUTION
    J = np.eye(W_hh.shape[0])
    for i in range(t_from + 1, t_to + 1):
        J = (1 - h[i] ** 2)[:, None] * W_hh @ J
    return float(np.linalg.norm(J, 2))
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("jacobian_norm")

# %% [markdown]
# <details><summary>Stuck? A second hint</summary>
#
# $\mathrm{diag}(v) A$ scales row i of A by $v_i$: in NumPy `v[:, None] * A`, no diagonal matrix
# needed. Accumulate the product in a loop over i = t_from+1, ..., t_to, multiplying the new factor
# on the left.
# </details>

# %% [markdown]
# ## Try it: the norm shrinks with distance when ρ(W_hh) < 1, but not at every step
#
# A random 8×8 $W_{hh}$ scaled to spectral radius ρ = 0.9 (its largest |eigenvalue|), 30 steps of
# the recurrence with random inputs, and the norm of the Jacobian back from step 30.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("jacobian_norm"):
    rng = np.random.default_rng(0)
    W = rng.normal(0, 1 / np.sqrt(8), (8, 8))
    W *= 0.9 / np.max(np.abs(np.linalg.eigvals(W)))          # spectral radius 0.9
    h, states = np.zeros(8), [np.zeros(8)]
    for t in range(30):
        h = np.tanh(W @ h + rng.normal(0, 0.5, 8))
        states.append(h)
    states = np.array(states)
    print(f"spectral radius ρ = {np.max(np.abs(np.linalg.eigvals(W))):.2f}, "
          f"largest singular value ‖W_hh‖₂ = {np.linalg.norm(W, 2):.2f}")
    for k in (1, 5, 10, 20, 30):
        print(f"k = {k:2d}: ‖∂h_30/∂h_{30 - k}‖ = {jacobian_norm(W, states, 30 - k, 30):.2e}   "
              f"0.9^k = {0.9 ** k:.2e}   ‖W_hh‖₂^k = {np.linalg.norm(W, 2) ** k:.2e}")

# %% [markdown]
# One step back the norm is **above 1** although ρ = 0.9: the spectral radius is not the norm.
# For a matrix that is not symmetric (not normal), the largest singular value ‖W_hh‖₂ (here 1.49)
# exceeds the largest |eigenvalue| ρ, and one step can stretch a vector by up to
# $\gamma \lVert W_{hh} \rVert_2$ (γ = max of tanh' ≤ 1). Over many steps the eigenvalues win:
# $\lVert W_{hh}^k \rVert^{1/k} \to \rho$, so without the tanh slopes the product would decay like
# ρ^k in the long run; with them (every 1 − h_i² < 1) it falls even faster than 0.9^k, while
# ‖W_hh‖₂^k is only an upper bound, and here a useless one, since it grows. Hence Pascanu et al.'s
# conditions (2013), both on the largest singular value: ‖W_hh‖₂ < 1/γ is *sufficient* for vanishing, so
# ‖W_hh‖₂ > 1/γ is *necessary* for exploding (a condition on ρ alone would not be: a W_hh with ρ = 0 can
# still stretch a vector at every step).
#
# ## Exercise 4: `bptt`: the full backward pass, every parameter
#
# Now all of it: run the network forward over the T steps from the initial state `h0`, compute
# E, and run the backward pass to return the gradient of E with respect to **every** parameter
# and to the initial state. No formula is given here beyond the network at the top of this
# notebook: derive each gradient with the chain rule (every weight is shared by all T steps, so
# ask which terms of E it touches). Use your `delta_h_step` for the recursion. Write it with NumPy
# alone: `course_lib.bptt`, the lesson's own implementation, may **not** be used here (the grader
# gives no points to an answer that calls it), nor may autograd.
#
# | argument | shape | | returned gradient | shape |
# |---|---|---|---|---|
# | `params["W_xh"]` | `(H, D)` | | `grads["W_xh"]` | `(H, D)` |
# | `params["W_hh"]` | `(H, H)` | | `grads["W_hh"]` | `(H, H)` |
# | `params["b_h"]` | `(H,)` | | `grads["b_h"]` | `(H,)` |
# | `params["W_hy"]` | `(M, H)` | | `grads["W_hy"]` | `(M, H)` |
# | `params["b_y"]` | `(M,)` | | `grads["b_y"]` | `(M,)` |
# | `X`, `d`, `h0` | `(B, T, D)`, `(B, T, M)`, `(B, H)` | | `grads["h0"]` | `(B, H)` |
#
# The check compares your gradients with PyTorch's autograd on the same network, in float64.

# %%
def bptt(params, X, d, h0):
    """E and ∂E/∂(W_xh, W_hh, b_h, W_hy, b_y, h0) for the lecture's network -> (E: float, grads: dict)."""
    ### HINT: keep every h_t of the forward pass (h_0 included); go back from t = T to 1 with δ_h^{T+1} = 0; each shared parameter's gradient collects one term per step and per sequence; h0 is reached only through z_1
    ### BEGIN SOLUTION
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    T = X.shape[1]
    hs, ys = [h0], []
    for t in range(T):
        hs.append(np.tanh(X[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))
        ys.append(1 / (1 + np.exp(-(hs[-1] @ W_hy.T + b_y))))
    E = float(sum(0.5 * ((ys[t] - d[:, t]) ** 2).sum() for t in range(T)))
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    delta_h = np.zeros_like(h0)
    for t in reversed(range(T)):                 # hs[t + 1] is h_t of the lecture, hs[t] is h_{t-1}
        delta_y = (ys[t] - d[:, t]) * ys[t] * (1 - ys[t])
        delta_h = delta_h_step(delta_y, delta_h, W_hy, W_hh, hs[t + 1])
        grads["W_hy"] += delta_y.T @ hs[t + 1]
        grads["b_y"] += delta_y.sum(0)
        grads["W_xh"] += delta_h.T @ X[:, t]
        grads["W_hh"] += delta_h.T @ hs[t]
        grads["b_h"] += delta_h.sum(0)
    grads["h0"] = delta_h @ W_hh
    return E, grads
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("bptt")

# %% [markdown]
# <details><summary>Stuck? A second hint</summary>
#
# Write down, for one step t, which quantities each parameter enters: $W_{hy}, b_y$ enter $s_t$
# only (so their terms use $\delta_y^t$); $W_{xh}, W_{hh}, b_h$ enter $z_t$ only (their terms use
# $\delta_h^t$, with the input of that product: $x_t$, $h_{t-1}$, or 1). A bias's term is its delta
# summed over the batch. $h_0$ enters $z_1$ through $W_{hh}$.
# </details>
#
# ## Try it: your BPTT against finite differences
#
# Nudge one weight by ±ε, rerun the forward pass, and compare the change of E with your gradient.

# %%
from course_lib.claims import claim

with needs_exercise("bptt"):
    rng = np.random.default_rng(7)
    agree = []
    D, H, M, B, T = 3, 4, 2, 2, 6
    P = {"W_xh": rng.normal(0, 0.5, (H, D)), "W_hh": rng.normal(0, 0.5, (H, H)), "b_h": rng.normal(0, 0.5, H),
         "W_hy": rng.normal(0, 0.5, (M, H)), "b_y": rng.normal(0, 0.5, M)}
    X, d, h0 = rng.normal(size=(B, T, D)), rng.uniform(size=(B, T, M)), rng.normal(0, 0.5, (B, H))
    E, grads = bptt(P, X, d, h0)
    eps = 1e-6
    for name in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        idx = (0,) * P[name].ndim
        P[name][idx] += eps
        E_plus = bptt(P, X, d, h0)[0]
        P[name][idx] -= 2 * eps
        E_minus = bptt(P, X, d, h0)[0]
        P[name][idx] += eps
        numeric = (E_plus - E_minus) / (2 * eps)
        print(f"∂E/∂{name}{list(idx)}: yours {grads[name][idx]:+.6f}, finite differences {numeric:+.6f}")
        agree.append(abs(grads[name][idx] - numeric) <= 1e-6 + 1e-5 * abs(numeric))
    # the last printed digit of a finite difference may move with the CPU; the agreement may not
    claim(all(agree), "your gradients agree with finite differences (to 1e-5, relative)")

# %% [markdown]
# Next: notebook 05 (`notebooks/05_clipping`) turns to the remedies for the vanilla RNN: gradient
# clipping against explosion, identity initialisation and ReLU against vanishing.
