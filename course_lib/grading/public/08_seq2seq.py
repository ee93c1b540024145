"""Public tests for 08_seq2seq."""
import numpy as np

from course_lib import bleu
from course_lib.grading.spec import Fail, as_array, expect, expect_close, test

rng = np.random.default_rng(8)


# ----------------------------------------------------------------------------- masked cross-entropy

def _masked_ce(logits, targets, pad_id):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, targets[..., None], -1)[..., 0]
    mask = targets != pad_id
    return (nll * mask).sum() / mask.sum()


def _padded_targets(B, T, V, lengths, pad_id=0):
    t = rng.integers(1, V, size=(B, T))
    for b, n in enumerate(lengths):
        t[b, n:] = pad_id
    return t


def _scalar(out, what):
    arr = as_array(out, what)
    if arr.size != 1:
        raise Fail(f"{what}: return one number (the mean over the real tokens), got shape {arr.shape}")
    return float(arr.ravel()[0])


@test("masked_cross_entropy", points=1)
def real_tokens_only_every_token_weighs_the_same(student):
    """sentences of lengths 5, 2 and 4 in a (3, 5) batch: the mean over the 11 real tokens"""
    logits = rng.normal(size=(3, 5, 6)) * 2
    targets = _padded_targets(3, 5, 6, [5, 2, 4])
    got = _scalar(student.call("masked_cross_entropy", logits, targets, 0), "masked_cross_entropy(...)")
    want = _masked_ce(logits, targets, 0)
    hint = ""
    z = logits - logits.max(-1, keepdims=True)
    nll = -np.take_along_axis(z - np.log(np.exp(z).sum(-1, keepdims=True)), targets[..., None], -1)[..., 0]
    if np.isclose(got, nll.mean()):
        hint = ": the pads were counted as targets (mask them out)"
    elif np.isclose(got, (nll * (targets != 0)).sum() / targets.size):
        hint = ": divide by the number of real tokens (11), not by B·T (15)"
    elif np.isclose(got, np.mean([(nll[b] * (targets[b] != 0)).sum() / (targets[b] != 0).sum() for b in range(3)])):
        hint = ": a mean of sentence means weighs the short sentence's tokens more; average over all real tokens"
    expect_close(got, want, "the loss should be the mean of −log softmax(logits)[target] over the non-pad positions" + hint)


@test("masked_cross_entropy", points=1)
def adding_pads_changes_nothing(student):
    """the same batch padded with 3 more columns gives the same loss"""
    logits = rng.normal(size=(2, 4, 5))
    targets = _padded_targets(2, 4, 5, [4, 3])
    a = _scalar(student.call("masked_cross_entropy", logits, targets, 0), "masked_cross_entropy(...)")
    logits2 = np.concatenate([logits, rng.normal(size=(2, 3, 5)) * 3], axis=1)
    targets2 = np.concatenate([targets, np.zeros((2, 3), dtype=targets.dtype)], axis=1)
    b = _scalar(student.call("masked_cross_entropy", logits2, targets2, 0), "masked_cross_entropy(...)")
    expect_close(a, _masked_ce(logits, targets, 0), "the masked mean over the real tokens")
    expect_close(b, a, "padding the batch further must not change the loss: pads are not targets")


@test("masked_cross_entropy", points=1)
def another_pad_id_and_large_logits(student):
    """pad_id 3 (0 is a real token here), and logits of size 1000 (the log-softmax must not overflow)"""
    local = np.random.default_rng(81)
    logits = local.normal(size=(2, 4, 5)) * 3
    targets = np.array([[0, 2, 3, 3], [4, 0, 1, 3]])          # 3 pads; 0 is a word
    got = _scalar(student.call("masked_cross_entropy", logits, targets, 3), "masked_cross_entropy(...)")
    hint = ""
    if np.isclose(got, _masked_ce(logits, targets, 0)):
        hint = ": the pads were taken to be the 0s; use the pad_id argument (here 3, and 0 is a real token)"
    expect_close(got, _masked_ce(logits, targets, 3), "with pad_id = 3 the mean is over the 5 positions whose target "
                 "is not 3" + hint)
    big = logits * 400
    got = _scalar(student.call("masked_cross_entropy", big, targets, 3), "masked_cross_entropy(...)")
    expect(np.isfinite(got), "logits of size ~1000 gave nan or inf: exp overflows unless the log-softmax subtracts "
           "each row's largest logit first (softmax is unchanged by that shift)")
    expect_close(got, _masked_ce(big, targets, 3), "the masked mean with logits of size ~1000", atol=1e-6)


