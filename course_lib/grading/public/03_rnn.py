"""Public tests for 03_rnn: every test runs two random cases (T > 1, non-zero values, D != H)
and, when the answer is wrong, says which term of the lecture's equations is off."""
import numpy as np

from course_lib.grading.sandbox import TensorArg
from course_lib.grading.spec import Fail, as_array, expect, expect_close, test

rng = np.random.default_rng(3)


def _case(B, D, H):
    return (rng.normal(size=(B, D)), rng.normal(size=(B, H)) * 0.5, rng.normal(size=(H, D)) * 0.5,
            rng.normal(size=(H, H)) * 0.5, rng.normal(size=H) * 0.5)


STEP_CASES = [_case(2, 3, 4), _case(3, 5, 2)]


def _step(x, h, wx, wh, b):
    return np.tanh(x @ wx.T + h @ wh.T + b)


def _which_term(h, x, h_prev, wx, wh, b):
    """Name the term of h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h) that a wrong answer got wrong."""
    guesses = [(np.tanh(x @ wx.T + h_prev @ wh.T), "b_h is missing"),
               (np.tanh(x @ wx.T + b), "the recurrent term W_hh h_{t-1} is missing: h_{t-1} is not used"),
               (np.tanh(x @ wx.T + h_prev @ wh + b), "W_hh h_{t-1} for row vectors is h_prev @ W_hh.T, not @ W_hh"),
               (1 / (1 + np.exp(-(x @ wx.T + h_prev @ wh.T + b))), "the activation is tanh, not the sigmoid"),
               (x @ wx.T + h_prev @ wh.T + b, "apply tanh to the pre-activation")]
    for guess, why in guesses:
        if h.shape == guess.shape and np.allclose(h, guess, atol=1e-6):
            return f": {why}"
    return ""


@test("rnn_step", points=1)
def shape_and_range(student):
    """h_t has shape (B, H) and lies in (-1, 1), for two sizes"""
    for x, h_prev, wx, wh, b in STEP_CASES:
        B, H = h_prev.shape
        h = as_array(student.call("rnn_step", x, h_prev, wx, wh, b), "rnn_step(...)", shape=(B, H))
        expect(np.all(np.abs(h) < 1), "h_t must lie in (-1, 1): apply tanh to the pre-activation")


@test("rnn_step", points=1)
def matches_the_equation(student):
    """h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h) on two random cases"""
    for x, h_prev, wx, wh, b in STEP_CASES:
        h = as_array(student.call("rnn_step", x, h_prev, wx, wh, b), "rnn_step(...)", shape=h_prev.shape)
        expect_close(h, _step(x, h_prev, wx, wh, b),
                     "h_t differs from tanh(W_xh x_t + W_hh h_{t-1} + b_h)" + _which_term(h, x, h_prev, wx, wh, b))


def _forward(X, h0, wx, wh, b):
    h, out = h0, []
    for t in range(X.shape[1]):
        h = _step(X[:, t], h, wx, wh, b)
        out.append(h)
    return np.stack(out, 1)


FORWARD_CASES = [(rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4)) * 0.3, *_case(2, 3, 4)[2:]),
                 (rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 3)) * 0.3, *_case(3, 2, 3)[2:])]


@test("rnn_forward", points=1)
def first_step_is_one_rnn_step(student):
    """h_1 = tanh(W_xh x_1 + W_hh h_0 + b_h), time on axis 1"""
    for X, h0, wx, wh, b in FORWARD_CASES:
        B, T, _ = X.shape
        out = as_array(student.call("rnn_forward", X, h0, wx, wh, b), "rnn_forward(...)", shape=(B, T, h0.shape[1]))
        expect_close(out[:, 0], _step(X[:, 0], h0, wx, wh, b),
                     "h_1 (index 0 of the time axis) should be one step from h0 with x_1 = X[:, 0]: return "
                     "h_1..h_T (not h_0..h_{T-1}), in time order, with time on axis 1")


