# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
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
# # 03 · Exercises: the vanilla RNN by hand
#
# In NumPy, with the lecture's notation and batch-first shapes:
#
# $$h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)$$
#
# | symbol | shape |
# |---|---|
# | $x_t$ (a batch of inputs at step t) | `(B, D)` |
# | $h_{t-1}$, $h_t$ | `(B, H)` |
# | $W_{xh}$ | `(H, D)` |
# | $W_{hh}$ | `(H, H)` |
# | $b_h$ | `(H,)` |
#
# With a batch in the rows, $W_{xh} x_t$ for every row is `x_t @ W_xh.T`.

# %%
import numpy as np

from course_lib.grading import check, needs_exercise

# %% [markdown]
# ## Exercise 1: `rnn_step`: one step of the recurrence

# %%
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h). x_t: (B, D), h_prev: (B, H) -> (B, H)."""
    ### HINT: x_t @ W_xh.T has shape (B, H); so does h_prev @ W_hh.T; add b_h, apply np.tanh
    ### BEGIN SOLUTION
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("rnn_step")

# %% [markdown]
# ## Exercise 2: `rnn_forward`: unroll over time
#
# Run the recurrence over a whole batch of sequences `X` of shape `(B, T, D)` from the initial
# state `h0` `(B, H)`, and return every hidden state $h_1 \dots h_T$ stacked as `(B, T, H)`.
# The **same** weights are used at every step (weight sharing). Use your `rnn_step`: make sure
# `check("rnn_step")` passes first.

# %%
def rnn_forward(X, h0, W_xh, W_hh, b_h):
    """All hidden states h_1..h_T: X (B, T, D), h0 (B, H) -> (B, T, H)."""
    ### HINT: loop over t = 0..T-1 with X[:, t], carry h from one step to the next, stack along axis 1
    ### BEGIN SOLUTION
    h, states = h0, []
    for t in range(X.shape[1]):
        h = rnn_step(X[:, t], h, W_xh, W_hh, b_h)
        states.append(h)
    return np.stack(states, axis=1)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("rnn_forward")

# %% [markdown]
# ## Exercise 3: `sequence_loss`: cross-entropy per step, and perplexity
#
# An RNN language model outputs logits `(B, T, V)`: at every step a score for every token of
# the vocabulary. Its loss is the cross-entropy of the correct next token at every step,
# **averaged over all B·T steps** (natural log), and its perplexity is $e^{\text{loss}}$.
# Return both, as a tuple `(loss, perplexity)`. Compute log-softmax stably.

# %%
def sequence_loss(logits, targets):
    """logits (B, T, V), targets (B, T) ints -> (mean cross-entropy in nats, perplexity)."""
    ### HINT: log-softmax over the last axis (V), pick each target's entry, average all B*T of them
    ### BEGIN SOLUTION
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]   # (B, T)
    loss = float(-picked.mean())
    return loss, float(np.exp(loss))
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("sequence_loss")

# %% [markdown]
# ## Exercise 4: `sample_probs`: temperature and banned tokens
#
# To sample text, the model's next-token logits `z` (shape `(V,)`) become probabilities
# softmax(z / T). A temperature T < 1 sharpens the distribution (safer, more repetitive text),
# T > 1 flattens it (more surprising text). Tokens listed in `banned` (for example `<unk>`: the
# lecture says to resample whenever `<unk>` comes out) must get probability exactly 0, and the
# rest must still sum to 1.

# %%
def sample_probs(logits, temperature, banned):
    """softmax(logits / temperature) with the ids in `banned` set to probability 0. (V,) -> (V,)."""
    ### HINT: divide by T, set banned logits to -inf, subtract the max, exponentiate, normalise
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=np.float64) / temperature
    z[list(banned)] = -np.inf
    e = np.exp(z - z.max())
    return e / e.sum()
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("sample_probs")

# %% [markdown]
# ## Try it: a tiny RNN, by hand
#
# Three steps of a 2-unit RNN on a 1-dimensional input, with fixed weights, so you can follow
# the numbers. The same weights are used at every step.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("rnn_forward"):
    W_xh, W_hh, b_h = np.array([[1.0], [-1.0]]), np.array([[0.5, 0.0], [0.0, 0.5]]), np.zeros(2)
    X = np.array([[[1.0], [0.0], [0.0]]])                   # one sequence: an impulse, then silence
    H = rnn_forward(X, np.zeros((1, 2)), W_xh, W_hh, b_h)
    for t in range(3):
        print(f"h_{t + 1} = {np.round(H[0, t], 4)}")
    print("the impulse fades by a factor ~0.5 (times tanh') per step: a first look at vanishing memory")
