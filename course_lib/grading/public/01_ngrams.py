"""Public tests for 01_ngrams."""
import math

import numpy as np

from course_lib.grading.spec import Fail, as_array, expect, expect_close, test

CORPUS = [["the", "cat", "is", "small"], ["the", "dog", "is", "big"], ["a", "cat", "is", "big"]]


def _counts(value, what="count_bigrams(...)"):
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise Fail(f"{what} should return a dict of dicts {{prev: {{word: count}}}}, got {type(value).__name__}")
    return value


@test("count_bigrams", points=1)
def counts_the_lecture_corpus(student):
    """the pairs of a 3-sentence corpus, boundaries included"""
    c = _counts(student.call("count_bigrams", CORPUS))
    expect("<bos>" in c, "no counts after <bos>: pad every sentence with <bos> in front")
    expect(c.get("<bos>", {}).get("the") == 2, f"c(<bos>, the) should be 2, got {c.get('<bos>', {}).get('the')}")
    expect(c.get("big", {}).get("<eos>") == 2,
           "c(big, <eos>) should be 2: pad every sentence with <eos> at the end, so the model learns to stop")
    expect(c.get("cat", {}).get("is") == 2, f"c(cat, is) should be 2, got {c.get('cat', {}).get('is')}")


@test("addk_prob", points=1)
def laplace_on_seen_and_unseen(student):
    """Laplace (k=1) for a seen and an unseen pair"""
    counts = {"the": {"cat": 2, "dog": 1}}
    p_seen = student.call("addk_prob", counts, "the", "cat", 1.0, 10)
    expect_close(p_seen, 3 / 13, "P(cat | the) with k=1, V=10 should be (2+1)/(3+10)")
    p_unseen = student.call("addk_prob", counts, "the", "mat", 1.0, 10)
    expect_close(p_unseen, 1 / 13, "P(mat | the) for an unseen pair should be (0+1)/(3+10), not 0")


@test("perplexity", points=1)
def uniform_model_has_perplexity_v(student):
    """a model that is uniform over V tokens has perplexity V"""
    vocab = ["a", "b", "c", "<eos>"]
    probs = {prev: {w: 0.25 for w in vocab} for prev in ["<bos>", "a", "b", "c"]}
    pp = student.call("perplexity", [["a", "b"], ["c"]], probs)
    expect_close(pp, 4.0, "a uniform model over 4 tokens must have perplexity 4")


@test("perplexity", points=1)
def small_case_by_hand(student):
    """one sentence, two predictions"""
    probs = {"<bos>": {"a": 0.5}, "a": {"<eos>": 0.8}}
    pp = student.call("perplexity", [["a"]], probs)
    expect_close(pp, math.exp(-(math.log(0.5) + math.log(0.8)) / 2),
                 "perplexity of ['a'] should be exp(-(ln P(a|<bos>) + ln P(<eos>|a)) / 2) = 1.5811: "
                 "two predictions (a and <eos>), natural log")


@test("perplexity", points=1)
def sentences_of_different_lengths(student):
    """a 1-word and a 3-word sentence: every predicted token weighs the same"""
    probs = {"<bos>": {"a": 0.6, "b": 0.4}, "a": {"b": 0.5, "<eos>": 0.5}, "b": {"a": 0.9, "<eos>": 0.1}}
    sents = [["a"], ["b", "a", "b"]]
    logp = [math.log(0.6), math.log(0.5), math.log(0.4), math.log(0.9), math.log(0.5), math.log(0.1)]
    expect_close(student.call("perplexity", sents, probs), math.exp(-sum(logp) / len(logp)),
                 "perplexity of [['a'], ['b', 'a', 'b']] should be exp(-(sum of the 6 ln P) / 6) = 2.3875: "
                 "N counts every predicted token of the whole test set (2 + 4), not an average of per-sentence "
                 "perplexities")