@test("rnn_forward", points=1)
def every_state_carries_the_past(student):
    """all of h_1..h_T on two random sequences (T = 5 and 4)"""
    for X, h0, wx, wh, b in FORWARD_CASES:
        out = as_array(student.call("rnn_forward", X, h0, wx, wh, b), "rnn_forward(...)", shape=X.shape[:2] + h0.shape[1:])
        ref = _forward(X, h0, wx, wh, b)
        bad = [t for t in range(X.shape[1]) if not np.allclose(out[:, t], ref[:, t], atol=1e-6)]
        if bad:
            fresh = np.stack([_step(X[:, t], h0, wx, wh, b) for t in range(X.shape[1])], 1)
            why = (" (each step started again from h0: carry h_t into the next step)"
                   if np.allclose(out, fresh, atol=1e-6) else "")
            expect(False, f"h_{bad[0] + 1} differs from tanh(W_xh x_t + W_hh h_(t-1) + b_h) with h_(t-1) the "
                          f"state of the step before{why}")


def _seq_loss(logits, targets):
    s = logits - logits.max(-1, keepdims=True)
    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))
    loss = -np.take_along_axis(lp, targets[..., None], -1).mean()
    return loss, np.exp(loss)


LOSS_CASES = [(rng.normal(size=(2, 3, 5)) * 2, rng.integers(0, 5, size=(2, 3))),
              (rng.normal(size=(1, 4, 7)) * 2, rng.integers(0, 7, size=(1, 4)))]


@test("sequence_loss", points=1)
def loss_of_the_targets(student):
    """mean over B·T steps of −ln softmax(logits)[target], two random batches"""
    for logits, targets in LOSS_CASES:
        out = student.call("sequence_loss", logits, targets)
        expect(isinstance(out, (tuple, list)) and len(out) == 2, "return a tuple (loss, perplexity)")
        loss, _ = _seq_loss(logits, targets)
        B, T, V = logits.shape
        hint = ""
        if np.isclose(float(np.asarray(out[0], float)), np.log(V)):
            hint = ": ln V is the loss of a uniform guess; use the logits and pick each step's target"
        elif np.isclose(float(np.asarray(out[0], float)), loss * T):
            hint = ": average over the T time steps too, not only over the batch"
        expect_close(out[0], loss, "the loss should be the mean over all B*T steps of -ln softmax(logits)[target] "
                     "(softmax over the last axis, the vocabulary)" + hint)


@test("sequence_loss", points=1)
def perplexity_is_e_to_the_loss(student):
    """perplexity = e^loss (natural log)"""
    for logits, targets in LOSS_CASES:
        out = student.call("sequence_loss", logits, targets)
        expect_close(out[1], np.exp(float(np.asarray(out[0], float))),
                     "perplexity = e^loss (the loss is in nats: not 2**loss)")


@test("sequence_loss", points=1)
def adding_a_constant_changes_nothing(student):
    """softmax is unchanged when 800 is added to every logit (a stable log-softmax)"""
    logits, targets = LOSS_CASES[0]
    out = student.call("sequence_loss", logits + 800.0, targets)
    expect_close(out[0], _seq_loss(logits, targets)[0], "adding the same number to every logit must not change "
                 "the loss: subtract the max logit before np.exp (exp(800) overflows)")


@test("sample_probs", points=1)
def temperature_divides_the_logits(student):
    """softmax(z / T) for T = 0.7 and T = 2.5, nothing banned"""
    for temperature in (0.7, 2.5):
        z = rng.normal(size=6) * 2
        p = student.call("sample_probs", z, temperature, [])
        e = np.exp(z / temperature - (z / temperature).max())
        expect_close(p, e / e.sum(), f"with T = {temperature}, sample_probs should be softmax(logits / T): "
                     "divide the logits by T before the softmax")


@test("sample_probs", points=1)
def banned_token_gets_zero(student):
    """a banned id has probability 0 and the rest sum to 1"""
    for z, T, banned in ((np.array([3.0, 1.0, 2.0]), 1.0, [0]), (rng.normal(size=5), 1.5, [2, 4])):
        p = as_array(student.call("sample_probs", z, T, banned), "sample_probs(...)", shape=z.shape)
        expect(np.all(p[banned] == 0.0), f"banned ids {banned} should have probability exactly 0, got {p[banned]}")
        expect_close(p.sum(), 1.0, "after banning, the remaining probabilities must be renormalised to sum to 1")


@test("sample_probs", points=1)
def cold_temperature_is_stable(student):
    """T = 0.05 on logits up to 40: no overflow"""
    z = np.array([40.0, 39.0, 10.0, -5.0])
    p = student.call("sample_probs", z, 0.05, [])
    e = np.exp((z - z.max()) / 0.05)
    expect_close(p, e / e.sum(), "at T = 0.05 the scaled logits reach 800 and exp overflows: subtract the max "
                 "of z / T before np.exp")


