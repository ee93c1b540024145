"""course_lib.birnn: bidirectional/stacked wrappers equal to nn.LSTM/GRU/RNN(bidirectional=True, num_layers=2),
padding that changes nothing, the sentence encodings, the readers of UD and SST-2, and the direction gap on
UD tagging."""
import pytest
import torch
from torch import nn

from course_lib import birnn, data
from course_lib.rnn import StackedRecurrent


def _pair(cell, D=3, H=4, L=2, bidirectional=True, seed=0):
    torch.manual_seed(seed)
    ref = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](D, H, L, batch_first=True,
                                                                 bidirectional=bidirectional).double()
    model = birnn.DeepBiRNN(D, H, L, bidirectional, cell).double()
    birnn.copy_from_torch(model, ref)
    return model, ref


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_equals_torch_bidirectional_two_layers_padded(cell):
    model, ref = _pair(cell)
    torch.manual_seed(1)
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 3, 1, 5])
    out, h_n = model(x, lengths)
    ref_out, ref_h = birnn.run_torch(ref, x, lengths)
    assert out.shape == (4, 7, 8) and h_n.shape == (4, 4, 4)
    assert torch.allclose(out, ref_out, atol=1e-6, rtol=0) and torch.allclose(h_n, ref_h, atol=1e-6, rtol=0)
    # and gradients: the same function of the same weights
    g = torch.randn_like(out)
    (out * g).sum().backward()
    (ref_out * g).sum().backward()
    for cell_, sfx in birnn._direction_cells(model):
        assert torch.allclose(cell_.W_hh.grad, getattr(ref, f"weight_hh{sfx}").grad, atol=1e-6, rtol=0)