# ----------------------------------------------------------------------------- greedy decoding

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


def _run_on(p, c, bos, eos, max_len):
    """What a decoder that does not stop at <eos> would predict: max_len ids, <eos> included."""
    h, prev, out = c, bos, []
    for _ in range(max_len):
        h = np.tanh(p["W_xh"] @ p["E"][prev] + p["W_hh"] @ h + p["W_hc"] @ c + p["b_h"])
        prev = int(np.argmax(p["W_hy"] @ h + p["b_y"]))
        out.append(prev)
    return out


def _find_case(V, D, H, want_eos, max_len=8, start=0):
    """The first seed whose greedy output ends with <eos> (or never does) within max_len, length ≥ 2;
    with <eos>, a decoder that went on would have said other words after it (so stopping late shows)."""
    for seed in range(start, start + 500):
        p, c = _decoder(V, D, H, seed)
        out = _greedy(p, c, 0, 1, max_len)
        if want_eos and 2 <= len(out) < max_len and len(set(out)) > 1 \
                and any(w != 1 for w in _run_on(p, c, 0, 1, max_len)[len(out) + 1:]):
            return p, c
        if not want_eos and len(out) == max_len and len(set(out)) > 1:
            return p, c
    raise RuntimeError("no case found")


def _as_ids(out, what):
    if out is None:
        raise Fail(f"{what}: got None; return the list of predicted ids")
    try:
        return [int(x) for x in list(np.asarray(out).ravel())]
    except (TypeError, ValueError):
        raise Fail(f"{what}: return a list of token ids (ints)") from None


@test("greedy_decode", points=1)
def stops_at_eos(student):
    """a decoder that says <eos> (id 1) after a few tokens: the tokens before it, <eos> excluded"""
    p, c = _find_case(7, 4, 5, want_eos=True)
    want = _greedy(p, c, 0, 1, 8)
    got = _as_ids(student.call("greedy_decode", p, c, 0, 1, 8), "greedy_decode(...)")
    if got[:len(want)] == want and len(got) > len(want):
        raise Fail(f"stop at the first <eos>: expected {want}, got {got} (do not include <eos>, do not go on after it)")
    expect(got == want, f"greedy_decode: expected {want}, got {got}. Feed back each argmax as the next input, "
                        "start from h_0 = c with y_0 = <bos>, and add W_hc c at every step")


@test("greedy_decode", points=1)
def stops_at_max_len(student):
    """a decoder that never says <eos>: exactly max_len tokens, each fed back"""
    p, c = _find_case(6, 3, 4, want_eos=False, max_len=6, start=100)
    want = _greedy(p, c, 0, 1, 6)
    got = _as_ids(student.call("greedy_decode", p, c, 0, 1, 6), "greedy_decode(...)")
    expect(len(got) == 6, f"with no <eos> the output has max_len = 6 tokens, got {len(got)}")
    expect(got == want, f"greedy_decode: expected {want}, got {got}. The input at step j is the prediction of "
                        "step j-1, and every step reads c through W_hc")


# ----------------------------------------------------------------------------- one beam step

def _beam_step(scores, log_probs, k):
    K, V = log_probs.shape
    cand = (scores[:, None] + log_probs).ravel()
    best = np.argsort(-cand, kind="stable")[:k]
    return cand[best], best // V, best % V