# ----------------------------------------------------------------------------- part 2: the RNN LM in PyTorch

@test("lm_batch", points=1)
def targets_are_the_next_tokens(student):
    """y[b, t] is the token right after x[b, t], on two random id sequences"""
    for N, starts, T in ((30, [0, 7, 20], 6), (17, [3, 9], 7)):
        ids = rng.integers(0, 9, size=N)
        out = student.call("lm_batch", [int(i) for i in ids], starts, T)
        expect(isinstance(out, (tuple, list)) and len(out) == 2, "return a tuple (x, y)")
        x = as_array(out[0], "x", shape=(len(starts), T))
        y = as_array(out[1], "y", shape=(len(starts), T))
        ref_x = np.stack([ids[s:s + T] for s in starts])
        ref_y = np.stack([ids[s + 1:s + T + 1] for s in starts])
        if np.array_equal(x, ref_y) and np.array_equal(y, ref_x):
            expect(False, "x and y are swapped: the input is the window itself, the target comes one step later")
        expect(np.array_equal(x, ref_x), f"x[b] should be ids[s : s + seq_len] for each start s (starts {starts})")
        why = (": y equals x, so the model would learn to copy its input instead of predicting the next token"
               if np.array_equal(y, x) else "")
        expect(np.array_equal(y, ref_y), "y[b, t] should be the token that follows x[b, t], i.e. "
               "y[b] = ids[s + 1 : s + seq_len + 1]" + why)


@test("lm_batch", points=1)
def ids_come_back_as_integers(student):
    """x and y are integer (long) tensors: nn.Embedding and cross_entropy take token ids, not floats"""
    out = student.call("lm_batch", np.array([3, 1, 4, 1, 5, 9, 2, 6]), [0, 2], 4)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return a tuple (x, y)")
    kinds = [np.asarray(v).dtype.kind for v in out]
    expect(all(k in "iu" for k in kinds), f"x and y should hold integer token ids (torch.long); got dtypes "
           f"{[str(np.asarray(v).dtype) for v in out]}: an embedding looks rows up by integer id")
    expect(np.array_equal(np.asarray(out[1]), [[1, 4, 1, 5], [1, 5, 9, 2]]),
           "from a NumPy array of ids, y[b] should be ids[s + 1 : s + seq_len + 1]")


def _lm_logits(P, idx):
    """The RNN LM in NumPy: embedding, h_t = tanh(W_xh x_t + W_hh h_(t-1) + b_h), logits W_hy h_t + b_y."""
    x = P["embed.weight"][idx]
    h, states = np.zeros((idx.shape[0], P["W_hh"].shape[0])), []
    for t in range(idx.shape[1]):
        h = np.tanh(x[:, t] @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])
        states.append(h)
    return np.stack(states, 1) @ P["W_hy"].T + P["b_y"]


def _lm_params(V, E, H):
    return {"embed.weight": rng.normal(size=(V, E)), "W_xh": rng.normal(size=(H, E)) * 0.6,
            "W_hh": rng.normal(size=(H, H)) * 0.6, "b_h": rng.normal(size=H) * 0.3,
            "W_hy": rng.normal(size=(V, H)), "b_y": rng.normal(size=V) * 0.3}


def _as_float32(P):
    return {k: v.astype(np.float32).astype(np.float64) for k, v in P.items()}


LM_CASES = [((7, 3, 5), rng.integers(0, 7, size=(2, 4)), rng.integers(0, 7, size=(2, 4))),
            ((5, 4, 3), rng.integers(0, 5, size=(3, 6)), rng.integers(0, 5, size=(3, 6)))]


def _run_lm(student, sizes, idx, targets):
    V, E, H = sizes
    P = _as_float32(_lm_params(V, E, H))
    model = student.new("RNNLanguageModel", V, E, H)
    model.set_params(P)
    out = model.call("forward", TensorArg(idx, dtype="int64"), TensorArg(targets, dtype="int64"))
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "forward should return a tuple (logits, loss)")
    return P, out


