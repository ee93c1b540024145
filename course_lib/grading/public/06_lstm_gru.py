"""Public tests for 06_lstm_gru. Each test isolates one term of the lecture's equations and, where a
common mistake is recognisable, names it."""
import numpy as np

from course_lib.grading.sandbox import TensorArg
from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(6)
B, D, H = 3, 4, 5
X_T, H_PREV, C_PREV = rng.normal(size=(B, D)), rng.normal(size=(B, H)) * 0.5, rng.normal(size=(B, H))
W_X4, W_H4, B4 = rng.normal(size=(4 * H, D)) * 0.5, rng.normal(size=(4 * H, H)) * 0.5, rng.normal(size=4 * H) * 0.5
W_X3, W_H3, B3 = rng.normal(size=(3 * H, D)) * 0.5, rng.normal(size=(3 * H, H)) * 0.5, rng.normal(size=3 * H) * 0.5


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_reference(x, h, c, Wx, Wh, b):
    """Returns h_t, c_t and, for the messages, the gates."""
    a = x @ Wx.T + h @ Wh.T + b
    i, f, g, o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new, (i, f, g, o)


def gru_reference(x, h, Wx, Wh, b, reset_after=False):
    n = h.shape[1]
    rz = sigmoid(x @ Wx[:2 * n].T + h @ Wh[:2 * n].T + b[:2 * n])
    r, z = rz[:, :n], rz[:, n:]
    if reset_after:
        h_tilde = np.tanh(x @ Wx[2 * n:].T + r * (h @ Wh[2 * n:].T) + b[2 * n:])
    else:
        h_tilde = np.tanh(x @ Wx[2 * n:].T + (r * h) @ Wh[2 * n:].T + b[2 * n:])
    return z * h + (1 - z) * h_tilde, (r, z, h_tilde)


def _lstm_pair(student, *args):
    out = student.call("lstm_step", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "lstm_step must return a pair (h_t, c_t)")
    return as_array(out[0], "h_t", shape=(args[0].shape[0], args[1].shape[1])), \
        as_array(out[1], "c_t", shape=(args[0].shape[0], args[1].shape[1]))


# ----------------------------------------------------------------------------- lstm_step

@test("lstm_step", points=1)
def cell_state_update(student):
    """c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t on random inputs"""
    _, c = _lstm_pair(student, X_T, H_PREV, C_PREV, W_X4, W_H4, B4)
    h_ref, c_ref, (i, f, g, o) = lstm_reference(X_T, H_PREV, C_PREV, W_X4, W_H4, B4)
    if np.allclose(c, i * C_PREV + f * g, atol=1e-6):
        expect(False, "c_t = i_t ⊙ c_{t-1} + f_t ⊙ c̃_t: the input and forget gates are swapped. The forget gate f_t "
                      "scales the OLD cell c_{t-1}; the input gate i_t scales the candidate c̃_t")
    if np.allclose(c, f * C_PREV + i * sigmoid(np.split(X_T @ W_X4.T + H_PREV @ W_H4.T + B4, 4, axis=1)[2]), atol=1e-6):
        expect(False, "the candidate c̃_t must be tanh(...) (values in (-1, 1)), not a sigmoid")
    expect_close(c, c_ref, "c_t differs from f_t ⊙ c_{t-1} + i_t ⊙ c̃_t (gate blocks of W in the order i, f, c̃, o)")


@test("lstm_step", points=1)
def hidden_state_is_gated_tanh_of_the_cell(student):
    """h_t = o_t ⊙ tanh(c_t), with c_t large so tanh matters"""
    c_big = C_PREV * 4
    h, c = _lstm_pair(student, X_T, H_PREV, c_big, W_X4, W_H4, B4)
    h_ref, c_ref, (i, f, g, o) = lstm_reference(X_T, H_PREV, c_big, W_X4, W_H4, B4)
    if np.allclose(h, o * c_ref, atol=1e-6):
        expect(False, "h_t = o_t ⊙ c_t: tanh is missing. The lecture: h_t = o_t ⊙ tanh(c_t)")
    if np.allclose(h, o * np.tanh(c_big), atol=1e-6):
        expect(False, "h_t uses tanh(c_{t-1}): the output gate must read the NEW cell, h_t = o_t ⊙ tanh(c_t)")
    expect(np.all(np.abs(h) < 1), "h_t = o_t ⊙ tanh(c_t) lies in (-1, 1)")
    expect_close(h, h_ref, "h_t differs from o_t ⊙ tanh(c_t)")


