"""Redraw latency of the gradient-decay widget (compute + render), T = 200, H = 128, 1 thread:
30 random spectral radii per cell type; median and p95 of the whole redraw (what the student waits for),
then where the time goes: the autograd measurement (course_lib.gradient_flow.measure) and the PNG render,
medians of 10. Wall-clock times: on a loaded machine they include waiting for a core (the load average
is printed); the process's CPU time per redraw is printed beside them (one thread: what a quiet core needs)."""
import dataclasses
import os
import time

import numpy as np
import torch

from course_lib.gradient_flow import measure
from course_lib.widgets import GradientFlowWidget

torch.set_num_threads(1)
print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
w = GradientFlowWidget(T=200, hidden=128)
rng = np.random.default_rng(0)
for cell in ("rnn", "lstm", "gru"):
    w.controls["cell"].value = cell
    w.latencies.clear()
    cpu = []
    for rho in rng.uniform(0.6, 1.4, 30):
        t = time.process_time()
        w.controls["rho"].value = float(round(rho, 2))
        cpu.append(time.process_time() - t)
    lat, cpu = 1000 * np.array(w.latencies), 1000 * np.array(cpu)
    print(f"{cell}: redraw median {np.median(lat):.0f} ms, p95 {np.percentile(lat, 95):.0f} ms (T=200, H=128); "
          f"CPU time median {np.median(cpu):.0f} ms, p95 {np.percentile(cpu, 95):.0f} ms")
for cell in ("rnn", "lstm", "gru"):
    w.controls["cell"].value = cell
    compute, render = [], []
    for rho in rng.uniform(0.6, 1.4, 10):
        t0 = time.perf_counter()
        r = measure(dataclasses.replace(w.settings(), rho=float(rho)), dtype=torch.float32)   # as redraw does
        t1 = time.perf_counter()
        w.plot.render(r)
        compute.append(t1 - t0)
        render.append(time.perf_counter() - t1)
    print(f"{cell}: compute (measure) median {1000 * np.median(compute):.0f} ms, "
          f"render median {1000 * np.median(render):.0f} ms")
