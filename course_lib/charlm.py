"""Character-level language models on Tiny Shakespeare: one corpus, one split, one recipe, every model.

The lecture claims that gated cells (LSTM, GRU) model language better than the vanilla RNN, and
neural models better than counts. Notebook 06 measures it here, on the same held-out characters
for every model:

* **split**: the first 90% of the text trains, the last 10% is held out. The split is contiguous, so
  the held-out lines come from later scenes the models never saw (and score worse than the training
  text: a harder, honest test).
* **count model**: notebook 01's interpolated Kneser-Ney (``ngram.KneserNey``) on characters, each
  line a sentence (its newline is the predicted ``<eos>``).
* **neural models**: ``lstm_gru.RecurrentLM`` with ``cell`` = "rnn", "lstm" or "gru", trained by the
  course's one loop (``train.train``) with one recipe, ``RECIPE``: embedding 64, one layer of 256
  units, batches of 64 random windows of 100 characters, Adam at 4e-3 held for the first 3/4 of the
  budget and then decayed linearly to 0, gradients clipped to global norm 1. (The LSTM on this split
  after 1,500 steps, one thread: Adam at 2e-3 held to the end 1.579 nats/char, 3e-3 with a cosine from
  the start 1.602, 4e-3 held to the end 1.551, 3e-3 held then decayed 1.549, 4e-3 held then decayed,
  the recipe, 1.521: a short budget wants a high rate for long and a decay at the end.)
* **held-out loss**: mean cross-entropy in nats per character over the held-out text cut into
  windows of 100 characters (``held_out_batches``; each window starts from h_0 = 0, so the model
  never carries context across windows). exp(loss) is the per-character perplexity.

Checkpoints (``assets/shakespeare_char_{cell}.pt``) are made, and reproduced bit for bit on a CPU with
one thread, by ``python -m course_lib.charlm train`` (``--cell lstm`` for one). The notebook loads them
because their training takes minutes, longer than a notebook may run.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from .lstm_gru import CELLS, RecurrentLM

TRAIN_SHARE = 0.9
RECIPE = {"embed_dim": 64, "hidden_size": 256, "num_layers": 1, "batch_size": 64, "seq_len": 100, "lr": 4e-3,
          "anneal": "linear", "anneal_from": 0.75, "clip": 1.0, "seed": 0}
CHECKPOINT_STEPS = 1500          # ~ 2 minutes for the LSTM on a quiet 2-core CPU
EVAL_EVERY = 100
KN_ORDER = 6                     # the best order on this split (notebook 06 prints the others)


def corpus():
    """(vocab, ids (N,), cut): every character of Tiny Shakespeare as an id; ids[:cut] trains.
    The vocabulary is the 65 characters of the whole text, no special tokens (a character LM
    reading a stream needs none)."""
    from . import data
    from .text import Vocab, char_tokenize
    text = data.load_text("tinyshakespeare")
    chars = char_tokenize(text)
    vocab = Vocab(chars, specials=())
    ids = torch.tensor(vocab.encode(chars))
    return vocab, ids, int(TRAIN_SHARE * len(ids))


def held_out_batches(ids: torch.Tensor, cut: int, batch_size: int = 64, seq_len: int = 100) -> list:
    """The held-out text as a list of ``(x, y)`` batches, each (batch_size, seq_len), read in order."""
    from .text import lm_sequential_batches
    return list(lm_sequential_batches(ids[cut:], batch_size, seq_len))


def held_out_loss(model: torch.nn.Module, batches: list, device=None) -> float:
    """Nats per character of ``model`` on the held-out batches (``train.evaluate_loss``)."""
    from .train import evaluate_loss
    return evaluate_loss(model, batches, device=device if device is not None else next(model.parameters()).device)


def kneser_ney_loss(n: int = KN_ORDER) -> float:
    """Nats per character of notebook 01's interpolated Kneser-Ney of order ``n``, fitted on the
    training lines and scored on the held-out lines (each line a sentence of characters + <eos>)."""
    from . import data
    from .ngram import KneserNey
    text = data.load_text("tinyshakespeare")
    cut = int(TRAIN_SHARE * len(text))
    train_lines = [list(line) for line in text[:cut].split("\n")]
    test_lines = [list(line) for line in text[cut:].split("\n")]
    return math.log(KneserNey(n).fit(train_lines).perplexity(test_lines))


def make_model(cell: str, vocab_size: int, **overrides) -> RecurrentLM:
    """The recipe's model for ``cell`` ("rnn", "lstm" or "gru"), PyTorch's fast layers inside."""
    cfg = {**RECIPE, **overrides}
    return RecurrentLM(vocab_size, cfg["embed_dim"], cfg["hidden_size"], cfg["num_layers"], cell=cell)


def train_char_lm(cell: str = "lstm", *, steps: int | None = None, seconds: float | None = None, device=None,
                  eval_every: int | None = None, progress: bool = True, **overrides):
    """Train the recipe's ``cell`` model for ``steps`` optimiser steps or ``seconds`` of wall time
    (the learning rate's decay is placed in that budget). Returns (model, vocab, history); ``history.eval_loss``
    holds the held-out loss every ``eval_every`` steps when given."""
    from .device import seed_everything
    from .text import lm_random_batches
    from .train import train
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    cfg = {**RECIPE, **overrides}
    vocab, ids, cut = corpus()
    seed_everything(cfg["seed"])
    model = make_model(cell, len(vocab), **overrides)
    batches = lm_random_batches(ids[:cut], cfg["batch_size"], cfg["seq_len"],
                                generator=torch.Generator().manual_seed(cfg["seed"]))
    held = held_out_batches(ids, cut)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    history = train(model, batches, steps=steps, seconds=seconds, optimizer=opt, clip=cfg["clip"],
                    anneal=cfg["anneal"], anneal_from=cfg["anneal_from"], device=device, progress=progress, desc=f"char {cell.upper()}",
                    eval_fn=(lambda m: held_out_loss(m, held)) if eval_every else None, eval_every=eval_every)
    model.config = {**cfg, "cell": cell}
    return model, vocab, history


# ----------------------------------------------------------------------------- checkpoints

def checkpoint_path(cell: str) -> Path:
    """assets/shakespeare_char_{cell}.pt of the course checkout."""
    return Path(__file__).resolve().parents[1] / "assets" / f"shakespeare_char_{cell}.pt"


def _half(state_dict: dict) -> dict:
    # float16 halves the files; loading upcasts, and the loss stored is measured after the round trip
    return {k: v.half() if v.is_floating_point() else v for k, v in state_dict.items()}


def load_checkpoint(cell: str, path=None):
    """(model in float32 on the CPU, itos, info) from ``path`` (default: the course's checkpoint).
    ``info`` holds the training's held-out curve (``eval_step``, ``eval_loss``), its ``seconds``,
    ``steps`` and the final ``held_out_loss``; only tensors and plain values are read."""
    ckpt = torch.load(path or checkpoint_path(cell), map_location="cpu", weights_only=True)
    cfg = ckpt["config"]
    model = make_model(cfg["cell"], len(ckpt["itos"]), **{k: cfg[k] for k in ("embed_dim", "hidden_size",
                                                                                "num_layers")})
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()})
    model.config = cfg
    return model, ckpt["itos"], ckpt["info"]


def make_checkpoint(cell: str, steps: int = CHECKPOINT_STEPS, path=None, progress: bool = True) -> dict:
    """Train the recipe's ``cell`` model for ``steps`` on the CPU and save it; returns its info."""
    # the CPU on purpose: the shipped checkpoints are reproduced bit for bit there; GPU kernels round differently
    model, vocab, history = train_char_lm(cell, steps=steps, device="cpu", eval_every=EVAL_EVERY,
                                          progress=progress)
    state = _half(model.state_dict())
    model.load_state_dict({k: v.float() for k, v in state.items()})
    _, ids, cut = corpus()
    info = {"steps": steps, "seconds": round(history.seconds[-1], 1), "eval_step": history.eval_step[:-1],
            "eval_loss": history.eval_loss[:-1], "held_out_loss": held_out_loss(model, held_out_batches(ids, cut)),
            "train_loss_last100": sum(history.loss[-100:]) / len(history.loss[-100:]),
            "threads": torch.get_num_threads()}
    info["eval_step"].append(steps)        # the last point: the stored (float16) weights
    info["eval_loss"].append(info["held_out_loss"])
    torch.save({"config": model.config, "itos": vocab.itos, "state_dict": state, "info": info,
                "torch": torch.__version__.split("+")[0]}, path or checkpoint_path(cell))
    return info


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.charlm")
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train the char LMs of notebook 06 and save their checkpoints in assets/")
    t.add_argument("--cell", choices=(*CELLS, "all"), default="all")
    t.add_argument("--steps", type=int, default=CHECKPOINT_STEPS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # one thread: the checkpoints are reproducible bit for bit
    for cell in (CELLS if args.cell == "all" else (args.cell,)):
        info = make_checkpoint(cell, args.steps)
        print(f"saved {checkpoint_path(cell)}: held-out {info['held_out_loss']:.4f} nats/char after "
              f"{info['steps']} steps ({info['seconds']:.0f} s, 1 thread)", flush=True)
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
