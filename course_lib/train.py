"""The one training loop every notebook uses.

A model follows the course's signature ``forward(idx, targets) -> (logits, loss)``.
``train`` feeds it batches, steps the optimiser, optionally clips the gradients by global norm
or by value (the lecture's remedy for exploding gradients, ``course_lib.clipping``), stops after
a number of steps or seconds,
and returns a ``History`` of loss, perplexity (= exp(loss), loss in nats) and the
gradient norm *before* clipping, which is the number that shows an explosion.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import torch

from .clipping import clip_grad_norm_, clip_grad_value_, grad_norm
from .device import get_device



def token_loss(logits: torch.Tensor, targets: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """The course's loss for ``forward(idx, targets) -> (logits, loss)``: mean cross-entropy over every
    position whose target is not -100 (the pad target). logits (B, T, V), targets and idx (B, T)."""
    if targets.shape != idx.shape:
        raise ValueError(f"targets must have the shape of idx {tuple(idx.shape)}, got {tuple(targets.shape)}")
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)

@dataclass
class History:
    """What happened during training, one entry per optimiser step."""
    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    perplexity: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    stopped_by: str = ""

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else float("nan")

    def smoothed_loss(self, window: int = 20) -> list[float]:
        """Running mean over the last ``window`` steps (single batches are noisy)."""
        out, total = [], 0.0
        for i, v in enumerate(self.loss):
            total += v
            if i >= window:
                total -= self.loss[i - window]
            out.append(total / min(i + 1, window))
        return out

    def plot(self, ax=None, log_perplexity: bool = False, title: str | None = None):
        """Training loss (and evaluation loss, if any) against step, in one line."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(self.step, self.loss, alpha=0.3, label="train loss (batch)")
        ax.plot(self.step, self.smoothed_loss(), label="train loss (smoothed)")
        if self.eval_step:
            ax.plot(self.eval_step, self.eval_loss, "o-", label="validation loss")
        ax.set_xlabel("step")
        ax.set_ylabel("cross-entropy (nats)")
        if log_perplexity:
            ax.set_yscale("log")
        ax.set_title(title or "training")
        ax.legend()
        return ax


def _next_batch(source) -> tuple:
    batch = source() if callable(source) else next(source)
    if not (isinstance(batch, (tuple, list)) and len(batch) >= 2):
        raise TypeError("each batch must be a tuple (inputs, targets, ...)")
    return tuple(batch)


def _move(batch: tuple, device: torch.device) -> tuple:
    return tuple(b.to(device) if isinstance(b, torch.Tensor) else b for b in batch)


