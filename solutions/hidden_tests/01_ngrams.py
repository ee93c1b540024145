"""Hidden tests for 01_ngrams: inputs chosen so that each classic mistake shows."""
import math
import random
from collections import Counter, defaultdict

from course_lib.grading.spec import Fail, expect, expect_close, test

random.seed(7)
WORDS = ["to", "be", "or", "not", "that", "is", "the", "question"]
SENTS = [[random.choice(WORDS) for _ in range(random.randint(1, 8))] for _ in range(40)]
TEST_SENTS = [[random.choice(WORDS + ["zounds"]) for _ in range(random.randint(1, 6))] for _ in range(12)]


def _ref_counts(sentences):
    c = defaultdict(Counter)
    for s in sentences:
        p = ["<bos>"] + s + ["<eos>"]
        for a, b in zip(p[:-1], p[1:]):
            c[a][b] += 1
    return {a: dict(b) for a, b in c.items()}


def _ref_prob(counts, prev, word, k, V):
    f = counts.get(prev, {})
    return (f.get(word, 0) + k) / (sum(f.values()) + k * V)


def _ref_pp(sentences, counts, k, V):
    lp, n = 0.0, 0
    for s in sentences:
        p = ["<bos>"] + s + ["<eos>"]
        for a, b in zip(p[:-1], p[1:]):
            lp += math.log(_ref_prob(counts, a, b, k, V))
            n += 1
    return math.exp(-lp / n)


@test("count_bigrams", points=1)
def random_corpus_counts(student):
    """every count of a random 40-sentence corpus"""
    got = student.call("count_bigrams", SENTS)
    if not isinstance(got, dict):
        raise Fail("count_bigrams should return a dict of dicts")
    want = _ref_counts(SENTS)
    got = {a: {b: int(n) for b, n in (v or {}).items() if n} for a, v in got.items() if isinstance(v, dict)}
    got = {a: v for a, v in got.items() if v}
    expect(set(got) == set(want), f"the set of contexts differs: missing {sorted(set(want) - set(got))[:3]}, "
           f"extra {sorted(set(got) - set(want))[:3]}")
    bad = [(a, b) for a in want for b in want[a] if got[a].get(b) != want[a][b]]
    expect(not bad, f"wrong counts, e.g. c{bad[:1]}: is the last pair (w_T, <eos>) counted?")


@test("count_bigrams", points=1)
def one_word_sentences_and_empty_input(student):
    """a one-word sentence gives two pairs; no sentences give no counts"""
    got = student.call("count_bigrams", [["hi"]])
    expect(isinstance(got, dict) and got.get("<bos>", {}).get("hi") == 1 and got.get("hi", {}).get("<eos>") == 1,
           "['hi'] should give c(<bos>, hi) = 1 and c(hi, <eos>) = 1")
    empty = student.call("count_bigrams", [])
    expect(isinstance(empty, dict) and not any(empty.values()), "no sentences should give no counts")


@test("count_bigrams", points=1)
def counts_do_not_cross_sentences(student):
    """no pair spans the end of one sentence and the start of the next"""
    got = student.call("count_bigrams", [["a", "b"], ["c", "d"]])
    expect(isinstance(got, dict) and "c" not in got.get("b", {}),
           "c(b, c) should be 0: sentences are counted separately, each with its own <bos>/<eos>")


@test("addk_prob", points=1)
def add_k_half(student):
    """k = 0.5 on a random corpus, several pairs"""
    counts = _ref_counts(SENTS)
    for prev, word in [("to", "be"), ("<bos>", "question"), ("is", "<eos>"), ("not", "zounds")]:
        p = student.call("addk_prob", counts, prev, word, 0.5, 11)
        expect_close(p, _ref_prob(counts, prev, word, 0.5, 11),
                     f"P({word} | {prev}) with k=0.5, V=11 is wrong: is k multiplied by V in the denominator?")


@test("addk_prob", points=1)
def k_zero_is_mle_and_unseen_context(student):
    """k = 0 gives the MLE; an unseen context with k > 0 gives 1/V"""
    counts = _ref_counts(SENTS)
    p = student.call("addk_prob", counts, "the", "question", 0.0, 11)
    expect_close(p, _ref_prob(counts, "the", "question", 0.0, 11), "with k = 0, addk_prob should be c(prev, w)/c(prev)")
    p = student.call("addk_prob", counts, "zounds", "to", 1.0, 11)
    expect_close(p, 1 / 11, "an unseen context with k = 1 should give the uniform 1/V")


@test("addk_prob", points=1)
def probabilities_sum_to_one(student):
    """Σ_w P(w | prev) = 1 over all V possible next tokens"""
    counts = _ref_counts(SENTS)
    vocab = WORDS + ["<eos>"]
    total = sum(float(student.call("addk_prob", counts, "be", w, 0.3, len(vocab))) for w in vocab)
    expect_close(total, 1.0, "P(. | be) over the 9 possible next tokens should sum to 1")


def _probs(counts, k, vocab):
    return {prev: {w: _ref_prob(counts, prev, w, k, len(vocab)) for w in vocab} for prev in ["<bos>"] + vocab}


def _ref_pp_table(sentences, probs):
    lp, n = 0.0, 0
    for s in sentences:
        p = ["<bos>"] + s + ["<eos>"]
        for a, b in zip(p[:-1], p[1:]):
            lp += math.log(probs[a][b])
            n += 1
    return math.exp(-lp / n)


VOCAB = WORDS + ["zounds", "<eos>"]


@test("perplexity", points=1)
def random_test_set(student):
    """held-out sentences under an add-1 model"""
    probs = _probs(_ref_counts(SENTS), 1.0, VOCAB)
    pp = student.call("perplexity", TEST_SENTS, probs)
    expect_close(pp, _ref_pp_table(TEST_SENTS, probs),
                 "perplexity on held-out sentences is wrong: N = words + one <eos> per sentence, natural log")


@test("perplexity", points=1)
def mean_over_tokens_not_sentences(student):
    """sentences of different lengths weigh by their number of tokens"""
    probs = _probs(_ref_counts(SENTS), 0.1, VOCAB)
    sents = [["to"], ["to", "be", "or", "not", "to", "be"]]
    pp = student.call("perplexity", sents, probs)
    expect_close(pp, _ref_pp_table(sents, probs),
                 "average the negative log-probability over all predicted tokens, not per sentence")


@test("perplexity", points=1)
def natural_log_base(student):
    """a skewed model: the base of log and exp must agree"""
    probs = {"<bos>": {"a": 0.9, "<eos>": 0.1}, "a": {"<eos>": 0.3, "a": 0.7}}
    pp = student.call("perplexity", [["a"], ["a", "a"]], probs)
    expect_close(pp, _ref_pp_table([["a"], ["a", "a"]], probs),
                 "exp(mean negative ln P): do not mix log2 with exp, or ln with 2**")
