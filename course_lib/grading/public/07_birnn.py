"""Public tests for 07_birnn. Each test looks at one thing (the backward direction's order, the pads, which
layer feeds which, what the mean divides by) and names the mistake in the lecture's terms."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test


def rnn_layer(x, W_xh, W_hh, b_h):
    """The reference vanilla RNN, left to right from h_0 = 0: x (B, T, D) -> (B, T, H)."""
    h = np.zeros((x.shape[0], W_hh.shape[0]))
    out = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b_h)
        out.append(h)
    return np.stack(out, axis=1)


def reference_birnn(x, lengths, Wf, Vf, bf, Wb, Vb, bb):
    """Each sentence alone: forward on x[:n], backward on x[:n] reversed then reversed back; pads 0."""
    B, T, _ = x.shape
    H = Vf.shape[0]
    out = np.zeros((B, T, 2 * H))
    for i, n in enumerate(lengths):
        s = x[i:i + 1, :n]
        out[i, :n, :H] = rnn_layer(s, Wf, Vf, bf)[0]
        out[i, :n, H:] = rnn_layer(s[:, ::-1], Wb, Vb, bb)[0, ::-1]
    return out


def params(r, D, H, scale=0.6):
    return tuple(r.normal(size=s) * scale for s in ((H, D), (H, H), (H,), (H, D), (H, H), (H,)))


def _birnn(student, x, lengths, p):
    B, T, _ = x.shape
    return as_array(student.call("birnn_layer", x, lengths, *p), "birnn_layer(...)", shape=(B, T, 2 * p[1].shape[0]))


# ----------------------------------------------------------------------------- birnn_layer

@test("birnn_layer", points=1)
def full_length_sentences(student):
    """no padding: [h→_t ; h←_t] at every position, h← read from the right"""
    r = np.random.default_rng(71)
    B, T, D, H = 2, 5, 3, 4
    x, lengths, p = r.normal(size=(B, T, D)), np.array([T, T]), params(r, D, H)
    out = _birnn(student, x, lengths, p)
    ref = reference_birnn(x, lengths, *p)
    expect_close(out[..., :H], ref[..., :H], "the first H features should be the forward states h→_t "
                 "(W→, V→, b→, read left to right from h→_0 = 0)")
    if np.allclose(out[..., H:], ref[:, ::-1, H:], atol=1e-6):
        expect(False, "the backward states are in reversed order: after running the cell on the reversed sentence, "
                      "reverse its outputs again so that h←_t sits at position t")
    if np.allclose(out[..., H:], rnn_layer(x, *p[3:]), atol=1e-6):
        expect(False, "the backward cell reads the sentence left to right: it must start at the LAST word, "
                      "h←_t = f(W← x_t + V← h←_{t+1} + b←)")
    if np.allclose(out[..., H:], rnn_layer(x[:, ::-1], *p[:3])[:, ::-1], atol=1e-6):
        expect(False, "the backward direction uses the forward weights: it has its own W←, V←, b← (twice the parameters)")
    expect_close(out[..., H:], ref[..., H:], "the last H features should be the backward states h←_t")


@test("birnn_layer", points=1)
def padded_batch_equals_each_sentence_alone(student):
    """sentences of lengths 6, 2, 4 padded to T = 6: the pads change nothing and give 0"""
    r = np.random.default_rng(72)
    lengths, D, H = np.array([6, 2, 4]), 2, 3
    x = r.normal(size=(3, 6, D))
    for i, n in enumerate(lengths):
        x[i, n:] = 5.0                                   # pads full of junk: they must not be read
    p = params(r, D, H)
    out = _birnn(student, x, lengths, p)
    ref = reference_birnn(x, lengths, *p)
    flipped_all = np.concatenate([rnn_layer(x, *p[:3]), rnn_layer(x[:, ::-1], *p[3:])[:, ::-1]], axis=-1)
    mask = (np.arange(6)[None, :] < lengths[:, None])[..., None]
    if np.allclose(out * mask, flipped_all * mask, atol=1e-6):
        expect(False, "the reversal includes the pads: the backward cell then starts on the pads. Reverse only "
                      "the first `length` positions of each sentence (its words), leave the pads where they are")
    expect_close(out * mask, ref * mask, "at the real words, each sentence of the padded batch should get what it "
                 "gets alone (forward on its words, backward from its last word)")
    expect_close(out * (~mask), np.zeros_like(out), "the outputs at the pads should be 0 (as pad_packed_sequence gives)")


@test("birnn_layer", points=1)
def forward_half_ignores_the_right_context(student):
    """changing a later word changes h←_t before it, never h→_t"""
    r = np.random.default_rng(73)
    x, lengths, p = r.normal(size=(1, 6, 2)), np.array([6]), params(r, 2, 3)
    y = x.copy()
    y[0, 4] += 2.0
    a, b = _birnn(student, x, lengths, p), _birnn(student, y, lengths, p)
    expect(np.allclose(a[0, :4, :3], b[0, :4, :3], atol=1e-9), "h→_t for t < 4 changed when word 4 changed: the "
           "forward half must depend only on x_1..x_t (the first H features are the forward states)")
    expect(not np.allclose(a[0, :4, 3:], b[0, :4, 3:], atol=1e-9), "h←_t for t < 4 did not change when word 4 "
           "changed: the backward half must read the right context x_t..x_n")


@test("birnn_layer", points=1)
def one_word_sentences_and_one_unit(student):
    """lengths 1, 4 and 1 (T = 4), H = 1: a one-word sentence's backward state reads only that word"""
    r = np.random.default_rng(79)
    lengths, D, H = np.array([1, 4, 1]), 3, 1
    x = r.normal(size=(3, 4, D))
    p = params(r, D, H)
    out = _birnn(student, x, lengths, p)
    ref = reference_birnn(x, lengths, *p)
    expect_close(out[[0, 2], 0], ref[[0, 2], 0], "a sentence of one word: both directions read that word alone "
                 "from a zero state (its backward state must not read pads or the word before the end)")
    expect_close(out, ref, "lengths 1, 4, 1 with one unit per direction: each sentence as it gets alone, 0 at the pads")


