"""Hidden tests for 10_positional_encoding: more sizes (d = 2, long n), odd d rejected, float exactness at large
positions, T = 1 and T = max_len, d_k ≠ d, batches of one, and the relative-position rotation."""
import numpy as np

from course_lib.grading.spec import StudentError, as_array, expect, expect_close, test

rng = np.random.default_rng(1010)


def _ref(n, d):
    div = np.exp(np.arange(0, d, 2) * (-np.log(10000.0) / d))      # an independent construction
    P = np.zeros((n, d))
    P[:, 0::2], P[:, 1::2] = np.sin(np.arange(n)[:, None] * div), np.cos(np.arange(n)[:, None] * div)
    return P


@test("sinusoidal_encoding", points=1)
def many_sizes(student):
    """(n, d) in (1, 2), (3, 2), (200, 64), (33, 10) against an independent construction"""
    for n, d in ((1, 2), (3, 2), (200, 64), (33, 10)):
        expect_close(as_array(student.call("sinusoidal_encoding", n, d), f"sinusoidal_encoding({n}, {d})",
                              shape=(n, d)), _ref(n, d), f"wrong for n={n}, d={d}", atol=1e-9)


@test("sinusoidal_encoding", points=1)
def rotation_property_holds(student):
    """P[i+k] is the per-pair rotation by k·ω_j of P[i] (k = 3, d = 12)"""
    P = as_array(student.call("sinusoidal_encoding", 40, 12), "sinusoidal_encoding(40, 12)", shape=(40, 12))
    w = 1 / 10000 ** (np.arange(0, 12, 2) / 12)
    c, s = np.cos(3 * w), np.sin(3 * w)
    sin_next = P[:-3, 0::2] * c + P[:-3, 1::2] * s
    cos_next = P[:-3, 1::2] * c - P[:-3, 0::2] * s
    expect_close(P[3:, 0::2], sin_next, "the sine columns do not rotate as sin(a + b)", atol=1e-9)
    expect_close(P[3:, 1::2], cos_next, "the cosine columns do not rotate as cos(a + b)", atol=1e-9)


@test("sinusoidal_encoding", points=1)
def odd_d_is_rejected(student):
    """d = 5 raises a ValueError"""
    try:
        student.call("sinusoidal_encoding", 4, 5)
    except StudentError as e:
        expect("ValueError" in str(e), f"an odd d must raise ValueError, got: {e}")
        return
    expect(False, "an odd d must raise ValueError (a sine without its cosine)")


@test("add_positions", points=1)
def several_shapes(student):
    """(B, T, d, max_len) in (1, 1, 2, 1), (5, 7, 3, 7), (2, 4, 16, 100)"""
    for B, T, d, L in ((1, 1, 2, 1), (5, 7, 3, 7), (2, 4, 16, 100)):
        X, P = rng.normal(size=(B, T, d)) / np.sqrt(d), rng.normal(size=(L, d))    # embeddings of size ~1/√d
        expect_close(student.call("add_positions", X, P), X * np.sqrt(d) + P[:T], f"wrong for B={B}, T={T}, d={d}")


@test("causal_mask", points=1)
def sizes_2_to_9(student):
    """T = 2 .. 9, exactly the lower triangle with its diagonal"""
    for T in range(2, 10):
        expect(np.asarray(student.call("causal_mask", T)).dtype == bool, f"T = {T}: the mask must be a bool array")
        expect_close(as_array(student.call("causal_mask", T), f"causal_mask({T})", shape=(T, T)),
                     np.tril(np.ones((T, T))), f"wrong for T = {T}")


@test("causal_self_attention", points=1)
def other_sizes_and_the_future(student):
    """T = 1, T = max_len, d_k ≠ d, B = 1; each position's output is unchanged when every later token changes"""
    r = np.random.default_rng(1011)
    for B, T, d, dk, L in ((1, 1, 4, 2, 1), (2, 7, 4, 6, 7), (1, 9, 10, 5, 20)):
        X, P = r.normal(size=(B, T, d)), _ref(L, d)
        Ws = [r.normal(size=(d, dk)) * 0.3 for _ in range(3)]
        out = student.call("causal_self_attention", X, P, *Ws)
        H = X * np.sqrt(d) + P[:T]
        Q, K, V = H @ Ws[0], H @ Ws[1], H @ Ws[2]
        s = np.where(np.tril(np.ones((T, T), dtype=bool)), Q @ np.swapaxes(K, -1, -2) / np.sqrt(dk), -np.inf)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        expect_close(out[0], w @ V, f"output wrong for B={B}, T={T}, d={d}, d_k={dk}")
        expect_close(out[1], w, f"weights wrong for B={B}, T={T}")
        for t in range(T - 1):
            X2 = X.copy()
            X2[:, t + 1:] += 1.0
            expect_close(student.call("causal_self_attention", X2, P, *Ws)[0][:, :t + 1], (w @ V)[:, :t + 1],
                         f"position {t}'s output depends on later tokens")
