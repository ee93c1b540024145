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
# # 01 · n-gram language models and the fixed-window neural LM
#
# A **language model** assigns a probability to every sequence of words. By the chain rule,
#
# $$P(w_1, \dots, w_T) = \prod_{t=1}^{T} P(w_t \mid w_1, \dots, w_{t-1}),$$
#
# so a language model is a machine that predicts the next word from the previous ones. An
# **n-gram model** makes the *Markov approximation*: only the last n−1 words matter,
#
# $$P(w_t \mid w_1, \dots, w_{t-1}) \approx P(w_t \mid w_{t-n+1}, \dots, w_{t-1}) = \frac{c(w_{t-n+1} \dots w_t)}{c(w_{t-n+1} \dots w_{t-1})},$$
#
# estimated by counting. This notebook builds these models on Shakespeare, meets their two
# problems (zero counts and storage that grows with n), fixes the first with smoothing, measures
# them with perplexity, and ends with Bengio's neural model, which shares statistical strength
# between similar contexts instead of counting each one separately.
#
# The models are in `course_lib.ngram` (read it: each is a few lines) and `course_lib.neural_lm`.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import data, ngram, seed_everything
from course_lib.text import word_tokenize

seed_everything(0)
torch.set_num_threads(1)

# %% [markdown]
# ## The data
#
# Every non-empty line of Tiny Shakespeare is a "sentence", tokenised into lower-case words and
# punctuation. The first 90% of the lines train the models; the last 10% (a different part of
# the play collection) are held out to measure them.

# %%
# NBVAL_CHECK_OUTPUT
lines = [word_tokenize(line) for line in data.load_text("tinyshakespeare").split("\n")]
sentences = [s for s in lines if s]
cut = int(0.9 * len(sentences))
train, heldout = sentences[:cut], sentences[cut:]
print(f"{len(train):,} training sentences ({sum(map(len, train)):,} tokens), "
      f"{len(heldout):,} held-out sentences ({sum(map(len, heldout)):,} tokens)")
print("example:", train[1])

# %% [markdown]
# ## The lecture's example: a likely and an unlikely sentence
#
# A bigram model (n = 2) predicts each word from the one before it. Every sentence is padded
# with `<bos>` in front and `<eos>` at the end, so the model also learns how sentences start and
# that they end. Compare "the cat is small" with the same words scrambled.

# %%
# NBVAL_CHECK_OUTPUT
mle2 = ngram.MLE(2).fit(train)
laplace2 = ngram.AddK(2, k=1.0).fit(train)
for words in (["the", "cat", "is", "small"], ["small", "the", "is", "cat"]):
    print(" ".join(words))
    for ctx, w in mle2.events(words):
        print(f"   P({w:6s}| {ctx[0]:6s})  MLE {mle2.prob(w, ctx):.5f}   Laplace {laplace2.prob(w, ctx):.6f}")
    print(f"   ln P(sentence): MLE {mle2.sentence_logprob(words):.2f}, Laplace {laplace2.sentence_logprob(words):.2f}")

# %% [markdown]
# **The zero-probability problem.** Shakespeare never wrote "cat is", so the maximum-likelihood
# estimate P(is | cat) = 0, and the whole first sentence gets probability 0, exactly like the
# scrambled one. A model that calls a perfectly good sentence impossible has infinite perplexity
# on any text containing it.
#
# **Smoothing** moves a little probability to unseen events. Laplace (add-one) pretends every
# pair was seen once more; it now ranks the real sentence far above the scrambled one. It is
# crude (with 11,000+ possible next words it takes too much mass from the seen ones); add-k with
# a small k, interpolation, and Kneser-Ney do better, as measured below.

# %% [markdown]
# ## Sparsity and storage grow with n
#
# Longer contexts are more informative, but the number of distinct n-grams explodes, and so does
# the share of held-out n-grams never seen in training (each of which the MLE gives probability 0).

# %%
# NBVAL_CHECK_OUTPUT
table = ngram.coverage_table(train, heldout, orders=range(1, 6))
print(f"{'n':>2} {'stored n-grams':>15} {'held-out n-grams unseen in training':>37}")
for row in table:
    print(f"{row['n']:>2} {row['stored n-grams']:>15,} {row['unseen share']:>36.1%}")

