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


@test("cbow_loss", points=1)
def uniform_scores(student):
    """U = 0: every word equally likely, loss ln(vocab)"""
    loss = student.call("cbow_loss", np.ones((4, 3)), np.zeros((6, 3)), 2)
    expect_close(loss, np.log(6), "with U = 0 every score is 0: the loss must be ln 6")


@test("neg_sampling", points=1)
def zero_vectors(student):
    """all vectors zero: J = (K + 1) ln 2"""
    out = student.call("neg_sampling", np.zeros(3), np.zeros(3), np.zeros((4, 3)))
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return a tuple (loss, gradient)")
    expect_close(out[0], 5 * np.log(2), "σ(0) = 1/2, so J = -(1 + 4) log(1/2) = 5 ln 2")
    expect_close(as_array(out[1], "the gradient", shape=(3,)), np.zeros(3), "the gradient is 0 when all u are 0")


@test("cosine_neighbours", points=1)
def small_example(student):
    """a 4-word example by hand"""
    E = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.0]])
    got = student.call("cosine_neighbours", E, 0, 2)
    expect(list(got) == [1, 2], f"row 1 points almost the same way as row 0 (cosine 0.995), row 2 is orthogonal; "
           f"expected [1, 2], got {list(got)}")