@test("lstm_step", points=1)
def gate_order_i_f_candidate_o(student):
    """W = 0, a bias per block: the blocks are (i, f, c̃, o) in this order"""
    bias = np.concatenate([np.full(H, 2.0), np.full(H, -1.0), np.full(H, 0.5), np.full(H, 1.5)])
    zeros_x, zeros_h = np.zeros((4 * H, D)), np.zeros((4 * H, H))
    h, c = _lstm_pair(student, X_T, H_PREV, C_PREV, zeros_x, zeros_h, bias)
    i, f, g, o = sigmoid(2.0), sigmoid(-1.0), np.tanh(0.5), sigmoid(1.5)
    expect_close(c, f * C_PREV + i * g, "c_t: with W = 0 the gates are σ(b): read the blocks of W and b in the order "
                 "i (rows 0..H-1), f (H..2H-1), c̃ (2H..3H-1), o (3H..4H-1)")
    expect_close(h, o * np.tanh(f * C_PREV + i * g), "h_t: the output gate is the LAST block (3H..4H-1)")


# ----------------------------------------------------------------------------- peephole_lstm_step
# Each case switches on ONE peephole (the others 0), so a wrong term shows alone; the references
# are checked against the course's LSTMCellScratch(peephole=True) in the last test.

def peephole_reference(x, h, c, Wx, Wh, b, w_ci, w_cf, w_co, o_sees="new"):
    """Gers & Schmidhuber's step: i, f see c_{t-1}; o sees c_t (o_sees="old": the mistake, c_{t-1})."""
    a_i, a_f, a_c, a_o = np.split(x @ Wx.T + h @ Wh.T + b, 4, axis=1)
    i, f = sigmoid(a_i + w_ci * c), sigmoid(a_f + w_cf * c)
    c_new = f * c + i * np.tanh(a_c)
    o = sigmoid(a_o + w_co * (c_new if o_sees == "new" else c))
    return o * np.tanh(c_new), c_new


def _peephole_pair(student, *args):
    out = student.call("peephole_lstm_step", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "peephole_lstm_step must return a pair (h_t, c_t)")
    shape = (args[0].shape[0], args[1].shape[1])
    return as_array(out[0], "h_t", shape=shape), as_array(out[1], "c_t", shape=shape)


def _peephole_case(seed, Bn, Dn, Hn, c_scale=1.5):
    """Random x_t, h_{t-1}, c_{t-1} (larger than 1, so the peepholes matter), weights and peepholes (H,)."""
    r = np.random.default_rng(seed)
    return (r.normal(size=(Bn, Dn)), r.normal(size=(Bn, Hn)) * 0.5, r.normal(size=(Bn, Hn)) * c_scale,
            r.normal(size=(4 * Hn, Dn)) * 0.5, r.normal(size=(4 * Hn, Hn)) * 0.5, r.normal(size=4 * Hn) * 0.5,
            r.normal(size=Hn) * 1.5)


@test("peephole_lstm_step", points=1)
def zero_peepholes_give_the_plain_lstm(student):
    """w_ci = w_cf = w_co = 0: exactly the plain LSTM step (two sizes)"""
    for seed, (Bn, Dn, Hn) in ((640, (3, 4, 5)), (641, (4, 2, 3))):
        x, h, c, Wx, Wh, b, _ = _peephole_case(seed, Bn, Dn, Hn)
        zero = np.zeros(Hn)
        h_t, c_t = _peephole_pair(student, x, h, c, Wx, Wh, b, zero, zero, zero)
        h_ref, c_ref, _ = lstm_reference(x, h, c, Wx, Wh, b)
        expect_close(c_t, c_ref, "with all peepholes 0, c_t must be the plain LSTM's f_t ⊙ c_{t-1} + i_t ⊙ c̃_t "
                     "(gate blocks of W and b in the order i, f, c̃, o; a peephole is added INSIDE σ, so w = 0 "
                     "adds nothing)")
        expect_close(h_t, h_ref, "with all peepholes 0, h_t must be the plain LSTM's o_t ⊙ tanh(c_t)")


@test("peephole_lstm_step", points=1)
def input_and_forget_gates_peek_at_the_old_cell(student):
    """only w_ci, then only w_cf non-zero: c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t with the peephole inside each σ"""
    x, h, c, Wx, Wh, b, w = _peephole_case(642, 3, 4, 5)
    zero = np.zeros(5)
    a_i, a_f, a_c, _ = np.split(x @ Wx.T + h @ Wh.T + b, 4, axis=1)

    def cell_with(peek_i, peek_f):        # c_t when i_t and f_t get these extra pre-activation terms
        return sigmoid(a_f + peek_f) * c + sigmoid(a_i + peek_i) * np.tanh(a_c)
    for gate, (wi, wf) in (("i", (w, zero)), ("f", (zero, w))):
        _, c_t = _peephole_pair(student, x, h, c, Wx, Wh, b, wi, wf, zero)
        _, c_ref = peephole_reference(x, h, c, Wx, Wh, b, wi, wf, zero)
        name = "w_ci" if gate == "i" else "w_cf"
        wrong = {
            f"{gate}_t ignores its peephole {name}: "
            f"{gate}_t = σ(W_x{gate} x_t + W_h{gate} h_{{t-1}} + {name} ⊙ c_{{t-1}} + b_{gate})": cell_with(0, 0),
            f"{name} belongs to the {'input' if gate == 'i' else 'forget'} gate {gate}_t; you gave it to the "
            "other gate (w_ci feeds i_t, w_cf feeds f_t)": cell_with(wf * c, wi * c),
            f"the peephole is added AFTER the sigmoid: it belongs inside, {gate}_t = σ(... + {name} ⊙ c_{{t-1}})":
                (sigmoid(a_f) + wf * c) * c + (sigmoid(a_i) + wi * c) * np.tanh(a_c),
            f"{gate}_t peeks at h_{{t-1}}: a peephole reads the CELL, {name} ⊙ c_{{t-1}}": cell_with(wi * h, wf * h),
            f"unit k's gate must see only unit k's cell: {name} ⊙ c_{{t-1}} is elementwise (a diagonal matrix), "
            f"not a product over all cells such as c_{{t-1}} @ {name}": cell_with((c @ wi)[:, None], (c @ wf)[:, None]),
        }
        for message, value in wrong.items():
            if np.allclose(c_t, value, atol=1e-6):
                expect(False, message)
        expect_close(c_t, c_ref, f"only {name} is non-zero here, and c_t differs from "
                     f"f_t ⊙ c_{{t-1}} + i_t ⊙ c̃_t with {gate}_t = σ(... + {name} ⊙ c_{{t-1}})")


