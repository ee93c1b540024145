"""course_lib.attention: parity with PyTorch's own attention (float64, masks), the masked softmax's
guarantees, the √d variance claim, and the gain of attention on the date task (fixed seeds)."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import attention as A

torch.set_num_threads(1)


def _padded_lengths(B, T, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T                                               # one full row, the others padded
    return lengths


# ----------------------------------------------------------------------------- masked softmax

def test_masked_softmax_sums_to_one_over_valid_keys_and_is_exactly_zero_on_pads():
    torch.manual_seed(0)
    B, Tq, Tk = 4, 3, 7
    scores = torch.randn(B, Tq, Tk, dtype=torch.float64) * 5
    lengths = _padded_lengths(B, Tk, 1)
    mask = A.padding_mask(lengths, Tk)
    w = A.masked_softmax(scores, mask)
    valid = mask.expand(B, Tq, Tk)
    assert torch.all(w[~valid] == 0.0)                           # exactly 0, not tiny
    assert torch.allclose(w.sum(-1), torch.ones(B, Tq, dtype=torch.float64), atol=1e-12)
    for b in range(B):                                           # = plain softmax over the valid keys only
        n = int(lengths[b])
        assert torch.allclose(w[b, :, :n], torch.softmax(scores[b, :, :n], -1), atol=1e-12)


def test_masked_softmax_fully_masked_row_is_zero_with_finite_gradients():
    scores = torch.randn(2, 2, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, True, False, False], [False, False, False, False]])[:, None, :]
    w = A.masked_softmax(scores, mask)
    assert torch.all(w[1] == 0) and torch.allclose(w[0].sum(-1), torch.ones(2, dtype=torch.float64))
    (w * torch.randn_like(w)).sum().backward()
    assert torch.isfinite(scores.grad).all()


def test_masked_softmax_equals_the_minus_infinity_recipe():
    scores = torch.randn(3, 5, 6, dtype=torch.float64)
    mask = A.causal_mask(5, 6)
    ref = torch.softmax(scores.masked_fill(~mask, -math.inf), -1)
    assert torch.allclose(A.masked_softmax(scores, mask), ref, atol=1e-15)


# ----------------------------------------------------------------------------- parity with torch

@pytest.mark.parametrize("kind", ["none", "padding", "causal", "both"])
def test_dot_product_attention_equals_scaled_dot_product_attention(kind):
    torch.manual_seed(1)
    B, T, d, dv = 3, 6, 8, 5
    q, k = torch.randn(B, T, d, dtype=torch.float64), torch.randn(B, T, d, dtype=torch.float64)
    v = torch.randn(B, T, dv, dtype=torch.float64)
    mask = None
    if kind in ("padding", "both"):
        mask = A.padding_mask(_padded_lengths(B, T, 2), T)
    if kind in ("causal", "both"):
        mask = A.causal_mask(T) if mask is None else mask & A.causal_mask(T)
    att = A.DotProductAttention()
    out = att(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert (out - ref).abs().max() <= 1e-6
    assert (out - ref).abs().max() <= 1e-12                      # in fact equal to rounding
    if mask is not None:
        assert torch.all(att.attention_weights[~mask.expand(B, T, T)] == 0)


def test_unscaled_dot_product_differs_from_torch():
    torch.manual_seed(2)
    q, k, v = (torch.randn(2, 4, 16, dtype=torch.float64) for _ in range(3))
    out = A.DotProductAttention(scale=False)(q, k, v)
    assert (out - F.scaled_dot_product_attention(q, k, v)).abs().max() > 1e-3


@pytest.mark.parametrize("kind", ["none", "padding", "causal", "both"])
def test_multi_head_attention_equals_nn_multihead_attention(kind):
    torch.manual_seed(3)
    B, T, d, h = 3, 5, 12, 3
    ref = nn.MultiheadAttention(d, h, batch_first=True).double()
    with torch.no_grad():                                        # non-zero biases, so they are checked too
        ref.in_proj_bias.normal_()
        ref.out_proj.bias.normal_()
    mine = A.MultiHeadAttention(d, h).double().copy_from_torch(ref)
    x = torch.randn(B, T, d, dtype=torch.float64)
    mem = torch.randn(B, T, d, dtype=torch.float64)
    lengths = _padded_lengths(B, T, 4)
    mask, kpm, am = None, None, None
    if kind in ("padding", "both"):
        mask, kpm = A.padding_mask(lengths, T), ~A.padding_mask(lengths, T)[:, 0]   # torch: True = ignore
    if kind in ("causal", "both"):
        c = A.causal_mask(T)
        mask, am = (c if mask is None else mask & c), ~c
    out = mine(x, mem, mem, mask)
    ref_out, ref_w = ref(x, mem, mem, key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)
    assert (out - ref_out).abs().max() <= 1e-6
    assert (out - ref_out).abs().max() <= 1e-12
    assert (mine.attention_weights - ref_w).abs().max() <= 1e-12
    # gradients too
    g = torch.randn_like(out)
    x1 = x.clone().requires_grad_()
    x2 = x.clone().requires_grad_()
    (mine(x1, mem, mem, mask) * g).sum().backward()
    (ref(x2, mem, mem, key_padding_mask=kpm, attn_mask=am)[0] * g).sum().backward()
    assert (x1.grad - x2.grad).abs().max() <= 1e-10
    assert (mine.W_o.weight.grad - ref.out_proj.weight.grad).abs().max() <= 1e-10


def test_split_and_merge_heads_are_inverse_and_split_the_features():
    x = torch.arange(2 * 3 * 8, dtype=torch.float64).reshape(2, 3, 8)
    s = A.split_heads(x, 4)
    assert s.shape == (2, 4, 3, 2)
    assert torch.equal(s[:, 1], x[:, :, 2:4])                     # head 1 = feature columns 2..3
    assert torch.equal(A.merge_heads(s), x)


def test_additive_attention_matches_its_formula_and_masks():
    torch.manual_seed(5)
    att = A.AdditiveAttention(3, 4, 6).double()
    q, k = torch.randn(2, 2, 3, dtype=torch.float64), torch.randn(2, 5, 4, dtype=torch.float64)
    v = torch.randn(2, 5, 3, dtype=torch.float64)
    mask = A.padding_mask(torch.tensor([5, 2]), 5)
    out = att(q, k, v, mask)
    Wq, Wk, wv = att.W_q.weight, att.W_k.weight, att.w_v.weight[0]
    for b in range(2):
        for i in range(2):
            n = 5 if b == 0 else 2
            a = torch.stack([wv @ torch.tanh(Wq @ q[b, i] + Wk @ k[b, j]) for j in range(n)])
            alpha = torch.softmax(a, 0)
            assert torch.allclose(out[b, i], alpha @ v[b, :n], atol=1e-12)
    assert torch.all(att.attention_weights[1, :, 2:] == 0)


# ----------------------------------------------------------------------------- √d and Nadaraya–Watson

@pytest.mark.parametrize("d", [4, 64, 256])
def test_dot_product_variance_is_d_and_scaled_is_one(d):
    raw, scaled = A.dot_product_variance(d)
    assert abs(raw / d - 1) < 0.05 and abs(scaled - 1) < 0.05


def test_nadaraya_watson_weights_and_limits():
    x = torch.linspace(0, 5, 30, dtype=torch.float64)
    y = torch.sin(x)
    pred, w = A.nadaraya_watson(torch.tensor([2.5], dtype=torch.float64), x, y, width=1e3)
    assert torch.allclose(w.sum(-1), torch.ones(1, dtype=torch.float64))
    assert abs(float(pred) - float(y.mean())) < 1e-4              # very wide kernel: the mean
    pred, _ = A.nadaraya_watson(x[7:8], x, y, width=1e-3)
    assert abs(float(pred) - float(y[7])) < 1e-9                  # very narrow: the nearest point


def test_learned_kernel_width_lowers_leave_one_out_error():
    from course_lib.train import train
    g = torch.Generator().manual_seed(0)
    x = torch.rand(80, generator=g) * 5
    y = 2 * torch.sin(x) + x ** 0.8 + 0.5 * torch.randn(80, generator=g)
    model = A.KernelRegression(init_width=3.0)
    before = model(x, y)[1].item()
    train(model, lambda: (x, y), steps=200, lr=0.05, device="cpu", progress=False)
    after = model(x, y)[1].item()
    assert after < 0.8 * before and model.width < 3.0


# ----------------------------------------------------------------------------- seq2seq with attention

def test_attention_seq2seq_decoding_interface_matches_forward():
    from course_lib.parallel import dates
    torch.manual_seed(0)
    train_c, _ = dates(200, 10)
    model = A.AttentionSeq2Seq(len(train_c.src_vocab), len(train_c.tgt_vocab), 16, 24).eval()
    src, lengths, tgt_in, targets = train_c.batch(range(5))
    logits, loss = model(src, lengths, tgt_in, targets)
    weights = model.attention_weights
    assert torch.isfinite(loss)
    S = src.shape[1]
    assert torch.all(weights.masked_select(~A.padding_mask(lengths, S).expand_as(weights)) == 0)
    assert torch.allclose(weights.sum(-1), torch.ones_like(weights.sum(-1)), atol=1e-6)
    state = model.encode(src, lengths)                            # step by step = teacher-forced forward
    for j in range(tgt_in.shape[1]):
        logp, state = model.decode_step(tgt_in[:, j], state)
        assert torch.allclose(logp, torch.log_softmax(logits[:, j], -1), atol=1e-5)
        assert torch.allclose(model.attention_weights[:, 0], weights[:, j], atol=1e-6)


def test_attention_beats_no_attention_on_the_date_task():
    """Same data, seeds, sizes and steps: notebook 08's Seq2Seq vs AttentionSeq2Seq, exact-match accuracy."""
    from course_lib.parallel import dates, exact_match
    from course_lib.seq2seq import Seq2Seq
    from course_lib.train import train
    train_c, test_c = dates(3000, 300, seed=0)
    acc = {}
    for name, cls in (("plain", Seq2Seq), ("attention", A.AttentionSeq2Seq)):
        torch.manual_seed(0)
        model = cls(len(train_c.src_vocab), len(train_c.tgt_vocab), embed_dim=32, hidden_size=48)
        train(model, train_c.random_batches(64, seed=1), steps=120, lr=1e-2, clip=1.0, device="cpu",
              progress=False)
        acc[name] = exact_match(model, train_c, test_c)
    # measured: plain 0.06, attention 0.95 (120 steps, ~11 s on one thread)
    assert acc["attention"] > 0.8 and acc["attention"] > acc["plain"] + 0.5, acc
