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
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import data, ngram, seed_everything
from course_lib.claims import between, claim
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
# ## A likely and an unlikely sentence
#
# A bigram model (n = 2) predicts each word from the one before it. Every sentence is padded
# with `<bos>` in front and `<eos>` at the end, so the model also learns how sentences start and
# that they end. Compare "the cat is small" with the same words scrambled (the example comes from
# the CS224N notes on language models that the lecture draws on).

# %%
# NBVAL_CHECK_OUTPUT
mle2 = ngram.MLE(2).fit(train)
laplace2 = ngram.AddK(2, k=1.0).fit(train)
for words in (["the", "cat", "is", "small"], ["small", "the", "is", "cat"]):
    print(" ".join(words))
    for ctx, w in mle2.events(words):
        print(f"   P({w:6s}| {ctx[0]:6s})  MLE {mle2.prob(w, ctx):.5f}   Laplace {laplace2.prob(w, ctx):.6f}")
    print(f"   ln P(sentence): MLE {mle2.sentence_logprob(words):.2f}, Laplace {laplace2.sentence_logprob(words):.2f}")
print(f"Laplace adds one to each of the {len(laplace2.itos):,} possible next tokens (every word type, <eos>, <unk>)")

# %% [markdown]
# **The zero-probability problem.** Shakespeare never wrote "cat is", so the maximum-likelihood
# estimate P(is | cat) = 0, and the whole first sentence gets probability 0, exactly like the
# scrambled one. A model that calls a perfectly good sentence impossible gives probability 0 to any
# text containing it, so it cannot even be compared with another model on that text.
#
# **Smoothing** moves a little probability to unseen events. Laplace (add-one) pretends every
# pair was seen once more; it now ranks the real sentence far above the scrambled one. It is
# crude (with over 11,000 possible next words it takes too much mass from the seen ones). Better
# smoothers are defined and measured below.

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
# uniform guess over V words scores V. The CS224N notes behind the lecture write $2^J$: the same number when
# the cross-entropy J is measured in bits (log base 2); here J is in nats, so we use $e^J$.
#
# Words seen only once in training are mapped to `<unk>` (`unk_cutoff=2`), so that the models
# have a probability for words they have never seen. We compare three smoothers, for n = 1..5
# (Kneser-Ney from n = 2, where it has a shorter context to hand mass to):
#
# - **add-k** (k = 0.01): $P(w \mid h) = \frac{c(h\,w) + k}{c(h) + kV}$, Laplace with a smaller k
#   (h is the context, the last n−1 words);
# - **linear interpolation**: a weighted average of the MLE estimates of every order,
#   $P(w \mid h) = \sum_{j=0}^{n-1} \lambda_j P_{\text{MLE}}(w \mid \text{last } j \text{ words of } h) + \lambda_{\text{u}} \frac1V$,
#   with fixed weights λ summing to 1 (here doubling with each order, plus a little on uniform): an unseen
#   trigram still gets the bigram's and the unigram's share;
# - **interpolated Kneser-Ney** (discount d = 0.75): subtract d from every seen count,
#   $P(w \mid h) = \frac{\max(c(h\,w) - d,\ 0)}{c(h)} + \gamma(h)\, P_{\text{KN}}(w \mid \text{shorter } h)$,
#   and give the mass taken away, γ(h), to the next shorter context. Its lower orders do not count how
#   often a word occurs but in **how many different contexts** it occurs (continuation counts):
#   "Francisco" is frequent but follows only "San", so it is a poor guess after a context never seen.
#
# The classes are in `course_lib.ngram`, a few lines each.

# %%
# NBVAL_CHECK_OUTPUT
results, fitted = {}, {}
start = time.perf_counter()
for n in range(1, 6):
    models = {"add-0.01": ngram.AddK(n, k=0.01, unk_cutoff=2), "interpolated": ngram.Interpolated(n, unk_cutoff=2)}
    if n >= 2:
        models["Kneser-Ney"] = ngram.KneserNey(n, discount=0.75, unk_cutoff=2)
    for name, model in models.items():
        fitted[name, n] = model.fit(train)
        results[name, n] = (model.perplexity(train[:3000]), model.perplexity(heldout))
