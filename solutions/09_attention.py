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
# # 09 · Exercises: attention by hand
#
# Attention pooling: a query q looks at keys k_i and averages their values v_i,
#
# $$f(q, (k_1, v_1), \dots, (k_n, v_n)) = \sum_i \alpha(q, k_i)\, v_i, \qquad
# \alpha(q, k_i) = \mathrm{softmax}_i\big(a(q, k_i)\big),$$
#
# a softmax over the **keys**: for every query the weights are ≥ 0 and sum to 1. Everything is
# batch-first NumPy, in float64:
#
# | symbol | shape |
# |---|---|
# | queries Q | `(B, T_q, d)` |
# | keys K | `(B, T_k, d)` |
# | values V | `(B, T_k, d_v)` |
# | scores, weights α, mask | `(B, T_q, T_k)` (a mask may be smaller and broadcast) |
#
# A **mask** is boolean, `True` where the query may look at the key (the pads of a padded batch,
# or the future in a decoder, are `False`).

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
# ## Exercise 1: `masked_softmax`
#
# Softmax over the last axis (the keys), where a masked key gets weight **exactly 0** and the
# allowed keys of each query still sum to 1. Every query has at least one allowed key. Scores may
# have any leading axes, `(B, T_q, T_k)` or `(B, heads, T_q, T_k)`. Keep it stable for large scores
# (notebook 00's softmax), also when the rows differ by hundreds.

# %%
def masked_softmax(scores, mask=None):
    """scores (..., T_q, T_k), mask bool broadcastable to scores (True = may attend) or None -> weights, same shape."""
    ### HINT: a masked key must take no share of the normalisation, so the mask acts before the softmax, not on its result; the normalisation runs over the keys, and the shift that keeps exp finite belongs to each query's row, not to the whole array (scores may have any number of leading axes)
    ### BEGIN SOLUTION
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("masked_softmax")

# %% [markdown]
# ## Exercise 2: `scaled_dot_product_attention`
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\Big(\frac{Q K^\top}{\sqrt d}\Big) V$$
#
# with `d` the size of a query (and key) vector. Return `(output (B, T_q, d_v), weights (B, T_q, T_k))`.
# Any leading axes are allowed: exercise 5 passes `(B, heads, T, d)`. Use your `masked_softmax`.

# %%
def scaled_dot_product_attention(Q, K, V, mask=None):
    """Q (B, T_q, d), K (B, T_k, d), V (B, T_k, d_v), mask bool or None -> (output (B, T_q, d_v), weights (B, T_q, T_k))."""
    ### HINT: every query meets every key in one batched product; the keys' and the features' axes are the last two, whatever axes (heads) come before them; the scale is the spread of a dot product of two d-vectors, so it depends on d, not on how many keys there are
    ### BEGIN SOLUTION
    d = Q.shape[-1]
    weights = masked_softmax(Q @ np.swapaxes(K, -1, -2) / np.sqrt(d), mask)
    return weights @ V, weights
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("scaled_dot_product_attention")

# %% [markdown]
# ## Exercise 3: `additive_scores`
#
# Additive (Bahdanau) attention scores, for queries and keys of different sizes:
#
# $$a(q, k) = w_v^\top \tanh(W_q q + W_k k)$$
#
# with `W_q (h, d_q)`, `W_k (h, d_k)`, `w_v (h,)`. Return the scores `(B, T_q, T_k)`, every query
# against every key (the softmax comes after, in `masked_softmax`).

# %%
def additive_scores(Q, K, W_q, W_k, w_v):
    """Q (B, T_q, d_q), K (B, T_k, d_k), W_q (h, d_q), W_k (h, d_k), w_v (h,) -> scores (B, T_q, T_k)."""
    ### HINT: each (query, key) pair needs its own h-vector, so the projected queries and keys must meet on a T_q × T_k grid (broadcasting, no loop); the nonlinearity acts on each pair's vector before w_v reduces it to one number
    ### BEGIN SOLUTION
    features = np.tanh((Q @ W_q.T)[:, :, None, :] + (K @ W_k.T)[:, None, :, :])   # (B, T_q, T_k, h)
    return features @ w_v
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("additive_scores")

