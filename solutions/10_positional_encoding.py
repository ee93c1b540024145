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
# # 10 · Exercises: positional encoding and causal self-attention
#
# Everything is NumPy in float64, batch-first:
#
# | symbol | shape |
# |---|---|
# | positional encoding P | `(n, d)`: rows are positions i, columns dimensions |
# | embeddings X | `(B, T, d)` |
# | causal mask | `(T, T)` bool, `True` where query t may look at key s |
#
# The lecture's encoding, with d even:
#
# $$p_{i,2j} = \sin\Big(\frac{i}{10000^{2j/d}}\Big), \qquad p_{i,2j+1} = \cos\Big(\frac{i}{10000^{2j/d}}\Big).$$

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
# ## Exercise 1: `sinusoidal_encoding`
#
# Return the `(n, d)` matrix P above for positions i = 0 … n − 1. Column 2j is a sine and column
# 2j + 1 the cosine **of the same frequency** 1 / 10000^{2j/d}. Raise a `ValueError` when d is odd.

# %%
def sinusoidal_encoding(n, d):
    """n positions, d (even) dimensions -> P (n, d) float64."""
    ### HINT: compute one (n, d/2) table of angles i / 10000^(2j/d), broadcasting a column of positions against a row of 2j = 0, 2, ..., d − 2; the exponent uses 2j (the even column's index) for BOTH columns of a pair; sines go to the even columns, cosines to the odd ones
    ### BEGIN SOLUTION
    if d % 2:
        raise ValueError(f"d must be even, got {d}")
    angles = np.arange(n)[:, None] / 10000 ** (np.arange(0, d, 2)[None, :] / d)
    P = np.zeros((n, d))
    P[:, 0::2] = np.sin(angles)
    P[:, 1::2] = np.cos(angles)
    return P
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("sinusoidal_encoding")

# %% [markdown]
# ## Exercise 2: `add_positions`
#
# A Transformer's input is the token embeddings plus the positions. `X` is a batch `(B, T, d)` of
# embeddings, `P` an encoding computed once for `max_len ≥ T` positions. Return
#
# $$\sqrt d \; X + P_{0..T-1}$$
#
# The embeddings are scaled by √d (as in the Transformer paper) so that the entries of P, which are
# all in [−1, 1], do not drown them; the positions are **not** scaled. Every sequence of the batch
# gets the same P.

# %%
def add_positions(X, P):
    """X (B, T, d), P (max_len, d) with max_len ≥ T -> (B, T, d)."""
    ### HINT: only the first T rows of P belong to this batch; a (T, d) matrix broadcasts against (B, T, d) over the batch axis by itself; the scale is the square root of the feature size d (X's last axis), not of T, and applies to X only
    ### BEGIN SOLUTION
    B, T, d = X.shape
    return X * np.sqrt(d) + P[:T]
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("add_positions")

# %% [markdown]
# ## Exercise 3: `causal_mask`
#
# A language model predicts token t + 1 from tokens 0 … t, so in self-attention query t may look at
# keys 0 … t (itself included) and never at t + 1, … Return a `(T, T)` boolean matrix, `True` where
# query t (row) may attend to key s (column).

# %%
def causal_mask(T):
    """T -> (T, T) bool, mask[t, s] = True iff s ≤ t."""
    ### HINT: the allowed pairs are a lower triangle, the diagonal included (a position sees itself); rows are queries, columns keys
    ### BEGIN SOLUTION
    return np.tril(np.ones((T, T), dtype=bool))
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("causal_mask")

# %% [markdown]
# ## Exercise 4, end to end: `causal_self_attention`
#
# One head of a Transformer LM's self-attention. From embeddings `X` (B, T, d) and a positional
# encoding `P` (max_len, d): add the positions (your `add_positions`), project to queries, keys and
# values with `W_q`, `W_k`, `W_v` (each `(d, d_k)`, row vectors: `Q = H @ W_q`), score with
# Q Kᵀ / √d_k, mask the future with your `causal_mask` (a masked score counts as −∞ before the
# softmax), softmax over the keys, and average the values. Return `(output (B, T, d_k), weights (B, T, T))`.
#
# The public check proves the property that matters: changing a future token never changes an earlier output.

# %%
def causal_self_attention(X, P, W_q, W_k, W_v):
    """X (B, T, d), P (max_len, d), W_q/W_k/W_v (d, d_k) -> (output (B, T, d_k), weights (B, T, T))."""
    ### HINT: the queries, keys and values are all projections of the same H = add_positions(X, P); √d_k is the size of a query, not T or d; the mask goes in as −∞ scores, then the softmax runs over the last axis (the keys) after subtracting each row's maximum
    ### BEGIN SOLUTION
    H = add_positions(X, P)
    Q, K, V = H @ W_q, H @ W_k, H @ W_v
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    s = np.where(causal_mask(X.shape[1]), s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    w = e / e.sum(axis=-1, keepdims=True)
    return w @ V, w
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("causal_self_attention")

# %% [markdown]
# ## Try it: order matters only with positions
#
# Shuffle three tokens and compare the last output with and without positional encoding (P = 0).
# Change `perm` or `d` and re-run.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("causal_self_attention"):
    rng = np.random.default_rng(0)
    d = 8
    X = rng.normal(size=(1, 3, d))
    W = [rng.normal(size=(d, d)) * 0.3 for _ in range(3)]
    perm = [1, 0, 2]                         # swap the first two tokens; the last one stays last
    for name, P in (("no positions", np.zeros((3, d))), ("sinusoidal P", sinusoidal_encoding(3, d))):
        a = causal_self_attention(X, P, *W)[0][0, -1]
        b = causal_self_attention(X[:, perm], P, *W)[0][0, -1]
        print(f"{name:13s}: last output changes by {np.abs(a - b).max():.3f} when the first two tokens swap")

# %% [markdown]
# Without positions the last token sees a *set* of earlier tokens: swapping two of them changes
# nothing. With P it sees a sequence.
