import numpy as np
import pytest
import torch

from course_lib.text import (BOS, EOS, PAD, UNK, Vocab, char_tokenize, length_mask, lm_random_batches,
                             lm_sequential_batches, pad_batch, word_tokenize)


def test_vocab_order_specials_and_roundtrip():
    v = Vocab("the cat sat on the mat the end".split())
    assert v.itos[:4] == [PAD, UNK, BOS, EOS]
    assert v.itos[4] == "the"                          # most frequent first
    assert v.itos[5:] == sorted(v.itos[5:])            # ties broken alphabetically
    ids = v.encode(["the", "cat"])
    assert v.decode(ids) == ["the", "cat"]


def test_vocab_unknown_and_min_freq():
    v = Vocab("a a b".split(), min_freq=2)
    assert "b" not in v and v.encode(["b", "zebra"]) == [v.unk_id, v.unk_id]


@pytest.mark.parametrize("bad, err, match", [
    ([], ValueError, "empty corpus"),
    ("a string", TypeError, "not one string"),
    ([1, 2], TypeError, "strings"),
])
def test_vocab_bad_input(bad, err, match):
    with pytest.raises(err, match=match):
        Vocab(bad)


def test_vocab_bad_min_freq_and_decode():
    with pytest.raises(ValueError, match="min_freq"):
        Vocab(["a"], min_freq=0)
    v = Vocab(["a"])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        v.decode([99])
    with pytest.raises(TypeError, match="tokenise it first"):
        v.encode("abc")


def test_tokenizers():
    assert char_tokenize("ab c") == ["a", "b", " ", "c"]
    assert word_tokenize("Hello, world! O'er 2 hills.") == ["hello", ",", "world", "!", "o'er", "2", "hills", "."]
    with pytest.raises(TypeError):
        word_tokenize(["no"])


def test_sequential_batches_carry_on_row_by_row():
    stream = list(range(101))
    batches = list(lm_sequential_batches(stream, batch_size=2, seq_len=5))
    (x0, y0), (x1, _) = batches[0], batches[1]
    assert x0.shape == (2, 5) and x0.dtype == torch.long
    assert torch.equal(y0, x0 + 1)                     # targets are the next tokens
    assert torch.equal(x1[:, 0], x0[:, -1] + 1)        # row b of batch k+1 continues row b of batch k
    assert len(batches) == 10


def test_sequential_batches_offset_and_errors():
    x, _ = next(lm_sequential_batches(list(range(50)), 2, 4, offset=3))
    assert x[0, 0].item() == 3
    with pytest.raises(ValueError, match="needs at least"):
        next(lm_sequential_batches(list(range(10)), batch_size=4, seq_len=5))
    with pytest.raises(TypeError, match="integers"):
        next(lm_sequential_batches(np.zeros(100), 2, 4))
    with pytest.raises(ValueError, match="1-D"):
        next(lm_sequential_batches(torch.zeros(4, 25, dtype=torch.long), 2, 4))


def test_random_batches_are_windows_and_seeded():
    stream = torch.arange(1000)
    g = torch.Generator().manual_seed(0)
    x, y = next(lm_random_batches(stream, 8, 16, generator=g))
    assert x.shape == y.shape == (8, 16)
    assert torch.equal(y, x + 1) and torch.equal(x[:, 1:] - x[:, :-1], torch.ones(8, 15, dtype=torch.long))
    x2, _ = next(lm_random_batches(stream, 8, 16, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(x, x2)


def test_pad_and_mask():
    padded, lengths = pad_batch([[5, 6, 7], [8], []], pad_id=0)
    assert padded.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]] and lengths.tolist() == [3, 1, 0]
    assert length_mask(lengths).tolist() == [[True] * 3, [True, False, False], [False] * 3]
    cut, lens = pad_batch([[1, 2, 3, 4]], max_len=2)
    assert cut.tolist() == [[1, 2]] and lens.tolist() == [2]
    with pytest.raises(ValueError, match="no sequences"):
        pad_batch([])
    with pytest.raises(ValueError, match="1-D integer"):
        length_mask(torch.tensor([1.5]))
