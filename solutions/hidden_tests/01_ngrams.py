"""Hidden tests for 01_ngrams: inputs chosen so that each classic mistake shows."""
import math
import random
from collections import Counter, defaultdict

from course_lib.grading.spec import Fail, expect, expect_close, test

random.seed(7)
WORDS = ["to", "be", "or", "not", "that", "is", "the", "question"]
SENTS = [[random.choice(WORDS) for _ in range(random.randint(1, 8))] for _ in range(40)]
TEST_SENTS = [[random.choice(WORDS + ["zounds"]) for _ in range(random.randint(1, 6))] for _ in range(12)]


def _ref_counts(sentences):
    c = defaultdict(Counter)
    for s in sentences:
        p = ["<bos>"] + s + ["<eos>"]
        for a, b in zip(p[:-1], p[1:]):
            c[a][b] += 1
    return {a: dict(b) for a, b in c.items()}


def _ref_prob(counts, prev, word, k, V):
    f = counts.get(prev, {})
    return (f.get(word, 0) + k) / (sum(f.values()) + k * V)


def _ref_pp(sentences, counts, k, V):
    lp, n = 0.0, 0
    for s in sentences:
        p = ["<bos>"] + s + ["<eos>"]
        for a, b in zip(p[:-1], p[1:]):
            lp += math.log(_ref_prob(counts, a, b, k, V))
            n += 1
    return math.exp(-lp / n)


@test("count_bigrams", points=1)
def random_corpus_counts(student):
    """every count of a random 40-sentence corpus"""
    got = student.call("count_bigrams", SENTS)
    if not isinstance(got, dict):
        raise Fail("count_bigrams should return a dict of dicts")
    want = _ref_counts(SENTS)
    got = {a: {b: int(n) for b, n in (v or {}).items() if n} for a, v in got.items() if isinstance(v, dict)}
    got = {a: v for a, v in got.items() if v}
    expect(set(got) == set(want), f"the set of contexts differs: missing {sorted(set(want) - set(got))[:3]}, "
           f"extra {sorted(set(got) - set(want))[:3]}")
    bad = [(a, b) for a in want for b in want[a] if got[a].get(b) != want[a][b]]
    expect(not bad, f"wrong counts, e.g. c{bad[:1]}: is the last pair (w_T, <eos>) counted?")


@test("count_bigrams", points=1)
def one_word_sentences_and_empty_input(student):
    """a one-word sentence gives two pairs; no sentences give no counts"""
    got = student.call("count_bigrams", [["hi"]])
    expect(isinstance(got, dict) and got.get("<bos>", {}).get("hi") == 1 and got.get("hi", {}).get("<eos>") == 1,
           "['hi'] should give c(<bos>, hi) = 1 and c(hi, <eos>) = 1")
    empty = student.call("count_bigrams", [])
    expect(isinstance(empty, dict) and not any(empty.values()), "no sentences should give no counts")


@test("count_bigrams", points=1)
def counts_do_not_cross_sentences(student):
    """no pair spans the end of one sentence and the start of the next"""
    got = student.call("count_bigrams", [["a", "b"], ["c", "d"]])
    expect(isinstance(got, dict) and "c" not in got.get("b", {}),
           "c(b, c) should be 0: sentences are counted separately, each with its own <bos>/<eos>")


@test("addk_prob", points=1)
def add_k_half(student):
    """k = 0.5 on a random corpus, several pairs"""
    counts = _ref_counts(SENTS)
    for prev, word in [("to", "be"), ("<bos>", "question"), ("is", "<eos>"), ("not", "zounds")]:
        p = student.call("addk_prob", counts, prev, word, 0.5, 11)
        expect_close(p, _ref_prob(counts, prev, word, 0.5, 11),
                     f"P({word} | {prev}) with k=0.5, V=11 is wrong: is k multiplied by V in the denominator?")


@test("addk_prob", points=1)
def k_zero_is_mle_and_unseen_context(student):
    """k = 0 gives the MLE; an unseen context with k > 0 gives 1/V"""
    counts = _ref_counts(SENTS)
    p = student.call("addk_prob", counts, "the", "question", 0.0, 11)
    expect_close(p, _ref_prob(counts, "the", "question", 0.0, 11), "with k = 0, addk_prob should be c(prev, w)/c(prev)")
    p = student.call("addk_prob", counts, "zounds", "to", 1.0, 11)
    expect_close(p, 1 / 11, "an unseen context with k = 1 should give the uniform 1/V")


@test("addk_prob", points=1)
def probabilities_sum_to_one(student):
    """Σ_w P(w | prev) = 1 over all V possible next tokens"""
    counts = _ref_counts(SENTS)
    vocab = WORDS + ["<eos>"]
    total = sum(float(student.call("addk_prob", counts, "be", w, 0.3, len(vocab))) for w in vocab)
    expect_close(total, 1.0, "P(. | be) over the 9 possible next tokens should sum to 1")


