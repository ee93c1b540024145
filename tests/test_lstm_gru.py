"""The scratch LSTM and GRU equal nn.LSTM / nn.GRU (outputs, final states, every gradient; float64,
1-2 layers, several sizes); the lecture's GRU is the lecture's equations and is not nn.GRU; tiny
cases checked by hand; finite differences; weights both ways; the long-range task and its direction.
LSTMScratch's BPTT by hand (LSTMLayerBPTT) equals its step-by-step autograd path and nn.LSTM, every
gradient, and passes gradcheck."""
import math

import pytest
import torch

from course_lib import lstm_gru as lstm_gru_module
from course_lib.lstm_gru import (GRUCellScratch, GRUScratch, LSTMCellScratch, LSTMLayerBPTT, LSTMScratch, RecurrentLM,
                                 copy_from_torch, copy_to_torch, count_parameters, recurrent_parameters,
                                 set_memory_bias)
from course_lib.rnn import StackedRecurrent

D64 = torch.float64
SIZES = [(1, 1, 1, 1, 1), (3, 5, 4, 6, 1), (2, 9, 7, 3, 2), (5, 4, 2, 8, 2)]


def _assert_grads_equal(scr, ref, names):
    for l, cell in enumerate(scr.cells):
        for mine, theirs in names(cell, l):
            g_ref = getattr(ref, theirs).grad
            assert (mine.grad - g_ref).abs().max() <= 1e-6, f"layer {l}: gradient of {theirs}"


