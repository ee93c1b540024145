"""The one-unit RNN whose error surface has a cliff (Pascanu, Mikolov & Bengio 2013, §3).

One hidden unit, no input, run for T steps from x_0 = 0.5:

    x_t = w · σ(x_{t-1}) + b,        L(w, b) = (x_T − 0.7)²

This is the lecture's cell h_t = σ(w h_{t-1} + b) with one unit (h_t = σ(x_t), written on the
pre-activation x_t as in the paper, sigmoid as there). For w > 4 the map has two stable fixed
points; which one x_T reaches flips abruptly along a line in the (w, b) plane. Across that line
x_T jumps by several units within a band of width ~0.02, so the loss has a **cliff**: a wall
where ∂L/∂(w, b) is hundreds or thousands of times larger than elsewhere (an exploding gradient).
Plain gradient descent that reaches the wall is thrown far away; with the gradient clipped to a
threshold (``course_lib.clipping``) the step stays short and descent goes on near the wall.

Everything is float64 and vectorised over grids of (w, b); gradients come from autograd.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .clipping import clip_grad_norm_, clip_grad_value_

T = 10            # steps of the recurrence (longer T: a thinner, steeper wall)
X0 = 0.5          # x_0
TARGET = 0.7      # the wanted x_T
W_RANGE = (2.0, 12.0)
B_RANGE = (-8.0, 0.0)
START = (10.0, -3.0)   # where the demo's descents start: downhill of them lies the wall
LR = 0.01
STEPS = 60
THRESHOLD = 10.0       # about the gradient norm away from the wall


def final_state(w: torch.Tensor, b: torch.Tensor, steps: int = T) -> torch.Tensor:
    """x_T for parameters w, b of any (broadcastable) shape; same shape out."""
    x = torch.full(torch.broadcast_shapes(w.shape, b.shape), X0, dtype=w.dtype, device=w.device)
    for _ in range(steps):
        x = w * torch.sigmoid(x) + b
    return x


def loss(w, b, steps: int = T) -> torch.Tensor:
    """L(w, b) = (x_T − 0.7)², elementwise over tensors (or floats) w and b."""
    w, b = torch.as_tensor(w, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return (final_state(w, b, steps) - TARGET) ** 2


def loss_and_grad(w: float, b: float, steps: int = T) -> tuple[float, float, float]:
    """(L, ∂L/∂w, ∂L/∂b) at one point, by autograd in float64."""
    p = torch.tensor([float(w), float(b)], dtype=torch.float64, requires_grad=True)
    value = loss(p[0], p[1], steps)
    value.backward()
    return float(value.detach()), float(p.grad[0]), float(p.grad[1])


def surface(n: int = 200, w_range=W_RANGE, b_range=B_RANGE, steps: int = T):
    """The loss on an n × n grid: (w (n,), b (n,), L (n_b, n_w)), ready for ``contourf(w, b, L)``."""
    w = torch.linspace(*w_range, n, dtype=torch.float64)
    b = torch.linspace(*b_range, n, dtype=torch.float64)
    return w.numpy(), b.numpy(), loss(w[None, :], b[:, None], steps).numpy()


@dataclass
class Trajectory:
    """A descent on the surface: points (steps+1, 2) as (w, b), loss (steps+1,), and the gradient
    norm before clipping (steps,)."""
    points: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    clip: float | None
    mode: str

    @property
    def largest_jump(self) -> float:
        """The longest single step, in (w, b) units."""
        return float(np.linalg.norm(np.diff(self.points, axis=0), axis=1).max())


def descend(start=START, lr: float = LR, steps: int = STEPS, clip: float | None = None, mode: str = "norm",
            n_steps: int = T) -> Trajectory:
    """Plain gradient descent p ← p − lr · g on L(w, b) from ``start``, the gradient g clipped first
    (by norm or by value, with ``course_lib.clipping``, the same code ``train`` uses) when ``clip``
    is given. Stops early if the parameters become non-finite."""
    if mode not in ("norm", "value"):
        raise ValueError(f"mode must be 'norm' or 'value', got {mode!r}")
    p = torch.tensor([float(s) for s in start], dtype=torch.float64, requires_grad=True)
    points, losses, norms = [p.detach().numpy().copy()], [], []
    for _ in range(steps):
        p.grad = None
        value = loss(p[0], p[1], n_steps)
        value.backward()
        losses.append(float(value.detach()))
        if clip is None:
            norms.append(float(p.grad.norm()))
        elif mode == "norm":
            norms.append(float(clip_grad_norm_([p], clip)))   # returns the norm before clipping
        else:
            norms.append(float(p.grad.norm()))
            clip_grad_value_([p], clip)
        with torch.no_grad():
            p -= lr * p.grad
        points.append(p.detach().numpy().copy())
        if not torch.isfinite(p).all():
            break
    losses.append(float(loss(p.detach()[0], p.detach()[1], n_steps)))
    return Trajectory(np.array(points), np.array(losses), np.array(norms), clip, mode)


# ----------------------------------------------------------------------------- the figure and its widget

def _figure():
    from matplotlib.figure import Figure       # no pyplot: the widget's figure never shows up twice
    fig = Figure(figsize=(6.9, 3.3), dpi=100)  # a ~690 px column
    ax, ax_norm = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    fig.subplots_adjust(left=0.08, right=0.985, bottom=0.14, top=0.86, wspace=0.62)
    return fig, ax, ax_norm


class _CliffPlot:
    """Contour of log10 L with two descents (no clipping: red; clipped: white) and, right, their
    gradient norms per step. The contour (the slow part) is drawn once; a redraw blits the lines."""

    def __init__(self, grid: int = 160):
        from matplotlib import patheffects
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        self.fig, self.ax, self.ax_norm = _figure()
        self.canvas = FigureCanvasAgg(self.fig)
        w, b, L = surface(grid)
        cs = self.ax.contourf(w, b, np.log10(L + 1e-3), levels=30, cmap="viridis")
        self.fig.colorbar(cs, ax=self.ax, label="log10 L(w, b)", fraction=0.05)
        self.ax.set(xlim=W_RANGE, ylim=B_RANGE, xlabel="recurrent weight w", ylabel="bias b")
        self.ax.set_title("error surface of the one-unit RNN\n(the cliff: thin dark line)", fontsize=9)
        self.plain, = self.ax.plot([], [], ".-", color="red", ms=3, lw=1, label="no clipping", animated=True)
        # white with a black outline: visible on the dark contour and in the (white) legend box
        outline = [patheffects.Stroke(linewidth=2.6, foreground="black"), patheffects.Normal()]
        self.clipped, = self.ax.plot([], [], ".-", color="white", ms=3, lw=1.2, label="clipped", animated=True,
                                     path_effects=outline)
        self.ax.plot(*START, "o", color="orange", ms=7, label="start")
        self.ax.legend(fontsize=8, loc="lower left")
        a = self.ax_norm
        self.norm_plain, = a.semilogy([], [], color="red", label="no clipping", animated=True)
        self.norm_clipped, = a.semilogy([], [], color="black", label="clipped", animated=True)
        self.threshold = a.axhline(THRESHOLD, color="gray", ls="--", lw=1, label="threshold", animated=True)
        a.set(xlim=(0, STEPS), ylim=(1e-1, 1e5), xlabel="descent step", ylabel="‖g‖ = ‖∂L/∂(w, b)‖, before clipping")
        a.set_title("gradient norm per step", fontsize=9)
        a.legend(fontsize=8, loc="upper left")
        self.animated = [self.plain, self.clipped, self.norm_plain, self.norm_clipped, self.threshold]
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, plain: Trajectory, clipped: Trajectory) -> bytes:
        self.canvas.restore_region(self.background)
        self.plain.set_data(plain.points[:, 0], plain.points[:, 1])
        self.clipped.set_data(clipped.points[:, 0], clipped.points[:, 1])
        self.norm_plain.set_data(np.arange(len(plain.grad_norm)), plain.grad_norm)
        self.norm_clipped.set_data(np.arange(len(clipped.grad_norm)), clipped.grad_norm)
        self.threshold.set_ydata([clipped.clip] * 2)
        from .widgets import blit_png
        return blit_png(self.canvas, self.animated)


def cliff_figure(threshold: float = THRESHOLD, lr: float = LR, mode: str = "norm"):
    """The widget's plot for one threshold, as a plain matplotlib figure (headless runs, static pages)."""
    plot = _CliffPlot()
    plot.render(descend(lr=lr), descend(lr=lr, clip=threshold, mode=mode))
    for artist in plot.animated:          # drawn by the figure itself from now on, not blitted
        artist.set_animated(False)
    return plot.fig


