"""Hidden tests for 08_seq2seq."""
import numpy as np

from course_lib import bleu
from course_lib.grading.spec import Fail, as_array, expect, expect_close, test

rng = np.random.default_rng(80)


def _masked_ce(logits, targets, pad_id):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, targets[..., None], -1)[..., 0]
    mask = targets != pad_id
    return (nll * mask).sum() / mask.sum()


def _scalar(out, what):
    arr = as_array(out, what)
    if arr.size != 1:
        raise Fail(f"{what}: return one number")
    return float(arr.ravel()[0])


@test("masked_cross_entropy", points=1)
def other_pad_id_large_logits_and_sizes(student):
    """pad id 5, logits of size 1000 (overflow without the max shift), B·T up to 7·9"""
    for B, T, V, pad in [(7, 9, 11, 5), (1, 3, 4, 0), (4, 6, 8, 7)]:
        logits = rng.normal(size=(B, T, V)) * 300
        targets = rng.integers(0, V, size=(B, T))
        targets[targets == pad] = (pad + 1) % V
        for b in range(B):
            targets[b, rng.integers(1, T + 1):] = pad
        got = _scalar(student.call("masked_cross_entropy", logits, targets, pad), "masked_cross_entropy(...)")
        expect_close(got, _masked_ce(logits, targets, pad), f"B={B}, T={T}, pad_id={pad}: the masked mean", rtol=1e-6)


def _decoder(V, D, H, seed):
    r = np.random.default_rng(seed)
    return {"E": r.normal(size=(V, D)), "W_xh": r.normal(size=(H, D)), "W_hh": r.normal(size=(H, H)) * 0.5,
            "W_hc": r.normal(size=(H, H)) * 0.5, "b_h": r.normal(size=H) * 0.1,
            "W_hy": r.normal(size=(V, H)) * 2, "b_y": r.normal(size=V)}, r.normal(size=H)


def _greedy(p, c, bos, eos, max_len):
    h, prev, out = c, bos, []
    for _ in range(max_len):
        h = np.tanh(p["W_xh"] @ p["E"][prev] + p["W_hh"] @ h + p["W_hc"] @ c + p["b_h"])
        prev = int(np.argmax(p["W_hy"] @ h + p["b_y"]))
        if prev == eos:
            break
        out.append(prev)
    return out


@test("greedy_decode", points=1)
def many_decoders_other_ids(student):
    """20 random decoders with <bos> = 2, <eos> = 3, max_len from 1 to 12"""
    for seed in range(20):
        p, c = _decoder(9, 5, 6, 1000 + seed)
        max_len = 1 + seed % 12
        want = _greedy(p, c, 2, 3, max_len)
        out = student.call("greedy_decode", p, c, 2, 3, max_len)
        got = [int(x) for x in np.asarray(out if out is not None else [-1]).ravel()]
        expect(got == want, f"decoder {seed}, max_len {max_len}: expected {want}, got {got}")


@test("greedy_decode", points=1)
def immediate_eos_gives_empty(student):
    """a decoder whose first prediction is <eos>: an empty list"""
    p, c = _decoder(5, 3, 4, 7)
    p["b_y"] = np.array([0.0, 100.0, 0.0, 0.0, 0.0])
    out = student.call("greedy_decode", p, c, 0, 1, 5)
    expect(len(list(np.asarray(out).ravel())) == 0, "when <eos> comes first, the translation is empty")


def _beam_step(scores, log_probs, k):
    K, V = log_probs.shape
    cand = (scores[:, None] + log_probs).ravel()
    best = np.argsort(-cand, kind="stable")[:k]
    return cand[best], best // V, best % V


@test("beam_step", points=1)
def many_shapes_and_one_live_beam(student):
    """K from 1 to 5, V up to 30; the first step's scores (0, −inf, −inf) keep only beam 0's children"""
    cases = [(np.array([0.0, -np.inf, -np.inf]), np.log(rng.dirichlet(np.ones(8), size=3)), 3)]
    for K, V in [(1, 5), (2, 30), (5, 9)]:
        cases.append((-rng.exponential(size=K) * 3, np.log(rng.dirichlet(np.ones(V) * 0.3, size=K)), K))
    for scores, lp, k in cases:
        out = student.call("beam_step", scores, lp, k)
        expect(isinstance(out, (tuple, list)) and len(out) == 3, "return (new_scores, parents, tokens)")
        want = _beam_step(scores, lp, k)
        expect_close(out[0], want[0], f"K={lp.shape[0]}, V={lp.shape[1]}: new scores")
        expect_close(out[1], want[1], f"K={lp.shape[0]}, V={lp.shape[1]}: parents")
        expect_close(out[2], want[2], f"K={lp.shape[0]}, V={lp.shape[1]}: tokens")


