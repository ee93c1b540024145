"""Word embeddings: skip-gram and CBOW, with the full softmax or negative sampling (word2vec).

Each word w has two vectors: v_w when it is the centre word and u_w when it is a context word
(the lecture's notation). Skip-gram models P(o | c) = softmax over w of u_wᵀ v_c; CBOW predicts the
centre from the *average* of its context vectors, v̄ = (1/C) Σ v_context. The full softmax costs
O(V) per pair; negative sampling replaces it by one positive and k noise words drawn from the
unigram distribution raised to 3/4:

    J = −log σ(u_oᵀ v_c) − Σ_{k=1}^{K} log σ(−u_kᵀ v_c)

Frequent words ("the", ",") are randomly dropped before making pairs (subsampling, keep
probability sqrt(t / f(w)) capped at 1), which speeds training and helps rare words.
"""
from __future__ import annotations

import math
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


def pair_arrays(ids: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """All (centre, context) id pairs of a stream, vectorised: two int64 arrays of equal length."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-D stream, got shape {ids.shape}")
    centres, contexts = [], []
    for offset in range(1, window + 1):
        centres += [ids[:-offset], ids[offset:]]
        contexts += [ids[offset:], ids[:-offset]]
    return np.concatenate(centres), np.concatenate(contexts)


def cbow_examples(ids: np.ndarray, window: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(contexts (N, 2·window) padded with ``pad_id`` at the edges, centres (N,)) for CBOW."""
    ids = np.asarray(ids, dtype=np.int64)
    padded = np.concatenate([np.full(window, pad_id), ids, np.full(window, pad_id)])
    offsets = [o for o in range(-window, window + 1) if o != 0]
    ctx = np.stack([padded[window + o: window + o + len(ids)] for o in offsets], axis=1)
    return ctx, ids


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P_noise(w) ∝ count(w)^0.75: flatter than the unigram distribution, so rare words are drawn
    as negatives more often than their frequency alone would give."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() == 0:
        raise ValueError("counts must be a 1-D array of non-negative counts, not all zero")
    p = counts ** power
    return p / p.sum()


def keep_probabilities(counts: np.ndarray, t: float = 1e-4) -> np.ndarray:
    """Subsampling: keep each occurrence of w with probability min(1, sqrt(t / f(w)))."""
    counts = np.asarray(counts, dtype=np.float64)
    f = counts / counts.sum()
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, np.sqrt(t / f))


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


# ----------------------------------------------------------------------------- training

def train_sgns(ids: np.ndarray, vocab_size: int, counts: np.ndarray, *, dim: int = 64, window: int = 3,
               negatives: int = 5, epochs: int = 1, batch_size: int = 4096, lr: float = 3e-3,
               subsample_t: float | None = 1e-3, seed: int = 0, progress: bool = True, model=None,
               cbow: bool = False):
    """Train skip-gram (or CBOW) with negative sampling on a stream of ids. Returns (model, History).

    Dense Adam on mini-batches of pairs: measured faster than sparse updates at this vocabulary
    size (../shared/notes/performance-anchors.md), and a good fit to the course's one training loop.
    """
    from .device import seed_everything
    from .train import train

    seed_everything(seed)
    rng = np.random.default_rng(seed)
    noise = torch.tensor(noise_distribution(counts), dtype=torch.float)
    if model is None:
        model = CBOW(vocab_size, dim) if cbow else SkipGramNegSampling(vocab_size, dim)
    stream = subsample(ids, counts, subsample_t, rng) if subsample_t else np.asarray(ids)
    if cbow:
        ctx, centres = cbow_examples(stream, window, pad_id=0)
        first, second = torch.from_numpy(ctx), torch.from_numpy(centres)
    else:
        c, o = pair_arrays(stream, window)
        first, second = torch.from_numpy(c), torch.from_numpy(o)
    n = len(second)
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = math.ceil(n / batch_size)

    def batches():
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                neg = torch.multinomial(noise, len(idx) * negatives, replacement=True, generator=gen)
                yield first[idx], second[idx], neg.view(len(idx), negatives)

    history = train(model, batches(), steps=steps_per_epoch * epochs, lr=lr, device="cpu", progress=progress,
                    desc="CBOW" if cbow else "skip-gram")
    history.pairs = n * epochs
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
