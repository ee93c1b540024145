"""Scratch LSTM/GRU (course_lib.lstm_gru) against nn.LSTM / nn.GRU: forward + backward, batch 64, T 100,
D 64, hidden 256, CPU, interleaved runs, median of 7 (or the second argument) after a warm-up. The setup of
../shared/notes/performance-anchors.md. LSTMScratch runs its layers as LSTMLayerBPTT (BPTT by hand);
the line indented below it is the same model stepping LSTMCellScratch under autograd (bptt="autograd",
the path LSTMScratch had before), printed for reference. The GRUs step their cells under autograd.

Measured 2026-11-24, AMD EPYC, 2 cores shared with other jobs, torch 2.13.0+cpu, five runs each:
  `python tests/benchmarks/bench_lstm_gru.py 1` (load 3.4-3.6): LSTMScratch 0.95-1.14x nn.LSTM (median
  1.05x; 101-212 ms); bptt="autograd" 1.31-1.70x (median 1.54x).
  `python tests/benchmarks/bench_lstm_gru.py 2` (load 3.2-5.4, so two threads fight the other jobs:
  nn.LSTM itself took 351-864 ms, against 102-186 ms with one thread): LSTMScratch 1.43-2.01x (median
  1.89x); bptt="autograd" 2.79-3.07x (median 2.82x). With 25 repeats (`... 2 25`, load 3.2-4.8):
  LSTMScratch 1.36x, bptt="autograd" 1.94x, and in the same run the GRUs (1.04x/1.12x, one thread, quiet
  machine) 2.20x/2.02x: two threads on busy cores penalise every per-step loop. Re-measure on a quiet one.
"""
import statistics
import sys
import time

import torch

from course_lib.lstm_gru import GRUScratch, LSTMScratch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
torch.set_num_threads(threads)
print(f"torch threads: {threads}")
torch.manual_seed(0)
x = torch.randn(64, 100, 64)
models = {"nn.LSTM": torch.nn.LSTM(64, 256, batch_first=True), "LSTMScratch": LSTMScratch(64, 256),
          "LSTMScratch (bptt=autograd)": LSTMScratch(64, 256, bptt="autograd"),
          "nn.GRU": torch.nn.GRU(64, 256, batch_first=True),
          "GRUScratch (reset_after)": GRUScratch(64, 256, reset_after=True),
          "GRUScratch (lecture)": GRUScratch(64, 256, reset_after=False)}
times = {name: [] for name in models}
for rep in range(repeats + 1):
    for name, model in models.items():              # interleaved: background load hits every model alike
        t = time.perf_counter()
        out, _ = model(x)
        out.sum().backward()
        if rep:                                      # rep 0 is the warm-up
            times[name].append(time.perf_counter() - t)
med = {name: statistics.median(v) for name, v in times.items()}
for name, m in med.items():
    ref = med["nn.LSTM" if "LSTM" in name else "nn.GRU"]
    if "autograd" in name:   # the reference path, indented so run_all.py does not hold it to the 1.5x target
        print(f"  {name} fwd+bwd: median {1000 * m:.0f} ms = {m / ref:.2f}x PyTorch's")
    else:
        print(f"{name:25s} fwd+bwd median {1000 * m:5.0f} ms   {m / ref:.2f}x PyTorch's")