@test("count_bigrams", points=1)
def two_sentences_counted_apart(student):
    """two short sentences: each has its own <bos> and <eos>, no pair joins them"""
    c = _counts(student.call("count_bigrams", [["to", "be"], ["be", "to", "be"]]))
    expect(c.get("be", {}).get("be", 0) == 0,
           "c(be, be) should be 0: the first sentence ends with 'be' and the second starts with 'be', but no pair "
           "may span two sentences (each is padded on its own)")
    expect(c.get("be", {}).get("<eos>") == 2 and c.get("<bos>", {}) == {"to": 1, "be": 1},
           f"c(be, <eos>) should be 2 and the counts after <bos> {{'to': 1, 'be': 1}}; got "
           f"{c.get('be', {}).get('<eos>')} and {c.get('<bos>')}")
    expect(sum(sum(v.values()) for v in c.values()) == 7,
           "2 sentences of 2 and 3 words give 3 + 4 = 7 pairs in all (T + 1 per sentence)")


@test("addk_prob", points=1)
def add_k_is_a_distribution(student):
    """k = 0.2, V = 4: the 4 probabilities after 'the' sum to 1"""
    counts = {"the": {"cat": 3, "dog": 1}}
    ps = [float(student.call("addk_prob", counts, "the", w, 0.2, 4)) for w in ("cat", "dog", "mat", "<eos>")]
    expect_close(ps[0], 3.2 / 4.8, "P(cat | the) with k = 0.2, V = 4 should be (3 + 0.2) / (4 + 0.2 * 4) = 0.6667")
    expect_close(sum(ps), 1.0, "the V = 4 probabilities P(. | the) must sum to 1: the denominator adds k once for "
                 "each of the V possible next tokens")


# ----------------------------------------------------------------------------- the fixed-window neural LM
def _tensors(value, what, n):
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise Fail(f"{what} should return a tuple of {n} values")
    return value


@test("make_windows", points=1)
def the_example_of_the_text(student):
    """ids [5, 6, 7], window 2: inputs [[0, 0], [0, 5], [5, 6]], targets [5, 6, 7]"""
    X, Y = _tensors(student.call("make_windows", [5, 6, 7], 2, 0), "make_windows", 2)
    expect(np.shape(Y) == (3,), f"3 ids give 3 examples (every id is the target of one, the first with only <bos> "
           f"before it); got targets of shape {np.shape(Y)}")
    expect(np.array_equal(as_array(Y, "targets", shape=(3,)), [5, 6, 7]),
           f"the targets are the text's ids themselves, one per position: [5, 6, 7]; got {np.asarray(Y).tolist()}")
    expect(np.array_equal(as_array(X, "contexts", shape=(3, 2)), [[0, 0], [0, 5], [5, 6]]),
           "the input of position t is the 2 ids BEFORE it, left-padded with <bos>: [[0, 0], [0, 5], [5, 6]]; "
           f"got {np.asarray(X).tolist()}")


@test("make_windows", points=1)
def longer_text_wider_window(student):
    """7 ids, window 3: every target has the 3 ids before it as input"""
    ids = [4, 2, 9, 9, 3, 8, 1]
    X, Y = _tensors(student.call("make_windows", ids, 3, 0), "make_windows", 2)
    X, Y = as_array(X, "contexts", shape=(7, 3)), as_array(Y, "targets", shape=(7,))
    expect(np.array_equal(Y, ids), "targets should be the ids, in order: every id is predicted once")
    expect(np.array_equal(X[4], [2, 9, 9]) and np.array_equal(X[1], [0, 0, 4]),
           f"the input for target ids[4] = 3 is [2, 9, 9] and for ids[1] it is [0, 0, 4] (oldest first, padded with "
           f"bos_id); got {X[4].astype(int).tolist()} and {X[1].astype(int).tolist()}")


