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
# # 08 · Exercises: masking, decoding, beam search and BLEU
#
# In NumPy, with the notebook's conventions: targets are right-padded with `pad_id`, the decoder
# starts from the encoder's vector c, and ids `bos_id` / `eos_id` start and end a sentence.
#
# | symbol | shape |
# |---|---|
# | logits of a batch of target sentences | `(B, T, V)` |
# | targets (ids, pads included) | `(B, T)` |
# | embedding table E (one row per token) | `(V, D)` |
# | $W_{xh}$, $W_{hh}$, $W_{hc}$, $b_h$ | `(H, D)`, `(H, H)`, `(H, H)`, `(H,)` |
# | $W_{hy}$, $b_y$ | `(V, H)`, `(V,)` |

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import numpy as np

from course_lib import bleu
from course_lib.grading import check, needs_exercise

# %% [markdown]
# ## Exercise 1: `masked_cross_entropy`: pads must not count
#
# The lecture's loss is $-\sum_j \log P(y_j \mid y_{<j}, c)$ over the real target tokens. Return the
# mean of $-\log \mathrm{softmax}(\text{logits}_{b,t})[\text{target}_{b,t}]$ over the positions whose
# target is not `pad_id`: every real token weighs the same, whatever sentence it is in, and adding
# pads to a batch must not change the result.

# %%
def masked_cross_entropy(logits, targets, pad_id):
    """logits (B, T, V), targets (B, T) ids -> mean −log P(target) over the non-pad positions (a float)."""
    ### HINT: the log-softmax over the vocabulary must stay finite for logits in the thousands; the pads are whatever pad_id says (0 may be a real word); every real token weighs the same, so count them, not B·T
    ### BEGIN SOLUTION
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))                  # (B, T, V)
    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]     # (B, T)
    mask = targets != pad_id
    return float((nll * mask).sum() / mask.sum())
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("masked_cross_entropy")

# %% [markdown]
# ## Exercise 2: `greedy_decode`: the whole decoder, end to end
#
# A vanilla-RNN decoder conditioned on the source vector c (the CS224N extension: every step reads
# $h_{j-1}$, c and $y_{j-1}$):
#
# $$h_0 = c, \qquad h_j = \tanh(W_{xh}\, E[y_{j-1}] + W_{hh} h_{j-1} + W_{hc}\, c + b_h), \qquad
# \hat y_j = \arg\max_w\, (W_{hy} h_j + b_y)_w$$
#
# with $y_0$ = `bos_id`. Feed each prediction back as the next input. Stop when the prediction is
# `eos_id` (do not include it) or after `max_len` predictions. `params` is a dict with keys
# `"E", "W_xh", "W_hh", "W_hc", "b_h", "W_hy", "b_y"`; `c` has shape `(H,)`. Return the list of
# predicted ids (Python ints).

# %%
def greedy_decode(params, c, bos_id, eos_id, max_len):
    """-> list of token ids (without <bos> and <eos>), at most max_len of them."""
    ### HINT: the input at step j is the token predicted at step j-1 (not the true one: at test time there is none); c enters every step, and h starts at c
    ### BEGIN SOLUTION
    p = params
    h, prev, out = c, bos_id, []
    for _ in range(max_len):
        h = np.tanh(p["W_xh"] @ p["E"][prev] + p["W_hh"] @ h + p["W_hc"] @ c + p["b_h"])
        prev = int(np.argmax(p["W_hy"] @ h + p["b_y"]))
        if prev == eos_id:
            break
        out.append(prev)
    return out
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("greedy_decode")

# %% [markdown]
# ## Exercise 3: `beam_step`: one step of beam search
#
# The beam holds K prefixes with scores $s_k = \sum \log P$ so far (shape `(K,)`). The decoder gives
# `log_probs` `(K, V)`: the log-probability of every next token after every prefix. A candidate
# (k, w) scores $s_k + \log P(w \mid \text{prefix}_k)$. Keep the `beam_size` best of all K·V
# candidates, best first, and return `(new_scores, parents, tokens)`, three arrays of length
# `beam_size`: each kept candidate's score, the index k of the prefix it extends, and its token w.
# Candidates of exactly equal score keep the order of the flat list of K·V candidates (smaller k first,
# then smaller w), so the result is the same on every machine.

# %%
def beam_step(scores, log_probs, beam_size):
    """scores (K,), log_probs (K, V) -> (new_scores, parents, tokens), each (beam_size,), best first."""
    ### HINT: rank all K·V candidates together, so one prefix may get several children and another none; a candidate's place in that flat ranking tells both its prefix and its token; on equal scores the flat order must survive the sort
    ### BEGIN SOLUTION
    K, V = log_probs.shape
    cand = (scores[:, None] + log_probs).ravel()                  # (K·V,)
    best = np.argsort(-cand, kind="stable")[:beam_size]
    return cand[best], best // V, best % V
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("beam_step")

# %% [markdown]
# ## Exercise 4, end to end: `beam_search` with `<eos>`, finished hypotheses and length normalisation
#
# A whole beam search, on a toy decoder small enough to check by brute force: the next token's
# log-probability depends only on the last token, $\log P(w \mid \dots, v)$ = `log_table[v, w]`
# (a `(V, V)` array; before the first prediction the last token is `bos_id`).
#
# * The beam starts with one live prefix, the empty one, of score 0. Every step extends the live
#   prefixes with your `beam_step` and keeps the `beam_size` best candidates.
# * A kept candidate that ends in `eos_id` is **finished**: it goes to a list of finished hypotheses
#   with its score and is never extended again; the others stay live (so the beam may shrink).
# * The search ends when no prefix is live, or after `max_len` steps; the prefixes still live then
#   count as finished too (without `<eos>`).
# * Among the finished hypotheses the answer is the one with the best **length-normalised** score
#   $\frac{1}{L^\alpha}\sum \log P$, where L is the number of tokens it predicted (its `<eos>` included).
#   With α = 0 the raw sum decides, which favours short sentences; α = 1 is a per-token average.
#
# Return `(tokens, score)`: the answer's tokens (a list of ints, without `<bos>` and `<eos>`) and its
# normalised score (a float). The check compares a beam as wide as the whole search space with a
# brute-force search over every possible sentence, and narrow beams with small hand-made tables.