def _check_beam(student, scores, log_probs, k, note=""):
    out = student.call("beam_step", scores, log_probs, k)
    expect(isinstance(out, (tuple, list)) and len(out) == 3, "return a tuple (new_scores, parents, tokens)")
    want = _beam_step(scores, log_probs, k)
    got_p = as_array(out[1], "parents", shape=(k,))
    got_t = as_array(out[2], "tokens", shape=(k,))
    expect_close(out[0], want[0], "new_scores: the beam_size best of all K·V sums s_k + log P(w | prefix_k), "
                 "best first" + note)
    expect_close(got_p, want[1], "parents: the prefix each kept candidate extends (flat index // V)")
    expect_close(got_t, want[2], "tokens: the token each kept candidate adds (flat index % V)")


@test("beam_step", points=1)
def candidates_are_ranked_across_beams(student):
    """K = 3, V = 6: the best prefix gets two children, the worst none"""
    scores = np.array([-0.5, -1.0, -4.0])
    log_probs = np.log(rng.dirichlet(np.ones(6) * 0.5, size=3))
    log_probs[0, 2], log_probs[0, 4] = np.log(0.45), np.log(0.4)
    _check_beam(student, scores, log_probs, 3, " (rank all candidates together: one prefix may get several children)")


@test("beam_step", points=1)
def the_past_counts(student):
    """the prefix scores are added: a likely next word after an unlikely prefix loses"""
    scores = np.array([-0.2, -3.0, -1.1, -2.2])
    log_probs = np.log(rng.dirichlet(np.ones(7), size=4))
    log_probs[1, 5] = np.log(0.97)
    _check_beam(student, scores, log_probs, 4, " (the score of a candidate includes its prefix's score s_k)")


@test("beam_step", points=1)
def equal_scores_keep_the_flat_order(student):
    """exact ties: candidates of equal score keep their order in the flat K·V list (smaller k, then smaller w)"""
    scores = np.array([-1.0, -1.0])
    log_probs = np.log(np.array([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]))
    _check_beam(student, scores, log_probs, 4, ": on a tie the candidate earlier in the flat list (smaller prefix "
                "index k, then smaller token w) comes first; a sort that is not stable, or one reversed, breaks ties "
                "the other way")


# ----------------------------------------------------------------------------- sentence BLEU

def _bleu(h, refs):
    return bleu.sentence_bleu(h, refs, smooth="none", effective_order=False)


def _check_bleu(student, h, refs, message):
    got = _scalar(student.call("sentence_bleu", h, refs), "sentence_bleu(...)")
    expect_close(got, _bleu(h, refs), message, atol=1e-6)


@test("sentence_bleu", points=1)
def matches_and_clipping(student):
    """two references; a repeated n-gram counts at most as often as in the best reference"""
    refs = ["the cat is on the mat .".split(), "there is a cat on the mat .".split()]
    h = "the cat the cat is on the mat .".split()
    _check_bleu(student, h, refs, "BLEU of a hypothesis longer than its references (BP = 1): clip each n-gram's "
                "count by its largest count in ONE reference, then the geometric mean of p_1..p_4, times 100")


@test("sentence_bleu", points=1)
def short_hypotheses_pay_the_brevity_penalty(student):
    """a hypothesis shorter than every reference: BP = exp(1 − r/c) with r the closest reference length"""
    refs = ["je suis très fatigué ce soir .".split(), "je suis vraiment très fatigué ce soir , vraiment .".split()]
    h = "je suis très fatigué .".split()
    _check_bleu(student, h, refs, "a 5-token hypothesis against references of 7 and 11 tokens: multiply by "
                "BP = exp(1 − 7/5) (the closest reference, 7)")
    h2 = "je suis très fatigué ce soir".split()
    _check_bleu(student, h2, refs, "6 tokens against 7 and 11: BP = exp(1 − 7/6)")


