"""Hidden tests for 03_rnn: each isolates one term of the equations."""
import numpy as np

from course_lib.grading.sandbox import TensorArg
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


# ----------------------------------------------------------------------------- part 2: the RNN LM in PyTorch

@test("lm_batch", points=1)
def last_window_and_length_one(student):
    """the last window that still has a target, and windows of length 1"""
    ids = rng.integers(0, 20, size=12)
    x, y = student.call("lm_batch", [int(i) for i in ids], [12 - 4 - 1, 0], 4)
    expect_close(x, np.stack([ids[7:11], ids[0:4]]), "x[b] = ids[s : s + seq_len]")
    expect_close(y, np.stack([ids[8:12], ids[1:5]]), "the last window ends one token before the end, "
                 "and its last target is the sequence's last token")
    x, y = student.call("lm_batch", [int(i) for i in ids], [5, 2, 9], 1)
    expect_close(y, ids[[6, 3, 10]][:, None], "with seq_len = 1 each target is the single token after the input")


@test("lm_batch", points=1)
def targets_overlap_inputs_by_all_but_one(student):
    """y[:, :-1] equals x[:, 1:]: the same window, one step later"""
    ids = rng.integers(0, 50, size=40)
    x, y = student.call("lm_batch", [int(i) for i in ids], [1, 11, 25], 9)
    x, y = as_array(x, "x", shape=(3, 9)), as_array(y, "y", shape=(3, 9))
    expect(np.array_equal(y[:, :-1], x[:, 1:]), "the targets are the inputs shifted left by one step")
    expect(np.array_equal(y[:, -1], ids[[10, 20, 34]]), "the last target of each window is the token after it")


def _lm_logits(P, idx):
    x = P["embed.weight"][idx]
    h, states = np.zeros((idx.shape[0], P["W_hh"].shape[0])), []
    for t in range(idx.shape[1]):
        h = np.tanh(x[:, t] @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])
        states.append(h)
    return np.stack(states, 1) @ P["W_hy"].T + P["b_y"]


def _params(V, E, H):
    P = {"embed.weight": rng.normal(size=(V, E)), "W_xh": rng.normal(size=(H, E)) * 0.5,
         "W_hh": rng.normal(size=(H, H)) * 0.5, "b_h": rng.normal(size=H) * 0.3,
         "W_hy": rng.normal(size=(V, H)), "b_y": rng.normal(size=V) * 0.3}
    return {k: v.astype(np.float32).astype(np.float64) for k, v in P.items()}


@test("RNNLanguageModel", points=1)
def long_sequence_and_no_targets(student):
    """T = 12, B = 1, targets None: logits only, loss None"""
    P, idx = _params(11, 6, 8), rng.integers(0, 11, size=(1, 12))
    m = student.new("RNNLanguageModel", 11, 6, 8)
    m.set_params(P)
    logits, loss = m.call("forward", TensorArg(idx, dtype="int64"))
    expect(loss is None, "without targets, forward should return (logits, None)")
    expect_close(logits, _lm_logits(P, idx), "logits W_hy h_t + b_y over 12 steps: is h carried through every step?",
                 atol=1e-4, rtol=1e-4)


@test("RNNLanguageModel", points=1)
def gradients_match_autograd_reference(student):
    """∂loss/∂θ for every parameter equals a float64 autograd reference"""
    import torch
    V, E, H = 6, 4, 5
    P, idx, tg = _params(V, E, H), rng.integers(0, V, size=(3, 5)), rng.integers(0, V, size=(3, 5))
    m = student.new("RNNLanguageModel", V, E, H)
    m.set_params(P)
    got = m.backward(TensorArg(idx, dtype="int64"), TensorArg(tg, dtype="int64"), grad_output=1.0,
                     method="forward", output_index=1)
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    x = T["embed.weight"][torch.tensor(idx)]
    h, states = torch.zeros(3, H, dtype=torch.double), []
    for t in range(5):
        h = torch.tanh(x[:, t] @ T["W_xh"].T + h @ T["W_hh"].T + T["b_h"])
        states.append(h)
    logits = torch.stack(states, 1) @ T["W_hy"].T + T["b_y"]
    torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(tg).reshape(-1)).backward()
    for name, p in T.items():
        expect(name in got["param_grads"], f"no gradient reached {name}: is it used in forward?")
        expect_close(got["param_grads"][name], p.grad.numpy(), f"∂loss/∂{name} differs from autograd's on the "
                     "lecture's model (is h detached somewhere, or a step skipped?)", atol=1e-5, rtol=1e-4)


