"""word2vec: pairs as in the lecture, both losses equal a direct reference computation on fixed
tiny weights, hand gradients equal autograd, noise/subsampling, and the evaluation helpers."""
import math

import numpy as np
import pytest
import torch

from course_lib import word2vec as w2v
from course_lib.text import Vocab

LECTURE = "the quick brown fox jumps over the lazy dog".split()


def test_lecture_pairs():
    pairs = w2v.skipgram_pairs(LECTURE, 2)
    assert pairs[:13] == [("the", "quick"), ("the", "brown"), ("quick", "the"), ("quick", "brown"), ("quick", "fox"),
                          ("brown", "the"), ("brown", "quick"), ("brown", "fox"), ("brown", "jumps"),
                          ("fox", "quick"), ("fox", "brown"), ("fox", "jumps"), ("fox", "over")]
    assert len(pairs) == 2 * 2 + 2 * 3 + 5 * 4      # ends see 2 neighbours, next-to-ends 3, the middle 5 see 4


def test_pair_arrays_match_the_list():
    ids = np.array([4, 5, 6, 7, 8])
    c, o = w2v.pair_arrays(ids, 2)
    assert sorted(zip(c.tolist(), o.tolist())) == sorted(
        (a, b) for a, b in w2v.skipgram_pairs(ids.tolist(), 2))


# fixed tiny weights: vocabulary of 3, dimension 2
V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
U = torch.tensor([[0.5, -0.5], [1.0, 0.0], [0.0, 2.0]])


def _model(cls, **kw):
    m = cls(3, 2, **kw)
    with torch.no_grad():
        m.V.weight.copy_(V)
        m.U.weight.copy_(U)
    return m


def test_full_softmax_skipgram_known_value():
    m = _model(w2v.SkipGramSoftmax)
    _, loss = m(torch.tensor([2]), torch.tensor([1]))
    scores = [0.0, 1.0, 2.0]                        # u_wᵀ v_2 for v_2 = (1, 1)
    expected = -(1.0 - math.log(sum(math.exp(s) for s in scores)))
    assert loss.item() == pytest.approx(expected)   # = 1.4076


def test_negative_sampling_known_value_and_grads():
    m = _model(w2v.SkipGramNegSampling)
    _, loss = m(torch.tensor([0]), torch.tensor([1]), torch.tensor([[2, 0]]))
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = -math.log(sig(1.0)) - math.log(sig(-0.0)) - math.log(sig(-0.5))   # u_1ᵀv_0 = 1, u_2ᵀv_0 = 0, u_0ᵀv_0 = .5
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    lnp, g_v, g_uo, g_uneg = w2v.sgns_loss_and_grads(V[0].double().numpy(), U[1].double().numpy(),
                                                      U[[2, 0]].double().numpy())
    assert lnp == pytest.approx(expected)
    assert np.allclose(m.V.weight.grad[0].numpy(), g_v, atol=1e-6)
    # u_0 appears as a negative: its gradient is σ(u_0ᵀv_0) v_0
    assert np.allclose(m.U.weight.grad[1].numpy(), g_uo, atol=1e-6)
    assert np.allclose(m.U.weight.grad[0].numpy(), g_uneg[1], atol=1e-6)


def test_sgns_hand_gradients_equal_finite_differences():
    rng = np.random.default_rng(0)
    v, uo, un = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(3, 4))
    _, g, _, _ = w2v.sgns_loss_and_grads(v, uo, un)
    eps = 1e-6
    num = [(w2v.sgns_loss_and_grads(v + eps * e, uo, un)[0] - w2v.sgns_loss_and_grads(v - eps * e, uo, un)[0]) / (2 * eps)
           for e in np.eye(4)]
    assert np.allclose(g, num, rtol=1e-6, atol=1e-8)


