"""Scratch RNN vs nn.RNN (fwd+bwd, batch 64, T 100, hidden 256) and the char-LM held-out loss after
60 s and 120 s of CPU training (the setup of ../shared/notes/performance-anchors.md: 1 layer, h 256,
embedding 64, seq 100, batch 64, Adam 2e-3, clip 1.0, 90/10 split; evaluation time not counted).

    python tests/benchmarks/bench_rnn.py [threads] [--no-lm | --lm-only]
"""
import statistics
import sys
import time

import torch

from course_lib import data, seed_everything
from course_lib.rnn import RNNLM, RNNScratch
from course_lib.text import Vocab, char_tokenize, lm_random_batches, lm_sequential_batches
from course_lib.train import evaluate_loss, train

threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1
torch.set_num_threads(threads)
print(f"torch threads: {threads}")
if "--lm-only" not in sys.argv:
    x = torch.randn(64, 100, 64)
    models = {"nn.RNN": torch.nn.RNN(64, 256, batch_first=True), "RNNScratch": RNNScratch(64, 256)}
    times = {name: [] for name in models}
    for rep in range(8):
        for name, model in models.items():   # interleaved: background load hits both alike; rep 0 warms up
            t = time.perf_counter()
            out, _ = model(x)
            out.sum().backward()
            if rep:
                times[name].append(time.perf_counter() - t)
    for name, ts in times.items():
        print(f"{name:11s} fwd+bwd: median {1000 * statistics.median(ts):.0f} ms")
if "--no-lm" in sys.argv:
    sys.exit(0)

text = data.load_text("tinyshakespeare")
vocab = Vocab(char_tokenize(text), specials=())
ids = torch.tensor(vocab.encode(char_tokenize(text)))
cut = int(0.9 * len(ids))
val = lambda m: evaluate_loss(m, lm_sequential_batches(ids[cut:], 64, 100), device="cpu")  # noqa: E731
seed_everything(0)
lm = RNNLM(len(vocab), embed_dim=64, hidden_size=256)
batches = lm_random_batches(ids[:cut], 64, 100, generator=torch.Generator().manual_seed(0))
opt = torch.optim.Adam(lm.parameters(), lr=2e-3)
total_steps, elapsed = 0, 0
for budget in (30, 30, 60):                       # report at 30, 60 and 120 s of training
    h = train(lm, batches, seconds=budget, optimizer=opt, clip=1.0, device="cpu", progress=False)
    total_steps += len(h.loss)
    elapsed += budget
    print(f"{elapsed:3d} s: {total_steps} steps, held-out loss {val(lm):.3f} nats/char "
          f"({1000 * h.seconds[-1] / len(h.loss):.0f} ms/step)", flush=True)