@test("make_windows", points=1)
def padding_uses_the_given_bos_id(student):
    """bos_id 9 (not 0): the padding is the id the caller gives for <bos>"""
    X, Y = _tensors(student.call("make_windows", [4, 2, 7], 3, 9), "make_windows", 2)
    X = as_array(X, "contexts", shape=(3, 3))
    expect(not np.any(X == 0), "the contexts contain 0 although bos_id is 9: pad with the bos_id argument, "
           "whatever id the vocabulary gives <bos>")
    expect(np.array_equal(X, [[9, 9, 9], [9, 9, 4], [9, 4, 2]]),
           f"with bos_id 9 and window 3 the contexts are [[9, 9, 9], [9, 9, 4], [9, 4, 2]]; got {X.astype(int).tolist()}")
    expect(np.array_equal(as_array(Y, "targets", shape=(3,)), [4, 2, 7]), "the targets are the ids themselves")


def _window_params(V, window, E, H, seed):
    rng = np.random.default_rng(seed)
    return {"embed.weight": rng.normal(size=(V, E)), "hidden.weight": rng.normal(size=(H, window * E)) * 0.5,
            "hidden.bias": rng.normal(size=H) * 0.5, "out.weight": rng.normal(size=(V, H)) * 0.5,
            "out.bias": rng.normal(size=V) * 0.5}


def _window_logits(p, idx):
    """The equation of the exercise, in NumPy: logits = W_2 tanh(W_1 x + b_1) + b_2."""
    x = p["embed.weight"][idx].reshape(len(idx), -1)
    return np.tanh(x @ p["hidden.weight"].T + p["hidden.bias"]) @ p["out.weight"].T + p["out.bias"]


def _mean_ce(logits, targets):
    m = logits.max(-1, keepdims=True)
    lp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
    return float(-lp[np.arange(len(targets)), targets].mean())


@test("WindowLM", points=1)
def logits_and_loss_with_set_weights(student):
    """weights set by the test: logits (B, V) and the mean cross-entropy, two sizes"""
    from course_lib.grading.sandbox import TensorArg
    for V, window, E, H, B in ((7, 3, 4, 5, 6), (11, 2, 3, 8, 4)):
        rng = np.random.default_rng(V)
        p = _window_params(V, window, E, H, seed=V)
        model = student.new("WindowLM", V, window, E, H)
        model.set_params(p)
        idx, tgt = rng.integers(0, V, size=(B, window)), rng.integers(0, V, size=B)
        out = _tensors(model.call("forward", TensorArg(idx, dtype="int64"), TensorArg(tgt, dtype="int64")),
                       "forward(idx, targets)", 2)
        logits = as_array(out[0], "logits", shape=(B, V))
        expect_close(logits, _window_logits(p, idx),
                     f"logits differ from W_2 tanh(W_1 x + b_1) + b_2 (vocab {V}, window {window}): x is the window's "
                     "embeddings concatenated oldest first, then the tanh hidden layer, then the output layer",
                     atol=1e-4)
        loss = as_array(out[1], "the loss").reshape(-1)   # a 0-d tensor travels as shape (1,)
        expect(loss.size == 1, f"the loss should be one number (the mean over the batch), got {loss.size} numbers")
        expect_close(loss[0], _mean_ce(_window_logits(p, idx), tgt),
                     "the loss should be the MEAN cross-entropy of the targets, from the logits (PyTorch's cross_entropy "
                     "applies the log-softmax itself: give it the logits, not probabilities)", atol=1e-4)


@test("WindowLM", points=1)
def no_targets_no_loss(student):
    """forward(idx) without targets returns (logits, None)"""
    from course_lib.grading.sandbox import TensorArg
    model = student.new("WindowLM", 5, 2, 3, 4)
    out = _tensors(model.call("forward", TensorArg(np.array([[0, 1], [2, 3], [4, 4]]), dtype="int64")),
                   "forward(idx)", 2)
    as_array(out[0], "logits", shape=(3, 5))
    expect(out[1] is None, "without targets, forward returns (logits, None)")


TEXT = [2, 3, 4, 2, 3, 5] * 6 + [1]          # after '4 2 3' comes 5, after '5 2 3' comes 4: a window of 3 sees it


