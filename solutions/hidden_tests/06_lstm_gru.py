"""Hidden tests for 06_lstm_gru: more sizes, edge cases (H = 1, B = 1, T = 1), saturation, unrolled
sequences, and the gradients of every parameter."""
import numpy as np

from course_lib.grading.sandbox import TensorArg
from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(2606)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _lstm(x, h, c, Wx, Wh, b):
    i, f, g, o = np.split(x @ Wx.T + h @ Wh.T + b, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def _gru(x, h, Wx, Wh, b):
    n = h.shape[1]
    rz = sigmoid(x @ Wx[:2 * n].T + h @ Wh[:2 * n].T + b[:2 * n])
    r, z = rz[:, :n], rz[:, n:]
    return z * h + (1 - z) * np.tanh(x @ Wx[2 * n:].T + (r * h) @ Wh[2 * n:].T + b[2 * n:])


def _rand(Bn, Dn, Hn, gates, scale=0.7):
    return (rng.normal(size=(Bn, Dn)), rng.normal(size=(Bn, Hn)) * 0.5, rng.normal(size=(Bn, Hn)),
            rng.normal(size=(gates * Hn, Dn)) * scale, rng.normal(size=(gates * Hn, Hn)) * scale,
            rng.normal(size=gates * Hn) * scale)


@test("lstm_step", points=1)
def several_sizes(student):
    """B, D, H in (1, 1, 1), (2, 7, 3), (5, 2, 8): h_t and c_t"""
    for Bn, Dn, Hn in ((1, 1, 1), (2, 7, 3), (5, 2, 8)):
        x, h, c, Wx, Wh, b = _rand(Bn, Dn, Hn, 4)
        out = student.call("lstm_step", x, h, c, Wx, Wh, b)
        expect(isinstance(out, (tuple, list)) and len(out) == 2, "lstm_step must return (h_t, c_t)")
        h_ref, c_ref = _lstm(x, h, c, Wx, Wh, b)
        expect_close(out[1], c_ref, f"c_t wrong for B={Bn}, D={Dn}, H={Hn}")
        expect_close(out[0], h_ref, f"h_t wrong for B={Bn}, D={Dn}, H={Hn}")


@test("lstm_step", points=1)
def unrolled_over_ten_steps(student):
    """10 steps, (h, c) carried: the cell state accumulates, h stays in (-1, 1)"""
    x, h, c, Wx, Wh, b = _rand(3, 4, 5, 4, scale=1.2)
    h_ref, c_ref = h, c
    for t in range(10):
        xt = rng.normal(size=(3, 4))
        out = student.call("lstm_step", xt, h, c, Wx, Wh, b)
        h, c = as_array(out[0], "h_t", (3, 5)), as_array(out[1], "c_t", (3, 5))
        h_ref, c_ref = _lstm(xt, h_ref, c_ref, Wx, Wh, b)
    expect_close(c, c_ref, "after 10 steps c_t differs")
    expect_close(h, h_ref, "after 10 steps h_t differs")


@test("lstm_step", points=1)
def saturated_gates_copy_the_cell(student):
    """f = 1, i = 0 (biases ±40): c_t = c_{t-1} exactly, the memory is kept"""
    x, h, c, Wx, Wh, _ = _rand(2, 3, 4, 4)
    Wx, Wh = Wx * 0, Wh * 0
    b = np.concatenate([np.full(4, -40.0), np.full(4, 40.0), np.zeros(4), np.full(4, 40.0)])
    out = student.call("lstm_step", x, h, c, Wx, Wh, b)
    expect_close(out[1], c, "with the forget gate fully open and the input gate shut, c_t must equal c_{t-1}")
    expect_close(out[0], np.tanh(c), "with o = 1, h_t = tanh(c_t)")


# ----------------------------------------------------------------------------- peephole_lstm_step
# The oracle is the course's own LSTMCellScratch(peephole=True) / LSTMScratch(peephole=True), float64.

_PEEP_NAMES = ("W_xh", "W_hh", "b", "w_ci", "w_cf", "w_co")


def _peephole_cell(Dn, Hn, scale=0.8, layer=False):
    """A float64 LSTMCellScratch (or one-layer LSTMScratch) with peepholes and random weights; its parameters
    as numpy arrays in the exercise's argument order."""
    import torch
    from course_lib.lstm_gru import LSTMCellScratch, LSTMScratch
    model = (LSTMScratch(Dn, Hn, 1, peephole=True) if layer else LSTMCellScratch(Dn, Hn, peephole=True)).double()
    cell = model.cells[0] if layer else model
    with torch.no_grad():
        for n in _PEEP_NAMES:
            p = getattr(cell, n)
            p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * scale))
    return model, [getattr(cell, n).detach().numpy().copy() for n in _PEEP_NAMES]


