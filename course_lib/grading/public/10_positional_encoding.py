"""Public tests for 10_positional_encoding. Each test isolates one part (the encoding's sines and cosines and
their frequencies, the scale and broadcasting of X + P, the causal mask's diagonal and direction, the
causal self-attention) and, where a common mistake is recognisable, names it."""
import numpy as np

from course_lib.grading.spec import StudentError, as_array, expect, expect_close, test

rng = np.random.default_rng(10)


def ref_encoding(n, d, base=10000.0):
    angles = np.arange(n)[:, None] / base ** (np.arange(0, d, 2)[None, :] / d)
    P = np.zeros((n, d))
    P[:, 0::2], P[:, 1::2] = np.sin(angles), np.cos(angles)
    return P


def _known_wrong_encodings(n, d):
    """Recognisable mistakes -> what to say about each."""
    i, k = np.arange(n)[:, None], np.arange(d)[None, :]
    ref = ref_encoding(n, d)
    swapped = np.zeros((n, d))
    swapped[:, 0::2], swapped[:, 1::2] = ref[:, 1::2], ref[:, 0::2]
    per_column = np.where(k % 2 == 0, np.sin(i / 10000 ** (k / d)), np.cos(i / 10000 ** (k / d)))
    j = np.arange(d // 2)[None, :]
    half = np.zeros((n, d))
    half[:, 0::2], half[:, 1::2] = np.sin(i / 10000 ** (j / d)), np.cos(i / 10000 ** (j / d))
    blocks = np.concatenate([ref[:, 0::2], ref[:, 1::2]], axis=1)
    return [(swapped, "sines and cosines are swapped: the EVEN columns 2j are sin, the odd columns 2j+1 cos"),
            (per_column, "the odd column 2j+1 uses its own index in the exponent: both columns of a pair share "
                         "the frequency 1/10000^(2j/d), with 2j the even column's index"),
            (half, "the exponent is j/d: it must be 2j/d (2j = the even column's index), so the last pair's "
                   "frequency is about 1/10000, not 1/100"),
            (blocks, "all sines first, then all cosines: they must interleave, sin in column 2j, cos in 2j+1")]


# ----------------------------------------------------------------------------- sinusoidal_encoding

def _diagnose_encoding(P, n, d):
    for wrong, message in _known_wrong_encodings(n, d):
        if np.allclose(P, wrong, atol=1e-9):
            expect(False, message)


@test("sinusoidal_encoding", points=1)
def small_table_entry_by_entry(student):
    """n=7 positions, d=6: every entry equals sin / cos(i / 10000^(2j/d))"""
    P = as_array(student.call("sinusoidal_encoding", 7, 6), "sinusoidal_encoding(7, 6)", shape=(7, 6))
    _diagnose_encoding(P, 7, 6)
    expect_close(P[0], [0, 1, 0, 1, 0, 1], "position 0 must be sin 0 = 0 in the even and cos 0 = 1 in the odd columns")
    expect_close(P, ref_encoding(7, 6), "P differs from p[i,2j] = sin(i/10000^(2j/d)), p[i,2j+1] = cos(...)")


@test("sinusoidal_encoding", points=1)
def longer_and_wider(student):
    """n=50, d=16: the slow columns too, and each row's sin² + cos² = 1 per pair"""
    P = as_array(student.call("sinusoidal_encoding", 50, 16), "sinusoidal_encoding(50, 16)", shape=(50, 16))
    _diagnose_encoding(P, 50, 16)
    expect_close(P[:, 0::2] ** 2 + P[:, 1::2] ** 2, np.ones((50, 8)),
                 "each pair (2j, 2j+1) must be a sine and a cosine of the same angle: sin² + cos² = 1")
    expect_close(P, ref_encoding(50, 16), "P differs from the lecture's formula")


@test("sinusoidal_encoding", points=1)
def odd_width_raises_value_error(student):
    """d = 7 has a sine without its cosine: ValueError, before any table is built"""
    try:
        P = student.call("sinusoidal_encoding", 4, 7)
    except StudentError as e:
        expect("ValueError" in str(e), f"an odd d must raise a ValueError (the encoding pairs every sine with a "
               f"cosine of the same frequency, so d must be even); got: {e}")
        return
    expect(False, f"sinusoidal_encoding(4, 7) returned a table of shape {np.shape(P)}: an odd d must raise a "
           "ValueError, since column 2j + 1 (the cosine) of the last pair does not exist")


# ----------------------------------------------------------------------------- add_positions

@test("add_positions", points=1)
def scaled_embeddings_plus_the_first_T_rows(student):
    """B=3, T=5, d=4, P for 9 positions: √d X + P[:5], the same P for every sequence"""
    X, P = rng.normal(size=(3, 5, 4)) / 2.0, ref_encoding(9, 4)      # embeddings of size ~1/√d, as initialised
    out = as_array(student.call("add_positions", X, P), "add_positions(X, P)", shape=(3, 5, 4))
    if np.allclose(out, X + P[:5], atol=1e-9):
        expect(False, "X is not scaled: the embeddings are multiplied by √d before the positions are added")
    if np.allclose(out, (X + P[:5]) * 2.0, atol=1e-9):
        expect(False, "the positions are scaled too: only X is multiplied by √d, P is added as it is")
    if np.allclose(out, X * 4 + P[:5], atol=1e-9):
        expect(False, "X is multiplied by d: the scale is √d")
    expect_close(out, X * 2.0 + P[:5], "expected √d·X + P[:T] (d = 4, so √d = 2)")


@test("add_positions", points=1)
def positions_follow_time_not_batch(student):
    """X = 0 (B=4, T=2, d=6): the result is P's rows 0 and 1 for every sequence"""
    X, P = np.zeros((4, 2, 6)), ref_encoding(10, 6)
    out = as_array(student.call("add_positions", X, P), "add_positions(0, P)", shape=(4, 2, 6))
    expect_close(out, np.broadcast_to(P[:2], (4, 2, 6)), "with X = 0 every sequence must get P's first T rows, "
                 "row t at time t (are the positions indexed by the batch axis?)")
    X, P = rng.normal(size=(2, 3, 9)) / 3.0, rng.normal(size=(3, 9))
    expect_close(student.call("add_positions", X, P), X * 3.0 + P, "d = 9, T = max_len = 3: √d X + P")


# ----------------------------------------------------------------------------- causal_mask

@test("causal_mask", points=1)
def lower_triangle_with_the_diagonal(student):
    """T=5: mask[t, s] is True exactly when s ≤ t"""
    m = as_array(student.call("causal_mask", 5), "causal_mask(5)", shape=(5, 5))
    ref = np.tril(np.ones((5, 5)))
    raw = student.call("causal_mask", 5)
    expect(np.asarray(raw).dtype == bool, f"the mask must be boolean (True / False), got dtype {np.asarray(raw).dtype}: "
           "np.where(mask, s, −∞) and indexing with ~mask treat a 0/1 float or int array otherwise (~1 is −2)")
    if np.array_equal(m, ref.T):
        expect(False, "the mask is transposed: row t (a query) may see columns s ≤ t (keys in the past)")
    if np.array_equal(m, np.tril(np.ones((5, 5)), -1)):
        expect(False, "the diagonal is masked: position t may attend to itself (off by one)")
    if np.array_equal(m, np.tril(np.ones((5, 5)), 1)):
        expect(False, "each position sees one step into the future (off by one): only s ≤ t is allowed")
    expect_close(m, ref, "mask[t, s] must be True iff s ≤ t")


@test("causal_mask", points=1)
def one_and_many(student):
    """T=1 (a single True) and T=12 (78 allowed pairs, none above the diagonal)"""
    expect_close(as_array(student.call("causal_mask", 1), "causal_mask(1)", shape=(1, 1)), [[1.0]],
                 "T = 1: the only position sees itself")
    m = as_array(student.call("causal_mask", 12), "causal_mask(12)", shape=(12, 12))
    expect(m.sum() == 78, f"T = 12 allows 12·13/2 = 78 (query, key) pairs, got {int(m.sum())}")
    expect_close(m, np.tril(np.ones((12, 12))), "mask[t, s] must be True iff s ≤ t")


# ----------------------------------------------------------------------------- causal_self_attention (end to end)

def ref_causal_attention(X, P, W_q, W_k, W_v):
    B, T, d = X.shape
    H = X * np.sqrt(d) + P[:T]
    Q, K, V = H @ W_q, H @ W_k, H @ W_v
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V, w


def _cause_args(r, B, T, d, dk, max_len):
    return (r.normal(size=(B, T, d)), ref_encoding(max_len, d), *(r.normal(size=(d, dk)) * 0.4 for _ in range(3)))


def _csa(student, args):
    out = student.call("causal_self_attention", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return the pair (output, weights)")
    B, T, _ = args[0].shape
    return (as_array(out[0], "output", shape=(B, T, args[2].shape[1])), as_array(out[1], "weights", shape=(B, T, T)))


@test("causal_self_attention", points=1)
def never_looks_ahead(student):
    """B=2, T=6, d=8, d_k=4: weights are 0 above the diagonal and a changed future token leaves earlier outputs alone"""
    r = np.random.default_rng(101)
    args = _cause_args(r, 2, 6, 8, 4, 10)
    out, w = _csa(student, args)
    expect(np.all(w[:, np.triu(np.ones((6, 6), dtype=bool), 1)] == 0),
           "query t gives weight to a future key s > t: the causal mask is missing, inverted or off by one")
    expect(np.allclose(w[:, :, 0][:, 0], 1.0), "the first position can only see itself: its weight must be 1")
    X2 = args[0].copy()
    X2[:, 4:] = r.normal(size=(2, 2, 8))
    out2, _ = _csa(student, (X2,) + args[1:])
    expect_close(out2[:, :4], out[:, :4], "changing tokens 4 and 5 changed the outputs at 0..3: the model looks ahead")
    expect_close(w.sum(-1), np.ones((2, 6)), "each query's weights must sum to 1 over the keys (softmax over the last axis)")


@test("causal_self_attention", points=1)
def equals_the_formula(student):
    """B=3, T=5, d=6, d_k=3, P for 8 positions: softmax(masked QKᵀ/√d_k) V with Q, K, V from √d X + P"""
    r = np.random.default_rng(102)
    args = _cause_args(r, 3, 5, 6, 3, 8)
    out, w = _csa(student, args)
    ref_out, ref_w = ref_causal_attention(*args)
    H = args[0] * np.sqrt(6) + args[1][:5]
    raw = (H @ args[2]) @ np.swapaxes(H @ args[3], -1, -2)
    raw = np.where(np.tril(np.ones((5, 5), dtype=bool)), raw, -np.inf)
    e = np.exp(raw - raw.max(-1, keepdims=True))
    if np.allclose(w, e / e.sum(-1, keepdims=True), atol=1e-9):
        expect(False, "the scores are not divided by √d_k (d_k = the size of a query)")
    expect_close(w, ref_w, "weights differ from softmax(Q Kᵀ / √d_k) under the causal mask, with Q, K from √d X + P")
    expect_close(out, ref_out, "output differs from weights @ V")