def _probs(counts, k, vocab):
    return {prev: {w: _ref_prob(counts, prev, w, k, len(vocab)) for w in vocab} for prev in ["<bos>"] + vocab}


def _ref_pp_table(sentences, probs):
    lp, n = 0.0, 0
    for s in sentences:
        p = ["<bos>"] + s + ["<eos>"]
        for a, b in zip(p[:-1], p[1:]):
            lp += math.log(probs[a][b])
            n += 1
    return math.exp(-lp / n)


VOCAB = WORDS + ["zounds", "<eos>"]


@test("perplexity", points=1)
def random_test_set(student):
    """held-out sentences under an add-1 model"""
    probs = _probs(_ref_counts(SENTS), 1.0, VOCAB)
    pp = student.call("perplexity", TEST_SENTS, probs)
    expect_close(pp, _ref_pp_table(TEST_SENTS, probs),
                 "perplexity on held-out sentences is wrong: N = words + one <eos> per sentence, natural log")


@test("perplexity", points=1)
def mean_over_tokens_not_sentences(student):
    """sentences of different lengths weigh by their number of tokens"""
    probs = _probs(_ref_counts(SENTS), 0.1, VOCAB)
    sents = [["to"], ["to", "be", "or", "not", "to", "be"]]
    pp = student.call("perplexity", sents, probs)
    expect_close(pp, _ref_pp_table(sents, probs),
                 "average the negative log-probability over all predicted tokens, not per sentence")


@test("perplexity", points=1)
def natural_log_base(student):
    """a skewed model: the base of log and exp must agree"""
    probs = {"<bos>": {"a": 0.9, "<eos>": 0.1}, "a": {"<eos>": 0.3, "a": 0.7}}
    pp = student.call("perplexity", [["a"], ["a", "a"]], probs)
    expect_close(pp, _ref_pp_table([["a"], ["a", "a"]], probs),
                 "exp(mean negative ln P): do not mix log2 with exp, or ln with 2**")


# ----------------------------------------------------------------------------- the fixed-window neural LM
import numpy as np  # noqa: E402

from course_lib.grading.sandbox import TensorArg  # noqa: E402
from course_lib.grading.spec import as_array  # noqa: E402

_rng = np.random.default_rng(101)


def _ref_windows(ids, window, bos):
    padded = [bos] * window + list(ids)
    return np.array([padded[t:t + window] for t in range(len(ids))]).reshape(len(ids), window), np.array(ids)


def _pair(value, what):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Fail(f"{what} should return a tuple of 2 values")
    return value


@test("make_windows", points=1)
def random_text_with_another_bos_id(student):
    """30 random ids, window 4, bos_id 11"""
    ids = [int(i) for i in _rng.integers(0, 11, size=30)]
    X, Y = _pair(student.call("make_windows", ids, 4, 11), "make_windows")
    want_X, want_Y = _ref_windows(ids, 4, 11)
    expect(np.array_equal(as_array(X, "contexts", shape=(30, 4)), want_X), "contexts wrong for bos_id = 11, window 4")
    expect(np.array_equal(as_array(Y, "targets", shape=(30,)), want_Y), "targets should be the ids themselves")


@test("make_windows", points=1)
def window_longer_than_the_text_and_integer_type(student):
    """window 5 over 2 ids: all padding then one id; integer tensors"""
    X, Y = _pair(student.call("make_windows", [3, 1], 5, 0), "make_windows")
    expect(np.array_equal(as_array(X, "contexts", shape=(2, 5)), [[0, 0, 0, 0, 0], [0, 0, 0, 0, 3]]),
           "a window longer than the text is padded with bos_id on the left")
    expect(np.asarray(X).dtype.kind in "iu" and np.asarray(Y).dtype.kind in "iu",
           "contexts and targets must be integer (torch.long) tensors: nn.Embedding and cross_entropy need them")


def _params(V, window, E, H, seed):
    rng = np.random.default_rng(seed)
    return {"embed.weight": rng.normal(size=(V, E)), "hidden.weight": rng.normal(size=(H, window * E)) * 0.4,
            "hidden.bias": rng.normal(size=H) * 0.4, "out.weight": rng.normal(size=(V, H)) * 0.4,
            "out.bias": rng.normal(size=V) * 0.4}


def _ref_forward(p, idx, targets=None):
    import torch
    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    x = t["embed.weight"][torch.as_tensor(idx)].reshape(len(idx), -1)
    logits = torch.tanh(x @ t["hidden.weight"].T + t["hidden.bias"]) @ t["out.weight"].T + t["out.bias"]
    return t, logits


