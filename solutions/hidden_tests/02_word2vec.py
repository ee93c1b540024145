"""Hidden tests for 02_word2vec."""
import numpy as np

from course_lib.grading.spec import Fail, as_array, expect, expect_close, test
from course_lib.word2vec import sgns_loss_and_grads
from course_lib.word2vec import skipgram_pairs as _ref_pairs   # the references run in the grader only

rng = np.random.default_rng(22)
D, K, VOCAB = 5, 6, 9


def _pairs(value):
    if not isinstance(value, (list, tuple)):
        raise Fail("skipgram_pairs should return a list of (centre, context) tuples")
    return [tuple(p) for p in value]


@test("skipgram_pairs", points=1)
def whole_lecture_sentence(student):
    """all pairs of the lecture's sentence, window 2"""
    toks = "the quick brown fox jumps over the lazy dog".split()
    expect(_pairs(student.call("skipgram_pairs", toks, 2)) == _ref_pairs(toks, 2),
           "the pairs of the whole sentence differ: the window reaches `window` words on each side, "
           "clipped at the sentence's ends")


@test("skipgram_pairs", points=1)
def repeated_words_are_not_skipped(student):
    """a word paired with an equal word at another position is a real pair"""
    toks = ["a", "a", "b"]
    expect(_pairs(student.call("skipgram_pairs", toks, 1)) == [("a", "a"), ("a", "a"), ("a", "b"), ("b", "a")],
           "compare positions, not words: ['a', 'a', 'b'] with window 1 gives (a, a), (a, a), (a, b), (b, a)")


@test("skipgram_pairs", points=1)
def window_three_and_short_input(student):
    """window 3; a one-word input has no pairs"""
    toks = list("abcdefg")
    expect(_pairs(student.call("skipgram_pairs", toks, 3)) == _ref_pairs(toks, 3), "window 3 is wrong")
    expect(_pairs(student.call("skipgram_pairs", ["x"], 2)) == [], "a single word has no context: no pairs")


def _ref_cbow(V_ctx, U, c):
    s = U @ V_ctx.mean(0)
    m = s.max()
    return m + np.log(np.exp(s - m).sum()) - s[c]


@test("cbow_loss", points=1)
def random_case(student):
    """random vectors, 4 context words"""
    V_ctx, U = rng.normal(size=(4, D)), rng.normal(size=(VOCAB, D))
    expect_close(student.call("cbow_loss", V_ctx, U, 3), _ref_cbow(V_ctx, U, 3),
                 "CBOW loss is wrong: average the context vectors (not sum), then -log softmax(U v̄)[centre]")


@test("cbow_loss", points=1)
def mean_not_sum(student):
    """duplicating the context does not change v̄"""
    V_ctx, U = rng.normal(size=(2, D)), rng.normal(size=(VOCAB, D))
    expect_close(student.call("cbow_loss", np.concatenate([V_ctx, V_ctx]), U, 1), _ref_cbow(V_ctx, U, 1),
                 "v̄ is the mean of the context vectors: repeating the context must not change it")


@test("cbow_loss", points=1)
def large_scores_are_stable(student):
    """scores of size ~1000 stay finite"""
    V_ctx, U = np.full((2, 2), 30.0), np.array([[20.0, 20.0], [-20.0, -20.0], [19.0, 19.0]])
    expect_close(student.call("cbow_loss", V_ctx, U, 2), _ref_cbow(V_ctx, U, 2),
                 "the loss overflowed: subtract the largest score before exponentiating")


def _ref_ns(v, uo, un):
    return sgns_loss_and_grads(v, uo, un)   # (J, ∂J/∂v_c, ∂J/∂u_o, ∂J/∂u_neg)


def _four(out):
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        raise Fail("neg_sampling should return (J, dJ_dv_c, dJ_du_o, dJ_du_neg)")
    return out


V_C, U_O, U_NEG = rng.normal(size=D) * 0.5, rng.normal(size=D) * 0.5, rng.normal(size=(K, D)) * 0.5


@test("neg_sampling", points=1)
def loss_value(student):
    """J for a random pair and 6 negatives; all-zero vectors give (K + 1) ln 2"""
    out = _four(student.call("neg_sampling", V_C, U_O, U_NEG))
    expect_close(out[0], _ref_ns(V_C, U_O, U_NEG)[0], "J = -log σ(u_oᵀv_c) - Σ_k log σ(-u_kᵀv_c): "
                 "the negatives use σ of the *negated* score, summed over k")
    out = _four(student.call("neg_sampling", np.zeros(3), np.zeros(3), np.zeros((4, 3))))
    expect_close(out[0], 5 * np.log(2), "σ(0) = 1/2, so with all vectors 0, J = 5 ln 2 for K = 4")


@test("neg_sampling", points=1)
def every_gradient_matches_the_reference(student):
    """∂J/∂v_c, ∂J/∂u_o, ∂J/∂u_neg against the reference, K = 1 and K = 6"""
    for K_ in (1, K):
        v, uo, un = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(K_, D))
        out, ref = _four(student.call("neg_sampling", v, uo, un)), _ref_ns(v, uo, un)
        for got, want, what in zip(out[1:], ref[1:], ("∂J/∂v_c", "∂J/∂u_o", "∂J/∂u_neg")):
            expect_close(as_array(got, what, shape=np.shape(want)), want, f"{what} is wrong for K = {K_}")