@test("RNNLanguageModel", points=1)
def logits_of_every_step(student):
    """logits (B, T, V) = W_hy h_t + b_y for every step, weights copied in, two sizes"""
    for sizes, idx, targets in LM_CASES:
        P, (logits, _) = _run_lm(student, sizes, idx, targets)
        B, T = idx.shape
        logits = as_array(logits, "logits", shape=(B, T, sizes[0]))
        ref = _lm_logits(P, idx)
        if np.allclose(logits.sum(-1), 1.0, atol=1e-5):
            expect(False, "forward should return the logits W_hy h_t + b_y, not their softmax "
                          "(F.cross_entropy applies the softmax itself)")
        bad = [t for t in range(T) if not np.allclose(logits[:, t], ref[:, t], atol=1e-4, rtol=1e-4)]
        expect(not bad, f"the logits differ from W_hy h_t + b_y first at step t = {bad[0] + 1 if bad else 0} "
               f"(B = {B}, T = {T}): h_t = tanh(W_xh x_t + W_hh h_(t-1) + b_h) with x_t = embed(idx[:, t]), "
               "h_0 = 0, and h carried from step to step along axis 1")


@test("RNNLanguageModel", points=1)
def mean_cross_entropy_over_all_steps(student):
    """the loss is the mean over B·T steps of −ln softmax(logits_t)[target_t]"""
    for sizes, idx, targets in LM_CASES:
        P, (_, loss) = _run_lm(student, sizes, idx, targets)
        expect(loss is not None, "with targets given, forward should return the loss, not None")
        ref, _ = _seq_loss(_lm_logits(P, idx), targets)
        got = float(as_array(loss, "loss").reshape(-1)[0]) if np.size(loss) == 1 else None
        expect(got is not None, "the loss should be one number (a 0-d tensor)")
        hint = ""
        if np.isclose(got, ref * idx.size, rtol=1e-4):
            hint = ": average over the B*T steps (this is their sum)"
        expect_close(got, ref, "the loss should be the mean cross-entropy of each step's target over all B*T "
                     "steps, computed from the logits" + hint, atol=1e-4, rtol=1e-4)


# a sequence where the token after a 0 depends on the token before it: a model needs memory
PATTERN = [0, 1, 0, 2, 0, 3] * 8


@test("train_lm", points=1)
def training_lowers_the_loss(student):
    """100 seeded steps on a 48-token sequence: the training loss falls"""
    out = student.call("train_lm", PATTERN, 4, 100, 8, 8, 1.0, 0)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return a tuple (losses, parameters)")
    losses = as_array(out[0], "losses")
    expect(losses.shape == (100,), f"return one loss per step (100), got {losses.shape}")
    expect(np.all(np.isfinite(losses)), "a training loss is nan or inf")
    expect(abs(losses[0] - np.log(4)) < 0.5, f"the first loss ({losses[0]:.2f}) should be near ln 4 = "
           f"{np.log(4):.2f}, the loss of a fresh model that knows nothing")
    late = losses[-10:].mean()
    expect(late < 0.5 * losses[0], f"the loss of the last 10 steps ({late:.2f}) should be well below the first "
           f"({losses[0]:.2f}): is every parameter moved after each backward pass, against its gradient (θ − lr·grad)?")


@test("train_lm", points=1)
def trained_model_predicts_the_next_token(student):
    """the returned parameters predict each next token of the sequence better than any bigram model"""
    out = student.call("train_lm", PATTERN, 4, 100, 8, 8, 1.0, 0)
    P = out[1]
    expect(isinstance(P, dict) and {"embed.weight", "W_xh", "W_hh", "b_h", "W_hy", "b_y"} <= set(P),
           "return the trained parameters as dict(model.named_parameters())")
    P = {k: as_array(v, k) for k, v in P.items()}
    idx, targets = np.array([PATTERN[:-1]]), np.array([PATTERN[1:]])
    loss, _ = _seq_loss(_lm_logits(P, idx), targets)
    copy_loss, _ = _seq_loss(_lm_logits(P, idx), idx)
    why = (": it predicts the current token instead of the next one (are the targets shifted by one?)"
           if copy_loss < loss else "")
    expect(loss < 0.35, f"next-token loss of the trained model over the sequence: {loss:.2f} nats; expected below "
           f"0.35 (the best bigram model gets ln 3 / 2 = 0.55)" + why)


# ----------------------------------------------------------------------------- gradients, h_0, the update rule
_rng2 = np.random.default_rng(33)          # its own generator: the tests above keep their values