@test("peephole_lstm_step", points=1)
def output_gate_peeks_at_the_new_cell(student):
    """only w_co non-zero: o_t = σ(W_xo x_t + W_ho h_{t-1} + w_co ⊙ c_t + b_o), two cases"""
    for seed, (Bn, Dn, Hn) in ((643, (3, 4, 5)), (644, (2, 3, 6))):
        x, h, c, Wx, Wh, b, w = _peephole_case(seed, Bn, Dn, Hn, c_scale=2.0)
        zero = np.zeros(Hn)
        h_t, c_t = _peephole_pair(student, x, h, c, Wx, Wh, b, zero, zero, w)
        h_ref, c_ref = peephole_reference(x, h, c, Wx, Wh, b, zero, zero, w)
        expect_close(c_t, c_ref, "c_t must not depend on w_co: the output gate acts after the cell update")
        a_o = np.split(x @ Wx.T + h @ Wh.T + b, 4, axis=1)[3]
        wrong = {
            "o_t must peek at the NEW cell c_t, not c_{t-1}: compute c_t first, then o_t = σ(... + w_co ⊙ c_t)":
                peephole_reference(x, h, c, Wx, Wh, b, zero, zero, w, o_sees="old")[0],
            "o_t ignores its peephole: o_t = σ(W_xo x_t + W_ho h_{t-1} + w_co ⊙ c_t + b_o)":
                lstm_reference(x, h, c, Wx, Wh, b)[0],
            "the peephole is added AFTER the sigmoid: it belongs inside, o_t = σ(... + w_co ⊙ c_t)":
                (sigmoid(a_o) + w * c_ref) * np.tanh(c_ref),
            "o_t peeks at tanh(c_t): the peephole reads the cell itself, w_co ⊙ c_t":
                sigmoid(a_o + w * np.tanh(c_ref)) * np.tanh(c_ref),
            "o_t peeks at h_{t-1}: a peephole reads the CELL, here the new one, w_co ⊙ c_t":
                sigmoid(a_o + w * h) * np.tanh(c_ref),
            "unit k's output gate must see only unit k's cell: w_co ⊙ c_t is elementwise, not c_t @ w_co":
                sigmoid(a_o + (c_ref @ w)[:, None]) * np.tanh(c_ref),
        }
        for message, value in wrong.items():
            if np.allclose(h_t, value, atol=1e-6):
                expect(False, message)
        expect_close(h_t, h_ref, "only w_co is non-zero here, and h_t differs from o_t ⊙ tanh(c_t) with "
                     "o_t = σ(W_xo x_t + W_ho h_{t-1} + w_co ⊙ c_t + b_o)")


@test("peephole_lstm_step", points=1)
def a_sequence_equals_the_course_peephole_cell(student):
    """all three peepholes, T = 4 steps carried: h_t and c_t equal LSTMCellScratch(peephole=True)'s"""
    import torch
    from course_lib.lstm_gru import LSTMCellScratch
    r = np.random.default_rng(645)
    for Bn, Dn, Hn in ((2, 3, 4), (3, 2, 5)):
        cell = LSTMCellScratch(Dn, Hn, peephole=True).double()
        with torch.no_grad():
            for p in cell.parameters():
                p.copy_(torch.from_numpy(r.normal(size=tuple(p.shape)) * 0.8))
        params = [getattr(cell, n).detach().numpy().copy() for n in ("W_xh", "W_hh", "b", "w_ci", "w_cf", "w_co")]
        h, c = r.normal(size=(Bn, Hn)) * 0.5, r.normal(size=(Bn, Hn))
        h_ref, c_ref = torch.from_numpy(h), torch.from_numpy(c)
        for t in range(1, 5):
            x = r.normal(size=(Bn, Dn))
            h, c = _peephole_pair(student, x, h, c, *params)
            with torch.no_grad():
                h_ref, (_, c_ref) = cell(torch.from_numpy(x), (h_ref, c_ref))
            expect_close(c, c_ref.numpy(), f"step {t}: c_t differs from LSTMCellScratch(peephole=True)'s "
                         "(i_t and f_t peek at c_{t-1} through w_ci, w_cf)")
            expect_close(h, h_ref.numpy(), f"step {t}: h_t differs from LSTMCellScratch(peephole=True)'s "
                         "(o_t peeks at the new c_t through w_co)")


