"""Training throughput of skip-gram with negative sampling on Tiny Shakespeare, in corpus words per
second, compared in one run with gensim's Word2Vec on the same corpus and settings when gensim is
installed (a dev-only extra: pip install gensim), and with the plain autograd + Adam way.

Settings for all: lines as sentences, dim 100, window 5, negative 5, min_count 5, sample 1e-3.
Words/s = words of the corpus (all of them, as gensim counts) x epochs / training time; building the
vocabulary is not timed for either. Quality is measured too, so speed is not bought with learning:
3CosAdd analogy accuracy on the 656 in-vocabulary questions, and the neighbours of "thou".

    python tests/benchmarks/bench_word2vec.py [threads] [repeats]
"""
import statistics
import sys
import time

import numpy as np
import torch

from course_lib import data
from course_lib import word2vec as w2v
from course_lib.text import Vocab, word_tokenize
from course_lib.train import train

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(threads)
text = data.load_text("tinyshakespeare")
lines = [word_tokenize(line) for line in text.split("\n") if line.strip()]
vocab = Vocab([w for line in lines for w in line], min_freq=5)
sentences = [[i for i in vocab.encode(line) if i != vocab.unk_id] for line in lines]
counts = w2v.counts_for(vocab, np.concatenate(sentences))
corpus_words = sum(map(len, lines))
questions = data.load_analogies()
print(f"{corpus_words:,} corpus words in {len(lines):,} lines, vocabulary {len(vocab) - 4:,}; "
      f"torch threads {threads}, gensim workers {threads}, median of {repeats}")


def quality(E: np.ndarray) -> str:
    acc, covered, _ = w2v.analogy_accuracy(E, vocab, questions)
    return f"analogies {acc:4.1%} of {covered}; thou: {', '.join(w for w, _ in w2v.neighbours(E, vocab, 'thou', 4))}"


def course(epochs: int):
    t = time.perf_counter()
    model, _ = w2v.train_sgns(sentences, len(vocab), counts, dim=100, window=5, negatives=5, epochs=epochs,
                              subsample_t=1e-3, seed=0, progress=False)
    return time.perf_counter() - t, model.embeddings()


try:
    import gensim
    from gensim.models import Word2Vec
except ImportError:
    gensim = None
    print("gensim is not installed (pip install gensim): no comparison in this run")


def reference(epochs: int):
    gm = Word2Vec(vector_size=100, window=5, negative=5, min_count=5, sample=1e-3, sg=1, workers=threads, seed=0)
    gm.build_vocab(lines)
    t = time.perf_counter()
    gm.train(lines, total_examples=len(lines), epochs=epochs)
    dt = time.perf_counter() - t
    E = np.zeros((len(vocab), 100), dtype=np.float32)
    for w, i in vocab.stoi.items():
        if w in gm.wv:
            E[i] = gm.wv[w]
    return dt, E


for epochs in (1, 5):
    runs = {"course_lib": [], "gensim": []}
    for _ in range(repeats):                       # interleaved, so both see the same machine load
        runs["course_lib"].append(course(epochs))
        if gensim:
            runs["gensim"].append(reference(epochs))
    speed = {}
    for name, rs in runs.items():
        if not rs:
            continue
        dt = statistics.median(r[0] for r in rs)
        speed[name] = corpus_words * epochs / dt
        print(f"{epochs} epoch(s) {name:10s}: {speed[name] / 1e3:5.0f} k words/s ({dt:.2f} s)  {quality(rs[-1][1])}")
    if gensim:
        print(f"{epochs} epoch(s) course_lib / gensim {gensim.__version__}: {speed['course_lib'] / speed['gensim']:.2f}x")

# The plain way, for the record: SkipGramNegSampling through autograd, the course's one training loop,
# Adam on mini-batches of shuffled pairs with fresh noise per pair (what the course did first).
rng = np.random.default_rng(0)
ids, sentence_of = w2v.sentences_to_stream(sentences)
keep = w2v.keep_probabilities(counts, 1e-3)[ids] > rng.random(len(ids))
c, o = (torch.from_numpy(a) for a in w2v.pair_arrays(ids[keep], 5, sentence_of[keep], rng))
noise = torch.tensor(w2v.noise_distribution(counts), dtype=torch.float)
gen = torch.Generator().manual_seed(0)
batch = 16384


def batches():
    order = torch.randperm(len(c), generator=gen)
    for s in range(0, len(c), batch):
        idx = order[s:s + batch]
        yield c[idx], o[idx], torch.multinomial(noise, len(idx) * 5, True, generator=gen).view(-1, 5)


torch.manual_seed(0)
model = w2v.SkipGramNegSampling(len(vocab), 100)
t = time.perf_counter()
train(model, batches(), steps=-(-len(c) // batch), lr=3e-3 * batch / 4096, device="cpu", progress=False)
dt = time.perf_counter() - t
plain = corpus_words / dt
print(f"1 epoch(s) autograd+Adam (batch {batch}): {plain / 1e3:5.0f} k words/s ({dt:.2f} s)  {quality(model.embeddings())}")
print(f"course_lib's word2vec update is {speed['course_lib'] / plain:.1f}x the autograd+Adam loop"
      if "course_lib" in speed else "")
