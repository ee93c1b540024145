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
# # 02 · Word embeddings and word2vec
#
# How should a network read a word? The simplest answer, a **one-hot vector** (a 1 at the word's
# index in the vocabulary, 0 elsewhere), has two problems the lecture points out: the vectors are
# as long as the vocabulary (tens of thousands), and every two of them are **orthogonal**, so
# "microphone" is exactly as far from "mic" as from "banana". An **embedding** maps each word to a
# short dense vector instead, learned so that words used in similar contexts get similar vectors:
# "a word's meaning is given by the words around it". word2vec (Mikolov et al., 2013) learns them
# by predicting context words (skip-gram) or the centre word (CBOW).
#
# The code is in `course_lib.word2vec`.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import data, seed_everything
from course_lib import word2vec as w2v
from course_lib.text import Vocab, word_tokenize

seed_everything(0)
torch.set_num_threads(1)

# %% [markdown]
# ## One-hot vectors are orthogonal; an embedding is a lookup table

# %%
# NBVAL_CHECK_OUTPUT
words = ["microphone", "mic", "banana", "king", "queen"]
one_hot = np.eye(len(words))
print("one-hot dot products (every pair of different words: 0)\n", one_hot @ one_hot.T)

embedding = torch.nn.Embedding(num_embeddings=len(words), embedding_dim=3)
idx = torch.tensor([0, 3])
looked_up = embedding(idx)                                   # (2, 3): rows 0 and 3 of the table
as_product = torch.tensor(one_hot[[0, 3]], dtype=torch.float) @ embedding.weight
print("nn.Embedding(idx) == one_hot @ W:", torch.allclose(looked_up, as_product))
print("table", tuple(embedding.weight.shape), "-> lookup of 2 words", tuple(looked_up.shape))

# %% [markdown]
# Multiplying a one-hot vector by a matrix just selects a row, so `nn.Embedding` skips the
# multiplication and indexes. The table *is* the hidden layer of the lecture's word2vec network.
#
# ## Training pairs from a window
#
# Skip-gram turns text into (centre, context) pairs: every word with each word at most `window`
# positions away. The lecture's sentence, window 2:

# %%
# NBVAL_CHECK_OUTPUT
sentence = "the quick brown fox jumps over the lazy dog".split()
pairs = w2v.skipgram_pairs(sentence, window=2)
for centre in ("the", "quick", "brown", "fox"):
    print(f"{centre:6s} ->", [o for c, o in pairs if c == centre][:4])
print(len(pairs), "pairs in all")

# %% [markdown]
# ## The model and its loss
#
# Every word w has a centre vector $v_w$ and a context vector $u_w$. Skip-gram models
#
# $$P(o \mid c) = \frac{\exp(u_o^\top v_c)}{\sum_{w \in V} \exp(u_w^\top v_c)}$$
#
# and minimises the average negative log-likelihood of all pairs,
# $J(\theta) = -\frac1T \sum_t \sum_{-m \le j \le m, j \ne 0} \log P(w_{t+j} \mid w_t)$.
# The denominator sums over the whole vocabulary for every pair. **Negative sampling** replaces it:
# make the true pair's score high and the scores of K random "noise" words low,
#
# $$J = -\log \sigma(u_o^\top v_c) - \sum_{k=1}^{K} \log \sigma(-u_k^\top v_c),$$
#
# with noise words drawn from the unigram distribution raised to the power 3/4, which gives rare
# words a better chance. Frequent words are also randomly *dropped* from the text before pairs are
# made (subsampling): "the" next to "king" says little about kings.
#
# **CBOW**, the lecture's open question, goes the other way: average the context vectors,
# $\bar v = \frac1C \sum_i v_{\text{context}_i}$, and predict the centre word with
# softmax($u_w^\top \bar v$), or with negative sampling using $\bar v$ in place of $v_c$.
#
# ## Training on Shakespeare
#
# Words seen fewer than 5 times are dropped (as word2vec's `min_count`).

# %%
# NBVAL_CHECK_OUTPUT
tokens = word_tokenize(data.load_text("tinyshakespeare"))
vocab = Vocab(tokens, min_freq=5)
ids = np.array(vocab.encode(tokens))
ids = ids[ids != vocab.unk_id]
counts = w2v.counts_for(vocab, ids)
noise = w2v.noise_distribution(counts)
keep = w2v.keep_probabilities(counts, t=1e-3)
print(f"{len(tokens):,} words, {len(vocab) - 4:,} kept types, {len(ids):,} training words")
for w in (",", "the", "king", "wherefore"):
    i = vocab.stoi[w]
    print(f"{w!r:12s} unigram {counts[i] / counts.sum():.4f}  noise {noise[i]:.4f}  kept by subsampling {keep[i]:.0%}")