# ----------------------------------------------------------------------------- peephole_grads
# Reference: autograd through the course's LSTMCellScratch(peephole=True), float64, loss Σ dh_t ⊙ h_t.
# The messages come from the hand formulas below, one mistake at a time.

def _autograd_peephole_grads(args, dh):
    import torch
    from course_lib.lstm_gru import LSTMCellScratch
    x, h, c, Wx, Wh, b, w_ci, w_cf, w_co = args
    cell = LSTMCellScratch(x.shape[1], h.shape[1], peephole=True).double()
    with torch.no_grad():
        for n, v in zip(("W_xh", "W_hh", "b", "w_ci", "w_cf", "w_co"), (Wx, Wh, b, w_ci, w_cf, w_co)):
            getattr(cell, n).copy_(torch.from_numpy(v))
    h_t, _ = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    (h_t * torch.from_numpy(dh)).sum().backward()
    return tuple(getattr(cell, n).grad.numpy().copy() for n in ("w_ci", "w_cf", "w_co"))


def _hand_peephole_grads(args, dh, second_path=True, sigma_prime=True, sigma_prime_o=True, o_reads="new",
                          i_f_read="old"):
    """The derivation, with switches for the usual mistakes."""
    x, h, c, Wx, Wh, b, w_ci, w_cf, w_co = args
    a_i, a_f, a_c, a_o = np.split(x @ Wx.T + h @ Wh.T + b, 4, axis=1)
    i, f, g = sigmoid(a_i + w_ci * c), sigmoid(a_f + w_cf * c), np.tanh(a_c)
    c_new = f * c + i * g
    o = sigmoid(a_o + w_co * c_new)
    d = (lambda s: s * (1 - s)) if sigma_prime else (lambda s: 1.0)
    d_pre_o = dh * np.tanh(c_new) * (d(o) if sigma_prime_o else 1.0)
    d_c = dh * o * (1 - np.tanh(c_new) ** 2) + (d_pre_o * w_co if second_path else 0)
    peek = c if i_f_read == "old" else c_new
    return ((d_c * g * d(i) * peek).sum(0), (d_c * c * d(f) * peek).sum(0),
            (d_pre_o * (c_new if o_reads == "new" else c)).sum(0))


def _grads_case(seed, Bn, Dn, Hn, peepholes=(True, True, True)):
    r = np.random.default_rng(seed)
    args = [r.normal(size=(Bn, Dn)), r.normal(size=(Bn, Hn)) * 0.5, r.normal(size=(Bn, Hn)) * 1.5,
            r.normal(size=(4 * Hn, Dn)) * 0.5, r.normal(size=(4 * Hn, Hn)) * 0.5, r.normal(size=4 * Hn) * 0.5]
    args += [r.normal(size=Hn) * (1.0 if on else 0.0) for on in peepholes]
    return args, r.normal(size=(Bn, Hn))


def _student_grads(student, args, dh):
    out = student.call("peephole_grads", *args, dh)
    expect(isinstance(out, (tuple, list)) and len(out) == 3, "peephole_grads must return (dw_ci, dw_cf, dw_co)")
    Bn, Hn = args[1].shape
    grads = []
    for name, g in zip(("dw_ci", "dw_cf", "dw_co"), out):
        arr = as_array(g, name)
        expect(arr.shape != (Bn, Hn), f"{name} has shape (B, H) = {(Bn, Hn)}: a peephole is shared by every row of "
               "the batch, so its gradient SUMS the rows, shape (H,)")
        grads.append(as_array(arr, name, shape=(Hn,)))
    return grads


