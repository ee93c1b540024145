"""Public tests for 00_welcome (shipped to students; `check(...)` runs them)."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test


@test("softmax", points=1)
def rows_are_distributions(student):
    """each row of softmax(z) is a probability distribution"""
    z = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 4.0]])
    p = as_array(student.call("softmax", z), "softmax(z) for z of shape (2, 3)", shape=(2, 3))
    expect(np.all(p >= 0), "softmax gave a negative probability: did you exponentiate?")
    expect_close(p.sum(axis=-1), [1.0, 1.0],
                 "each row should sum to 1: normalise over the last axis (axis=-1, keepdims=True)")


@test("softmax", points=1)
def known_values(student):
    """softmax([1, 2, 3]) = [0.0900, 0.2447, 0.6652]"""
    p = student.call("softmax", np.array([1.0, 2.0, 3.0]))
    expect_close(p, [0.09003057, 0.24472847, 0.66524096], "softmax([1, 2, 3]) is wrong", atol=1e-6)


@test("softmax", points=1)
def large_logits_stay_finite(student):
    """logits in the hundreds (a confident model) give finite probabilities"""
    z = np.array([[710.0, 712.0, 709.0], [-3.0, 0.5, 2.0]])
    p = student.call("softmax", z)
    expect_close(p, np.exp(z - z.max(-1, keepdims=True)) / np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True),
                 "softmax([710, 712, 709]) overflowed (e^710 is inf in float64): softmax(z) = softmax(z - c), "
                 "so subtract each row's maximum before exponentiating")


@test("softmax", points=1)
def each_row_has_its_own_maximum(student):
    """two rows 900 apart: each row is shifted by its OWN maximum, not by the largest logit of the whole batch"""
    z = np.array([[900.0, 901.0, 899.0], [0.0, 1.0, -1.0]])
    p = as_array(student.call("softmax", z), "softmax(z) for z of shape (2, 3)", shape=(2, 3))
    expect(np.all(np.isfinite(p)), "nan or inf for two rows 900 apart: unshifted, e^900 overflows; shifted by the "
           "batch's largest logit (901), the row [0, 1, -1] has only e^-900 = 0 and 0/0 is nan. The shift must be "
           "each row's own maximum")
    want = np.exp(z - z.max(-1, keepdims=True))
    expect_close(p, want / want.sum(-1, keepdims=True), "softmax of rows 900 apart: each row on its own")


@test("cross_entropy", points=1)
def uniform_is_log_vocab(student):
    """uniform logits over V tokens give ln(V)"""
    J = student.call("cross_entropy", np.zeros((3, 5)), np.array([0, 2, 4]))
    expect_close(J, np.log(5), "cross_entropy of all-zero logits over 5 tokens should be ln 5 = 1.6094 "
                 "(natural log, averaged over the 3 rows)")


@test("cross_entropy", points=1)
def known_value(student):
    """a small case computed by hand"""
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.2]])
    J = student.call("cross_entropy", logits, np.array([0, 1]))
    expect_close(J, 0.31429097, "cross_entropy([[2, 1, 0.1], [0.5, 2.5, 0.2]], targets [0, 1]) should be 0.3143")


@test("cross_entropy", points=1)
def confident_wrong_prediction(student):
    """a confident wrong prediction costs its margin in nats, finitely"""
    logits = np.array([[0.0, 800.0, -2.0], [3.0, 1.0, 2.0]])
    J = student.call("cross_entropy", logits, np.array([0, 0]))
    row1 = 3.0 - np.log(np.exp(np.array([3.0, 1.0, 2.0])).sum())
    expect_close(J, (800.0 - row1) / 2,
                 "row 0 puts all its mass on token 1 but the target is 0: its loss is 800 nats, not inf. "
                 "Use log softmax(z)_i = z_i - max(z) - log Σ_j e^(z_j - max(z)) instead of log(softmax(z))")
