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
# (The lecture writes $2^J$ with J in bits: the same number.) The model is given as a table
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