def test_cbow_is_the_average_and_ignores_padding():
    m = _model(w2v.CBOW, pad_id=0)
    vbar, loss = m(torch.tensor([[1, 2, 0]]), torch.tensor([1]))
    assert torch.allclose(vbar, torch.tensor([[0.5, 1.0]]))            # mean of v_1 and v_2, pad ignored
    scores = [0.5 * 0.5 - 0.5, 0.5, 2.0]
    expected = -(scores[1] - math.log(sum(math.exp(s) for s in scores)))
    assert loss.item() == pytest.approx(expected)
    _, ns = m(torch.tensor([[1, 2, 0]]), torch.tensor([1]), torch.tensor([[2]]))
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert ns.item() == pytest.approx(-math.log(sig(0.5)) - math.log(sig(-2.0)))


def test_noise_and_subsampling():
    p = w2v.noise_distribution(np.array([1.0, 16.0, 0.0]))
    assert p.sum() == pytest.approx(1) and p[1] / p[0] == pytest.approx(16 ** 0.75) and p[2] == 0
    keep = w2v.keep_probabilities(np.array([1.0, 1e6]), t=1e-4)
    assert keep[0] == 1.0 and keep[1] < 0.02
    ids = np.array([1] * 1000 + [0] * 10)
    out = w2v.subsample(ids, np.array([10.0, 1000.0]), 0.02, np.random.default_rng(0))   # keep ~14% of id 1
    assert (out == 0).sum() == 10 and (out == 1).sum() < 300
    with pytest.raises(ValueError):
        w2v.noise_distribution(np.zeros(3))


def test_evaluation_helpers_on_planted_embeddings():
    words = ["man", "woman", "king", "queen", "apple"]
    vocab = Vocab(words)
    E = np.zeros((len(vocab), 3))
    for w, vec in zip(words, ([1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [0, 0, -1])):
        E[vocab.stoi[w]] = vec
    acc, covered, total = w2v.analogy_accuracy(E, vocab, [("x", "man", "woman", "king", "queen"),
                                                          ("x", "man", "woman", "king", "zebra")])
    assert (acc, covered, total) == (1.0, 1, 2)
    assert [w for w, _ in w2v.neighbours(E, vocab, "king", 2)][0] in ("queen", "man")
    rho, n, _ = w2v.similarity_correlation(E, vocab, [("man", "woman", 8.0), ("king", "queen", 9.0),
                                                      ("man", "apple", 1.0), ("zebra", "man", 3.0)])
    assert n == 3 and rho == pytest.approx(w2v.spearman(
        [np.dot(w2v.normalise(E)[vocab.stoi[a]], w2v.normalise(E)[vocab.stoi[b]]) for a, b in
         (("man", "woman"), ("king", "queen"), ("man", "apple"))], [8, 9, 1]))
    assert w2v.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert w2v.pca_2d(np.random.default_rng(0).normal(size=(10, 5))).shape == (10, 2)


def test_training_reduces_the_loss_and_is_seeded():
    rng = np.random.default_rng(0)
    ids = np.concatenate([[4, 5, 6, 7] * 200, rng.integers(4, 12, 400)])
    counts = np.bincount(ids, minlength=12).astype(float)
    m1, h1 = w2v.train_sgns(ids, 12, counts, dim=8, window=2, batch_size=256, lr=0.02, epochs=3,
                            subsample_t=None, progress=False)
    m2, h2 = w2v.train_sgns(ids, 12, counts, dim=8, window=2, batch_size=256, lr=0.02, epochs=3,
                            subsample_t=None, progress=False)
    assert h1.loss == h2.loss and np.mean(h1.loss[-3:]) < h1.loss[0]
    _, hc = w2v.train_sgns(ids, 12, counts, dim=8, window=2, batch_size=256, lr=0.02, epochs=3,
                           subsample_t=None, progress=False, cbow=True)
    assert np.mean(hc.loss[-3:]) < hc.loss[0]


def test_bad_input():
    with pytest.raises(TypeError, match="not a string"):
        w2v.skipgram_pairs("the cat", 2)
    with pytest.raises(ValueError, match="window"):
        w2v.skipgram_pairs(["a"], 0)
    with pytest.raises(ValueError, match="1-D"):
        w2v.pair_arrays(np.zeros((2, 2)), 1)
    with pytest.raises(KeyError, match="not in the vocabulary"):
        w2v.neighbours(np.zeros((5, 2)), Vocab(["a"]), "zebra")
