"""course_lib.diagrams: each diagram draws, fits the site's ~690 px column, and carries the lecture's labels."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib import diagrams  # noqa: E402


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _fits(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width_px = fig.get_size_inches()[0] * 100
    assert width_px <= 700, f"the figure is {width_px:.0f} px wide at 100 dpi"
    fig_box = fig.bbox
    for ax in fig.axes:                                  # no label runs off the figure
        for t in ax.texts:
            if not t.get_text():
                continue
            b = t.get_window_extent(renderer)
            assert b.x0 >= fig_box.x0 - 1 and b.x1 <= fig_box.x1 + 1, t.get_text()
            assert b.y0 >= fig_box.y0 - 1 and b.y1 <= fig_box.y1 + 1, t.get_text()
            assert t.get_fontsize() >= 8, t.get_text()


def _has(texts, *needles):
    for n in needles:
        assert any(n in t for t in texts), f"{n!r} not among {texts}"


def test_lstm_cell():
    fig = diagrams.lstm_cell()
    _fits(fig)
    texts = _texts(fig)
    _has(texts, r"$c_{t-1}$", r"$c_t$", r"$h_{t-1}$", r"$h_t$", r"$x_t$", r"$f_t$", r"$i_t$", r"$o_t$",
         r"$\tilde c_t$", "additive path", "forget", "input", "output", "candidate")
    assert sum(t == r"$\odot$" for t in texts) == 3 and texts.count("+") == 1   # f⊙c, i⊙c̃, o⊙tanh(c); one sum
    plt.close(fig)


def test_gru_cell():
    fig = diagrams.gru_cell()
    _fits(fig)
    texts = _texts(fig)
    _has(texts, r"$h_{t-1}$", r"$h_t$", r"$x_t$", r"$z_t$", r"$r_t$", r"$1 - z_t$", r"$\tilde h_t$",
         r"$r_t \odot h_{t-1}$", "reset", "update", "candidate")
    assert sum(t == r"$\odot$" for t in texts) == 3 and texts.count("+") == 1   # z⊙h, (1-z)⊙h̃, r⊙h
    plt.close(fig)


@pytest.mark.parametrize("T", [3, 4])
def test_bidirectional_rnn(T):
    fig = diagrams.bidirectional_rnn(T=T)
    _fits(fig)
    texts = _texts(fig)
    for t in range(1, T + 1):
        _has(texts, f"$x_{t}$", f"$y_{t}$", rf"$\overrightarrow{{h}}_{t}$", rf"$\overleftarrow{{h}}_{t}$")
    _has(texts, "forward", "backward")
    plt.close(fig)


@pytest.mark.parametrize("layers,T", [(3, 4), (2, 3)])
def test_stacked_rnn(layers, T):
    fig = diagrams.stacked_rnn(layers=layers, T=T)
    _fits(fig)
    texts = _texts(fig)
    for t in range(1, T + 1):
        for i in range(1, layers + 1):
            _has(texts, f"$h_{t}^{{({i})}}$")
    _has(texts, f"layer {layers}", r"h_{t-1}^{(i)}", r"h_t^{(i-1)}")
    assert not any(f"layer {layers + 1}" in t for t in texts)
    plt.close(fig)