def _name_the_mistake(got, args, dh, which):
    """If ``got`` (a list of 3) matches a known mistake in the entries ``which``, fail with its message."""
    mistakes = {
        "the output gate's sigmoid is skipped: w_co sits inside o_t's σ, so the gradient must pass through "
        "that σ's derivative to reach it": dict(sigma_prime_o=False),
        "the gates' sigmoids are skipped: every peephole sits inside a σ, and the gradient must pass through "
        "its derivative": dict(sigma_prime=False, sigma_prime_o=False),
        "∂L/∂c_t misses a path: with w_co ≠ 0 the new cell c_t reaches h_t twice (through tanh(c_t) and through "
        "the output gate's peephole), and both paths count": dict(second_path=False),
        "∂L/∂w_co uses the wrong cell: the output gate's peephole reads the NEW cell c_t": dict(o_reads="old"),
        "∂L/∂w_ci and ∂L/∂w_cf use the wrong cell: the input and forget gates' peepholes read the OLD cell c_{t-1}":
            dict(i_f_read="new"),
    }
    Bn = args[0].shape[0]
    for message, switch in mistakes.items():
        wrong = _hand_peephole_grads(args, dh, **switch)
        if all(np.allclose(got[k], wrong[k], atol=1e-7) for k in which) and \
                not all(np.allclose(wrong[k], _hand_peephole_grads(args, dh)[k], atol=1e-7) for k in which):
            expect(False, message)
    right = _hand_peephole_grads(args, dh)
    if Bn > 1 and all(np.allclose(got[k], right[k] / Bn, atol=1e-7) for k in which):
        expect(False, "you averaged over the batch: L sums over the rows, so ∂L/∂w sums them too")


@test("peephole_grads", points=1)
def output_peephole_gradient(student):
    """∂L/∂w_co equals autograd's, on two random cases (all peepholes on)"""
    for seed, (Bn, Dn, Hn) in ((650, (3, 4, 5)), (651, (4, 2, 3))):
        args, dh = _grads_case(seed, Bn, Dn, Hn)
        got = _student_grads(student, args, dh)
        _name_the_mistake(got, args, dh, which=[2])
        expect_close(got[2], _autograd_peephole_grads(args, dh)[2], "dw_co differs from autograd's ∂L/∂w_co "
                     "(the output gate's peephole, all peepholes on): follow h_t back to o_t's pre-activation")


@test("peephole_grads", points=1)
def input_and_forget_peephole_gradients_without_w_co(student):
    """w_co = 0 (one path from c_t to h_t): ∂L/∂w_ci and ∂L/∂w_cf, two random cases"""
    for seed, (Bn, Dn, Hn) in ((652, (3, 4, 5)), (653, (2, 3, 4))):
        args, dh = _grads_case(seed, Bn, Dn, Hn, peepholes=(True, True, False))
        got = _student_grads(student, args, dh)
        _name_the_mistake(got, args, dh, which=[0, 1])
        ref = _autograd_peephole_grads(args, dh)
        expect_close(got[0], ref[0], "dw_ci differs from autograd's (w_co = 0, so c_t reaches h_t only through "
                     "tanh): follow c_t back through the input gate i_t to its pre-activation")
        expect_close(got[1], ref[1], "dw_cf differs from autograd's (w_co = 0): follow c_t back through the forget "
                     "gate f_t to its pre-activation")


@test("peephole_grads", points=1)
def the_output_peephole_adds_a_path_to_the_cell(student):
    """all peepholes on: ∂L/∂c_t has two terms, so ∂L/∂w_ci and ∂L/∂w_cf change; two random cases"""
    for seed, (Bn, Dn, Hn) in ((654, (3, 4, 5)), (655, (5, 2, 3))):
        args, dh = _grads_case(seed, Bn, Dn, Hn)
        args[8] = args[8] * 2                        # a strong output peephole, so the second path matters
        got = _student_grads(student, args, dh)
        _name_the_mistake(got, args, dh, which=[0, 1])
        ref = _autograd_peephole_grads(args, dh)
        expect_close(got[0], ref[0], "dw_ci differs from autograd's with w_co ≠ 0 (it was right with w_co = 0?): "
                     "∂L/∂c_t must include the path through o_t's peephole")
        expect_close(got[1], ref[1], "dw_cf differs from autograd's with w_co ≠ 0")


# ----------------------------------------------------------------------------- gru_step

@test("gru_step", points=1)
def update_gate_keeps_the_old_state(student):
    """W = 0: h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t with z = 0.75"""
    bias = np.concatenate([np.zeros(H), np.full(H, np.log(3)), np.full(H, 0.5)])
    h = as_array(student.call("gru_step", X_T, H_PREV, np.zeros((3 * H, D)), np.zeros((3 * H, H)), bias),
                 "gru_step(...)", shape=(B, H))
    z, h_tilde = 0.75, np.tanh(0.5)
    if np.allclose(h, (1 - z) * H_PREV + z * h_tilde, atol=1e-6):
        expect(False, "z_t and 1 − z_t are swapped: in the lecture z_t KEEPS the old state, "
                      "h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t")
    expect_close(h, z * H_PREV + (1 - z) * h_tilde, "with W = 0 and b_z = ln 3 (z = 0.75), h_t should be "
                 "0.75·h_{t-1} + 0.25·tanh(b_h); blocks of W and b in the order r, z, h̃")


