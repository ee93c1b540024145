"""Word embeddings: skip-gram and CBOW, with the full softmax or negative sampling (word2vec).

Each word w has two vectors: v_w when it is the centre word and u_w when it is a context word
(the lecture's notation). Skip-gram models P(o | c) = softmax over w of u_wᵀ v_c; CBOW predicts the
centre from the *average* of its context vectors, v̄ = (1/C) Σ v_context. The full softmax costs
O(V) per pair; negative sampling replaces it by one positive and k noise words drawn from the
unigram distribution raised to 3/4:

    J = −log σ(u_oᵀ v_c) − Σ_{k=1}^{K} log σ(−u_kᵀ v_c)

Frequent words ("the", ",") are randomly dropped before making pairs (subsampling, keep
probability sqrt(t / f) + t / f capped at 1), which speeds training and helps rare words.

The nn.Modules (autograd) are the readable models; ``train_sgns`` trains them the way word2vec
does, with SGD and hand-written gradients that tests prove equal to those modules' gradients.
"""
from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------- training pairs

def skipgram_pairs(tokens: Sequence[str], window: int) -> list[tuple[str, str]]:
    """(centre, context) pairs, centre by centre, contexts left to right within ``window``.

    >>> skipgram_pairs("the quick brown".split(), 2)[:3]
    [('the', 'quick'), ('the', 'brown'), ('quick', 'the')]
    """
    if isinstance(tokens, str):
        raise TypeError("skipgram_pairs expects a list of tokens, not a string: split it first")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    pairs = []
    for i, centre in enumerate(tokens):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i:
                pairs.append((centre, tokens[j]))
    return pairs


