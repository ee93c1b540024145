"""Bengio et al.'s fixed-window neural language model (lecture: the window-based neural LM).

For each position t the model reads the last ``window`` tokens x = [e(w_{t-window+1}); ...; e(w_t)]
(their embeddings, concatenated) and predicts the next token:

    ŷ = softmax(W2 tanh(W1 x + b1) + W3 x + b3)

W3 x is the *direct connection* from the inputs to the output (Bengio 2003); it can be turned off.
Unlike an n-gram table, similar words get similar embeddings, so a context never seen in training
still gets a sensible prediction; unlike an RNN, the window is fixed: nothing older is seen.

It has the course's signature ``forward(idx, targets) -> (logits, loss)`` with ``idx`` of shape
``(B, T)``: every position predicts its next token from the window ending there (the window is
left-padded with ``pad_id``, normally the id of ``<bos>``). Targets equal to -100 are ignored
(padding after a short sentence).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .train import token_loss


class FixedWindowLM(nn.Module):
    def __init__(self, vocab_size: int, window: int = 3, embed_dim: int = 16, hidden: int = 128,
                 direct: bool = True, pad_id: int = 0):
        super().__init__()
        for name, v in (("vocab_size", vocab_size), ("window", window), ("embed_dim", embed_dim), ("hidden", hidden)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.window, self.pad_id, self.vocab_size = window, pad_id, vocab_size
        self.embed = nn.Embedding(vocab_size, embed_dim)                 # the lookup table e(.)
        self.hidden = nn.Linear(window * embed_dim, hidden)              # W1, b1
        self.out = nn.Linear(hidden, vocab_size)                         # W2, b3 (one output bias)
        self.direct = nn.Linear(window * embed_dim, vocab_size, bias=False) if direct else None  # W3

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        if not isinstance(idx, torch.Tensor) or idx.ndim != 2 or idx.dtype != torch.long:
            raise ValueError(f"idx must be a (B, T) LongTensor of token ids, got "
                             f"{getattr(idx, 'shape', type(idx).__name__)} {getattr(idx, 'dtype', '')}")
        padded = F.pad(idx, (self.window - 1, 0), value=self.pad_id)        # (B, T + window - 1)
        windows = padded.unfold(1, self.window, 1)                          # (B, T, window)
        x = self.embed(windows).flatten(2)                                  # (B, T, window * E)
        logits = self.out(torch.tanh(self.hidden(x)))                       # (B, T, V)
        if self.direct is not None:
            logits = logits + self.direct(x)
        loss = None
        if targets is not None:
            loss = token_loss(logits, targets, idx)
        return logits, loss


def diagram(context=("the", "cat", "is")):
    """Bengio et al.'s model as a picture: the context words' embeddings (one shared table), concatenated
    into x, the tanh hidden layer, and the softmax output fed by the hidden layer and, directly, by x."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    fig, ax = plt.subplots(figsize=(7, 4.2))
    n = len(context)
    xs = [1.6 * (i - (n - 1) / 2) for i in range(n)]

    def box(x, y, w, text, color):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - 0.22), w, 0.44, boxstyle="round,pad=0.02", fc=color, ec="black", lw=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=8)

    def arrow(x0, y0, x1, y1, **kw):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "lw": 0.8, **kw})

    for i, (x, w) in enumerate(zip(xs, context)):
        box(x, 0, 1.3, f"$w_{{t-{n - i}}}$ = '{w}'", "#f4cccc")
        box(x, 1, 1.3, f"$e(w_{{t-{n - i}}})$", "#fce5cd")
        arrow(x, 0.22, x, 0.78)
        arrow(x, 1.22, 0, 1.78)
    width = 1.6 * n + 0.4
    parts = "; ".join(f"e(w_{{t-{n - i}}})" for i in range(n))
    box(0, 2, width, f"$x = [{parts}]$  (concatenated)", "#fff2cc")
    box(0, 3, 2.6, r"$h = \tanh(W_1 x + b_1)$", "#cfe2f3")
    box(0, 4, 3.6, r"$\hat y = \mathrm{softmax}(W_2 h + W_3 x + b_3)$", "#d9ead3")
    arrow(0, 2.22, 0, 2.78)
    arrow(0, 3.22, 0, 3.78)
    arrow(width / 2 - 0.3, 2.22, 1.8, 3.78, ls="--", color="#b45f06", connectionstyle="arc3,rad=0.35")
    ax.text(width / 2 + 0.2, 3.0, "direct connection\n$W_3 x$", fontsize=8, color="#b45f06", va="center")
    ax.text(xs[-1] + 0.75, 1, "one table e(.),\nshared by every\nposition", fontsize=8, va="center")
    ax.text(0, 4.4, r"$P(w_t \mid$ the last n − 1 words$)$: one probability per word of the vocabulary",
            ha="center", fontsize=8)
    ax.set_xlim(-width / 2 - 0.2, width / 2 + 2.2)
    ax.set_ylim(-0.4, 4.65)
    ax.axis("off")
    ax.set_title(f"the fixed-window neural LM (Bengio et al. 2003), for a window of {n} words", fontsize=9)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- names experiment