def torch_lm(P, idx, targets):
    """The lecture's RNN LM in float64 torch (autograd keeps the whole path through time): (leaf tensors, loss)."""
    import torch
    t = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    x = t["embed.weight"][torch.as_tensor(idx)]
    h, states = torch.zeros(idx.shape[0], t["W_hh"].shape[0], dtype=torch.float64), []
    for step in range(idx.shape[1]):
        h = torch.tanh(x[:, step] @ t["W_xh"].T + h @ t["W_hh"].T + t["b_h"])
        states.append(h)
    logits = torch.stack(states, 1) @ t["W_hy"].T + t["b_y"]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.as_tensor(targets).reshape(-1))
    return t, loss


LM_NAMES = {"embed.weight": "the embeddings (embed.weight)", "W_xh": "W_xh", "W_hh": "W_hh", "b_h": "b_h",
            "W_hy": "W_hy", "b_y": "b_y"}


def check_gradients(student, V, E, H, B, T, rng):
    P = _as_float32({"embed.weight": rng.normal(size=(V, E)), "W_xh": rng.normal(size=(H, E)) * 0.6,
                     "W_hh": rng.normal(size=(H, H)) * 0.6, "b_h": rng.normal(size=H) * 0.3,
                     "W_hy": rng.normal(size=(V, H)), "b_y": rng.normal(size=V) * 0.3})
    idx, tg = rng.integers(0, V, size=(B, T)), rng.integers(0, V, size=(B, T))
    m = student.new("RNNLanguageModel", V, E, H)
    m.set_params(P)
    got = m.backward(TensorArg(idx, dtype="int64"), TensorArg(tg, dtype="int64"), grad_output=1.0,
                     method="forward", output_index=1)
    t, loss = torch_lm(P, idx, tg)
    loss.backward()
    for name in ("W_hh", "W_xh", "b_h", "embed.weight", "W_hy", "b_y"):
        g = got["param_grads"].get(name)
        expect(g is not None, f"no gradient reached {LM_NAMES[name]}: is it used in forward, and is the loss computed "
               "from the logits with torch operations (not NumPy, not .item())?")
        g = as_array(g, f"∂loss/∂{name}", shape=t[name].shape)
        if not np.allclose(g, t[name].grad.numpy(), atol=1e-5, rtol=1e-4):
            why = ""
            if name in ("W_hh", "W_xh", "b_h", "embed.weight"):
                why = (": the gradient through time is missing or cut. ∂J/∂W_hh sums over every step t the path back "
                       "through h_{t-1}, h_{t-2}, ...; if h is detached (or rebuilt from .data) at a step, "
                       "backpropagation through time stops there")
            raise Fail(f"∂loss/∂{name} differs from autograd's on the lecture's model (B = {B}, T = {T}){why}")


@test("RNNLanguageModel", points=1)
def gradient_through_time_matches_autograd(student):
    """∂loss/∂θ of every parameter, T = 6 steps, equals autograd's on the lecture's model (BPTT)"""
    check_gradients(student, V=7, E=3, H=5, B=2, T=6, rng=_rng2)


def check_fresh_state(student, V, E, H, calls, rng):
    P = _as_float32(_lm_params(V, E, H))
    m = student.new("RNNLanguageModel", V, E, H)
    m.set_params(P)
    for n, (B, T) in enumerate(calls, 1):
        idx = rng.integers(0, V, size=(B, T))
        out = m.call("forward", TensorArg(idx, dtype="int64"))
        expect(isinstance(out, (tuple, list)) and len(out) == 2, "forward should return a tuple (logits, loss)")
        logits = as_array(out[0], "logits", shape=(B, T, V))
        same = np.allclose(logits, _lm_logits(P, idx), atol=1e-4, rtol=1e-4)
        expect(same or n > 1, "the first call's logits differ from the lecture's model: see the logits check")
        expect(same, f"call {n} of forward on the same model gave other logits than a fresh model would: h_0 = 0 at the "
               "start of EVERY sequence, so the hidden state must not be kept from one call to the next")


@test("RNNLanguageModel", points=1)
def every_call_starts_from_h0_zero(student):
    """three calls on one model (batches 2, 2, 3): each starts from h_0 = 0, none remembers the last"""
    check_fresh_state(student, 6, 3, 4, [(2, 5), (2, 5), (3, 4)], _rng2)


