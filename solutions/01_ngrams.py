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
# # 01 · Exercises: a bigram language model by hand
#
# You will build the smallest useful language model from counts, then measure it.
# Notation: a sentence $w_1 \dots w_T$ is padded to `<bos>` $w_1 \dots w_T$ `<eos>`; a bigram
# model predicts each of $w_1, \dots, w_T$ and `<eos>` from the token just before it:
#
# $$P(w_1 \dots w_T) \approx \prod_{t=1}^{T+1} P(w_t \mid w_{t-1}), \qquad w_0 = \texttt{<bos>},\ w_{T+1} = \texttt{<eos>}$$
#
# Write each function, run its cell, then run the `check(...)` below it.

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import math
from collections import Counter, defaultdict

from course_lib.grading import check, needs_exercise

BOS, EOS = "<bos>", "<eos>"
corpus = [["the", "cat", "is", "small"], ["the", "dog", "is", "big"], ["a", "cat", "is", "big"]]

# %% [markdown]
# ## Exercise 1: `count_bigrams`
#
# Return a dictionary of dictionaries: `counts[prev][word]` = how many times `word` followed
# `prev` in the padded sentences. For the corpus above, `counts["<bos>"]["the"] == 2` and
# `counts["is"]["<eos>"]` does not exist (every sentence ends with `small` or `big`), but
# `counts["big"]["<eos>"] == 2`.

# %%
def count_bigrams(sentences):
    """sentences: list of token lists -> {prev: {word: count}} over <bos> + sentence + <eos>."""
    ### HINT: a sentence of T words gives T + 1 pairs once padded (the first predicts w_1 from <bos>, the last predicts <eos>); no pair may span two sentences
    ### BEGIN SOLUTION
    counts = defaultdict(Counter)
    for sentence in sentences:
        padded = [BOS] + list(sentence) + [EOS]
        for prev, word in zip(padded[:-1], padded[1:]):
            counts[prev][word] += 1
    return {prev: dict(nexts) for prev, nexts in counts.items()}
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("count_bigrams")

# %% [markdown]
# ## Exercise 2: `addk_prob`
#
# The maximum-likelihood estimate $c(\text{prev}, w) / c(\text{prev})$ is zero for every pair
# never seen in training, and a single zero makes a whole sentence impossible. Add-k smoothing
# pretends every pair was seen k more times:
#
# $$P_{\text{add-}k}(w \mid \text{prev}) = \frac{c(\text{prev}, w) + k}{c(\text{prev}) + k\,V}$$
#
# where $c(\text{prev}) = \sum_{w'} c(\text{prev}, w')$ and V is the number of possible next
# tokens (given). With k = 1 this is Laplace smoothing; with k = 0, the MLE.

# %%
def addk_prob(counts, prev, word, k, vocab_size):
    """P(word | prev) with add-k smoothing; counts as returned by count_bigrams."""
    ### HINT: an unseen context or word has count 0 (it is simply missing from the dicts); the denominator adds k once for each of the V possible next tokens, so the V probabilities still sum to 1
    ### BEGIN SOLUTION
    following = counts.get(prev, {})
    return (following.get(word, 0) + k) / (sum(following.values()) + k * vocab_size)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("addk_prob")

# %% [markdown]
# ## Exercise 3: `perplexity`
#
# Perplexity is the exponential of the average negative log-likelihood per predicted token,
# here in nats (natural log), over every word **and** every `<eos>`:
#
# $$\mathrm{PP} = \exp\Big(-\frac{1}{N}\sum_{\text{sentences}} \sum_{t=1}^{T+1} \ln P(w_t \mid w_{t-1})\Big),
# \qquad N = \sum_{\text{sentences}} (T + 1)$$
#
# (The CS224N notes behind the lecture write $2^J$ with J in bits: the same number.) The model is given as a table
# `probs[prev][word]` = P(word | prev), so this exercise does not depend on the previous one.

# %%
def perplexity(sentences, probs):
    """Perplexity of a bigram model given as probs[prev][word] on a list of token lists."""
    ### HINT: N counts every prediction in the whole test set (its words and one <eos> per sentence): sum the log-probabilities over all sentences first and divide once, in nats
    ### BEGIN SOLUTION
    total_log_prob, n_predictions = 0.0, 0
    for sentence in sentences:
        padded = [BOS] + list(sentence) + [EOS]
        for prev, word in zip(padded[:-1], padded[1:]):
            total_log_prob += math.log(probs[prev][word])
            n_predictions += 1
    return math.exp(-total_log_prob / n_predictions)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("perplexity")

