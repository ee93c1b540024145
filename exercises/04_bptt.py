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

# This exercise notebook is generated from solutions/04_bptt.py by `course-grade generate`: do not edit.

# %% [markdown]
# # 04 · Exercises: backpropagation through time by hand
#
# The lecture's network, with batch-first row vectors (a batch of B sequences):
#
# $$z_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h,\quad h_t = \tanh(z_t),\quad s_t = W_{hy} h_t + b_y,\quad y_t = \sigma(s_t),
# \quad E = \sum_t \tfrac12 \lVert y_t - d_t \rVert^2$$
#
# and its deltas
#
# $$\delta_y^t = (y_t - d_t) \odot \sigma'(s_t), \qquad
# \delta_h^t = \big(W_{hy}^\top \delta_y^t + W_{hh}^\top \delta_h^{t+1}\big) \odot f'(z_t), \quad f'(z_t) = 1 - h_t^2.$$
#
# With deltas stored as rows of shape `(B, H)`, $W_{hh}^\top \delta$ for every row is `delta @ W_hh`.

# %%
import numpy as np

from course_lib.grading import check, needs_exercise

# %% [markdown]
# ## Exercise 1: `delta_h_step`: one step of the backward recursion

# %%
def delta_h_step(delta_y_t, delta_h_next, W_hy, W_hh, h_t):
    """δ_h^t = (W_hyᵀ δ_y^t + W_hhᵀ δ_h^{t+1}) ⊙ (1 − h_t²). Shapes: δ_y (B, M), δ_h_next (B, H), h_t (B, H)."""
    # YOUR CODE HERE
    raise NotImplementedError('delta_y_t @ W_hy is W_hyᵀ δ_y for row vectors; add delta_h_next @ W_hh; multiply by 1 - h_t**2')


# %%
# NBVAL_CHECK_OUTPUT
check("delta_h_step")

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
    # YOUR CODE HERE
    raise NotImplementedError('for t = 1..T pair delta_h[:, t-1] with h[:, t-1]; np.einsum("bti,btj->ij", ...) does it in one line')


# %%
# NBVAL_CHECK_OUTPUT
check("grad_W_hh")

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
    # YOUR CODE HERE
    raise NotImplementedError('start from the identity; for i = t_from+1..t_to do J = diag(1 - h[i]**2) @ W_hh @ J')


# %%
# NBVAL_CHECK_OUTPUT
check("jacobian_norm")

# %% [markdown]
# ## Try it: the norm shrinks with distance when ρ(W_hh) < 1

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
    for k in (1, 5, 10, 20, 30):
        print(f"k = {k:2d}: ‖∂h_30/∂h_{30 - k}‖ = {jacobian_norm(W, states, 30 - k, 30):.2e}")