print(f"{'model':14s} {'n':>2} {'train PP':>10} {'held-out PP':>12}")
for (name, n), (tr, ho) in sorted(results.items()):
    print(f"{name:14s} {n:>2} {tr:>10.1f} {ho:>12.1f}")
V = len(fitted["add-0.01", 2].itos)
print(f"vocabulary of the models with n >= 2 (unk_cutoff=2): V = {V:,} tokens, with <unk>, <bos> and <eos>")
count_seconds = time.perf_counter() - start

# %%
print(f"15 models fitted and scored in {count_seconds:.1f} s")
fig, ax = plt.subplots(1, 2, figsize=(7, 3.2))
for name, style in (("add-0.01", "o-"), ("interpolated", "s-"), ("Kneser-Ney", "^-")):
    ns = [n for (m, n) in results if m == name]
    ax[0].plot(ns, [results[name, n][0] for n in ns], style, label=name)
    ax[1].plot(ns, [results[name, n][1] for n in ns], style, label=name)
ax[0].set(title="training text", xlabel="n", ylabel="perplexity", yscale="log")
ax[1].set(title="held-out text", xlabel="n", ylabel="perplexity", yscale="log")
ax[1].legend(loc="upper left", fontsize=8)
fig.suptitle("Longer contexts fit the training text better (add-k only up to n = 3),\nbut stop helping on new text",
             fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Overfitting as n grows.** On the training text interpolation and Kneser-Ney keep improving with n
# (a 5-gram has nearly memorised it). Add-k improves only up to n = 3 and then gets worse even there:
# most 4- and 5-gram contexts occur once in training, so c(h) = 1, and the k·V pseudo-counts in its
# denominator outweigh that one real count. On held-out text, add-k gets *worse* after n = 2: most
# 3-, 4- and 5-gram contexts were never seen, and add-k spreads their probability uniformly over the
# V = 6,436 tokens of the vocabulary. Interpolation with fixed weights also degrades after n = 2 (its λ
# were not tuned on held-out text). Kneser-Ney degrades least and is the best count model here, at
# n = 3 (held-out perplexity 102.6):
# its discount takes the same d from every seen n-gram, so a context gives up mass in proportion to
# how many different words follow it (a context followed by many types is likely to be followed by a
# new one), and it hands
# that mass to a lower order that rewards words seen in many contexts, the right guess for a word
# that has not been seen in this one. The plain MLE (no smoothing, no `<unk>`) has infinite
# held-out perplexity for every n: some held-out word or pair is always unseen.
#
# These statements, checked on the table above (the perplexities are exact counting, the same on every
# machine; the checks say what the text relies on):

# %%
# NBVAL_CHECK_OUTPUT
train_pp = {name: [results[name, n][0] for n in range(1, 6) if (name, n) in results]
            for name in ("add-0.01", "interpolated", "Kneser-Ney")}
held_pp = {name: [results[name, n][1] for n in range(1, 6) if (name, n) in results]
           for name in ("add-0.01", "interpolated", "Kneser-Ney")}
claim(all(np.all(np.diff(train_pp[m]) < 0) for m in ("interpolated", "Kneser-Ney")),
      "on training text, interpolation and Kneser-Ney improve with every n")
claim(int(np.argmin(train_pp["add-0.01"])) + 1 == 3, "add-0.01's training perplexity is lowest at n = 3")
claim(np.all(np.diff(held_pp["add-0.01"][1:]) > 0) and np.all(np.diff(held_pp["interpolated"][1:]) > 0),
      "on held-out text, add-k and interpolation get worse with every n after 2")
best = min(results, key=lambda key: results[key][1])
claim(best == ("Kneser-Ney", 3), "the best count model on held-out text is Kneser-Ney with n = 3")

# %% [markdown]
# **Backoff.** *Stupid backoff* (Brants et al., 2007) uses the longest context that was seen and
# multiplies by α = 0.4 for each step back. It is cheap at web scale, but its scores do not sum
# to 1, so it has no perplexity; it is for ranking. Three sentences, with Kneser-Ney's log-probability
# beside each score:

# %%
# NBVAL_CHECK_OUTPUT
backoff = ngram.StupidBackoff(3, alpha=0.4, unk_cutoff=2).fit(train)
kn3 = fitted["Kneser-Ney", 3]
for words in (["the", "king", "is", "dead"], ["dead", "is", "the", "king"], ["the", "cat", "is", "small"]):
    score = sum(math.log(backoff.prob(w, ctx)) for ctx, w in backoff.events(words))
    print(f"{' '.join(words):22s} stupid backoff log-score {score:8.2f}   Kneser-Ney (n = 3) ln P {kn3.sentence_logprob(words):8.2f}")
print("in the training text:", ", ".join(f"{w!r} {backoff.count((), w)} times" for w in ("king", "dead", "cat", "small")))

# %% [markdown]
# The grammatical "the king is dead" comes first, but the scrambled "dead is the king" ranks *above*
# "the cat is small", and Kneser-Ney agrees. Neither model judges the sentence as a whole: each sees
# three words at a time and rewards familiar pieces. "king" is frequent in these history plays, and "is the"
# and "the king" are common pairs, so the scrambled sentence is made of well-known trigrams and
# bigrams; "cat" and "small" are rare, "the cat is" and "cat is small" were never seen, and every
# step back to a shorter context costs a factor of α (or γ(h) in Kneser-Ney). Counts know nothing of
# what a cat is; the embeddings of notebook 02 are the first step to models that do.
#
# ## Sampling from an n-gram model
#
# A language model is also a generator: start from `<bos>`, draw the next word from
# P(w | context), append it, repeat until `<eos>`. With n = 1 the words are independent; with
# larger n the text looks more and more like Shakespeare, because it *is* Shakespeare: a 4-gram
# model mostly copies training sentences (the storage table above shows why: there are nearly as
# many distinct 4-grams as training tokens, so most 3-word contexts were seen once, with a single
# next word). Samples differ from machine to machine (the
# draws depend on the last bits of the probabilities), so what the text says about them is measured
# below on 200 sentences per model.

# %%
samplers = {}
for n in (1, 2, 3, 4):
    samplers[n] = ngram.MLE(n).fit(train)
    rng = np.random.default_rng(n)
    print(f"n={n}")
    for _ in range(3):
        print("   ", " ".join(samplers[n].sample(rng, max_len=16)))

# %%
training_sentences = {tuple(s) for s in train}
copied = {}
for n in (2, 4):
    rng = np.random.default_rng(100 + n)
    drawn = [samplers[n].sample(rng, max_len=30) for _ in range(200)]
    copied[n] = np.mean([tuple(s) in training_sentences for s in drawn])
    print(f"n={n}: {copied[n]:.0%} of 200 sampled sentences are training sentences, copied whole")

# %%
# NBVAL_CHECK_OUTPUT
between(copied[4], 0.5, 0.85, "the share of 4-gram samples copied whole from training")
claim(copied[4] > copied[2] + 0.2, "the 4-gram model copies far more than the bigram model")

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
# grows with the number of n-grams seen, only with the window and the vocabulary. (The window-based neural LM is in
# the lecture; the equation with the direct connection $W_3 x$ is Bengio et al.'s.)

# %%
from course_lib.neural_lm import diagram

diagram(("the", "cat", "is"))
plt.show()

# %% [markdown]
#
# The slides' PyTorch example `NGramLanguageModeler`, titled "SG模型" (skip-gram), is this model
# too: embeddings of the CONTEXT_SIZE previous words, concatenated, a hidden layer (ReLU), a softmax
# over the next word. The title is a mislabel: skip-gram (notebook 02) predicts the *context* from the
# centre word; this predicts the next word from the previous ones. In the exercises you write it
# yourself (`WindowLM`) with the right targets and train it.
#
# To compare it fairly with the best count model, we use a corpus small enough to train on here:
# the names of `names.txt` (a list of first names), one character per token. The split is random
# (seed 0), 90% / 10%.

# %%
# NBVAL_CHECK_OUTPUT
names = data.load_lines("names")
order = np.random.default_rng(0).permutation(len(names))
names_train = [list(names[i]) for i in order[: int(0.9 * len(names))]]
names_test = [list(names[i]) for i in order[int(0.9 * len(names)):]]
print(f"{len(names):,} names: {len(names_train):,} for training ({sum(map(len, names_train)):,} characters), "
      f"{len(names_test):,} held out")
best_count = None
for n in range(2, 8):
    model = ngram.KneserNey(n, discount=0.75).fit(names_train)
    pp = model.perplexity(names_test)
    print(f"Kneser-Ney, n={n}: held-out perplexity {pp:.3f}")
    if best_count is None or pp < best_count[1]:
        best_count = (n, pp)
print(f"best count model: Kneser-Ney n={best_count[0]} (it conditions on the {best_count[0] - 1} previous "
      f"characters), perplexity {best_count[1]:.3f}")

# %% [markdown]
# Now the neural model, with a window of 6 characters (the best count model, n = 6, conditions on
# n − 1 = 5 previous characters, so the network sees one more). It trains here for 1,500 steps, long
# enough to watch the loss fall (the time it took on your machine is printed):

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.neural_lm import (checkpoint_path, load_checkpoint, names_split, perplexity, sentence_tensors,
                                  train_names_model)

live_model, names_vocab, history = train_names_model(steps=1500, progress=False)
print(f"1,500 steps in {history.seconds[-1]:.0f} s")
history.plot(title="fixed-window LM on names (1,500 steps)")
plt.show()

# %%
assert names_split() == (names_train, names_test)          # the very same split as the count models
x_test, y_test = sentence_tensors(names_vocab, names_test)
live_pp = perplexity(live_model, x_test, y_test)
print(f"neural LM after 1,500 steps: held-out perplexity {live_pp:.2f}")

# %%
# NBVAL_CHECK_OUTPUT
between(live_pp / best_count[1], 1.0, 1.15, "after 1,500 steps, the network's perplexity over the best count model's")
claim(live_pp > best_count[1], "after 1,500 steps the network is close to, but not yet better than, the best count model")

# %% [markdown]
# After 1,500 steps it is close to, but not yet better than, the best count model. Trained
# longer (12,000 steps, printed below with the time they took) it wins. That model is stored in
# `assets/names_window_lm.pt`, made by the command
#
#     python -m course_lib.neural_lm train-names
#
# which reproduces it exactly (same seed, one thread). Let us load it and score it on the same
# held-out names:

# %%
trained, itos, info = load_checkpoint(checkpoint_path())
assert itos == names_vocab.itos
neural_pp = perplexity(trained, x_test, y_test)
print(f"neural LM, {info['steps']:,} steps ({info['seconds'] / 60:.1f} minutes on one CPU thread when it was made): "
      f"held-out perplexity {neural_pp:.3f}")
print(f"best count model (Kneser-Ney n={best_count[0]}): held-out perplexity {best_count[1]:.3f}")

# %%
# NBVAL_CHECK_OUTPUT
between(neural_pp, 7.05, 7.15, "the trained neural model's held-out perplexity")
claim(neural_pp < best_count[1], "the trained neural model is better than the best count model")

# %% [markdown]
# Both numbers are on the same held-out names with the same tokens (characters and `<eos>`).
# The gain is modest on a corpus this small: Kneser-Ney with a 5-character context is a strong
# baseline for about 180,000 characters of training text. The neural model's advantage grows with data and with the
# size of the vocabulary, where most n-gram contexts are never seen (the table above).
#
# What neither model can do: look further back than its window. That is the motivation for the
# recurrent network of notebook 03, whose hidden state carries information from the whole past.
#
# Samples from the trained neural model, for fun (they differ from machine to machine):

# %%
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

# %% [markdown]
# ## Recap
#
# - An n-gram model predicts the next token from the last n − 1 by counting. The maximum-likelihood
#   estimate gives unseen n-grams probability 0; smoothing (add-k, interpolation, Kneser-Ney) fixes
#   that, and perplexity (the exponential of the mean negative log-likelihood per token) measures the
#   result on held-out text.
# - On Shakespeare, longer contexts stop helping fast: 61% of held-out trigrams were never seen in
#   training, and the best count model is Kneser-Ney with n = 3 (held-out perplexity 102.6).
# - On names (characters), Bengio's fixed-window network beats the best count model (Kneser-Ney n = 6,
#   7.184) once trained for 12,000 steps (about 7.1), with a fixed-size table of embeddings.
# - To poke: change `n` or `discount` in the comparison cell, or the window of `train_names_model`.
#
# **Next:** `exercises/01_ngrams` (count bigrams, add-k smoothing and perplexity by hand, then a
# fixed-window neural LM in PyTorch: its training examples, the model and its training loop), then
# `notebooks/02_word2vec`: where the embeddings of such models come from, and how to learn them alone.
