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