def _evaluate(state, ids, window, V):
    expect(isinstance(state, dict), "the second value returned should be the model's state_dict()")
    p = {k: as_array(v, k) for k, v in state.items()}
    missing = {"embed.weight", "hidden.weight", "hidden.bias", "out.weight", "out.bias"} - set(p)
    expect(not missing, f"the state_dict lacks {sorted(missing)}: is the model a WindowLM?")
    padded = [0] * window + list(ids)
    idx = np.array([padded[t:t + window] for t in range(len(ids))])
    return _mean_ce(_window_logits(p, idx), np.array(ids))


@test("train_window_lm", points=1)
def training_learns_the_next_token(student):
    """a 37-token text, window 3, 100 steps of lr 0.5: the trained weights predict the true next tokens"""
    out = _tensors(student.call("train_window_lm", TEXT, 8, 0, 3, 100, 0.5, 0), "train_window_lm", 2)
    losses = as_array(out[0], "losses", shape=(100,))
    before, after = np.log(8), _evaluate(out[1], TEXT, 3, 8)
    expect(after < 0.25, f"the trained weights give a loss of {after:.3f} on the text's true next tokens (an untrained "
           f"model gives about ln 8 = {before:.2f}; a trained one below 0.25): are the targets the tokens AFTER each "
           "window, are the parameters updated (θ ← θ - lr ∇θ J, not +), are the gradients cleared every step?")
    expect(losses[-1] < losses[0] - 1.0, f"the recorded losses should fall by more than 1 nat over 100 steps; "
           f"got {losses[0]:.3f} -> {losses[-1]:.3f}")


@test("train_window_lm", points=1)
def window_one_is_a_bigram_model(student):
    """window 1 cannot tell '4 2 3' from '5 2 3': its loss stops near the bigram model's"""
    out = _tensors(student.call("train_window_lm", TEXT, 8, 0, 1, 150, 0.5, 1), "train_window_lm", 2)
    losses = as_array(out[0], "losses", shape=(150,))
    after = _evaluate(out[1], TEXT, 1, 8)
    expect(0.25 < after < 0.45, f"with window 1 (a bigram model) the best loss on this text is about 0.30 (after 3 "
           f"comes 4 or 5, half the time each); your trained weights give {after:.3f}")
    expect(abs(losses[0] - np.log(8)) < 0.6, f"the first recorded loss should be that of the untrained model, near "
           f"ln 8 = 2.08; got {losses[0]:.3f}")


WINDOW_PARTS = ("embed.weight", "hidden.weight", "hidden.bias", "out.weight", "out.bias")
PART_NAMES = {"embed.weight": "the embeddings (embed.weight)", "hidden.weight": "W_1 (hidden.weight)",
              "hidden.bias": "b_1 (hidden.bias)", "out.weight": "W_2 (out.weight)", "out.bias": "b_2 (out.bias)"}


def _state(value, what):
    expect(isinstance(value, dict), f"{what}: the second value returned should be the model's state_dict()")
    missing = set(WINDOW_PARTS) - set(value)
    expect(not missing, f"{what}: the state_dict lacks {sorted(missing)}: is the model a WindowLM?")
    return {k: as_array(value[k], k) for k in WINDOW_PARTS}


def sgd_reference(state, X, Y, lr, steps):
    """Plain gradient descent from ``state``, in float64: θ ← θ − lr ∇θ J with the gradients of THIS step only.
    Returns the states after each step and the loss of each step (before its update)."""
    import torch
    p = {k: torch.tensor(v) for k, v in state.items()}
    states, losses = [], []
    for _ in range(steps):
        t = {k: v.clone().requires_grad_(True) for k, v in p.items()}
        x = t["embed.weight"][torch.as_tensor(X)].reshape(len(X), -1)
        logits = torch.tanh(x @ t["hidden.weight"].T + t["hidden.bias"]) @ t["out.weight"].T + t["out.bias"]
        loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(Y))
        grads = torch.autograd.grad(loss, [t[k] for k in p])
        p = {k: (t[k] - lr * g).detach() for k, g in zip(p, grads)}
        states.append({k: v.numpy() for k, v in p.items()})
        losses.append(float(loss.detach()))
    return states, losses


