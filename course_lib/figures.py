"""Figures that explain rather than measure (drawn with matplotlib, no data)."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

# (title, which steps take an input, which steps give an output, example, shapes)
TASKS = [
    ("one to one", [0], [0], "no sequence:\nimage class", "x (B, D) -> y (B, C)"),
    ("one to many", [0], [0, 1, 2, 3], "sequence generation,\nimage captioning", "x (B, D) -> y (B, T, V)"),
    ("many to one", [0, 1, 2, 3], [3], "sentiment analysis", "x (B, T, D) -> y (B, C)"),
    ("many to many\n(equal lengths)", [0, 1, 2, 3], [0, 1, 2, 3], "tagging, language model", "x (B, T, D) -> y (B, T, V)"),
    ("many to many\n(encoder-decoder)", [0, 1, 2], [3, 4, 5], "machine translation", "x (B, T, D) -> y (B, T', V)"),
]


def _box(ax, x, y, text, color):
    ax.add_patch(FancyBboxPatch((x - 0.32, y - 0.22), 0.64, 0.44, boxstyle="round,pad=0.02", fc=color, ec="black", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def label_points(ax, xy, labels, fontsize: int = 9, gap: float = 2.0, rounds: int = 300) -> list:
    """Write ``labels`` next to the points ``xy`` (n, 2) of ``ax`` so that no two labels overlap.

    Labels start just right of their point and are pushed apart vertically, in screen pixels, until
    no two boxes intersect; a label that moved is joined to its point by a thin line. Call it after
    the axes' limits and the figure's layout are final (the positions are computed on screen).
    """
    import numpy as np
    fig = ax.figure
    texts = [ax.text(x, y, s, fontsize=fontsize, ha="left", va="center") for (x, y), s in zip(xy, labels)]
    fig.canvas.draw()
    ax.set_autoscale_on(False)                                       # the joining lines must not move the axes
    renderer = fig.canvas.get_renderer()
    size = np.array([[b.width, b.height] for b in (t.get_window_extent(renderer) for t in texts)])
    anchor = ax.transData.transform(np.asarray(xy, float))          # the points, in pixels
    pos = anchor + [4.0, 0.0]                                        # each label's left-centre, in pixels
    for _ in range(rounds):
        moved = False
        for i in range(len(texts)):
            for j in range(i + 1, len(texts)):
                overlap_x = min(pos[i, 0] + size[i, 0], pos[j, 0] + size[j, 0]) - max(pos[i, 0], pos[j, 0]) + 4 * gap
                overlap_y = (size[i, 1] + size[j, 1]) / 2 + gap - abs(pos[i, 1] - pos[j, 1])
                if overlap_x > 0 and overlap_y > 0:
                    up, down = (i, j) if pos[i, 1] >= pos[j, 1] else (j, i)
                    pos[up, 1] += overlap_y / 2
                    pos[down, 1] -= overlap_y / 2
                    moved = True
        if not moved:
            break
    to_data = ax.transData.inverted()
    for t, p, a in zip(texts, pos, anchor):
        t.set_position(to_data.transform(p))
        if abs(p[1] - a[1]) > size[0, 1] / 2:
            ax.plot(*zip(to_data.transform(a), to_data.transform(p)), color="0.6", lw=0.6, zorder=0)
    return texts


def rnn_task_types():
    """The lecture's five RNN task shapes, unrolled in time, with the tensor shapes of each.

    Drawn for a ~690 px column: two rows (three short tasks above, the two many-to-many below)."""
    fig = plt.figure(figsize=(6.9, 5.0), dpi=100)
    grid = fig.add_gridspec(2, 6, height_ratios=[1, 1])
    spans = [grid[0, 0:2], grid[0, 2:4], grid[0, 4:6], grid[1, 0:3], grid[1, 3:6]]
    for spec, (title, ins, outs, example, shapes) in zip(spans, TASKS):
        ax = fig.add_subplot(spec)
        steps = max(ins + outs) + 1
        width = max(steps, 4)
        for t in range(steps):
            _box(ax, t, 1, "$h$", "#cfe2f3")
            if t > 0:
                ax.annotate("", xy=(t - 0.34, 1), xytext=(t - 0.66, 1), arrowprops={"arrowstyle": "->"})
            if t in ins:
                _box(ax, t, 0, "$x$", "#f4cccc")
                ax.annotate("", xy=(t, 0.76), xytext=(t, 0.24), arrowprops={"arrowstyle": "->"})
            if t in outs:
                _box(ax, t, 2, "$y$", "#d9ead3")
                ax.annotate("", xy=(t, 1.76), xytext=(t, 1.24), arrowprops={"arrowstyle": "->"})
        ax.set_xlim(-0.6, width - 0.4)
        ax.set_ylim(-1.2, 2.5)
        ax.set_aspect("equal")
        ax.set_title(title.replace("\n", " "), fontsize=9)
        ax.text((width - 1) / 2, -0.75, f"{example}\n{shapes}", ha="center", va="center", fontsize=7.5)
        ax.axis("off")
    fig.suptitle("RNN task types, unrolled in time (the same cell and weights at every step)", fontsize=10)
    fig.tight_layout()
    return fig


def unrolled_lm(text: str = "ROMEO:"):
    """The RNN language model unrolled over ``text``: the input at step t is token t, the target
    is token t+1 (the targets are the inputs shifted left by one), the same weights at every step.

    Drawn for a ~690 px column. Each target and the next step's input share a colour (an arrow
    from one to the other would have to cross the chain of hidden states)."""
    inputs, targets = list(text[:-1]), list(text[1:])
    T = len(inputs)
    fig, ax = plt.subplots(figsize=(6.9, 3.9), dpi=100)
    show = {"\n": "\\n", " ": "␣"}
    palette = ["#b45f06", "#1155cc", "#38761d", "#990000", "#741b47", "#0b5394", "#7f6000"]
    colour = [palette[t % len(palette)] for t in range(T + 1)]        # colour of token t (input t = target t-1)
    for t in range(T):
        _box(ax, t, 0, f"$x_{{{t + 1}}}$\n'{show.get(inputs[t], inputs[t])}'", "#f4cccc")
        ax.texts[-1].set_color(colour[t])
        _box(ax, t, 1, f"$h_{{{t + 1}}}$", "#cfe2f3")
        _box(ax, t, 2, f"$\\hat{{y}}_{{{t + 1}}}$", "#d9ead3")
        _box(ax, t, 3, f"$y_{{{t + 1}}}$\n'{show.get(targets[t], targets[t])}'", "#fff2cc")
        ax.texts[-1].set_color(colour[t + 1])
        ax.annotate("", xy=(t, 0.76), xytext=(t, 0.24), arrowprops={"arrowstyle": "->"})
        ax.annotate("", xy=(t, 1.76), xytext=(t, 1.24), arrowprops={"arrowstyle": "->"})
        ax.annotate("", xy=(t, 2.76), xytext=(t, 2.24), arrowprops={"arrowstyle": "<->", "ls": "--", "color": "gray"})
        if t > 0:
            ax.annotate("", xy=(t - 0.34, 1), xytext=(t - 0.66, 1), arrowprops={"arrowstyle": "->"})
            ax.text(t - 0.5, 1.08, "$W_{hh}$", ha="center", va="bottom", fontsize=7)
    labels = [(0, "input token\n(embedded)"),
              (1, "hidden state\n$h_t = \\tanh(W_{xh} x_t$\n$+ W_{hh} h_{t-1} + b_h)$"),
              (2, "prediction\n$\\mathrm{softmax}(W_{hy} h_t + b_y)$"),
              (3, "target = next token\nloss $-\\ln \\hat{y}_t[y_t]$")]
    for y, lab in labels:
        ax.text(-0.45, y, lab, ha="right", va="center", fontsize=8)
    ax.set_xlim(-2.75, T - 0.6)
    ax.set_ylim(-0.45, 3.35)
    ax.axis("off")
    ax.set_title("an RNN language model unrolled over the text: each target is the next step's input\n"
                 "(same colour); the same $W_{xh}$, $W_{hh}$, $W_{hy}$ at every step", fontsize=9)
    fig.tight_layout()
    return fig
