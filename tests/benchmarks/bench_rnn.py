"""Scratch RNN vs nn.RNN (fwd+bwd, batch 64, T 100, hidden 256) and the char-LM held-out loss after
30, 60 and 120 s of CPU training, the course's default model and trainer (RNNLM + train.train) against a
plain PyTorch nn.GRU baseline in the same run, alternating (the setup of
../shared/notes/performance-anchors.md: 1 layer, h 256, embedding 64, seq 100, batch 64, Adam 2e-3,
clip 1.0, 90/10 split; evaluation time not counted).

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

# ---------------------------------------------------------------------------------------------- char-LM
# The course's default char LM is course_lib.rnn.RNNLM (notebook 03 trains it; no notebook trains
# lstm_gru.RecurrentLM), trained by the course's one loop, course_lib.train.train. The baseline is a
# plain PyTorch nn.GRU LM with its own loop, the anchors' setup (../shared/notes/performance-anchors.md).
# The two alternate in 10 s slices of training in this one process, so background load hits both alike;
# each is evaluated on the same held-out batches at 30, 60 and 120 s of its own training time.
text = data.load_text("tinyshakespeare")
vocab = Vocab(char_tokenize(text), specials=())
ids = torch.tensor(vocab.encode(char_tokenize(text)))
cut = int(0.9 * len(ids))
held_out = list(lm_sequential_batches(ids[cut:], 64, 100))


class GRULanguageModel(torch.nn.Module):
    """The baseline, plain PyTorch: embedding 64 -> nn.GRU(256) -> linear, logits (B, T, V)."""

    def __init__(self, V):
        super().__init__()
        self.emb, self.gru = torch.nn.Embedding(V, 64), torch.nn.GRU(64, 256, batch_first=True)
        self.head = torch.nn.Linear(256, V)

    def forward(self, x):
        return self.head(self.gru(self.emb(x))[0])


def baseline_train(model, opt, gen, seconds):
    """Plain loop: random windows, cross-entropy, Adam, clip 1.0; returns the steps done."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        starts = torch.randint(0, len(ids) - 100 - (len(ids) - cut), (64,), generator=gen)
        x = torch.stack([ids[s:s + 100] for s in starts.tolist()])
        y = torch.stack([ids[s + 1:s + 101] for s in starts.tolist()])
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
    return steps


@torch.no_grad()
def baseline_loss(model):
    model.eval()
    total = sum(torch.nn.functional.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1)).item() * y.numel()
                for x, y in held_out)
    model.train()
    return total / sum(y.numel() for _, y in held_out)


seed_everything(0)
lm = RNNLM(len(vocab), embed_dim=64, hidden_size=256)
batches = lm_random_batches(ids[:cut], 64, 100, generator=torch.Generator().manual_seed(0))
opt = torch.optim.Adam(lm.parameters(), lr=2e-3)
seed_everything(0)
base = GRULanguageModel(len(vocab))
base_opt = torch.optim.Adam(base.parameters(), lr=2e-3)
base_gen = torch.Generator().manual_seed(0)
course = {"steps": 0, "seconds": 0.0}
baseline = {"steps": 0, "seconds": 0.0}
SLICE = 10
for elapsed in range(SLICE, 121, SLICE):
    h = train(lm, batches, seconds=SLICE, optimizer=opt, clip=1.0, device="cpu", progress=False)
    course["steps"] += len(h.loss)
    course["seconds"] += h.seconds[-1]
    t = time.perf_counter()
    baseline["steps"] += baseline_train(base, base_opt, base_gen, SLICE)
    baseline["seconds"] += time.perf_counter() - t
    if elapsed in (30, 60, 120):                  # evaluation time not counted
        for label, run, loss in (("course RNNLM (nn.RNN tanh)", course, evaluate_loss(lm, held_out, device="cpu")),
                                 ("baseline nn.GRU", baseline, baseline_loss(base))):
            print(f"{label:27s} {elapsed:3d} s: {run['steps']} steps, held-out loss {loss:.3f} nats/char "
                  f"({1000 * run['seconds'] / run['steps']:.0f} ms/step)", flush=True)