# %% [markdown]
# ## Perplexity
#
# Perplexity is the exponential of the average negative log-probability per predicted token
# (every word and every `<eos>`):
#
# $$\mathrm{PP} = \exp\Big(-\frac{1}{N} \sum_{t=1}^{N} \ln P(w_t \mid \text{context})\Big).$$
#
# It is the "effective number of choices" the model hesitates between: lower is better, and a
# uniform guess over V words scores V. The lecture writes $2^J$: that is the same number when
# the cross-entropy J is measured in bits (log base 2); here J is in nats, so we use $e^J$.
#
# Words seen only once in training are mapped to `<unk>` (`unk_cutoff=2`), so that the models
# have a probability for words they have never seen. We compare, for n = 1..5:
# add-k (k = 0.01), linear interpolation of all orders, and interpolated Kneser-Ney.

# %%
# NBVAL_CHECK_OUTPUT
results = {}
start = time.perf_counter()
for n in range(1, 6):
    models = {"add-0.01": ngram.AddK(n, k=0.01, unk_cutoff=2), "interpolated": ngram.Interpolated(n, unk_cutoff=2)}
    if n >= 2:
        models["Kneser-Ney"] = ngram.KneserNey(n, discount=0.75, unk_cutoff=2)
    for name, model in models.items():
        model.fit(train)
        results[name, n] = (model.perplexity(train[:3000]), model.perplexity(heldout))
print(f"{'model':14s} {'n':>2} {'train PP':>10} {'held-out PP':>12}")
for (name, n), (tr, ho) in sorted(results.items()):
    print(f"{name:14s} {n:>2} {tr:>10.1f} {ho:>12.1f}")
print(f"(15 models fitted and scored in {time.perf_counter() - start:.1f} s)")

# %%
fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
for name, style in (("add-0.01", "o-"), ("interpolated", "s-"), ("Kneser-Ney", "^-")):
    ns = [n for (m, n) in results if m == name]
    ax[0].plot(ns, [results[name, n][0] for n in ns], style, label=name)
    ax[1].plot(ns, [results[name, n][1] for n in ns], style, label=name)