def _peep_call(student, *args):
    out = student.call("peephole_lstm_step", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "peephole_lstm_step must return (h_t, c_t)")
    shape = (args[0].shape[0], args[1].shape[1])
    return as_array(out[0], "h_t", shape), as_array(out[1], "c_t", shape)


@test("peephole_lstm_step", points=1)
def peephole_several_sizes(student):
    """(B, D, H) in (1, 1, 1), (2, 7, 3), (6, 3, 9), (4, 5, 2): one step equals LSTMCellScratch(peephole=True)"""
    import torch
    for Bn, Dn, Hn in ((1, 1, 1), (2, 7, 3), (6, 3, 9), (4, 5, 2)):
        cell, params = _peephole_cell(Dn, Hn)
        x, h, c = rng.normal(size=(Bn, Dn)), rng.normal(size=(Bn, Hn)), rng.normal(size=(Bn, Hn)) * 2
        h_t, c_t = _peep_call(student, x, h, c, *params)
        with torch.no_grad():
            h_ref, (_, c_ref) = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
        expect_close(c_t, c_ref.numpy(), f"c_t wrong for B={Bn}, D={Dn}, H={Hn}")
        expect_close(h_t, h_ref.numpy(), f"h_t wrong for B={Bn}, D={Dn}, H={Hn}")


@test("peephole_lstm_step", points=1)
def peephole_sequence_in_float64(student):
    """T = 15 steps carried from a given state: every h_t equals LSTMScratch(peephole=True)'s to 1e-10"""
    import torch
    Bn, Tn, Dn, Hn = 3, 15, 4, 5
    model, params = _peephole_cell(Dn, Hn, scale=1.0, layer=True)
    x, h, c = rng.normal(size=(Bn, Tn, Dn)), rng.normal(size=(Bn, Hn)) * 0.5, rng.normal(size=(Bn, Hn))
    with torch.no_grad():
        ref, (h_n, c_n) = model(torch.from_numpy(x), (torch.from_numpy(h)[None], torch.from_numpy(c)[None]))
    for t in range(Tn):
        h, c = _peep_call(student, x[:, t], h, c, *params)
        expect_close(h, ref[:, t].numpy(), f"h_{t + 1} differs from the peephole LSTM's (float64, tolerance 1e-10: "
                     "compute in float64, as the inputs are)", atol=1e-10, rtol=1e-10)
    expect_close(c, c_n[0].numpy(), "the last cell state c_T differs", atol=1e-10, rtol=1e-10)