# %%
def beam_search(log_table, bos_id, eos_id, beam_size, max_len, alpha):
    """log_table (V, V): log P(w | last token v) -> (best tokens: list of ints, its normalised score: float)."""
    ### HINT: keep, for every live prefix, its tokens and its Σ log P; the last token of each live prefix picks its row of the table; a finished hypothesis must remember its length at the moment it finished, and must leave the beam so that it is not extended; the normalisation is applied only when finished hypotheses are compared, never to the scores the beam ranks by
    ### BEGIN SOLUTION
    prefixes, scores = [[]], np.zeros(1)                     # live prefixes (tokens so far) and their Σ log P
    finished = []                                            # (normalised score, tokens)
    for t in range(1, max_len + 1):
        last = [p[-1] if p else bos_id for p in prefixes]
        new_scores, parents, tokens = beam_step(scores, log_table[last], beam_size)
        live, live_scores = [], []
        for s, k, w in zip(new_scores, parents, tokens):
            if w == eos_id:
                finished.append((s / t ** alpha, prefixes[k]))            # t tokens predicted, <eos> included
            else:
                live.append(prefixes[k] + [int(w)])
                live_scores.append(s)
        prefixes, scores = live, np.array(live_scores)
        if not prefixes:
            break
    finished += [(s / max_len ** alpha, p) for s, p in zip(scores, prefixes)]   # still live after max_len steps
    best_score, best = max(finished, key=lambda f: f[0])
    return list(best), float(best_score)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("beam_search")

# %% [markdown]
# Try it: a toy decoder where greedy decoding goes wrong. From `<bos>` (id 2) the model says "a"
# (id 4) with 0.6 and "b" (id 5) with 0.4; after "a" it is unsure, after "b" it is certain that the
# sentence ends. Change `beam_size` and `alpha` and re-run.

# %%
with needs_exercise("beam_search"):
    p = np.full((6, 6), 1e-9)
    p[2, 4], p[2, 5] = 0.6, 0.4                                   # <bos> -> a or b
    p[4, [4, 5, 1, 3]] = 0.4, 0.2, 0.2, 0.2                       # after a: nothing is sure
    p[5, 0] = 1.0                                                 # after b: <eos> (id 0)
    log_table = np.log(p / p.sum(1, keepdims=True))
    for beam_size in (1, 2):
        tokens, score = beam_search(log_table, bos_id=2, eos_id=0, beam_size=beam_size, max_len=3, alpha=0.0)
        print(f"beam {beam_size}: tokens {tokens}, Σ log P = {score:.3f} (P = {np.exp(score):.3f})")

# %% [markdown]
# ## Exercise 5: `sentence_bleu`: BLEU from counts
#
# For a hypothesis (a token list) and its references (a list of token lists), n = 1..`max_n`:
#
# * the clipped precision $p_n$: each hypothesis n-gram counts at most as often as it occurs in
#   the *one* reference where it occurs most, divided by the number of n-grams in the hypothesis;
# * the brevity penalty $BP = 1$ if $c \ge r$, else $e^{1 - r/c}$, with c the hypothesis length and r
#   the length of the reference *closest* to c (on a tie, the shorter);
# * $\text{BLEU} = 100 \cdot BP \cdot \exp\big(\frac{1}{N} \sum_n \log p_n\big)$, and 0 if some $p_n = 0$
#   (no smoothing).

# %%
def sentence_bleu(hypothesis, references, max_n=4):
    """Token list, list of token lists -> BLEU on 0–100 (no smoothing)."""
    ### HINT: count n-grams as tuples (collections.Counter); clip by the maximum count over the references, not the sum; precision alone rewards short outputs, which BP corrects
    ### BEGIN SOLUTION
    from collections import Counter

    log_p = 0.0
    for n in range(1, max_n + 1):
        hyp = Counter(tuple(hypothesis[i:i + n]) for i in range(len(hypothesis) - n + 1))
        most = Counter()
        for ref in references:
            most |= Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
        matched = sum(min(k, most[g]) for g, k in hyp.items())
        total = sum(hyp.values())
        if matched == 0:
            return 0.0
        log_p += np.log(matched / total) / max_n
    c = len(hypothesis)
    r = min((len(ref) for ref in references), key=lambda length: (abs(length - c), length))
    bp = 1.0 if c >= r else np.exp(1 - r / c)
    return float(100 * bp * np.exp(log_p))
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("sentence_bleu")

# %% [markdown]
# ## Try it: your BLEU against the course's
#
# Change the hypothesis and see which part moves: a shorter one pays the brevity penalty, a
# repeated word is clipped.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("sentence_bleu"):
    refs = [["je", "suis", "très", "fatigué", "."], ["je", "suis", "vraiment", "fatigué", "."]]
    for hyp in (["je", "suis", "très", "fatigué", "."], ["je", "suis", "très", "fatigué"],
                ["je", "suis", "fatigué", "."], ["je", "je", "je", "je", "."]):
        ours = sentence_bleu(hyp, refs)
        course = bleu.sentence_bleu(hyp, refs, smooth="none", effective_order=False)
        print(f"{' '.join(hyp):26s} yours {ours:6.2f}   course_lib.bleu {course:6.2f}")