def context_windows(sentence_of: np.ndarray, window: int, rng: np.random.Generator | None = None):
    """Where each position's context words are: ``(positions (N, 2·window), valid (N, 2·window))``.

    ``sentence_of[i]`` is the sentence of position i of the stream; a context never crosses a
    sentence boundary. Columns are the offsets −window..−1, 1..window (left to right). With ``rng``,
    each centre draws its own window size b uniformly from 1..window and only offsets |j| ≤ b are
    valid: word2vec's *dynamic window*, which weights near words more and makes ~40% fewer pairs.
    """
    sentence_of = np.asarray(sentence_of)
    if sentence_of.ndim != 1:
        raise ValueError(f"sentence_of must be 1-D (one sentence index per position), got shape {sentence_of.shape}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    n = len(sentence_of)
    offsets = np.array([o for o in range(-window, window + 1) if o != 0])
    positions = np.arange(n)[:, None] + offsets[None, :]                          # (N, 2w)
    inside = (positions >= 0) & (positions < n)
    positions = np.where(inside, positions, 0)
    valid = inside & (sentence_of[positions] == sentence_of[:, None])
    if rng is not None:
        size = rng.integers(1, window + 1, n)                                     # b for every centre
        valid &= np.abs(offsets)[None, :] <= size[:, None]
    return positions, valid


def _stream(ids, sentence_of=None) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-D stream, got shape {ids.shape}")
    if sentence_of is None:
        return ids, np.zeros(len(ids), dtype=np.int64)
    sentence_of = np.asarray(sentence_of)
    if sentence_of.shape != ids.shape:
        raise ValueError(f"sentence_of needs one entry per id: shape {sentence_of.shape} vs ids {ids.shape}")
    return ids, sentence_of


def centre_groups(ids: np.ndarray, window: int, sentence_of=None, rng: np.random.Generator | None = None):
    """The skip-gram pairs of a stream grouped by centre, the layout ``sgns_update`` takes:
    ``(centres (C,), pairs_per_centre (C,), contexts (P,))``, contexts centre by centre and left to
    right; centres without any context word are left out. ``sentence_of``, ``rng``: see ``context_windows``."""
    ids, sentence_of = _stream(ids, sentence_of)
    positions, valid = context_windows(sentence_of, window, rng)
    has = valid.any(1)
    return ids[has], valid[has].sum(1), ids[positions[valid]]


def pair_arrays(ids: np.ndarray, window: int, sentence_of=None, rng: np.random.Generator | None = None):
    """The skip-gram pairs of a stream, vectorised: ``(centres (P,), contexts (P,))`` int64, in the
    order of ``skipgram_pairs`` (centre by centre, contexts left to right)."""
    centres, pairs_per_centre, contexts = centre_groups(ids, window, sentence_of, rng)
    return np.repeat(centres, pairs_per_centre), contexts


def cbow_examples(ids: np.ndarray, window: int, pad_id: int, sentence_of=None,
                  rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(contexts (N, 2·window) with pad_id where there is no context word, centres (N,))`` for CBOW;
    centres without any context word are left out."""
    ids, sentence_of = _stream(ids, sentence_of)
    positions, valid = context_windows(sentence_of, window, rng)
    has = valid.any(1)
    return np.where(valid, ids[positions], pad_id)[has], ids[has]


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P_noise(w) ∝ count(w)^0.75: flatter than the unigram distribution, so rare words are drawn
    as negatives more often than their frequency alone would give."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() == 0:
        raise ValueError("counts must be a 1-D array of non-negative counts, not all zero")
    p = counts ** power
    return p / p.sum()


def keep_probabilities(counts: np.ndarray, t: float = 1e-3) -> np.ndarray:
    """Subsampling: keep each occurrence of w with probability min(1, sqrt(t / f(w)) + t / f(w)),
    f(w) = count(w) / total: the formula of word2vec's code and gensim. (The paper writes
    sqrt(t / f); the code's extra t / f keeps slightly more.) Words with f ≤ t are always kept."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() == 0:
        raise ValueError("counts must be a 1-D array of non-negative counts, not all zero")
    if not t > 0:
        raise ValueError(f"t must be > 0, got {t!r}")
    with np.errstate(divide="ignore"):
        ratio = t / (counts / counts.sum())
        return np.minimum(1.0, np.sqrt(ratio) + ratio)


def subsample(ids: np.ndarray, counts: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """The stream with frequent words randomly dropped (see ``keep_probabilities``)."""
    ids = np.asarray(ids)
    return ids[rng.random(len(ids)) < keep_probabilities(counts, t)[ids]]


# ----------------------------------------------------------------------------- models

class _TwoTables(nn.Module):
    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        for name, v in (("vocab_size", vocab_size), ("dim", dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.V = nn.Embedding(vocab_size, dim)     # centre vectors v_w (the embeddings we keep)
        self.U = nn.Embedding(vocab_size, dim)     # context vectors u_w
        nn.init.uniform_(self.V.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.U.weight)              # word2vec's init; see the note on SGD and the mean loss

    def embeddings(self) -> np.ndarray:
        return self.V.weight.detach().cpu().numpy()


class SkipGramSoftmax(_TwoTables):
    """P(o | c) = exp(u_oᵀ v_c) / Σ_w exp(u_wᵀ v_c). forward(centres (B,), contexts (B,)) -> (scores (B, V), loss)."""

    def forward(self, centres: torch.Tensor, contexts: torch.Tensor | None = None):
        scores = self.V(centres) @ self.U.weight.T                         # (B, V): u_wᵀ v_c for every w
        loss = None if contexts is None else F.cross_entropy(scores, contexts)
        return scores, loss


class SkipGramNegSampling(_TwoTables):
    """J = −log σ(u_oᵀ v_c) − Σ_k log σ(−u_kᵀ v_c), summed over k and averaged over the batch.

    forward(centres (B,), contexts (B,), negatives (B, K)) -> (positive scores (B,), loss)."""

    def forward(self, centres: torch.Tensor, contexts: torch.Tensor, negatives: torch.Tensor | None = None):
        v = self.V(centres)                                                 # (B, D)
        pos = (self.U(contexts) * v).sum(-1)                                # (B,): u_oᵀ v_c
        if negatives is None:
            return pos, None
        neg = torch.bmm(self.U(negatives), v.unsqueeze(-1)).squeeze(-1)     # (B, K): u_kᵀ v_c
        loss = -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()
        return pos, loss


class CBOW(_TwoTables):
    """v̄ = mean of the context vectors (ignoring ``pad_id``); P(c | context) = softmax(u_cᵀ v̄).

    With ``negatives`` (B, K) the loss is the negative-sampling loss with v̄ in place of v_c,
    else the full softmax. forward(contexts (B, C), centres (B,), negatives=None) -> (v̄ (B, D), loss).
    """

    def __init__(self, vocab_size: int, dim: int, pad_id: int = 0):
        super().__init__(vocab_size, dim)
        self.pad_id = pad_id

    def forward(self, contexts: torch.Tensor, centres: torch.Tensor | None = None, negatives=None):
        mask = (contexts != self.pad_id).unsqueeze(-1).to(self.V.weight.dtype)   # (B, C, 1)
        vbar = (self.V(contexts) * mask).sum(1) / mask.sum(1).clamp(min=1)        # (B, D): the average
        if centres is None:
            return vbar, None
        if negatives is None:
            return vbar, F.cross_entropy(vbar @ self.U.weight.T, centres)
        pos = (self.U(centres) * vbar).sum(-1)
        neg = torch.bmm(self.U(negatives), vbar.unsqueeze(-1)).squeeze(-1)
        return vbar, -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()


def sgns_loss_and_grads(v_c: np.ndarray, u_o: np.ndarray, u_neg: np.ndarray):
    """The negative-sampling loss of one pair and its gradients, in NumPy (for checking by hand):

    J = −log σ(u_oᵀv_c) − Σ_k log σ(−u_kᵀv_c)
    ∂J/∂v_c = (σ(u_oᵀv_c) − 1) u_o + Σ_k σ(u_kᵀv_c) u_k;  ∂J/∂u_o = (σ(u_oᵀv_c) − 1) v_c;  ∂J/∂u_k = σ(u_kᵀv_c) v_c
    """
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    s_pos, s_neg = sig(u_o @ v_c), sig(u_neg @ v_c)
    loss = -np.log(s_pos) - np.log(1 - s_neg).sum()
    return float(loss), (s_pos - 1) * u_o + s_neg @ u_neg, (s_pos - 1) * v_c, s_neg[:, None] * v_c[None, :]


# ----------------------------------------------------------------------------- word2vec's own training
#
# word2vec (and gensim) train with plain SGD and hand-written gradients, one pair at a time, touching
# only the rows of the two tables that a pair uses. Autograd plus Adam over whole tables, batch by
# batch, ran ~10x slower and learned less per epoch (tests/benchmarks/bench_word2vec.py). So the
# course does what word2vec does, on small batches of consecutive centre words, and proves each update
# equal to an SGD step through autograd on the models above (tests/test_word2vec.py). One change
# makes it fast in PyTorch: the pairs of one centre share their K noise words (Ji et al., 2016,
# "Parallelizing Word2Vec in Shared and Distributed Memory"), so noise rows are gathered once per
# centre, not once per pair. Each noise term is weighted by the centre's number of pairs, so the
# expected loss is the same as with fresh noise for every pair.

def _check_update_args(V: torch.Tensor, U: torch.Tensor, lr: float) -> None:
    if not (isinstance(V, torch.Tensor) and isinstance(U, torch.Tensor) and V.ndim == 2 and V.shape == U.shape):
        raise ValueError("V and U must be two (vocab, dim) tensors of the same shape")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")


def _add_rows(table: torch.Tensor, rows: torch.Tensor, values: torch.Tensor) -> None:
    """table[rows[i]] += values[i] for every i, repeated rows included. (scatter_add_ measured 4-5x
    faster than index_add_ on CPU for these sizes.)"""
    table.scatter_add_(0, rows.unsqueeze(1).expand(-1, table.shape[1]), values)


@torch.no_grad()
def sgns_update(V: torch.Tensor, U: torch.Tensor, centres: torch.Tensor, pairs_per_centre: torch.Tensor,
                contexts: torch.Tensor, negatives: torch.Tensor, lr: float) -> float:
    """One SGD step of skip-gram with negative sampling, in place, with hand-written gradients.

    centres (C,): centre word ids; pairs_per_centre (C,): m_c, how many pairs each centre has;
    contexts (P,): the context ids of all pairs, centre by centre (P = Σ m_c); negatives (C, K): the
    noise words each centre shares among its pairs. The loss is the *sum* over pairs of
    −log σ(u_oᵀv_c) − Σ_k log σ(−u_kᵀv_c), so ``lr`` is a per-pair step like word2vec's alpha.
    Returns the mean loss per pair (before the step).
    """
    _check_update_args(V, U, lr)
    C, K = negatives.shape
    if centres.shape != (C,) or pairs_per_centre.shape != (C,) or contexts.shape != (int(pairs_per_centre.sum()),):
        raise ValueError(f"expected centres ({C},), pairs_per_centre ({C},) and contexts (sum of pairs_per_centre,); got "
                         f"{tuple(centres.shape)}, {tuple(pairs_per_centre.shape)}, {tuple(contexts.shape)}")
    owner = torch.repeat_interleave(torch.arange(C, device=V.device), pairs_per_centre)   # (P,): centre of each pair
    v = V.index_select(0, centres)                                                # (C, D): v_c
    u_o = U.index_select(0, contexts)                                             # (P, D): u_o
    v_p = v.index_select(0, owner)                                                # (P, D): v_c of each pair
    u_k = U.index_select(0, negatives.reshape(-1)).view(C, K, -1)                 # (C, K, D): shared noise
    pos = (u_o * v_p).sum(1)                                                      # (P,): u_oᵀ v_c
    neg = (u_k * v.unsqueeze(1)).sum(2)                                           # (C, K): u_kᵀ v_c
    m = pairs_per_centre.to(V.dtype).unsqueeze(1)                                 # (C, 1)
    loss = -(F.logsigmoid(pos).sum() + (m * F.logsigmoid(-neg)).sum()) / len(contexts)
    # −lr × ∂J/∂score: σ − 1 for the true pair, σ (m times) for a shared noise word
    step_pos = (torch.sigmoid(pos) - 1).mul_(-lr).unsqueeze(1)                    # (P, 1)
    step_neg = torch.sigmoid(neg).mul_(m).mul_(-lr).unsqueeze(2)                  # (C, K, 1)
    step_v = (step_neg * u_k).sum(1)                                              # (C, D), then + the pairs':
    _add_rows(step_v, owner, step_pos * u_o)
    _add_rows(U, contexts, step_pos * v_p)
    _add_rows(U, negatives.reshape(-1), (step_neg * v.unsqueeze(1)).reshape(C * K, -1))
    _add_rows(V, centres, step_v)
    return float(loss)


@torch.no_grad()
def cbow_update(V: torch.Tensor, U: torch.Tensor, contexts: torch.Tensor, centres: torch.Tensor,
                negatives: torch.Tensor, lr: float, pad_id: int = 0) -> float:
    """One SGD step of CBOW with negative sampling, in place, with hand-written gradients.

    contexts (C, W): context ids, ``pad_id`` where a slot is empty; centres (C,); negatives (C, K).
    v̄ = mean of the context vectors; the loss is the sum over examples of
    −log σ(u_cᵀv̄) − Σ_k log σ(−u_kᵀv̄), and each context vector gets ∂J/∂v̄ / (its number of
    contexts), the exact gradient of the mean. Returns the mean loss per example (before the step).
    """
    _check_update_args(V, U, lr)
    C, K = negatives.shape
    if contexts.ndim != 2 or contexts.shape[0] != C or centres.shape != (C,):
        raise ValueError(f"expected contexts (C, W), centres (C,) and negatives (C, K) with one C; got "
                         f"{tuple(contexts.shape)}, {tuple(centres.shape)}, {tuple(negatives.shape)}")
    W, D = contexts.shape[1], V.shape[1]
    mask = (contexts != pad_id).to(V.dtype)                                       # (C, W)
    share = (mask / mask.sum(1, keepdim=True).clamp(min=1)).unsqueeze(2)          # (C, W, 1): 1/count
    vbar = (V.index_select(0, contexts.reshape(-1)).view(C, W, D) * share).sum(1)  # (C, D): v̄
    u_c = U.index_select(0, centres)                                              # (C, D)
    u_k = U.index_select(0, negatives.reshape(-1)).view(C, K, D)                  # (C, K, D)
    pos = (u_c * vbar).sum(1)                                                     # (C,)
    neg = (u_k * vbar.unsqueeze(1)).sum(2)                                        # (C, K)
    loss = -(F.logsigmoid(pos).sum() + F.logsigmoid(-neg).sum()) / C
    step_pos = (torch.sigmoid(pos) - 1).mul_(-lr).unsqueeze(1)                    # (C, 1): −lr ∂J/∂(u_cᵀv̄)
    step_neg = torch.sigmoid(neg).mul_(-lr).unsqueeze(2)                          # (C, K, 1)
    step_vbar = step_pos * u_c + (step_neg * u_k).sum(1)                          # (C, D): −lr ∂J/∂v̄
    _add_rows(U, centres, step_pos * vbar)
    _add_rows(U, negatives.reshape(-1), (step_neg * vbar.unsqueeze(1)).reshape(C * K, D))
    _add_rows(V, contexts.reshape(-1), (share * step_vbar.unsqueeze(1)).reshape(C * W, D))
    return float(loss)


def sentences_to_stream(sentences) -> tuple[np.ndarray, np.ndarray]:
    """A list of sentences (sequences of ids) -> (ids (N,), sentence_of (N,)); a 1-D array is one sentence."""
    if isinstance(sentences, (np.ndarray, torch.Tensor)) and np.ndim(sentences) == 1:
        return _stream(np.asarray(sentences))
    if isinstance(sentences, (str, bytes)) or not hasattr(sentences, "__len__"):
        raise TypeError("sentences must be a list of id sequences or a 1-D id array")
    lengths = np.array([len(s) for s in sentences], dtype=np.int64)
    if not lengths.sum():
        raise ValueError("no words to train on")
    ids = np.fromiter(itertools.chain.from_iterable(sentences), dtype=np.int64, count=int(lengths.sum()))
    return ids, np.repeat(np.arange(len(lengths)), lengths)


def train_sgns(sentences, vocab_size: int, counts: np.ndarray, *, dim: int = 100, window: int = 5,
               negatives: int = 5, epochs: int = 1, lr: float | None = None, batch_size: int = 1024,
               subsample_t: float | None = 1e-3, seed: int = 0, cbow: bool = False, progress: bool = True,
               model: nn.Module | None = None):
    """Train skip-gram (or CBOW) with negative sampling as word2vec does. Returns (model, History).

    sentences: a list of id sequences (windows stay inside a sentence) or one 1-D id stream. Drop
        rare words (``<unk>``) before, as word2vec does. counts (vocab,): word counts for the noise
        distribution and subsampling.
    Each epoch subsamples the text, draws dynamic windows and walks through it in order, ``batch_size``
    centre words per SGD step; lr decays linearly to lr·1e-4 over all epochs (word2vec's schedule; the
    default lr is 0.025 for skip-gram, 0.05 for CBOW, word2vec's defaults). History has one loss per step
    (mean loss per pair, or per CBOW example) and ``pairs``, the number of pairs (examples) trained on.

    A batch sums the updates of its pairs, so a frequent word gets many at once: too large a batch
    overshoots and diverges (4096 did on Tiny Shakespeare; 1024 trained stably for 20 epochs).
    Training stops with a message in ``history.stopped_by`` if the loss stops being finite.
    The tables stay on the model's device (CPU by default: these small gathers gain nothing on a GPU).
    """
    from tqdm.auto import tqdm
    from .device import seed_everything
    from .train import History

    for name, v in (("dim", dim), ("window", window), ("negatives", negatives), ("epochs", epochs),
                    ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    ids, sentence_of = sentences_to_stream(sentences)
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (vocab_size,):
        raise ValueError(f"counts must have one entry per vocabulary id: shape ({vocab_size},), got {counts.shape}")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"ids must lie in 0..{vocab_size - 1}")
    lr = (0.05 if cbow else 0.025) if lr is None else lr
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    if model is None:
        model = CBOW(vocab_size, dim) if cbow else SkipGramNegSampling(vocab_size, dim)
    if not isinstance(model, CBOW if cbow else _TwoTables):
        raise TypeError(f"model must be a {'CBOW' if cbow else 'SkipGramNegSampling'}, got {type(model).__name__}")
    V, U = model.V.weight.data, model.U.weight.data
    device = V.device
    if V.shape[0] != vocab_size:
        raise ValueError(f"the model has {V.shape[0]} words, the vocabulary {vocab_size}")
    noise_cdf = torch.from_numpy(np.cumsum(noise_distribution(counts)))
    keep = keep_probabilities(counts, subsample_t) if subsample_t else None
    # for the progress bar: subsampling keeps about the same number of words each epoch
    expected = float(keep[ids].sum()) if keep is not None else float(len(ids))
    total_steps = max(1, epochs * math.ceil(expected / batch_size))
    history, start, step = History(), time.perf_counter(), 0
    history.pairs = 0                                     # pairs (skip-gram) or examples (CBOW) trained on
    bar = tqdm(total=total_steps, desc="CBOW" if cbow else "skip-gram", disable=not progress, leave=False)
    try:
        for epoch in range(epochs):
            kept = rng.random(len(ids)) < keep[ids] if keep is not None else np.ones(len(ids), bool)
            if cbow:
                ctx, centres = cbow_examples(ids[kept], window, model.pad_id, sentence_of[kept], rng)
            else:
                centres, m, ctx = centre_groups(ids[kept], window, sentence_of[kept], rng)
                first = np.concatenate([[0], np.cumsum(m)])                       # index of each centre's first pair
                m = torch.from_numpy(m).to(device)
            centres, ctx = torch.from_numpy(centres).to(device), torch.from_numpy(ctx).to(device)
            n_centres = len(centres)
            noise = torch.searchsorted(noise_cdf, torch.rand(n_centres * negatives, generator=gen, dtype=torch.float64))
            noise = noise.clamp_(max=vocab_size - 1).view(n_centres, negatives).to(device)
            for s in range(0, n_centres, batch_size):
                e = min(s + batch_size, n_centres)
                step_lr = lr * max(1e-4, 1 - (epoch + s / n_centres) / epochs)   # linear decay over the text
                if cbow:
                    loss = cbow_update(V, U, ctx[s:e], centres[s:e], noise[s:e], step_lr, model.pad_id)
                else:
                    loss = sgns_update(V, U, centres[s:e], m[s:e], ctx[first[s]:first[e]], noise[s:e], step_lr)
                step += 1
                history.pairs += (e - s) if cbow else int(first[e] - first[s])
                history.step.append(step)
                history.loss.append(loss)
                history.seconds.append(time.perf_counter() - start)
                bar.update(1)
                if not math.isfinite(loss):
                    history.stopped_by = f"loss became {loss} at step {step}: try a smaller lr or batch_size"
                    return model, history
    finally:
        bar.close()
    history.stopped_by = f"{epochs} epoch{'' if epochs == 1 else 's'}"
    return model, history


# ----------------------------------------------------------------------------- evaluation

def normalise(E: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    return E / np.maximum(norms, 1e-12)


def nearest(E: np.ndarray, query: np.ndarray, k: int = 5, exclude: Sequence[int] = ()) -> list[tuple[int, float]]:
    """The k rows of E most cosine-similar to ``query`` (a vector), as (index, similarity)."""
    sims = normalise(E) @ (query / max(np.linalg.norm(query), 1e-12))
    sims[list(exclude)] = -np.inf
    top = np.argsort(-sims)[:k]
    return [(int(i), float(sims[i])) for i in top]


def neighbours(E: np.ndarray, vocab, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The k nearest words to ``word`` by cosine similarity (the word itself excluded)."""
    if word not in vocab:
        raise KeyError(f"{word!r} is not in the vocabulary")
    i = vocab.stoi[word]
    return [(vocab.itos[j], s) for j, s in nearest(E, E[i], k, exclude=[i] + list(range(len(vocab.specials))))]


def analogy_accuracy(E: np.ndarray, vocab, questions) -> tuple[float, int, int]:
    """3CosAdd: for a:b :: c:?, answer argmax_w cos(w, b − a + c) over words other than a, b, c.
    Returns (accuracy on the questions whose four words are all in the vocabulary, covered, total)."""
    En = normalise(E)
    covered = [(vocab.stoi[a], vocab.stoi[b], vocab.stoi[c], vocab.stoi[d]) for _, a, b, c, d in questions
               if all(w in vocab for w in (a, b, c, d))]
    if not covered:
        return 0.0, 0, len(questions)
    q = np.array(covered)
    target = En[q[:, 1]] - En[q[:, 0]] + En[q[:, 2]]
    sims = target @ En.T
    rows = np.arange(len(q))
    for col in range(3):
        sims[rows, q[:, col]] = -np.inf
    sims[:, : len(vocab.specials)] = -np.inf
    correct = (sims.argmax(1) == q[:, 3]).mean()
    return float(correct), len(covered), len(questions)


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    for v in np.unique(x):                       # ties get their average rank
        tie = x == v
        ranks[tie] = ranks[tie].mean()
    return ranks


def spearman(a, b) -> float:
    a, b = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    return float(np.corrcoef(a, b)[0, 1])


def similarity_correlation(E: np.ndarray, vocab, pairs) -> tuple[float, int, int]:
    """Spearman correlation between cosine similarities and human scores, on the in-vocabulary pairs.
    Returns (rho, covered, total)."""
    En = normalise(E)
    used = [(vocab.stoi[a], vocab.stoi[b], s) for a, b, s in pairs if a in vocab and b in vocab]
    if len(used) < 3:
        return float("nan"), len(used), len(pairs)
    cos = [float(En[i] @ En[j]) for i, j, _ in used]
    return spearman(cos, [s for _, _, s in used]), len(used), len(pairs)


def pca_2d(E: np.ndarray) -> np.ndarray:
    """Project rows of E on their first two principal components (NumPy SVD)."""
    X = E - E.mean(0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    return X @ vt[:2].T


def counts_for(vocab, ids) -> np.ndarray:
    c = Counter(np.asarray(ids).tolist())
    return np.array([c.get(i, 0) for i in range(len(vocab))], dtype=np.float64)
