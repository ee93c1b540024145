"""The scratch RNN equals nn.RNN (outputs, final state, every parameter gradient and the input
gradient, float64) for several shapes and 1-2 layers; the LM, sampling and bad input."""
import math

import pytest
import torch

from course_lib.rnn import RNNLM, RNNCellScratch, RNNScratch, copy_rnn_weights, generate, temperature_probs


@pytest.mark.parametrize("B, T, D, H, L", [(1, 1, 1, 1, 1), (3, 5, 4, 6, 1), (2, 9, 7, 3, 2), (5, 4, 2, 8, 2)])
def test_parity_with_nn_rnn(B, T, D, H, L):
    torch.manual_seed(B * 100 + T)
    ref = torch.nn.RNN(D, H, num_layers=L, batch_first=True).double()
    scr = RNNScratch(D, H, num_layers=L).double()
    copy_rnn_weights(scr, ref)
    x1 = torch.randn(B, T, D, dtype=torch.double, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    h0 = torch.randn(L, B, H, dtype=torch.double)
    o1, h1 = ref(x1, h0)
    o2, h2 = scr(x2, h0)
    torch.testing.assert_close(o2, o1, atol=1e-12, rtol=0)
    torch.testing.assert_close(h2, h1, atol=1e-12, rtol=0)
    w, wh = torch.randn_like(o1), torch.randn_like(h1)
    ((o1 * w).sum() + (h1 * wh).sum()).backward()
    ((o2 * w).sum() + (h2 * wh).sum()).backward()
    for l, cell in enumerate(scr.cells):
        for mine, theirs in ((cell.W_xh, f"weight_ih_l{l}"), (cell.W_hh, f"weight_hh_l{l}"),
                             (cell.b_h, f"bias_ih_l{l}"), (cell.b_h, f"bias_hh_l{l}")):
            assert (mine.grad - getattr(ref, theirs).grad).abs().max() <= 1e-6, f"layer {l} {theirs}"
    assert (x1.grad - x2.grad).abs().max() <= 1e-6


def test_cell_is_the_equation():
    torch.manual_seed(0)
    cell = RNNCellScratch(3, 4).double()
    x, h = torch.randn(2, 3, dtype=torch.double), torch.randn(2, 4, dtype=torch.double)
    out, state = cell(x, h)
    manual = torch.tanh(cell.W_xh @ x[0] + cell.W_hh @ h[0] + cell.b_h)
    assert torch.allclose(out[0], manual) and out is state


def test_relu_and_linear_cells():
    cell = RNNCellScratch(2, 2, nonlinearity="relu")
    with torch.no_grad():
        cell.W_xh.copy_(torch.eye(2)); cell.W_hh.zero_(); cell.b_h.zero_()
    out, _ = cell(torch.tensor([[-1.0, 2.0]]), torch.zeros(1, 2))
    assert out.tolist() == [[0.0, 2.0]]
    assert RNNCellScratch(2, 2, nonlinearity="linear")(torch.ones(1, 2), torch.zeros(1, 2))[0].abs().sum() > 0


def test_bad_input():
    rnn = RNNScratch(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"\(batch, time, 3\)"):
        rnn(torch.randn(5, 3))
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn(torch.randn(2, 5, 3), torch.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        rnn([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="nonlinearity"):
        RNNCellScratch(2, 2, nonlinearity="gelu")
    with pytest.raises(ValueError, match="the two RNNs differ"):
        copy_rnn_weights(RNNScratch(3, 4), torch.nn.RNN(3, 5, batch_first=True))
    lm = RNNLM(10, 4, 8)
    with pytest.raises(ValueError, match="token ids must be in"):
        lm(torch.tensor([[3, 12]]))
    with pytest.raises(ValueError, match="LongTensor"):
        lm(torch.randn(2, 3))


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_rnnlm_shapes_loss_and_equal_impls(impl):
    torch.manual_seed(0)
    lm = RNNLM(11, 5, 7, num_layers=2, impl=impl)
    idx = torch.randint(0, 11, (3, 6))
    logits, loss = lm(idx, idx)
    assert logits.shape == (3, 6, 11) and loss.ndim == 0
    assert lm(idx)[1] is None
    if impl == "scratch":
        torch.manual_seed(0)
        ref = RNNLM(11, 5, 7, num_layers=2, impl="torch")
        lm.embed.load_state_dict(ref.embed.state_dict())
        lm.head.load_state_dict(ref.head.state_dict())
        copy_rnn_weights(lm.rnn, ref.rnn)
        assert torch.allclose(lm(idx)[0], ref(idx)[0], atol=1e-5)


def test_untrained_loss_is_about_ln_v():
    torch.manual_seed(0)
    lm = RNNLM(50, 8, 16)
    idx = torch.randint(0, 50, (8, 20))
    assert abs(lm(idx, idx)[1].item() - math.log(50)) < 0.2


def test_temperature_topk_and_banned():
    z = torch.tensor([1.0, 3.0, 2.0, 0.0])
    torch.testing.assert_close(temperature_probs(z, 1.0), torch.softmax(z, -1))
    torch.testing.assert_close(temperature_probs(z, 0.5), torch.softmax(2 * z, -1))
    p = temperature_probs(z, 1.0, top_k=2, banned=[1])     # id 1 banned: the top 2 left are ids 2 and 0
    assert p[1] == 0 and p[3] == 0 and p[2] > p[0] > 0 and p.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="temperature"):
        temperature_probs(z, 0.0)


def test_generate_is_seeded_stops_at_eos_and_bans():
    torch.manual_seed(0)
    lm = RNNLM(6, 4, 8)
    a = generate(lm, [0], 30, generator=torch.Generator().manual_seed(1))
    b = generate(lm, [0], 30, generator=torch.Generator().manual_seed(1))
    assert a == b and len(a) <= 30
    c = generate(lm, [0], 200, banned=[2, 5], generator=torch.Generator().manual_seed(1))
    assert 2 not in c and 5 not in c
    d = generate(lm, [0], 200, eos_id=3, generator=torch.Generator().manual_seed(1))
    assert 3 not in d and len(d) < 200
    with pytest.raises(ValueError, match="start"):
        generate(lm, [], 5)


def test_temperature_widget_and_figure():
    """The temperature slider redraws the distribution and the sample; the static figure has one
    bar group per temperature, each bar a probability of softmax(z / T) (notebook 03)."""
    pytest.importorskip("ipywidgets")
    from course_lib.widgets import TemperatureWidget, temperature_figure
    torch.manual_seed(0)
    model = RNNLM(6, embed_dim=4, hidden_size=8)
    tokens = list("abcdef")
    fig = temperature_figure(model, tokens, [0, 1, 2], temperatures=(0.5, 2.0), top=4)
    ax = fig.axes[0]
    assert len(ax.containers) == 2 and ax.get_xlabel() and ax.get_ylabel()
    logits = model.step_logits(torch.tensor([[0, 1, 2]]))[0][0, -1].detach()
    top = torch.argsort(logits, descending=True)[:4]
    heights = [b.get_height() for b in ax.containers[0]]
    torch.testing.assert_close(torch.tensor(heights, dtype=torch.float32), temperature_probs(logits, 0.5)[top],
                               atol=1e-6, rtol=0)
    w = TemperatureWidget(model, tokens, [0, 1, 2], temperature=1.0, top=4, sample_length=20)
    image, sample = w.image.value, w.sample.value
    w.slider.value = 0.2
    assert w.image.value != image and w.sample.value.startswith("<pre")


def test_unrolled_lm_figure_shows_shifted_targets():
    from course_lib.figures import unrolled_lm
    fig = unrolled_lm("abcd")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "$x_{1}$\n'a'" in texts and "$y_{1}$\n'b'" in texts and "$y_{3}$\n'd'" in texts      # target t = input t+1
    import matplotlib.pyplot as plt
    plt.close(fig)