ax[0].set(title="training text", xlabel="n", ylabel="perplexity", yscale="log")
ax[1].set(title="held-out text", xlabel="n", ylabel="perplexity", yscale="log")
ax[1].legend()
fig.suptitle("Longer contexts fit the training text better, but stop helping on new text")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Overfitting as n grows.** On the training text every model keeps improving with n (a 5-gram
# has nearly memorised it). On held-out text, add-k gets *worse* after n = 2: most 3-, 4- and
# 5-gram contexts were never seen, and add-k spreads their probability uniformly over 6,000+
# words. Interpolation with fixed weights also degrades (its λ were not tuned on held-out text).
# Kneser-Ney discounts every count and backs off to *continuation* counts; it degrades least and
# is the best count model here, at n = 3. The plain MLE (no smoothing, no `<unk>`) has infinite
# held-out perplexity for every n: some held-out word or pair is always unseen.
#
# **Backoff.** *Stupid backoff* (Brants et al., 2007) uses the longest context that was seen and
# multiplies by α = 0.4 for each step back. It is cheap at web scale, but its scores do not sum
# to 1, so it has no perplexity; it is for ranking:

# %%
# NBVAL_CHECK_OUTPUT
backoff = ngram.StupidBackoff(3, alpha=0.4, unk_cutoff=2).fit(train)
for words in (["the", "king", "is", "dead"], ["dead", "is", "the", "king"], ["the", "cat", "is", "small"]):
    score = sum(math.log(backoff.prob(w, ctx)) for ctx, w in backoff.events(words))
    print(f"{' '.join(words):22s} log-score {score:8.2f}")

# %% [markdown]
# ## Sampling from an n-gram model
#
# A language model is also a generator: start from `<bos>`, draw the next word from
# P(w | context), append it, repeat until `<eos>`. With n = 1 the words are independent; with
# larger n the text looks more and more like Shakespeare, because it *is* Shakespeare: a 4-gram
# model mostly copies training sentences (the storage table above shows why).

# %%
# NBVAL_CHECK_OUTPUT
for n in (1, 2, 3, 4):
    model = ngram.MLE(n).fit(train)
    rng = np.random.default_rng(n)
    print(f"n={n}")
    for _ in range(3):
        print("   ", " ".join(model.sample(rng, max_len=16)))

# %% [markdown]
# ## The fixed-window neural language model
#
# Counting treats "the cat is" and "the dog is" as unrelated contexts. Bengio et al. (2003)
# replace the table by a network: each of the last n−1 words is looked up in an embedding table,
# the embeddings are concatenated into x, and
#
# $$\hat y = \mathrm{softmax}\big(W_2 \tanh(W_1 x + b_1) + W_3 x + b_3\big),$$
#
# where $W_3 x$ is a *direct connection* from the input to the output. Similar words get similar
# embeddings, so what is learned about one context transfers to similar ones. Storage no longer
# grows with the number of n-grams seen, only with the window.
#
# To compare it fairly with the best count model, we use a corpus small enough to train on here:
# the 32,033 names of `names.txt`, one character per token. The split is random (seed 0), 90% / 10%.

# %%
# NBVAL_CHECK_OUTPUT
names = data.load_lines("names")
order = np.random.default_rng(0).permutation(len(names))
names_train = [list(names[i]) for i in order[: int(0.9 * len(names))]]
names_test = [list(names[i]) for i in order[int(0.9 * len(names)):]]
best_count = None
for n in range(2, 8):
    model = ngram.KneserNey(n, discount=0.75).fit(names_train)
    pp = model.perplexity(names_test)
    print(f"Kneser-Ney, n={n}: held-out perplexity {pp:.3f}")
    if best_count is None or pp < best_count[1]:
        best_count = (n, pp)
print(f"best count model: Kneser-Ney n={best_count[0]}, perplexity {best_count[1]:.3f}")

# %% [markdown]
# Now the neural model, with a window of 6 characters (the best count model also looks at 5–6
# previous characters). It trains here for 1,500 steps (under half a minute) so that you can
# watch the loss fall:

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.neural_lm import (checkpoint_path, load_checkpoint, names_split, perplexity, sentence_tensors,
                                  train_names_model)

live_model, names_vocab, history = train_names_model(steps=1500)
history.plot(title="fixed-window LM on names (1,500 steps)")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
assert names_split() == (names_train, names_test)          # the very same split as the count models
x_test, y_test = sentence_tensors(names_vocab, names_test)
live_pp = perplexity(live_model, x_test, y_test)
print(f"neural LM after 1,500 steps: held-out perplexity {live_pp:.2f}")

# %% [markdown]
# After half a minute it is close to, but not yet better than, the best count model. Trained
# longer (12,000 steps, about 4 minutes on one CPU core) it wins. That model is stored in
# `assets/names_window_lm.pt`, made by the command
#
#     python -m course_lib.neural_lm train-names
#
# which reproduces it exactly (same seed, one thread). Let us load it and score it on the same
# held-out names:

# %%
# NBVAL_CHECK_OUTPUT
trained, itos, info = load_checkpoint(checkpoint_path())
assert itos == names_vocab.itos
neural_pp = perplexity(trained, x_test, y_test)
print(f"neural LM, 12,000 steps:          held-out perplexity {neural_pp:.3f}")
print(f"best count model (Kneser-Ney n={best_count[0]}): held-out perplexity {best_count[1]:.3f}")
print("the neural model is better" if neural_pp < best_count[1] else "the count model is better")

# %% [markdown]
# Both numbers are on the same held-out names with the same tokens (characters and `<eos>`).
# The gain is modest on a corpus this small: Kneser-Ney with a 6-character context is a strong
# baseline for 200,000 characters. The neural model's advantage grows with data and with the
# size of the vocabulary, where most n-gram contexts are never seen (the table above).
#
# What neither model can do: look further back than its window. That is the motivation for the
# recurrent network of notebook 03, whose hidden state carries information from the whole past.
#
# Samples from the trained neural model, for fun:

# %%
# NBVAL_CHECK_OUTPUT
gen = torch.Generator().manual_seed(0)
for _ in range(8):
    idx = [names_vocab.bos_id]
    while len(idx) < 20:
        logits, _ = trained(torch.tensor([idx]))
        nxt = int(torch.multinomial(torch.softmax(logits[0, -1], -1), 1, generator=gen))
        if nxt == names_vocab.eos_id:
            break
        idx.append(nxt)
    print("".join(names_vocab.decode(idx[1:])))
