import math
import pytest
import torch

from course_lib import seed_everything
from course_lib.neural_lm import (FixedWindowLM, checkpoint_path, load_checkpoint, names_split, perplexity,
                                  sentence_tensors, train_names_model)

ASSET = checkpoint_path()


def test_forward_equals_the_formula():
    """ŷ = softmax(W2 tanh(W1 x + b1) + W3 x + b3), computed by hand at one position."""
    seed_everything(0)
    m = FixedWindowLM(vocab_size=7, window=3, embed_dim=4, hidden=5, pad_id=2).double()
    idx = torch.tensor([[3, 4, 5, 6]])
    logits, _ = m(idx)
    assert logits.shape == (1, 4, 7)
    window = torch.tensor([4, 5, 6])                         # the last 3 tokens at t = 3
    x = m.embed.weight[window].reshape(-1)
    manual = m.out.weight @ torch.tanh(m.hidden.weight @ x + m.hidden.bias) + m.out.bias + m.direct.weight @ x
    assert torch.allclose(logits[0, 3], manual, atol=1e-12)
    first = m.embed.weight[torch.tensor([2, 2, 3])].reshape(-1)  # t = 0: left-padded with pad_id
    manual0 = m.out.weight @ torch.tanh(m.hidden.weight @ first + m.hidden.bias) + m.out.bias + m.direct.weight @ first
    assert torch.allclose(logits[0, 0], manual0, atol=1e-12)


def test_direct_connection_can_be_off_and_loss_ignores_padding():
    m = FixedWindowLM(5, window=2, embed_dim=3, hidden=4, direct=False)
    assert m.direct is None
    x = torch.tensor([[1, 2, 3]])
    _, full = m(x, torch.tensor([[2, 3, 4]]))
    _, masked = m(x, torch.tensor([[2, -100, -100]]))
    logits, _ = m(x)
    assert masked.item() == pytest.approx(torch.nn.functional.cross_entropy(logits[0, :1], torch.tensor([2])).item())
    assert full.item() != masked.item()


def test_bad_input():
    m = FixedWindowLM(5)
    with pytest.raises(ValueError, match=r"\(B, T\) LongTensor"):
        m(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="targets must have the shape"):
        m(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="window"):
        FixedWindowLM(5, window=0)


def test_training_is_deterministic():
    a, _, ha = train_names_model(steps=30, progress=False)
    b, _, hb = train_names_model(steps=30, progress=False)
    assert ha.loss == hb.loss
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_checkpoint_has_the_perplexity_it_claims():
    model, itos, info = load_checkpoint(ASSET)
    from course_lib.text import Vocab
    train, test = names_split()
    vocab = Vocab(train)
    assert vocab.itos == itos
    pp = perplexity(model, *sentence_tensors(vocab, test))
    assert pp == pytest.approx(info["heldout_perplexity"], abs=1e-4)
    assert math.isfinite(pp) and pp < 7.18      # it beats the best count model (Kneser-Ney, 7.18)


def test_diagram_fits_the_page_column():
    """The notebook's picture of the model: one axes, drawn for a ~690 px column."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.neural_lm import diagram
    fig = diagram(("the", "cat", "is"))
    assert len(fig.axes) == 1 and fig.get_size_inches()[0] <= 7
    assert "window of 3 words" in fig.axes[0].get_title()
    plt.close(fig)