def test_unpadded_equals_plain_nn_lstm_and_stacked_recurrent():
    model, ref = _pair("lstm")
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    out, h_n = model(x)
    ref_out, (ref_h, _) = ref(x)                                   # no packing at all
    assert torch.allclose(out, ref_out, atol=1e-6, rtol=0) and torch.allclose(h_n, ref_h, atol=1e-6, rtol=0)
    # one direction, one layer: the same as notebook 06's StackedRecurrent with the same cell
    uni = birnn.DeepBiRNN(3, 4, 1, False, "lstm").double()
    stacked = StackedRecurrent([uni.layers[0].forward_cell])
    assert torch.allclose(uni(x)[0], stacked(x)[0], atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padded_batch_gives_each_sentence_its_own_result(cell):
    model, _ = _pair(cell, seed=3)
    torch.manual_seed(4)
    lengths = [6, 2, 4]
    sentences = [torch.randn(1, n, 3, dtype=torch.float64) for n in lengths]
    batch = torch.zeros(3, 6, 3, dtype=torch.float64)
    for b, s in enumerate(sentences):
        batch[b, :lengths[b]] = s[0]
        batch[b, lengths[b]:] = 7.0                                # pads full of junk: they must not matter
    out, h_n = model(batch, torch.tensor(lengths))
    for b, s in enumerate(sentences):
        alone, h_alone = model(s)
        assert torch.allclose(out[b, :lengths[b]], alone[0], atol=1e-12)
        assert torch.all(out[b, lengths[b]:] == 0)
        assert torch.allclose(h_n[:, b], h_alone[:, 0], atol=1e-12)


def test_reverse_padded_keeps_pads_and_is_its_own_inverse():
    x = torch.arange(12.).reshape(2, 6, 1)
    r = birnn.reverse_padded(x, torch.tensor([4, 6]))
    assert r[0, :, 0].tolist() == [3, 2, 1, 0, 4, 5] and r[1, :, 0].tolist() == [11, 10, 9, 8, 7, 6]
    assert torch.equal(birnn.reverse_padded(r, torch.tensor([4, 6])), x)
    with pytest.raises(ValueError):
        birnn.reverse_padded(x, torch.tensor([0, 6]))


def test_backward_direction_reads_the_right_context():
    """h←_t depends on x_{t+1}, h→_t does not: perturb a later word and see which half changes."""
    model, _ = _pair("lstm", L=1)
    x = torch.randn(1, 5, 3, dtype=torch.float64)
    y = x.clone()
    y[0, 3] += 1.0
    a, b = model(x)[0], model(y)[0]
    assert torch.allclose(a[0, :3, :4], b[0, :3, :4])              # forward half before position 3: unchanged
    assert not torch.allclose(a[0, :3, 4:], b[0, :3, 4:])          # backward half: changed


def test_sentence_encodings_ignore_pads():
    h = torch.randn(2, 5, 6)
    lengths = torch.tensor([3, 5])
    h_padded = h.clone()
    h_padded[0, 3:] = 100.0
    for pooling in ("mean", "max"):
        e = birnn.encode(h_padded, lengths, pooling)
        assert torch.allclose(e[0], birnn.encode(h[:1, :3], None, pooling)[0])
    assert torch.allclose(birnn.mean_pool(h, lengths)[0], h[0, :3].mean(0))
    last = birnn.last_state(h, lengths, directions=2)
    assert torch.equal(last[0], torch.cat([h[0, 2, :3], h[0, 0, 3:]]))
    assert torch.equal(last[1], torch.cat([h[1, 4, :3], h[1, 0, 3:]]))


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_classifier_and_tagger_scratch_equal_torch(pooling):
    torch.manual_seed(0)
    ids, lengths = birnn.pad_batch([[2, 3, 4, 5], [6, 7], [8, 9, 3]])
    clf_t = birnn.SequenceClassifier(10, 2, 5, 4, 2, True, "lstm", pooling, impl="torch").double().eval()
    clf_s = birnn.SequenceClassifier(10, 2, 5, 4, 2, True, "lstm", pooling, impl="scratch").double().eval()
    clf_s.load_state_dict(clf_t.state_dict(), strict=False)
    birnn.copy_from_torch(clf_s.encoder.rnn, clf_t.encoder.rnn)
    assert torch.allclose(clf_s(ids, None, lengths)[0], clf_t(ids, None, lengths)[0], atol=1e-6)
    tags = torch.tensor([[1, 2, 3, 0], [1, 2, -100, -100], [0, 1, 2, -100]])
    tagger = birnn.SequenceTagger(10, 4, 5, 4, 1, True, "gru").double()
    logits, loss = tagger(ids, tags, lengths)
    assert logits.shape == (3, 4, 4) and loss.item() > 0


def test_ud_reader_counts_and_skips_multiword_and_empty_nodes():
    dev, test = data.load_conllu("ud-ewt-dev"), data.load_conllu("ud-ewt-test")
    assert (len(dev), sum(len(w) for w, _ in dev)) == (2001, 25147)      # SOURCES.md
    assert (len(test), sum(len(w) for w, _ in test)) == (2077, 25094)
    assert {t for _, ts in dev + test for t in ts} == set(data.UPOS_TAGS)
    text = ("# text = I don't.\n1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n1\tdo\tdo\tAUX\t_\t_\t0\troot\t_\t_\n"
            "2\tn't\tnot\tPART\t_\t_\t1\tadvmod\t_\t_\n2.1\tgo\tgo\tVERB\t_\t_\t_\t_\t_\t_\n"
            "3\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_\n\n")
    assert data.parse_conllu(text) == [(["do", "n't", "."], ["AUX", "PART", "PUNCT"])]


def test_sst_reader_counts():
    counts = {n: len(data.load_sst(n)) for n in ("sst2-train", "sst2-dev", "sst2-test")}
    assert counts == {"sst2-train": 67349, "sst2-dev": 872, "sst2-test": 1821}
    tokens, label = data.load_sst("sst2-dev")[0]
    assert tokens == ["one", "long", "string", "of", "cliches", "."] and label == 0


def test_bidirectional_beats_unidirectional_on_ud_tagging():
    """Same seed, same data, same size: only the direction differs. Trained on UD dev, scored on UD test."""
    torch.set_num_threads(1)
    dev, test = data.load_conllu("ud-ewt-dev"), data.load_conllu("ud-ewt-test")[:600]
    vocab, tags, train_ex, test_ex = birnn.pos_data(dev, test, min_count=2)
    acc = {}
    for bi in (False, True):
        model, _ = birnn.train_tagger(train_ex, len(vocab), len(tags), bidirectional=bi, steps=120, seed=0,
                                      embed_dim=32, hidden_size=32, lr=1e-2, device="cpu")
        pred = birnn.predict_tags(model, [w for w, _ in test_ex])
        acc[bi] = birnn.tag_accuracy([t for _, t in test_ex], pred)
    assert acc[True] > acc[False] + 0.01, acc


def test_dropout_between_layers_only_in_training():
    """DeepBiRNN(dropout=p) drops h^(i) on its way up to layer i+1 while training; in eval mode it is the
    same function as nn.LSTM (and as the model without dropout); one-layer models get no dropout at all."""
    model, ref = _pair("lstm")
    drop = birnn.DeepBiRNN(3, 4, 2, True, "lstm", dropout=0.5).double()
    drop.load_state_dict(model.state_dict())
    x, lengths = torch.randn(4, 7, 3, dtype=torch.float64), torch.tensor([7, 3, 1, 5])
    torch.manual_seed(0)
    assert not torch.allclose(drop.train()(x, lengths)[0], model(x, lengths)[0])
    assert torch.allclose(drop.eval()(x, lengths)[0], birnn.run_torch(ref, x, lengths)[0], atol=1e-6)
    assert birnn.SequenceTagger(10, 4, 5, 4, 2, dropout=0.3).encoder.rnn.dropout == 0.3
    assert birnn.SequenceTagger(10, 4, 5, 4, 1, dropout=0.3).encoder.rnn.dropout == 0.0
    with pytest.raises(ValueError):
        birnn.DeepBiRNN(3, 4, 2, dropout=1.0)


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_layer_states_are_each_layers_outputs(impl):
    """layer_states: the embeddings, then each layer's states at the real words; the last level is what the
    tagger's head reads, so a probe on it sees exactly the tagger's features."""
    torch.manual_seed(0)
    tagger = birnn.SequenceTagger(10, 4, 5, 3, 3, True, "lstm", impl=impl, dropout=0.2).double()
    sents = [[2, 3, 4, 5], [6, 7], [8, 9, 3]]
    levels = birnn.layer_states(tagger, sents)
    assert [tuple(h.shape) for h in levels] == [(9, 5), (9, 6), (9, 6), (9, 6)]
    assert tagger.training                                        # put back in the mode it was in
    ids, lengths = birnn.pad_batch(sents)
    with torch.no_grad():
        top = tagger.eval().encoder.states(ids, lengths)[birnn.length_mask(lengths, 4)]
        assert torch.allclose(levels[-1], top, atol=1e-10)
        assert torch.equal(levels[0], tagger.encoder.embed(ids)[birnn.length_mask(lengths, 4)])


def test_linear_probe_reads_a_linear_code_and_not_noise():
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (600,), generator=gen)
    code = torch.nn.functional.one_hot(y, 3).double() + 0.1 * torch.randn(600, 3, generator=gen, dtype=torch.float64)
    noise = torch.randn(600, 3, generator=gen, dtype=torch.float64)
    assert birnn.linear_probe(code[:400], y[:400], code[400:], y[400:]) > 0.95
    assert birnn.linear_probe(noise[:400], y[:400], noise[400:], y[400:]) < 0.5