@test("beam_step", points=1)
def ties_across_three_beams(student):
    """K = 3, V = 4, many exactly equal candidates: ties keep the flat order (smaller k, then smaller w)"""
    scores = np.array([-2.0, -1.5, -2.0])
    lp = np.log(np.array([[0.25, 0.25, 0.25, 0.25], [0.125, 0.375, 0.125, 0.375], [0.25, 0.25, 0.25, 0.25]]))
    out = student.call("beam_step", scores, lp, 6)
    want = _beam_step(scores, lp, 6)
    expect_close(out[1], want[1], "tied candidates: parents in the flat order")
    expect_close(out[2], want[2], "tied candidates: tokens in the flat order")


@test("sentence_bleu", points=1)
def against_course_bleu_many_cases(student):
    """random sentences over a 6-word vocabulary, 1 to 3 references, lengths 4 to 14; ties in the closest length"""
    words = "a b c d e f".split()
    done = 0
    for _ in range(200):
        refs = [list(rng.choice(words, size=rng.integers(4, 15))) for _ in range(rng.integers(1, 4))]
        h = list(rng.choice(words, size=rng.integers(4, 15)))
        want = bleu.sentence_bleu(h, refs, smooth="none", effective_order=False)
        if want == 0:
            continue
        got = _scalar(student.call("sentence_bleu", h, refs), "sentence_bleu(...)")
        expect_close(got, want, f"hypothesis {' '.join(h)!r} against {len(refs)} references")
        done += 1
        if done == 12:
            break
    refs = ["a b c d e f".split(), "a b c d e f g h".split()]
    h = "a b c d e f g".split()                        # 7 tokens: references 6 and 8 are equally close: use 6
    expect_close(_scalar(student.call("sentence_bleu", h, refs), "sentence_bleu"), bleu.sentence_bleu(
        h, refs, smooth="none", effective_order=False), "a tie between reference lengths goes to the shorter one")


@test("sentence_bleu", points=1)
def zero_precision_and_max_n(student):
    """a missing 4-gram match gives 0 without smoothing; max_n = 2 uses only p_1 and p_2"""
    refs = ["the cat is on the mat".split()]
    h = "the mat is on the cat".split()
    expect_close(_scalar(student.call("sentence_bleu", h, refs), "sentence_bleu"), 0.0,
                 "no 4-gram matches: p_4 = 0, so BLEU = 0 (no smoothing)")
    got = _scalar(student.call("sentence_bleu", h, refs, 2), "sentence_bleu(..., max_n=2)")
    expect_close(got, bleu.sentence_bleu(h, refs, max_n=2, smooth="none", effective_order=False),
                 "with max_n = 2 the geometric mean is over p_1 and p_2 only")


# ----------------------------------------------------------------------------- beam_search: other tables, ids and α
import importlib.util as _ilu  # noqa: E402

from course_lib.grading import paths as _paths  # noqa: E402

_spec = _ilu.spec_from_file_location("_public_08", _paths.PUBLIC_TESTS / "08_seq2seq.py")
_public = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_public)


@test("beam_search", points=1)
def wide_beams_on_other_tables(student):
    """V 4-6, max_len 3-4, α 0, 0.6, 1, ids anywhere: the wide beam is the brute-force best"""
    for V, max_len, bos, eos, alpha, seed in ((4, 4, 0, 3, 0.6, 1), (6, 3, 5, 2, 1.0, 2), (5, 4, 1, 0, 0.0, 3),
                                              (5, 4, 4, 2, 1.0, 4)):
        _public.check_against_brute_force(student, _public.random_table(V, seed, bos, 1.5), bos, eos, max_len, alpha,
                                          f"V {V}, max_len {max_len}, bos {bos}, eos {eos}, α {alpha}")


@test("beam_search", points=1)
def beam_one_is_greedy_and_max_len_counts(student):
    """beam 1 is greedy decoding; a sentence cut at max_len counts as finished, with L = max_len"""
    table = _public.random_table(6, 9, 4, 2.5)
    bos, eos, max_len = 4, 5, 5
    prev, greedy, total = bos, [], 0.0
    for t in range(1, max_len + 1):
        w = int(np.argmax(table[prev]))
        total += table[prev, w]
        if w == eos:
            break
        greedy.append(w)
        prev = w
    tokens, score = _public.run_beam(student, table, bos, eos, 1, max_len, 1.0)
    expect(tokens == greedy, f"beam 1 must be greedy decoding: {greedy}, got {tokens}")
    L = len(greedy) + 1 if len(greedy) < max_len else max_len
    expect_close(score, total / L, "beam 1: the greedy sentence's Σ log P / L")
    # no <eos> is likely within 4 steps: the prefixes live at max_len win, normalised by L = max_len
    table = _public._table(6, {(5, 2): 0.8, (5, 0): 0.2, (2, 3): 0.85, (2, 0): 0.15, (3, 2): 0.9, (3, 0): 0.1}, 1e-6)
    tokens, score = _public.run_beam(student, table, 5, 0, 3, 4, 1.0)
    expect(tokens == [2, 3, 2, 3], f"after max_len = 4 the live prefixes count as finished: [2, 3, 2, 3]; got {tokens}")
    expect_close(score, (table[5, 2] + table[2, 3] + table[3, 2] + table[2, 3]) / 4, "a sentence cut at max_len: L = 4")
