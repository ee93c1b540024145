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
from collections import Counter
from collections.abc import Mapping
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


class _Table:
    """The distinct k-grams of one order, as NumPy arrays (row i is one k-gram type).

    A k-gram is stored as ``code = prefix * V + word``, where ``prefix`` is the row of its first
    k-1 tokens in the table of order k-1 (0 for unigrams) and V the vocabulary size; ``codes`` is
    sorted, so a lookup is one ``np.searchsorted``. Counting a corpus is then ``np.unique`` over
    an array of codes, one per position, instead of a Python loop over tuples.
    """

    def __init__(self, codes: np.ndarray, counts: np.ndarray, V: int, n_prefixes: int):
        self.codes, self.counts = codes, counts                 # (R,) int64 each
        self.prefix, self.word = codes // V, codes % V          # (R,): row in the order below, token id
        # per prefix row of the order below: c(prefix) as a context, and |{w : c(prefix w) > 0}|
        self.totals = np.bincount(self.prefix, weights=counts, minlength=n_prefixes).astype(np.int64)
        self.distinct = np.bincount(self.prefix, minlength=n_prefixes)

    def find(self, prefix: np.ndarray, word: np.ndarray, V: int) -> np.ndarray:
        """Row of each k-gram (prefix row, word id), or -1 where it was never seen."""
        ok = (prefix >= 0) & (word >= 0)
        code = np.where(ok, prefix * V + word, 0)
        i = np.minimum(np.searchsorted(self.codes, code), len(self.codes) - 1)
        return np.where(ok & (self.codes[i] == code), i, -1)


class _ContextView(Mapping):
    """Read-only ``{context tuple: value}`` view of order k (e.g. ``context_totals[k]``), built on the tables."""

    def __init__(self, model: "NGramModel", k: int, what: str):
        self.model, self.k, self.what = model, k, what

    def _value(self, row: int):
        table = self.model._tables[self.k]
        if self.what == "totals":
            return int(table.totals[row])
        lo, hi = np.searchsorted(table.prefix, [row, row + 1])
        return {self.model.itos[w]: int(c) for w, c in zip(table.word[lo:hi], table.counts[lo:hi])}

    def _rows(self) -> np.ndarray:
        return np.flatnonzero(self.model._tables[self.k].totals > 0)

    def __getitem__(self, context):
        row = self.model._context_row(tuple(context)) if len(context) == self.k else -1
        if row < 0 or self.model._tables[self.k].totals[row] == 0:
            raise KeyError(context)
        return self._value(row)

    def __iter__(self):
        return (self.model._decode(self.k, int(r)) for r in self._rows())

    def __len__(self):
        return len(self._rows())

    def values(self):
        return [self._value(int(r)) for r in self._rows()]


