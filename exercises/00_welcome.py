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

# This exercise notebook is generated from solutions/00_welcome.py by `course-grade generate`: do not edit.

# %% [markdown]
# # 00 · Warm-up exercises: softmax and cross-entropy
#
# Every language model in this course ends the same way: a vector of scores (logits) over the
# vocabulary goes through a **softmax** to become probabilities, and training minimises the
# **cross-entropy** of the correct next token. These two functions are your first exercises.
#
# How exercises work:
#
# 1. Write your code where a cell says `raise NotImplementedError(...)`.
# 2. Run the cell, then run the `check(...)` cell below it. It runs the *public* tests on your
#    code and says, test by test, what is right or wrong.
# 3. Your instructor grades with more (hidden) tests, so passing the public checks is necessary,
#    not sufficient. Test your function on your own inputs too.

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
# ## Exercise 1: `softmax`
#
# $$\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}$$
#
# Write `softmax(z)` for a NumPy array `z` of any shape, normalising over the **last axis**
# (each row of a `(batch, vocab)` array becomes a probability distribution).
#
# Careful: `np.exp(1000.0)` overflows to `inf`. Since softmax(z) = softmax(z − c) for any
# constant c, subtract the row's maximum first.

# %%
def softmax(z):
    """Softmax over the last axis. z: array (..., V) -> probabilities (..., V)."""
    z = np.asarray(z, dtype=np.float64)
    # YOUR CODE HERE
    raise NotImplementedError('softmax(z) = softmax(z - c) for any constant c per row: choose c so that no exponent is positive; every reduction is over the last axis only, and must keep that axis so the division broadcasts')


# %%
# NBVAL_CHECK_OUTPUT
check("softmax")

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("softmax"):
    p = softmax(np.array([1.0, 2.0, 3.0]))
    print("softmax([1, 2, 3]) =", np.round(p, 4), " sum =", round(float(p.sum()), 6))

# %% [markdown]
# ## Exercise 2: `cross_entropy`
#
# For logits of shape `(N, V)` (N predictions over a vocabulary of V tokens) and integer
# targets of shape `(N,)`, the cross-entropy is the **mean** negative log-probability of the
# correct token, in nats (natural log):
#
# $$J = -\frac{1}{N} \sum_{n=1}^{N} \log \mathrm{softmax}(\text{logits}_n)_{\text{target}_n}$$
#
# Its exponential, $e^{J}$, is the **perplexity**: a model that is unsure among k equally likely
# tokens has perplexity k. (The CS224N notes behind the lecture write $2^J$: the same number when J is measured
# in bits, i.e. with log base 2.)
#
# Compute it without calling `softmax` and then `np.log` (the log of a tiny probability
# underflows): use $\log \mathrm{softmax}(z)_i = z_i - \max(z) - \log \sum_j e^{z_j - \max(z)}$.

# %%
def cross_entropy(logits, targets):
    """Mean cross-entropy in nats. logits: (N, V) floats; targets: (N,) ints in [0, V)."""
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    # YOUR CODE HERE
    raise NotImplementedError('stay in log space (never take the log of a probability that may have underflowed to 0); each row n contributes one number, its entry at column targets[n]; J is a mean over the N rows')


# %%
# NBVAL_CHECK_OUTPUT
check("cross_entropy")

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("cross_entropy"):
    uniform = np.zeros((4, 10))              # a model that knows nothing: all 10 tokens equally likely
    J = cross_entropy(uniform, np.array([0, 3, 5, 9]))
    print(f"uniform over 10 tokens: J = {J:.4f} nats = ln(10); perplexity = e^J = {np.exp(J):.2f}")

# %% [markdown]
# **Next:** `notebooks/01_ngrams` (n-gram models, smoothing, perplexity and the fixed-window neural LM),
# then `exercises/01_ngrams`.