@test("peephole_lstm_step", points=1)
def peephole_precise_timing_and_saturation(student):
    """a counting cell (c_t ≈ 0.1 t) whose output gate opens at step 6 through w_co alone; cells ×30 stay finite"""
    b = np.array([12.0, 12.0, np.arctanh(0.1), -55.0])
    h, c = np.zeros((1, 1)), np.zeros((1, 1))
    opened = []
    for t in range(1, 11):
        h, c = _peep_call(student, np.zeros((1, 1)), h, c, np.zeros((4, 1)), np.zeros((4, 1)), b,
                          np.zeros(1), np.zeros(1), np.array([100.0]))
        opened.append(bool(h[0, 0] > 0.25))
    expect(opened == [t >= 6 for t in range(1, 11)], "the counting cell's output gate should open exactly at step 6 "
           f"(o_t = σ(100 · c_t − 55) with c_t ≈ 0.1 t, the NEW cell); it was open at steps "
           f"{[t for t, o in zip(range(1, 11), opened) if o]}")
    import torch
    cell, params = _peephole_cell(3, 4, scale=1.0)
    x, hp, cp = rng.normal(size=(2, 3)) * 30, rng.normal(size=(2, 4)), rng.normal(size=(2, 4)) * 30
    h_t, c_t = _peep_call(student, x, hp, cp, *params)
    with torch.no_grad():
        h_ref, (_, c_ref) = cell(torch.from_numpy(x), (torch.from_numpy(hp), torch.from_numpy(cp)))
    expect_close(c_t, c_ref.numpy(), "with saturated gates (inputs and cells ×30), c_t differs")
    expect_close(h_t, h_ref.numpy(), "with saturated gates (inputs and cells ×30), h_t differs")


# ----------------------------------------------------------------------------- peephole_grads

def _peep_grads_reference(args, dh):
    """Autograd through LSTMCellScratch(peephole=True), float64, loss Σ dh ⊙ h_t."""
    import torch
    from course_lib.lstm_gru import LSTMCellScratch
    cell = LSTMCellScratch(args[0].shape[1], args[1].shape[1], peephole=True).double()
    with torch.no_grad():
        for n, v in zip(_PEEP_NAMES, args[3:]):
            getattr(cell, n).copy_(torch.from_numpy(v))
    h_t, _ = cell(torch.from_numpy(args[0]), (torch.from_numpy(args[1]), torch.from_numpy(args[2])))
    (h_t * torch.from_numpy(dh)).sum().backward()
    return [getattr(cell, n).grad.numpy().copy() for n in ("w_ci", "w_cf", "w_co")]


def _peep_grads_args(Bn, Dn, Hn, x_scale=1.0, c_scale=1.5, w_scale=1.0):
    return [rng.normal(size=(Bn, Dn)) * x_scale, rng.normal(size=(Bn, Hn)), rng.normal(size=(Bn, Hn)) * c_scale,
            rng.normal(size=(4 * Hn, Dn)) * 0.7, rng.normal(size=(4 * Hn, Hn)) * 0.7, rng.normal(size=4 * Hn) * 0.7,
            rng.normal(size=Hn) * w_scale, rng.normal(size=Hn) * w_scale, rng.normal(size=Hn) * w_scale]


def _peep_grads_call(student, args, dh):
    out = student.call("peephole_grads", *args, dh)
    expect(isinstance(out, (tuple, list)) and len(out) == 3, "peephole_grads must return (dw_ci, dw_cf, dw_co)")
    return [as_array(g, n, (args[1].shape[1],)) for n, g in zip(("dw_ci", "dw_cf", "dw_co"), out)]


@test("peephole_grads", points=1)
def peephole_grads_several_sizes(student):
    """(B, D, H) in (1, 1, 1), (2, 7, 3), (6, 3, 9): all three gradients equal autograd's to 1e-9"""
    for Bn, Dn, Hn in ((1, 1, 1), (2, 7, 3), (6, 3, 9)):
        args = _peep_grads_args(Bn, Dn, Hn)
        dh = rng.normal(size=(Bn, Hn))
        got, ref = _peep_grads_call(student, args, dh), _peep_grads_reference(args, dh)
        for n, g, r in zip(("dw_ci", "dw_cf", "dw_co"), got, ref):
            expect_close(g, r, f"{n} differs from autograd's for B={Bn}, D={Dn}, H={Hn}", atol=1e-9, rtol=1e-9)