@pytest.mark.parametrize("B, T, D, H, L", SIZES)
def test_lstm_parity_with_nn_lstm(B, T, D, H, L):
    torch.manual_seed(B * 100 + T + L)
    ref = torch.nn.LSTM(D, H, num_layers=L, batch_first=True).double()
    scr = LSTMScratch(D, H, num_layers=L).double()
    copy_from_torch(scr, ref)
    x1 = torch.randn(B, T, D, dtype=D64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    h0, c0 = torch.randn(L, B, H, dtype=D64), torch.randn(L, B, H, dtype=D64)
    h0a, c0a = h0.clone().requires_grad_(True), c0.clone().requires_grad_(True)
    h0b, c0b = h0.clone().requires_grad_(True), c0.clone().requires_grad_(True)
    o1, (h1, c1) = ref(x1, (h0a, c0a))
    o2, (h2, c2) = scr(x2, (h0b, c0b))
    for a, b, what in ((o2, o1, "outputs"), (h2, h1, "h_n"), (c2, c1, "c_n")):
        assert a.shape == b.shape and (a - b).abs().max() <= 1e-12, what
    w, wh, wc = torch.randn_like(o1), torch.randn_like(h1), torch.randn_like(c1)
    ((o1 * w).sum() + (h1 * wh).sum() + (c1 * wc).sum()).backward()
    ((o2 * w).sum() + (h2 * wh).sum() + (c2 * wc).sum()).backward()
    _assert_grads_equal(scr, ref, lambda c, l: ((c.W_xh, f"weight_ih_l{l}"), (c.W_hh, f"weight_hh_l{l}"),
                                                (c.b, f"bias_ih_l{l}"), (c.b, f"bias_hh_l{l}")))
    for a, b in ((x1, x2), (h0a, h0b), (c0a, c0b)):
        assert (a.grad - b.grad).abs().max() <= 1e-6


@pytest.mark.parametrize("B, T, D, H, L", SIZES)
def test_gru_parity_with_nn_gru(B, T, D, H, L):
    torch.manual_seed(B * 10 + T + L)
    ref = torch.nn.GRU(D, H, num_layers=L, batch_first=True).double()
    scr = GRUScratch(D, H, num_layers=L, reset_after=True).double()
    copy_from_torch(scr, ref)
    x1 = torch.randn(B, T, D, dtype=D64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    h0 = torch.randn(L, B, H, dtype=D64)
    h0a, h0b = h0.clone().requires_grad_(True), h0.clone().requires_grad_(True)
    o1, h1 = ref(x1, h0a)
    o2, h2 = scr(x2, h0b)
    assert (o2 - o1).abs().max() <= 1e-12 and (h2 - h1).abs().max() <= 1e-12
    w, wh = torch.randn_like(o1), torch.randn_like(h1)
    ((o1 * w).sum() + (h1 * wh).sum()).backward()
    ((o2 * w).sum() + (h2 * wh).sum()).backward()
    _assert_grads_equal(scr, ref, lambda c, l: ((c.W_xh, f"weight_ih_l{l}"), (c.W_hh, f"weight_hh_l{l}"),
                                                (c.b_xh, f"bias_ih_l{l}"), (c.b_hh, f"bias_hh_l{l}")))
    assert (x1.grad - x2.grad).abs().max() <= 1e-6 and (h0a.grad - h0b.grad).abs().max() <= 1e-6


def test_cells_equal_torch_cells_and_default_state_is_zero():
    torch.manual_seed(1)
    x, h, c = torch.randn(4, 3, dtype=D64), torch.randn(4, 5, dtype=D64), torch.randn(4, 5, dtype=D64)
    lc, gc = torch.nn.LSTMCell(3, 5).double(), torch.nn.GRUCell(3, 5).double()
    ls, gs = LSTMCellScratch(3, 5).double(), GRUCellScratch(3, 5, reset_after=True).double()
    copy_from_torch(ls, lc)
    copy_from_torch(gs, gc)
    out, (h1, c1) = ls(x, (h, c))
    h_ref, c_ref = lc(x, (h, c))
    assert torch.allclose(h1, h_ref, atol=1e-12) and torch.allclose(c1, c_ref, atol=1e-12) and out is h1
    assert torch.allclose(gs(x, h)[0], gc(x, h), atol=1e-12)
    # no state given: zeros, as nn.LSTM
    ref = torch.nn.LSTM(3, 5, batch_first=True).double()
    scr = LSTMScratch(3, 5).double()
    copy_from_torch(scr, ref)
    X = torch.randn(2, 4, 3, dtype=D64)
    assert torch.allclose(scr(X)[0], ref(X)[0], atol=1e-12)


def _sig(a):
    return 1 / (1 + torch.exp(-a))


def _lecture_gru(X, h, Wxr, Whr, br, Wxz, Whz, bz, Wxh, Whh, bh):
    """The lecture's slides, one matrix per gate, row vectors: R_t = σ(X_t W_xr + H_{t-1} W_hr + b_r), ..."""
    out = []
    for t in range(X.shape[1]):
        x = X[:, t]
        r = _sig(x @ Wxr + h @ Whr + br)
        z = _sig(x @ Wxz + h @ Whz + bz)
        h_tilde = torch.tanh(x @ Wxh + (r * h) @ Whh + bh)
        h = z * h + (1 - z) * h_tilde
        out.append(h)
    return torch.stack(out, 1)


def test_lecture_gru_is_the_lecture_equations_and_not_nn_gru():
    torch.manual_seed(5)
    B, T, D, H = 3, 6, 4, 5
    scr = GRUScratch(D, H, reset_after=False).double()
    cell = scr.cells[0]
    with torch.no_grad():
        cell.b_hh.normal_()          # non-zero biases on both sides: b_hh's h̃ block is where the conventions part
        cell.b_xh.normal_()
    X, h0 = torch.randn(B, T, D, dtype=D64), torch.randn(B, H, dtype=D64)
    Wx, Wh = cell.W_xh.detach(), cell.W_hh.detach()
    b = (cell.b_xh + cell.b_hh).detach()               # the lecture's single bias per gate
    blocks = lambda M, k: M[k * H:(k + 1) * H].T       # slides multiply row vectors by W: our W block transposed
    direct = _lecture_gru(X, h0, blocks(Wx, 0), blocks(Wh, 0), b[:H], blocks(Wx, 1), blocks(Wh, 1), b[H:2 * H],
                          blocks(Wx, 2), blocks(Wh, 2), b[2 * H:])
    ours, h_n = scr(X, h0[None])
    assert (ours - direct).abs().max() <= 1e-12 and torch.allclose(h_n[0], direct[:, -1])
    ref = torch.nn.GRU(D, H, batch_first=True).double()
    copy_to_torch(scr, ref)
    theirs = ref(X, h0[None])[0]
    assert (theirs - ours).abs().max() > 1e-3, "the two conventions should give different outputs"
    # ...and the nn.GRU convention with the same parameters is exactly nn.GRU
    torch_conv = GRUScratch(D, H, reset_after=True).double()
    copy_from_torch(torch_conv, ref)
    assert (torch_conv(X, h0[None])[0] - theirs).abs().max() <= 1e-12


def test_lstm_tiny_case_by_hand():
    """H = D = 1: pre-activations ln 3, −ln 3, atanh(0.6), 0 give i = 0.75, f = 0.25, c̃ = 0.6, o = 0.5."""
    cell = LSTMCellScratch(1, 1).double()
    with torch.no_grad():
        cell.W_xh.copy_(torch.tensor([[math.log(3)], [-math.log(3)], [math.atanh(0.6)], [0.0]], dtype=D64))
        cell.W_hh.zero_()
        cell.b.zero_()
    with torch.no_grad():
        s = cell.step(torch.ones(1, 1, dtype=D64), (torch.zeros(1, 1, dtype=D64), torch.full((1, 1), 2.0, dtype=D64)))
    for name, want in (("i", 0.75), ("f", 0.25), ("c_tilde", 0.6), ("o", 0.5)):
        assert abs(float(s[name]) - want) < 1e-12, name
    assert abs(float(s["c"]) - 0.95) < 1e-12                          # 0.25·2 + 0.75·0.6
    assert abs(float(s["h"]) - 0.5 * math.tanh(0.95)) < 1e-12         # 0.369892...


def test_gru_tiny_case_by_hand_shows_where_the_conventions_part():
    """H = D = 1, W = 0, b_hh's h̃ entry 1, r pre-activation ln 3 (r = 0.75), z = 0.5, h_{t-1} = 1:
    the lecture: h̃ = tanh(W (r h) + 1) = tanh(1); nn.GRU: h̃ = tanh(r (W h + 1)) = tanh(0.75)."""
    x, h = torch.ones(1, 1, dtype=D64), torch.ones(1, 1, dtype=D64)
    results = {}
    for after in (False, True):
        cell = GRUCellScratch(1, 1, reset_after=after).double()
        with torch.no_grad():
            cell.W_xh.copy_(torch.tensor([[math.log(3)], [0.0], [0.0]], dtype=D64))
            cell.W_hh.zero_()
            cell.b_xh.zero_()
            cell.b_hh.copy_(torch.tensor([0.0, 0.0, 1.0], dtype=D64))
            results[after] = cell.step(x, h)
    for after, h_tilde in ((False, math.tanh(1.0)), (True, math.tanh(0.75))):
        s = results[after]
        assert abs(float(s["r"]) - 0.75) < 1e-12 and abs(float(s["z"]) - 0.5) < 1e-12
        assert abs(float(s["h_tilde"]) - h_tilde) < 1e-12
        assert abs(float(s["h"]) - (0.5 * 1 + 0.5 * h_tilde)) < 1e-12   # z h_{t-1} + (1 − z) h̃


@pytest.mark.parametrize("make", [lambda: LSTMScratch(2, 3, 2), lambda: GRUScratch(2, 3, 1, reset_after=False),
                                  lambda: GRUScratch(2, 3, 2, reset_after=True),
                                  lambda: LSTMScratch(2, 3, 1, peephole=True)])
def test_gradients_equal_finite_differences(make):
    torch.manual_seed(2)
    model = make().double()
    if isinstance(model, LSTMScratch) and model.cells[0].peephole:
        with torch.no_grad():
            for w in (model.cells[0].w_ci, model.cells[0].w_cf, model.cells[0].w_co):
                w.normal_()
    x = torch.randn(2, 4, 2, dtype=D64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: model(x)[0], (x,))
    params = tuple(model.parameters())

    def from_params(*ps):
        named = dict(zip([n for n, _ in model.named_parameters()], ps))
        return torch.func.functional_call(model, named, (x.detach(),))[0]
    assert torch.autograd.gradcheck(from_params, params)


def test_peephole_lstm():
    torch.manual_seed(3)
    plain, peep = LSTMCellScratch(3, 4).double(), LSTMCellScratch(3, 4, peephole=True).double()
    with torch.no_grad():
        for n in ("W_xh", "W_hh", "b"):
            getattr(peep, n).copy_(getattr(plain, n))
    x, h, c = torch.randn(2, 3, dtype=D64), torch.randn(2, 4, dtype=D64), torch.randn(2, 4, dtype=D64)
    assert torch.allclose(plain(x, (h, c))[1][1], peep(x, (h, c))[1][1], atol=1e-12), "zero peepholes: plain LSTM"
    with torch.no_grad():
        for w in (peep.w_ci, peep.w_cf, peep.w_co):
            w.normal_()
    a = (x @ peep.W_xh.T + h @ peep.W_hh.T + peep.b).chunk(4, 1)
    i, f = _sig(a[0] + peep.w_ci * c), _sig(a[1] + peep.w_cf * c)
    c_new = f * c + i * torch.tanh(a[2])
    h_new = _sig(a[3] + peep.w_co * c_new) * torch.tanh(c_new)
    out, (h1, c1) = peep(x, (h, c))
    assert torch.allclose(c1, c_new, atol=1e-12) and torch.allclose(h1, h_new, atol=1e-12)
    ref = torch.nn.LSTMCell(3, 4).double()
    with pytest.raises(ValueError, match="peephole"):
        copy_to_torch(peep, ref)


def test_weights_round_trip_to_torch_and_back():
    torch.manual_seed(4)
    for scr, ref in ((LSTMScratch(3, 4, 2).double(), torch.nn.LSTM(3, 4, 2, batch_first=True).double()),
                     (GRUScratch(3, 4, 2, reset_after=True).double(), torch.nn.GRU(3, 4, 2, batch_first=True).double())):
        copy_to_torch(scr, ref)
        x = torch.randn(2, 5, 3, dtype=D64)
        assert torch.allclose(scr(x)[0], ref(x)[0], atol=1e-12)
        back = type(scr)(3, 4, 2).double()
        if isinstance(back, GRUScratch):
            back = GRUScratch(3, 4, 2, reset_after=True).double()
        copy_from_torch(back, ref)
        assert torch.allclose(back(x)[0], scr(x)[0], atol=1e-12)
    with pytest.raises(TypeError):
        copy_from_torch(LSTMScratch(3, 4), torch.nn.GRU(3, 4))
    with pytest.raises(ValueError):
        copy_from_torch(LSTMScratch(3, 4), torch.nn.LSTM(3, 5))
    with pytest.raises(ValueError):
        copy_from_torch(LSTMScratch(3, 4, 2), torch.nn.LSTM(3, 4, 1))


def test_memory_bias_and_parameter_counts():
    cell = LSTMCellScratch(3, 4, forget_bias=1.0)
    assert torch.all(cell.b[4:8] == 1.0) and not torch.all(cell.b[:4] == 1.0)
    gru = GRUCellScratch(3, 4, update_bias=2.0)
    assert torch.all(gru.b_xh[4:8] + gru.b_hh[4:8] == 2.0)
    for m in (torch.nn.LSTM(3, 4, 2), torch.nn.GRU(3, 4, 2)):
        set_memory_bias(m, 3.0)
        for l in range(2):   # block 1 (f for the LSTM, z for the GRU) sums to 3; the other blocks are untouched
            total = getattr(m, f"bias_ih_l{l}") + getattr(m, f"bias_hh_l{l}")
            assert torch.all(total[4:8] == 3.0) and not torch.any(total[:4] == 3.0)
    for m in (LSTMScratch(3, 4, 2), GRUScratch(3, 4, 2)):
        set_memory_bias(m, 3.0)
        for c in m.cells:
            total = c.b if isinstance(c, LSTMCellScratch) else c.b_xh + c.b_hh
            assert torch.all(total[4:8] == 3.0) and not torch.any(total[8:] == 3.0)
    with pytest.raises(TypeError):
        set_memory_bias(torch.nn.RNN(3, 4), 1.0)
    for cell_name, torch_cls in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        assert recurrent_parameters(cell_name, 7, 5) == count_parameters(torch_cls(7, 5))
    # the scratch LSTM has one bias per gate (the lecture's b): H·4 fewer numbers than nn.LSTM
    assert count_parameters(LSTMScratch(7, 5)) == recurrent_parameters("lstm", 7, 5) - 4 * 5
    assert count_parameters(GRUScratch(7, 5)) == recurrent_parameters("gru", 7, 5)


def test_cells_plug_into_the_shared_unroller_and_shapes_are_checked():
    stack = StackedRecurrent([LSTMCellScratch(3, 4), LSTMCellScratch(4, 4)])
    out, state = stack(torch.randn(2, 5, 3))
    assert out.shape == (2, 5, 4) and len(state) == 2 and all(h.shape == c.shape == (2, 4) for h, c in state)
    stack = StackedRecurrent([GRUCellScratch(3, 4)])
    out, state = stack(torch.randn(2, 5, 3))
    assert out.shape == (2, 5, 4) and state[0].shape == (2, 4)
    with pytest.raises(ValueError, match="batch-first|shape"):
        LSTMScratch(3, 4)(torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="h_0"):
        LSTMScratch(3, 4)(torch.randn(2, 5, 3), (torch.zeros(1, 3, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="pair"):
        LSTMScratch(3, 4)(torch.randn(2, 5, 3), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError):
        LSTMCellScratch(0, 4)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_lm_scratch_equals_torch(cell):
    torch.manual_seed(6)
    a = RecurrentLM(11, 6, 8, num_layers=2, cell=cell, impl="torch").double()
    b = RecurrentLM(11, 6, 8, num_layers=2, cell=cell, impl="scratch").double()
    with torch.no_grad():
        b.embed.weight.copy_(a.embed.weight)
        b.head.weight.copy_(a.head.weight)
        b.head.bias.copy_(a.head.bias)
    if cell == "rnn":
        from course_lib.rnn import copy_rnn_weights
        copy_rnn_weights(b.rnn, a.rnn)
    else:
        copy_from_torch(b.rnn, a.rnn)
    idx = torch.randint(0, 11, (3, 7))
    la, lossa = a(idx, idx)
    lb, lossb = b(idx, idx)
    assert la.shape == (3, 7, 11) and torch.allclose(la, lb, atol=1e-10) and abs((lossa - lossb).item()) < 1e-10
    # state is carried across calls, as generate() needs
    _, state = b.step_logits(idx[:, :3])
    full, _ = b.step_logits(idx)
    rest, _ = b.step_logits(idx[:, 3:], state)
    assert torch.allclose(full[:, 3:], rest, atol=1e-10)
    with pytest.raises(ValueError):
        RecurrentLM(11, cell="transformer")


# ----------------------------------------------------------------------------- LSTMScratch's two paths: BPTT by hand and by autograd

HAND_SIZES = SIZES + [(2, 1, 3, 4, 2), (4, 1, 2, 3, 1), (3, 17, 6, 10, 1), (2, 12, 5, 9, 3)]


def _three_lstms(D, H, L, dtype=D64):
    """nn.LSTM, LSTMScratch with BPTT by hand, LSTMScratch stepping LSTMCellScratch under autograd: same weights."""
    ref = torch.nn.LSTM(D, H, num_layers=L, batch_first=True).to(dtype)
    with torch.no_grad():                               # both of nn.LSTM's biases non-zero and different
        for l in range(L):
            getattr(ref, f"bias_hh_l{l}").normal_()
    hand, auto = LSTMScratch(D, H, L).to(dtype), LSTMScratch(D, H, L, bptt="autograd").to(dtype)
    copy_from_torch(hand, ref)
    copy_from_torch(auto, ref)
    assert hand.bptt == "hand" and auto.bptt == "autograd"
    return ref, hand, auto


def _run(model, x, h0, c0, weights, terms):
    """Outputs, final states and the gradients of Σ w ⊙ (each returned tensor in ``terms``) for x, h_0, c_0
    and every weight (for nn.LSTM: bias_ih and bias_hh both get the gradient of the lecture's b)."""
    x, h0, c0 = (t.detach().clone().requires_grad_(True) for t in (x, h0, c0))
    out, (h_n, c_n) = model(x, (h0, c0))
    got = {"out": out, "h_n": h_n, "c_n": c_n}
    loss = sum((got[k] * weights[k]).sum() for k in terms)
    loss.backward()
    grads = {"x": x.grad, "h_0": h0.grad, "c_0": c0.grad}
    for l in range(model.num_layers):
        if isinstance(model, LSTMScratch):
            cell = model.cells[l]
            grads.update({f"W_xh{l}": cell.W_xh.grad, f"W_hh{l}": cell.W_hh.grad, f"b{l}": cell.b.grad})
        else:
            grads.update({f"W_xh{l}": getattr(model, f"weight_ih_l{l}").grad,
                          f"W_hh{l}": getattr(model, f"weight_hh_l{l}").grad,
                          f"b{l}": getattr(model, f"bias_ih_l{l}").grad, f"b_hh{l}": getattr(model, f"bias_hh_l{l}").grad})
    return got, grads


@pytest.mark.parametrize("terms", [("out", "h_n", "c_n"), ("out",), ("h_n",), ("c_n",)])
@pytest.mark.parametrize("B, T, D, H, L", HAND_SIZES)
def test_hand_bptt_equals_autograd_steps_and_nn_lstm(B, T, D, H, L, terms):
    """Outputs, (h_n, c_n) and EVERY gradient (weights, biases, x, h_0, c_0) of the hand-written BPTT equal
    both the step-by-step autograd path and nn.LSTM with copied weights, to 1e-10 in float64, from
    non-zero initial states; each loss term alone too (the backward's three incoming gradients)."""
    torch.manual_seed(B * 1000 + T * 10 + L)
    ref, hand, auto = _three_lstms(D, H, L)
    x, h0, c0 = torch.randn(B, T, D, dtype=D64), torch.randn(L, B, H, dtype=D64), torch.randn(L, B, H, dtype=D64)
    weights = {"out": torch.randn(B, T, H, dtype=D64), "h_n": torch.randn(L, B, H, dtype=D64),
               "c_n": torch.randn(L, B, H, dtype=D64)}
    got_hand, g_hand = _run(hand, x, h0, c0, weights, terms)
    for other in (auto, ref):
        got, g = _run(other, x, h0, c0, weights, terms)
        for k in got:
            assert got_hand[k].shape == got[k].shape and (got_hand[k] - got[k]).abs().max() <= 1e-10, k
        for k in g_hand:
            assert g[k] is not None and g_hand[k] is not None, k
            assert (g_hand[k] - g[k]).abs().max() <= 1e-10, f"gradient of {k} ({type(other).__name__})"
            if k.startswith("b") and other is ref:       # nn.LSTM's second bias gets the same gradient
                assert (g_hand[k] - g["b_hh" + k[1:]]).abs().max() <= 1e-10
    assert g_hand["h_0"].abs().max() > 0 and g_hand["c_0"].abs().max() > 0    # the comparisons above were not 0 = 0


@pytest.mark.parametrize("T", [1, 3])
def test_hand_bptt_layer_gradcheck(T):
    """Finite differences on the layer itself: x, W_xh, W_hh, b, h_0, c_0 all free (float64)."""
    torch.manual_seed(7 + T)
    B, D, H = 2, 3, 2
    args = [torch.randn(*shape, dtype=D64, requires_grad=True)
            for shape in ((B, T, D), (4 * H, D), (4 * H, H), (4 * H,), (B, H), (B, H))]
    assert torch.autograd.gradcheck(LSTMLayerBPTT.apply, args)
    model = LSTMScratch(D, H, 2).double()                # and through the model, with states
    x, h0, c0 = (torch.randn(*s, dtype=D64, requires_grad=True) for s in ((B, T, D), (2, B, H), (2, B, H)))
    def flat(x, h0, c0):
        out, (h_n, c_n) = model(x, (h0, c0))
        return out, h_n, c_n
    assert torch.autograd.gradcheck(flat, (x, h0, c0))


def test_hand_bptt_float32_onednn_and_addmm_agree_with_autograd():
    """float32 on the CPU: the oneDNN products (where PyTorch offers them) and torch.addmm give the step-by-step
    autograd path's outputs and gradients to float32 precision; ``out.sum()`` (a stride-0 gradient) works."""
    torch.manual_seed(8)
    _, hand, auto = _three_lstms(6, 16, 2, dtype=torch.float32)
    x = torch.randn(5, 11, 6)
    h0, c0 = torch.randn(2, 5, 16), torch.randn(2, 5, 16)
    weights = {k: torch.ones(()) for k in ("out", "h_n", "c_n")}
    got_auto, g_auto = _run(auto, x, h0, c0, weights, ("out", "h_n", "c_n"))
    matmul = lstm_gru_module.matmul
    saved = matmul.use_onednn
    try:
        for use in (None, False):                        # None: oneDNN if the probe finds it, False: addmm
            matmul.use_onednn = use
            hand.zero_grad()
            got, g = _run(hand, x, h0, c0, weights, ("out", "h_n", "c_n"))
            for k in got:
                assert (got[k] - got_auto[k]).abs().max() <= 1e-5, k
            for k in g:
                assert (g[k] - g_auto[k]).abs().max() <= 1e-4 * max(1.0, g_auto[k].abs().max().item()), k
    finally:
        matmul.use_onednn = saved


def test_hand_bptt_without_states_without_input_gradient_and_without_grad():
    torch.manual_seed(9)
    ref, hand, _ = _three_lstms(4, 5, 2)
    x = torch.randn(3, 6, 4, dtype=D64)                  # x needs no gradient: the weights still get theirs
    hand(x)[0].pow(2).sum().backward()
    ref(x)[0].pow(2).sum().backward()
    for l, cell in enumerate(hand.cells):
        assert (cell.W_hh.grad - getattr(ref, f"weight_hh_l{l}").grad).abs().max() <= 1e-10
        assert (cell.W_xh.grad - getattr(ref, f"weight_ih_l{l}").grad).abs().max() <= 1e-10
    with torch.no_grad():
        out, (h_n, c_n) = hand(x)
        assert not out.requires_grad and (out - ref(x)[0]).abs().max() <= 1e-10
        assert (h_n[-1] - out[:, -1]).abs().max() == 0


def test_peephole_lstm_runs_step_by_step_and_bptt_is_checked():
    torch.manual_seed(10)
    peep = LSTMScratch(3, 4, 2, peephole=True).double()
    assert peep.bptt == "hand"                           # asked for, but a peephole LSTM steps its cells
    with torch.no_grad():
        for cell in peep.cells:
            for w in (cell.w_ci, cell.w_cf, cell.w_co):
                w.normal_()
    x = torch.randn(2, 5, 3, dtype=D64)
    out, (h_n, c_n) = peep(x)
    layer_input = x
    for l, cell in enumerate(peep.cells):                # LSTMCellScratch by hand, step by step
        state, outs = cell.init_state(2), []
        for x_t in layer_input.unbind(1):
            q = cell.step(x_t, state)
            state = (q["h"], q["c"])
            outs.append(q["h"])
        layer_input = torch.stack(outs, 1)
        assert (c_n[l] - state[1]).abs().max() <= 1e-12
    assert (out - layer_input).abs().max() <= 1e-12
    with pytest.raises(ValueError, match="bptt"):
        LSTMScratch(3, 4, bptt="fast")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_hand_bptt_on_cuda_equals_cpu():
    torch.manual_seed(11)
    _, hand, _ = _three_lstms(4, 6, 2)
    x, h0, c0 = torch.randn(3, 7, 4, dtype=D64), torch.randn(2, 3, 6, dtype=D64), torch.randn(2, 3, 6, dtype=D64)
    weights = {k: torch.ones(()) for k in ("out", "h_n", "c_n")}
    got_cpu, g_cpu = _run(hand, x, h0, c0, weights, ("out", "h_n", "c_n"))
    hand.zero_grad()
    got, g = _run(hand.cuda(), x.cuda(), h0.cuda(), c0.cuda(), {k: w.cuda() for k, w in weights.items()},
                  ("out", "h_n", "c_n"))
    for k in got:
        assert (got[k].cpu() - got_cpu[k]).abs().max() <= 1e-10, k
    for k in g:
        assert (g[k].cpu() - g_cpu[k]).abs().max() <= 1e-10, k
