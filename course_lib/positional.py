"""Positional encoding, and self-attention without recurrence (the Transformer).

Self-attention has no notion of order: permute the tokens and the outputs are permuted the same way
(it is permutation-EQUIVARIANT). The lecture injects order by adding a position matrix P to the
embeddings X, X + P, with rows = positions i and columns = dimensions:

    p_{i,2j}   = sin(i / 10000^{2j/d}),        p_{i,2j+1} = cos(i / 10000^{2j/d}).

Each pair of columns (2j, 2j+1) is a clock of angular frequency ω_j = 10000^{-2j/d}: fast in the first
columns, slow in the last. Moving k positions turns every clock by the same angle k ω_j, whatever i is,
so the encoding of i + k is a FIXED linear map of the encoding of i (``relative_rotation``):

    [p_{i+k,2j}, p_{i+k,2j+1}] = [[cos kω_j, sin kω_j], [−sin kω_j, cos kω_j]] [p_{i,2j}, p_{i,2j+1}].

The Transformer encoder block (``EncoderBlock``): multi-head self-attention (``course_lib.attention``),
then "add & norm" (a residual connection and a layer normalisation), then a position-wise feed-forward
network, again with add & norm (the original "post-norm" order; ``pre_norm=True`` normalises before each
sub-layer instead, which trains more easily when deep). ``TransformerLM`` is a tiny causal language model
with the course's signature ``forward(idx, targets) -> (logits, loss)``: a causal mask lets position t look
at positions 0..t only. Shapes are batch-first (B, T, C).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .attention import MultiHeadAttention, causal_mask
from .train import token_loss


def sinusoidal_positional_encoding(n: int, d: int, base: float = 10000.0, dtype=torch.float32) -> torch.Tensor:
    """(n, d) matrix P with p_{i,2j} = sin(i / base^{2j/d}), p_{i,2j+1} = cos(i / base^{2j/d}).

    Rows are positions i = 0..n−1, columns dimensions. d must be even (each frequency is a sin/cos
    pair; an odd d would leave a sine without its cosine, so it is rejected rather than silently cut).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (number of positions) must be a positive int, got {n!r}")
    if isinstance(d, bool) or not isinstance(d, int) or d < 2 or d % 2:
        raise ValueError(f"d must be an even int ≥ 2 (columns come in sin/cos pairs), got {d!r}")
    i = torch.arange(n, dtype=torch.float64)[:, None]                     # (n, 1) positions
    two_j = torch.arange(0, d, 2, dtype=torch.float64)                    # 2j = 0, 2, ..., d−2
    angles = i / base ** (two_j / d)                                      # (n, d/2): i · ω_j
    P = torch.empty(n, d, dtype=torch.float64)
    P[:, 0::2] = torch.sin(angles)                                        # even columns: sine
    P[:, 1::2] = torch.cos(angles)                                        # odd columns: cosine, same frequency
    return P.to(dtype)


def frequencies(d: int, base: float = 10000.0) -> torch.Tensor:
    """(d/2,) angular frequencies ω_j = 1 / base^{2j/d} of the column pairs, float64."""
    return 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float64) / d)


def relative_rotation(k: int, d: int, base: float = 10000.0) -> torch.Tensor:
    """(d, d) block-diagonal M_k with P[i + k] = M_k @ P[i] for every i (float64).

    Block j is the 2×2 rotation [[cos kω_j, sin kω_j], [−sin kω_j, cos kω_j]], from
    sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b − sin a sin b. It depends on
    k only, not on i: relative positions are a fixed linear map.
    """
    if d % 2:
        raise ValueError(f"d must be even, got {d}")
    M = torch.zeros(d, d, dtype=torch.float64)
    for j, w in enumerate(frequencies(d, base)):
        c, s = math.cos(k * float(w)), math.sin(k * float(w))
        M[2 * j, 2 * j], M[2 * j, 2 * j + 1] = c, s
        M[2 * j + 1, 2 * j], M[2 * j + 1, 2 * j + 1] = -s, c
    return M


class PositionalEncoding(nn.Module):
    """Adds position information: forward(X (B, T, d)) -> X + P[:T] (B, T, d), then dropout.

    ``learned=False``: P is the fixed sinusoidal matrix (a buffer, no parameters, works for any
    T ≤ max_len). ``learned=True``: P is an (max_len, d) parameter trained with the model (as in
    GPT; it cannot say anything about positions never seen in training), started as N(0, init_std²):
    GPT-2's 0.02 is far below √d-scaled embeddings (entries of size 1), i.e. it starts as "no positions";
    init_std = 1 starts it at the embeddings' scale. P broadcasts over the batch.
    """

    def __init__(self, d: int, max_len: int = 1024, learned: bool = False, dropout: float = 0.0,
                 init_std: float = 0.02):
        super().__init__()
        self.learned = learned
        self.dropout = nn.Dropout(dropout)
        if learned:
            self.P = nn.Parameter(torch.randn(max_len, d) * init_std)
        else:
            self.register_buffer("P", sinusoidal_positional_encoding(max_len, d), persistent=False)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        T = X.shape[1]
        if T > self.P.shape[0]:
            raise ValueError(f"sequence length {T} > max_len {self.P.shape[0]}")
        return self.dropout(X + self.P[:T].to(X.dtype))                 # (B, T, d) + (T, d): same P for every b