# ----------------------------------------------------------------------------- deep_birnn

def reference_deep(x, lengths, layers):
    h = x
    for p in layers:
        h = reference_birnn(h, lengths, *p)
    return h


@test("deep_birnn", points=1)
def two_layers_equal_the_stacked_reference(student):
    """2 layers, D = 2H: layer 2 reads layer 1's [h→ ; h←]"""
    r = np.random.default_rng(74)
    H, lengths = 3, np.array([5, 3])
    x = r.normal(size=(2, 5, 2 * H))
    layers = [params(r, 2 * H, H), params(r, 2 * H, H)]
    out = as_array(student.call("deep_birnn", x, lengths, layers), "deep_birnn(...)", shape=(2, 5, 2 * H))
    mask = (np.arange(5)[None, :] < lengths[:, None])[..., None]
    one = reference_birnn(x, lengths, *layers[0])
    if np.allclose(out * mask, one * mask, atol=1e-6):
        expect(False, "this is the FIRST layer's output: return the top layer's states")
    if np.allclose(out * mask, reference_birnn(x, lengths, *layers[1]) * mask, atol=1e-6):
        expect(False, "layer 2 read the input x: in a deep RNN layer i+1's inputs are layer i's states")
    if np.allclose(out * mask, reference_deep(x, lengths, layers[::-1]) * mask, atol=1e-6):
        expect(False, "the layers run in the wrong order: layers[0] reads x, layers[1] reads its output")
    expect_close(out * mask, reference_deep(x, lengths, layers) * mask,
                 "the top layer's states differ from birnn_layer applied layer after layer")


@test("deep_birnn", points=1)
def three_layers_widths_change(student):
    """3 layers, D = 2 ≠ 2H = 8: only the first layer reads x"""
    r = np.random.default_rng(75)
    H, lengths = 4, np.array([4, 4, 1])
    x = r.normal(size=(3, 4, 2))
    layers = [params(r, 2, H), params(r, 2 * H, H), params(r, 2 * H, H)]
    out = as_array(student.call("deep_birnn", x, lengths, layers), "deep_birnn(...)", shape=(3, 4, 2 * H))
    mask = (np.arange(4)[None, :] < lengths[:, None])[..., None]
    expect_close(out * mask, reference_deep(x, lengths, layers) * mask,
                 "three layers: layer 1 reads x (B, T, 2), layers 2 and 3 read the (B, T, 2H) states below")


# ----------------------------------------------------------------------------- masked_mean

@test("masked_mean", points=1)
def mean_over_the_real_words_only(student):
    """h (3, 5, 4), lengths 5, 2, 3, pads full of junk"""
    r = np.random.default_rng(76)
    h, lengths = r.normal(size=(3, 5, 4)), np.array([5, 2, 3])
    for i, n in enumerate(lengths):
        h[i, n:] = 10.0
    got = as_array(student.call("masked_mean", h, lengths), "masked_mean(...)", shape=(3, 4))
    ref = np.stack([h[i, :n].mean(0) for i, n in enumerate(lengths)])
    if np.allclose(got, h.mean(1), atol=1e-6):
        expect(False, "the pads are counted in the mean: average over the `length` real positions only")
    if np.allclose(got, np.stack([h[i, :n].sum(0) for i, n in enumerate(lengths)]) / h.shape[1], atol=1e-6):
        expect(False, "you sum the real positions but divide by T: divide by each sentence's length")
    if np.allclose(got, np.stack([h[i, :n].max(0) for i, n in enumerate(lengths)]), atol=1e-6):
        expect(False, "this is the max over the real positions, not the mean")
    expect_close(got, ref, "row b should be the mean of h[b, :lengths[b]] (the real words of sentence b)")