@test("sentence_bleu", points=1)
def closest_reference_not_shortest(student):
    """r is the reference length CLOSEST to c (on a tie the shorter), not the shortest or the longest"""
    refs = ["a b c d".split(), "a b c d e f g h i".split()]
    h = "a b c d e f g h".split()                            # c = 8: closest r = 9, shortest 4
    _check_bleu(student, h, refs, "an 8-token hypothesis against references of 4 and 9 tokens: r = 9, the closest "
                "length, so BP = exp(1 − 9/8) (taking the shortest, 4, would give BP = 1)")
    refs = ["a b c d e f".split(), "a b c d e f g h i j".split()]
    _check_bleu(student, h, refs, "8 tokens against references of 6 and 10: both are 2 away, and on a tie r is the "
                "SHORTER one (6), so BP = 1")


@test("sentence_bleu", points=1)
def a_zero_precision_gives_zero(student):
    """no 4-gram of the hypothesis is in a reference: p_4 = 0, so BLEU = 0 without smoothing"""
    refs = ["the cat sat on the mat".split()]
    h = "the cat on the sat mat".split()                     # 4 unigrams, some bigrams, no 4-gram match
    got = _scalar(student.call("sentence_bleu", h, refs), "sentence_bleu(...)")
    expect(got == 0.0, f"p_4 = 0 here, so the geometric mean exp(¼ Σ log p_n) is 0 and BLEU = 0; got {got:.4g} "
           "(an n-order with no match must not be skipped)")


# ----------------------------------------------------------------------------- a whole beam search (end to end)

def brute_force_best(log_table, bos, eos, max_len, alpha):
    """Every sentence the toy decoder can produce (never <bos>): y_1..y_k <eos> (k < max_len) or max_len tokens without <eos>;
    the best by Σ log P / L^alpha (L counts the <eos>). Returns (normalised score, tokens)."""
    import itertools
    V = log_table.shape[0]
    best = (-np.inf, None)
    for k in range(max_len + 1):
        for seq in itertools.product([w for w in range(V) if w not in (eos, bos)], repeat=k):
            prev, total = bos, 0.0
            for w in seq:
                total += log_table[prev, w]
                prev = w
            if k < max_len:
                score = (total + log_table[prev, eos]) / (k + 1) ** alpha
            else:
                score = total / max_len ** alpha
            if score > best[0]:
                best = (score, list(seq))
    return best


def random_table(V, seed, bos, sharpness=2.0):
    """A random toy decoder that never predicts <bos> (log P = −∞), like a real one."""
    r = np.random.default_rng(seed)
    z = r.normal(size=(V, V)) * sharpness
    z[:, bos] = -np.inf
    m = z.max(1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(1, keepdims=True))


def run_beam(student, log_table, bos, eos, beam_size, max_len, alpha):
    out = student.call("beam_search", log_table, bos, eos, beam_size, max_len, alpha)
    expect(isinstance(out, (tuple, list)) and len(out) == 2, "beam_search should return a tuple (tokens, score)")
    tokens = out[0]
    expect(isinstance(tokens, (list, tuple, np.ndarray)), f"the tokens should be a list of ints, got "
           f"{type(tokens).__name__}")
    tokens = [int(t) for t in np.asarray(tokens).ravel()]
    score = float(as_array(out[1], "the score").ravel()[0])
    return tokens, score


def check_against_brute_force(student, log_table, bos, eos, max_len, alpha, what):
    V = log_table.shape[0]
    want_score, want = brute_force_best(log_table, bos, eos, max_len, alpha)
    tokens, score = run_beam(student, log_table, bos, eos, V ** max_len, max_len, alpha)
    if tokens != want:
        why = ""
        raw = brute_force_best(log_table, bos, eos, max_len, 0.0)[1]
        if alpha and tokens == raw:
            why = (f": that is the best sentence by the raw Σ log P; with α = {alpha} finished hypotheses are compared "
                   "by Σ log P / L^α (length normalisation)")
        elif eos in tokens:
            why = ": <eos> ends a hypothesis; it is neither extended nor part of the returned tokens"
        elif alpha:
            why = (": is L, in Σ log P / L^α, the number of tokens the hypothesis predicted, its <eos> included "
                   "(max_len for one cut at max_len)?")
        raise Fail(f"{what}: a beam as wide as the search space ({V}^{max_len}) must return the best sentence of a "
                   f"brute-force search, {want}; got {tokens}{why}")
    expect_close(score, want_score, f"{what}: the returned score should be the answer's Σ log P / L^α with L its "
                 "number of predicted tokens, <eos> included (max_len for a hypothesis that never ended)", atol=1e-6)


