"""Time of the count build on Tiny Shakespeare (words): course_lib.ngram vs nltk.lm, medians of 3."""
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

kn = ngram.KneserNey(3, unk_cutoff=2).fit(train)
test = sents[int(0.9 * len(sents)):]
t = time.perf_counter()
pp = kn.perplexity(test)
dt = time.perf_counter() - t
n_events = sum(len(s) + 1 for s in test)
print(f"KN trigram held-out perplexity {pp:.1f}: {n_events:,} predictions in {dt:.2f} s "
      f"({1e6 * dt / n_events:.1f} µs each)")