@test("peephole_grads", points=1)
def peephole_grads_are_per_unit(student):
    """∂L/∂h_t non-zero in one unit only: every other unit's peephole gradients are exactly 0"""
    Bn, Dn, Hn = 3, 4, 5
    args = _peep_grads_args(Bn, Dn, Hn)
    dh = np.zeros((Bn, Hn))
    dh[:, 2] = rng.normal(size=Bn)
    got, ref = _peep_grads_call(student, args, dh), _peep_grads_reference(args, dh)
    for n, g, r in zip(("dw_ci", "dw_cf", "dw_co"), got, ref):
        expect(np.all(np.abs(np.delete(g, 2)) < 1e-12), f"{n}: only unit 2 receives a gradient at h_t, and a "
               "peephole is diagonal (unit k's gate reads only unit k's cell), so the other entries must be 0")
        expect_close(g, r, f"{n} differs from autograd's with ∂L/∂h_t in one unit only")


@test("peephole_grads", points=1)
def peephole_grads_with_saturated_gates(student):
    """inputs ×20 and strong peepholes (gates near 0 or 1): still autograd's gradients, finite"""
    args = _peep_grads_args(4, 3, 4, x_scale=20.0, c_scale=3.0, w_scale=3.0)
    dh = rng.normal(size=(4, 4))
    got, ref = _peep_grads_call(student, args, dh), _peep_grads_reference(args, dh)
    for n, g, r in zip(("dw_ci", "dw_cf", "dw_co"), got, ref):
        expect_close(g, r, f"{n} differs from autograd's with saturated gates")


@test("gru_step", points=1)
def several_sizes_gru(student):
    """B, D, H in (1, 1, 1), (2, 7, 3), (5, 2, 8)"""
    for Bn, Dn, Hn in ((1, 1, 1), (2, 7, 3), (5, 2, 8)):
        x, h, _, Wx, Wh, b = _rand(Bn, Dn, Hn, 3)
        expect_close(student.call("gru_step", x, h, Wx, Wh, b), _gru(x, h, Wx, Wh, b),
                     f"h_t wrong for B={Bn}, D={Dn}, H={Hn}")


@test("gru_step", points=1)
def unrolled_gru(student):
    """8 steps carried"""
    x, h, _, Wx, Wh, b = _rand(2, 3, 6, 3, scale=1.0)
    h_ref = h
    for t in range(8):
        xt = rng.normal(size=(2, 3))
        h = as_array(student.call("gru_step", xt, h, Wx, Wh, b), "h_t", (2, 6))
        h_ref = _gru(xt, h_ref, Wx, Wh, b)
    expect_close(h, h_ref, "after 8 steps h_t differs")


@test("gru_step", points=1)
def update_gate_closed_keeps_state(student):
    """z = 1 (b_z = 40): h_t = h_{t-1} whatever the input"""
    x, h, _, Wx, Wh, b = _rand(3, 2, 4, 3)
    b = b.copy()
    b[4:8] = 40.0
    Wx, Wh = Wx.copy(), Wh.copy()
    Wx[4:8] = 0
    Wh[4:8] = 0
    expect_close(student.call("gru_step", x, h, Wx, Wh, b), h, "with z = 1 the GRU must copy h_{t-1}")


def _torch_lstm(Dn, Hn, params, x, h0=None, c0=None, grad_output=None):
    import torch
    ref = torch.nn.LSTM(Dn, Hn, batch_first=True).double()
    with torch.no_grad():
        for n, v in params.items():
            getattr(ref, n).copy_(torch.from_numpy(v))
    xt = torch.tensor(x, requires_grad=True)
    out, (hn, cn) = ref(xt, None if h0 is None else (torch.tensor(h0), torch.tensor(c0)))
    grads = None
    if grad_output is not None:
        (out * torch.from_numpy(grad_output)).sum().backward()
        grads = {"x": xt.grad.numpy(), **{n: getattr(ref, n).grad.numpy() for n in params}}
    return out.detach().numpy(), hn.detach().numpy(), cn.detach().numpy(), grads


