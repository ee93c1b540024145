"""Hidden tests for 03_rnn: each isolates one term of the equations."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(2024)
B, T, D, H = 3, 6, 2, 5
X = rng.normal(size=(B, T, D))
H0 = rng.normal(size=(B, H)) * 0.4
W_XH = rng.normal(size=(H, D)) * 0.6
W_HH = rng.normal(size=(H, H)) * 0.6           # not symmetric: W_hh vs W_hh.T shows
B_H = rng.normal(size=H) * 0.6


def _step(x, h, wx, wh, b):
    return np.tanh(x @ wx.T + h @ wh.T + b)


def _forward(X, h0, wx, wh, b):
    h, out = h0, []
    for t in range(X.shape[1]):
        h = _step(X[:, t], h, wx, wh, b)
        out.append(h)
    return np.stack(out, 1)


@test("rnn_step", points=1)
def bias_is_added(student):
    """with zero weights, h_t = tanh(b_h)"""
    h = student.call("rnn_step", X[:, 0], H0, np.zeros((H, D)), np.zeros((H, H)), B_H)
    expect_close(h, np.tanh(np.broadcast_to(B_H, (B, H))), "with W_xh = W_hh = 0, h_t should be tanh(b_h): is b_h added?")


@test("rnn_step", points=1)
def recurrent_term_uses_w_hh_transposed(student):
    """only the recurrent term: h_t = tanh(W_hh h_{t-1}) for a non-symmetric W_hh"""
    h = student.call("rnn_step", np.zeros((B, D)), H0, W_XH, W_HH, np.zeros(H))
    expect_close(h, np.tanh(H0 @ W_HH.T), "the recurrent term is wrong: W_hh h_{t-1} for row-vector states is "
                 "h_prev @ W_hh.T (not h_prev @ W_hh); is h_{t-1} used at all?")


@test("rnn_step", points=1)
def input_term_and_d_not_h(student):
    """only the input term, D != H: h_t = tanh(W_xh x_t)"""
    h = student.call("rnn_step", X[:, 1], np.zeros((B, H)), W_XH, W_HH, np.zeros(H))
    expect_close(h, np.tanh(X[:, 1] @ W_XH.T), "the input term W_xh x_t is wrong (x_t @ W_xh.T)")


@test("rnn_forward", points=1)
def all_states_match(student):
    """every h_t of a 6-step sequence"""
    out = as_array(student.call("rnn_forward", X, H0, W_XH, W_HH, B_H), "rnn_forward(...)", shape=(B, T, H))
    ref = _forward(X, H0, W_XH, W_HH, B_H)
    bad = [t for t in range(T) if not np.allclose(out[:, t], ref[:, t], atol=1e-6)]
    expect(not bad, f"h_t differs from tanh(W_xh x_t + W_hh h_(t-1) + b_h) first at t={bad[0] + 1 if bad else 0}: "
           "is h carried from one step to the next? (rnn_forward uses rnn_step: check that one first)")


@test("rnn_forward", points=1)
def state_is_carried(student):
    """an input at t=1 still shows at t=3 (h_{t-1} is carried)"""
    x = np.zeros((1, 3, D))
    x[0, 0] = [2.0, -1.0]
    out = as_array(student.call("rnn_forward", x, np.zeros((1, H)), W_XH, W_HH, np.zeros(H)), "rnn_forward(...)",
                   shape=(1, 3, H))
    expect_close(out, _forward(x, np.zeros((1, H)), W_XH, W_HH, np.zeros(H)),
                 "an impulse at t = 1 must propagate through W_hh to t = 2 and 3: carry h, start from h0")


@test("rnn_forward", points=1)
def batch_rows_are_independent(student):
    """each sequence of the batch runs on its own; time is axis 1"""
    out = as_array(student.call("rnn_forward", X[:1], H0[:1], W_XH, W_HH, B_H), "rnn_forward(...)", shape=(1, T, H))
    expect_close(out, _forward(X[:1], H0[:1], W_XH, W_HH, B_H),
                 "a batch of one must give that sequence's states: is time axis 1 and batch axis 0?")


LOGITS = rng.normal(size=(3, 4, 7)) * 3
TARGETS = rng.integers(0, 7, size=(3, 4))


def _seq_loss(logits, targets):
    s = logits - logits.max(-1, keepdims=True)
    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))
    loss = -np.take_along_axis(lp, targets[..., None], -1).mean()
    return loss, np.exp(loss)


@test("sequence_loss", points=1)
def random_batch(student):
    """a random (3, 4, 7) batch"""
    out = student.call("sequence_loss", LOGITS, TARGETS)
    loss, pp = _seq_loss(LOGITS, TARGETS)
    expect_close(out[0], loss, "the loss should be the mean over all B*T steps of -ln softmax(logits)[target] "
                 "(softmax over the last axis, the vocabulary)")
    expect_close(out[1], pp, "perplexity = e^loss (the loss is in nats: not 2**loss)")


@test("sequence_loss", points=1)
def mean_over_steps_not_sum(student):
    """doubling the sequence length does not change the per-step loss"""
    L2, T2 = np.concatenate([LOGITS, LOGITS], 1), np.concatenate([TARGETS, TARGETS], 1)
    out = student.call("sequence_loss", L2, T2)
    expect_close(out[0], _seq_loss(LOGITS, TARGETS)[0], "average over time steps too, not only over the batch")


@test("sequence_loss", points=1)
def large_logits_are_stable(student):
    """logits of size 1000 still give a finite loss"""
    logits = np.zeros((1, 2, 3))
    logits[0, 0] = [1000.0, 0.0, 0.0]
    logits[0, 1] = [0.0, 1000.0, 0.0]
    out = student.call("sequence_loss", logits, np.array([[1, 1]]))
    expect_close(out[0], 500.0, "loss should be (1000 + 0) / 2 = 500: compute log-softmax stably")


@test("sample_probs", points=1)
def low_temperature_sharpens(student):
    """T = 0.5 gives softmax(2 z)"""
    z = rng.normal(size=9)
    p = student.call("sample_probs", z, 0.5, [])
    e = np.exp(2 * z - (2 * z).max())
    expect_close(p, e / e.sum(), "temperature divides the logits: softmax(z / T); T = 0.5 doubles them")


@test("sample_probs", points=1)
def tiny_temperature_is_stable(student):
    """T = 0.001 does not overflow and picks the argmax"""
    z = np.array([3.0, 5.0, 4.0, -2.0])
    p = as_array(student.call("sample_probs", z, 0.001, []), "sample_probs(...)", shape=(4,))
    expect_close(p, [0, 1, 0, 0], "at a tiny temperature all mass goes to the largest logit (subtract the max "
                 "before np.exp, or exp overflows)", atol=1e-8)


@test("sample_probs", points=1)
def banned_several_with_temperature(student):
    """two banned ids at T = 2"""
    z = rng.normal(size=6) * 2
    p = student.call("sample_probs", z, 2.0, [1, 4])
    e = np.exp(z / 2)
    e[[1, 4]] = 0
    expect_close(p, e / e.sum(), "ban ids 1 and 4 and renormalise the rest of softmax(z / 2)")
