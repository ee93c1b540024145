"""Notebook 08's dates experiment over other seeds: is one seed's story the rule?

    python tests/benchmarks/bench_seq2seq_seeds.py [seeds=1,2,3]

For each seed: the same 250-step training as the notebook (batch 64, Adam 5e-3, clip 1) with the
source as written, reversed, and without masking; exact match on the 1,000 test dates, and for the
unmasked model the share of 100 test dates whose greedy output changes when decoded alone.
The seed sets both the initial weights and the batch order.
"""
import sys

import torch

from course_lib import parallel, seq2seq, train


def main(seeds):
    torch.set_num_threads(1)
    tr, te = parallel.dates(20000, 1000, 0)
    for seed in seeds:
        row = []
        for rev, masked in ((False, True), (True, True), (False, False)):
            torch.manual_seed(seed)
            m = seq2seq.Seq2Seq(len(tr.src_vocab), len(tr.tgt_vocab), 32, 128, mask_source=masked, mask_target=masked)
            train.train(m, tr.random_batches(64, seed=seed + 10, reverse_source=rev), steps=250, lr=5e-3, clip=1.0,
                        progress=False, device="cpu")  # the CPU: these are the notebook's CPU figures
            row.append(parallel.exact_match(m, tr, te, reverse_source=rev))
        sources = [s for s, _ in te.pairs[:100]]
        together = parallel.translate_sentences(m, tr, sources)
        alone = [parallel.translate_sentences(m, tr, [s])[0] for s in sources]
        changed = sum(a != b for a, b in zip(alone, together)) / len(sources)
        print(f"seed {seed}: as written {row[0]:.1%}, reversed {row[1]:.1%}, no masking {row[2]:.1%} "
              f"(its output changes alone vs in a batch for {changed:.0%})", flush=True)


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else [1, 2, 3])