@test("gru_step", points=1)
def reset_before_the_product(student):
    """random weights: h̃_t = tanh(W_xh x_t + W_hh (r_t ⊙ h_{t-1}) + b_h), the lecture's convention"""
    h = as_array(student.call("gru_step", X_T, H_PREV, W_X3, W_H3, B3), "gru_step(...)", shape=(B, H))
    ref, (r, z, h_tilde) = gru_reference(X_T, H_PREV, W_X3, W_H3, B3)
    if np.allclose(h, gru_reference(X_T, H_PREV, W_X3, W_H3, B3, reset_after=True)[0], atol=1e-6):
        expect(False, "you apply r_t AFTER the product, r_t ⊙ (W_hh h_{t-1}) (nn.GRU's convention); the lecture "
                      "resets the state first: W_hh (r_t ⊙ h_{t-1})")
    n = H
    no_reset = np.tanh(X_T @ W_X3[2 * n:].T + H_PREV @ W_H3[2 * n:].T + B3[2 * n:])
    if np.allclose(h, z * H_PREV + (1 - z) * no_reset, atol=1e-6):
        expect(False, "the reset gate is not used: h̃_t needs W_hh (r_t ⊙ h_{t-1})")
    expect_close(h, ref, "h_t differs from z_t ⊙ h_{t-1} + (1 − z_t) ⊙ tanh(W_xh x_t + W_hh (r_t ⊙ h_{t-1}) + b_h)")


@test("gru_step", points=1)
def reset_gate_is_the_first_block(student):
    """W_hh acts only on the candidate: a reset gate near 0 (b_r = −30) wipes h_{t-1} from h̃_t"""
    Wh = np.zeros((3 * H, H))
    Wh[2 * H:] = W_H3[2 * H:]
    bias = np.concatenate([np.full(H, -30.0), np.zeros(H), np.zeros(H)])
    Wx = np.zeros((3 * H, D))
    Wx[2 * H:] = W_X3[2 * H:]
    h = as_array(student.call("gru_step", X_T, H_PREV, Wx, Wh, bias), "gru_step(...)", shape=(B, H))
    h_tilde = np.tanh(X_T @ Wx[2 * H:].T)              # r = σ(−30) ≈ 0: nothing of h_{t-1} reaches h̃
    expect_close(h, 0.5 * H_PREV + 0.5 * h_tilde, "with the reset gate closed (first block of b = −30) h̃_t should "
                 "ignore h_{t-1}: the blocks of W and b are in the order r, z, h̃, and r multiplies h_{t-1}")


# ----------------------------------------------------------------------------- LSTMLayer (end to end)

def _torch_lstm(Dn, Hn, params, x, h0=None, c0=None, grad_output=None):
    """nn.LSTM (the reference) with the given weights, in the grader's own process."""
    import torch
    ref = torch.nn.LSTM(Dn, Hn, batch_first=True).double()
    with torch.no_grad():
        for n, v in params.items():
            getattr(ref, n).copy_(torch.from_numpy(v))
    xt = torch.tensor(x, requires_grad=True)
    state = None if h0 is None else (torch.tensor(h0), torch.tensor(c0))
    out, (hn, cn) = ref(xt, state)
    grads = None
    if grad_output is not None:
        (out * torch.from_numpy(grad_output)).sum().backward()
        grads = {"x": xt.grad.numpy(), **{n: getattr(ref, n).grad.numpy() for n in params}}
    return out.detach().numpy(), hn.detach().numpy(), cn.detach().numpy(), grads


def _params(r, Dn, Hn, scale=0.5):
    return {"weight_ih_l0": r.normal(size=(4 * Hn, Dn)) * scale, "weight_hh_l0": r.normal(size=(4 * Hn, Hn)) * scale,
            "bias_ih_l0": r.normal(size=4 * Hn) * scale, "bias_hh_l0": r.normal(size=4 * Hn) * scale}


def _layer_output(student, Dn, Hn, params, x, state):
    layer = student.new("LSTMLayer", Dn, Hn)
    layer.set_params(params)
    out = layer(TensorArg(x), state)
    expect(isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], (tuple, list)) and len(out[1]) == 2,
           "LSTMLayer must return (outputs, (h_n, c_n)), as nn.LSTM does")
    Bn, Tn = x.shape[:2]
    return (as_array(out[0], "outputs", shape=(Bn, Tn, Hn)), as_array(out[1][0], "h_n", shape=(1, Bn, Hn)),
            as_array(out[1][1], "c_n", shape=(1, Bn, Hn)))


