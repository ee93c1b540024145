"""Scratch RNN vs nn.RNN (fwd+bwd, batch 64, T 100, hidden 256) and the char-LM held-out loss after
60 and 120 s of CPU training: the course's default char model and trainer (course_lib.charlm's
recipe: RecurrentLM LSTM + train.train, Adam 4e-3 decayed to 0 over the budget's last quarter) against the
plain PyTorch nn.GRU baseline of ../shared/notes/performance-anchors.md (1 layer, h 256, embedding 64,
seq 100, batch 64, Adam 2e-3, clip 1.0), on the same 90/10 split and held-out batches, in the same
run, alternating course/baseline; evaluation time not counted.

    python tests/benchmarks/bench_rnn.py [threads] [--no-lm | --lm-only]
"""
import statistics
import sys
import time

import torch

from course_lib import seed_everything
from course_lib.rnn import RNNScratch

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
# The course's default char LM is course_lib.charlm's recipe (notebook 06 ships its checkpoints),
# trained by the course's one loop. Its learning-rate decay is placed in the budget, so each budget is
# a separate run (60 s, then 120 s), each followed by the baseline with the same budget.
from course_lib import charlm  # noqa: E402

vocab, ids, cut = charlm.corpus()
held_out = charlm.held_out_batches(ids, cut)


class GRULanguageModel(torch.nn.Module):
    """The baseline, plain PyTorch: embedding 64 -> nn.GRU(256) -> linear, logits (B, T, V)."""

    def __init__(self, V):
        super().__init__()
        self.emb, self.gru = torch.nn.Embedding(V, 64), torch.nn.GRU(64, 256, batch_first=True)
        self.head = torch.nn.Linear(256, V)

    def forward(self, x):
        return self.head(self.gru(self.emb(x))[0])


def baseline_run(seconds):
    """Plain loop: random windows, cross-entropy, Adam 2e-3, clip 1.0; returns (loss, steps, s)."""
    seed_everything(0)
    model = GRULanguageModel(len(vocab))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        starts = torch.randint(0, cut - 101, (64,), generator=gen)
        x = torch.stack([ids[s:s + 100] for s in starts.tolist()])
        y = torch.stack([ids[s + 1:s + 101] for s in starts.tolist()])
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
    elapsed = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        total = sum(torch.nn.functional.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1)).item()
                    * y.numel() for x, y in held_out)
    return total / sum(y.numel() for _, y in held_out), steps, elapsed


for budget in (60, 120):
    model, _, h = charlm.train_char_lm("lstm", seconds=budget, device="cpu", progress=False)
    loss = charlm.held_out_loss(model, held_out, device="cpu")
    print(f"{'course LSTM (charlm recipe)':27s} {budget:3d} s: {len(h.loss)} steps, held-out loss {loss:.3f} nats/char "
          f"({1000 * h.seconds[-1] / len(h.loss):.0f} ms/step)", flush=True)
    loss, steps, elapsed = baseline_run(budget)
    print(f"{'baseline nn.GRU':27s} {budget:3d} s: {steps} steps, held-out loss {loss:.3f} nats/char "
          f"({1000 * elapsed / steps:.0f} ms/step)", flush=True)
