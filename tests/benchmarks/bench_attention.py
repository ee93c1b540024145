"""Seq2seq with and without attention at notebook 08's own settings: notebook 08's Seq2Seq against
attention.AttentionSeq2Seq, same split, sizes, seeds and training, one thread.

    python tests/benchmarks/bench_attention.py dates      [--steps 250] [--device cpu]
    python tests/benchmarks/bench_attention.py eng-fra    [--steps 3000] [--device cpu]

dates: notebook 08's date task and model (``parallel.dates(20000, 1000)``, embeddings 32, GRU 128,
250 steps of 64, lr 5e-3, clip 1); prints exact-match accuracy on the 1000 test dates.
eng-fra: notebook 08's shipped model's settings (``parallel.ENG_FRA_MODEL``, ``parallel.ENG_FRA_TRAINING``);
prints the held-out BLEU (greedy, sacrebleu's defaults, every reference).
Both print the training time. Too long for notebook 09's 90-second budget, so they live here.
"""
from __future__ import annotations

import argparse
import time

import torch

from course_lib.attention import AttentionSeq2Seq
from course_lib.parallel import ENG_FRA_MODEL, ENG_FRA_TRAINING, dates, eng_fra, exact_match, heldout_bleu
from course_lib.seq2seq import Seq2Seq
from course_lib.train import train


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["dates", "eng-fra"])
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.task == "dates":
        corpus, test = dates(n_train=20000, n_test=1000, seed=0)
        sizes, cfg = dict(embed_dim=32, hidden_size=128), dict(steps=250, batch_size=64, lr=5e-3, clip=1.0, seed=0)
        score_name, score = "exact match", lambda m: exact_match(m, corpus, test)
    else:
        corpus, held = eng_fra()
        sizes = {k: v for k, v in ENG_FRA_MODEL.items() if k != "cell"}
        cfg = dict(ENG_FRA_TRAINING)
        score_name, score = "held-out BLEU", lambda m: heldout_bleu(m, corpus, held)[0]
    if args.steps:
        cfg["steps"] = args.steps
    print(f"{args.task}: {len(corpus)} training pairs; {sizes}, {cfg}")
    for name, cls in (("Seq2Seq (notebook 08)", Seq2Seq), ("AttentionSeq2Seq", AttentionSeq2Seq)):
        torch.manual_seed(cfg["seed"])
        model = cls(len(corpus.src_vocab), len(corpus.tgt_vocab), **sizes)
        start = time.perf_counter()
        h = train(model, corpus.random_batches(cfg["batch_size"], cfg["seed"] + 1), steps=cfg["steps"], lr=cfg["lr"],
                  clip=cfg["clip"], device=args.device, progress=False)
        seconds = time.perf_counter() - start
        print(f"{name:24s} {score_name} {score(model):7.3f}   final loss (mean of last 20) "
              f"{sum(h.loss[-20:]) / len(h.loss[-20:]):.3f}   training {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
