"""Public tests for 02_word2vec."""
import numpy as np

from course_lib.grading.spec import Fail, as_array, expect, expect_close, test

LECTURE = "the quick brown fox jumps over the lazy dog".split()


def _pairs(value):
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        raise Fail("skipgram_pairs should return a list of (centre, context) tuples")
    return [tuple(p) for p in value]


@test("skipgram_pairs", points=1)
def lecture_example(student):
    """the lecture's first pairs, window 2"""
    got = _pairs(student.call("skipgram_pairs", LECTURE, 2))
    expect(got[:9] == [("the", "quick"), ("the", "brown"), ("quick", "the"), ("quick", "brown"), ("quick", "fox"),
                       ("brown", "the"), ("brown", "quick"), ("brown", "fox"), ("brown", "jumps")],
           f"the first pairs for the lecture's sentence should be (the, quick), (the, brown), (quick, the), ...; "
           f"got {got[:5]}")


@test("skipgram_pairs", points=1)
def repeated_word_inside_the_window(student):
    """a word that occurs twice within the window is paired with its other occurrence"""
    toks = ["to", "be", "or", "not", "to", "be"]
    got = _pairs(student.call("skipgram_pairs", toks, 4))
    expect(got[:4] == [("to", "be"), ("to", "or"), ("to", "not"), ("to", "to")],
           f"with window 4 the first 'to' pairs with be, or, not and the second 'to' (positions differ, so it is "
           f"a real pair: compare positions j != i, not words); got {got[:4]}")
    expect(len(got) == 28, f"6 words, window 4, clipped at both ends: 28 pairs, got {len(got)}")




@test("cbow_loss", points=1)
def uniform_scores(student):
    """U = 0: every word equally likely, loss ln(vocab)"""
    loss = student.call("cbow_loss", np.ones((4, 3)), np.zeros((6, 3)), 2)
    expect_close(loss, np.log(6), "with U = 0 every score is 0: the loss must be ln 6")


@test("cbow_loss", points=1)
def three_context_words(student):
    """3 context vectors, 6 words: v̄ is their average"""
    V_ctx = np.array([[-0.8, -1.32, -0.25, 0.42], [1.14, 0.11, -0.55, -0.78], [0.75, 1.63, 0.27, -1.23]])
    U = np.array([[-0.96, 1.6, 0.2, -1.73], [-0.08, -1.16, -0.63, -0.49], [-0.71, 0.55, -0.06, -0.59],
                  [0.41, 0.83, -1.64, -0.26], [-0.98, -0.17, -1.29, 0.02], [-0.04, -0.3, -1.05, -0.4]])
    expect_close(student.call("cbow_loss", V_ctx, U, 4), 2.330060860110817,
                 "CBOW loss for 3 context words should be 2.3301: v̄ is the MEAN of all C context vectors "
                 "(not their sum, not one of them), then -log softmax(U v̄)[centre]")


@test("cbow_loss", points=1)
def large_scores_stay_finite(student):
    """scores of about 800 (e^800 overflows) give a finite loss"""
    V_ctx, U = np.array([[80.0, -10.0], [84.0, -14.0]]), np.array([[10.0, 1.0], [-10.0, 0.0], [9.0, 2.0]])
    expect_close(student.call("cbow_loss", V_ctx, U, 2), 94.0,
                 "the scores are [808, -820, 714], so the loss is 808 - 714 = 94 nats; e^808 is inf in float64: "
                 "subtract the largest score before exponentiating (log-sum-exp)")


# ----------------------------------------------------------------------------- gradients, against autograd
def _autograd(loss_fn, *arrays):
    """The loss and its gradient with respect to every array, by PyTorch's autograd (float64)."""
    import torch
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    loss = loss_fn(*ts)
    loss.backward()
    return float(loss.detach()), [t.grad.numpy() for t in ts]


def _softmax_loss(v_c, U, o):
    import torch
    return -torch.log_softmax(U @ v_c, dim=0)[o]


def _ns_loss(v_c, u_o, u_neg):
    import torch
    return -torch.nn.functional.logsigmoid(u_o @ v_c) - torch.nn.functional.logsigmoid(-(u_neg @ v_c)).sum()


def _triple(out, n, what):
    if not isinstance(out, (tuple, list)) or len(out) != n:
        raise Fail(f"{what} should return a tuple of {n} values")
    return out




def _softmax_case(i):
    rng, D, V = np.random.default_rng(11 + i), (4, 3)[i], (7, 5)[i]
    return rng.normal(size=D), rng.normal(size=(V, D)), (2, 4)[i]


@test("naive_softmax", points=1)
def loss_is_minus_log_softmax(student):
    """J = -log softmax(U v_c)[o] for two random cases"""
    for i in range(2):
        v_c, U, o = _softmax_case(i)
        out = _triple(student.call("naive_softmax", v_c, o, U), 3, "naive_softmax")
        loss, _ = _autograd(lambda v, u: _softmax_loss(v, u, o), v_c, U)
        expect_close(out[0], loss, f"J = -log softmax(U v_c)[o] is wrong (case {i + 1}: D = {len(v_c)}, "
                     f"V = {len(U)}, o = {o})")


