"""The gradient-decay widget: how far back does the gradient reach, for a given cell and setting?

Controls: cell, activation, spectral radius ρ, hidden size, T, initialisation, input scale, the
bias of the gate that keeps memory (LSTM forget gate, GRU update gate) and a clipping threshold. Left panel: ‖∂L_T/∂h_{T-k}‖ against the distance k (log scale), measured by
autograd (``course_lib.gradient_flow.measure``), with the reference ρ^k and, for the vanilla RNN,
the bound Π γ_i ‖W_hh‖₂ (drawn under the reference, which it often nearly equals). Right panel: singular values of the one-step Jacobians. A readout gives
the information horizon: steps until the gradient is below 1e-3 of its start.

Without a widget frontend (nbval, a static HTML export), ``static_figure()`` draws the same plot
for the current setting, and the widget's last image is kept in the saved widget state.
"""
from __future__ import annotations

import io
import time

import torch

from .gradient_flow import ACTIVATIONS, CELLS, INITS, FlowResult, FlowSettings, measure


def _figure():
    from matplotlib.figure import Figure   # no pyplot: the widget's figure never shows up twice
    fig = Figure(figsize=(6.9, 3.1), dpi=100)   # a ~690 px column
    ax_grad, ax_sv = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
    fig.subplots_adjust(left=0.11, right=0.985, bottom=0.15, top=0.9, wspace=0.32)
    return fig, ax_grad, ax_sv


def static_figure(**settings):
    """The widget's plot for one setting, as a plain matplotlib figure (for static pages)."""
    plot = _FastPlot()
    plot.render(measure(FlowSettings(**settings)))
    for artist in plot.animated:            # drawn by the figure itself from now on, not blitted
        artist.set_animated(False)
    return plot.fig



def blit_png(canvas, animated) -> bytes:
    """Draw only the ``animated`` artists over the restored background and return the canvas as PNG
    bytes (fast PNG settings): the blitted redraw both widgets (gradient decay, the cliff) use."""
    from PIL import Image
    for artist in animated:
        artist.axes.draw_artist(artist)
    w, h = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()

