"""Positional encoding and the tiny Transformer: the encoding equals the lecture's formula and an
independent reference, relative positions are a fixed rotation, self-attention without positions is
permutation-equivariant (and is not with them), and the causal LM never looks ahead."""
import math

import numpy as np
import pytest
import torch

from course_lib.attention import MultiHeadAttention
from course_lib.positional import (EncoderBlock, PositionalEncoding, TransformerLM, relative_rotation,
                                   sinusoidal_positional_encoding)


@pytest.mark.parametrize("n, d", [(1, 2), (7, 4), (50, 16), (200, 64)])
def test_encoding_equals_the_formula_entry_by_entry(n, d):
    P = sinusoidal_positional_encoding(n, d, dtype=torch.float64)
    assert P.shape == (n, d)
    for i in range(n):
        for j in range(d // 2):
            w = i / 10000 ** (2 * j / d)
            assert abs(P[i, 2 * j].item() - math.sin(w)) < 1e-12
            assert abs(P[i, 2 * j + 1].item() - math.cos(w)) < 1e-12


def test_encoding_equals_an_independent_reference():
    """The tensor2tensor / 'Annotated Transformer' construction: div_term = exp(2j · (−ln 10000 / d))."""
    n, d = 100, 32
    position = np.arange(n)[:, None]
    div_term = np.exp(np.arange(0, d, 2) * (-math.log(10000.0) / d))
    ref = np.zeros((n, d))
    ref[:, 0::2] = np.sin(position * div_term)
    ref[:, 1::2] = np.cos(position * div_term)
    np.testing.assert_allclose(sinusoidal_positional_encoding(n, d, dtype=torch.float64).numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("bad", [0, 3, 7, -2, 2.0, True])
def test_odd_or_invalid_d_is_rejected(bad):
    with pytest.raises(ValueError, match="even|d must"):
        sinusoidal_positional_encoding(10, bad)


def test_invalid_n_is_rejected():
    with pytest.raises(ValueError):
        sinusoidal_positional_encoding(0, 4)


@pytest.mark.parametrize("k", [1, 5, 37])
def test_relative_position_is_a_fixed_rotation(k):
    n, d = 120, 32
    P = sinusoidal_positional_encoding(n + k, d, dtype=torch.float64)
    M = relative_rotation(k, d)
    err = (P[k:] - P[:n] @ M.T).abs().max().item()               # every i at once: P[i+k] = M_k P[i]
    assert err <= 1e-6, err
    assert torch.allclose(M @ M.T, torch.eye(d, dtype=torch.float64), atol=1e-12)   # a rotation: orthogonal
    assert (P[k:] - P[:n]).abs().max() > 0.1                       # not trivially equal (the test can fail)


def test_positional_encoding_module_fixed_and_learned():
    X = torch.randn(3, 10, 8)
    pe = PositionalEncoding(8, max_len=20)
    assert not list(pe.parameters())
    torch.testing.assert_close(pe(X), X + sinusoidal_positional_encoding(10, 8))
    learned = PositionalEncoding(8, max_len=20, learned=True)
    assert sum(p.numel() for p in learned.parameters()) == 20 * 8
    torch.testing.assert_close(learned(X), X + learned.P[:10])
    with pytest.raises(ValueError):
        pe(torch.randn(1, 21, 8))


def _perm_check(module, X, perm):
    return (module(X)[:, perm] - module(X[:, perm])).abs().max().item()


def test_self_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    X = torch.randn(2, 9, 16, dtype=torch.float64)
    perm = torch.randperm(9)
    mha = MultiHeadAttention(16, 4).double()
    block = EncoderBlock(16, 4).double().eval()
    assert _perm_check(lambda Z: mha(Z, Z, Z), X, perm) < 1e-12
    assert _perm_check(block, X, perm) < 1e-12
    # with positions added, permuting the tokens no longer just permutes the outputs
    pe = PositionalEncoding(16, 32).double()
    with_pe = lambda Z: block(pe(Z))                               # noqa: E731
    assert _perm_check(with_pe, X, perm) > 1e-2


def test_causal_lm_never_looks_ahead():
    torch.manual_seed(0)
    lm = TransformerLM(vocab_size=11, d=16, num_heads=2, num_layers=2, max_len=32).double().eval()
    idx = torch.randint(0, 11, (3, 12))
    logits, _ = lm(idx)
    for t in range(11):
        changed = idx.clone()
        changed[:, t + 1:] = (changed[:, t + 1:] + 1 + torch.randint(0, 10, changed[:, t + 1:].shape)) % 11
        new, _ = lm(changed)
        assert (new[:, :t + 1] - logits[:, :t + 1]).abs().max().item() < 1e-12
        assert (new[:, t + 1:] - logits[:, t + 1:]).abs().max().item() > 1e-6   # the future positions do change


def test_lm_signature_and_loss():
    torch.manual_seed(0)
    lm = TransformerLM(vocab_size=7, d=8, num_heads=2, num_layers=1, max_len=16)
    idx = torch.randint(0, 7, (2, 5))
    logits, loss = lm(idx, idx)
    assert logits.shape == (2, 5, 7)
    assert abs(loss.item() - torch.nn.functional.cross_entropy(logits.reshape(-1, 7), idx.reshape(-1)).item()) < 1e-6
    assert lm(idx)[1] is None
    with pytest.raises(ValueError):
        lm(idx, idx[:, :3])


def test_tiny_lm_learns_a_pattern():
    """A repeating sequence is learned: loss well below ln V after a few steps (the model trains)."""
    from course_lib.train import train
    torch.manual_seed(0)
    seq = torch.arange(8).repeat(20)
    def batch():
        s = int(torch.randint(0, 100, ()))
        return seq[s:s + 16][None].repeat(4, 1), seq[s + 1:s + 17][None].repeat(4, 1)
    lm = TransformerLM(vocab_size=8, d=16, num_heads=2, num_layers=1, max_len=32)
    h = train(lm, batch, steps=150, lr=3e-3, device="cpu", progress=False)
    assert h.final_loss < 0.3 * math.log(8)


@pytest.mark.parametrize("pre_norm", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_encoder_block_equals_nn_transformer_encoder_layer(pre_norm, causal):
    """Copied weights, float64: outputs and input gradients equal to PyTorch's own encoder layer."""
    torch.manual_seed(0)
    d, h, T = 16, 4, 7
    ref = torch.nn.TransformerEncoderLayer(d, h, dim_feedforward=24, dropout=0.0, batch_first=True,
                                           norm_first=pre_norm).double().train()
    with torch.no_grad():                                           # non-trivial norms and biases
        for p in ref.parameters():
            p.add_(0.1 * torch.randn_like(p))
    mine = EncoderBlock(d, h, d_ff=24, pre_norm=pre_norm).double().copy_from_torch(ref)
    X = torch.randn(3, T, d, dtype=torch.float64, requires_grad=True)
    allowed = torch.ones(T, T, dtype=torch.bool).tril() if causal else None
    out = mine(X, allowed)
    expected = ref(X, src_mask=None if allowed is None else ~allowed)   # torch: True = blocked
    assert (out - expected).abs().max().item() < 1e-12
    g = torch.randn_like(out)
    gx, = torch.autograd.grad(out, X, g)
    gx_ref, = torch.autograd.grad(expected, X, g)
    assert (gx - gx_ref).abs().max().item() < 1e-12
