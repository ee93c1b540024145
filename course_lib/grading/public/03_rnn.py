"""Public tests for 03_rnn."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(3)
B, D, H = 2, 3, 4
X_T, H_PREV = rng.normal(size=(B, D)), rng.normal(size=(B, H)) * 0.5
W_XH, W_HH, B_H = rng.normal(size=(H, D)) * 0.5, rng.normal(size=(H, H)) * 0.5, rng.normal(size=H) * 0.5


@test("rnn_step", points=1)
def shape_and_range(student):
    """h_t has shape (B, H) and lies in (-1, 1)"""
    h = as_array(student.call("rnn_step", X_T, H_PREV, W_XH, W_HH, B_H), "rnn_step(...)", shape=(B, H))
    expect(np.all(np.abs(h) < 1), "h_t must lie in (-1, 1): apply tanh to the pre-activation")


@test("rnn_step", points=1)
def matches_the_equation(student):
    """h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)"""
    h = student.call("rnn_step", X_T, H_PREV, W_XH, W_HH, B_H)
    expect_close(h, np.tanh(X_T @ W_XH.T + H_PREV @ W_HH.T + B_H),
                 "h_t differs from tanh(W_xh x_t + W_hh h_{t-1} + b_h)")


@test("rnn_forward", points=1)
def shape_of_all_states(student):
    """(B, T, D) inputs give (B, T, H) states"""
    X = rng.normal(size=(B, 5, D))
    as_array(student.call("rnn_forward", X, np.zeros((B, H)), W_XH, W_HH, B_H), "rnn_forward(...)", shape=(B, 5, H))


@test("rnn_forward", points=1)
def first_step_is_one_rnn_step(student):
    """h_1 = tanh(W_xh x_1 + W_hh h_0 + b_h)"""
    X = rng.normal(size=(B, 3, D))
    h0 = rng.normal(size=(B, H)) * 0.3
    out = as_array(student.call("rnn_forward", X, h0, W_XH, W_HH, B_H), "rnn_forward(...)", shape=(B, 3, H))
    expect_close(out[:, 0], np.tanh(X[:, 0] @ W_XH.T + h0 @ W_HH.T + B_H),
                 "h_1 (index 0 of the time axis) should be one step from h0 with x_1: return h_1..h_T, not h_0")


@test("sequence_loss", points=1)
def uniform_logits(student):
    """uniform logits over V tokens: loss ln V, perplexity V"""
    out = student.call("sequence_loss", np.zeros((2, 3, 6)), np.zeros((2, 3), dtype=int))
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return a tuple (loss, perplexity)")
    expect_close(out[0], np.log(6), "loss of uniform logits over 6 tokens should be ln 6")
    expect_close(out[1], 6.0, "perplexity of a uniform model over 6 tokens should be 6")


@test("sample_probs", points=1)
def temperature_one_is_softmax(student):
    """T = 1 and nothing banned: the plain softmax"""
    z = np.array([1.0, 2.0, 0.5, -1.0])
    p = student.call("sample_probs", z, 1.0, [])
    expect_close(p, np.exp(z) / np.exp(z).sum(), "with T = 1 and no banned ids, sample_probs is softmax(logits)")


@test("sample_probs", points=1)
def banned_token_gets_zero(student):
    """a banned id has probability 0 and the rest sum to 1"""
    p = as_array(student.call("sample_probs", np.array([3.0, 1.0, 2.0]), 1.0, [0]), "sample_probs(...)", shape=(3,))
    expect(p[0] == 0.0, f"banned id 0 should have probability exactly 0, got {p[0]:.3g}")
    expect_close(p.sum(), 1.0, "after banning, the remaining probabilities must be renormalised to sum to 1")
