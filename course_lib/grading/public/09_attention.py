"""Public tests for 09_attention. Each test isolates one part of attention pooling and, where a common
mistake is recognisable (no √d, the mask after the softmax, the softmax over the queries, heads cut
along the wrong axis), names it."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(9)


def softmax(s, axis=-1):
    with np.errstate(invalid="ignore"):  # a fully masked row is -inf - (-inf): NaN on purpose, no warning
        e = np.exp(s - s.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


def ref_masked_softmax(scores, mask=None):
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores)


def padding(lengths, T):
    """(B, 1, T) bool, True at the real keys."""
    return (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[:, None, :]


# ----------------------------------------------------------------------------- masked_softmax

@test("masked_softmax", points=1)
def rows_sum_to_one_over_the_allowed_keys(student):
    """B=3, T_q=4, T_k=6, padding masks of lengths 6, 2, 4: weights sum to 1 and are exactly 0 on pads"""
    scores = rng.normal(size=(3, 4, 6)) * 2
    mask = padding([6, 2, 4], 6)
    w = as_array(student.call("masked_softmax", scores, mask), "masked_softmax(...)", shape=(3, 4, 6))
    full = np.broadcast_to(mask, w.shape)
    expect(np.all(w[~full] == 0), "a masked key must get weight exactly 0 (is the mask inverted? True = may attend)")
    if np.allclose(w, softmax(scores) * mask, atol=1e-9):
        expect(False, "you mask AFTER the softmax: the remaining weights no longer sum to 1. Give masked keys a "
                      "score of −∞ before the softmax, so they take no share of the normalisation")
    if np.allclose(w, np.where(full, softmax(np.where(full, scores, -np.inf), axis=-2), 0), atol=1e-9):
        expect(False, "the softmax runs over the queries (axis −2): it must run over the keys, the last axis")
    expect_close(w.sum(-1), np.ones((3, 4)), "each query's weights must sum to 1 over its allowed keys")
    expect_close(w, ref_masked_softmax(scores, mask), "weights differ from softmax over the allowed keys")


@test("masked_softmax", points=1)
def causal_mask_and_large_scores(student):
    """a causal (lower-triangular) mask with scores near 1000: stable, no overflow"""
    scores = rng.normal(size=(2, 5, 5)) + 1000.0
    mask = np.tril(np.ones((5, 5), dtype=bool))
    w = as_array(student.call("masked_softmax", scores, mask), "masked_softmax(...)", shape=(2, 5, 5))
    expect(np.all(np.isfinite(w)), "nan or inf for scores near 1000: subtract each row's maximum before exp")
    expect(np.all(w[:, ~mask] == 0), "query t must give weight 0 to the future keys t+1, ... (mask False)")
    expect_close(w[:, 0, 0], np.ones(2), "the first query sees only the first key: its weight must be 1")
    expect_close(w, ref_masked_softmax(scores, mask), "weights differ from a softmax over the allowed keys")


@test("masked_softmax", points=1)
def no_mask_is_a_plain_softmax(student):
    """mask=None: the softmax over the keys of every query (T_q ≠ T_k)"""
    scores = rng.normal(size=(2, 3, 4))
    w = as_array(student.call("masked_softmax", scores, None), "masked_softmax(scores, None)", shape=(2, 3, 4))
    expect_close(w, softmax(scores), "with mask=None the result is the softmax over the last axis (the keys)")


@test("masked_softmax", points=1)
def rows_of_different_size_and_four_axes(student):
    """rows whose scores differ by 900 (each row needs its OWN max), and (B, heads, T_q, T_k) with a (B, 1, 1, T_k) mask"""
    local = np.random.default_rng(91)
    scores = local.normal(size=(2, 3, 4))
    scores[1] += 900.0                                     # batch 1's rows are ~900 above batch 0's
    w = as_array(student.call("masked_softmax", scores, None), "masked_softmax(...)", shape=(2, 3, 4))
    expect(np.all(np.isfinite(w)) and np.allclose(w.sum(-1), 1.0),
           "rows whose scores are ~900 apart gave nan, inf or rows that do not sum to 1: the shift that keeps exp "
           "finite is each ROW's own maximum (over its keys), not the maximum of the whole array, which sends the "
           "lower rows to e^-900 = 0")
    expect_close(w, softmax(scores), "weights differ from a softmax over each query's keys")
    scores = local.normal(size=(2, 3, 4, 5)) * 2
    mask = padding([5, 2], 5)[:, :, None, :]               # (B, 1, 1, T_k): broadcast over heads and queries
    w = as_array(student.call("masked_softmax", scores, mask), "masked_softmax(4-D scores)", shape=(2, 3, 4, 5))
    expect_close(w, ref_masked_softmax(scores, mask), "with (B, heads, T_q, T_k) scores the softmax still runs over "
                 "the keys, the LAST axis, whatever the leading axes; the mask broadcasts")


# ----------------------------------------------------------------------------- scaled_dot_product_attention

def ref_attention(Q, K, V, mask=None, scale=True):
    s = Q @ np.swapaxes(K, -1, -2) / (np.sqrt(Q.shape[-1]) if scale else 1.0)
    w = ref_masked_softmax(s, mask)
    return w @ V, w


def _attention_pair(student, *args):
    out = student.call("scaled_dot_product_attention", *args)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "return the pair (output, weights)")
    Q, K, V = args[:3]
    return (as_array(out[0], "output", shape=Q.shape[:-1] + V.shape[-1:]),
            as_array(out[1], "weights", shape=Q.shape[:-1] + K.shape[-2:-1]))


@test("scaled_dot_product_attention", points=1)
def weights_are_softmax_of_scaled_scores(student):
    """B=2, T_q=3, T_k=5, d=16, d_v=4, no mask: weights = softmax(QKᵀ/√d)"""
    Q, K, V = rng.normal(size=(2, 3, 16)), rng.normal(size=(2, 5, 16)), rng.normal(size=(2, 5, 4))
    out, w = _attention_pair(student, Q, K, V, None)
    if np.allclose(w, ref_attention(Q, K, V, scale=False)[1], atol=1e-6):
        expect(False, "the scores are not divided by √d: softmax(QKᵀ/√d). Unscaled dot products grow with d "
                      "(variance d) and saturate the softmax")
    if np.allclose(w, softmax(Q @ np.swapaxes(K, -1, -2) / 16), atol=1e-6):
        expect(False, "the scores are divided by d: the lecture divides by √d (the standard deviation of qᵀk)")
    if np.allclose(w, softmax(Q @ np.swapaxes(K, -1, -2) / 4, axis=-2), atol=1e-6):
        expect(False, "the softmax runs over the queries: each query's weights over the KEYS must sum to 1")
    expect_close(w, ref_attention(Q, K, V)[1], "weights differ from softmax(QKᵀ/√d) over the keys")
    expect_close(out, ref_attention(Q, K, V)[0], "weights are right but the output is not weights @ V")


@test("scaled_dot_product_attention", points=1)
def padded_keys_get_no_weight(student):
    """padding mask (lengths 5, 3): the output ignores the pads' values entirely"""
    Q, K, V = rng.normal(size=(2, 4, 8)), rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 5, 3))
    mask = padding([5, 3], 5)
    out, w = _attention_pair(student, Q, K, V, mask)
    V2 = V.copy()
    V2[1, 3:] = 1e3                                                # change only the pads' values
    out2, _ = _attention_pair(student, Q, K, V2, mask)
    expect(np.all(w[1, :, 3:] == 0), "padded keys must get weight exactly 0")
    expect_close(w.sum(-1), np.ones((2, 4)), "weights must sum to 1 over the real keys (mask before the softmax)")
    expect_close(out2, out, "changing the values at the pads changed the output: they must not take part")
    expect_close(out, ref_attention(Q, K, V, mask)[0], "output differs from softmax(QKᵀ/√d, masked) V")