class _FastPlot:
    """The widget's figure, redrawn fast: the axes, ticks and legends (the background) are drawn
    once per sequence length T; each redraw only restores that background, draws the lines on it
    (blitting) and encodes the pixels as PNG. Full matplotlib redraws cost ~100 ms here; this ~10."""

    SV_RANGE = (1e-5, 1e2)

    def __init__(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        self.fig, self.ax_grad, self.ax_sv = _figure()
        self.canvas = FigureCanvasAgg(self.fig)
        a, b = self.ax_grad, self.ax_sv
        self.measured, = a.semilogy([], [], lw=2, label=r"measured $\Vert\partial L_T/\partial h_{T-k}\Vert$",
                                    animated=True)
        # the bound is drawn first and thin, the reference on top, dashed and in colour: with an orthogonal
        # W_hh (‖W_hh‖₂ = ρ) and weak inputs (γ ≈ 1) the two nearly coincide, and both must stay visible
        self.bound, = a.semilogy([], [], "-", color="black", lw=3, alpha=0.35,
                                 label=r"bound $\prod_i \gamma_i \Vert W_{hh}\Vert_2$ (RNN)", animated=True)
        self.reference, = a.semilogy([], [], "--", color="tab:orange", lw=1.5, label=r"reference $\rho^k$",
                                     animated=True)
        self.horizon = a.axvline(0, color="red", lw=0.8, alpha=0.6, animated=True)
        a.axhline(1e-3, color="red", lw=0.8, alpha=0.6)
        a.set_ylim(1e-12, 1e12)
        a.set_xlabel(r"distance $k = T - t$ (steps back in time)")
        a.set_ylabel("gradient norm")
        a.set_title("gradient through time (red: 1e-3 and the horizon)", fontsize=9)
        # upper right: empty whenever the gradient vanishes (the default settings); the curves are blitted
        # over the background, so where a growing gradient reaches the legend it is drawn on top of it
        a.legend(fontsize=7, loc="upper right", framealpha=0.8)
        self.sv = [b.semilogy([], [], "o-", ms=3, label=lab, animated=True)[0]
                   for lab in ("largest", "median", "smallest")]
        b.axhline(1.0, color="gray", lw=0.8)
        b.set_ylim(*self.SV_RANGE)
        b.set_xlabel(r"time step $t$")
        b.set_ylabel("singular values")
        b.set_title(r"one-step Jacobians $\partial h_t / \partial h_{t-1}$", fontsize=9)
        b.legend(fontsize=7, loc="lower right")
        self._background, self._T = None, None
        self.animated = [self.bound, self.reference, self.measured, self.horizon, *self.sv]   # drawing order

    def render(self, result: FlowResult) -> bytes:
        s, k = result.settings, result.distance
        if self._T != s.T:                                   # new x range: redraw the background once
            self.ax_grad.set_xlim(0, s.T - 1)
            self.ax_sv.set_xlim(0, s.T - 1)
            self.canvas.draw()
            self._background, self._T = self.canvas.copy_from_bbox(self.fig.bbox), s.T
        self.canvas.restore_region(self._background)
        floor = 1e-12
        self.measured.set_data(k, result.grad_norm.clip(floor))
        self.reference.set_data(k, (s.rho ** k.astype(float)).clip(floor))
        if result.bound is not None:
            self.bound.set_data(k, result.bound.clip(floor))
        else:                                                # no bound drawn for gated cells
            self.bound.set_data([], [])
        self.horizon.set_xdata([result.horizon if result.horizon is not None else s.T + 10] * 2)
        has = ~(result.jac_sv[:, 0] != result.jac_sv[:, 0])
        t = k[has[k]]
        for col, line in enumerate(self.sv):
            line.set_data(t, result.jac_sv[t, col].clip(*self.SV_RANGE))
        return blit_png(self.canvas, self.animated)


class GradientFlowWidget:
    """``GradientFlowWidget(**FlowSettings fields)``; display it (it is the ``.ui`` VBox)."""

    def __init__(self, **defaults):
        import ipywidgets as w

        s = FlowSettings(**defaults).checked()
        style, layout = {"description_width": "110px"}, w.Layout(width="330px")
        self.controls = {
            "cell": w.Dropdown(options=CELLS, value=s.cell, description="cell"),
            "activation": w.Dropdown(options=ACTIVATIONS, value=s.activation, description="activation (RNN)"),
            "rho": w.FloatSlider(value=s.rho, min=0.5, max=1.5, step=0.01, description="spectral radius ρ"),
            "hidden": w.IntSlider(value=s.hidden, min=8, max=128, step=8, description="hidden size H"),
            "T": w.IntSlider(value=s.T, min=10, max=200, step=10, description="sequence length T"),
            "init": w.Dropdown(options=INITS, value=s.init, description="initialisation"),
            "input_scale": w.FloatSlider(value=s.input_scale, min=0.0, max=3.0, step=0.1, description="input scale"),
            "memory_bias": w.FloatSlider(value=s.memory_bias, min=0.0, max=5.0, step=0.5,
                                         description="gate bias (f / z)"),
            "clip": w.FloatLogSlider(value=s.clip or 1e6, min=-2, max=6, step=0.25,
                                     description="clip (1e6 = off)"),
        }
        for c in self.controls.values():
            c.style, c.layout, c.continuous_update = style, layout, False
        self.seed = s.seed
        self.plot = _FastPlot()
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width="760px"))
        self.readout = w.HTML()
        self.latencies: list[float] = []
        self.result: FlowResult | None = None
        self.ui = w.VBox([w.HBox([w.VBox(list(self.controls.values())), self.readout]), self.image])
        for c in self.controls.values():
            c.observe(lambda change: self.redraw(), names="value")
        self.redraw()

    def settings(self) -> FlowSettings:
        v = {k: c.value for k, c in self.controls.items()}
        v["clip"] = None if v["clip"] >= 1e6 else float(v["clip"])     # the top of the slider means "off"
        return FlowSettings(seed=self.seed, **v).checked()

    def redraw(self) -> FlowResult:
        """Measure the current setting, redraw the plot and the readout; the time taken is recorded."""
        start = time.perf_counter()
        self.result = r = measure(self.settings(), dtype=torch.float32)
        self.image.value = self.plot.render(r)
        horizon = f"{r.horizon} steps" if r.horizon is not None else f"more than {r.settings.T} steps"
        clip = "off" if r.settings.clip is None else f"{r.settings.clip:g}"
        self.readout.value = (f"<div style='padding:8px;font-size:13px'><b>information horizon: {horizon}</b><br>"
                              f"(steps until the gradient is below 1e-3 of its start)<br>"
                              f"gradient after 10 steps: {r.grad_norm[min(10, len(r.grad_norm) - 1)]:.2e}<br>"
                              f"after {r.settings.T - 1} steps: {r.grad_norm[-1]:.2e}<br>clipping: {clip}</div>")
        self.latencies.append(time.perf_counter() - start)
        return r

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)



