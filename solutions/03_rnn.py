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
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.grading import check, needs_exercise

# %% [markdown]
# ## Exercise 1: `rnn_step`: one step of the recurrence

# %%
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h). x_t: (B, D), h_prev: (B, H) -> (B, H)."""
    ### HINT: three terms of shape (B, H) are added before the nonlinearity; with the batch in the rows, a matrix acts on each row from the right, transposed
    ### BEGIN SOLUTION
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("rnn_step")

# %% [markdown]
# <details><summary>Stuck? A second hint</summary>
#
# Check the shapes term by term: `x_t` is `(B, D)` and $W_{xh}$ is `(H, D)`, so which product gives
# `(B, H)`? The same question for `h_prev` `(B, H)` and $W_{hh}$ `(H, H)`: here both orders have the
# right shape, and only one is $W_{hh} h_{t-1}$ (the check uses a non-symmetric $W_{hh}$). `b_h` `(H,)`
# broadcasts over the rows.
# </details>

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
    ### HINT: time is axis 1; the state one step produces is the h_{t-1} of the next; return h_1..h_T, not h_0
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
# <details><summary>Stuck? A second hint</summary>
#
# Keep one variable for "the state so far", starting at `h0`. At every step give it and `X[:, t]` to
# `rnn_step`, overwrite the variable with the answer and remember the answer in a list. Stack the
# list so that the time axis is axis 1.
# </details>

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
    ### HINT: the normaliser runs over the vocabulary (last axis); each of the B*T steps contributes the log-probability of its own target; exp overflows for large logits unless you shift them first
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
# <details><summary>Stuck? A second hint</summary>
#
# $\ln \mathrm{softmax}(z)_k = z_k - \ln \sum_j e^{z_j}$, and subtracting $\max_j z_j$ from every
# $z_j$ changes neither side. `np.take_along_axis` picks one entry per step along the last axis
# when the indices have a trailing axis of length 1.
# </details>

# %% [markdown]
# ## Exercise 4: `sample_probs`: temperature and banned tokens
#
# To sample text, the model's next-token logits `z` (shape `(V,)`) become probabilities
# softmax(z / T). A temperature T < 1 sharpens the distribution (safer, more repetitive text),
# T > 1 flattens it (more surprising text). Tokens listed in `banned` (for example `<unk>`: the
# Sequence Models course notes advise resampling whenever `<unk>` comes out) must get probability
# exactly 0, and the rest must still sum to 1.

# %%
def sample_probs(logits, temperature, banned):
    """softmax(logits / temperature) with the ids in `banned` set to probability 0. (V,) -> (V,)."""
    ### HINT: temperature acts on the logits, before the softmax; a banned token must vanish before normalising, not after
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
# <details><summary>Stuck? A second hint</summary>
#
# $e^{-\infty} = 0$: a logit of `-np.inf` gives probability exactly 0, and the normalisation that
# follows then spreads the mass over the allowed tokens only. Work in float64 on a copy of the logits.
# </details>

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

# %% [markdown]
# ## Part 2: an RNN language model in PyTorch, end to end
#
# Now the whole model of the notebook, in PyTorch, where autograd does the backward pass: read
# token ids, run the recurrence, score every next token, and train it. The three exercises build
# on each other: `lm_batch` (the data), `RNNLanguageModel` (the model and its loss), `train_lm`
# (the training loop). `course_lib.rnn.RNNLM` and `course_lib.train.train` are the library's
# versions: here you write them yourself.
#
# ### Exercise 5: `lm_batch`: inputs and shifted targets
#
# A language model reads $w_1 \dots w_T$ and, at every step t, predicts the *next* token. So from a
# long sequence of token ids, one training window starting at position `s` gives an input row
# `x` of `seq_len` ids and a target row `y` of the same length, where `y[t]` is the token that
# follows `x[t]` in the sequence. Return both for every start in `starts`, as `(B, seq_len)`
# LongTensors.

# %%
def lm_batch(ids, starts, seq_len):
    """Inputs and targets for the windows of ``ids`` (a sequence of N token ids) starting at ``starts``.

    ids: list or 1-d array/tensor of N ints; starts: B ints, each <= N - seq_len - 1
    -> (x, y), two LongTensors of shape (B, seq_len).
    """
    ### HINT: what should the model be asked to predict at the last position of a window, and where in ids is it?
    ### BEGIN SOLUTION
    ids = torch.as_tensor(ids, dtype=torch.long)
    x = torch.stack([ids[int(s):int(s) + seq_len] for s in starts])
    y = torch.stack([ids[int(s) + 1:int(s) + seq_len + 1] for s in starts])
    return x, y
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("lm_batch")

# %% [markdown]
# ### Exercise 6: `RNNLanguageModel`: the model and its loss
#
# The lecture's RNN LM with an embedding as input: $x_t$ is the embedding of token $w_t$, then
#
# $$h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h), \quad h_0 = 0, \qquad
# \text{logits}_t = W_{hy} h_t + b_y, \qquad \hat y_t = \mathrm{softmax}(\text{logits}_t).$$
#
# `forward(idx, targets)` follows the course's (and makemore's) signature: it returns the logits of
# every step, shape `(B, T, V)`, and, when `targets` `(B, T)` is given, the mean cross-entropy over
# all B·T steps (else `None`). The parameters are created for you in `__init__` with the lecture's
# names (a test copies its own values into them); write `forward`. `F.cross_entropy` takes raw
# logits (it applies the log-softmax itself) of shape `(N, V)` and targets `(N,)`.

# %%
class RNNLanguageModel(nn.Module):
    """Embedding -> h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h) -> logits W_hy h_t + b_y (batch-first).

    forward(idx (B, T) LongTensor, targets (B, T) LongTensor or None) -> (logits (B, T, V), loss or None)
    """

    def __init__(self, vocab_size, embed_dim, hidden_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)                 # x_t = embed(w_t): (B, E)
        s = 1 / hidden_size ** 0.5
        self.W_xh = nn.Parameter(torch.empty(hidden_size, embed_dim).uniform_(-s, s))    # (H, E)
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-s, s))  # (H, H)
        self.b_h = nn.Parameter(torch.zeros(hidden_size))                                # (H,)
        self.W_hy = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-s, s))   # (V, H)
        self.b_y = nn.Parameter(torch.zeros(vocab_size))                                 # (V,)

    def forward(self, idx, targets=None):
        ### HINT: the state is carried across the T steps of the time axis (axis 1) and starts at zero for each row; the loss wants logits, not probabilities, and one row per (sequence, step) pair
        ### BEGIN SOLUTION
        x = self.embed(idx)                                              # (B, T, E)
        h = torch.zeros(idx.shape[0], self.W_hh.shape[0], dtype=x.dtype)
        states = []
        for t in range(idx.shape[1]):
            h = torch.tanh(x[:, t] @ self.W_xh.T + h @ self.W_hh.T + self.b_h)
            states.append(h)
        logits = torch.stack(states, dim=1) @ self.W_hy.T + self.b_y     # (B, T, V)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("RNNLanguageModel")

# %% [markdown]
# <details><summary>Stuck? A second hint</summary>
#
# The loop is your `rnn_forward` again, in torch: `x[:, t]` is `(B, E)`. Stack the states to
# `(B, T, H)`; one matrix product then gives the logits of every step. For the loss, flatten the
# logits to `(B*T, V)` and the targets to `(B*T,)` in the same order (`reshape` on both keeps the
# order). Do not apply softmax yourself before `F.cross_entropy`.
# </details>
#
# ### Exercise 7: `train_lm`: the training loop
#
# Train a fresh `RNNLanguageModel(vocab_size, embed_dim=16, hidden_size=32)` on the token ids
# `ids` by gradient descent, written by hand: every step, draw `batch_size` random window starts
# (with a `torch.Generator` seeded with `seed`, so a run can be repeated), build the batch with
# `lm_batch`, compute the loss, let autograd compute $\partial\,\text{loss}/\partial\theta$, and move
# every parameter θ against its gradient: $\theta \leftarrow \theta - \text{lr}\;\partial\,\text{loss}/\partial\theta$.
# Call `torch.manual_seed(seed)` before building the model. Return the loss of every step (a list
# of floats) and the trained parameters, `dict(model.named_parameters())` (with `steps=0`, the
# untrained ones). The check starts from your model's seeded weights (`steps=0`) and compares the
# parameters after one and two of your steps with its own gradient-descent steps (on a text with a
# single possible window, so every batch is known), then trains on a tiny sequence and measures, with
# the parameters you return, how well the model predicts each next token. (`torch.optim` does the
# update for you in `course_lib.train.train`; here you write it.)

# %%
def train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):
    """Train RNNLanguageModel(vocab_size, 16, 32) on ``ids`` -> (losses: list of floats, {name: parameter})."""
    ### HINT: backward() adds to .grad, so clear the old gradients each step; change the parameters without autograd recording it; a window start s must leave room for the target after the window's last input
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    model = RNNLanguageModel(vocab_size, embed_dim=16, hidden_size=32)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)
        x, y = lm_batch(ids, starts, seq_len)
        _, loss = model(x, y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses, dict(model.named_parameters())
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("train_lm")

# %% [markdown]
# ## Try it: the model needs its memory
#
# In the sequence `0 1 0 2 0 3 0 1 0 2 0 3 ...` the token after a `0` is 1, 2 or 3 in turn: a
# bigram model, which sees only the current token, cannot do better than $\ln 3$ at every `0`
# (0.55 nats per token on average). An RNN that remembers the token before the `0` can.

# %%
from course_lib.claims import between, claim

with needs_exercise("train_lm"):
    pattern = [0, 1, 0, 2, 0, 3] * 8
    losses, trained = train_lm(pattern, vocab_size=4, steps=100)
    with torch.no_grad():
        model = RNNLanguageModel(4, 16, 32)
        model.load_state_dict(trained)
        x, y = lm_batch(pattern, [0], len(pattern) - 1)
        _, loss = model(x, y)
    print(f"training loss: first step {losses[0]:.2f} (ln 4 = {np.log(4):.2f}), last 10 steps {np.mean(losses[-10:]):.2f}")
    print(f"next-token loss over the whole sequence: {loss.item():.2f} nats "
          f"(the best bigram model: {np.log(3) / 2:.2f})")
    # the digits above move a little with the CPU and the seed; what the text says about them does not:
    between(losses[0], 1.1, 1.7, "the first loss, near ln 4 = 1.39 (a fresh model knows nothing)")
    claim(loss.item() < np.log(3) / 2 / 3, "the trained RNN beats the best bigram model (0.55 nats) by far: "
          "less than a third of it")

# %% [markdown]
# Next: notebook 04 (`notebooks/04_bptt`) differentiates this recurrence by hand: backpropagation
# through time, and why the gradient fades over many steps; its exercises are `exercises/04_bptt`.