@test("WindowLM", points=1)
def more_sizes_window_one_and_batch_one(student):
    """window 1, batch 1 and a wider model against the reference"""
    import torch
    for V, window, E, H, B in ((5, 1, 2, 3, 1), (13, 4, 5, 9, 17)):
        p = _params(V, window, E, H, seed=V + 100)
        m = student.new("WindowLM", V, window, E, H)
        m.set_params(p)
        idx, tgt = _rng.integers(0, V, size=(B, window)), _rng.integers(0, V, size=B)
        out = _pair(m.call("forward", TensorArg(idx, dtype="int64"), TensorArg(tgt, dtype="int64")), "forward")
        _, logits = _ref_forward(p, idx)
        expect_close(as_array(out[0], "logits", shape=(B, V)), logits.detach().numpy(),
                     f"logits wrong for vocab {V}, window {window}, batch {B}", atol=1e-4)
        ref_loss = float(torch.nn.functional.cross_entropy(logits, torch.as_tensor(tgt)).detach())
        expect_close(as_array(out[1], "loss").reshape(-1)[0], ref_loss, "loss wrong", atol=1e-4)


@test("WindowLM", points=1)
def gradients_reach_every_parameter(student):
    """backward through the logits: every parameter's gradient equals the reference's"""
    V, window, E, H, B = 9, 3, 4, 6, 5
    p = _params(V, window, E, H, seed=7)
    m = student.new("WindowLM", V, window, E, H)
    m.set_params(p)
    idx = _rng.integers(0, V, size=(B, window))
    G = _rng.normal(size=(B, V))
    res = m.backward(TensorArg(idx, dtype="int64"), grad_output=G, method="forward", output_index=0)
    t, logits = _ref_forward(p, idx)
    import torch
    (logits * torch.tensor(G)).sum().backward()
    for name, tensor in t.items():
        got = res["param_grads"].get(name)
        expect(got is not None, f"no gradient reached {name}")
        expect_close(as_array(got, f"grad of {name}", shape=tensor.shape), tensor.grad.numpy(),
                     f"the gradient of {name} differs from the reference: is the forward pass W_2 tanh(W_1 x + b_1) + b_2?",
                     atol=1e-4)


TEXT2 = [int(c) for c in "2345234623452346" * 3] + [1]     # '5 2 3 4' then 6, '6 2 3 4' then 5


def _eval(state, ids, window, V, bos):
    expect(isinstance(state, dict), "train_window_lm should return (losses, model.state_dict())")
    p = {k: as_array(v, k) for k, v in state.items()}
    X, Y = _ref_windows(ids, window, bos)
    _, logits = _ref_forward({k: p[k] for k in ("embed.weight", "hidden.weight", "hidden.bias", "out.weight",
                                                  "out.bias")}, X)
    import torch
    return float(torch.nn.functional.cross_entropy(logits, torch.as_tensor(Y)).detach())


@test("train_window_lm", points=1)
def window_four_on_another_text(student):
    """window 4 needs the 4th token back; bos_id 0, 150 steps"""
    out = _pair(student.call("train_window_lm", TEXT2, 7, 0, 4, 150, 1.0, 3), "train_window_lm")
    losses = as_array(out[0], "losses", shape=(150,))
    after = _eval(out[1], TEXT2, 4, 7, 0)
    expect(after < 0.2, f"window 4 can predict every token of this text; the trained weights give {after:.3f} on the "
           "true next tokens (expected below 0.2)")
    expect(after <= losses[-1] + 0.05, "the returned weights should be the trained ones (their loss is not above "
           "the last recorded loss)")


@test("train_window_lm", points=1)
def seeded_and_reproducible(student):
    """the same seed gives the same losses; another seed another run"""
    a = as_array(_pair(student.call("train_window_lm", TEXT2, 7, 0, 2, 20, 0.5, 5), "train_window_lm")[0], "losses")
    b = as_array(_pair(student.call("train_window_lm", TEXT2, 7, 0, 2, 20, 0.5, 5), "train_window_lm")[0], "losses")
    c = as_array(_pair(student.call("train_window_lm", TEXT2, 7, 0, 2, 20, 0.5, 6), "train_window_lm")[0], "losses")
    expect(np.allclose(a, b), "two runs with the same seed gave different losses: call torch.manual_seed(seed) "
           "before building the model")
    expect(not np.allclose(a, c), "seeds 5 and 6 gave identical losses: is the seed used?")
    expect(np.all(np.diff(a[:10]) < 0.05), "the loss should fall over the first steps of full-batch gradient descent")


# ----------------------------------------------------------------------------- the update rule, by construction
# The reference (plain gradient descent from the student's own seeded start) and its messages are the public file's.
import importlib.util as _ilu  # noqa: E402

from course_lib.grading import paths as _paths  # noqa: E402

_spec = _ilu.spec_from_file_location("_public_01", _paths.PUBLIC_TESTS / "01_ngrams.py")
_public = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_public)


@test("train_window_lm", points=1)
def three_steps_of_gradient_descent_another_setting(student):
    """V 9, bos_id 8, window 3, lr 0.8, seed 11: the first three steps equal plain gradient descent"""
    ids = [int(i) for i in np.random.default_rng(5).integers(0, 8, size=21)]
    _public.check_update_rule(student, ids, V=9, bos=8, window=3, lr=0.8, seed=11, steps=3)