@test("scaled_dot_product_attention", points=1)
def heads_as_a_leading_axis(student):
    """(B, heads, T, d) inputs, as multi-head attention passes them, with a (B, 1, 1, T_k) padding mask"""
    local = np.random.default_rng(92)
    Q, K, V = local.normal(size=(2, 3, 4, 6)), local.normal(size=(2, 3, 5, 6)), local.normal(size=(2, 3, 5, 2))
    mask = padding([5, 3], 5)[:, :, None, :]
    out, w = _attention_pair(student, Q, K, V, mask)
    expect_close(w, ref_attention(Q, K, V, mask)[1], "with (B, heads, T, d) inputs, K is transposed on its LAST two "
                 "axes (keys and features), whatever the leading axes, and d is the last axis's size")
    expect_close(out, ref_attention(Q, K, V, mask)[0], "4-D inputs: the output is weights @ V for every head")


# ----------------------------------------------------------------------------- additive_scores

def ref_additive(Q, K, W_q, W_k, w_v):
    return np.tanh((Q @ W_q.T)[:, :, None] + (K @ W_k.T)[:, None]) @ w_v


@test("additive_scores", points=1)
def scores_for_every_query_key_pair(student):
    """B=2, T_q=3, T_k=4, d_q=5, d_k=2, h=6: a(q_i, k_j) = w_vᵀ tanh(W_q q_i + W_k k_j)"""
    Q, K = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 4, 2))
    W_q, W_k, w_v = rng.normal(size=(6, 5)), rng.normal(size=(6, 2)), rng.normal(size=6)
    s = as_array(student.call("additive_scores", Q, K, W_q, W_k, w_v), "additive_scores(...)", shape=(2, 3, 4))
    if np.allclose(s, ((Q @ W_q.T)[:, :, None] + (K @ W_k.T)[:, None]) @ w_v, atol=1e-6):
        expect(False, "tanh is missing: a(q, k) = w_vᵀ tanh(W_q q + W_k k); without it the score is linear and "
                      "splits into a query part plus a key part (the query could not change which key wins)")
    if np.allclose(s, np.tanh(((Q @ W_q.T)[:, :, None] + (K @ W_k.T)[:, None]) @ w_v), atol=1e-6):
        expect(False, "tanh is applied after w_v: it belongs inside, on the hidden features W_q q + W_k k")
    expect_close(s, ref_additive(Q, K, W_q, W_k, w_v), "scores differ from w_vᵀ tanh(W_q q_i + W_k k_j)")


