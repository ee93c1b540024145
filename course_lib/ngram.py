"""Count-based n-gram language models (lecture: the chain rule and the Markov approximation).

A language model gives P(w_1..w_T) = Π_t P(w_t | w_1..w_{t-1}). An n-gram model keeps only the
last n-1 words of context: P(w_t | w_{t-n+1}..w_{t-1}), estimated from counts.

Conventions (the same as nltk.lm, so the numbers can be checked against it):

* each sentence is padded with n-1 ``<bos>`` on the left and one ``<eos>`` on the right; ``<eos>``
  is predicted (a model must say when a sentence ends), ``<bos>`` never is;
* counts are kept for every order 1..n of the padded sentence ("everygrams");
* words seen fewer than ``unk_cutoff`` times in training become ``<unk>``; the vocabulary
  size V counts every kept type, ``<bos>``, ``<eos>`` and ``<unk>``;
* log-probabilities are natural logs, and perplexity = exp(mean negative log-probability per
  predicted token). The lecture's 2^J is the same number when J is measured in bits (log base 2).

Models: ``MLE``, ``AddK`` (Laplace is k=1), ``Interpolated`` (fixed λ per order),
``StupidBackoff`` (a score, not a probability), ``KneserNey`` (interpolated, absolute discount).
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable, Sequence

import numpy as np

BOS, EOS, UNK = "<bos>", "<eos>", "<unk>"


def pad(sentence: Sequence[str], n: int) -> list[str]:
    """``[<bos>]*(n-1) + sentence + [<eos>]``."""
    return [BOS] * (n - 1) + list(sentence) + [EOS]


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """All n-grams (as tuples) of a token list: ``ngrams("a b c".split(), 2) -> [('a','b'), ('b','c')]``."""
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def _check_sentences(sentences) -> list[list[str]]:
    if isinstance(sentences, str):
        raise TypeError("expected a list of sentences (each a list of tokens), got one string")
    out = []
    for s in sentences:
        if isinstance(s, str) or not all(isinstance(t, str) for t in s):
            raise TypeError("each sentence must be a list of token strings, e.g. ['the', 'cat', 'is', 'small']")
        out.append(list(s))
    if not out:
        raise ValueError("no sentences given")
    return out


class NGramModel:
    """Counts for orders 1..n and the vocabulary; subclasses define ``prob(word, context)``."""

    name = "n-gram"

    def __init__(self, n: int, unk_cutoff: int = 1):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        if isinstance(unk_cutoff, bool) or not isinstance(unk_cutoff, int) or unk_cutoff < 1:
            raise ValueError(f"unk_cutoff must be an int >= 1, got {unk_cutoff!r}")
        self.n, self.unk_cutoff = n, unk_cutoff
        self.vocab: set[str] = set()
        # counts[k][context] = Counter of next words, for contexts of length k (0 <= k < n)
        self.counts: list[dict[tuple, Counter]] = []
        self.context_totals: list[dict[tuple, int]] = []

    # ------------------------------------------------------------------ fitting
    def fit(self, sentences: Iterable[Sequence[str]]) -> "NGramModel":
        sentences = _check_sentences(sentences)
        padded = [pad(s, self.n) for s in sentences]
        freq = Counter(t for s in padded for t in s)
        self.vocab = {t for t, c in freq.items() if c >= self.unk_cutoff} | {UNK}
        self.counts = [defaultdict(Counter) for _ in range(self.n)]
        for s in padded:
            s = [t if t in self.vocab else UNK for t in s]
            for k in range(1, self.n + 1):               # every order: k-grams of the padded sentence
                table = self.counts[k - 1]
                for i in range(len(s) - k + 1):
                    table[tuple(s[i:i + k - 1])][s[i + k - 1]] += 1
        self.counts = [dict(c) for c in self.counts]
        self.context_totals = [{ctx: sum(c.values()) for ctx, c in table.items()} for table in self.counts]
        self._after_fit()
        return self

    def _after_fit(self) -> None:
        pass

    def _need_fit(self) -> None:
        if not self.counts:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call .fit(sentences) first")

    def lookup(self, token: str) -> str:
        return token if token in self.vocab else UNK

    def count(self, context: tuple, word: str) -> int:
        """c(context, word): how often ``word`` followed ``context`` in training."""
        table = self.counts[len(context)].get(tuple(context))
        return table[word] if table else 0

    # ------------------------------------------------------------------ scoring
    def prob(self, word: str, context: Sequence[str] = ()) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def score(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context) after mapping unknown tokens to <unk> and keeping the last n-1 words."""
        self._need_fit()
        context = tuple(self.lookup(t) for t in context)[-(self.n - 1):] if self.n > 1 else ()
        return self.prob(self.lookup(word), context)

    def events(self, sentence: Sequence[str]) -> list[tuple[tuple, str]]:
        """(context, word) for every predicted token of a sentence (its words and <eos>)."""
        s = [self.lookup(t) for t in pad(sentence, self.n)]
        return [(tuple(s[i - self.n + 1:i]) if self.n > 1 else (), s[i]) for i in range(self.n - 1, len(s))]

    def sentence_logprob(self, sentence: Sequence[str]) -> float:
        """ln P(sentence, <eos>) = Σ_t ln P(w_t | previous n-1 words); -inf if any factor is 0."""
        self._need_fit()
        total = 0.0
        for ctx, w in self.events(sentence):
            p = self.prob(w, ctx)
            if p <= 0.0:
                return -math.inf
            total += math.log(p)
        return total

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """exp(-(1/N) Σ ln P) over all N predicted tokens of ``sentences`` (inf if one is impossible)."""
        sentences = _check_sentences(sentences)
        total, count = 0.0, 0
        for s in sentences:
            lp = self.sentence_logprob(s)
            if lp == -math.inf:
                return math.inf
            total += lp
            count += len(s) + 1
        return math.exp(-total / count)

    def distribution(self, context: Sequence[str] = ()) -> tuple[list[str], np.ndarray]:
        """Every token of the vocabulary and its probability given ``context`` (sums to 1).

        As in nltk, ``<bos>`` is part of V, so a smoothed model gives it a little probability
        as a next token; ``sample`` never draws it.
        """
        self._need_fit()
        context = tuple(self.lookup(t) for t in context)[-(self.n - 1):] if self.n > 1 else ()
        words = sorted(self.vocab)
        p = np.array([self.prob(w, context) for w in words])
        return words, p

    def sample(self, rng: np.random.Generator, max_len: int = 30) -> list[str]:
        """Generate one sentence: draw each token from P(. | last n-1 tokens) until <eos>."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy Generator, e.g. np.random.default_rng(0)")
        context = [BOS] * (self.n - 1)
        out: list[str] = []
        for _ in range(max_len):
            words, p = self.distribution(context)
            p = np.where(np.array(words) == BOS, 0.0, p)   # <bos> only starts a sentence
            p = p / p.sum()
            w = words[int(rng.choice(len(words), p=p))]
            if w == EOS:
                break
            out.append(w)
            context = (context + [w])[-(self.n - 1):] if self.n > 1 else []
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, vocab={len(self.vocab)})"


class MLE(NGramModel):
    """P(w | ctx) = c(ctx, w) / c(ctx): the maximum-likelihood estimate (zero for unseen n-grams)."""

    name = "MLE"

    def prob(self, word, context=()):
        total = self.context_totals[len(context)].get(tuple(context), 0)
        return self.count(context, word) / total if total else 0.0

    def distribution(self, context=()):
        # fast path for sampling: only the words seen after this context have probability > 0
        self._need_fit()
        context = tuple(self.lookup(t) for t in context)[-(self.n - 1):] if self.n > 1 else ()
        table = self.counts[len(context)].get(context)
        if not table:
            return super().distribution(context)
        words = sorted(table)
        p = np.array([table[w] for w in words], dtype=float)
        return words, p / p.sum()


class AddK(NGramModel):
    """P(w | ctx) = (c(ctx, w) + k) / (c(ctx) + k V). k = 1 is Laplace smoothing."""

    def __init__(self, n: int, k: float = 1.0, unk_cutoff: int = 1):
        super().__init__(n, unk_cutoff)
        if not k > 0:
            raise ValueError(f"k must be > 0, got {k!r}")
        self.k = float(k)
        self.name = "Laplace" if k == 1 else f"add-{k:g}"

    def prob(self, word, context=()):
        total = self.context_totals[len(context)].get(tuple(context), 0)
        return (self.count(context, word) + self.k) / (total + self.k * len(self.vocab))


class Interpolated(NGramModel):
    """P(w | ctx) = Σ_j λ_j P_MLE(w | last j words of ctx), with λ summing to 1 (λ_0 for unigrams).

    A final λ-share goes to the uniform 1/V so that no token has probability 0.
    """

    name = "interpolated"

    def __init__(self, n: int, lambdas: Sequence[float] | None = None, unk_cutoff: int = 1):
        super().__init__(n, unk_cutoff)
        if lambdas is None:  # more weight on longer contexts, a little on uniform
            raw = [2.0 ** j for j in range(n)] + [0.1]
            lambdas = [x / sum(raw) for x in raw]
        lambdas = [float(x) for x in lambdas]
        if len(lambdas) != n + 1 or any(x < 0 for x in lambdas) or not math.isclose(sum(lambdas), 1.0):
            raise ValueError(f"lambdas must be n+1 = {n + 1} non-negative weights summing to 1 "
                             "(unigram, bigram, ..., n-gram, uniform)")
        self.lambdas = lambdas

    def prob(self, word, context=()):
        context = tuple(context)
        p, carry = 0.0, 0.0
        for j in range(len(context), -1, -1):      # longest context first, down to the unigram
            ctx = context[len(context) - j:]
            total = self.context_totals[j].get(ctx, 0)
            weight = self.lambdas[j] + carry
            if total:
                p += weight * self.count(ctx, word) / total
                carry = 0.0
            else:                                   # unseen context: its weight goes to the next order
                carry = weight
        return p + (self.lambdas[-1] + carry) / len(self.vocab)


class StupidBackoff(NGramModel):
    """S(w | ctx) = c(ctx, w)/c(ctx) if seen, else α S(w | shorter ctx) (Brants et al. 2007).

    Fast and good in practice at web scale, but a *score*: it does not sum to 1, so it has no
    true perplexity. ``prob`` returns the score; compare it by ranking, not by perplexity.
    """

    name = "stupid backoff"

    def __init__(self, n: int, alpha: float = 0.4, unk_cutoff: int = 1):
        super().__init__(n, unk_cutoff)
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        self.alpha = alpha

    def prob(self, word, context=()):
        context = tuple(context)
        factor = 1.0
        while True:
            c = self.count(context, word)
            if c > 0:
                return factor * c / self.context_totals[len(context)][context]
            if not context:
                return 0.0
            context, factor = context[1:], factor * self.alpha


class KneserNey(NGramModel):
    """Interpolated Kneser-Ney smoothing with absolute discount d.

    Highest order:  P(w | ctx) = max(c(ctx w) - d, 0) / c(ctx) + γ(ctx) P_KN(w | ctx[1:])
    Lower orders use *continuation counts* N1+(• ctx w), the number of distinct words seen
    before (ctx w), instead of raw counts: "Francisco" is frequent but only after "San", so it
    should be a poor guess after an unseen context. γ(ctx) = d · |{w : c(ctx w) > 0}| / total
    hands the discounted mass to the lower order, where for lower orders the count of distinct
    next words is taken from the continuation counts too, so that every P(. | ctx) sums to 1.
    An unseen context defers entirely to the lower order.

    ``nltk_compatible=True`` reproduces nltk.lm's KneserNeyInterpolated (3.10) exactly: there,
    γ of a lower order counts the distinct next words in the *raw* counts. At a sentence start
    the two differ (``<bos>`` follows ``<bos>`` in raw counts but has no continuation), and
    nltk's probabilities after ``<bos> <bos>`` sum to more than 1 (tests/test_ngram.py shows it).
    """

    name = "Kneser-Ney"

    def __init__(self, n: int, discount: float = 0.75, unk_cutoff: int = 1, nltk_compatible: bool = False):
        super().__init__(n, unk_cutoff)
        self.nltk_compatible = nltk_compatible
        if not 0 < discount < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount!r}")
        if n < 2:
            raise ValueError("Kneser-Ney needs n >= 2 (it is defined by lower-order continuation counts)")
        self.discount = discount

    def _after_fit(self) -> None:
        # continuation[k][(ctx, w)] = N1+(• ctx w) for len(ctx) = k; cont_total[k][ctx] = Σ_w of it
        self.continuation = [Counter() for _ in range(self.n - 1)]
        self.cont_total = [Counter() for _ in range(self.n - 1)]
        self.cont_types = [Counter() for _ in range(self.n - 1)]   # |{w : N1+(• ctx w) > 0}|
        for k in range(1, self.n):                   # (k+1)-gram types (v, ctx..., w) with len(ctx) = k-1
            for full_ctx, nexts in self.counts[k].items():
                ctx = full_ctx[1:]
                for w in nexts:
                    if self.continuation[k - 1][ctx + (w,)] == 0:
                        self.cont_types[k - 1][ctx] += 1
                    self.continuation[k - 1][ctx + (w,)] += 1
                    self.cont_total[k - 1][ctx] += 1
        self.distinct_next = [{ctx: len(c) for ctx, c in table.items()} for table in self.counts]

    def prob(self, word, context=()):
        context = tuple(context)
        if not context:
            total = self.cont_total[0].get((), 0)
            return self.continuation[0][(word,)] / total if total else 0.0
        k = len(context)
        if context not in self.counts[k]:
            return self.prob(word, context[1:])
        if k + 1 == self.n:
            c, total, types = self.count(context, word), self.context_totals[k][context], self.distinct_next[k][context]
        else:
            c, total = self.continuation[k][context + (word,)], self.cont_total[k][context]
            types = self.distinct_next[k][context] if self.nltk_compatible else self.cont_types[k][context]
            if total == 0:                          # context seen only at sentence starts
                return self.prob(word, context[1:])
        alpha = max(c - self.discount, 0.0) / total
        gamma = self.discount * types / total
        return alpha + gamma * self.prob(word, context[1:])


def coverage_table(train: Sequence[Sequence[str]], heldout: Sequence[Sequence[str]], orders=range(1, 6)
                   ) -> list[dict]:
    """For each n: distinct n-grams stored, and the share of held-out n-grams never seen in training.

    Shows the lecture's two problems at once: storage grows with n, and so does sparsity.
    """
    rows = []
    for n in orders:
        seen = Counter(g for s in train for g in ngrams(pad(s, n), n))
        test = [g for s in heldout for g in ngrams(pad(s, n), n)]
        unseen = sum(g not in seen for g in test)
        rows.append({"n": n, "stored n-grams": len(seen), "held-out n-grams": len(test),
                     "unseen share": unseen / max(len(test), 1)})
    return rows
