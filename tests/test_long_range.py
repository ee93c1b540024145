"""The agreement task: reproducible, well-formed, and the direction the lecture claims: with a fixed
seed and a short budget the plain RNN stays at chance where the GRU and the LSTM (forget-gate bias)
carry the subject's number across 20 words."""
import pytest
import torch

from course_lib.long_range import (NOUNS, STOI, SUBJECTS, VOCAB, accuracy_by_distance, agreement_batch,
                                   agreement_batches, decode, memory_state, sentence_length, subject_gradient,
                                   train_agreement_model, watch_training)
from course_lib.lstm_gru import RecurrentLM


def test_batches_are_seeded_and_well_formed():
    idx, tgt = agreement_batch(64, 12, seed=3)
    idx2, tgt2 = agreement_batch(64, 12, seed=3)
    assert torch.equal(idx, idx2) and torch.equal(tgt, tgt2)
    assert idx.shape == tgt.shape == (64, sentence_length(12)) == (64, 14)
    assert torch.all(tgt[:, :-1] == -100)
    plural_ids = {STOI[p] for _, p in SUBJECTS}
    for row, target in zip(idx.tolist(), tgt[:, -1].tolist()):
        assert VOCAB[row[0]] == "the" and VOCAB[row[-1]] == ","
        assert VOCAB[target] == ("were" if row[1] in plural_ids else "was")   # the verb agrees with the subject
    words = decode(idx[0]).split()
    assert words[2:6] == [",", "which", "already", "ate"] and len(words) - 2 == 12
    assert 20 < int((tgt[:, -1] == STOI["were"]).sum()) < 44                 # about half plural
    fill = idx[:, 6:-1]
    attractors = torch.isin(fill, torch.tensor([STOI[w] for w in NOUNS])).double().mean()
    assert 0.2 < float(attractors) < 0.4
    assert not torch.isin(agreement_batch(64, 12, seed=3, attractor_rate=0.0)[0][:, 6:-1],
                          torch.tensor([STOI[w] for w in NOUNS])).any()


def test_bad_arguments_and_stream():
    with pytest.raises(ValueError):
        agreement_batch(4, 4)
    with pytest.raises(ValueError):
        agreement_batch(0, 8)
    lengths = {next(s)[0].shape[1] for s in [agreement_batches(2, [5, 9], seed=1)] for _ in range(20)}
    assert lengths <= {7, 11}


def test_rnn_fails_where_lstm_and_gru_succeed():
    """seed 0, 300 steps, distance 20: the numbers the notebook prints for this distance."""
    rnn = accuracy_by_distance("rnn", [20], device="cpu")[20]
    gru = accuracy_by_distance("gru", [20], device="cpu")[20]
    lstm = accuracy_by_distance("lstm", [20], memory_bias=3.0, device="cpu")[20]
    lstm_zero_bias = accuracy_by_distance("lstm", [20], device="cpu")[20]
    assert rnn < 0.6 and lstm_zero_bias < 0.6 and gru > 0.95 and lstm > 0.95, (rnn, lstm_zero_bias, gru, lstm)


def test_subject_gradient_is_the_gradient_at_the_subjects_embedding():
    """Against a finite difference: nudge the subject's embedding of one sentence along the gradient."""
    torch.manual_seed(0)
    model = RecurrentLM(len(VOCAB), 16, 32, cell="gru").double()
    g = subject_gradient(model, 8, n=1, seed=5)
    idx, targets = agreement_batch(1, 8, seed=5)
    emb = model.embed(idx).detach().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(model.head(model.rnn(emb)[0][:, -1]), targets[:, -1])
    (grad,) = torch.autograd.grad(loss, emb)
    assert grad[0, 1].norm() == pytest.approx(g, rel=1e-9)
    assert grad[0, 2:].abs().sum() > 0 and g > 0
    with torch.no_grad():                                  # works under no_grad too (train's eval_fn runs so)
        assert subject_gradient(model, 8, n=1, seed=5) == pytest.approx(g, rel=1e-12)


def test_memory_state_reads_the_keep_gate():
    torch.manual_seed(0)
    lstm = RecurrentLM(len(VOCAB), 16, 32, cell="lstm", memory_bias=3.0)
    gru = RecurrentLM(len(VOCAB), 16, 32, cell="gru")
    s_lstm, s_gru = memory_state(lstm, 10, n=64), memory_state(gru, 10, n=64)
    assert 0.9 < s_lstm["gate"] <= s_lstm["gate_max_unit"] < 1.0         # σ(3) = 0.95 at initialisation
    assert 0.4 < s_gru["gate"] < 0.6 and "cell_at_verb" not in s_gru     # σ(0) = 0.5
    assert s_lstm["cell_at_verb"] > 0
    with pytest.raises(ValueError):
        memory_state(RecurrentLM(len(VOCAB), 16, 32, cell="rnn"), 10)


def test_watching_training_leaves_the_model_unchanged():
    watched = watch_training("gru", 6, every=10, steps=30, seed=3, device="cpu")
    plain = train_agreement_model("gru", 6, steps=30, seed=3, device="cpu")
    assert watched["step"] == [0, 10, 20, 30]
    assert len(watched["subject_gradient"]) == len(watched["gate"]) == 4
    for a, b in zip(watched["model"].parameters(), plain.parameters()):
        assert torch.equal(a, b)
