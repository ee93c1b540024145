"""Seq2seq: masking, scratch cells = torch cells, decoding (greedy = beam 1, exact on a toy model), data."""
import datetime
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import data, parallel, seq2seq, tasks
from course_lib.lstm_gru import copy_from_torch
from course_lib.seq2seq import PAD_ID, Seq2Seq, TableModel, beam_search, greedy_search

V_SRC, V_TGT = 11, 9
BOS, EOS = 2, 3


def _batch(gen, B=5, S=7, T=6):
    """A padded batch with different source and target lengths (ids ≥ 4 are words)."""
    src_l = torch.randint(2, S + 1, (B,), generator=gen)
    src_l[0] = S
    tgt_l = torch.randint(1, T, (B,), generator=gen)
    tgt_l[1] = T - 1
    src = [torch.randint(4, V_SRC, (int(n),), generator=gen).tolist() for n in src_l]
    tgt = [torch.randint(4, V_TGT, (int(n),), generator=gen).tolist() for n in tgt_l]
    return parallel.make_batch(src, tgt, BOS, EOS)


def _pad_more(t, extra):
    return torch.cat([t, torch.full((t.shape[0], extra), PAD_ID, dtype=t.dtype)], dim=1)


def test_masked_cross_entropy_equals_torch_ignore_index():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 6, 10, generator=g, dtype=torch.float64)
    targets = torch.randint(1, 10, (4, 6), generator=g)
    targets[0, 3:] = PAD_ID
    targets[2, 1:] = PAD_ID
    ours = seq2seq.masked_cross_entropy(logits, targets, targets != PAD_ID)
    want = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD_ID)
    assert torch.allclose(ours, want, atol=1e-12)
    # per token, not per sentence: the mean of sentence means differs here
    per_sentence = torch.stack([F.cross_entropy(logits[b], targets[b], ignore_index=PAD_ID) for b in range(4)]).mean()
    assert abs(float(per_sentence - ours)) > 1e-3


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_pads_never_change_the_loss_or_the_logits(cell):
    torch.manual_seed(0)
    model = Seq2Seq(V_SRC, V_TGT, 8, 12, cell=cell).double()
    src, src_l, tgt_in, targets = _batch(torch.Generator().manual_seed(1))
    logits, loss = model(src, src_l, tgt_in, targets)
    logits2, loss2 = model(_pad_more(src, 4), src_l, _pad_more(tgt_in, 3), _pad_more(targets, 3))
    assert torch.allclose(loss, loss2, atol=1e-12)
    T = tgt_in.shape[1]
    real = targets != PAD_ID
    assert torch.allclose(logits[real], logits2[:, :T][real], atol=1e-12)
    # each sentence alone (no pads at all) gives the same logits as inside the padded batch
    for b in range(src.shape[0]):
        n, m = int(src_l[b]), int(real[b].sum())
        lb, _ = model(src[b:b + 1, :n], src_l[b:b + 1], tgt_in[b:b + 1, :m])
        assert torch.allclose(lb[0], logits[b, :m], atol=1e-12)


def test_without_masking_pads_do_change_the_loss():
    torch.manual_seed(0)
    model = Seq2Seq(V_SRC, V_TGT, 8, 12, mask_source=False, mask_target=False).double()
    src, src_l, tgt_in, targets = _batch(torch.Generator().manual_seed(2))
    with torch.no_grad():
        _, loss = model(src, src_l, tgt_in, targets)
        _, loss2 = model(src, src_l, _pad_more(tgt_in, 3), _pad_more(targets, 3))
        _, loss3 = model(_pad_more(src, 3), src_l, tgt_in, targets)
    assert abs(float(loss - loss2)) > 1e-4                      # more pads, another loss                      # more pads, another loss
    assert abs(float(loss - loss3)) > 1e-6                      # the encoder reads the pads


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_scratch_cells_equal_torch_cells(cell, num_layers):
    """The course's cells with the masked unroll compute what nn.GRU/nn.LSTM compute on a packed batch."""
    torch.manual_seed(0)
    ref = Seq2Seq(V_SRC, V_TGT, 8, 12, num_layers, cell=cell, impl="torch").double()
    ours = Seq2Seq(V_SRC, V_TGT, 8, 12, num_layers, cell=cell, impl="scratch").double()
    with torch.no_grad():
        for part in ("encoder", "decoder"):
            getattr(ours, part).embed.weight.copy_(getattr(ref, part).embed.weight)
            copy_from_torch(getattr(ours, part).rnn, getattr(ref, part).rnn)
        ours.decoder.head.load_state_dict(ref.decoder.head.state_dict())
    batch = _batch(torch.Generator().manual_seed(3))
    (l1, loss1), (l2, loss2) = ref(*batch), ours(*batch)
    assert torch.allclose(l1, l2, atol=1e-10) and torch.allclose(loss1, loss2, atol=1e-12)
    loss1.backward()
    loss2.backward()
    assert torch.allclose(ref.encoder.embed.weight.grad, ours.encoder.embed.weight.grad, atol=1e-10)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_decode_step_equals_teacher_forced_forward(cell):
    torch.manual_seed(0)
    model = Seq2Seq(V_SRC, V_TGT, 8, 12, 2, cell=cell).double().eval()
    src, src_l, tgt_in, targets = _batch(torch.Generator().manual_seed(4))
    logits, _ = model(src, src_l, tgt_in)
    state = model.encode(src, src_l)
    for t in range(tgt_in.shape[1]):
        logp, state = model.decode_step(tgt_in[:, t], state)
        assert torch.allclose(logp, torch.log_softmax(logits[:, t], -1), atol=1e-10)