class NGramModel:
    """Counts for orders 1..n and the vocabulary; subclasses define ``_probs`` (vectorised P(w | ctx)).

    ``prob(word, context)`` is one probability; ``perplexity`` scores every held-out token in one
    vectorised pass. ``counts[k][context]`` (a ``{word: count}``) and ``context_totals[k][context]``
    read the count tables for contexts of length k.
    """

    name = "n-gram"

    def __init__(self, n: int, unk_cutoff: int = 1):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        if isinstance(unk_cutoff, bool) or not isinstance(unk_cutoff, int) or unk_cutoff < 1:
            raise ValueError(f"unk_cutoff must be an int >= 1, got {unk_cutoff!r}")
        self.n, self.unk_cutoff = n, unk_cutoff
        self.vocab: set[str] = set()
        self.itos: list[str] = []               # token id -> token, sorted (so id order is string order)
        self.stoi: dict[str, int] = {}
        self._tables: list[_Table] = []         # _tables[k-1]: the k-grams, k = 1..n

    # ------------------------------------------------------------------ fitting
    def _padded_ids(self, sentences: list[list[str]], ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One flat array of the padded sentences' token ids, and which sentence each position is in."""
        n, S = self.n, len(sentences)
        lens = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=S)
        plen = lens + n                                    # n-1 <bos>, the words, one <eos>
        ends = np.cumsum(plen)
        a = np.full(int(ends[-1]), self.stoi.get(BOS, self.stoi[UNK]), dtype=np.int64)
        a[ends - 1] = self.stoi.get(EOS, self.stoi[UNK])
        word_pos = np.repeat(ends - plen + n - 1 - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
        a[word_pos] = ids
        return a, np.repeat(np.arange(S), plen)

    def fit(self, sentences: Iterable[Sequence[str]]) -> "NGramModel":
        sentences = _check_sentences(sentences)
        flat = [t for s in sentences for t in s]
        freq = Counter(flat)
        raw_types = list(freq)
        freq[BOS] += (self.n - 1) * len(sentences)
        freq[EOS] += len(sentences)
        self.vocab = {t for t, c in freq.items() if c >= self.unk_cutoff} | {UNK}
        self.itos = sorted(self.vocab)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        unk = self.stoi[UNK]
        raw_index = {t: i for i, t in enumerate(raw_types)}
        to_vocab = np.array([self.stoi.get(t, unk) for t in raw_types] or [unk], dtype=np.int64)
        ids = to_vocab[np.fromiter((raw_index[t] for t in flat), dtype=np.int64, count=len(flat))]
        a, sid = self._padded_ids(sentences, ids)
        V, L = len(self.itos), len(a)
        self._tables, self._position_rows = [], []
        rows_below = np.zeros(L, dtype=np.int64)            # row of the (k-1)-gram starting at each position
        for k in range(1, self.n + 1):                     # every order: k-grams of the padded sentences
            m = L - k + 1
            valid = sid[:m] == sid[k - 1:]                   # the k-gram lies inside one sentence
            codes = rows_below[:m][valid] * V + a[k - 1:][valid]
            uniq, inv, cnt = np.unique(codes, return_inverse=True, return_counts=True)
            self._tables.append(_Table(uniq, cnt, V, len(self._tables[-1].codes) if k > 1 else 1))
            rows_below = np.full(m, -1, dtype=np.int64)
            rows_below[valid] = inv.reshape(-1)
            self._position_rows.append(rows_below)
        self._after_fit()
        del self._position_rows
        return self

    @property
    def counts(self) -> list[Mapping]:
        """counts[k][context] = {word: c(context, word)} for contexts of length k (0 <= k < n)."""
        return [_ContextView(self, k, "counts") for k in range(len(self._tables))]

    @property
    def context_totals(self) -> list[Mapping]:
        """context_totals[k][context] = c(context) = Σ_w c(context, w), for contexts seen before a word."""
        return [_ContextView(self, k, "totals") for k in range(len(self._tables))]

    def _after_fit(self) -> None:
        pass

    def _need_fit(self) -> None:
        if not self._tables:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call .fit(sentences) first")

    def lookup(self, token: str) -> str:
        return token if token in self.vocab else UNK

    def _ids(self, tokens) -> np.ndarray:
        return np.array([self.stoi.get(t, -1) for t in tokens], dtype=np.int64)

    def _rows(self, ctx: np.ndarray) -> list[np.ndarray]:
        """For contexts ``ctx`` (N, m) of token ids: rows[j] = row of the last j tokens in the j-gram table
        (-1 where unseen); rows[0] = 0, the empty context."""
        N, m = ctx.shape
        V = len(self.itos)
        rows = [np.zeros(N, dtype=np.int64)]
        for j in range(1, m + 1):
            r = np.zeros(N, dtype=np.int64)
            for i in range(m - j, m):                        # walk the suffix ctx[m-j:] up the orders
                r = self._tables[i - (m - j)].find(r, ctx[:, i], V)
            rows.append(r)
        return rows

    def _ngram_counts(self, rows: np.ndarray, word: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        """c(ctx w) and c(ctx) for contexts of length j given by their rows (-1: unseen, counts 0)."""
        table = self._tables[j]
        hit = table.find(rows, word, len(self.itos))
        c = np.where(hit >= 0, table.counts[hit], 0)
        total = np.where(rows >= 0, table.totals[np.maximum(rows, 0)], 0)
        return c, total

    def _context_row(self, context: tuple) -> int:
        if not context:
            return 0
        ids = self._ids(context)
        return int(self._rows(ids[None, :])[-1][0])

    def _decode(self, k: int, row: int) -> tuple:
        """The tokens of row ``row`` of the k-gram table."""
        out = []
        while k > 0:
            t = self._tables[k - 1]
            out.append(self.itos[int(t.word[row])])
            row, k = int(t.prefix[row]), k - 1
        return tuple(reversed(out))

    def count(self, context: tuple, word: str) -> int:
        """c(context, word): how often ``word`` followed ``context`` in training."""
        self._need_fit()
        ctx = self._ids(context)[None, :]
        c, _ = self._ngram_counts(self._rows(ctx)[-1], self._ids([word]), len(context))
        return int(c[0])

    # ------------------------------------------------------------------ scoring
    def _probs(self, ctx: np.ndarray, word: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """P(word_i | ctx_i) for contexts ``ctx`` (N, m) and words (N,) of token ids (-1: not in V)."""
        raise NotImplementedError

    def prob(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context) for tokens of the vocabulary (``score`` maps unknown ones to <unk> first)."""
        self._need_fit()
        return float(self._probs(self._ids(context)[None, :], self._ids([word]))[0])

    def score(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context) after mapping unknown tokens to <unk> and keeping the last n-1 words."""
        self._need_fit()
        context = tuple(self.lookup(t) for t in context)[-(self.n - 1):] if self.n > 1 else ()
        return self.prob(self.lookup(word), context)

    def events(self, sentence: Sequence[str]) -> list[tuple[tuple, str]]:
        """(context, word) for every predicted token of a sentence (its words and <eos>)."""
        s = [self.lookup(t) for t in pad(sentence, self.n)]
        return [(tuple(s[i - self.n + 1:i]) if self.n > 1 else (), s[i]) for i in range(self.n - 1, len(s))]

    def _event_probs(self, sentences: list[list[str]]) -> np.ndarray:
        """P(w_t | previous n-1 tokens) for every predicted token of ``sentences``, in one vectorised pass."""
        unk = self.stoi[UNK]
        ids = np.array([self.stoi.get(t, unk) for s in sentences for t in s], dtype=np.int64)
        a, sid = self._padded_ids(sentences, ids)
        pos = np.flatnonzero(np.concatenate([[True], sid[1:] != sid[:-1]]))    # each sentence's start
        predicted = np.ones(len(a), dtype=bool)
        for j in range(self.n - 1):                        # the n-1 <bos> are context, never predicted
            predicted[pos + j] = False
        at = np.flatnonzero(predicted)
        ctx = np.stack([a[at - self.n + 1 + j] for j in range(self.n - 1)], axis=1) if self.n > 1 \
            else np.zeros((len(at), 0), dtype=np.int64)
        return self._probs(ctx, a[at])

    def sentence_logprob(self, sentence: Sequence[str]) -> float:
        """ln P(sentence, <eos>) = Σ_t ln P(w_t | previous n-1 words); -inf if any factor is 0."""
        self._need_fit()
        return self._logprobs(_check_sentences([sentence]))[0]

    def _logprobs(self, sentences: list[list[str]]) -> list[float]:
        # probabilities in one vectorised pass; the logs summed in Python, token by token, so the
        # result is the same float as adding ln P one prediction at a time
        p = self._event_probs(sentences).tolist()
        out, i = [], 0
        for s in sentences:
            total = 0.0
            for q in p[i:i + len(s) + 1]:
                if q <= 0.0:
                    total = -math.inf
                    break
                total += math.log(q)
            out.append(total)
            i += len(s) + 1
        return out

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """exp(-(1/N) Σ ln P) over all N predicted tokens of ``sentences`` (inf if one is impossible)."""
        sentences = _check_sentences(sentences)
        self._need_fit()
        total, count = 0.0, 0
        for s, lp in zip(sentences, self._logprobs(sentences)):
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
        V = len(self.itos)
        ctx = np.repeat(self._ids(context)[None, :], V, axis=0)
        return list(self.itos), self._probs(ctx, np.arange(V))

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

    def _probs(self, ctx, word):
        c, total = self._ngram_counts(self._rows(ctx)[-1], word, ctx.shape[1])
        return np.where(total > 0, c / np.maximum(total, 1), 0.0)

    def distribution(self, context=()):
        # fast path for sampling: only the words seen after this context have probability > 0
        self._need_fit()
        context = tuple(self.lookup(t) for t in context)[-(self.n - 1):] if self.n > 1 else ()
        row = self._context_row(context)
        table = self._tables[len(context)]
        if row < 0 or table.totals[row] == 0:
            return super().distribution(context)
        lo, hi = np.searchsorted(table.prefix, [row, row + 1])
        p = table.counts[lo:hi].astype(float)
        return [self.itos[w] for w in table.word[lo:hi]], p / p.sum()


class AddK(NGramModel):
    """P(w | ctx) = (c(ctx, w) + k) / (c(ctx) + k V). k = 1 is Laplace smoothing."""

    def __init__(self, n: int, k: float = 1.0, unk_cutoff: int = 1):
        super().__init__(n, unk_cutoff)
        if not k > 0:
            raise ValueError(f"k must be > 0, got {k!r}")
        self.k = float(k)
        self.name = "Laplace" if k == 1 else f"add-{k:g}"

    def _probs(self, ctx, word):
        c, total = self._ngram_counts(self._rows(ctx)[-1], word, ctx.shape[1])
        return (c + self.k) / (total + self.k * len(self.vocab))


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

    def _probs(self, ctx, word):
        rows = self._rows(ctx)
        p, carry = np.zeros(len(word)), np.zeros(len(word))
        for j in range(ctx.shape[1], -1, -1):      # longest context first, down to the unigram
            c, total = self._ngram_counts(rows[j], word, j)
            weight = self.lambdas[j] + carry
            seen = total > 0
            p = np.where(seen, p + weight * c / np.maximum(total, 1), p)
            carry = np.where(seen, 0.0, weight)     # unseen context: its weight goes to the next order
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

    def _probs(self, ctx, word):
        rows = self._rows(ctx)
        score, done, factor = np.zeros(len(word)), np.zeros(len(word), dtype=bool), 1.0
        for j in range(ctx.shape[1], -1, -1):      # longest context first; back off while unseen
            c, total = self._ngram_counts(rows[j], word, j)
            now = ~done & (c > 0)
            score = np.where(now, factor * c / np.maximum(total, 1), score)
            done |= now
            factor = factor * self.alpha
        return score


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
        # continuation[k-1][row] = N1+(• g) for the k-gram g in that row of the k-gram table (k < n):
        # the number of distinct (k+1)-gram types (v, g); cont_total / cont_types sum it / count it
        # per context (g without its last word).
        self.continuation, self.cont_total, self.cont_types = [], [], []
        for k in range(1, self.n):
            rows_k = self._position_rows[k - 1]
            first = np.flatnonzero(self._position_rows[k] >= 0)            # positions of (k+1)-grams
            _, first_of_type = np.unique(self._position_rows[k][first], return_index=True)
            suffix = rows_k[first[first_of_type] + 1]                        # row of each type's last k words
            table = self._tables[k - 1]
            cont = np.bincount(suffix, minlength=len(table.codes))
            n_prefix = len(table.totals)
            self.continuation.append(cont)
            self.cont_total.append(np.bincount(table.prefix, weights=cont, minlength=n_prefix).astype(np.int64))
            self.cont_types.append(np.bincount(table.prefix, weights=cont > 0, minlength=n_prefix).astype(np.int64))

    def _probs(self, ctx, word):
        rows, V = self._rows(ctx), len(self.itos)
        d = self.discount
        uni = self._tables[0].find(np.zeros(len(word), dtype=np.int64), word, V)
        total0 = self.cont_total[0][0]
        p = np.where(uni >= 0, self.continuation[0][np.maximum(uni, 0)], 0) / total0 if total0 else np.zeros(len(word))
        for j in range(1, ctx.shape[1] + 1):       # contexts of length j, shortest first (the recursion unrolled)
            r = rows[j]
            r0 = np.maximum(r, 0)
            seen = (r >= 0) & (self._tables[j].totals[r0] > 0)           # the context was followed by a word
            if j + 1 == self.n:
                c, total = self._ngram_counts(r, word, j)
                types = self._tables[j].distinct[r0]
            else:
                hit = self._tables[j].find(r, word, V)
                c = np.where(hit >= 0, self.continuation[j][np.maximum(hit, 0)], 0)
                total = self.cont_total[j][r0]
                types = self._tables[j].distinct[r0] if self.nltk_compatible else self.cont_types[j][r0]
                seen &= total > 0                   # a context seen only at sentence starts defers too
            safe = np.maximum(total, 1)
            alpha = np.maximum(c - d, 0.0) / safe
            gamma = d * types / safe
            p = np.where(seen, alpha + gamma * p, p)
        return p


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