class CliffWidget:
    """A threshold slider (log scale), a learning-rate slider and norm/value clipping; every change
    recomputes both descents and redraws. Display it (it is the ``.ui`` VBox)."""

    def __init__(self, threshold: float = THRESHOLD, lr: float = LR, mode: str = "norm"):
        import ipywidgets as w

        style, layout = {"description_width": "100px"}, w.Layout(width="330px")
        self.controls = {
            "threshold": w.FloatLogSlider(value=threshold, min=-1, max=4, step=0.1, description="threshold"),
            "lr": w.FloatLogSlider(value=lr, min=-3, max=-1, step=0.1, description="learning rate"),
            "mode": w.Dropdown(options=("norm", "value"), value=mode, description="clip by"),
        }
        for c in self.controls.values():
            c.style, c.layout, c.continuous_update = style, layout, False
        self.plot = _CliffPlot()
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width="760px"))
        self.readout = w.HTML()
        self.latencies: list[float] = []
        self.ui = w.VBox([w.HBox([w.VBox(list(self.controls.values())), self.readout]), self.image])
        for c in self.controls.values():
            c.observe(lambda change: self.redraw(), names="value")
        self.redraw()

    def redraw(self) -> tuple[Trajectory, Trajectory]:
        start = time.perf_counter()
        v = {k: c.value for k, c in self.controls.items()}
        plain = descend(lr=v["lr"])
        clipped = descend(lr=v["lr"], clip=v["threshold"], mode=v["mode"])
        self.image.value = self.plot.render(plain, clipped)
        self.readout.value = (f"<div style='padding:8px;font-size:13px'>"
                              f"<b>no clipping</b>: largest step {plain.largest_jump:.2f}, final loss {plain.loss[-1]:.3g}<br>"
                              f"<b>clipped</b> ({v['mode']}, {v['threshold']:.3g}): largest step "
                              f"{clipped.largest_jump:.2f}, final loss {clipped.loss[-1]:.3g}</div>")
        self.latencies.append(time.perf_counter() - start)
        return plain, clipped

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)
