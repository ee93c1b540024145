import math
import time

import pytest
import torch
import torch.nn.functional as F

from course_lib import seed_everything
from course_lib.text import lm_random_batches
from course_lib.train import History, evaluate_loss, train


class Bigram(torch.nn.Module):
    """The smallest model with the course's signature forward(idx, targets) -> (logits, loss)."""

    def __init__(self, V):
        super().__init__()
        self.table = torch.nn.Embedding(V, V)

    def forward(self, idx, targets=None):
        logits = self.table(idx)                                       # (B, T, V)
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


def _stream():
    return torch.tensor([0, 1, 2, 3] * 200)   # a deterministic cycle: learnable to loss ~0


def test_train_learns_and_records_history():
    seed_everything(0)
    model = Bigram(4)
    batches = lm_random_batches(_stream(), 8, 6, generator=torch.Generator().manual_seed(0))
    h = train(model, batches, steps=150, lr=0.1, progress=False, device="cpu")
    assert isinstance(h, History) and len(h.loss) == 150 and h.stopped_by == "150 steps"
    assert h.loss[0] > 1.0 and h.final_loss < 0.05
    assert all(math.isclose(p, math.exp(l)) for p, l in zip(h.perplexity, h.loss))
    assert all(g >= 0 for g in h.grad_norm)


def test_clipping_bounds_the_update_norm():
    seed_everything(0)
    model = Bigram(4)
    with torch.no_grad():
        model.table.weight.mul_(100)          # huge logits -> huge gradients
    before = model.table.weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    x, y = next(lm_random_batches(_stream(), 8, 6, generator=torch.Generator().manual_seed(0)))
    h = train(model, [(x, y)], steps=1, optimizer=opt, clip=0.5, progress=False, device="cpu")
    step = (model.table.weight - before).norm().item()
    assert h.grad_norm[0] > 0.5 and step == pytest.approx(0.5, rel=1e-4)


def test_eval_fn_and_evaluate_loss():
    seed_everything(0)
    model = Bigram(4)
    val = [next(lm_random_batches(_stream(), 4, 6, generator=torch.Generator().manual_seed(1)))]
    h = train(model, lm_random_batches(_stream(), 8, 6, generator=torch.Generator().manual_seed(0)), steps=20,
              lr=0.1, progress=False, device="cpu", eval_fn=lambda m: evaluate_loss(m, val, device="cpu"),
              eval_every=10)
    assert h.eval_step == [10, 20] and h.eval_loss[1] < h.eval_loss[0]


def test_time_budget_and_exhausted_data():
    model = Bigram(4)
    x, y = next(lm_random_batches(_stream(), 2, 3, generator=torch.Generator().manual_seed(0)))
    h = train(model, [(x, y)] * 3, steps=100, progress=False, device="cpu")
    assert h.stopped_by == "data exhausted" and len(h.loss) == 3
    h = train(model, lambda: (x, y), seconds=0.2, progress=False, device="cpu")
    assert h.stopped_by == "0.2 s budget" and h.seconds[-1] < 1.0


class LRRecorder(torch.optim.SGD):
    """SGD that records the learning rate it is asked to use at every step."""

    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.seen = []

    def step(self, closure=None):
        self.seen.append(self.param_groups[0]["lr"])
        return super().step(closure)


@pytest.mark.parametrize("shape", ["cosine", "linear"])
def test_anneal_over_a_step_budget(shape):
    model = Bigram(4)
    opt = LRRecorder(model.parameters(), lr=0.2)
    batches = lm_random_batches(_stream(), 8, 6, generator=torch.Generator().manual_seed(0))
    train(model, batches, steps=10, optimizer=opt, anneal=shape, progress=False, device="cpu")
    want = [0.2 * (0.5 * (1 + math.cos(math.pi * k / 10)) if shape == "cosine" else 1 - k / 10) for k in range(10)]
    assert opt.seen == pytest.approx(want, abs=1e-12)          # starts at lr0, never reaches 0 before the end
    assert opt.seen[0] == pytest.approx(0.2) and opt.seen[-1] < 0.03


def test_anneal_from_keeps_the_rate_then_decays():
    model = Bigram(4)
    opt = LRRecorder(model.parameters(), lr=0.1)
    batches = lm_random_batches(_stream(), 8, 6, generator=torch.Generator().manual_seed(0))
    train(model, batches, steps=8, optimizer=opt, anneal="linear", anneal_from=0.5, progress=False, device="cpu")
    assert opt.seen == pytest.approx([0.1] * 5 + [0.075, 0.05, 0.025], abs=1e-12)   # flat, then linear to 0


def test_anneal_over_a_time_budget():
    model = Bigram(4)
    opt = LRRecorder(model.parameters(), lr=0.1)
    x, y = next(lm_random_batches(_stream(), 2, 3, generator=torch.Generator().manual_seed(0)))
    h = train(model, lambda: (time.sleep(0.01), (x, y))[1], seconds=0.3, optimizer=opt, anneal="linear",
              progress=False, device="cpu")
    assert h.stopped_by == "0.3 s budget" and len(opt.seen) >= 5
    assert opt.seen == sorted(opt.seen, reverse=True) and opt.seen[0] > 0.09 and opt.seen[-1] < 0.05


@pytest.mark.parametrize("kwargs, match", [({}, "steps=... or seconds"), ({"steps": 0}, "positive int"),
                                           ({"steps": 1, "clip": -1}, "clip must be"),
                                           ({"steps": 1, "anneal": "cos"}, "anneal must be"),
                                           ({"steps": 1, "anneal": "linear", "anneal_from": 1.0}, "anneal_from"),
                                           ({"steps": 1, "anneal": "cosine", "scheduler": object()}, "not both")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train(Bigram(2), [], progress=False, **kwargs)


def test_model_must_return_logits_and_loss():
    class Wrong(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x, y):
            return (self.w * 2).sum()

    with pytest.raises(TypeError, match=r"\(logits, loss\)"):
        train(Wrong(), [(torch.zeros(1), torch.zeros(1))], steps=1, progress=False, device="cpu")


def test_history_plot_runs():
    import matplotlib
    matplotlib.use("Agg")
    h = History(step=[1, 2, 3], loss=[3.0, 2.0, 1.0], eval_step=[3], eval_loss=[1.5])
    ax = h.plot()
    assert len(ax.lines) == 3
