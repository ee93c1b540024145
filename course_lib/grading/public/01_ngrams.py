"""Public tests for 01_ngrams."""
import math

import numpy as np

from course_lib.grading.spec import Fail, expect, expect_close, test

CORPUS = [["the", "cat", "is", "small"], ["the", "dog", "is", "big"], ["a", "cat", "is", "big"]]


def _counts(value, what="count_bigrams(...)"):
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise Fail(f"{what} should return a dict of dicts {{prev: {{word: count}}}}, got {type(value).__name__}")
    return value


@test("count_bigrams", points=1)
def counts_the_lecture_corpus(student):
    """the pairs of a 3-sentence corpus, boundaries included"""
    c = _counts(student.call("count_bigrams", CORPUS))
    expect("<bos>" in c, "no counts after <bos>: pad every sentence with <bos> in front")
    expect(c.get("<bos>", {}).get("the") == 2, f"c(<bos>, the) should be 2, got {c.get('<bos>', {}).get('the')}")
    expect(c.get("big", {}).get("<eos>") == 2,
           "c(big, <eos>) should be 2: pad every sentence with <eos> at the end, so the model learns to stop")
    expect(c.get("cat", {}).get("is") == 2, f"c(cat, is) should be 2, got {c.get('cat', {}).get('is')}")


@test("addk_prob", points=1)
def laplace_on_seen_and_unseen(student):
    """Laplace (k=1) for a seen and an unseen pair"""
    counts = {"the": {"cat": 2, "dog": 1}}
    p_seen = student.call("addk_prob", counts, "the", "cat", 1.0, 10)
    expect_close(p_seen, 3 / 13, "P(cat | the) with k=1, V=10 should be (2+1)/(3+10)")
    p_unseen = student.call("addk_prob", counts, "the", "mat", 1.0, 10)
    expect_close(p_unseen, 1 / 13, "P(mat | the) for an unseen pair should be (0+1)/(3+10), not 0")


@test("perplexity", points=1)
def uniform_model_has_perplexity_v(student):
    """a model that is uniform over V tokens has perplexity V"""
    vocab = ["a", "b", "c", "<eos>"]
    probs = {prev: {w: 0.25 for w in vocab} for prev in ["<bos>", "a", "b", "c"]}
    pp = student.call("perplexity", [["a", "b"], ["c"]], probs)
    expect_close(pp, 4.0, "a uniform model over 4 tokens must have perplexity 4")


@test("perplexity", points=1)
def small_case_by_hand(student):
    """one sentence, two predictions"""
    probs = {"<bos>": {"a": 0.5}, "a": {"<eos>": 0.8}}
    pp = student.call("perplexity", [["a"]], probs)
    expect_close(pp, math.exp(-(math.log(0.5) + math.log(0.8)) / 2),
                 "perplexity of ['a'] should be exp(-(ln P(a|<bos>) + ln P(<eos>|a)) / 2) = 1.5811: "
                 "two predictions (a and <eos>), natural log")


@test("perplexity", points=1)
def sentences_of_different_lengths(student):
    """a 1-word and a 3-word sentence: every predicted token weighs the same"""
    probs = {"<bos>": {"a": 0.6, "b": 0.4}, "a": {"b": 0.5, "<eos>": 0.5}, "b": {"a": 0.9, "<eos>": 0.1}}
    sents = [["a"], ["b", "a", "b"]]
    logp = [math.log(0.6), math.log(0.5), math.log(0.4), math.log(0.9), math.log(0.5), math.log(0.1)]
    expect_close(student.call("perplexity", sents, probs), math.exp(-sum(logp) / len(logp)),
                 "perplexity of [['a'], ['b', 'a', 'b']] should be exp(-(sum of the 6 ln P) / 6) = 2.3875: "
                 "N counts every predicted token of the whole test set (2 + 4), not an average of per-sentence "
                 "perplexities")