# %% [markdown]
# ## From counts to a network: the fixed-window neural LM
#
# The next three exercises build the lesson's last model yourself, in PyTorch: Bengio et al.'s (2003)
# fixed-window language model. It predicts token $w_t$ from the `window` tokens before it: their
# embeddings are looked up and concatenated (oldest first) into $x$, then
#
# $$\text{logits} = W_2 \tanh(W_1 x + b_1) + b_2, \qquad \hat y = \mathrm{softmax}(\text{logits}),$$
#
# trained by minimising the cross-entropy of the true next token (notebook 00). We leave out Bengio's
# direct connection $W_3 x$ that the lesson's `course_lib.neural_lm` has.
#
# The slides' PyTorch example `NGramLanguageModeler` (titled "SG模型", skip-gram model) is exactly this
# kind of model: it reads the CONTEXT_SIZE previous words and predicts the next one (with ReLU in place
# of tanh). Despite its title it is *not* skip-gram, which predicts the context from the centre word
# (notebook 02).
#
# ## Exercise 4: `make_windows`: the right targets
#
# A text is given as token ids `ids` = $w_1 \dots w_T$ `<eos>` (no `<bos>` in front). Build the training
# examples: one per position t, whose **input** is the `window` ids before position t, left-padded with
# `bos_id` where the text has not started yet, and whose **target** is `ids[t]` itself. Return two
# `torch.long` tensors, `contexts` `(N, window)` and `targets` `(N,)` with N = len(ids). For
# `ids = [5, 6, 7]`, window 2 and `bos_id = 0`: contexts `[[0, 0], [0, 5], [5, 6]]`, targets `[5, 6, 7]`.

# %%
import torch
import torch.nn.functional as F
from torch import nn

# %%
def make_windows(ids, window, bos_id):
    """ids: list of N token ids -> (contexts (N, window) long, targets (N,) long)."""
    ### HINT: every id of the text is the target of exactly one example; its input must never contain the target itself (that would be predicting a token the model has already seen)
    ### BEGIN SOLUTION
    padded = [bos_id] * window + list(ids)
    contexts = [padded[t:t + window] for t in range(len(ids))]
    return torch.tensor(contexts, dtype=torch.long), torch.tensor(list(ids), dtype=torch.long)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("make_windows")

# %% [markdown]
# ## Exercise 5: `WindowLM`
#
# Write the model as an `nn.Module` with the course's signature `forward(idx, targets=None) -> (logits, loss)`:
# `idx` `(B, window)` long, `logits` `(B, vocab_size)`, `loss` the mean cross-entropy over the B
# examples (None without targets). Name its layers `embed` (an `nn.Embedding(vocab_size, embed_dim)`),
# `hidden` ($W_1, b_1$: an `nn.Linear` from the concatenated window to `hidden` units) and `out`
# ($W_2, b_2$: an `nn.Linear` to the vocabulary): the checks set these parameters to known values and
# compare your logits and loss with the equation above.

# %%
class WindowLM(nn.Module):
    def __init__(self, vocab_size, window, embed_dim, hidden):
        super().__init__()
        ### HINT: three layers; the hidden layer's input size is the length of the concatenated window, not embed_dim
        ### BEGIN SOLUTION
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.hidden = nn.Linear(window * embed_dim, hidden)
        self.out = nn.Linear(hidden, vocab_size)
        ### END SOLUTION

    def forward(self, idx, targets=None):
        ### HINT: the embedding lookup gives (B, window, embed_dim): join the window's vectors into one row per example, oldest first; PyTorch's cross-entropy takes logits, not probabilities
        ### BEGIN SOLUTION
        x = self.embed(idx).flatten(1)                        # (B, window * embed_dim)
        logits = self.out(torch.tanh(self.hidden(x)))         # (B, vocab_size)
        loss = None if targets is None else F.cross_entropy(logits, targets)
        return logits, loss
        ### END SOLUTION


# %% [markdown]
# <details><summary>A second hint (open it only if you are stuck)</summary>
#
# Follow the shapes: `idx` (B, window) → embeddings (B, window, embed_dim) → one row per example of
# length window × embed_dim → hidden units (B, hidden) after tanh → logits (B, vocab_size). Only the
# third step has no layer: it is a reshape. The loss compares (B, vocab_size) logits with (B,) targets.
# </details>

# %%
# NBVAL_CHECK_OUTPUT
check("WindowLM")

