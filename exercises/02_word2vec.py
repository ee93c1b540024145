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
# Every word w has two vectors: $v_w$ when it is the centre word, $u_w$ when it is a context word.

# %%
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
    raise NotImplementedError('for each i, loop j from max(0, i - window) to min(len, i + window + 1), skipping j == i')


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
# Inputs: `V_ctx` `(C, D)` (the C context vectors, already looked up), `U` `(vocab, D)` (all
# context-side vectors $u_w$), and the centre's index. Compute the log-softmax stably.

# %%
def cbow_loss(V_ctx, U, centre):
    """-log softmax(U v̄)[centre] with v̄ the mean of the rows of V_ctx."""
    # YOUR CODE HERE
    raise NotImplementedError('vbar = V_ctx.mean(axis=0); scores = U @ vbar; subtract scores.max() before the log-sum-exp')


# %%
# NBVAL_CHECK_OUTPUT
check("cbow_loss")

# %% [markdown]
# ## Exercise 3: `neg_sampling`: the loss and its gradient
#
# With negative sampling, a pair (c, o) and K noise words $k$ give
#
# $$J = -\log \sigma(u_o^\top v_c) - \sum_{k=1}^{K} \log \sigma(-u_k^\top v_c),
# \qquad \frac{\partial J}{\partial v_c} = \big(\sigma(u_o^\top v_c) - 1\big)\, u_o + \sum_{k} \sigma(u_k^\top v_c)\, u_k .$$
#
# Return `(J, dJ_dv_c)` for `v_c` `(D,)`, `u_o` `(D,)` and `u_neg` `(K, D)`. The check compares your
# gradient with finite differences of your loss, and both with the reference.

# %%
def neg_sampling(v_c, u_o, u_neg):
    """(loss, gradient of the loss with respect to v_c)."""
    # YOUR CODE HERE
    raise NotImplementedError('sigmoid(x) = 1 / (1 + exp(-x)); note log σ(-x) for the negatives')


# %%
# NBVAL_CHECK_OUTPUT
check("neg_sampling")

# %% [markdown]
# ## Exercise 4: `cosine_neighbours`
#
# Return the indices of the k rows of the embedding matrix `E` `(vocab, D)` most similar to row
# `i` by **cosine** similarity $\frac{a^\top b}{\lVert a\rVert \lVert b\rVert}$, most similar first,
# excluding `i` itself.

# %%
def cosine_neighbours(E, i, k):
    """Indices of the k nearest rows to row i by cosine similarity, best first, i excluded."""
    # YOUR CODE HERE
    raise NotImplementedError('normalise every row to length 1, take dot products with row i, set entry i to -inf, argsort')


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
