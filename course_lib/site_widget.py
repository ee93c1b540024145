"""The gradient-decay widget alive on the static website: no kernel, no network.

The Python widget (``course_lib.widgets.GradientFlowWidget``) measures ‖∂L_T/∂h_{T-k}‖ by autograd at
every slider move. A static page has no Python, so at build time ``write_grid`` measures the same thing
(``gradient_flow.measure``, float32, as the widget does) for every setting of a grid, and the page's script
(``assets/site/gradient_widget.js``, served from the site itself) redraws from that data:

* cell: RNN (activation tanh / ReLU / linear, ρ from 0.5 to 1.5 in steps of 0.05), LSTM and GRU (ρ in
  steps of 0.25, the bias of the gate that keeps memory, f or z, from 0 to 5);
* initialisation: gaussian, orthogonal, identity; sequence length T: 50 or 100; H = 64, input scale 1, seed 0.

**Clipping needs no grid.** Backpropagation is linear in the gradient it carries, and clipping only
rescales that gradient by a number. So if u_k is the unclipped gradient norm at distance k and a the
product of the scale factors applied at the steps after it, the clipped norm is min(c, a·u_k), and a is
multiplied by c / (a·u_k) whenever that is below 1. ``clipped`` does this in Python, the page's script the
same in JavaScript, and a test checks both against ``measure(clip=c)``.

    python -m course_lib.site_widget out.js      # write the data file (the site build does it)
"""
from __future__ import annotations

import hashlib
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .gradient_flow import ACTIVATIONS, INITS, FlowSettings

HIDDEN, SEED, INPUT_SCALE = 64, 0, 1.0
LENGTHS = (50, 100)
RNN_RHOS = tuple(round(0.5 + 0.05 * i, 2) for i in range(21))
GATED_RHOS = (0.5, 0.75, 1.0, 1.25, 1.5)
BIASES = (0, 1, 2, 3, 4, 5)
DIGITS = 3                                   # log10 values rounded to 3 decimals: 0.7 % at most, invisible on a log plot


def key(s: FlowSettings) -> str:
    """The grid's name for a setting: cell|activation|rho|init|T|bias (``-`` where a field does not apply)."""
    act = s.activation if s.cell == "rnn" else "-"
    bias = "-" if s.cell == "rnn" else f"{s.memory_bias:g}"
    return f"{s.cell}|{act}|{s.rho:g}|{s.init}|{s.T}|{bias}"


def settings_grid() -> list[FlowSettings]:
    base = dict(hidden=HIDDEN, seed=SEED, input_scale=INPUT_SCALE)
    grid = [FlowSettings(cell="rnn", activation=a, rho=r, init=i, T=T, **base)
            for a in ACTIVATIONS for r in RNN_RHOS for i in INITS for T in LENGTHS]
    grid += [FlowSettings(cell=c, rho=r, init=i, T=T, memory_bias=float(b), **base)
             for c in ("lstm", "gru") for r in GATED_RHOS for i in INITS for T in LENGTHS for b in BIASES]
    return grid


def _log(x) -> list[float | None]:
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        out = np.round(np.log10(np.clip(x, 1e-300, None)), DIGITS)
    return [None if not np.isfinite(v) else float(v) for v in out]


def entry(s: FlowSettings) -> dict:
    """What the page needs for one setting: log10 of the unclipped gradient norms by distance k, of the bound
    (RNN), and of the Jacobians' singular values at the sampled steps (t, largest, median, smallest)."""
    import torch

    from .gradient_flow import measure
    torch.set_num_threads(1)
    with np.errstate(over="ignore"):          # the RNN's bound overflows float32 for ReLU / linear at large ρ
        r = measure(s, dtype=torch.float32)
    rows = [[int(t), *_log(r.jac_sv[t])] for t in range(s.T) if not np.isnan(r.jac_sv[t, 0])]
    return {"g": _log(r.grad_norm), "b": None if r.bound is None else _log(r.bound), "sv": rows}


def clipped(norms: np.ndarray, clip: float | None) -> np.ndarray:
    """The gradient norms by distance with clipping at every step, from the unclipped ones (see the module's
    docstring): exactly what ``measure(clip=c)`` computes by autograd."""
    norms = np.asarray(norms, dtype=float)
    if clip is None:
        return norms.copy()
    out, a = np.empty_like(norms), 1.0
    for k, u in enumerate(norms):
        n = a * u
        if n > clip:
            a *= clip / n
            n = clip
        out[k] = n
    return out


def horizon(norms: np.ndarray) -> int | None:
    """First distance k where the norm is below 1e-3 of its start (as ``gradient_flow.measure``)."""
    below = np.nonzero(np.asarray(norms) < 1e-3 * norms[0])[0]
    return int(below[0]) if below.size else None


def _fingerprint() -> str:
    """Changes when the code that produces the data changes (the build's cache key)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("site_widget.py", "gradient_flow.py", "lstm_gru.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def grid_data(jobs: int = 2) -> dict:
    grid = settings_grid()
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        entries = list(pool.map(entry, grid, chunksize=8))
    return {"version": _fingerprint(), "hidden": HIDDEN, "seed": SEED, "lengths": list(LENGTHS),
            "rnn_rhos": list(RNN_RHOS), "gated_rhos": list(GATED_RHOS), "biases": list(BIASES),
            "inits": list(INITS), "activations": list(ACTIVATIONS),
            "curves": {key(s): e for s, e in zip(grid, entries)}}


def write_grid(path: str | Path, cache_dir: str | Path | None = None, jobs: int = 2) -> Path:
    """Write ``window.COURSE_GRADIENT_GRID = {...};`` to ``path`` (a script, so the page works from a file too).
    With ``cache_dir``, data measured by the same code is reused instead of measured again."""
    path = Path(path)
    cached = Path(cache_dir) / f"gradient_grid-{_fingerprint()}.js" if cache_dir else None
    if cached is not None and cached.is_file():
        text = cached.read_text(encoding="utf-8")
    else:
        text = "window.COURSE_GRADIENT_GRID = " + json.dumps(grid_data(jobs), separators=(",", ":")) + ";\n"
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(text, encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def html(**start) -> str:
    """The page's widget: a container the script fills, started at ``start`` (FlowSettings fields)."""
    attrs = " ".join(f'data-{k.lower()}="{v}"' for k, v in start.items())
    return (f'<div class="course-gradient-widget" {attrs}><p>The live gradient-decay widget needs JavaScript.</p>'
            '</div>\n<script src="../_static/gradient_grid.js"></script>\n'
            '<script src="../_static/gradient_widget.js"></script>\n')


if __name__ == "__main__":
    out = write_grid(sys.argv[1] if len(sys.argv) > 1 else "gradient_grid.js")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(settings_grid())} settings)")