@test("neg_sampling", points=1)
def gradient_matches_finite_differences_of_your_loss(student):
    """your ∂J/∂v_c and ∂J/∂u_o equal central differences of your own loss"""
    v = rng.normal(size=D) * 0.5
    out = _four(student.call("neg_sampling", v, U_O, U_NEG))
    eps = 1e-6
    for which, x in ((1, v), (2, U_O)):
        num = np.zeros(D)
        for i in range(D):
            e = np.zeros(D)
            e[i] = eps
            args_p = [v, U_O, U_NEG]
            args_m = [v, U_O, U_NEG]
            args_p[which - 1], args_m[which - 1] = x + e, x - e
            num[i] = (student.call("neg_sampling", *args_p)[0] - student.call("neg_sampling", *args_m)[0]) / (2 * eps)
        what = ("∂J/∂v_c", "∂J/∂u_o")[which - 1]
        expect_close(as_array(out[which], what, shape=(D,)), num,
                     f"your {what} is not the derivative of your loss (checked by finite differences)", atol=1e-5)


def _ref_softmax(v, o, U):
    s = U @ v
    m = s.max()
    lz = m + np.log(np.exp(s - m).sum())
    d = np.exp(s - lz)
    d[o] -= 1
    return lz - s[o], U.T @ d, np.outer(d, v)


def _three(out):
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Fail("naive_softmax should return (J, dJ_dv_c, dJ_dU)")
    return out


@test("naive_softmax", points=1)
def several_sizes(student):
    """vocab 2, 10 and 40; every output against the reference"""
    for V_, D_ in ((2, 1), (10, 6), (40, 3)):
        v, U, o = rng.normal(size=D_), rng.normal(size=(V_, D_)), int(rng.integers(V_))
        out, ref = _three(student.call("naive_softmax", v, o, U)), _ref_softmax(v, o, U)
        expect_close(out[0], ref[0], f"J is wrong for vocab {V_}")
        expect_close(as_array(out[1], "∂J/∂v_c", shape=(D_,)), ref[1], f"∂J/∂v_c is wrong for vocab {V_}")
        expect_close(as_array(out[2], "∂J/∂U", shape=(V_, D_)), ref[2], f"∂J/∂U is wrong for vocab {V_}")


@test("naive_softmax", points=1)
def large_scores_stay_finite(student):
    """scores near 1000: loss and gradients finite"""
    v, U = np.array([30.0, 10.0]), np.array([[30.0, 10.0], [29.0, 12.0], [-30.0, 0.0]])
    out, ref = _three(student.call("naive_softmax", v, 1, U)), _ref_softmax(v, 1, U)
    expect_close(out[0], ref[0], "the loss overflowed for scores near 1000: use the log-sum-exp with the max shift")
    expect_close(as_array(out[2], "∂J/∂U", shape=(3, 2)), ref[2], "∂J/∂U overflowed for scores near 1000")


@test("naive_softmax", points=1)
def gradients_are_the_derivatives_of_your_loss(student):
    """central differences of your own J, with respect to v_c and to one row of U"""
    v, U, o = rng.normal(size=4), rng.normal(size=(7, 4)), 5
    out = _three(student.call("naive_softmax", v, o, U))
    eps, num_v, num_u = 1e-6, np.zeros(4), np.zeros(4)
    for i in range(4):
        e = np.zeros(4)
        e[i] = eps
        num_v[i] = (student.call("naive_softmax", v + e, o, U)[0] - student.call("naive_softmax", v - e, o, U)[0]) / (2 * eps)
        Up, Um = U.copy(), U.copy()
        Up[2, i] += eps
        Um[2, i] -= eps
        num_u[i] = (student.call("naive_softmax", v, o, Up)[0] - student.call("naive_softmax", v, o, Um)[0]) / (2 * eps)
    expect_close(as_array(out[1], "∂J/∂v_c", shape=(4,)), num_v, "your ∂J/∂v_c is not the derivative of your J",
                 atol=1e-5)
    expect_close(as_array(out[2], "∂J/∂U", shape=(7, 4))[2], num_u,
                 "row 2 of your ∂J/∂U is not the derivative of your J (a word other than o still has a gradient)",
                 atol=1e-5)


@test("cosine_neighbours", points=1)
def cosine_not_dot_product(student):
    """a long vector is not closer just because it is long"""
    E = np.array([[1.0, 0.0], [0.6, 0.8], [100.0, 100.0], [0.99, 0.1]])
    got = list(student.call("cosine_neighbours", E, 0, 3))
    expect(got == [3, 2, 1], f"by cosine, row 0's neighbours are [3, 2, 1] (row 2 is long but at 45°); got {got}")


@test("cosine_neighbours", points=1)
def random_embeddings(student):
    """a random 30 x 8 matrix"""
    E = rng.normal(size=(30, 8))
    En = E / np.linalg.norm(E, axis=1, keepdims=True)
    sims = En @ En[7]
    sims[7] = -np.inf
    got = list(student.call("cosine_neighbours", E, 7, 5))
    expect(got == list(np.argsort(-sims)[:5]), "the 5 nearest rows to row 7 are wrong: best first, row 7 excluded")


@test("cosine_neighbours", points=1)
def itself_excluded(student):
    """the query row is never its own neighbour"""
    E = rng.normal(size=(6, 3))
    got = list(student.call("cosine_neighbours", E, 2, 5))
    expect(2 not in got and len(got) == 5, f"row 2 must not be among its own neighbours; got {got}")
