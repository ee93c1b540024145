"""Hidden tests for 00_welcome (instructor only: `course-grade release` leaves them out)."""
import numpy as np

from course_lib.grading.spec import as_array, expect_close, test

rng = np.random.default_rng(1234)
Z3 = rng.normal(size=(2, 3, 4)) * 3
LOGITS = rng.normal(size=(7, 11)) * 2
TARGETS = rng.integers(0, 11, size=7)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _ce(logits, targets):
    s = logits - logits.max(axis=-1, keepdims=True)
    lp = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    return -lp[np.arange(len(targets)), targets].mean()


@test("softmax", points=1)
def large_logits_do_not_overflow(student):
    """softmax of [1000, 1001, 1002] equals softmax of [0, 1, 2]"""
    p = student.call("softmax", np.array([[1000.0, 1001.0, 1002.0]]))
    expect_close(p, _softmax(np.array([[0.0, 1.0, 2.0]])),
                 "softmax overflowed for large logits: subtract each row's maximum before np.exp")


@test("softmax", points=1)
def last_axis_of_3d_input(student):
    """a (2, 3, 4) input is normalised over its last axis"""
    p = as_array(student.call("softmax", Z3), "softmax of a (2, 3, 4) array", shape=(2, 3, 4))
    expect_close(p, _softmax(Z3), "softmax of a 3-D array should normalise over the last axis only")


@test("softmax", points=1)
def shift_invariance(student):
    """softmax(z + c) == softmax(z) for a per-row constant c"""
    z = rng.normal(size=(4, 6))
    p = student.call("softmax", z + np.array([[5.0], [-3.0], [0.0], [50.0]]))
    expect_close(p, _softmax(z), "softmax should not change when a constant is added to a row")


@test("softmax", points=1)
def rows_far_apart(student):
    """a (3, 4) batch whose rows sit at 0, 500 and 1000: every row sums to 1"""
    z = rng.normal(size=(3, 4)) + np.array([[0.0], [500.0], [1000.0]])
    expect_close(student.call("softmax", z), _softmax(z), "rows far apart: shift each row by its own maximum")


@test("cross_entropy", points=1)
def random_batch(student):
    """a random (7, 11) batch against the reference"""
    J = student.call("cross_entropy", LOGITS, TARGETS)
    expect_close(J, _ce(LOGITS, TARGETS), "cross_entropy of a random batch is wrong (mean over rows, natural log?)")


@test("cross_entropy", points=1)
def mean_not_sum(student):
    """repeating the batch does not change the mean loss"""
    J2 = student.call("cross_entropy", np.concatenate([LOGITS, LOGITS]), np.concatenate([TARGETS, TARGETS]))
    expect_close(J2, _ce(LOGITS, TARGETS), "the loss doubled when the batch doubled: average over rows, don't sum")


@test("cross_entropy", points=1)
def confident_and_wrong_is_finite(student):
    """very large logits give a large but finite loss"""
    logits = np.array([[500.0, -500.0], [-500.0, 500.0]])
    J = student.call("cross_entropy", logits, np.array([1, 1]))
    expect_close(J, 500.0, "cross_entropy should be 500 here (one row costs 1000 nats, one 0): compute "
                 "log-softmax as z - max - log(sum(exp(z - max))) instead of log(softmax)")
