"""Notebook 10's comparison at a longer budget: the small LSTM against the small causal Transformer (sinusoidal
and learned positions) on Tiny Shakespeare characters, same split, batches, optimiser and steps as the notebook.

    OMP_NUM_THREADS=1 COURSE_DATA_DIR=../shared/data python tests/benchmarks/bench_positional.py [steps] [eval_every]

Prints the held-out loss (nats/char) every ``eval_every`` steps and the wall time of each model, one thread.
"""
import sys
import time

import torch

from course_lib import data, seed_everything
from course_lib.lstm_gru import RecurrentLM
from course_lib.positional import TransformerLM
from course_lib.text import Vocab, char_tokenize, lm_random_batches, lm_sequential_batches
from course_lib.train import evaluate_loss, train


def main(steps: int = 1200, eval_every: int = 300) -> None:
    torch.set_num_threads(1)
    text = data.load_text("tinyshakespeare")
    chars = Vocab(char_tokenize(text), specials=())
    ids = torch.tensor(chars.encode(char_tokenize(text)))
    cut = int(0.9 * len(ids))
    train_ids, val_ids = ids[:cut], ids[cut:]

    def val_loss(model):
        return evaluate_loss(model, lm_sequential_batches(val_ids, batch_size=16, seq_len=64), max_batches=40,
                             device="cpu")

    makers = {"LSTM": lambda: RecurrentLM(len(chars), embed_dim=32, hidden_size=128, cell="lstm"),
              "Transformer, sinusoidal P": lambda: TransformerLM(len(chars), d=64, num_heads=4, num_layers=2,
                                                                 max_len=64),
              "Transformer, learned P": lambda: TransformerLM(len(chars), d=64, num_heads=4, num_layers=2,
                                                              max_len=64, learned_positions=True)}
    for name, make in makers.items():
        seed_everything(0)
        model = make()
        batches = lm_random_batches(train_ids, batch_size=32, seq_len=64, generator=torch.Generator().manual_seed(0))
        start = time.perf_counter()
        h = train(model, batches, steps=steps, lr=3e-3, clip=1.0, device="cpu", eval_fn=val_loss,
                  eval_every=eval_every, progress=False)
        curve = ", ".join(f"{s}: {v:.3f}" for s, v in zip(h.eval_step, h.eval_loss))
        print(f"{name:26s} {time.perf_counter() - start:6.1f} s   held-out loss by step  {curve}", flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
