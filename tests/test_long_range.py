"""The agreement task: reproducible, well-formed, and the direction the lecture claims: with a fixed
seed and a short budget the plain RNN stays at chance where the GRU and the LSTM (forget-gate bias)
carry the subject's number across 20 words."""
import pytest
import torch

from course_lib.long_range import (NOUNS, STOI, SUBJECTS, VOCAB, accuracy_by_distance, agreement_batch,
                                   agreement_batches, decode, sentence_length)


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
