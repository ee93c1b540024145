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


# fixed tiny weights: vocabulary of 3, dimension 2
V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
U = torch.tensor([[0.5, -0.5], [1.0, 0.0], [0.0, 2.0]])


def _model(cls, V=V, U=U, **kw):
    """A model of class ``cls`` whose tables are copies of V and U (in their dtype)."""
    m = cls(*V.shape, **kw).to(V.dtype)
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
    keep = w2v.keep_probabilities(np.array([1.0, 1e6 - 1]), t=1e-4)
    assert keep[0] == 1.0 and keep[1] == pytest.approx(math.sqrt(1e-4) + 1e-4)     # word2vec's code: sqrt(t/f) + t/f
    ids = np.array([1] * 1000 + [0] * 10)
    out = w2v.subsample(ids, np.array([10.0, 1000.0]), 0.02, np.random.default_rng(0))   # keep ~16% of id 1
    assert (out == 0).sum() == 10 and 100 < (out == 1).sum() < 250
    with pytest.raises(ValueError):
        w2v.noise_distribution(np.zeros(3))


def test_context_windows_respect_sentences_and_draw_dynamic_sizes():
    sentence_of = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    positions, valid = w2v.context_windows(sentence_of, 2)
    assert positions.shape == valid.shape == (10, 4)
    assert valid[2].tolist() == [True, True, False, False]          # position 2 ends sentence 0
    assert valid[3].tolist() == [False, False, True, True]          # position 3 starts sentence 1
    assert all(sentence_of[positions[i][valid[i]]].tolist() == [sentence_of[i]] * valid[i].sum() for i in range(10))
    # the dynamic window: every centre keeps offsets |j| <= b with b uniform on 1..window
    n, window = 20000, 5
    positions, valid = w2v.context_windows(np.zeros(n, int), window, np.random.default_rng(0))
    inner = valid[window:-window]
    b = inner[:, window:].sum(1)                                    # right-hand offsets kept = b
    assert (inner[:, :window].sum(1) == b).all() and (inner[:, :window][:, ::-1] == inner[:, window:]).all()
    assert set(np.unique(b)) == set(range(1, window + 1)) and abs(b.mean() - 3) < 0.05
    # pair_arrays with a fixed window is exactly the lecture's list, in its order
    c, o = w2v.pair_arrays(np.arange(4, 13), 2)
    assert list(zip(c.tolist(), o.tolist())) == w2v.skipgram_pairs(list(range(4, 13)), 2)
    ctx, centres = w2v.cbow_examples(np.array([4, 5, 6]), 1, pad_id=0, sentence_of=np.array([0, 0, 1]))
    assert ctx.tolist() == [[0, 5], [4, 0]] and centres.tolist() == [4, 5]   # 6 is alone in its sentence