def train(model: torch.nn.Module,
          batches: Iterable | Iterator | Callable[[], tuple],
          *,
          steps: int | None = None,
          seconds: float | None = None,
          optimizer: torch.optim.Optimizer | None = None,
          lr: float = 1e-3,
          clip: float | None = None,
          clip_mode: str = "norm",
          scheduler=None,
          anneal: str | None = None,
          anneal_from: float = 0.0,
          device: torch.device | str | None = None,
          eval_fn: Callable[[torch.nn.Module], float] | None = None,
          eval_every: int | None = None,
          progress: bool = True,
          desc: str = "training") -> History:
    """Train ``model`` and return its ``History``.

    batches: an iterable/iterator of ``(x, y)`` (e.g. ``lm_random_batches``) or a function
        returning one batch per call. Tensors are moved to ``device``.
    steps / seconds: stop after this many optimiser steps or this much wall time
        (whichever comes first; at least one must be given). Use ``steps`` where a
        notebook's printed numbers must be reproducible, ``seconds`` for budgets.
    optimizer: defaults to Adam(lr). clip: the clipping threshold (``None``: no clipping);
        ``clip_mode="norm"`` rescales all gradients together to global 2-norm ≤ clip (Mikolov),
        ``"value"`` clamps every entry to [−clip, clip]. ``History.grad_norm`` holds the global
        2-norm before clipping, every step.
    scheduler: an optional ``torch.optim.lr_scheduler`` stepped after every optimiser step.
    anneal: ``"cosine"`` or ``"linear"`` decays every learning rate from its starting value to 0
        over the *budget*: at each step the fraction p used so far is steps done / ``steps`` or
        elapsed / ``seconds``, whichever is further. The rate stays lr₀ until p reaches
        ``anneal_from`` (default 0: decay from the start), then falls over the rest of the budget,
        q = (p − anneal_from) / (1 − anneal_from): lr = lr₀·½(1 + cos πq) or lr₀·(1 − q).
        A budget in seconds has no step count to give a scheduler, which is why the loop does it.
        Deterministic when only ``steps`` is given.
    eval_fn(model) -> loss, run every ``eval_every`` steps and at the end, in eval mode.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if steps is None and seconds is None:
        raise ValueError("give steps=... or seconds=... (or both) so training stops")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be > 0 or None, got {clip!r}")
    if clip_mode not in ("norm", "value"):
        raise ValueError(f"clip_mode must be 'norm' or 'value', got {clip_mode!r}")
    if anneal not in (None, "cosine", "linear"):
        raise ValueError(f"anneal must be None, 'cosine' or 'linear', got {anneal!r}")
    if not 0.0 <= anneal_from < 1.0:
        raise ValueError(f"anneal_from must be in [0, 1), got {anneal_from!r}")
    if anneal is not None and scheduler is not None:
        raise ValueError("give anneal=... or scheduler=..., not both: both would set the learning rate")
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    optimizer = optimizer or torch.optim.Adam(params, lr=lr)
    source = batches if callable(batches) else iter(batches)
    base_lrs = [group["lr"] for group in optimizer.param_groups]

    from tqdm.auto import tqdm  # imported here: only training needs the progress bar
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=False)
    history = History()
    start = time.perf_counter()
    step = 0
    try:
        while True:
            if steps is not None and step >= steps:
                history.stopped_by = f"{steps} steps"
                break
            if seconds is not None and time.perf_counter() - start >= seconds:
                history.stopped_by = f"{seconds:g} s budget"
                break
            try:
                x, y, *rest = _move(_next_batch(source), device)
            except StopIteration:
                history.stopped_by = "data exhausted"
                break
            model.train()
            out = model(x, y, *rest)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("model(idx, targets) must return (logits, loss), as every course model does")
            loss = out[1]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # the global norm BEFORE clipping is what shows an explosion, so that is what History keeps
            if clip is not None and clip_mode == "norm":
                norm = clip_grad_norm_(params, clip)          # returns the norm of the original gradients
            else:
                norm = grad_norm(params)
                if clip is not None:
                    clip_grad_value_(params, clip)
            if anneal is not None:
                p = max(step / steps if steps else 0.0, (time.perf_counter() - start) / seconds if seconds else 0.0)
                _anneal(optimizer, base_lrs, anneal, (p - anneal_from) / (1.0 - anneal_from))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            lv = loss.item()
            if not math.isfinite(lv):
                history.stopped_by = f"loss became {lv} at step {step} (exploding gradients? try clip=1.0 or a smaller lr)"
            history.step.append(step)
            history.loss.append(lv)
            history.perplexity.append(math.exp(min(lv, 700.0)))
            history.grad_norm.append(float(norm))
            history.seconds.append(time.perf_counter() - start)
            if eval_fn is not None and eval_every and step % eval_every == 0:
                _evaluate(model, eval_fn, step, history)
            bar.update(1)
            bar.set_postfix(loss=f"{lv:.3f}", refresh=False)  # no redraw per step: tqdm redraws at most every 0.1 s
            if not math.isfinite(lv):
                break
    finally:
        bar.close()
    if eval_fn is not None and (not history.eval_step or history.eval_step[-1] != step):
        _evaluate(model, eval_fn, step, history)
    return history


def _anneal(optimizer: torch.optim.Optimizer, base_lrs: list[float], shape: str, p: float) -> None:
    """Set every group's lr to its starting value times the decay at fraction p of the decay phase
    (p ≤ 0: not started, full rate; p = 1: the end, rate 0)."""
    p = min(max(p, 0.0), 1.0)
    factor = 0.5 * (1.0 + math.cos(math.pi * p)) if shape == "cosine" else 1.0 - p
    for group, base in zip(optimizer.param_groups, base_lrs):
        group["lr"] = base * factor


def _evaluate(model, eval_fn, step: int, history: History) -> None:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        history.eval_loss.append(float(eval_fn(model)))
    history.eval_step.append(step)
    model.train(was_training)


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, batches: Iterable, max_batches: int | None = None,
                  device: torch.device | str | None = None) -> float:
    """Mean loss of ``model`` over ``batches`` (each batch weighted by its number of targets)."""
    device = get_device() if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i, batch in enumerate(batches):
        if max_batches is not None and i >= max_batches:
            break
        x, y = _move(tuple(batch), device)[:2]
        _, loss = model(x, y)
        n = y.numel()
        total += loss.item() * n
        count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate_loss got no batches")
    return total / count