def _params(Dn, Hn, scale=0.6):
    return {"weight_ih_l0": rng.normal(size=(4 * Hn, Dn)) * scale, "weight_hh_l0": rng.normal(size=(4 * Hn, Hn)) * scale,
            "bias_ih_l0": rng.normal(size=4 * Hn) * scale, "bias_hh_l0": rng.normal(size=4 * Hn) * scale}


@test("LSTMLayer", points=1)
def sizes_and_states(student):
    """(B, T, D, H) in (1, 1, 1, 1), (3, 9, 2, 5), (2, 4, 6, 1), with given states"""
    for Bn, Tn, Dn, Hn in ((1, 1, 1, 1), (3, 9, 2, 5), (2, 4, 6, 1)):
        params = _params(Dn, Hn)
        x, h0, c0 = rng.normal(size=(Bn, Tn, Dn)), rng.normal(size=(1, Bn, Hn)), rng.normal(size=(1, Bn, Hn))
        layer = student.new("LSTMLayer", Dn, Hn)
        layer.set_params(params)
        out = layer(TensorArg(x), (TensorArg(h0), TensorArg(c0)))
        expect(isinstance(out, (tuple, list)) and len(out) == 2, "return (outputs, (h_n, c_n))")
        ref_out, ref_h, ref_c, _ = _torch_lstm(Dn, Hn, params, x, h0, c0)
        expect_close(out[0], ref_out, f"outputs differ from nn.LSTM's for B={Bn}, T={Tn}, D={Dn}, H={Hn}")
        expect_close(out[1][0], ref_h, f"h_n differs for B={Bn}, T={Tn}, D={Dn}, H={Hn}")
        expect_close(out[1][1], ref_c, f"c_n differs for B={Bn}, T={Tn}, D={Dn}, H={Hn}")


@test("LSTMLayer", points=1)
def every_gradient_long_sequence(student):
    """T = 12: gradients of x and of all four parameters, bias_ih included"""
    Dn, Hn, Bn, Tn = 2, 3, 3, 12
    params = _params(Dn, Hn)
    x, g = rng.normal(size=(Bn, Tn, Dn)), rng.normal(size=(Bn, Tn, Hn))
    layer = student.new("LSTMLayer", Dn, Hn)
    layer.set_params(params)
    got = layer.backward(TensorArg(x, requires_grad=True), None, grad_output=g, output_index=0)
    _, _, _, ref = _torch_lstm(Dn, Hn, params, x, grad_output=g)
    for n in params:
        expect(n in got["param_grads"], f"no gradient reached {n}")
        expect_close(got["param_grads"][n], ref[n], f"∂L/∂{n} differs from nn.LSTM's")
    expect_close(got["input_grads"][0], ref["x"], "∂L/∂x differs from nn.LSTM's")


@test("LSTMLayer", points=1)
def large_inputs_stay_finite(student):
    """inputs ×30 (saturated gates): still equal to nn.LSTM, no nan"""
    Dn, Hn, Bn, Tn = 3, 4, 2, 6
    params = _params(Dn, Hn)
    x = rng.normal(size=(Bn, Tn, Dn)) * 30
    layer = student.new("LSTMLayer", Dn, Hn)
    layer.set_params(params)
    out = layer(TensorArg(x), None)
    ref_out, _, ref_c, _ = _torch_lstm(Dn, Hn, params, x)
    expect_close(out[0], ref_out, "outputs with saturated gates differ from nn.LSTM's")
    expect_close(out[1][1], ref_c, "c_n with saturated gates differs from nn.LSTM's")


