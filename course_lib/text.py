"""Turning text into the integer tensors a language model reads.

* ``Vocab``: tokens <-> ids, most frequent first, with the special tokens
  ``<pad>`` (id 0), ``<unk>`` (1), ``<bos>`` (2) and ``<eos>`` (3).
* ``char_tokenize`` / ``word_tokenize``: the two granularities the lecture compares.
* ``lm_sequential_batches`` / ``lm_random_batches``: (inputs, targets) windows of one long
  token stream, targets shifted by one step (predict token t+1 from tokens <= t).
* ``pad_batch`` / ``length_mask``: variable-length sequences in one ``(B, T)`` tensor.

All tensors are batch-first: ``(B, T)``.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)


class Vocab:
    """A frequency-ordered vocabulary.

    ``Vocab(tokens, min_freq=1)`` counts ``tokens`` (a flat iterable of strings, or an
    iterable of token lists), keeps those seen at least ``min_freq`` times, most frequent
    first (ties broken alphabetically so the order is reproducible), after the four
    special tokens. Unknown tokens map to ``<unk>``.
    """

    def __init__(self, tokens: Iterable, min_freq: int = 1, specials: Sequence[str] = SPECIALS):
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq must be an int >= 1, got {min_freq!r}")
        if isinstance(tokens, str):
            raise TypeError("Vocab expects a sequence of tokens, not one string: tokenise first "
                            "(char_tokenize(text) or word_tokenize(text))")
        counts: Counter = Counter()
        for item in tokens:
            if isinstance(item, str):
                counts[item] += 1
            elif isinstance(item, (list, tuple)):
                for tok in item:
                    if not isinstance(tok, str):
                        raise TypeError(f"tokens must be strings, got {type(tok).__name__}")
                    counts[tok] += 1
            else:
                raise TypeError(f"tokens must be strings or lists of strings, got {type(item).__name__}")
        if not counts:
            raise ValueError("cannot build a Vocab from an empty corpus (no tokens given)")
        self.counts = counts
        self.specials = tuple(specials)
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in self.specials),
                      key=lambda t: (-counts[t], t))
        self.itos: list[str] = list(self.specials) + kept
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        self.unk_id = self.stoi.get(UNK)
        self.pad_id = self.stoi.get(PAD)
        self.bos_id = self.stoi.get(BOS)
        self.eos_id = self.stoi.get(EOS)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[len(self.specials):len(self.specials) + 5])
        return f"Vocab(size={len(self)}, most frequent: {head}, ...)"

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Token strings -> ids; tokens not in the vocabulary become ``<unk>``."""
        if isinstance(tokens, str):
            raise TypeError("encode expects a list of tokens, not a string: tokenise it first")
        if self.unk_id is None:
            missing = [t for t in tokens if t not in self.stoi]
            if missing:
                raise KeyError(f"tokens not in vocabulary and no <unk>: {missing[:5]}")
        return [self.stoi.get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int], skip_specials: bool = False) -> list[str]:
        """Ids -> token strings (a 1-D tensor or array works too)."""
        if isinstance(ids, (torch.Tensor, np.ndarray)):
            if ids.ndim != 1:
                raise ValueError(f"decode expects a 1-D sequence of ids, got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            if not 0 <= int(i) < len(self.itos):
                raise ValueError(f"id {i} is outside the vocabulary [0, {len(self.itos)})")
            tok = self.itos[int(i)]
            if not (skip_specials and tok in self.specials):
                out.append(tok)
        return out


def char_tokenize(text: str) -> list[str]:
    """Every character is a token (spaces and newlines included)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return list(text)


_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[^\sa-z0-9]")


def word_tokenize(text: str, lower: bool = True) -> list[str]:
    """Words, numbers and single punctuation marks: ``"Hello, world!" -> ['hello', ',', 'world', '!']``.

    Apostrophes inside words are kept (``"o'er"``). Lower-cased by default, which
    halves the vocabulary of a small corpus.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if lower:
        return _WORD.findall(text.lower())
    return [m.group(0) for m in re.finditer(r"[A-Za-z]+(?:'[A-Za-z]+)?|[0-9]+|[^\sA-Za-z0-9]", text)]


def _as_id_tensor(ids) -> torch.Tensor:
    if isinstance(ids, torch.Tensor):
        t = ids
    elif isinstance(ids, np.ndarray):
        t = torch.from_numpy(ids)
    elif isinstance(ids, (list, tuple)):
        t = torch.tensor(ids)
    else:
        raise TypeError(f"token ids must be a list, numpy array or tensor, got {type(ids).__name__}")
    if t.ndim != 1:
        raise ValueError(f"token ids must be one 1-D stream, got shape {tuple(t.shape)}")
    if t.dtype.is_floating_point or t.dtype == torch.bool or t.dtype.is_complex:
        raise TypeError(f"token ids must be integers, got dtype {t.dtype}")
    return t.long()


def lm_sequential_batches(ids, batch_size: int, seq_len: int, offset: int = 0
                          ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Sequential partitioning: the stream is cut into ``batch_size`` long rows, and batch k
    holds the k-th window of every row. So row b of batch k+1 continues exactly where row b
    of batch k ended, and a model may carry its hidden state h_T from one batch into the next
    (detached: truncated BPTT).

    Yields ``x, y`` of shape ``(B, T)`` with ``y[:, t] == stream[next position]``. ``offset``
    (e.g. random in [0, seq_len) each epoch) shifts where the windows start.
    """
    t = _as_id_tensor(ids)
    _check_batching(len(t), batch_size, seq_len, offset)
    usable = ((len(t) - offset - 1) // batch_size) * batch_size
    xs = t[offset: offset + usable].view(batch_size, -1)          # (B, L)
    ys = t[offset + 1: offset + 1 + usable].view(batch_size, -1)  # (B, L)
    for start in range(0, xs.shape[1] - seq_len + 1, seq_len):
        yield xs[:, start:start + seq_len], ys[:, start:start + seq_len]


def lm_random_batches(ids, batch_size: int, seq_len: int, generator: torch.Generator | None = None
                      ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Random sampling: every batch holds ``batch_size`` windows at random positions
    (independent, so no hidden state is carried). An endless iterator; seed ``generator``
    for repeatable batches.
    """
    t = _as_id_tensor(ids)
    _check_batching(len(t), 1, seq_len, 0)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    high = len(t) - seq_len  # last start whose target window still fits
    while True:
        starts = torch.randint(0, high, (batch_size,), generator=generator)
        idx = starts[:, None] + torch.arange(seq_len)[None, :]   # (B, T)
        yield t[idx], t[idx + 1]


def _check_batching(n: int, batch_size: int, seq_len: int, offset: int) -> None:
    for name, v in (("batch_size", batch_size), ("seq_len", seq_len)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an int >= 0, got {offset!r}")
    need = batch_size * seq_len + offset + 1
    if n < need:
        raise ValueError(f"the token stream has {n} tokens but batch_size={batch_size} x seq_len={seq_len} "
                         f"(+ offset {offset} + 1 target) needs at least {need}; use a smaller batch or more text")


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = 0, max_len: int | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad variable-length id sequences into one ``(B, T)`` LongTensor.

    Returns ``(padded, lengths)``; sequences longer than ``max_len`` are cut.
    """
    if isinstance(seqs, (str, torch.Tensor)) or not hasattr(seqs, "__len__"):
        raise TypeError("pad_batch expects a list of id sequences")
    if len(seqs) == 0:
        raise ValueError("pad_batch got no sequences")
    rows = [_as_id_tensor(list(s) if not isinstance(s, (torch.Tensor, np.ndarray)) else s) if len(s) else
            torch.zeros(0, dtype=torch.long) for s in seqs]
    longest = max(len(r) for r in rows)
    T = longest if max_len is None else int(max_len)
    if T < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len!r}")
    out = torch.full((len(rows), T), int(pad_id), dtype=torch.long)
    lengths = torch.tensor([min(len(r), T) for r in rows], dtype=torch.long)
    for b, r in enumerate(rows):
        out[b, : lengths[b]] = r[:T]
    return out, lengths


def length_mask(lengths, max_len: int | None = None) -> torch.Tensor:
    """``(B, T)`` bool mask: ``True`` at real tokens, ``False`` at padding."""
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or lengths.dtype.is_floating_point:
        raise ValueError(f"lengths must be a 1-D integer tensor, got shape {tuple(lengths.shape)} dtype {lengths.dtype}")
    if (lengths < 0).any():
        raise ValueError("lengths must be >= 0")
    T = int(lengths.max()) if max_len is None else int(max_len)
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]
