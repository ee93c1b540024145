"""Notebook 06's char-level comparison on Tiny Shakespeare (course_lib.charlm) and the gate traces
(lstm_gru.trace_gates) its heatmaps show."""
import math

import pytest
import torch

from course_lib import charlm
from course_lib.lstm_gru import LSTMScratch, trace_gates


@pytest.fixture(scope="module")
def split():
    return charlm.corpus()


def test_split_is_contiguous_and_covers_the_text(split):
    vocab, ids, cut = split
    assert len(vocab) == 65 and len(ids) == 1_115_394 and cut == int(0.9 * len(ids))
    held = charlm.held_out_batches(ids, cut)
    x, y = held[0]
    assert x.shape == (64, 100) and torch.equal(x[0, 1:], y[0, :-1])
    assert torch.equal(x[0], ids[cut:cut + 100])              # the held-out text starts right after the cut
    assert sum(b[1].numel() for b in held) > 0.97 * (len(ids) - cut)   # all but the last partial row


def test_training_is_reproducible_and_learns():
    a, _, ha = charlm.train_char_lm("gru", steps=12, device="cpu", progress=False, hidden_size=32)
    b, _, hb = charlm.train_char_lm("gru", steps=12, device="cpu", progress=False, hidden_size=32)
    assert ha.loss == hb.loss and all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert ha.loss[-1] < ha.loss[0] - 0.3                       # from about ln 65 = 4.17 down
    with pytest.raises(ValueError, match="cell must be one of"):
        charlm.train_char_lm("transformer", steps=1, progress=False)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_checkpoint_has_the_held_out_loss_it_claims(cell, split):
    model, itos, info = charlm.load_checkpoint(cell)
    vocab, ids, cut = split
    assert itos == vocab.itos and model.config["cell"] == cell
    loss = charlm.held_out_loss(model, charlm.held_out_batches(ids, cut), device="cpu")
    assert loss == pytest.approx(info["held_out_loss"], abs=1e-4)
    assert info["eval_step"][-1] == info["steps"] and info["eval_loss"][-1] == info["held_out_loss"]
    assert info["eval_loss"][-1] < info["eval_loss"][0] < math.log(65)


def test_the_lectures_claim_holds_on_the_shipped_models():
    """The ordering the notebook reports: gated cells beat the vanilla RNN at the same budget of
    steps, and the best of them beats notebook 01's best count model."""
    loss = {cell: charlm.load_checkpoint(cell)[2]["held_out_loss"] for cell in ("rnn", "lstm", "gru")}
    assert loss["lstm"] < loss["rnn"] and loss["gru"] < loss["rnn"]
    assert min(loss["lstm"], loss["gru"]) < charlm.kneser_ney_loss()


def test_kneser_ney_is_a_strong_count_baseline():
    kn = {n: charlm.kneser_ney_loss(n) for n in (3, 6)}
    assert 1.50 < kn[6] < 1.60 and kn[3] > kn[6] + 0.3      # a longer context helps counts, up to n ~ 6


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_trace_gates_is_the_same_function_as_torch(kind):
    torch.manual_seed(0)
    ref = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(5, 7, num_layers=2, batch_first=True).double()
    x = torch.randn(3, 6, 5, dtype=torch.float64)
    out, final = ref(x)
    layers = trace_gates(ref, x)
    assert len(layers) == 2 and torch.allclose(layers[-1]["h"], out, atol=1e-12)
    gates = ("i", "f", "o") if kind == "lstm" else ("r", "z")
    for layer in layers:
        assert all(layer[g].shape == (3, 6, 7) and 0 < layer[g].min() and layer[g].max() < 1 for g in gates)
    if kind == "lstm":
        assert torch.allclose(torch.stack([l["c"][:, -1] for l in layers]), final[1], atol=1e-12)
        q = layers[0]        # the lecture's update, checked on the trace itself
        c_prev = torch.cat([torch.zeros_like(q["c"][:, :1]), q["c"][:, :-1]], 1)
        assert torch.allclose(q["c"], q["f"] * c_prev + q["i"] * q["c_tilde"], atol=1e-12)
        assert torch.allclose(q["h"], q["o"] * torch.tanh(q["c"]), atol=1e-12)
    scratch = LSTMScratch(5, 7).double()
    assert torch.allclose(trace_gates(scratch, x)[0]["h"], scratch(x)[0], atol=1e-12)
    with pytest.raises(TypeError, match="expected nn.LSTM"):
        trace_gates(torch.nn.RNN(5, 7), x)


def test_make_checkpoint_round_trip(tmp_path):
    """The command's writer: float16 weights, the held-out loss measured after the round trip, and a
    loader that gives back a model with exactly that loss."""
    path = tmp_path / "rnn.pt"
    info = charlm.make_checkpoint("rnn", steps=3, path=path, progress=False)
    assert info["steps"] == 3 and info["eval_step"] == [3] and info["eval_loss"] == [info["held_out_loss"]]
    raw = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in raw["state_dict"].values() if v.is_floating_point())
    model, itos, loaded = charlm.load_checkpoint("rnn", path)
    assert loaded == info and len(itos) == 65
    vocab, ids, cut = charlm.corpus()
    assert charlm.held_out_loss(model, charlm.held_out_batches(ids, cut), device="cpu") == pytest.approx(
        info["held_out_loss"], abs=1e-6)
