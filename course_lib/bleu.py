"""BLEU (Papineni et al. 2002): how many of a translation's n-grams appear in the references.

For a corpus of hypotheses (token lists) with one or more references each, and n = 1..N (N = 4):

    p_n  = Σ_sentences Σ_ngrams min(count in hypothesis, max count in any one reference)
           / Σ_sentences (number of n-grams in the hypothesis)            (clipped n-gram precision)
    BP   = 1 if c ≥ r else exp(1 − r / c)                                 (brevity penalty)
    BLEU = 100 · BP · exp( (1/N) Σ_n log p_n )                            (geometric mean, on 0–100)

c is the total hypothesis length and r the total *closest* reference length (per sentence the
reference whose length is nearest the hypothesis's; on a tie the shorter one). Clipping stops
"the the the the" from scoring; the brevity penalty stops a one-word output of sure words from
scoring (precision alone rewards saying little).

A p_n of 0 makes the geometric mean 0. ``smooth`` chooses what to do then, as in sacrebleu
(Chen & Cherry 2014): "none" (BLEU is 0), "exp" (the k-th zero precision becomes 1 / (2^k · total_n),
sacrebleu's default), "floor" (0 counts become ``smooth_value`` = 0.1), "add-k" (add ``smooth_value``
= 1 to the counts and totals of n ≥ 2). ``effective_order=True`` averages only over the orders the
hypothesis has n-grams for (sacrebleu does this for sentence BLEU, so short sentences are not 0).
With these choices the scores equal sacrebleu 2.6's ``corpus_bleu`` / ``sentence_bleu`` with
``tokenize="none"`` on space-joined tokens to 1e-9 (tests/test_bleu.py).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

SMOOTH_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}
_LOG_ZERO = -9999999999.0   # sacrebleu's log(0): makes exp(mean) exactly 0.0


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams (tuples of n tokens) of ``tokens``."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def closest_ref_length(hyp_len: int, ref_lens: Sequence[int]) -> int:
    """The reference length nearest ``hyp_len`` (ties: the shorter reference)."""
    return min(ref_lens, key=lambda r: (abs(r - hyp_len), r))


@dataclass
class BLEUStats:
    """The sufficient statistics of BLEU: matches and totals per order, lengths. They add up over sentences."""
    correct: list
    total: list
    hyp_len: int
    ref_len: int

    def __add__(self, other: "BLEUStats") -> "BLEUStats":
        return BLEUStats([a + b for a, b in zip(self.correct, other.correct)],
                         [a + b for a, b in zip(self.total, other.total)],
                         self.hyp_len + other.hyp_len, self.ref_len + other.ref_len)


def sentence_stats(hypothesis: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4) -> BLEUStats:
    """Clipped n-gram matches and totals (n = 1..max_n) of one hypothesis against its references."""
    if isinstance(hypothesis, str) or (references and isinstance(references[0], str)):
        raise TypeError("give token lists: hypothesis a list of tokens, references a list of token lists")
    if not references:
        raise ValueError("each hypothesis needs at least one reference")
    correct, total = [0] * max_n, [0] * max_n
    for n in range(1, max_n + 1):
        hyp = ngrams(hypothesis, n)
        best_ref: Counter = Counter()
        for ref in references:                  # clip by the largest count in any ONE reference
            best_ref |= ngrams(ref, n)          # | keeps the maximum of the two counts
        correct[n - 1] = sum(min(c, best_ref[g]) for g, c in hyp.items())
        total[n - 1] = sum(hyp.values())
    return BLEUStats(correct, total, len(hypothesis), closest_ref_length(len(hypothesis), [len(r) for r in references]))


def brevity_penalty(hyp_len: int, ref_len: int) -> float:
    """1 when the hypothesis is at least as long as the reference, else exp(1 − r/c) (0 for c = 0)."""
    if hyp_len >= ref_len:
        return 1.0
    return math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0


def bleu_from_stats(stats: BLEUStats, smooth: str = "exp", smooth_value: float | None = None,
                    effective_order: bool = False) -> float:
    """BLEU on 0–100 from the summed statistics (see the module docstring for ``smooth``)."""
    if smooth not in SMOOTH_DEFAULTS:
        raise ValueError(f"smooth must be one of {sorted(SMOOTH_DEFAULTS)}, got {smooth!r}")
    if smooth_value is None:
        smooth_value = SMOOTH_DEFAULTS[smooth]
    max_n = len(stats.correct)
    bp = brevity_penalty(stats.hyp_len, stats.ref_len)
    if not any(stats.correct):
        return 0.0                              # not one matching word: 0 whatever the smoothing
    correct, total = list(stats.correct), list(stats.total)
    precisions = [0.0] * max_n
    doubling, order = 1.0, max_n
    for n in range(1, max_n + 1):
        if smooth == "add-k" and n > 1:
            correct[n - 1] += smooth_value
            total[n - 1] += smooth_value
        if total[n - 1] == 0:                   # the hypothesis is shorter than n
            break
        if effective_order:
            order = n
        if correct[n - 1] == 0:
            if smooth == "exp":
                doubling *= 2
                precisions[n - 1] = 100.0 / (doubling * total[n - 1])
            elif smooth == "floor":
                precisions[n - 1] = 100.0 * smooth_value / total[n - 1]
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    logs = [math.log(p) if p > 0 else _LOG_ZERO for p in precisions[:order]]
    return bp * math.exp(sum(logs) / order)


def corpus_bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[Sequence[str]]],
                max_n: int = 4, smooth: str = "exp", smooth_value: float | None = None,
                effective_order: bool = False) -> float:
    """Corpus BLEU (0–100): statistics summed over all sentences first, then one score.

    hypotheses: one token list per sentence; references: per sentence, a list of reference token lists.
    This is not the mean of sentence BLEUs (a corpus score weighs long sentences more).
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists")
    if not hypotheses:
        raise ValueError("corpus_bleu needs at least one sentence")
    stats = sentence_stats(hypotheses[0], references[0], max_n)
    for h, r in zip(hypotheses[1:], references[1:]):
        stats = stats + sentence_stats(h, r, max_n)
    return bleu_from_stats(stats, smooth, smooth_value, effective_order)


def sentence_bleu(hypothesis: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4,
                  smooth: str = "exp", smooth_value: float | None = None, effective_order: bool = True) -> float:
    """BLEU (0–100) of one sentence; by default smoothed with effective order, as sacrebleu's sentence_bleu."""
    return bleu_from_stats(sentence_stats(hypothesis, references, max_n), smooth, smooth_value, effective_order)
