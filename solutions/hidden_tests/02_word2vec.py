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
    loss, grad_v, _, _ = sgns_loss_and_grads(v, uo, un)
    return loss, grad_v


V_C, U_O, U_NEG = rng.normal(size=D) * 0.5, rng.normal(size=D) * 0.5, rng.normal(size=(K, D)) * 0.5


@test("neg_sampling", points=1)
def loss_value(student):
    """J for a random pair and 6 negatives"""
    out = student.call("neg_sampling", V_C, U_O, U_NEG)
    expect_close(out[0], _ref_ns(V_C, U_O, U_NEG)[0], "J = -log σ(u_oᵀv_c) - Σ_k log σ(-u_kᵀv_c): "
                 "the negatives use σ of the *negated* score, summed over k")


@test("neg_sampling", points=1)
def gradient_matches_the_formula(student):
    """∂J/∂v_c against the reference"""
    out = student.call("neg_sampling", V_C, U_O, U_NEG)
    expect_close(as_array(out[1], "the gradient", shape=(D,)), _ref_ns(V_C, U_O, U_NEG)[1],
                 "∂J/∂v_c should be (σ(u_oᵀv_c) - 1) u_o + Σ_k σ(u_kᵀv_c) u_k")


@test("neg_sampling", points=1)
def gradient_matches_finite_differences_of_your_loss(student):
    """your gradient equals central differences of your own loss"""
    v = rng.normal(size=D) * 0.5
    out = student.call("neg_sampling", v, U_O, U_NEG)
    eps, num = 1e-6, np.zeros(D)
    for i in range(D):
        e = np.zeros(D)
        e[i] = eps
        num[i] = (student.call("neg_sampling", v + e, U_O, U_NEG)[0] -
                  student.call("neg_sampling", v - e, U_O, U_NEG)[0]) / (2 * eps)
    expect_close(as_array(out[1], "the gradient", shape=(D,)), num,
                 "your gradient is not the derivative of your loss (checked by finite differences)", atol=1e-5)


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