# %% [markdown]
# ## Exercise 4: `split_heads`
#
# Multi-head attention cuts the `C` features of every position into `num_heads` consecutive
# slices of `C / num_heads`: head 0 gets columns `0 .. C/h − 1`, head 1 the next `C/h`, and so on
# (as `nn.MultiheadAttention` does). Return `(B, num_heads, T, C / num_heads)`, so that each head is
# a batch of ordinary attention problems.

# %%
def split_heads(X, num_heads):
    """X (B, T, C) -> (B, num_heads, T, C / num_heads), head i = feature columns i·C/h .. (i+1)·C/h − 1."""
    ### HINT: the heads own consecutive slices of each position's features, so cut the feature axis without mixing positions; a reshape straight to the output shape mixes time and features; the heads' axis must then travel to where a batch axis goes
    ### BEGIN SOLUTION
    B, T, C = X.shape
    return X.reshape(B, T, num_heads, C // num_heads).transpose(0, 2, 1, 3)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("split_heads")

# %% [markdown]
# ## Exercise 5: `multi_head_attention`, equal to `nn.MultiheadAttention` (end to end)
#
# $$\mathrm{MultiHead}(Q, K, V) = [h_1; \dots; h_H] W_{out}^\top + b_{out}, \qquad
# h_i = \mathrm{Attention}(Q W_i^{q\top}, K W_i^{k\top}, V W_i^{v\top})$$
#
# with `nn.MultiheadAttention`'s parameters: `W_in (3C, C)` stacks the projections W_q, W_k, W_v
# (rows `0:C`, `C:2C`, `2C:3C`), `b_in (3C,)` their biases, `W_out (C, C)`, `b_out (C,)`.
# `valid` is `None` or `(B, T_k)` bool, True at the real keys (careful: `nn.MultiheadAttention`'s
# `key_padding_mask` is the opposite, True at the pads). Return the output `(B, T_q, C)`.
# The tests compare it with `nn.MultiheadAttention(C, num_heads, batch_first=True)` holding the same weights.
# Use your `split_heads` and `scaled_dot_product_attention`.

# %%
def multi_head_attention(query, key, value, W_in, b_in, W_out, b_out, num_heads, valid=None):
    """query (B, T_q, C), key and value (B, T_k, C), W_in (3C, C), b_in (3C,), W_out (C, C), b_out (C,),
    valid (B, T_k) bool or None -> (B, T_q, C)."""
    ### HINT: each head is exercise 2's attention on its own slice, so its d is the size of a head, not C; the padding mask must line up with the heads' four-axis scores (it says nothing about heads or queries); merging undoes split_heads, and the output projection comes last
    ### BEGIN SOLUTION
    B, T_q, C = query.shape
    W_q, W_k, W_v = np.split(W_in, 3, axis=0)
    b_q, b_k, b_v = np.split(b_in, 3)
    q = split_heads(query @ W_q.T + b_q, num_heads)
    k = split_heads(key @ W_k.T + b_k, num_heads)
    v = split_heads(value @ W_v.T + b_v, num_heads)
    mask = None if valid is None else valid[:, None, None, :]
    heads, _ = scaled_dot_product_attention(q, k, v, mask)               # (B, heads, T_q, C / heads)
    merged = heads.transpose(0, 2, 1, 3).reshape(B, T_q, C)
    return merged @ W_out.T + b_out
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("multi_head_attention")

# %% [markdown]
# ## Try it: what masking does to the weights
#
# One query, five keys, the last two are padding. Change the scores or the mask and re-run: the
# masked keys always get exactly 0, and the others are renormalised among themselves.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("masked_softmax"):
    scores = np.array([[[2.0, 1.0, 0.5, 3.0, 3.0]]])
    mask = np.array([True, True, True, False, False])
    print("without mask:", np.round(masked_softmax(scores)[0, 0], 3))
    print("with mask:   ", np.round(masked_softmax(scores, mask)[0, 0], 3))