# The notebook compares this model with the best count model on names.txt (characters). The
# checkpoint in assets/ is made by:  python -m course_lib.neural_lm train-names

NAMES_CONFIG = {"window": 6, "embed_dim": 24, "hidden": 256, "batch_size": 128, "steps": 12000, "lr": 3e-3,
                "weight_decay": 0.1, "seed": 0}
CHECKPOINT = "names_window_lm.pt"


def checkpoint_path():
    """Where the course keeps the checkpoint: assets/ of the course checkout."""
    from pathlib import Path
    return Path(__file__).resolve().parents[1] / "assets" / CHECKPOINT


def names_split(seed: int = 0, train_share: float = 0.9) -> tuple[list[list[str]], list[list[str]]]:
    """names.txt as character lists, randomly split (the same split the n-gram models use)."""
    import numpy as np

    from . import data
    names = data.load_lines("names")
    order = np.random.default_rng(seed).permutation(len(names))
    cut = int(train_share * len(names))
    return [list(names[i]) for i in order[:cut]], [list(names[i]) for i in order[cut:]]


def sentence_tensors(vocab, sentences) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows ``<bos> w_1 .. w_T`` -> targets ``w_1 .. w_T <eos>``, right-padded: (B, T) each,
    with padding targets = -100 (ignored by the loss)."""
    from .text import pad_batch
    seqs = [[vocab.bos_id] + vocab.encode(s) + [vocab.eos_id] for s in sentences]
    x, _ = pad_batch([s[:-1] for s in seqs], pad_id=vocab.pad_id)
    y, _ = pad_batch([s[1:] for s in seqs], pad_id=-100)
    return x, y


def perplexity(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """exp(mean cross-entropy over the non-padding targets), on the device the model is on."""
    import math

    from .train import evaluate_loss
    return math.exp(evaluate_loss(model, [(x, y)], device=next(model.parameters()).device))


def train_names_model(steps: int | None = None, progress: bool = True, **overrides):
    """Train the fixed-window LM on the names split. Returns (model, vocab, history)."""
    from .device import seed_everything
    from .text import Vocab
    from .train import train
    cfg = {**NAMES_CONFIG, **overrides, **({"steps": steps} if steps else {})}
    train_names, _ = names_split()
    vocab = Vocab(train_names)
    x, y = sentence_tensors(vocab, train_names)
    seed_everything(cfg["seed"])
    model = FixedWindowLM(len(vocab), cfg["window"], cfg["embed_dim"], cfg["hidden"], pad_id=vocab.bos_id)
    gen = torch.Generator().manual_seed(cfg["seed"])

    def batch():
        i = torch.randint(0, len(x), (cfg["batch_size"],), generator=gen)
        return x[i], y[i]

    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg["steps"])
    # device="cpu" on purpose: the shipped checkpoint must be reproduced bit for bit by this command, and
    # GPU kernels round differently.
    history = train(model, batch, steps=cfg["steps"], optimizer=opt, scheduler=sched, device="cpu",
                    progress=progress, desc="window LM on names")
    model.config = cfg
    return model, vocab, history


def save_checkpoint(model: FixedWindowLM, vocab, path, **info) -> None:
    torch.save({"config": model.config, "itos": vocab.itos, "state_dict": model.state_dict(),
                "info": info, "torch": torch.__version__.split("+")[0]}, path)


def load_checkpoint(path):
    """(model, itos, info) from a checkpoint; only tensors and plain values are read (weights_only)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = ckpt["config"]
    model = FixedWindowLM(len(ckpt["itos"]), cfg["window"], cfg["embed_dim"], cfg["hidden"],
                          pad_id=ckpt["itos"].index("<bos>"))
    model.load_state_dict(ckpt["state_dict"])
    model.config = cfg
    return model, ckpt["itos"], ckpt["info"]


def main(argv=None) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m course_lib.neural_lm")
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train-names", help="train the names model of notebook 01 and save the checkpoint")
    t.add_argument("--out", default=str(checkpoint_path()))
    t.add_argument("--steps", type=int, default=NAMES_CONFIG["steps"])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the checkpoint is reproducible bit for bit with one thread
    model, vocab, history = train_names_model(steps=args.steps)
    train_names, test_names = names_split()
    pp = perplexity(model, *sentence_tensors(vocab, test_names))
    save_checkpoint(model, vocab, args.out, heldout_perplexity=pp, steps=args.steps,
                    seconds=round(history.seconds[-1], 1))
    print(f"saved {args.out}: held-out perplexity {pp:.4f} after {args.steps} steps ({history.seconds[-1]:.0f} s)")
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
