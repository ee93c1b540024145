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

# This exercise notebook is generated from solutions/02_word2vec.py by `course-grade generate`: do not edit.

# %% [markdown]
# # 02 · Exercises: word2vec by hand
#
# Every word w has two vectors, named as in the lecture by the side of the network they sit on:
# $v_w$, a row of the input matrix $W$ $(V \times N)$, and $u_w$, a column of the output matrix
# $W'$ $(N \times V)$. In skip-gram the input is the centre word, so the centre uses $v$ and the
# context words $u$; in CBOW (Exercise 2) the input is the context, so the context words use $v$ and
# the predicted centre word $u$. We write D for the lecture's N (the embedding size).

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
# ## Exercise 1: `skipgram_pairs`
#
# For every position i (in order), pair the centre word `tokens[i]` with each word within
# `window` positions of it, left to right, never with itself. The lecture's example, with window 2:
# "the quick brown fox ..." gives (the, quick), (the, brown), (quick, the), (quick, brown),
# (quick, fox), (brown, the), ...

# %%
def skipgram_pairs(tokens, window):
    """List of (centre, context) tuples."""
    # YOUR CODE HERE
    raise NotImplementedError('the window is clipped at both ends of the list; skip the centre by its position, not by its word')


# %%
# NBVAL_CHECK_OUTPUT
check("skipgram_pairs")

# %% [markdown]
# ## Exercise 2: `cbow_loss`
#
# The lecture leaves CBOW as a question; here is the answer. CBOW predicts the centre word from
# its context: average the context words' vectors, $\bar v = \frac1C \sum_{i=1}^{C} v_i$, score every
# word $w$ by $u_w^\top \bar v$, and take the softmax. The loss is $-\log P(\text{centre} \mid \text{context})$.
#
# Inputs: `V_ctx` `(C, D)` (the C context words' input-side vectors $v_i$, already looked up), `U`
# `(vocab, D)` (every word's output-side vector $u_w$, i.e. $W'^\top$), and the centre's index.
# Compute the log-softmax stably.

# %%
def cbow_loss(V_ctx, U, centre):
    """-log softmax(U v̄)[centre] with v̄ the mean of the rows of V_ctx."""
    # YOUR CODE HERE
    raise NotImplementedError('v̄ has shape (D,) and the scores (vocab,); -log softmax is a log-sum-exp minus one score, and the log-sum-exp needs the max-shift trick of notebook 00')


# %%
# NBVAL_CHECK_OUTPUT
check("cbow_loss")

# %% [markdown]
# ## Exercise 3: `naive_softmax`: derive the gradients of the full-softmax loss
#
# The lecture's skip-gram network has two matrices: $W$ $(V \times N)$ from the one-hot input to the
# hidden layer, whose row $c$ is the centre vector $v_c$, and $W'$ $(N \times V)$ to the output, whose
# column $w$ is the context vector $u_w$. Here $U = W'^\top$ holds the $u_w$ as rows, shape
# `(vocab, D)` (the lecture's N is our D). For one pair (c, o) the loss is
#
# $$J = -\log P(o \mid c) = -\log \frac{\exp(u_o^\top v_c)}{\sum_{w} \exp(u_w^\top v_c)} .$$
#
# **Derive** $\partial J / \partial v_c$ and $\partial J / \partial U$ on paper (no formula is given: that is the
# exercise), then implement them. Return `(J, dJ_dv_c, dJ_dU)` for `v_c` `(D,)`, the index `o` and `U`
# `(vocab, D)`; the gradients have the shapes of `v_c` and `U`. The check compares them with PyTorch's
# autograd on random vectors.

# %%
def naive_softmax(v_c, o, U):
    """(J, ∂J/∂v_c (D,), ∂J/∂U (vocab, D)) for J = -log softmax(U v_c)[o]."""
    # YOUR CODE HERE
    raise NotImplementedError('write J as -s_o + log Σ_w exp(s_w) with s = U v_c; differentiate it with respect to each score s_w first, then use the chain rule through s = U v_c (which is linear in both v_c and U)')