@test("LSTMLayer", points=1)
def equals_nn_lstm_with_a_given_state(student):
    """outputs, h_n and c_n equal nn.LSTM's for the same weights and (h_0, c_0)"""
    r = np.random.default_rng(61)
    Dn, Hn, Bn, Tn = 3, 4, 2, 5
    params = _params(r, Dn, Hn)
    x, h0, c0 = r.normal(size=(Bn, Tn, Dn)), r.normal(size=(1, Bn, Hn)) * 0.5, r.normal(size=(1, Bn, Hn))
    out, hn, cn = _layer_output(student, Dn, Hn, params, x, (TensorArg(h0), TensorArg(c0)))
    ref_out, ref_h, ref_c, _ = _torch_lstm(Dn, Hn, params, x, h0, c0)
    expect_close(out[:, 0], ref_out[:, 0], "the first output h_1 differs from nn.LSTM's: check one step, "
                 "c_1 = f ⊙ c_0 + i ⊙ c̃, h_1 = o ⊙ tanh(c_1), gate blocks (i, f, g = c̃, o), both biases added, "
                 "and that (h_0, c_0) are used")
    expect_close(out, ref_out, "h_1 is right but later outputs differ: carry (h_t, c_t) from one step to the next")
    expect_close(cn, ref_c, "c_n (the last cell state, shape (1, B, H)) differs from nn.LSTM's")
    expect_close(hn, ref_h, "h_n (the last hidden state, shape (1, B, H)) differs from nn.LSTM's")


@test("LSTMLayer", points=1)
def default_state_is_zero(student):
    """state=None means h_0 = c_0 = 0"""
    r = np.random.default_rng(62)
    Dn, Hn, Bn, Tn = 2, 3, 4, 3
    params = _params(r, Dn, Hn)
    x = r.normal(size=(Bn, Tn, Dn))
    out, hn, cn = _layer_output(student, Dn, Hn, params, x, None)
    ref_out, _, ref_c, _ = _torch_lstm(Dn, Hn, params, x)
    expect_close(out, ref_out, "with state=None the outputs should be nn.LSTM's from h_0 = c_0 = 0")
    expect_close(cn, ref_c, "with state=None, c_n should be nn.LSTM's")


@test("LSTMLayer", points=1)
def gradients_equal_nn_lstm(student):
    """autograd through your forward gives nn.LSTM's gradients for x and every weight"""
    r = np.random.default_rng(63)
    Dn, Hn, Bn, Tn = 3, 2, 2, 4
    params = _params(r, Dn, Hn)
    x, g = r.normal(size=(Bn, Tn, Dn)), r.normal(size=(Bn, Tn, Hn))
    layer = student.new("LSTMLayer", Dn, Hn)
    layer.set_params(params)
    got = layer.backward(TensorArg(x, requires_grad=True), None, grad_output=g, output_index=0)
    ref_out, _, _, ref = _torch_lstm(Dn, Hn, params, x, grad_output=g)
    out = got["output"]
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "LSTMLayer must return (outputs, (h_n, c_n))")
    expect_close(out[0], ref_out, "the outputs (from h_0 = c_0 = 0) already differ from nn.LSTM's, so the gradients "
                 "will too: make the forward pass right first (the tests above say where)")
    grads = got["param_grads"]
    for n in params:
        expect(n in grads, f"no gradient reached {n}: is it used in the forward pass?")
    why = (" (the forward pass is right, so the gradient is cut somewhere: it must flow back through the carried "
           "h_t and c_t to every earlier step, through time)")
    expect_close(grads["bias_hh_l0"], ref["bias_hh_l0"], "∂L/∂bias_hh_l0 differs from nn.LSTM's" + why)
    expect_close(grads["weight_hh_l0"], ref["weight_hh_l0"], "∂L/∂weight_hh_l0 differs from nn.LSTM's" + why)
    expect_close(grads["weight_ih_l0"], ref["weight_ih_l0"], "∂L/∂weight_ih_l0 differs from nn.LSTM's")
    expect_close(got["input_grads"][0], ref["x"], "∂L/∂x differs from nn.LSTM's")


@test("LSTMLayer", points=1)
def nothing_is_kept_between_calls(student):
    """the same layer called twice with state=None: the second call starts from h_0 = c_0 = 0 again"""
    r = np.random.default_rng(64)
    Dn, Hn, Bn, Tn = 2, 3, 2, 4
    params = _params(r, Dn, Hn)
    layer = student.new("LSTMLayer", Dn, Hn)
    layer.set_params(params)
    x = r.normal(size=(Bn, Tn, Dn))
    first, second = layer(TensorArg(x), None), layer(TensorArg(x), None)
    expect_close(second[0], first[0], "calling the layer a second time on the same x gave other outputs: with "
                 "state=None every call starts from h_0 = c_0 = 0, nothing of an earlier call may be kept")


# ----------------------------------------------------------------------------- cell_path_gradient (end to end)

def _cell_path_reference(x, h0, c0, Wx, Wh, b):
    """Π_t f_t with the gates of the run itself (h carried), and, for the messages, the other gates' products."""
    n = h0.shape[1]
    h, c = h0, c0
    prods = {k: np.ones_like(c0) for k in "ifgo"}
    sums = np.zeros_like(c0)
    for t in range(x.shape[1]):
        h_new, c_new, (i, f, g, o) = lstm_reference(x[:, t], h, c, Wx, Wh, b)
        for k, v in zip("ifgo", (i, f, g, o)):
            prods[k] = prods[k] * v
        sums = sums + f
        h, c = h_new, c_new
    return prods["f"], prods, sums


