"""Gradient clipping, the lecture's remedy for exploding gradients.

Mikolov's heuristic (clipping by **norm**): treat the gradients of all parameters as one vector g
and, if its norm is above a threshold, rescale it:

    if ‖g‖ > threshold:  g ← threshold · g / ‖g‖

so the step keeps its direction and only loses length. Clipping by **value** (the ``np.clip`` of
the Sequence Models course) clamps every entry to [−c, c] instead; entries are cut by different
factors, so the step's *direction* changes too.

The functions here have exactly the semantics of ``torch.nn.utils.clip_grad_norm_`` and
``clip_grad_value_`` (the tests compare them on random parameter sets, zero and huge gradients,
inf and NaN):

* the *global* norm is the p-norm of all gradient entries together, i.e. the p-norm of the
  per-tensor p-norms; p = ``inf`` is the largest |entry|;
* the returned total norm is that of the gradients *before* clipping (the number that shows an
  explosion; ``History.grad_norm`` records it every step);
* the scale is ``max_norm / (total + 1e-6)``, capped at 1, and is applied to every gradient, so a
  non-finite total norm makes every gradient non-finite (NaN) unless ``error_if_nonfinite=True``,
  which raises instead;
* parameters without a gradient (``.grad is None``) are skipped; with none at all the total is 0.
"""
from __future__ import annotations

from typing import Iterable, Union

import torch

Parameters = Union[torch.Tensor, Iterable[torch.Tensor]]

EPS = 1e-6        # added to the total norm before dividing, as torch does


def _grads(parameters: Parameters) -> list[torch.Tensor]:
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def grad_norm(parameters: Parameters, norm_type: float = 2.0) -> torch.Tensor:
    """The global p-norm of all gradients together (a 0-d tensor), without changing them.

    parameters: a tensor or an iterable of tensors (e.g. ``model.parameters()``); each ``.grad``
    may have any shape. norm_type: p (``float('inf')``: max |entry|).
    """
    norm_type = float(norm_type)
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    device = grads[0].device
    per_tensor = torch.stack([torch.linalg.vector_norm(g, norm_type).to(device) for g in grads])   # (n_tensors,)
    return torch.linalg.vector_norm(per_tensor, norm_type)      # the p-norm of the per-tensor p-norms


def clip_grad_norm_(parameters: Parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> torch.Tensor:
    """Rescale all gradients together so their global norm is at most ``max_norm``, in place.

    Returns the total norm of the ORIGINAL gradients (0-d tensor). Same semantics as
    ``torch.nn.utils.clip_grad_norm_``: scale = min(1, max_norm / (total + 1e-6)) times every
    gradient; a NaN/inf total raises ``RuntimeError`` if ``error_if_nonfinite`` and otherwise
    turns the gradients into NaN (training then stops: ``train`` reports the non-finite loss).
    """
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = grad_norm(parameters, norm_type)
    if not grads:
        return total
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError(f"The total norm of order {float(norm_type)} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
                           "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    scale = torch.clamp(float(max_norm) / (total + EPS), max=1.0)   # ≤ 1: gradients below the threshold are kept
    for g in grads:
        g.mul_(scale.to(g.device, g.dtype))
    return total


def clip_grad_value_(parameters: Parameters, clip_value: float) -> None:
    """Clamp every gradient entry to [−clip_value, clip_value], in place (``clip_grad_value_``).

    NaN entries stay NaN; ±inf become ±clip_value. Unlike norm clipping this changes the
    direction of the gradient whenever some entries are cut and others are not.
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.clamp_(min=-clip_value, max=clip_value)


def clip_vector(g: torch.Tensor, threshold: float, mode: str = "norm") -> torch.Tensor:
    """A clipped copy of one gradient vector ``g`` (any shape): ``mode="norm"`` rescales it to
    norm ≤ threshold (direction kept), ``mode="value"`` clamps each entry (direction changes).
    For the 2-D pictures of this notebook; training uses the in-place functions above."""
    if mode not in ("norm", "value"):
        raise ValueError(f"mode must be 'norm' or 'value', got {mode!r}")
    g = g.detach().clone()
    carrier = torch.zeros_like(g, requires_grad=True)
    carrier.grad = g
    (clip_grad_norm_ if mode == "norm" else clip_grad_value_)(carrier, threshold)
    return carrier.grad
