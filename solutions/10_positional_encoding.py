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
    ### HINT: refuse an odd d before anything else; the two columns of a pair share one frequency, set by the even column's index; positions against frequencies is a grid of angles (broadcasting, no loop); which of sine and cosine goes in the even column?
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
# Why √d (as in the Transformer paper): an embedding table is initialised with entries of size about
# 1/√d (a whole embedding vector then has length about 1, like the rest of the model's vectors). P's
# entries are sines and cosines, of size about 1, and would drown such small entries; multiplied by
# √d, the embeddings' entries are of size about 1 too, and neither term drowns the other. The
# positions are **not** scaled. Every sequence of the batch gets the same P. (The checks feed
# embeddings of that size, N(0, 1/d).)

# %%
def add_positions(X, P):
    """X (B, T, d), P (max_len, d) with max_len ≥ T -> (B, T, d)."""
    ### HINT: P was computed for max_len positions and this batch has T; every sequence gets the same positions without a loop; the scale belongs to the embeddings alone and depends on their width, not on T
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
    ### HINT: row t is a query and column s a key: which keys lie in t's past, and does t count as its own past? The result is a mask, so its dtype is bool, not 0/1 numbers
    ### BEGIN SOLUTION
    return np.tril(np.ones((T, T), dtype=bool))
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("causal_mask")

# %% [markdown]
# ## Exercise 4, end to end: `causal_self_attention`
#
# One head of a Transformer LM's self-attention, built from your pieces. The input is the embeddings
# `X` (B, T, d) with their positions from `P` (max_len, d) (your `add_positions`); queries, keys and
# values are its projections by `W_q`, `W_k`, `W_v`, each `(d, d_k)` and applied to row vectors; the
# weights are notebook 09's scaled dot-product attention, softmax(Q Kᵀ / √d_k), with your
# `causal_mask` keeping every position from the future. Return `(output (B, T, d_k), weights (B, T, T))`.
#
# The public check proves the property that matters: changing a future token never changes an earlier output.

# %%
def causal_self_attention(X, P, W_q, W_k, W_v):
    """X (B, T, d), P (max_len, d), W_q/W_k/W_v (d, d_k) -> (output (B, T, d_k), weights (B, T, T))."""
    ### HINT: queries, keys and values are all read from the same input, the embeddings with their positions; the scale is the size of one query vector; the future must be excluded before the softmax (a weight zeroed afterwards leaves rows that no longer sum to 1)
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