def test_reverse_padded_keeps_pads_at_the_end():
    ids = torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0], [4, 5, 6, 7]])
    out = seq2seq.reverse_padded(ids, torch.tensor([3, 2, 4]))
    assert out.tolist() == [[7, 6, 5, 0], [9, 8, 0, 0], [7, 6, 5, 4]]


# ----------------------------------------------------------------------------- decoding

def test_beam_width_one_equals_greedy():
    lengths = []
    for seed in range(4):
        torch.manual_seed(seed)
        model = Seq2Seq(V_SRC, V_TGT, 8, 16, cell="gru" if seed % 2 else "lstm").eval()
        src, src_l, _, _ = _batch(torch.Generator().manual_seed(10 + seed), B=8)
        greedy = greedy_search(model.decode_step, model.encode(src, src_l), 8, BOS, EOS, max_len=9)
        beam1 = beam_search(model.decode_step, model.encode(src, src_l), 8, BOS, EOS, max_len=9, beam_size=1)
        assert greedy == beam1
        lengths += [len(g) for g in greedy]
    assert min(lengths) < 9 and max(lengths) == 9        # both ways of stopping occurred: <eos> and max_len


def _table(probs):
    return TableModel(torch.log(torch.tensor(probs, dtype=torch.float64)))


def _brute_force_best(model, V, max_len, alpha):
    """Score every sequence y_1..y_k <eos> (k < max_len) and every eos-free one of length max_len."""
    best = (-math.inf, None)
    for k in range(max_len + 1):
        for seq in itertools.product([w for w in range(V) if w != EOS], repeat=k):
            prev, total = BOS, 0.0
            for w in seq:
                total += float(model.table[prev, w])
                prev = w
            if k < max_len:
                score = (total + float(model.table[prev, EOS])) / (k + 1) ** alpha
            else:
                score = total / max_len ** alpha
            best = max(best, (score, list(seq)))
    return best


