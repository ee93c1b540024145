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
# # 07 · Exercises: bidirectional and deep RNNs, with padding
#
# The lecture's bidirectional RNN, one layer, with the vanilla cell (batch-first row vectors):
#
# $$\overrightarrow{h}_t = \tanh(\overrightarrow{W} x_t + \overrightarrow{V}\, \overrightarrow{h}_{t-1} + \overrightarrow{b}), \qquad
# \overleftarrow{h}_t = \tanh(\overleftarrow{W} x_t + \overleftarrow{V}\, \overleftarrow{h}_{t+1} + \overleftarrow{b}), \qquad
# \text{output}_t = [\overrightarrow{h}_t ; \overleftarrow{h}_t]$$
#
# A batch holds sentences of different lengths padded at the end: `x` is `(B, T, D)` and `lengths`
# `(B,)` says how many positions of each row are real words. A padded batch must give every sentence
# exactly what it gets alone, and 0 at the pads (what `pad_packed_sequence` gives).
#
# | symbol | shape |
# |---|---|
# | `x` | `(B, T, D)` |
# | `lengths` | `(B,)` integers in 1..T |
# | $\overrightarrow{W}$, $\overleftarrow{W}$ (`W_f`, `W_b`) | `(H, D)` |
# | $\overrightarrow{V}$, $\overleftarrow{V}$ (`V_f`, `V_b`) | `(H, H)` |
# | $\overrightarrow{b}$, $\overleftarrow{b}$ (`b_f`, `b_b`) | `(H,)` |
# | output | `(B, T, 2H)` |

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import numpy as np

from course_lib.grading import check, needs_exercise


def rnn_layer(x, W, V, b):
    """The vanilla RNN of notebook 03, left to right from h_0 = 0: x (B, T, D) -> states (B, T, H).
    (Given: use it for both directions.)"""
    h = np.zeros((x.shape[0], V.shape[0]))
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W.T + h @ V.T + b)
        states.append(h)
    return np.stack(states, axis=1)


# %% [markdown]
# ## Exercise 1: `birnn_layer`: a bidirectional layer from two cells, with padding
#
# Both directions can use the given `rnn_layer`, which only reads left to right. The forward
# direction reads each sentence as it is: the pads come after the words, so they cannot reach a
# word's state. The backward direction must meet each sentence's words from its **last word** to its
# first: a pad must never be the first thing it reads, and its state for word t must end up at
# position t. At the pads both halves are 0, and the output joins the two halves, forward first.