@test("beam_search", points=1)
def wide_beam_equals_brute_force(student):
    """V = 5, max_len 4, bos 3, eos 1: with beam_size = 5^4 the answer is the brute-force best, for α = 0 and α = 1"""
    table = random_table(5, seed=65, bos=3, sharpness=1.5)   # α = 0 picks the empty sentence, α = 1 a 3-token one
    check_against_brute_force(student, table, 3, 1, 4, 0.0, "α = 0")
    check_against_brute_force(student, table, 3, 1, 4, 1.0, "α = 1")


def _table(V, entries, floor=1e-9):
    p = np.full((V, V), floor)
    for (v, w), q in entries.items():
        p[v, w] = q
    return np.log(p / p.sum(1, keepdims=True))


@test("beam_search", points=1)
def beam_two_finds_what_greedy_misses(student):
    """from <bos>, 'a' (0.6) or 'b' (0.4); after 'a' nothing is sure, after 'b' <eos> is: beam 2 keeps 'b'"""
    bos, eos, a, b = 2, 0, 4, 5
    table = _table(6, {(bos, a): 0.6, (bos, b): 0.4, (a, a): 0.4, (a, b): 0.2, (a, 1): 0.2, (a, 3): 0.2,
                       (b, eos): 1.0})
    tokens, score = run_beam(student, table, bos, eos, 2, 2, 0.0)
    expect(tokens == [b], f"beam 2, α = 0: the best sentence is 'b <eos>' (P = 0.4); greedy takes 'a' (0.6) and then "
           f"finds at best 0.4 (P = 0.24). Got {tokens}: are all K·V candidates ranked together, and is a finished "
           "hypothesis kept?")
    expect_close(score, table[bos, b] + table[b, eos], "the score of 'b <eos>' with α = 0 is log 0.4")


@test("beam_search", points=1)
def an_early_finish_is_kept(student):
    """<eos> at once has P = 0.5; the beam goes on extending the rest, yet nothing longer beats it per token"""
    bos, eos = 0, 1
    table = _table(6, {(bos, eos): 0.5, (bos, 4): 0.3, (bos, 5): 0.2, (4, 4): 0.45, (4, 5): 0.45, (4, eos): 0.1,
                       (5, 4): 0.45, (5, 5): 0.45, (5, eos): 0.1})
    tokens, score = run_beam(student, table, bos, eos, 2, 6, 1.0)
    expect(tokens == [], f"the empty sentence '<eos>' (log 0.5 per token) is the best here; got {tokens}: a hypothesis "
           "that ends with <eos> is finished, kept in the finished list with its score, and leaves the beam")
    expect_close(score, table[bos, eos], "the empty sentence's score is log 0.5 / 1^α")


@test("beam_search", points=1)
def a_sentence_cut_at_max_len_counts(student):
    """no <eos> within max_len = 3 is likely: the prefixes still live after 3 steps count as finished"""
    table = _table(5, {(0, 2): 0.9, (0, 1): 0.1, (2, 3): 0.9, (2, 1): 0.1, (3, 2): 0.9, (3, 1): 0.1}, 1e-6)
    tokens, score = run_beam(student, table, 0, 1, 2, 3, 0.0)
    expect(tokens == [2, 3, 2], f"after max_len = 3 steps the prefixes still live count as finished (without <eos>), "
           f"and '2 3 2' (P = 0.73) beats every sentence that ended with <eos> (P ≤ 0.1); got {tokens}")
