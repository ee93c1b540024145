"""Redraw latency of the gradient-decay widget (compute + render), T = 200, H = 128, 1 thread:
30 random spectral radii per cell type; median and p95."""
import numpy as np
import torch

from course_lib.widgets import GradientFlowWidget

torch.set_num_threads(1)
w = GradientFlowWidget(T=200, hidden=128)
rng = np.random.default_rng(0)
for cell in ("rnn", "lstm", "gru"):
    w.controls["cell"].value = cell
    w.latencies.clear()
    for rho in rng.uniform(0.6, 1.4, 30):
        w.controls["rho"].value = float(round(rho, 2))
    lat = 1000 * np.array(w.latencies)
    print(f"{cell}: redraw median {np.median(lat):.0f} ms, p95 {np.percentile(lat, 95):.0f} ms (T=200, H=128)")