# %% [markdown]
# <details><summary>A second hint (open it only if you are stuck)</summary>
#
# Write $\hat y = \mathrm{softmax}(s)$ and $y$ for the one-hot vector of o. The derivative of J with
# respect to the score vector s is a vector of length `vocab` built from $\hat y$ and $y$ only. From it,
# $\partial J/\partial v_c$ is a weighted sum of the rows of U, and $\partial J/\partial U$ is an outer product.
# </details>

# %%
# NBVAL_CHECK_OUTPUT
check("naive_softmax")

# %% [markdown]
# ## Exercise 4: `neg_sampling`: derive the gradients of the negative-sampling loss
#
# The full softmax sums over the whole vocabulary for every pair. Negative sampling replaces it by
# K noise words $k$ drawn from the noise distribution: the true pair (c, o) should score high,
# each noise pair low,
#
# $$J = -\log \sigma(u_o^\top v_c) - \sum_{k=1}^{K} \log \sigma(-u_k^\top v_c) .$$
#
# **Derive** $\partial J/\partial v_c$, $\partial J/\partial u_o$ and $\partial J/\partial u_k$ (again no formula is
# given), then return `(J, dJ_dv_c, dJ_du_o, dJ_du_neg)` for `v_c` `(D,)`, `u_o` `(D,)` and `u_neg` `(K, D)`
# (row k of `dJ_du_neg` is $\partial J/\partial u_k$). The check compares every gradient with autograd.

# %%
def neg_sampling(v_c, u_o, u_neg):
    """(J, ∂J/∂v_c (D,), ∂J/∂u_o (D,), ∂J/∂u_neg (K, D))."""
    # YOUR CODE HERE
    raise NotImplementedError('one identity does all the work: d/dx log σ(x) = 1 - σ(x) = σ(-x); then the chain rule through each score u_oᵀv_c, u_kᵀv_c')


# %% [markdown]
# <details><summary>A second hint (open it only if you are stuck)</summary>
#
# J is a sum of K + 1 terms, each a function of one score x = u_oᵀv_c or x = u_kᵀv_c. Differentiate each
# term with respect to its score (mind the minus sign inside σ(-x)), then multiply by the derivative of
# the score: with respect to v_c that is the other vector, and the other way round.
# </details>

# %%
# NBVAL_CHECK_OUTPUT
check("neg_sampling")

# %% [markdown]
# Your gradients are word2vec's updates: `course_lib.word2vec` trains the notebook's embeddings with
# exactly these hand-written gradients (plain SGD on the rows a pair touches), and its tests prove them
# equal to autograd.

# %% [markdown]
# ## Exercise 5: `cosine_neighbours`
#
# Return the indices of the k rows of the embedding matrix `E` `(vocab, D)` most similar to row
# `i` by **cosine** similarity $\frac{a^\top b}{\lVert a\rVert \lVert b\rVert}$, most similar first,
# excluding `i` itself.

# %%
def cosine_neighbours(E, i, k):
    """Indices of the k nearest rows to row i by cosine similarity, best first, i excluded."""
    # YOUR CODE HERE
    raise NotImplementedError('cosine is a dot product of unit-length vectors; the query itself has cosine 1, so take it out of the ranking before sorting')


# %%
# NBVAL_CHECK_OUTPUT
check("cosine_neighbours")

# %% [markdown]
# ## Try it

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("skipgram_pairs"):
    pairs = skipgram_pairs("the quick brown fox jumps over the lazy dog".split(), 2)
    print(len(pairs), "pairs; the first nine:", pairs[:9])

# %% [markdown]
# **Next:** `notebooks/03_rnn` (a recurrent network reads the whole past instead of a fixed window),
# then `exercises/03_rnn`.