@test("masked_mean", points=1)
def padding_changes_nothing(student):
    """the same sentences padded to T = 4 and to T = 9 give the same encoding"""
    r = np.random.default_rng(77)
    lengths = np.array([4, 1, 3, 2])
    h = r.normal(size=(4, 4, 3))
    big = np.concatenate([h, np.full((4, 5, 3), -3.0)], axis=1)
    for i, n in enumerate(lengths):
        h[i, n:] = 7.0
        big[i, n:] = -3.0
    a = as_array(student.call("masked_mean", h, lengths), "masked_mean(...)", shape=(4, 3))
    b = as_array(student.call("masked_mean", big, lengths), "masked_mean(...)", shape=(4, 3))
    expect_close(b, a, "the encoding changed when the same sentences got more padding: pads must count neither in "
                 "the sum nor in the number you divide by")
    expect_close(a[1], h[1, 0], "a one-word sentence's mean is that word's state")


# ----------------------------------------------------------------------------- train_tagger (end to end)

def toy_tagging_data(seed, n=48, vocab=20, n_tags=5, max_len=9):
    """Random sentences (ids 2..vocab-1; 0 is the pad, 1 <unk>) whose tag depends on the word and its right
    neighbour, so a tagger must read both directions."""
    r = np.random.default_rng(seed)
    examples = []
    for _ in range(n):
        words = r.integers(2, vocab, size=int(r.integers(1, max_len + 1))).tolist()
        right = words[1:] + [0]
        examples.append((words, [(w + 2 * v) % n_tags for w, v in zip(words, right)]))
    return examples


def reference_tagger_training(examples, vocab_size, n_tags, steps, lr, seed, batch_size, embed_dim, hidden_size):
    """Adam on the mean cross-entropy over the real words: (losses, {name: array}, {name: start array})."""
    import torch
    from course_lib import birnn
    torch.manual_seed(seed)
    model = birnn.SequenceTagger(vocab_size, n_tags, embed_dim, hidden_size, bidirectional=True)
    start = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    batches = birnn.tagging_batches(examples, batch_size, seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        ids, tags, lengths = next(batches)
        logits, _ = model(ids, lengths=lengths)
        real = tags != -100
        loss = torch.nn.functional.cross_entropy(logits[real], tags[real])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {n: p.detach().numpy().copy() for n, p in model.named_parameters()}, start


def _tagger_run(student, *args):
    out = student.call("train_tagger", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "train_tagger must return (losses, params)")
    steps = args[3]
    losses = as_array(out[0], "losses")
    expect(losses.shape == (steps,), f"return one loss per step ({steps}), got {losses.shape}")
    expect(isinstance(out[1], dict), "return the final parameters as {name: array} (model.named_parameters())")
    return losses, {k: as_array(v, k) for k, v in out[1].items()}


@test("train_tagger", points=1)
def first_loss_is_the_mean_over_real_words(student):
    """one step on batches with many pads: the first loss is the mean cross-entropy over the real words only"""
    examples = toy_tagging_data(75)
    args = (examples, 20, 5, 1, 0.01, 3, 8, 8, 6)
    losses, _ = _tagger_run(student, *args)
    ref = reference_tagger_training(*args)[0]
    expect(np.isfinite(losses[0]), "the first loss is nan or inf")
    expect_close(losses[0], ref[0], "the first loss differs from the mean cross-entropy over the real words of the "
                 "first batch: the pads (positions at or after each sentence's length) count neither in the sum nor "
                 "in the number of words; the model is SequenceTagger(vocab_size, n_tags, embed_dim, hidden_size, "
                 "bidirectional=True) built right after torch.manual_seed(seed)", rtol=1e-5)


@test("train_tagger", points=1)
def two_adam_steps_move_every_weight(student):
    """two steps, lr 0.02: every parameter of both directions moved, exactly as two Adam steps on that loss"""
    examples = toy_tagging_data(76)
    args = (examples, 20, 5, 2, 0.02, 1, 8, 8, 6)
    losses, params = _tagger_run(student, *args)
    ref_losses, ref, start = reference_tagger_training(*args)
    expect(set(params) == set(ref), f"the parameters should be a bidirectional SequenceTagger's: {sorted(ref)}; "
           f"got {sorted(params)}")
    for name in ref:
        expect(params[name].shape == ref[name].shape, f"{name}: shape {params[name].shape}, expected {ref[name].shape}")
        expect(not np.allclose(params[name], start[name], rtol=0, atol=1e-7),
               f"{name} never moved: every weight must receive a gradient and be updated"
               + (" (this is the right-to-left direction: the gradient must flow back through it too)"
                  if name.endswith("_reverse") else ""))
    expect_close(losses[1], ref_losses[1], "the second loss differs, so the first update was not one Adam step "
                 "(torch.optim.Adam) with the learning rate you were given (0.02 here), or the second batch is not "
                 "the next one", rtol=1e-4)
    for name in ref:
        expect_close(params[name], ref[name], f"{name} after two steps differs from two Adam steps on the mean loss "
                     "over the real words: each step must start from clean gradients (backward() ADDS to .grad)",
                     atol=1e-5, rtol=1e-4)