# %%
# NBVAL_CHECK_OUTPUT
probe = ["king", "thou", "love", "night", "father"]
untrained = w2v.SkipGramNegSampling(len(vocab), 64)
print("before training (random vectors):")
for w in probe:
    print(f"   {w:7s}", [x for x, _ in w2v.neighbours(untrained.embeddings(), vocab, w, 5)])

# %%
# NBVAL_IGNORE_OUTPUT
sg_model, sg_history = w2v.train_sgns(ids, len(vocab), counts, dim=64, window=3, negatives=5, epochs=2,
                                      batch_size=2048, lr=3e-3, subsample_t=1e-3, seed=0)
sg_history.plot(title="skip-gram with negative sampling")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
E = sg_model.embeddings()
print(f"skip-gram, {len(sg_history.loss)} steps: loss {sg_history.loss[0]:.2f} -> {np.mean(sg_history.loss[-20:]):.2f}")
print("after training:")
for w in probe:
    print(f"   {w:7s}", [x for x, _ in w2v.neighbours(E, vocab, w, 5)])

# %% [markdown]
# Verb forms of the old second person cluster ("thou" with "art", "hast", "didst"), and kings sit
# with the other names of the history plays. The model saw each word only in Shakespeare's
# contexts: "love" and "night" have less consistent company in 250,000 words.
#
# ## A map of the embeddings
#
# 64 dimensions projected on their first two principal components (PCA, NumPy's SVD):

# %%
show = ["king", "queen", "prince", "duke", "lord", "lady", "father", "mother", "son", "daughter",
        "thou", "thee", "thy", "art", "hast", "love", "hate", "fear", "night", "day", "sword", "blood"]
xy = w2v.pca_2d(E[[vocab.stoi[w] for w in show]])
fig, ax = plt.subplots(figsize=(7, 5))
ax.scatter(xy[:, 0], xy[:, 1], s=12)
for (x, y), w in zip(xy, show):
    ax.annotate(w, (x, y), fontsize=9)
ax.set_title("skip-gram embeddings, first two principal components")
plt.show()

# %% [markdown]
# ## CBOW vs skip-gram
#
# CBOW makes one training example per centre word (skip-gram makes one per context word), so an
# epoch is ~6 times cheaper. Trained for the same number of steps as skip-gram above:

# %%
# NBVAL_IGNORE_OUTPUT
cb_model, cb_history = w2v.train_sgns(ids, len(vocab), counts, dim=64, window=3, negatives=5, epochs=12,
                                      batch_size=2048, lr=3e-3, subsample_t=1e-3, seed=0, cbow=True)

# %%
# NBVAL_CHECK_OUTPUT
E_cbow = cb_model.embeddings()
print(f"CBOW, {len(cb_history.loss)} steps ({cb_history.pairs:,} examples); skip-gram, {len(sg_history.loss)} steps "
      f"({sg_history.pairs:,} pairs)")
for w in probe[:3]:
    print(f"   {w:7s} CBOW", [x for x, _ in w2v.neighbours(E_cbow, vocab, w, 5)])

# %% [markdown]
# ## What a corpus this small can and cannot learn
#
# The standard tests were built for embeddings trained on billions of words. Measured here:

# %%
# NBVAL_CHECK_OUTPUT
questions = data.load_analogies()
for name, emb in (("skip-gram", E), ("CBOW", E_cbow)):
    acc, covered, total = w2v.analogy_accuracy(emb, vocab, questions)
    rho_ws, n_ws, t_ws = w2v.similarity_correlation(emb, vocab, data.load_similarity("wordsim353"))
    rho_sl, n_sl, t_sl = w2v.similarity_correlation(emb, vocab, data.load_similarity("simlex999"))
    print(f"{name:9s} analogies (3CosAdd): {acc:.1%} of the {covered} of {total:,} questions in vocabulary;  "
          f"WordSim-353 Spearman {rho_ws:.2f} on {n_ws}/{t_ws} pairs;  SimLex-999 {rho_sl:.2f} on {n_sl}/{t_sl}")

# %% [markdown]
# Honest reading: only 656 of the 19,544 analogy questions use four words that occur 5+ times in
# Tiny Shakespeare (it has no "Athens", "Greece" or "dollar"), and on those the models are right
# 1–2% of the time (gensim's word2vec, measured on this corpus on the course's machines, 3.7%).
# Only 46 of the 353 WordSim pairs are in the vocabulary, so a correlation on them (0.07 or 0.30)
# is too noisy to rank the two models; SimLex-999, which scores similarity rather than relatedness,
# is near 0 for both. Embeddings learn what the corpus
# shows: here, the grammar and cast of Shakespeare, not world knowledge. With a few billion words
# the same code (and loss) gives the famous king − man + woman ≈ queen.