def _autograd_dcT_dc0(x, h0, c0, Wx, b):
    """autograd's ∂c_T/∂c_0 through nn.LSTMCell with W_hh = 0 (its diagonal: rows and units are independent)."""
    import torch
    D_, H_ = x.shape[2], h0.shape[1]
    cell = torch.nn.LSTMCell(D_, H_).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(Wx))
        cell.weight_hh.zero_()
        cell.bias_ih.copy_(torch.from_numpy(b))
        cell.bias_hh.zero_()
    c_start = torch.tensor(c0, requires_grad=True)
    h, c = torch.from_numpy(h0), c_start
    for t in range(x.shape[1]):
        h, c = cell(torch.from_numpy(x[:, t]), (h, c))
    c.sum().backward()
    return c_start.grad.numpy().copy()


def _cell_path_case(seed, Bn, Tn, Dn, Hn, recurrent=True):
    r = np.random.default_rng(seed)
    b = r.normal(size=4 * Hn) * 0.5
    b[Hn:2 * Hn] += 1.5                                        # forget gates between about 0.6 and 0.95
    Wh = r.normal(size=(4 * Hn, Hn)) * (0.6 if recurrent else 0.0)
    return (r.normal(size=(Bn, Tn, Dn)), r.normal(size=(Bn, Hn)) * 0.5, r.normal(size=(Bn, Hn)),
            r.normal(size=(4 * Hn, Dn)) * 0.6, Wh, b)


def _name_cell_path_mistake(got, args):
    right, prods, sums = _cell_path_reference(*args)
    x, h0, c0, Wx, Wh, b = args
    Tn = x.shape[1]
    first_f = lstm_reference(x[:, 0], h0, c0, Wx, Wh, b)[2][1]
    no_carry = np.ones_like(c0)
    for t in range(Tn):
        no_carry = no_carry * lstm_reference(x[:, t], h0, c0, Wx, Wh, b)[2][1]
    mistakes = [
        (prods["i"], "you multiplied the input gates i_t: c_{t-1} enters c_t through the forget gate"),
        (prods["o"], "you multiplied the output gates o_t: the cell's own path runs through the forget gates"),
        (sums, "you added the forget gates: the chain rule multiplies the steps' derivatives"),
        (first_f ** Tn, "every factor is the first step's forget gate: each step has its own f_t"),
        (right / np.where(first_f == 0, 1, first_f), "one factor is missing: the first step's forget gate f_1 "
                                                     "counts too (T steps, T factors)"),
        (no_carry, "the gates were computed from h_0 at every step: the gates of step t read the h_{t-1} the run "
                   "carried there"),
    ]
    for value, message in mistakes:
        if np.allclose(got, value, rtol=1e-6, atol=1e-12) and not np.allclose(value, right, rtol=1e-6, atol=1e-12):
            expect(False, message)
    return right


@test("cell_path_gradient", points=1)
def equals_autograd_when_the_gates_see_only_x(student):
    """W_hh = 0, T = 7: ∂c_T/∂c_0 equals autograd's through nn.LSTMCell"""
    args = _cell_path_case(660, 3, 7, 2, 4, recurrent=False)
    got = as_array(student.call("cell_path_gradient", *args), "cell_path_gradient(...)", shape=(3, 4))
    _name_cell_path_mistake(got, args)
    expect_close(got, _autograd_dcT_dc0(*[args[k] for k in (0, 1, 2, 3, 5)]), "∂c_T/∂c_0 differs from autograd's "
                 "(W_hh = 0, so the cell's own path is the only path from c_0 to c_T)", rtol=1e-6, atol=1e-12)


@test("cell_path_gradient", points=1)
def the_gates_read_the_carried_state(student):
    """W_hh ≠ 0, T = 6: the factors are the gates of the run itself"""
    args = _cell_path_case(661, 2, 6, 3, 5)
    got = as_array(student.call("cell_path_gradient", *args), "cell_path_gradient(...)", shape=(2, 5))
    right = _name_cell_path_mistake(got, args)
    expect_close(got, right, "∂c_T/∂c_0 along the cell path differs from the one of this run (W_hh ≠ 0: the gates "
                 "of each step depend on the h carried from the step before)", rtol=1e-6, atol=1e-12)


@test("cell_path_gradient", points=1)
def one_factor_per_step(student):
    """one unit, one row, W = 0 and f = σ(b_f): T = 1 gives σ(b_f), T = 5 gives σ(b_f)^5"""
    for Tn in (1, 5):
        b = np.array([0.3, 1.2, -0.4, 0.7])
        got = as_array(student.call("cell_path_gradient", np.ones((1, Tn, 2)), np.zeros((1, 1)), np.ones((1, 1)),
                                    np.zeros((4, 2)), np.zeros((4, 1)), b), "cell_path_gradient(...)", shape=(1, 1))
        expect_close(got, [[sigmoid(1.2) ** Tn]], f"T = {Tn} steps with every forget gate σ(1.2): the cell path "
                     f"passes through one forget gate per step", rtol=1e-9)