def test_toy_model_beam_finds_what_greedy_misses():
    # from <bos>: "a" (0.6) or "b" (0.4); after "a" the next token is unsure (at best 0.4), after "b" <eos> is certain.
    # greedy takes "a" and then pays for it; the best sentence is "b" alone, which beam 2 keeps.
    V = 6
    A, B_ = 4, 5
    p = torch.full((V, V), 1e-9).tolist()
    p[BOS][A], p[BOS][B_] = 0.6, 0.4
    p[A][A], p[A][B_], p[A][0], p[A][1] = 0.4, 0.2, 0.2, 0.2
    p[B_][EOS] = 1.0
    model = _table(p)
    dummy = (torch.zeros(1, 1),)
    assert greedy_search(model.step, dummy, 1, BOS, EOS, max_len=2) == [[A, A]]
    out, scores = beam_search(model.step, dummy, 1, BOS, EOS, max_len=2, beam_size=2, alpha=0.0, return_scores=True)
    assert out == [[B_]] and scores[0] == pytest.approx(math.log(0.4), abs=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wide_beam_is_exact_on_a_random_toy_model(alpha, seed):
    """With a beam as wide as the search space, beam search returns the brute-force best sequence."""
    V, max_len = 5, 4
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(torch.randn(V, V, generator=g, dtype=torch.float64) * 2, -1)
    model = TableModel(torch.log(probs))
    want_score, want = _brute_force_best(model, V, max_len, alpha)
    out, scores = beam_search(model.step, (torch.zeros(1, 1),), 1, BOS, EOS, max_len, beam_size=V ** max_len,
                              alpha=alpha, return_scores=True)
    assert out[0] == want and scores[0] == pytest.approx(want_score, abs=1e-9)


def test_beam_trace_records_what_the_search_did():
    """The trace (notebook 08's worked example) agrees with the search: the prefixes are kept best first with
    their Σ log P, and the answer is the finished hypothesis with the best normalised score."""
    V, max_len = 5, 4
    logits = torch.randn(V, V, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 2
    logits[:, EOS] += 1.5                                              # so that some hypotheses finish early
    model = TableModel(torch.log_softmax(logits, -1))
    trace = []
    out, scores = beam_search(model.step, (torch.zeros(1, 1),), 1, BOS, EOS, max_len, beam_size=3, alpha=1.0,
                              return_scores=True, trace=trace)
    assert [row["step"] for row in trace] == list(range(1, len(trace) + 1))
    for row in trace:
        sums = [s for _, s in row["kept"]]
        assert sums == sorted(sums, reverse=True) and len(sums) <= 3
        for ids, s in row["kept"]:                                   # each kept score is the prefix's Σ log P
            prev, total = BOS, 0.0
            for w in ids:
                total, prev = total + float(model.table[prev, w]), w
            assert s == pytest.approx(total, abs=1e-9) and len(ids) == row["step"]
    finished = [(norm, ids) for row in trace for ids, _, norm in row["finished"]]
    assert finished and all(norm <= scores[0] + 1e-12 for norm, _ in finished)   # the answer beats every one
    best_norm, best_ids = max(finished, key=lambda f: f[0])
    assert best_norm < scores[0] - 1e-12 or out[0] == best_ids
    plain = beam_search(model.step, (torch.zeros(1, 1),), 1, BOS, EOS, max_len, beam_size=3, alpha=1.0)
    assert plain == out                                                # tracing changes nothing


def test_finished_hypotheses_are_kept():
    # "<eos>" right away has P = 0.5; every longer sentence is worse, even after length normalisation,
    # though the beam goes on extending the other prefixes after the early <eos> finished.
    V = 6
    p = torch.full((V, V), 1e-9).tolist()
    p[BOS][EOS], p[BOS][4], p[BOS][5] = 0.5, 0.3, 0.2
    for w in (4, 5):
        p[w][4], p[w][5], p[w][EOS] = 0.45, 0.45, 0.1
    model = _table(p)
    out = beam_search(model.step, (torch.zeros(1, 1),), 1, BOS, EOS, max_len=6, beam_size=2, alpha=1.0)
    assert out == [[]]


def test_beam_search_batched_equals_one_by_one():
    torch.manual_seed(0)
    model = Seq2Seq(V_SRC, V_TGT, 8, 16).eval()
    src, src_l, _, _ = _batch(torch.Generator().manual_seed(5), B=6)
    together = beam_search(model.decode_step, model.encode(src, src_l), 6, BOS, EOS, 8, beam_size=3)
    for b in range(6):
        alone = beam_search(model.decode_step, model.encode(src[b:b + 1], src_l[b:b + 1]), 1, BOS, EOS, 8, beam_size=3)
        assert alone[0] == together[b]


# ----------------------------------------------------------------------------- data

def test_date_pairs_are_correct_and_seeded():
    pairs = tasks.date_pairs(300, seed=3)
    assert pairs == tasks.date_pairs(300, seed=3) and pairs != tasks.date_pairs(300, seed=4)
    for src, iso in pairs:
        day = datetime.date.fromisoformat(iso)
        assert src in {tasks.format_date(day, f) for f in tasks.DATE_FORMATS}
    assert {len(s) for s, _ in pairs} != {len(pairs[0][0])}          # sources of different lengths


def test_batches_shift_targets_by_one():
    train, test = parallel.dates(200, 50, seed=0)
    src, src_l, tgt_in, targets = train.batch([0, 1, 2, 3])
    assert src.shape[0] == 4 and (src_l == torch.tensor([len(train.src_ids[i]) for i in range(4)])).all()
    assert (tgt_in[:, 0] == train.bos_id).all() and (tgt_in[:, 1:] == targets[:, :-1]).all()
    assert (targets[:, -1] == train.eos_id).all()                    # ISO dates all have 10 characters
    assert test.src_vocab is train.src_vocab


def test_eng_fra_split_is_fixed_and_disjoint():
    try:
        train, held = parallel.eng_fra()
    except data.DataNotFoundError as exc:  # the corpus is not here (tests never download)
        pytest.skip(f"eng-fra not available: {exc}")
    assert len(held) == 500
    seen = {tuple(s) for s, _ in train.pairs}
    assert not any(tuple(s) in seen for s, _ in held)
    assert all(len(refs) >= 1 for _, refs in held) and any(len(refs) > 1 for _, refs in held)
    assert parallel.tokenize("Je n'ai pas d'argent, c'est à moi.") == \
        ["je", "n'ai", "pas", "d'argent", ",", "c'est", "à", "moi", "."]


def test_shipped_checkpoint_matches_the_data_pipeline():
    """assets/eng_fra_seq2seq.pt was trained on exactly the vocabularies parallel.eng_fra() builds."""
    try:
        train, held = parallel.eng_fra()
    except data.DataNotFoundError as exc:
        pytest.skip(f"eng-fra not available: {exc}")
    model, info = parallel.load_eng_fra()
    assert info["src_itos"] == train.src_vocab.itos and info["tgt_itos"] == train.tgt_vocab.itos
    assert info["training"] == parallel.ENG_FRA_TRAINING
    out = parallel.translate_sentences(model, train, [parallel.tokenize("i am very tired .")])
    assert out == [["je", "suis", "très", "fatigué", "."]]