LM_PARTS = ("embed.weight", "W_xh", "W_hh", "b_h", "W_hy", "b_y")


def _lm_state(value, what):
    expect(isinstance(value, (tuple, list)) and len(value) == 2, f"{what} should return a tuple (losses, parameters)")
    P = value[1]
    expect(isinstance(P, dict) and set(LM_PARTS) <= set(P), f"{what}: return the parameters as "
           "dict(model.named_parameters())")
    return as_array(value[0], "losses"), {k: as_array(P[k], k) for k in LM_PARTS}


def check_train_update(student, ids, V, seq_len, batch_size, lr, seed, steps=2):
    """With len(ids) = seq_len + 1 the only window starts at 0, so every batch is known whatever the sampling:
    each step must be θ ← θ − lr ∂loss/∂θ from the student's own seeded start (steps = 0)."""
    import torch
    args = (ids, V)
    _, start = _lm_state(student.call("train_lm", *args, 0, seq_len, batch_size, lr, seed), "train_lm(..., steps=0)")
    x = np.array([ids[:-1]] * batch_size)
    y = np.array([ids[1:]] * batch_size)
    ref, ref_states, ref_losses = dict(start), [], []
    for _ in range(steps):
        t, loss = torch_lm(ref, x, y)
        grads = torch.autograd.grad(loss, [t[k] for k in LM_PARTS])
        ref = {k: (t[k] - lr * g).detach().numpy() for k, g in zip(LM_PARTS, grads)}
        ref_states.append(ref)
        ref_losses.append(float(loss.detach()))
    for n in range(1, steps + 1):
        losses, got = _lm_state(student.call("train_lm", *args, n, seq_len, batch_size, lr, seed),
                                f"train_lm(..., steps={n})")
        expect(losses.shape == (n,), f"train_lm(..., steps={n}) should return {n} losses, got shape {losses.shape}")
        if n == 1:
            still = [LM_NAMES[k] for k in LM_PARTS if np.array_equal(got[k], start[k])]
            expect(not still, f"after one step of lr {lr}, {', '.join(still)} never moved: every parameter of the "
                   "model, the recurrent weights and the embeddings included, takes the step θ ← θ − lr ∂loss/∂θ")
        for k in LM_PARTS:
            want = ref_states[n - 1][k]
            if np.allclose(got[k], want, atol=1e-4, rtol=1e-4):
                continue
            step, ref_step = (got[k] - start[k]).ravel(), (ref_states[0][k] - start[k]).ravel()
            ratio = float(step @ ref_step / max(ref_step @ ref_step, 1e-30))
            why = ""
            if n == 1 and np.allclose(step, -ref_step, atol=1e-4, rtol=1e-3):
                why = ": it moved UP the gradient; gradient descent subtracts lr ∂loss/∂θ"
            elif n == 1 and abs(ratio - 1) > 0.05 and np.allclose(step, ratio * ref_step, atol=1e-4, rtol=1e-3):
                why = f": your step is {ratio:.3g} times the gradient-descent step of lr {lr}: use the lr argument"
            elif n == 2 and np.allclose(got[k], want + ref_states[0][k] - start[k], atol=1e-4, rtol=1e-4):
                why = (": the second step used the sum of the first two steps' gradients: backward ADDS to .grad, so "
                       "the old gradients must be cleared before each backward")
            elif n == 1:
                why = (": the step follows the gradient of another loss than the mean cross-entropy of each window's "
                       "NEXT tokens (lm_batch's targets)")
            raise Fail(f"after {n} step(s) of lr {lr} from your model's seeded start, {LM_NAMES[k]} differs from plain "
                       f"gradient descent θ ← θ − lr ∂loss/∂θ{why} (largest difference "
                       f"{float(np.abs(got[k] - want).max()):.3g})")
        expect_close(losses, ref_losses[:n], f"the recorded losses of the first {n} step(s) should be each step's loss "
                     "BEFORE its update", atol=1e-4, rtol=1e-4)


@test("train_lm", points=1)
def each_step_is_plain_gradient_descent(student):
    """a 7-token text with seq_len 6 (one window, so every batch is known), lr 0.7: steps 1 and 2 equal θ ← θ − lr ∂loss/∂θ"""
    check_train_update(student, [0, 1, 2, 3, 1, 0, 2], V=4, seq_len=6, batch_size=3, lr=0.7, seed=2)