# ----------------------------------------------------------------------------- temperature (notebook 03)

def _next_token_probs(model, prompt_ids: list[int]) -> torch.Tensor:
    """The model's next-token logits after reading ``prompt_ids`` (V,), on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        logits, _ = model.step_logits(torch.tensor([prompt_ids], device=device))
    model.train(was_training)
    return logits[0, -1].cpu()


def _label(token: str) -> str:
    return {"\n": "\\n", " ": "␣"}.get(token, token)


def _draw_temperatures(ax, logits, tokens, temperatures, top):
    from .rnn import temperature_probs
    order = torch.argsort(logits, descending=True)[:top]
    width = 0.8 / len(temperatures)
    for j, T in enumerate(temperatures):
        p = temperature_probs(logits, T)[order]
        ax.bar([i + (j - (len(temperatures) - 1) / 2) * width for i in range(top)], p.numpy(), width,
               label=f"T = {T:g}")
    ax.set_xticks(range(top), [_label(tokens[int(i)]) for i in order])
    ax.set_xlabel(f"next token (the {top} most likely at T = 1)")
    ax.set_ylabel("probability softmax(z / T)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)


def temperature_figure(model, tokens: list[str], prompt_ids: list[int], temperatures=(0.5, 1.0, 1.5), top: int = 15):
    """Bars of the next-token distribution softmax(z / T) after a prompt, for a few temperatures."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(8, 3.2), dpi=72)
    ax = fig.subplots()
    _draw_temperatures(ax, _next_token_probs(model, prompt_ids), tokens, temperatures, top)
    ax.set_title("temperature reshapes the next-token distribution: T < 1 sharpens, T > 1 flattens", fontsize=10)
    fig.tight_layout()
    return fig


class TemperatureWidget:
    """A slider for the temperature: the next-token distribution after the prompt and a sample drawn at it.

    ``TemperatureWidget(model, tokens, prompt_ids)``; display it (it is the ``.ui`` VBox)."""

    def __init__(self, model, tokens: list[str], prompt_ids: list[int], temperature: float = 1.0, top: int = 15,
                 sample_length: int = 100, seed: int = 0):
        import ipywidgets as w
        self.model, self.tokens, self.prompt_ids = model, tokens, list(prompt_ids)
        self.top, self.sample_length, self.seed = top, sample_length, seed
        self.logits = _next_token_probs(model, self.prompt_ids)
        self.slider = w.FloatSlider(value=temperature, min=0.1, max=3.0, step=0.1, description="temperature T",
                                    continuous_update=False, style={"description_width": "110px"})
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width="640px"))
        self.sample = w.HTML()
        self.ui = w.VBox([self.slider, self.image, self.sample])
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.redraw()

    def redraw(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from .rnn import generate
        T = self.slider.value
        fig = Figure(figsize=(8, 3.0), dpi=72)
        _draw_temperatures(fig.subplots(), self.logits, self.tokens, (T,), self.top)
        fig.tight_layout()
        buf = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buf)
        self.image.value = buf.getvalue()
        gen = torch.Generator().manual_seed(self.seed)
        text = "".join(self.tokens[i] for i in generate(self.model, self.prompt_ids, self.sample_length,
                                                        temperature=T, generator=gen))
        prompt = "".join(self.tokens[i] for i in self.prompt_ids)
        import html
        self.sample.value = f"<pre style='font-size:12px'>{html.escape(prompt)}<b>{html.escape(text)}</b></pre>"

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)