@test("additive_scores", points=1)
def w_v_weighs_the_hidden_units(student):
    """w_v with one non-zero entry picks one tanh unit: scores = tanh of that unit"""
    Q, K = rng.normal(size=(1, 2, 3)), rng.normal(size=(1, 3, 3))
    W_q, W_k = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    w_v = np.array([0.0, 2.0, 0.0, 0.0])
    s = as_array(student.call("additive_scores", Q, K, W_q, W_k, w_v), "additive_scores(...)", shape=(1, 2, 3))
    unit = 2.0 * np.tanh((Q @ W_q[1])[:, :, None] + (K @ W_k[1])[:, None])
    expect_close(s, unit, "with w_v = (0, 2, 0, 0) the score is 2·tanh(hidden unit 1): w_v must weigh the tanh "
                 "units, not be ignored or summed over")


# ----------------------------------------------------------------------------- split_heads

@test("split_heads", points=1)
def heads_are_consecutive_feature_slices(student):
    """X (2, 3, 8), 4 heads: head i = feature columns 2i, 2i+1 at every position"""
    X = rng.normal(size=(2, 3, 8))
    s = as_array(student.call("split_heads", X, 4), "split_heads(X, 4)", shape=(2, 4, 3, 2))
    if np.allclose(s, X.reshape(2, 4, 3, 2), atol=0):
        expect(False, "you reshape (B, T, C) straight to (B, heads, T, C/h): that cuts along the TIME axis, mixing "
                      "positions. Cut the feature axis into (heads, C/h) first, then move the heads' axis")
    if np.allclose(s, X.reshape(2, 3, 2, 4).transpose(0, 3, 1, 2), atol=0):
        expect(False, "head i gets every h-th feature (i, i+h, ...): the heads are consecutive slices of C/h columns")
    for i in range(4):
        expect_close(s[:, i], X[:, :, 2 * i:2 * i + 2], f"head {i} must be feature columns {2 * i}..{2 * i + 1} "
                     f"of every position, in order")