@test("naive_softmax", points=1)
def softmax_gradient_wrt_the_centre_vector(student):
    """∂J/∂v_c equals autograd's, two random cases"""
    for i in range(2):
        v_c, U, o = _softmax_case(i)
        out = _triple(student.call("naive_softmax", v_c, o, U), 3, "naive_softmax")
        _, (g_v, _) = _autograd(lambda v, u: _softmax_loss(v, u, o), v_c, U)
        expect_close(as_array(out[1], "∂J/∂v_c", shape=v_c.shape), g_v,
                     "∂J/∂v_c differs from autograd's: v_c reaches J through every score u_wᵀv_c (the softmax's "
                     "normaliser), not only through u_oᵀv_c; mind the sign of -log")


@test("naive_softmax", points=1)
def gradient_wrt_the_outside_vectors(student):
    """∂J/∂U equals autograd's (every row, not only row o)"""
    for i in range(2):
        v_c, U, o = _softmax_case(i)
        out = _triple(student.call("naive_softmax", v_c, o, U), 3, "naive_softmax")
        _, (_, g_U) = _autograd(lambda v, u: _softmax_loss(v, u, o), v_c, U)
        expect_close(as_array(out[2], "∂J/∂U", shape=U.shape), g_U,
                     "∂J/∂U differs from autograd's: it has the shape of U (one row per word w), and every row "
                     "is non-zero because every u_w is in the normaliser; row o differs from the others")


def _ns_case(i):
    rng, D, K = np.random.default_rng(21 + i), (4, 3)[i], (3, 5)[i]
    return rng.normal(size=D) * 0.7, rng.normal(size=D) * 0.7, rng.normal(size=(K, D)) * 0.7


@test("neg_sampling", points=1)
def loss_with_k_negatives(student):
    """J = -log σ(u_oᵀv_c) - Σ_k log σ(-u_kᵀv_c), two random cases"""
    for i in range(2):
        v_c, u_o, u_neg = _ns_case(i)
        out = _triple(student.call("neg_sampling", v_c, u_o, u_neg), 4, "neg_sampling")
        loss, _ = _autograd(_ns_loss, v_c, u_o, u_neg)
        expect_close(out[0], loss, f"J is wrong (case {i + 1}, K = {len(u_neg)}): the true pair uses σ(u_oᵀv_c), "
                     "each noise word σ(-u_kᵀv_c) (the NEGATED score), and the K noise terms are summed")


@test("neg_sampling", points=1)
def negative_sampling_gradient_wrt_the_centre_vector(student):
    """∂J/∂v_c equals autograd's, two random cases"""
    for i in range(2):
        v_c, u_o, u_neg = _ns_case(i)
        out = _triple(student.call("neg_sampling", v_c, u_o, u_neg), 4, "neg_sampling")
        _, (g_v, _, _) = _autograd(_ns_loss, v_c, u_o, u_neg)
        expect_close(as_array(out[1], "∂J/∂v_c", shape=v_c.shape), g_v,
                     "∂J/∂v_c differs from autograd's: v_c appears in the true pair's term AND in each of the "
                     "K noise terms; check the sign of each (d/dx log σ(x) = 1 - σ(x))")


@test("neg_sampling", points=1)
def gradients_wrt_the_outside_vectors(student):
    """∂J/∂u_o and ∂J/∂u_k equal autograd's"""
    for i in range(2):
        v_c, u_o, u_neg = _ns_case(i)
        out = _triple(student.call("neg_sampling", v_c, u_o, u_neg), 4, "neg_sampling")
        _, (_, g_o, g_neg) = _autograd(_ns_loss, v_c, u_o, u_neg)
        expect_close(as_array(out[2], "∂J/∂u_o", shape=u_o.shape), g_o,
                     "∂J/∂u_o differs from autograd's: u_o appears only in -log σ(u_oᵀv_c), so it points along v_c")
        expect_close(as_array(out[3], "∂J/∂u_neg", shape=u_neg.shape), g_neg,
                     "∂J/∂u_neg differs from autograd's: it has the shape of u_neg (K, D), row k from the k-th "
                     "noise term alone")


@test("cosine_neighbours", points=1)
def small_example(student):
    """a 4-word example by hand"""
    E = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.0]])
    got = student.call("cosine_neighbours", E, 0, 2)
    expect(list(got) == [1, 2], f"row 1 points almost the same way as row 0 (cosine 0.995), row 2 is orthogonal; "
           f"expected [1, 2], got {list(got)}")


@test("cosine_neighbours", points=1)
def length_does_not_count(student):
    """a long vector at a wide angle is not a near neighbour"""
    E = np.array([[1.0, 0.0], [0.9, 0.3], [30.0, 40.0], [0.7, -0.7]])
    got = list(student.call("cosine_neighbours", E, 0, 3))
    expect(got == [1, 3, 2], "cosines with row 0: row 1 0.949, row 3 0.707, row 2 0.6 (it is long, 50, but at 53°), "
           f"so [1, 3, 2]; the plain dot product would rank the long row first. Got {got}")
