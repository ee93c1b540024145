"""Hidden tests for 07_birnn: more sizes and edge cases (T = 1, every sentence one word long, H = 1, B = 1,
one layer, large values), and birnn_layer checked against nn.RNN(bidirectional=True) on a packed batch."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(707)


def _rnn(x, W, V, b):
    h = np.zeros((x.shape[0], V.shape[0]))
    out = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W.T + h @ V.T + b)
        out.append(h)
    return np.stack(out, axis=1)


def _bi(x, lengths, Wf, Vf, bf, Wb, Vb, bb):
    B, T, _ = x.shape
    H = Vf.shape[0]
    out = np.zeros((B, T, 2 * H))
    for i, n in enumerate(lengths):
        s = x[i:i + 1, :n]
        out[i, :n, :H] = _rnn(s, Wf, Vf, bf)[0]
        out[i, :n, H:] = _rnn(s[:, ::-1], Wb, Vb, bb)[0, ::-1]
    return out


def _params(D, H, scale=0.7):
    return tuple(rng.normal(size=s) * scale for s in ((H, D), (H, H), (H,), (H, D), (H, H), (H,)))


def _padded(B, T, D, lengths, pad=3.0):
    x = rng.normal(size=(B, T, D))
    for i, n in enumerate(lengths):
        x[i, n:] = pad
    return x


@test("birnn_layer", points=1)
def many_sizes_and_lengths(student):
    """B, T, D, H from 1 to 7 with random lengths: equal to each sentence alone, 0 at the pads"""
    for B, T, D, H in ((1, 1, 1, 1), (4, 7, 3, 2), (5, 3, 1, 5), (2, 6, 4, 1)):
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = T
        x, p = _padded(B, T, D, lengths), _params(D, H)
        got = as_array(student.call("birnn_layer", x, lengths, *p), "birnn_layer(...)", shape=(B, T, 2 * H))
        expect_close(got, _bi(x, lengths, *p), f"B={B}, T={T}, D={D}, H={H}, lengths={lengths.tolist()}: "
                     "[h→_t ; h←_t] at the words, 0 at the pads")


@test("birnn_layer", points=1)
def one_word_sentences(student):
    """every sentence one word long: h→_1 and h←_1 both read only x_1"""
    x, p = _padded(3, 4, 2, [1, 1, 1]), _params(2, 3)
    got = as_array(student.call("birnn_layer", x, np.array([1, 1, 1]), *p), "birnn_layer(...)", shape=(3, 4, 6))
    expect_close(got[:, 0, :3], np.tanh(x[:, 0] @ p[0].T + p[2]), "h→_1 = tanh(W→ x_1 + b→) from h→_0 = 0")
    expect_close(got[:, 0, 3:], np.tanh(x[:, 0] @ p[3].T + p[5]), "h←_1 = tanh(W← x_1 + b←) for a one-word sentence")
    expect_close(got[:, 1:], np.zeros((3, 3, 6)), "everything after the one word is padding: 0")


@test("birnn_layer", points=1)
def equals_nn_rnn_bidirectional_packed(student):
    """the same numbers as nn.RNN(bidirectional=True) on a packed batch with copied weights"""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    B, T, D, H = 3, 5, 3, 4
    lengths = np.array([3, 5, 2])
    x, p = _padded(B, T, D, lengths), _params(D, H)
    ref = torch.nn.RNN(D, H, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for name, v in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "weight_ih_l0_reverse",
                            "weight_hh_l0_reverse", "bias_ih_l0_reverse"), p):
            getattr(ref, name).copy_(torch.from_numpy(v))
        ref.bias_hh_l0.zero_()
        ref.bias_hh_l0_reverse.zero_()
        packed = pack_padded_sequence(torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True,
                                      enforce_sorted=False)
        out, _ = pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=T)
    got = as_array(student.call("birnn_layer", x, lengths, *p), "birnn_layer(...)", shape=(B, T, 2 * H))
    expect_close(got, out.numpy(), "differs from nn.RNN(bidirectional=True) on the packed batch")


@test("deep_birnn", points=1)
def one_layer_is_birnn_layer(student):
    """a one-layer stack is the layer itself"""
    lengths = np.array([2, 4])
    x, p = _padded(2, 4, 3, lengths), _params(3, 2)
    got = as_array(student.call("deep_birnn", x, lengths, [p]), "deep_birnn(...)", shape=(2, 4, 4))
    expect_close(got, _bi(x, lengths, *p), "with one layer, deep_birnn is birnn_layer")


@test("deep_birnn", points=1)
def four_layers_ragged(student):
    """4 layers, H = 2, lengths 1..5: the pads stay 0 through every layer"""
    lengths = np.array([5, 1, 3])
    x = _padded(3, 5, 3, lengths)
    layers = [_params(3, 2)] + [_params(4, 2) for _ in range(3)]
    got = as_array(student.call("deep_birnn", x, lengths, layers), "deep_birnn(...)", shape=(3, 5, 4))
    h = x
    for p in layers:
        h = _bi(h, lengths, *p)
    expect_close(got, h, "4 layers: each layer reads the states of the layer below, pads 0 at every layer")


@test("masked_mean", points=1)
def sizes_and_large_values(student):
    """C = 1, B = 1, every length = T, values around 1e6"""
    for B, T, C in ((1, 3, 1), (6, 8, 5), (2, 1, 3)):
        lengths = rng.integers(1, T + 1, size=B)
        h = rng.normal(size=(B, T, C)) * 1e6
        got = as_array(student.call("masked_mean", h, lengths), "masked_mean(...)", shape=(B, C))
        expect_close(got, np.stack([h[i, :n].mean(0) for i, n in enumerate(lengths)]),
                     f"B={B}, T={T}, C={C}: the mean over each sentence's real positions", rtol=1e-9, atol=1e-3)
    h = rng.normal(size=(3, 4, 2))
    got = as_array(student.call("masked_mean", h, np.array([4, 4, 4])), "masked_mean(...)", shape=(3, 2))
    expect_close(got, h.mean(1), "with no padding, the masked mean is the plain mean over time")


@test("masked_mean", points=1)
def integer_lengths_list_like(student):
    """lengths given as a plain numpy int array with one-word sentences"""
    h = rng.normal(size=(3, 6, 2))
    got = as_array(student.call("masked_mean", h, np.array([1, 6, 1])), "masked_mean(...)", shape=(3, 2))
    expect_close(got, np.stack([h[0, 0], h[1].mean(0), h[2, 0]]), "one-word sentences: their single state")


# ----------------------------------------------------------------------------- train_tagger

def _toy(seed, n, vocab, n_tags, max_len):
    r = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        words = r.integers(2, vocab, size=int(r.integers(1, max_len + 1))).tolist()
        out.append((words, [(3 * w + v) % n_tags for w, v in zip(words, [0] + words[:-1])]))
    return out


# The reference training run (Adam on the mean loss over real words) is the public file's, loaded as 04's is.
import importlib.util as _ilu  # noqa: E402

from course_lib.grading import paths as _paths  # noqa: E402

_spec = _ilu.spec_from_file_location("_public_07", _paths.PUBLIC_TESTS / "07_birnn.py")
_public = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_public)


def _reference_tagger(*args):
    losses, params, _start = _public.reference_tagger_training(*args)
    return losses, params


@test("train_tagger", points=1)
def other_sizes_seed_and_rate(student):
    """vocabulary 31, 7 tags, batch 5, embedding 5, hidden 7, seed 4, lr 0.005, three steps"""
    args = (_toy(77, 30, 31, 7, 12), 31, 7, 3, 0.005, 4, 5, 5, 7)
    out = student.call("train_tagger", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return (losses, params)")
    losses, params = _reference_tagger(*args)
    expect_close(out[0], losses, "the three losses (seed 4, batch 5)", rtol=1e-4)
    for name, p in params.items():
        expect(name in out[1], f"missing parameter {name}")
        expect_close(out[1][name], p, f"{name} after three Adam steps (seed 4, lr 0.005)", atol=1e-5, rtol=1e-4)


@test("train_tagger", points=1)
def tagger_on_one_word_sentences(student):
    """sentences of one word each (no context at all), batch 6, two steps"""
    args = (_toy(78, 12, 15, 4, 1), 15, 4, 2, 0.01, 0, 6, 4, 3)
    out = student.call("train_tagger", *args)
    losses, params = _reference_tagger(*args)
    expect_close(out[0], losses, "losses on one-word sentences", rtol=1e-4)
    for name, p in params.items():
        expect_close(out[1][name], p, f"{name} after two steps on one-word sentences", atol=1e-5, rtol=1e-4)