def _tables(vocab=7, dim=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(vocab, dim, generator=g, dtype=torch.float64), torch.randn(vocab, dim, generator=g,
                                                                                   dtype=torch.float64)


def test_sgns_update_is_an_sgd_step_on_the_models_loss():
    """The hand-written update equals SGD through autograd on SkipGramNegSampling's loss (summed over
    pairs), with each centre's shared noise words given to every one of its pairs."""
    V0, U0 = _tables()
    centres = torch.tensor([1, 3, 1])                 # a repeated centre and repeated words everywhere
    m = torch.tensor([2, 1, 3])
    contexts = torch.tensor([2, 4, 1, 5, 2, 1])
    negatives = torch.tensor([[6, 2], [1, 1], [0, 3]])
    V, U = V0.clone(), U0.clone()
    loss = w2v.sgns_update(V, U, centres, m, contexts, negatives, lr=0.1)

    model = _model(w2v.SkipGramNegSampling, V0, U0)
    owner = torch.repeat_interleave(torch.arange(3), m)
    _, mean_loss = model(centres[owner], contexts, negatives[owner])
    assert loss == pytest.approx(mean_loss.item(), rel=1e-12)
    (mean_loss * len(contexts)).backward()           # the summed loss: lr is a per-pair step
    assert torch.allclose(V, V0 - 0.1 * model.V.weight.grad, atol=1e-12)
    assert torch.allclose(U, U0 - 0.1 * model.U.weight.grad, atol=1e-12)


def test_cbow_update_is_an_sgd_step_on_the_models_loss():
    V0, U0 = _tables()
    contexts = torch.tensor([[0, 2, 3, 0], [4, 4, 5, 6], [1, 0, 0, 0]])   # 0 = padding
    centres = torch.tensor([3, 2, 3])
    negatives = torch.tensor([[5, 1], [3, 3], [2, 6]])
    V, U = V0.clone(), U0.clone()
    loss = w2v.cbow_update(V, U, contexts, centres, negatives, lr=0.1, pad_id=0)
    model = _model(w2v.CBOW, V0, U0, pad_id=0)
    _, mean_loss = model(contexts, centres, negatives)
    assert loss == pytest.approx(mean_loss.item(), rel=1e-12)
    (mean_loss * 3).backward()
    assert torch.allclose(V, V0 - 0.1 * model.V.weight.grad, atol=1e-12)
    assert torch.allclose(U, U0 - 0.1 * model.U.weight.grad, atol=1e-12)
    assert torch.equal(V[0], V0[0])                  # the padding row is never touched


def test_training_reduces_the_loss_is_seeded_and_stops_on_divergence():
    rng = np.random.default_rng(0)
    sentences = [[4, 5, 6, 7]] * 200 + [rng.integers(4, 12, 8).tolist() for _ in range(50)]
    counts = np.bincount(np.concatenate(sentences), minlength=12).astype(float)
    kw = dict(dim=8, window=2, batch_size=64, epochs=3, subsample_t=None, progress=False)
    m1, h1 = w2v.train_sgns(sentences, 12, counts, **kw)
    m2, h2 = w2v.train_sgns(sentences, 12, counts, **kw)
    assert h1.loss == h2.loss and torch.equal(m1.V.weight, m2.V.weight)
    assert np.mean(h1.loss[-3:]) < 0.8 * h1.loss[0] and h1.stopped_by == "3 epochs"
    ids, sentence_of = w2v.sentences_to_stream(sentences)
    fewest, most = (len(w2v.pair_arrays(ids, w, sentence_of)[0]) for w in (1, 2))
    assert 3 * fewest < h1.pairs < 3 * most                     # dynamic windows: between window 1 and 2
    _, hc = w2v.train_sgns(sentences, 12, counts, **kw, cbow=True)
    assert np.mean(hc.loss[-3:]) < 0.8 * hc.loss[0]
    _, hbad = w2v.train_sgns(sentences, 12, counts, dim=8, window=2, batch_size=4096, epochs=20, lr=1e4,
                             subsample_t=None, progress=False)
    assert "loss became" in hbad.stopped_by


def test_bad_input():
    with pytest.raises(TypeError, match="not a string"):
        w2v.skipgram_pairs("the cat", 2)
    with pytest.raises(ValueError, match="window"):
        w2v.skipgram_pairs(["a"], 0)
    with pytest.raises(ValueError, match="1-D"):
        w2v.pair_arrays(np.zeros((2, 2)), 1)
    with pytest.raises(KeyError, match="not in the vocabulary"):
        w2v.neighbours(np.zeros((5, 2)), Vocab(["a"]), "zebra")
    V, U = _tables()
    with pytest.raises(ValueError, match="contexts"):
        w2v.sgns_update(V, U, torch.tensor([1]), torch.tensor([2]), torch.tensor([3]), torch.tensor([[4]]), 0.1)
    with pytest.raises(ValueError, match="same shape"):
        w2v.sgns_update(V, U[:3], torch.tensor([1]), torch.tensor([1]), torch.tensor([3]), torch.tensor([[4]]), 0.1)
    with pytest.raises(ValueError, match="lr"):
        w2v.cbow_update(V, U, torch.tensor([[1, 2]]), torch.tensor([3]), torch.tensor([[4]]), 0.0)
    with pytest.raises(TypeError, match="sentences"):
        w2v.train_sgns("to be or not", 5, np.ones(5), progress=False)
    with pytest.raises(ValueError, match="counts"):
        w2v.train_sgns([[4, 5, 6]], 7, np.ones(5), progress=False)
    with pytest.raises(ValueError, match="ids must lie"):
        w2v.train_sgns([[4, 5, 9]], 7, np.ones(7), progress=False)
    with pytest.raises(ValueError, match="sentence"):
        w2v.context_windows(np.zeros((2, 2)), 2)