# %% [markdown]
# ## Exercise 6: `train_window_lm`: train it end to end
#
# Train a `WindowLM` (embeddings of size 8, 32 hidden units) on the examples of one text: call
# `torch.manual_seed(seed)` first (so the same seed gives the same model), build the examples with your
# `make_windows`, then take `steps` full-batch steps of plain gradient descent, the update
# $\theta \leftarrow \theta - \text{lr}\, \nabla_\theta J$ for every parameter θ, written by hand with the
# gradients that `loss.backward()` leaves in each `p.grad` (this is the step `torch.optim.SGD` takes; writing
# it once shows there is no magic in an optimiser). Return `(losses, state)`: `losses` the list of the `steps` training losses (floats, the loss of
# each step before its update) and `state` the trained model's `state_dict()` (with `steps=0`, the
# untrained model's). The check starts from your model's seeded weights (`steps=0`) and compares the
# weights after one and two of your steps with its own gradient-descent steps, then evaluates the
# weights of a longer run on the text's true next tokens: the loss must have gone down.

# %%
def train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):
    """Train a WindowLM on one text; return (list of per-step losses, trained state_dict)."""
    ### HINT: each step: forward with the targets, backward, then change the parameters inside torch.no_grad() (the update itself must not be recorded by autograd); backward ADDS to p.grad, so clear it every step; record the loss as a plain float
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    contexts, targets = make_windows(ids, window, bos_id)
    model = WindowLM(vocab_size, window, embed_dim=8, hidden=32)
    losses = []
    for _ in range(steps):
        _, loss = model(contexts, targets)
        for p in model.parameters():
            p.grad = None                                     # backward accumulates: start from zero
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad                              # θ ← θ - lr ∇θ J
        losses.append(loss.item())
    return losses, model.state_dict()
    ### END SOLUTION


# %% [markdown]
# <details><summary>A second hint (open it only if you are stuck)</summary>
#
# The whole text is one batch: `make_windows` once, before the loop. Inside the loop, `model(contexts,
# targets)` gives the loss; after `loss.backward()` every parameter `p` of `model.parameters()` has its
# gradient in `p.grad`. Changing `p` in place is only allowed inside `with torch.no_grad():`, and
# `p.grad` must be reset (to None or zero) before the next backward, which adds to it.
# </details>

# %%
# NBVAL_CHECK_OUTPUT
check("train_window_lm")

# %% [markdown]
# Your model on real text: the characters of 300 names from `names.txt` (one text, names separated by
# `<eos>`), window 3. A model that knows nothing is uniform over the 28 tokens (perplexity 28); your
# trained one should do far better. Change `window` (1 is a bigram model) and re-run.

# %%
from course_lib import data
from course_lib.claims import between, claim

with needs_exercise("make_windows / WindowLM / train_window_lm"):
    names = data.load_lines("names")[:300]
    chars = sorted({c for name in names for c in name})
    stoi = {c: i + 2 for i, c in enumerate(chars)}                # 0 = <bos>, 1 = <eos>
    text_ids = [i for name in names for i in [stoi[c] for c in name] + [1]]
    window = 3
    losses, state = train_window_lm(text_ids, len(chars) + 2, 0, window, steps=300, lr=1.0, seed=0)
    print(f"{len(text_ids):,} training tokens, vocabulary {len(chars) + 2}, window {window}")
    print(f"loss: step 1 {losses[0]:.2f} (perplexity {math.exp(losses[0]):.1f}), "
          f"step 300 {losses[-1]:.2f} (perplexity {math.exp(losses[-1]):.1f})")
    # the digits above move a little with the CPU and the seed; what the text says about them does not:
    between(losses[0], 3.0, 3.8, "the first loss, near ln 28 = 3.33 (a model that knows nothing)")
    claim(math.exp(losses[-1]) < 28 / 3, "after 300 steps the perplexity is far below 28 (less than a third)")

# %% [markdown]
# ## Try it
#
# "the cat is small" is likely under this tiny model; "small the is cat" is not. Add-k smoothing
# makes the second one *possible*: the MLE (k = 0) gives it probability 0, infinite perplexity.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("count_bigrams / addk_prob / perplexity"):
    counts = count_bigrams(corpus)
    words = sorted({w for s in corpus for w in s})
    V = len(words) + 1                                   # possible next tokens: the words and <eos>
    probs = {prev: {w: addk_prob(counts, prev, w, 1.0, V) for w in words + [EOS]} for prev in [BOS] + words}
    for sentence in (["the", "cat", "is", "small"], ["small", "the", "is", "cat"]):
        print(f"{' '.join(sentence):18s} perplexity {perplexity([sentence], probs):.3f}")

# %% [markdown]
# **Next:** `notebooks/02_word2vec` (where embeddings come from), then `exercises/02_word2vec`,
# where you derive word2vec's gradients yourself.
