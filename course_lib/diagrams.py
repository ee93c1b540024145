"""Diagrams of the gated cells and of unrolled RNNs, in the lecture's notation (matplotlib, no data).

Each function returns a Figure about 6.9 inches wide (690 px at 100 dpi, the course site's column):

- ``lstm_cell()``: gates i, f, o and the candidate c̃ read [h_{t-1}, x_t]; the cell state runs along the
  top, c_{t-1} → ⊙ f_t → + i_t ⊙ c̃_t → c_t, the additive path that carries the gradient.
- ``gru_cell()``: gates r and z; the state h_{t-1} runs along the top and is mixed with the candidate
  h̃_t by z_t and 1 − z_t.
- ``bidirectional_rnn(T)``: a forward chain and a backward chain over x_1..x_T; each output reads both.
- ``stacked_rnn(layers, T)``: layer i reads layer i − 1 at the same step and its own state one step back.

Drawing rules, so that every diagram reads the same way: a rectangle is a learned layer (weights, bias,
activation), a circle an elementwise operation, a dot a junction where a vector is copied; no two lines
cross (every diagram is laid out as a plane graph; the GRU's reset path goes round the bottom for that).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch

WIDTH_IN = 6.9                    # the site's column is ~690 px wide at 100 dpi
LINE = dict(color="black", lw=1.3, solid_capstyle="butt", zorder=1)
HIGHWAY = dict(color="#1f77b4", lw=3.2, solid_capstyle="butt", zorder=1)
GATE_FC, TANH_FC, OP_FC, STATE_FC = "#fde9a9", "#f7c6a3", "white", "#cfe3f6"
FONT = 11


def _canvas(xlim, ylim):
    """A figure WIDTH_IN wide whose axes have equal units in x and y (circles stay round)."""
    w, h = xlim[1] - xlim[0], ylim[1] - ylim[0]
    fig = plt.figure(figsize=(WIDTH_IN, WIDTH_IN * h / w))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _path(ax, pts, arrow=True, style=LINE):
    """A polyline through ``pts``; its last segment ends in an arrowhead at the last point."""
    xs, ys = zip(*pts)
    if len(pts) > 2:
        ax.plot(xs[:-1], ys[:-1], **style)
    if arrow:
        ax.annotate("", xy=pts[-1], xytext=pts[-2], zorder=style["zorder"],
                    arrowprops=dict(arrowstyle="-|>", color=style["color"], lw=style["lw"],
                                    shrinkA=0, shrinkB=0, mutation_scale=14))
    else:
        ax.plot(xs[-2:], ys[-2:], **style)


def _dot(ax, x, y, color="black"):
    ax.add_patch(Circle((x, y), 0.07, fc=color, ec=color, zorder=3))


def _box(ax, x, y, text, w=0.9, h=0.6, fc=GATE_FC, fontsize=FONT):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                fc=fc, ec="black", lw=1.0, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _op(ax, x, y, text, r=0.28, fontsize=FONT + 2):
    ax.add_patch(Circle((x, y), r, fc=OP_FC, ec="black", lw=1.0, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _label(ax, x, y, text, ha="left", va="center", fontsize=FONT, color="black", **kw):
    ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize, color=color, zorder=4, **kw)


def _legend_line(ax, x, y):
    _label(ax, x, y, "rectangle: a learned layer (weights, bias, σ or tanh)    circle: elementwise    dot: copy",
           fontsize=8.5, color="0.3", ha="left")


def lstm_cell():
    """The LSTM cell: four layers read [h_{t-1}, x_t]; the cell state c runs along the top (the highway).

    c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t and h_t = o_t ⊙ tanh(c_t); the top line meets one multiplication
    and one addition per step, and no squashing, which is why its gradient survives many steps.
    """
    fig, ax = _canvas((-1.15, 10.45), (-1.35, 4.85))
    R, yb, yc, yg = 0.28, 0.4, 4.0, 1.7            # circle radius, bus, cell-state line, gate row
    xf, xi, xg, xo, xt = 2.0, 3.5, 4.6, 6.2, 7.6   # forget, input, candidate, output columns, tanh(c)
    # the cell state's additive path
    _label(ax, -0.25, yc, r"$c_{t-1}$", ha="right")
    _path(ax, [(-0.2, yc), (xf - R, yc)], arrow=False, style=HIGHWAY)
    _path(ax, [(xf + R, yc), (xg - R, yc)], arrow=False, style=HIGHWAY)
    _path(ax, [(xg + R, yc), (9.75, yc)], style=HIGHWAY)
    _label(ax, 9.85, yc, r"$c_t$")
    _label(ax, 3.3, yc + 0.42, "cell state: the additive path (the gradient's highway)", ha="center",
           fontsize=9.5, color="#1f77b4")
    _op(ax, xf, yc, r"$\odot$")
    _op(ax, xg, yc, "+")
    # the input [h_{t-1}, x_t], copied to the four layers
    _label(ax, -0.25, yb, r"$h_{t-1}$", ha="right")
    _path(ax, [(-0.2, yb), (xo, yb), (xo, yg - 0.3)])
    _label(ax, 0.7, -0.95, r"$x_t$", ha="center")
    _path(ax, [(0.7, -0.7), (0.7, yb - 0.07)])
    _dot(ax, 0.7, yb)
    _label(ax, 0.78, yb + 0.1, r"$[h_{t-1}, x_t]$", va="bottom", fontsize=10)
    for x in (xf, xi, xg):
        _dot(ax, x, yb)
        _path(ax, [(x, yb), (x, yg - 0.3)])
    for x, fn, fc, name in ((xf, r"$\sigma$", GATE_FC, "forget"), (xi, r"$\sigma$", GATE_FC, "input"),
                            (xg, "tanh", TANH_FC, "candidate"), (xo, r"$\sigma$", GATE_FC, "output")):
        _box(ax, x, yg, fn, fc=fc)
        _label(ax, x, yg - 0.42, name, ha="center", va="top", fontsize=8.5, color="0.3",
               bbox=dict(fc="white", ec="none", pad=0.5))
    # forget gate scales the old cell; input gate scales the candidate; both meet on the top line
    _path(ax, [(xf, yg + 0.3), (xf, yc - R)])
    _label(ax, xf + 0.12, 2.85, r"$f_t$")
    _op(ax, xg, 3.0, r"$\odot$")
    _path(ax, [(xi, yg + 0.3), (xi, 3.0), (xg - R, 3.0)])
    _label(ax, xi - 0.12, 2.45, r"$i_t$", ha="right")
    _path(ax, [(xg, yg + 0.3), (xg, 3.0 - R)])
    _label(ax, xg + 0.12, 2.35, r"$\tilde c_t$")
    _path(ax, [(xg, 3.0 + R), (xg, yc - R)])
    # output: h_t = o_t ⊙ tanh(c_t)
    _dot(ax, xt, yc)
    ax.add_patch(Ellipse((xt, 3.0), 0.95, 0.5, fc=OP_FC, ec="black", lw=1.0, zorder=2))
    _label(ax, xt, 3.0, "tanh", ha="center", fontsize=FONT - 1)
    _path(ax, [(xt, yc), (xt, 3.25)])
    _op(ax, xt, yg, r"$\odot$")
    _path(ax, [(xt, 2.75), (xt, yg + R)])
    _path(ax, [(xo + 0.45, yg), (xt - R, yg)])
    _label(ax, (xo + 0.45 + xt - R) / 2, yg + 0.12, r"$o_t$", ha="center", va="bottom")
    _path(ax, [(xt + R, yg), (9.75, yg)])
    _label(ax, 9.85, yg, r"$h_t$")
    _legend_line(ax, 1.4, -0.95)
    return fig


def gru_cell():
    """The GRU cell: r_t and z_t read [h_{t-1}, x_t]; h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t.

    The candidate h̃_t = tanh(W_xh x_t + W_hh (r_t ⊙ h_{t-1}) + b_h) sees the old state only through
    the reset gate. The copy of h_{t-1} for r_t ⊙ h_{t-1} runs along the bottom so that no lines cross.
    """
    fig, ax = _canvas((-1.15, 10.45), (-1.5, 4.85))
    R, yb, yh, yg = 0.28, 0.6, 4.0, 1.7            # circle radius, bus, state line, gate row
    xj, xz, xm, xc, xr, xq = 0.4, 4.0, 5.6, 7.4, 5.6, 9.0
    y_low, y_r = -1.1, -0.35
    # the state's path: z_t keeps part of h_{t-1}, (1 - z_t) lets in part of the candidate
    _label(ax, -0.25, yh, r"$h_{t-1}$", ha="right")
    _path(ax, [(-0.2, yh), (xz - R, yh)], arrow=False, style=HIGHWAY)
    _path(ax, [(xz + R, yh), (xc - R, yh)], arrow=False, style=HIGHWAY)
    _path(ax, [(xc + R, yh), (9.75, yh)], style=HIGHWAY)
    _label(ax, 9.85, yh, r"$h_t$")
    _label(ax, 5.7, yh + 0.42, r"$h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t$", ha="center",
           fontsize=10, color="#1f77b4")
    _dot(ax, xj, yh, color="#1f77b4")
    _op(ax, xz, yh, r"$\odot$")
    _op(ax, xc, yh, "+")
    # copies of h_{t-1}: into the bus [h_{t-1}, x_t], and round the bottom to the reset product
    _path(ax, [(xj, yh), (xj, y_low), (xq, y_low), (xq, y_r - R)])
    _dot(ax, xj, yb)
    _path(ax, [(xj, yb), (xc, yb), (xc, yg - 0.3)])
    _label(ax, 1.25, -0.6, r"$x_t$", ha="center")
    _path(ax, [(1.25, -0.38), (1.25, yb - 0.07)])
    _dot(ax, 1.25, yb)
    _label(ax, 1.75, yb + 0.1, r"$[h_{t-1}, x_t]$", va="bottom", fontsize=10)
    _label(ax, xc - 0.12, 0.85, r"$x_t$", ha="right", fontsize=10)
    # update gate z and the interpolation
    _dot(ax, xz, yb)
    _path(ax, [(xz, yb), (xz, yg - 0.3)])
    _box(ax, xz, yg, r"$\sigma$")
    _label(ax, xz, yg - 0.42, "update", ha="center", va="top", fontsize=8.5, color="0.3",
           bbox=dict(fc="white", ec="none", pad=0.5))
    _path(ax, [(xz, yg + 0.3), (xz, yh - R)])
    _label(ax, xz - 0.12, 3.35, r"$z_t$", ha="right")
    _dot(ax, xz, 2.9)
    _op(ax, xm, 2.9, r"$1-$", r=0.32, fontsize=FONT - 1)
    _path(ax, [(xz, 2.9), (xm - 0.32, 2.9)])
    _op(ax, xc, 2.9, r"$\odot$")
    _path(ax, [(xm + 0.32, 2.9), (xc - R, 2.9)])
    _label(ax, (xm + xc) / 2, 3.02, r"$1 - z_t$", ha="center", va="bottom", fontsize=10)
    _path(ax, [(xc, 2.9 + R), (xc, yh - R)])
    # candidate
    _box(ax, xc, yg, "tanh", fc=TANH_FC)
    _label(ax, xc, yg - 0.42, "candidate", ha="center", va="top", fontsize=8.5, color="0.3",
           bbox=dict(fc="white", ec="none", pad=0.5))
    _path(ax, [(xc, yg + 0.3), (xc, 2.9 - R)])
    _label(ax, xc + 0.12, 2.3, r"$\tilde h_t$")
    # reset gate: hangs below the bus, gates the copy of h_{t-1} that enters the candidate
    _dot(ax, xr, yb)
    _path(ax, [(xr, yb), (xr, y_r + 0.3)])
    _box(ax, xr, y_r, r"$\sigma$")
    _label(ax, xr - 0.55, y_r, "reset", ha="right", fontsize=8.5, color="0.3")
    _op(ax, xq, y_r, r"$\odot$")
    _path(ax, [(xr + 0.45, y_r), (xq - R, y_r)])
    _label(ax, (xr + 0.45 + xq - R) / 2, y_r + 0.1, r"$r_t$", ha="center", va="bottom")
    _path(ax, [(xq, y_r + R), (xq, yg), (xc + 0.45, yg)])
    _label(ax, xq + 0.12, 0.75, r"$r_t \odot h_{t-1}$", fontsize=10)
    _label(ax, 2.5, y_low - 0.12, r"copy of $h_{t-1}$", va="top", fontsize=8.5, color="0.3")
    return fig


def bidirectional_rnn(T: int = 4):
    """An unrolled bidirectional RNN over x_1..x_T: a forward chain (top), a backward chain (bottom).

    x_t feeds both chains; the output y_t reads the concatenation [h→_t ; h←_t]. The inputs and outputs
    sit between the chains so that no lines cross.
    """
    dx = 1.9
    fig, ax = _canvas((-1.5, dx * (T - 1) + 2.35), (-1.05, 3.55))
    yf, ym, yb = 2.2, 1.1, 0.0
    bw, bh = 0.95, 0.6
    for t in range(1, T + 1):
        x = dx * (t - 1)
        _box(ax, x, yf, rf"$\overrightarrow{{h}}_{t}$", w=bw, h=bh, fc=STATE_FC)
        _box(ax, x, yb, rf"$\overleftarrow{{h}}_{t}$", w=bw, h=bh, fc=STATE_FC)
        _label(ax, x, ym, rf"$x_{t}$", ha="center")
        _path(ax, [(x, ym + 0.22), (x, yf - bh / 2)])
        _path(ax, [(x, ym - 0.22), (x, yb + bh / 2)])
        xo = x + dx / 2
        _box(ax, xo, ym, rf"$y_{t}$", w=0.55, h=0.48, fc="white")
        _path(ax, [(x + 0.25, yf - bh / 2), (xo - 0.12, ym + 0.24)])
        _path(ax, [(x + 0.25, yb + bh / 2), (xo - 0.12, ym - 0.24)])
        if t < T:
            _path(ax, [(x + bw / 2, yf), (x + dx - bw / 2, yf)])
            _path(ax, [(x + dx - bw / 2, yb), (x + bw / 2, yb)])
    _label(ax, -bw / 2 - 0.5, yf, r"$\overrightarrow{h}_0$", ha="right", color="0.3")
    _path(ax, [(-bw / 2 - 0.45, yf), (-bw / 2, yf)])
    xl = dx * (T - 1)
    _label(ax, xl + bw / 2 + 0.5, yb, rf"$\overleftarrow{{h}}_{{{T + 1}}}$", color="0.3")
    _path(ax, [(xl + bw / 2 + 0.45, yb), (xl + bw / 2, yb)])
    _label(ax, -1.45, yf + 0.55, "forward: left to right", fontsize=9.5, color="0.3")
    _label(ax, -1.45, yb - 0.55, "backward: right to left", fontsize=9.5, color="0.3")
    _label(ax, dx * (T - 1) / 2 + 0.5, 3.3,
           r"$y_t$ reads $[\overrightarrow{h}_t\,;\,\overleftarrow{h}_t]$: the past through $\overrightarrow{h}_t$,"
           r" the future through $\overleftarrow{h}_t$", ha="center", fontsize=10)
    return fig


def stacked_rnn(layers: int = 3, T: int = 4):
    """An unrolled stacked (deep) RNN: h_t^(i) = f(W^(i) h_t^(i-1) + V^(i) h_{t-1}^(i) + b^(i)), h_t^(0) = x_t.

    Layer i reads the layer below at the same step (vertical arrows) and its own state one step back
    (horizontal arrows); the output y_t reads the top layer.
    """
    dx, dy = 1.75, 1.0
    top = dy * (layers + 1)
    fig, ax = _canvas((-1.3, dx * (T - 1) + 1.55), (-0.45, top + 0.95))
    bw, bh = 0.95, 0.56
    for t in range(1, T + 1):
        x = dx * (t - 1)
        _label(ax, x, 0.0, rf"$x_{t}$", ha="center")
        for i in range(1, layers + 1):
            y = dy * i
            _box(ax, x, y, rf"$h_{t}^{{({i})}}$", w=bw, h=bh, fc=STATE_FC)
            below = 0.22 if i == 1 else dy * (i - 1) + bh / 2
            _path(ax, [(x, below), (x, y - bh / 2)] if i > 1 else [(x, 0.22), (x, y - bh / 2)])
            if t < T:
                _path(ax, [(x + bw / 2, y), (x + dx - bw / 2, y)])
        _label(ax, x, top, rf"$y_{t}$", ha="center")
        _path(ax, [(x, dy * layers + bh / 2), (x, top - 0.22)])
    for i in range(1, layers + 1):
        _label(ax, -bw / 2 - 0.45, dy * i, rf"$h_0^{{({i})}}$", ha="right", color="0.3")
        _path(ax, [(-bw / 2 - 0.4, dy * i), (-bw / 2, dy * i)])
        _label(ax, dx * (T - 1) + bw / 2 + 0.1, dy * i, f"layer {i}", fontsize=9.5, color="0.3")
    _label(ax, dx * (T - 1) / 2, top + 0.6,
           r"$h_t^{(i)} = f\,(W^{(i)} h_t^{(i-1)} + V^{(i)} h_{t-1}^{(i)} + b^{(i)}),\quad h_t^{(0)} = x_t$",
           ha="center", fontsize=10.5)
    return fig
