"""course_lib.bleu equals sacrebleu (the reference implementation of BLEU) on fixed corpora.

With sacrebleu installed (tests/requirements-test-extra.txt) the scores are compared live; the same
numbers, measured with sacrebleu 2.6.0 (``tokenize="none"`` on space-joined tokens), are also
hard-coded below so the comparison still runs where sacrebleu is absent.
"""
import math

import pytest

from course_lib import bleu

CORPORA = {
    # all n-gram orders match somewhere; two references per sentence
    "corpus": (["the cat is on the mat .", "there is a cat on the mat", "a dog sleeps in the park",
                "je suis très fatigué ."],
               [["the cat is on the mat .", "there is a cat on the mat ."],
                ["there is a cat on the mat .", "the cat sits on the mat ."],
                ["the dog is sleeping in the garden .", "a dog sleeps in the garden ."],
                ["je suis très fatigué .", "je suis vraiment fatigué ."]]),
    # hypotheses shorter than their references: the brevity penalty exp(1 − r/c) < 1
    "short": (["the cat is on the", "there is a cat"],
              [["the cat is on the mat ."], ["there is a cat on the mat ."]]),
    # no 4-gram matches: the smoothing method decides the score
    "smooth": (["the mat is on the cat", "a dog in garden"],
               [["the cat is on the mat .", "a cat is on the mat ."],
                ["the dog is in the garden .", "a dog is in the garden"]]),
    # not one word in common: 0 whatever the smoothing
    "zero": (["x y z w"], [["the cat is on the mat ."]]),
}
SMOOTHS = ("exp", "none", "floor", "add-k")

# measured with sacrebleu 2.6.0: sacrebleu.corpus_bleu(hyps, ref_streams, smooth_method=s, tokenize="none").score
SACREBLEU_2_6_0_CORPUS = {
    ("corpus", "exp"): 90.70389626744819, ("corpus", "none"): 90.70389626744819,
    ("corpus", "floor"): 90.70389626744819, ("corpus", "add-k"): 90.96893612270676,
    ("short", "exp"): 51.341711903259224, ("short", "none"): 51.341711903259224,
    ("short", "floor"): 51.341711903259224, ("short", "add-k"): 51.341711903259224,
    ("smooth", "exp"): 25.02484236172523, ("smooth", "none"): 0.0,
    ("smooth", "floor"): 16.735120712967017, ("smooth", "add-k"): 32.728743199187,
    ("zero", "exp"): 0.0, ("zero", "none"): 0.0, ("zero", "floor"): 0.0, ("zero", "add-k"): 0.0,
}
# sacrebleu.sentence_bleu(hyp, refs, smooth_method=s, tokenize="none").score (effective order on)
SACREBLEU_2_6_0_SENTENCE = {
    ("corpus", 2, "exp"): 64.31870218238025, ("corpus", 2, "add-k"): 68.00874738944076,
    ("short", 0, "exp"): 67.03200460356396, ("short", 1, "none"): 36.78794411714425,
    ("smooth", 0, "exp"): 36.169064219763094, ("smooth", 0, "none"): 0.0,
    ("smooth", 0, "floor"): 24.187711037036173, ("smooth", 0, "add-k"): 45.48019047027906,
    ("smooth", 1, "exp"): 23.04318198457308, ("smooth", 1, "add-k"): 32.58798048281462,
}


def _ours_corpus(name, smooth):
    hyps, refs = CORPORA[name]
    return bleu.corpus_bleu([h.split() for h in hyps], [[r.split() for r in rs] for rs in refs], smooth=smooth)


def _ours_sentence(name, i, smooth):
    hyps, refs = CORPORA[name]
    return bleu.sentence_bleu(hyps[i].split(), [r.split() for r in refs[i]], smooth=smooth)


@pytest.mark.parametrize("name", CORPORA)
@pytest.mark.parametrize("smooth", SMOOTHS)
def test_corpus_bleu_equals_sacrebleu_live(name, smooth):
    sacrebleu = pytest.importorskip("sacrebleu")
    hyps, refs = CORPORA[name]
    streams = [list(s) for s in zip(*refs)]             # sacrebleu takes one list per reference "stream"
    want = sacrebleu.corpus_bleu(hyps, streams, smooth_method=smooth, tokenize="none").score
    assert abs(_ours_corpus(name, smooth) - want) <= 1e-6


@pytest.mark.parametrize("name", CORPORA)
def test_sentence_bleu_equals_sacrebleu_live(name):
    sacrebleu = pytest.importorskip("sacrebleu")
    hyps, refs = CORPORA[name]
    for i in range(len(hyps)):
        for smooth in SMOOTHS:
            want = sacrebleu.sentence_bleu(hyps[i], refs[i], smooth_method=smooth, tokenize="none").score
            assert abs(_ours_sentence(name, i, smooth) - want) <= 1e-6, (i, smooth)


@pytest.mark.parametrize("key", SACREBLEU_2_6_0_CORPUS)
def test_corpus_bleu_equals_recorded_sacrebleu(key):
    assert abs(_ours_corpus(*key) - SACREBLEU_2_6_0_CORPUS[key]) <= 1e-6


@pytest.mark.parametrize("key", SACREBLEU_2_6_0_SENTENCE)
def test_sentence_bleu_equals_recorded_sacrebleu(key):
    assert abs(_ours_sentence(*key) - SACREBLEU_2_6_0_SENTENCE[key]) <= 1e-6


def test_brevity_penalty_from_first_principles():
    ref = "a b c d e f g h i j".split()
    for c in (4, 6, 9):
        # a prefix of the reference: every n-gram matches, so BLEU = 100 · exp(1 − r/c)
        assert bleu.corpus_bleu([ref[:c]], [[ref]]) == pytest.approx(100 * math.exp(1 - 10 / c), abs=1e-9)
    assert bleu.brevity_penalty(0, 5) == 0.0 and bleu.brevity_penalty(7, 5) == 1.0


def test_clipping_and_closest_reference():
    # "the the the the" against "the cat": unigram precision 1/4 (clipped), not 4/4
    st = bleu.sentence_stats("the the the the".split(), ["the cat".split()], max_n=1)
    assert st.correct == [1] and st.total == [4]
    # the clip is the largest count in ONE reference, not the sum over references
    st = bleu.sentence_stats("the the the".split(), ["the cat".split(), "the the dog".split()], max_n=1)
    assert st.correct == [2]
    # closest reference length; a tie goes to the shorter
    assert bleu.closest_ref_length(5, [3, 7, 9]) == 3 and bleu.closest_ref_length(6, [4, 8]) == 4
    # corpus BLEU sums statistics first: it is not the mean of sentence BLEUs
    hyps, refs = CORPORA["smooth"]
    h, r = [x.split() for x in hyps], [[y.split() for y in rs] for rs in refs]
    mean_sentence = sum(bleu.sentence_bleu(a, b, effective_order=False) for a, b in zip(h, r)) / len(h)
    assert abs(bleu.corpus_bleu(h, r) - mean_sentence) > 1.0


def test_bad_inputs():
    with pytest.raises(TypeError):
        bleu.sentence_bleu("the cat", ["the cat"])
    with pytest.raises(ValueError):
        bleu.corpus_bleu([["a"]], [])
    with pytest.raises(ValueError):
        bleu.corpus_bleu([["a"]], [[["a"]]], smooth="magic")