class FeedForward(nn.Module):
    """Position-wise feed-forward network: W_2 ReLU(W_1 x + b_1) + b_2, the same MLP at every position.
    (B, T, d) -> (B, T, d), hidden width d_ff (usually 4d)."""

    def __init__(self, d: int, d_ff: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, d_ff), nn.ReLU(), nn.Linear(d_ff, d))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)


class EncoderBlock(nn.Module):
    """One Transformer encoder block: self-attention, add & norm, feed-forward, add & norm.

    forward(X (B, T, d), mask bool broadcastable to (B, T, T), True = may attend) -> (B, T, d).
    Post-norm (the 2017 paper, the lecture's figure): Y = LN(X + MHA(X, X, X)); Z = LN(Y + FFN(Y)).
    ``pre_norm=True``: Y = X + MHA(LN(X)); Z = Y + FFN(LN(Y)) (GPT-2's order). Every operation acts on each
    position alike, so without a mask and without positional encoding the block is permutation-equivariant.
    """

    def __init__(self, d: int, num_heads: int, d_ff: int | None = None, dropout: float = 0.0,
                 pre_norm: bool = False):
        super().__init__()
        self.attention = MultiHeadAttention(d, num_heads)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn = FeedForward(d, d_ff or 4 * d)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    @torch.no_grad()
    def copy_from_torch(self, layer: nn.TransformerEncoderLayer) -> "EncoderBlock":
        """Copy an ``nn.TransformerEncoderLayer``'s weights (ReLU, ``norm_first`` = ``pre_norm``); then the
        outputs are equal (tests/test_positional.py). Its masks use True = blocked, ours True = may attend."""
        self.attention.copy_from_torch(layer.self_attn)
        for mine, theirs in ((self.ffn.net[0], layer.linear1), (self.ffn.net[2], layer.linear2),
                             (self.norm1, layer.norm1), (self.norm2, layer.norm2)):
            mine.weight.copy_(theirs.weight)
            mine.bias.copy_(theirs.bias)
        return self

    def forward(self, X: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.pre_norm:
            H = self.norm1(X)
            Y = X + self.dropout(self.attention(H, H, H, mask))
            return Y + self.dropout(self.ffn(self.norm2(Y)))
        Y = self.norm1(X + self.dropout(self.attention(X, X, X, mask)))  # add & norm
        return self.norm2(Y + self.dropout(self.ffn(Y)))                 # add & norm


class TransformerLM(nn.Module):
    """A tiny causal Transformer language model with the course's signature.

    forward(idx (B, T), targets (B, T) or None) -> (logits (B, T, V), loss)
    Embedding (initialised with std 1/√d and scaled by √d, as in the paper: entries of size 1, like P's, so
    neither drowns the other) + positional encoding -> ``num_layers`` pre-norm ``EncoderBlock``s under a causal mask -> LayerNorm -> linear output.
    The causal mask (``attention.causal_mask``) lets position t attend to 0..t only, so the logits at t
    never depend on tokens after t (tests/test_positional.py). T must be ≤ max_len.
    """

    def __init__(self, vocab_size: int, d: int = 64, num_heads: int = 4, num_layers: int = 2,
                 d_ff: int | None = None, max_len: int = 256, learned_positions: bool = False,
                 dropout: float = 0.0, positions_init_std: float = 0.02):
        super().__init__()
        self.vocab_size, self.d = vocab_size, d
        self.embed = nn.Embedding(vocab_size, d)
        nn.init.normal_(self.embed.weight, std=d ** -0.5)                # √d · embedding: entries of size 1, like P's
        self.positions = PositionalEncoding(d, max_len, learned=learned_positions, dropout=dropout,
                                            init_std=positions_init_std)            # only for a learned P
        self.blocks = nn.ModuleList(EncoderBlock(d, num_heads, d_ff, dropout, pre_norm=True)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab_size)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        if not isinstance(idx, torch.Tensor) or idx.ndim != 2 or idx.dtype != torch.long:
            raise ValueError(f"idx must be a (B, T) LongTensor of token ids, got {getattr(idx, 'shape', idx)}")
        T = idx.shape[1]
        X = self.positions(self.embed(idx) * math.sqrt(self.d))          # (B, T, d)
        mask = causal_mask(T, device=idx.device)                          # (T, T) lower-triangular
        for block in self.blocks:
            X = block(X, mask)
        logits = self.head(self.norm(X))                                  # (B, T, V)
        loss = None
        if targets is not None:
            loss = token_loss(logits, targets, idx)
        return logits, loss


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