@test("RNNLanguageModel", points=1)
def rows_of_the_batch_are_independent(student):
    """a batch gives each row the logits it gets alone (batch on axis 0, time on axis 1)"""
    P, idx = _params(5, 3, 4), rng.integers(0, 5, size=(4, 3))
    m = student.new("RNNLanguageModel", 5, 3, 4)
    m.set_params(P)
    logits, _ = m.call("forward", TensorArg(idx, dtype="int64"))
    expect_close(logits, _lm_logits(P, idx), "each row is its own sequence: time is axis 1 (B = 4, T = 3)",
                 atol=1e-4, rtol=1e-4)


TEXT = [0, 1, 2, 0, 3, 4, 0, 1, 2, 0, 3, 4] * 5      # after 0 comes 1 or 3, depending on two tokens back


def _seq_mean_loss(P, ids):
    P = {k: as_array(v, k) for k, v in P.items()}
    idx, tg = np.array([ids[:-1]]), np.array([ids[1:]])
    return _seq_loss(_lm_logits(P, idx), tg)[0], _seq_loss(_lm_logits(P, idx), idx)[0]


@test("train_lm", points=1)
def learns_another_sequence(student):
    """another sequence (V = 5), another seed: the trained model predicts each next token"""
    losses, P = student.call("train_lm", TEXT, 5, 120, 10, 8, 1.0, 3)
    loss, copy_loss = _seq_mean_loss(P, TEXT)
    expect(loss < 0.3, f"next-token loss after training {loss:.2f} nats, expected below 0.3"
           + (" (it predicts the current token: shift the targets by one)" if copy_loss < loss else ""))


@test("train_lm", points=1)
def seeded_and_uses_its_arguments(student):
    """the same seed repeats the run; lr = 0 leaves the model at its initial loss"""
    a, _ = student.call("train_lm", TEXT, 5, 20, 6, 4, 1.0, 1)
    b, _ = student.call("train_lm", TEXT, 5, 20, 6, 4, 1.0, 1)
    expect_close(a, b, "two runs with the same seed should give the same losses: seed the model and the batches")
    frozen, _ = student.call("train_lm", TEXT, 5, 20, 6, 4, 0.0, 1)
    frozen = as_array(frozen, "losses", shape=(20,))
    expect(abs(frozen[-5:].mean() - frozen[:5].mean()) < 0.2 and abs(frozen.mean() - np.log(5)) < 0.5,
           "with lr = 0 nothing should be learned: use the lr argument in the update")


# ----------------------------------------------------------------------------- h_0 and the update rule, other sizes
# The references and their messages are the public file's.
import importlib.util as _ilu  # noqa: E402

from course_lib.grading import paths as _paths  # noqa: E402

_spec = _ilu.spec_from_file_location("_public_03", _paths.PUBLIC_TESTS / "03_rnn.py")
_public = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_public)


@test("RNNLanguageModel", points=1)
def no_state_survives_a_call(student):
    """four calls of one model, batch sizes 3, 3, 1, 3: every call starts from h_0 = 0"""
    _public.check_fresh_state(student, 9, 4, 6, [(3, 7), (3, 2), (1, 5), (3, 7)], np.random.default_rng(77))


@test("train_lm", points=1)
def three_steps_of_gradient_descent(student):
    """V 6, seq_len 9, batch 2, lr 0.35, seed 5: the first three steps equal θ ← θ − lr ∂loss/∂θ"""
    ids = [int(i) for i in np.random.default_rng(8).permutation(np.arange(10) % 6)]
    _public.check_train_update(student, ids, V=6, seq_len=9, batch_size=2, lr=0.35, seed=5, steps=3)