def check_update_rule(student, ids, V, bos, window, lr, seed, steps=2):
    """From the student's own seeded start (steps = 0), each of the first ``steps`` steps must be one step of
    plain gradient descent with that step's gradients only, and every parameter must move."""
    start = _state(_tensors(student.call("train_window_lm", ids, V, bos, window, 0, lr, seed), "train_window_lm",
                            2)[1], "train_window_lm(..., steps=0, ...)")
    padded = [bos] * window + list(ids)
    X, Y = np.array([padded[t:t + window] for t in range(len(ids))]), np.array(ids)
    ref_states, ref_losses = sgd_reference(start, X, Y, lr, steps)
    for n in range(1, steps + 1):
        losses, got = _tensors(student.call("train_window_lm", ids, V, bos, window, n, lr, seed), "train_window_lm", 2)
        got = _state(got, f"train_window_lm(..., steps={n}, ...)")
        losses = as_array(losses, "losses", shape=(n,))
        if n == 1:
            still = [PART_NAMES[k] for k in WINDOW_PARTS if np.array_equal(got[k], start[k])]
            expect(not still, f"after one step of lr {lr}, {', '.join(still)} never moved: every parameter θ takes "
                   "the step θ ← θ − lr ∇θ J, inside torch.no_grad(), and the returned state is the trained model's")
        for k in WINDOW_PARTS:
            ref = ref_states[n - 1][k]
            if not np.allclose(got[k], ref, atol=1e-4, rtol=1e-4):
                why = ""
                step, ref_step = (got[k] - start[k]).ravel(), (ref - start[k]).ravel()
                ratio = float(step @ ref_step / max(ref_step @ ref_step, 1e-30))
                if n == 1 and np.allclose(got[k], start[k] + (start[k] - ref), atol=1e-4, rtol=1e-4):
                    why = ": it moved UP the gradient (θ + lr ∇θ J); gradient descent subtracts"
                elif n == 1 and abs(ratio - 1) > 0.05 and np.allclose(step, ratio * ref_step, atol=1e-4, rtol=1e-3):
                    why = (f": your step is {ratio:.3g} times the gradient-descent step of lr {lr}, so the update does "
                           "not use the lr argument")
                elif n == 1:
                    why = (": the step goes another way than the gradient of the mean cross-entropy over the text's "
                           "examples, built with make_windows(ids, window, bos_id)")
                elif n == 2 and np.allclose(got[k], ref + ref_states[0][k] - start[k], atol=1e-4, rtol=1e-4):
                    why = (": the second step used the sum of the first two steps' gradients: backward ADDS to p.grad, "
                           "so the old gradient must be cleared before each backward")
                elif n == 2:
                    why = (": the first step was right, the second was not; is p.grad cleared before every backward "
                           "(it accumulates), and is the loss of step 2 computed with the updated weights?")
                raise Fail(f"after {n} step(s) of lr {lr} from your model's seeded start, {PART_NAMES[k]} differs "
                           f"from plain gradient descent θ ← θ − lr ∇θ J{why} (largest difference "
                           f"{float(np.abs(got[k] - ref).max()):.3g})")
        expect_close(losses, ref_losses[:n], f"the recorded losses of the first {n} step(s) should be the loss of "
                     "each step BEFORE its update, as plain floats", atol=1e-4, rtol=1e-4)


@test("train_window_lm", points=1)
def each_step_is_plain_gradient_descent(student):
    """from the seeded start (steps = 0), steps 1 and 2 equal θ ← θ − lr ∇θ J with bos_id 7, lr 0.3"""
    check_update_rule(student, [2, 3, 4, 2, 3, 5, 6, 1, 0, 2, 3, 4, 1], V=8, bos=7, window=2, lr=0.3, seed=4)
