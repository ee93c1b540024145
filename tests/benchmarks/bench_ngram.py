"""n-gram LMs on Tiny Shakespeare (words): course_lib.ngram vs nltk.lm, in the same run.

Build: the count build (``fit``) of each, medians of 3. Scoring: both score the same held-out slice
(nltk's KN scoring is ~30 ms per prediction, so a slice, not the whole test set), perplexities side by
side (they must be identical: the course's ``nltk_compatible=True`` KN and Laplace), medians of 3 for
the course (1 run for nltk's slow KN)."""
import statistics
import time

from nltk.lm import KneserNeyInterpolated, Laplace, Vocabulary
from nltk.util import everygrams

from course_lib import data, ngram
from course_lib.text import word_tokenize

lines = [word_tokenize(s) for s in data.load_text("tinyshakespeare").split("\n")]
sents = [s for s in lines if s]
train = sents[: int(0.9 * len(sents))]
print(f"{len(train):,} training sentences, {sum(map(len, train)):,} tokens")


def median_time(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


for n, ours, theirs in [(2, lambda: ngram.AddK(2, 1.0, unk_cutoff=2).fit(train), Laplace),
                        (3, lambda: ngram.KneserNey(3, unk_cutoff=2).fit(train), KneserNeyInterpolated)]:
    t_ours = median_time(ours)

    def nltk_fit():
        lm = theirs(n, vocabulary=Vocabulary([t for s in train for t in ngram.pad(s, n)], unk_cutoff=2))
        lm.fit([list(everygrams(ngram.pad(s, n), max_len=n)) for s in train])
        return lm
    t_nltk = median_time(nltk_fit)
    print(f"n={n} {theirs.__name__:24s} course_lib {t_ours:.2f} s   nltk.lm {t_nltk:.2f} s   ({t_nltk / t_ours:.1f}x)")

test = sents[int(0.9 * len(sents)):]


def nltk_model(cls, n, **kw):
    lm = cls(n, vocabulary=Vocabulary([t for s in train for t in ngram.pad(s, n)], unk_cutoff=2), **kw)
    lm.fit([list(everygrams(ngram.pad(s, n), max_len=n)) for s in train])
    return lm


# scoring: the same slice through both, perplexities printed side by side
for n, ours, theirs, kw, n_sents in [(2, ngram.AddK(2, 1.0, unk_cutoff=2), Laplace, {}, 400),
                                     (3, ngram.KneserNey(3, 0.1, 2, nltk_compatible=True), KneserNeyInterpolated,
                                      {"discount": 0.1}, 40)]:
    ours.fit(train)
    lm = nltk_model(theirs, n, **kw)
    part = test[:n_sents]
    grams = [g for s in part for g in ngram.ngrams(ngram.pad(s, n), n)]
    t = time.perf_counter()
    pp_nltk = lm.perplexity(grams)
    t_nltk = (time.perf_counter() - t) / len(grams)
    t_ours = median_time(lambda: ours.perplexity(part), repeat=5) / len(grams)
    print(f"scoring n={n} {theirs.__name__:22s} {len(grams):,} predictions: perplexity course_lib {ours.perplexity(part):.6f} "
          f"nltk.lm {pp_nltk:.6f} ({'identical' if abs(ours.perplexity(part) / pp_nltk - 1) < 1e-9 else 'DIFFERENT'}); "
          f"{1e6 * t_ours:.1f} vs {1e6 * t_nltk:.0f} µs each ({t_nltk / t_ours:.0f}x)")

kn = ngram.KneserNey(3, unk_cutoff=2).fit(train)
t = time.perf_counter()
pp = kn.perplexity(test)
dt = time.perf_counter() - t
n_events = sum(len(s) + 1 for s in test)
print(f"KN trigram held-out perplexity {pp:.1f}: {n_events:,} predictions in {dt:.2f} s "
      f"({1e6 * dt / n_events:.1f} µs each)")