@test("LSTMLayer", points=1)
def fresh_state_at_every_call_and_a_given_state_after(student):
    """three calls on one layer: None, a given (h_0, c_0), None again: each as nn.LSTM from its own start"""
    Dn, Hn, Bn, Tn = 2, 2, 1, 5
    params = _params(Dn, Hn)
    layer = student.new("LSTMLayer", Dn, Hn)
    layer.set_params(params)
    x, h0, c0 = rng.normal(size=(Bn, Tn, Dn)), rng.normal(size=(1, Bn, Hn)), rng.normal(size=(1, Bn, Hn))
    for state in (None, (h0, c0), None):
        out = layer(TensorArg(x), None if state is None else (TensorArg(state[0]), TensorArg(state[1])))
        ref_out = _torch_lstm(Dn, Hn, params, x, *(state or (None, None)))[0]
        expect_close(out[0], ref_out, "each call starts from its own state (h_0 = c_0 = 0 when none is given)")


# ----------------------------------------------------------------------------- cell_path_gradient

def _path_reference(x, h0, c0, Wx, Wh, b):
    n = h0.shape[1]
    h, c, prod = h0, c0, np.ones_like(c0)
    for t in range(x.shape[1]):
        prod = prod * sigmoid((x[:, t] @ Wx.T + h @ Wh.T + b)[:, n:2 * n])
        h, c = _lstm(x[:, t], h, c, Wx, Wh, b)
    return prod


def _path_autograd(x, h0, c0, Wx, b):
    import torch
    cell = torch.nn.LSTMCell(x.shape[2], h0.shape[1]).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(Wx)), cell.weight_hh.zero_()
        cell.bias_ih.copy_(torch.from_numpy(b)), cell.bias_hh.zero_()
    c_start = torch.tensor(c0, requires_grad=True)
    h, c = torch.from_numpy(h0), c_start
    for t in range(x.shape[1]):
        h, c = cell(torch.from_numpy(x[:, t]), (h, c))
    c.sum().backward()
    return c_start.grad.numpy().copy()


@test("cell_path_gradient", points=1)
def long_sequences_against_autograd(student):
    """W_hh = 0, T = 25 and T = 2, other sizes: autograd's ∂c_T/∂c_0"""
    for Bn, Tn, Dn, Hn in ((4, 25, 3, 2), (1, 2, 1, 6)):
        x, h0, c0 = rng.normal(size=(Bn, Tn, Dn)), rng.normal(size=(Bn, Hn)), rng.normal(size=(Bn, Hn))
        Wx, b = rng.normal(size=(4 * Hn, Dn)), rng.normal(size=4 * Hn) + np.r_[np.zeros(Hn), np.full(Hn, 2.0),
                                                                               np.zeros(2 * Hn)]
        got = student.call("cell_path_gradient", x, h0, c0, Wx, np.zeros((4 * Hn, Hn)), b)
        expect_close(got, _path_autograd(x, h0, c0, Wx, b), f"∂c_T/∂c_0 for B={Bn}, T={Tn}, D={Dn}, H={Hn}",
                     rtol=1e-6, atol=1e-14)


@test("cell_path_gradient", points=1)
def recurrent_gates_other_seeds(student):
    """W_hh ≠ 0, three draws: the product of the run's own forget gates"""
    for Bn, Tn, Dn, Hn in ((2, 9, 2, 3), (3, 4, 5, 1), (1, 15, 2, 4)):
        x, h0, c0 = rng.normal(size=(Bn, Tn, Dn)), rng.normal(size=(Bn, Hn)), rng.normal(size=(Bn, Hn))
        Wx, Wh, b = rng.normal(size=(4 * Hn, Dn)), rng.normal(size=(4 * Hn, Hn)), rng.normal(size=4 * Hn) + 1.0
        got = student.call("cell_path_gradient", x, h0, c0, Wx, Wh, b)
        expect_close(got, _path_reference(x, h0, c0, Wx, Wh, b), f"∂c_T/∂c_0 along the cell, B={Bn}, T={Tn}, "
                     f"D={Dn}, H={Hn}", rtol=1e-6, atol=1e-14)