@test("split_heads", points=1)
def one_head_is_the_input(student):
    """X (3, 5, 6), 1 and 3 heads"""
    X = rng.normal(size=(3, 5, 6))
    s1 = as_array(student.call("split_heads", X, 1), "split_heads(X, 1)", shape=(3, 1, 5, 6))
    expect_close(s1[:, 0], X, "with one head, the head is the whole input")
    s3 = as_array(student.call("split_heads", X, 3), "split_heads(X, 3)", shape=(3, 3, 5, 2))
    expect_close(s3, X.reshape(3, 5, 3, 2).transpose(0, 2, 1, 3), "3 heads of 2 consecutive features each")


# ----------------------------------------------------------------------------- multi_head_attention (end to end)

def torch_mha(C, h, W_in, b_in, W_out, b_out, query, key, value, valid=None):
    """nn.MultiheadAttention (the reference) with these weights, in the grader's own process."""
    import torch
    m = torch.nn.MultiheadAttention(C, h, batch_first=True).double()
    with torch.no_grad():
        m.in_proj_weight.copy_(torch.from_numpy(W_in))
        m.in_proj_bias.copy_(torch.from_numpy(b_in))
        m.out_proj.weight.copy_(torch.from_numpy(W_out))
        m.out_proj.bias.copy_(torch.from_numpy(b_out))
        kpm = None if valid is None else torch.from_numpy(~valid)      # torch: True = ignore
        out, _ = m(torch.from_numpy(query), torch.from_numpy(key), torch.from_numpy(value), key_padding_mask=kpm)
    return out.numpy()


def _mha_params(r, C, scale=0.5):
    return (r.normal(size=(3 * C, C)) * scale, r.normal(size=3 * C) * scale, r.normal(size=(C, C)) * scale,
            r.normal(size=C) * scale)


@test("multi_head_attention", points=1)
def equals_nn_multihead_attention(student):
    """C=8, 2 heads, self-attention B=2, T=4: equal to nn.MultiheadAttention with the same weights"""
    r = np.random.default_rng(91)
    C, h = 8, 2
    params = _mha_params(r, C)
    x = r.normal(size=(2, 4, C))
    out = as_array(student.call("multi_head_attention", x, x, x, *params, h, None), "multi_head_attention(...)",
                   shape=(2, 4, C))
    ref = torch_mha(C, h, *params, x, x, x)
    wrong_scale = torch_mha(C, 1, *params, x, x, x)                     # one head of C: not the same as 2 heads
    if not np.allclose(ref, wrong_scale) and np.allclose(out, wrong_scale, atol=1e-6):
        expect(False, "your result equals ONE head over all C features: split Q, K and V into num_heads heads")
    expect_close(out, ref, "output differs from nn.MultiheadAttention's: check the projections (rows 0:C of W_in "
                 "for Q, C:2C for K, 2C:3C for V, with their biases), the √d with d = C / num_heads, the heads "
                 "and W_out")


@test("multi_head_attention", points=1)
def cross_attention_with_padding(student):
    """C=12, 3 heads, T_q=2 queries over T_k=5 keys, lengths 5 and 3: equal to nn.MultiheadAttention"""
    r = np.random.default_rng(92)
    C, h = 12, 3
    params = _mha_params(r, C)
    q, kv = r.normal(size=(2, 2, C)), r.normal(size=(2, 5, C))
    valid = np.arange(5)[None, :] < np.array([5, 3])[:, None]
    out = as_array(student.call("multi_head_attention", q, kv, kv, *params, h, valid), "multi_head_attention(...)",
                   shape=(2, 2, C))
    ref = torch_mha(C, h, *params, q, kv, kv, valid)
    expect_close(out[0], ref[0], "the row without padding differs from nn.MultiheadAttention's (queries and keys "
                 "of different lengths: are Q and K swapped somewhere?)")
    expect_close(out[1], ref[1], "the padded row differs: the padded keys (valid False) must get weight 0 in "
                 "every head, for every query")
