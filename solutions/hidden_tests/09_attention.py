"""Hidden tests for 09_attention: more sizes, 4-d inputs (heads), masks of every kind, extreme scores,
T = 1, self- and cross-attention, a single head and as many heads as features."""
import numpy as np

from course_lib.grading.spec import as_array, expect, expect_close, test

rng = np.random.default_rng(9009)


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _masked(s, m=None):
    return _softmax(s if m is None else np.where(m, s, -np.inf))


def _attn(Q, K, V, m=None):
    w = _masked(Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]), m)
    return w @ V, w


@test("masked_softmax", points=1)
def four_dim_scores_and_random_masks(student):
    """(B, heads, T_q, T_k) = (2, 3, 4, 5) with a random full-size mask (≥ 1 allowed key per query)"""
    s = rng.normal(size=(2, 3, 4, 5)) * 3
    m = rng.random(size=(2, 3, 4, 5)) < 0.6
    m[..., 0] = True
    w = as_array(student.call("masked_softmax", s, m), "masked_softmax(...)", shape=s.shape)
    expect(np.all(w[~m] == 0), "masked weights must be exactly 0")
    expect_close(w, _masked(s, m), "weights wrong for 4-d scores and a full-size mask")


@test("masked_softmax", points=1)
def single_allowed_key_and_huge_negative_scores(student):
    """one allowed key gets weight 1; scores of −1000 and +1000 stay finite"""
    s = np.array([[[-1000.0, 1000.0, 3.0], [1000.0, -1000.0, 0.0]]])
    m = np.array([[[True, False, False], [False, True, True]]])
    w = as_array(student.call("masked_softmax", s, m), "masked_softmax(...)", shape=(1, 2, 3))
    expect_close(w, [[[1.0, 0.0, 0.0], [0.0, np.exp(-1000.0), 1.0]]], "a single allowed key must get weight 1, "
                 "whatever its score; large scores must not overflow", atol=1e-12)


@test("masked_softmax", points=1)
def T_k_one_and_broadcast_mask(student):
    """T_k = 1 (weight 1), and a (T_q, T_k) mask broadcast over a batch of 4"""
    w1 = as_array(student.call("masked_softmax", rng.normal(size=(3, 2, 1)), None), "masked_softmax(...)",
                  shape=(3, 2, 1))
    expect_close(w1, np.ones((3, 2, 1)), "one key: its weight is 1")
    s = rng.normal(size=(4, 6, 6))
    m = np.tril(np.ones((6, 6), dtype=bool))
    expect_close(student.call("masked_softmax", s, m), _masked(s, m), "a (T_q, T_k) mask must broadcast over B")


@test("scaled_dot_product_attention", points=1)
def several_sizes_and_heads(student):
    """(B, T_q, T_k, d, d_v) in (1, 1, 1, 1, 1), (3, 7, 2, 5, 9) and a 4-d (2, heads 3, 4, 4, 6, 2) with a causal mask"""
    for Bn, Tq, Tk, d, dv in ((1, 1, 1, 1, 1), (3, 7, 2, 5, 9)):
        Q, K, V = rng.normal(size=(Bn, Tq, d)), rng.normal(size=(Bn, Tk, d)), rng.normal(size=(Bn, Tk, dv))
        out = student.call("scaled_dot_product_attention", Q, K, V, None)
        ref = _attn(Q, K, V)
        expect_close(out[1], ref[1], f"weights wrong for B={Bn}, T_q={Tq}, T_k={Tk}, d={d}")
        expect_close(out[0], ref[0], f"output wrong for B={Bn}, T_q={Tq}, T_k={Tk}, d={d}, d_v={dv}")
    Q, K, V = rng.normal(size=(2, 3, 4, 6)), rng.normal(size=(2, 3, 4, 6)), rng.normal(size=(2, 3, 4, 2))
    m = np.tril(np.ones((4, 4), dtype=bool))
    out = student.call("scaled_dot_product_attention", Q, K, V, m)
    expect_close(out[0], _attn(Q, K, V, m)[0], "4-d inputs (B, heads, T, d) with a causal mask: output wrong")


@test("scaled_dot_product_attention", points=1)
def large_d_keeps_the_softmax_soft(student):
    """d = 512 random vectors: scaled weights are not one-hot"""
    Q, K, V = rng.normal(size=(1, 2, 512)), rng.normal(size=(1, 6, 512)), rng.normal(size=(1, 6, 3))
    out = student.call("scaled_dot_product_attention", Q, K, V, None)
    w = as_array(out[1], "weights", shape=(1, 2, 6))
    expect_close(w, _attn(Q, K, V)[1], "weights wrong for d = 512 (divide by √d)")


