"""Training throughput of skip-gram with negative sampling on Tiny Shakespeare words, in corpus
words per second (words processed / wall time, as gensim reports), compared in one run with
gensim's Word2Vec on the same corpus and settings when gensim is installed (a dev-only extra:
pip install gensim). Settings: dim 100, window 5, negative 5, min_count 5, sample 1e-3, 1 epoch."""
import sys
import time

import numpy as np
import torch

from course_lib import data
from course_lib import word2vec as w2v
from course_lib.text import Vocab, word_tokenize

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
tokens = word_tokenize(data.load_text("tinyshakespeare"))
vocab = Vocab(tokens, min_freq=5)
ids = np.array(vocab.encode(tokens))
ids = ids[ids != vocab.unk_id]
counts = w2v.counts_for(vocab, ids)
print(f"{len(ids):,} training words, vocabulary {len(vocab) - 4:,}; torch threads {threads}")

for batch in (4096, 16384):
    t = time.perf_counter()
    model, h = w2v.train_sgns(ids, len(vocab), counts, dim=100, window=5, negatives=5, epochs=1, batch_size=batch,
                              lr=3e-3 * batch / 4096, subsample_t=1e-3, progress=False)
    dt = time.perf_counter() - t
    E = model.embeddings()
    acc, covered, _ = w2v.analogy_accuracy(E, vocab, data.load_analogies())
    print(f"course_lib SGNS batch {batch:5d}: {len(ids) / dt / 1e3:6.0f} k words/s ({dt:.1f} s, {len(h.loss)} steps, "
          f"final loss {np.mean(h.loss[-10:]):.2f}, analogies {acc:.1%} of {covered})")
try:
    from gensim.models import Word2Vec
except ImportError:
    print("gensim is not installed (pip install gensim): no comparison in this run")
    sys.exit(0)
lines = [word_tokenize(line) for line in data.load_text("tinyshakespeare").split("\n") if line.strip()]
t = time.perf_counter()
gm = Word2Vec(lines, vector_size=100, window=5, negative=5, min_count=5, sample=1e-3, sg=1, epochs=1,
              workers=threads, seed=0)
dt = time.perf_counter() - t
print(f"gensim {__import__('gensim').__version__} Word2Vec sg=1: {sum(map(len, lines)) / dt / 1e3:6.0f} k words/s "
      f"({dt:.1f} s incl. vocabulary build)")
