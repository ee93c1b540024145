"""The adding problem at T = 100 (and optionally other T): IRNN vs tanh RNN vs nn.LSTM, each with
SGD, RMSprop and Adam (the learning rates of course_lib.tasks.LEARNING_RATES), 32 hidden units,
batches of 50, clip 1.0, seeds 0 (weights) and 1 (batches), test MSE on 1 000 held-out sequences
against the 0.167 baseline of always answering 1. Notebook 05 runs 5 of these 9 for 500 steps.

    python tests/benchmarks/bench_adding.py [steps=2000] [T=100] [jobs=1]

With jobs > 1 the runs go to that many processes (one torch thread each). Writes
adding_grid.png (learning curves) beside the working directory when matplotlib is present.
"""
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

from course_lib import tasks  # noqa: E402


def one(args):
    model, opt, T, steps = args
    torch.set_num_threads(1)
    start = time.perf_counter()
    history, mse = tasks.run_adding(model, opt, T=T, steps=steps, seed=0, device="cpu")
    below = next((s for s, v in zip(history.step, history.smoothed_loss(50)) if v < tasks.BASELINE_MSE / 2), None)
    return model, opt, mse, below, time.perf_counter() - start, history.smoothed_loss(50)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    T = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    grid = [(m, o, T, steps) for m in tasks.MODELS for o in tasks.OPTIMIZERS]
    print(f"adding problem, T = {T}, {steps} steps, baseline MSE {tasks.BASELINE_MSE:.3f}")
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(one, grid))
    for model, opt, mse, below, seconds, _ in results:
        when = f"running mean below half the baseline from step {below}" if below else "never below half the baseline"
        print(f"{model:9s} {opt:8s} test MSE {mse:.4f}   {when}   ({seconds:.0f} s)")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
    for model, opt, mse, _, _, curve in results:
        ax = axes[list(tasks.MODELS).index(model)]
        ax.plot(range(1, len(curve) + 1), curve, label=f"{opt} (test {mse:.3f})")
        ax.set(title=f"{model}, T = {T}", xlabel="step", yscale="log")
    for ax in axes:
        ax.axhline(tasks.BASELINE_MSE, color="gray", ls="--", label="baseline 0.167")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("training MSE (running mean of 50)")
    fig.tight_layout()
    fig.savefig("adding_grid.png", dpi=80)
    print("wrote adding_grid.png")


if __name__ == "__main__":
    main()