@test("additive_scores", points=1)
def several_sizes(student):
    """(B, T_q, T_k, d_q, d_k, h) in (1, 1, 1, 1, 1, 1), (3, 4, 7, 2, 6, 5), large inputs (tanh saturates)"""
    for Bn, Tq, Tk, dq, dk, h, sc in ((1, 1, 1, 1, 1, 1, 1.0), (3, 4, 7, 2, 6, 5, 1.0), (2, 3, 3, 4, 4, 8, 10.0)):
        Q, K = rng.normal(size=(Bn, Tq, dq)) * sc, rng.normal(size=(Bn, Tk, dk)) * sc
        W_q, W_k, w_v = rng.normal(size=(h, dq)), rng.normal(size=(h, dk)), rng.normal(size=h)
        s = student.call("additive_scores", Q, K, W_q, W_k, w_v)
        ref = np.tanh((Q @ W_q.T)[:, :, None] + (K @ W_k.T)[:, None]) @ w_v
        expect_close(s, ref, f"scores wrong for B={Bn}, T_q={Tq}, T_k={Tk}, d_q={dq}, d_k={dk}, h={h}")


@test("additive_scores", points=1)
def equal_sizes_query_and_key_not_swapped(student):
    """d_q = d_k: W_q must act on the queries and W_k on the keys"""
    Q, K = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    W_q, W_k, w_v = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
    s = student.call("additive_scores", Q, K, W_q, W_k, w_v)
    expect_close(s, np.tanh((Q @ W_q.T)[:, :, None] + (K @ W_k.T)[:, None]) @ w_v,
                 "scores wrong when queries and keys have the same size: W_q for the queries, W_k for the keys, "
                 "queries on axis 1 and keys on axis 2")


@test("split_heads", points=1)
def many_shapes(student):
    """(B, T, C, heads) in (1, 1, 4, 4), (2, 7, 12, 3), (3, 2, 6, 2)"""
    for Bn, Tn, Cn, h in ((1, 1, 4, 4), (2, 7, 12, 3), (3, 2, 6, 2)):
        X = rng.normal(size=(Bn, Tn, Cn))
        s = as_array(student.call("split_heads", X, h), "split_heads(...)", shape=(Bn, h, Tn, Cn // h))
        expect_close(s, X.reshape(Bn, Tn, h, Cn // h).transpose(0, 2, 1, 3), f"wrong for B={Bn}, T={Tn}, C={Cn}, heads={h}")


def _torch_mha(C, h, W_in, b_in, W_out, b_out, q, k, v, valid=None):
    import torch
    m = torch.nn.MultiheadAttention(C, h, batch_first=True).double()
    with torch.no_grad():
        m.in_proj_weight.copy_(torch.from_numpy(W_in))
        m.in_proj_bias.copy_(torch.from_numpy(b_in))
        m.out_proj.weight.copy_(torch.from_numpy(W_out))
        m.out_proj.bias.copy_(torch.from_numpy(b_out))
        kpm = None if valid is None else torch.from_numpy(~valid)
        return m(torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), key_padding_mask=kpm)[0].numpy()


@test("multi_head_attention", points=1)
def many_heads_sizes_and_masks(student):
    """(C, heads) in (4, 1), (6, 6), (16, 4); different key and value inputs; random padding"""
    for C, h, Tq, Tk in ((4, 1, 3, 3), (6, 6, 2, 4), (16, 4, 5, 7)):
        params = (rng.normal(size=(3 * C, C)) * 0.4, rng.normal(size=3 * C) * 0.4, rng.normal(size=(C, C)) * 0.4,
                  rng.normal(size=C) * 0.4)
        q, k, v = rng.normal(size=(3, Tq, C)), rng.normal(size=(3, Tk, C)), rng.normal(size=(3, Tk, C))
        lengths = np.array([Tk, 1, max(1, Tk - 2)])
        valid = np.arange(Tk)[None, :] < lengths[:, None]
        out = student.call("multi_head_attention", q, k, v, *params, h, valid)
        expect_close(out, _torch_mha(C, h, *params, q, k, v, valid), f"differs from nn.MultiheadAttention for C={C}, "
                     f"heads={h}, T_q={Tq}, T_k={Tk} with padding")


@test("multi_head_attention", points=1)
def large_weights_no_mask(student):
    """C = 8, 4 heads, weights ×3 (peaked softmax), no mask"""
    C, h = 8, 4
    params = (rng.normal(size=(3 * C, C)) * 1.5, rng.normal(size=3 * C), rng.normal(size=(C, C)), rng.normal(size=C))
    x = rng.normal(size=(2, 6, C))
    out = student.call("multi_head_attention", x, x, x, *params, h, None)
    expect_close(out, _torch_mha(C, h, *params, x, x, x), "differs from nn.MultiheadAttention with large weights")


@test("masked_softmax", points=1)
def every_row_shifted_by_its_own_max(student):
    """(2, 2, 3, 4) scores whose queries sit at 0, 400, 800 and 1200: every row sums to 1, none is nan"""
    s = np.random.default_rng(93).normal(size=(2, 2, 3, 4)) + 400.0 * np.arange(12).reshape(2, 2, 3, 1) % 1600
    w = student.call("masked_softmax", s, None)
    expect_close(w, _masked(s), "rows hundreds apart: each row's own maximum must be subtracted")