# %%
def birnn_layer(x, lengths, W_f, V_f, b_f, W_b, V_b, b_b):
    """x (B, T, D), lengths (B,) -> (B, T, 2H): [h→_t ; h←_t] at the words, 0 at the pads."""
    ### HINT: sentences have different lengths, so one reversal of the whole time axis puts pads in front of the short ones; whatever reordering you apply to the inputs must be undone on the outputs
    ### BEGIN SOLUTION
    B, T, _ = x.shape
    mask = (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[..., None]       # (B, T, 1): real words

    def reverse_words(a):
        out = a.copy()
        for i, n in enumerate(lengths):
            out[i, :n] = a[i, :n][::-1]
        return out

    forward = rnn_layer(x, W_f, V_f, b_f) * mask
    backward = reverse_words(rnn_layer(reverse_words(x), W_b, V_b, b_b)) * mask
    return np.concatenate([forward, backward], axis=-1)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("birnn_layer")

# %% [markdown]
# ## Exercise 2: `deep_birnn`: stacking layers
#
# A deep RNN stacks layers: each layer above the first reads, at every position, the states of the
# layer below. `layers` is a list of parameter tuples `(W_f, V_f, b_f, W_b, V_b, b_b)`, the first
# with `W` of shape `(H, D)`, the others `(H, 2H)` (they read `(B, T, 2H)` states). Return the top
# layer's states `(B, T, 2H)`. Use your `birnn_layer`; the padding rules hold in every layer.

# %%
def deep_birnn(x, lengths, layers):
    """x (B, T, D), lengths (B,), layers: list of (W_f, V_f, b_f, W_b, V_b, b_b) -> top states (B, T, 2H)."""
    ### HINT: only the first layer reads x; the layers run in the order given; the lengths are the same in every layer
    ### BEGIN SOLUTION
    h = x
    for params in layers:
        h = birnn_layer(h, lengths, *params)
    return h
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("deep_birnn")

# %% [markdown]
# ## Exercise 3: `masked_mean`: the mean-pooling sentence encoder
#
# For many-to-one tasks (sentiment) the sentence becomes one vector: here the mean of the states over
# its **real** words, $\frac{1}{n}\sum_{t=1}^{n} h_t$. The pads must count neither in the sum nor in $n$.

# %%
def masked_mean(h, lengths):
    """h (B, T, C), lengths (B,) -> (B, C): the mean of h[b, :lengths[b]] for every b."""
    ### HINT: the pads must stay out of both the sum and the count, and each row has its own count; broadcasting compares a row's length with every position at once
    ### BEGIN SOLUTION
    lengths = np.asarray(lengths)
    mask = (np.arange(h.shape[1])[None, :] < lengths[:, None])[..., None]
    return (h * mask).sum(axis=1) / lengths[:, None]
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("masked_mean")

# %% [markdown]
# ## Try it: padding must change nothing
#
# The same three sentences, padded to 5 and to 9 positions, through a 2-layer bidirectional stack and
# the mean: the encodings are equal. Change the pad value, or break your `birnn_layer` on purpose
# (reverse the whole row, pads included) and re-run.

# %%
with needs_exercise("deep_birnn and masked_mean"):
    r = np.random.default_rng(0)
    D, H = 3, 4
    layers = [tuple(r.normal(size=s) * 0.5 for s in ((H, D), (H, H), (H,), (H, D), (H, H), (H,)))]
    layers.append(tuple(r.normal(size=s) * 0.5 for s in ((H, 2 * H), (H, H), (H,), (H, 2 * H), (H, H), (H,))))
    words = [r.normal(size=(n, D)) for n in (5, 2, 4)]
    lengths = np.array([len(w) for w in words])
    encodings = []
    for T, pad in ((5, 0.0), (9, 9.0)):
        x = np.full((3, T, D), pad)
        for i, w in enumerate(words):
            x[i, :len(w)] = w
        enc = masked_mean(deep_birnn(x, lengths, layers), lengths)
        encodings.append(enc)
        print(f"T = {T}, pads = {pad}: first features of each sentence's encoding",
              [round(float(v), 4) for v in enc[:, 0]])

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.claims import claim

with needs_exercise("deep_birnn and masked_mean"):
    if len(encodings) < 2:
        raise NotImplementedError("the cell above needs your answer first")
    claim(np.allclose(encodings[0], encodings[1], rtol=0, atol=1e-12),
          "the encodings padded to 5 and to 9 positions are equal (to 1e-12)")

# %% [markdown]
# ## Exercise 4: `train_tagger`: a BiLSTM part-of-speech tagger, trained by you
#
# The many-to-many BiRNN of the lecture on real data: Universal Dependencies English EWT, one of the
# 17 universal tags per word. The model is the course's `birnn.SequenceTagger` (embedding → one
# bidirectional LSTM layer → a linear layer over the tags at every position); you write the training:
#
# * `torch.manual_seed(seed)`, then `birnn.SequenceTagger(vocab_size, n_tags, embed_dim, hidden_size,
#   bidirectional=True)`; the batches come from `birnn.tagging_batches(examples, batch_size, seed)`:
#   each `next(...)` gives `(ids (B, T), tags (B, T), lengths (B,))`, padded at the end;
# * the model's logits are `model(ids, lengths=lengths)[0]`, `(B, T, n_tags)`. The loss is the mean
#   cross-entropy over the **real words** of the batch: write it yourself from the logits (the
#   pads' tags are −100, which is not a tag);
# * Adam with learning rate `lr` (`torch.optim.Adam`), one step per batch.
#
# Return `(losses, params)`: the loss of every step (floats) and the final `{name: array}`.

# %%
import torch
import torch.nn.functional as F

from course_lib import birnn


def train_tagger(examples, vocab_size, n_tags, steps, lr=1e-2, seed=0, batch_size=32, embed_dim=64,
                 hidden_size=64):
    """examples: list of (word ids, tag ids) -> (losses, {name: final parameter array}) of a BiLSTM tagger."""
    ### HINT: a mask of the real words serves both the sum and the count; the optimiser accumulates nothing by itself, but backward() does; every weight, of both directions, must receive a gradient
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    model = birnn.SequenceTagger(vocab_size, n_tags, embed_dim, hidden_size, bidirectional=True)
    batches = birnn.tagging_batches(examples, batch_size, seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        ids, tags, lengths = next(batches)
        logits, _ = model(ids, lengths=lengths)
        real = torch.arange(ids.shape[1])[None, :] < lengths[:, None]             # (B, T): the words
        loss = F.cross_entropy(logits[real], tags[real])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("train_tagger")

# %% [markdown]
# ### Try it: does the context beat the dictionary?
#
# Train on the UD EWT dev split (the official training split is not available offline) for 300
# steps, test on the test split, and compare with the baseline that has no context at all: every
# word gets the tag it had most often in training (an unknown word the most frequent tag overall).
# The accuracies move a little from machine to machine; the check below them does not.

# %%
from course_lib import data

accuracy = None
with needs_exercise("train_tagger"):
    train_sents, test_sents = data.load_conllu("ud-ewt-dev"), data.load_conllu("ud-ewt-test")
    vocab, tags, train_ex, test_ex = birnn.pos_data(train_sents, test_sents, min_count=2)
    losses, trained = train_tagger(train_ex, len(vocab), len(tags), steps=300)
    tagger = birnn.SequenceTagger(len(vocab), len(tags), 64, 64, bidirectional=True)
    tagger.load_state_dict({n: torch.from_numpy(v) for n, v in trained.items()})
    gold = [t for _, t in test_ex]
    accuracy = birnn.tag_accuracy(gold, birnn.predict_tags(tagger, [w for w, _ in test_ex]))
    tag_id = {t: i for i, t in enumerate(tags)}
    baseline = birnn.MostFrequentTag(train_sents)
    base_acc = birnn.tag_accuracy(gold, [[tag_id[t] for t in baseline.tag(w)] for w, _ in test_sents])
    print(f"first loss {losses[0]:.2f} (ln 17 = {np.log(17):.2f}), mean of the last 20 {np.mean(losses[-20:]):.2f}")
    print(f"test accuracy: your BiLSTM {accuracy:.1%}, most frequent tag {base_acc:.1%}")

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("train_tagger"):
    if accuracy is None:
        raise NotImplementedError("the cell above needs your answer first")
    claim(accuracy > base_acc + 0.01, "your BiLSTM tags the test words better than the most-frequent-tag baseline "
                                      "(by more than a point)")
