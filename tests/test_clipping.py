"""Proof for notebook 05: clipping equals torch's, the cliff demo, the initialisers, the adding problem."""
import math

import numpy as np
import pytest
import torch

from course_lib import cliff, clipping, tasks
from course_lib.rnn import RNNScratch, copy_rnn_weights, init_recurrent_, orthogonal_, orthogonal_matrix
from course_lib.train import train

INF = float("inf")


def _params(seed, kind="random"):
    """Two identical sets of parameters with gradients (shapes of a small RNN), for ours and torch's."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (4, 4), (4,), (2, 4), (2,)]
    grads = [torch.randn(s, generator=g, dtype=torch.float64) * 3 for s in shapes]
    if kind == "zero":
        grads = [torch.zeros_like(x) for x in grads]
    elif kind == "one_huge":
        grads[1][2, 3] = 1e8
    elif kind == "inf":
        grads[0][1, 1] = INF
    elif kind == "nan":
        grads[2][0] = float("nan")
    elif kind == "tiny":
        grads = [x * 1e-4 for x in grads]
    sets = []
    for _ in range(2):
        ps = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
        for p, x in zip(ps, grads):
            p.grad = x.clone()
        sets.append(ps)
    ps, _ = sets
    ps.append(torch.zeros(3, requires_grad=True))          # a parameter without gradient is skipped
    return sets


def _same(a, b):
    return torch.equal(torch.isnan(a), torch.isnan(b)) and torch.allclose(
        torch.nan_to_num(a, nan=0.0), torch.nan_to_num(b, nan=0.0), rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", ["random", "zero", "one_huge", "inf", "nan", "tiny"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, INF])
@pytest.mark.parametrize("max_norm", [0.5, 5.0, 1e3])
def test_clip_grad_norm_equals_torch(kind, norm_type, max_norm):
    ours, theirs = _params(hash((kind, norm_type, max_norm)) % 1000, kind)
    total = clipping.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert _same(total.double(), expected.double()), (total, expected)
    for a, b in zip(ours, theirs):
        assert _same(a.grad, b.grad)


@pytest.mark.parametrize("kind", ["random", "one_huge"])
def test_total_norm_is_of_the_original_gradients_and_clipped_norm_is_the_threshold(kind):
    ours, _ = _params(1, kind)
    before = torch.cat([p.grad.flatten() for p in ours if p.grad is not None]).norm()
    total = clipping.clip_grad_norm_(ours, 1.0)
    after = clipping.grad_norm(ours)
    assert math.isclose(float(total), float(before), rel_tol=1e-12)
    assert float(total) > 1.0 and math.isclose(float(after), 1.0, rel_tol=1e-5)


def test_below_the_threshold_nothing_changes_and_direction_is_kept():
    ours, _ = _params(2)
    saved = [p.grad.clone() for p in ours if p.grad is not None]
    clipping.clip_grad_norm_(ours, 1e6)
    assert all(torch.equal(a, p.grad) for a, p in zip(saved, ours))
    clipping.clip_grad_norm_(ours, 0.1)
    for a, p in zip(saved, ours):          # one common factor for every tensor: the direction is kept
        assert torch.allclose(p.grad / a, (ours[0].grad / saved[0]).flatten()[0].expand_as(a))


@pytest.mark.parametrize("kind", ["inf", "nan"])
def test_error_if_nonfinite(kind):
    ours, theirs = _params(3, kind)
    with pytest.raises(RuntimeError, match="non-finite"):
        clipping.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)


def test_no_gradients_at_all():
    p = torch.zeros(3, requires_grad=True)
    assert float(clipping.clip_grad_norm_([p], 1.0)) == 0.0 == float(torch.nn.utils.clip_grad_norm_([p], 1.0))
    assert float(clipping.clip_grad_norm_(p, 1.0)) == 0.0          # a single tensor is accepted


@pytest.mark.parametrize("kind", ["random", "zero", "one_huge", "inf", "nan"])
@pytest.mark.parametrize("clip_value", [0.1, 1.0, 100.0])
def test_clip_grad_value_equals_torch(kind, clip_value):
    ours, theirs = _params(4, kind)
    assert clipping.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for a, b in zip(ours, theirs):
        assert _same(a.grad, b.grad)


def test_value_clipping_changes_the_direction_norm_clipping_does_not():
    g = torch.tensor([4.0, 0.8])
    by_norm, by_value = clipping.clip_vector(g, 1.0, "norm"), clipping.clip_vector(g, 1.0, "value")
    cos = lambda a, b: float(a @ b / (a.norm() * b.norm()))
    assert cos(by_norm, g) == pytest.approx(1.0) and by_norm.norm() == pytest.approx(1.0, rel=1e-5)
    assert torch.equal(by_value, torch.tensor([1.0, 0.8])) and cos(by_value, g) < 0.9
    assert torch.equal(g, torch.tensor([4.0, 0.8]))                 # a copy: the input is untouched


# ----------------------------------------------------------------------------- the training loop uses it

class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 1)

    def forward(self, x, y):
        pred = self.lin(x).squeeze(-1)
        return pred, ((pred - y) ** 2).mean()


@pytest.mark.parametrize("mode", ["norm", "value"])
def test_train_clips_with_course_functions_and_records_the_norm_before(mode):
    torch.manual_seed(0)
    x, y = torch.randn(8, 3) * 100, torch.randn(8) * 100
    model, ref = _Tiny(), _Tiny()
    ref.load_state_dict(model.state_dict())
    h = train(model, [(x, y)], steps=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), clip=0.5,
              clip_mode=mode, progress=False, device="cpu")
    _, loss = ref(x, y)
    loss.backward()
    expected_norm = float(torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.5) if mode == "norm"
                          else torch.nn.utils.get_total_norm([p.grad for p in ref.parameters()]))
    if mode == "value":
        torch.nn.utils.clip_grad_value_(ref.parameters(), 0.5)
    with torch.no_grad():
        for p in ref.parameters():
            p -= 0.1 * p.grad
    assert h.grad_norm[0] == pytest.approx(expected_norm, rel=1e-6) and h.grad_norm[0] > 0.5
    for a, b in zip(model.parameters(), ref.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_train_rejects_an_unknown_clip_mode():
    with pytest.raises(ValueError, match="clip_mode"):
        train(_Tiny(), [], steps=1, clip=1.0, clip_mode="per-tensor", progress=False)


# ----------------------------------------------------------------------------- divergence vs clipping

def diverging_run(clip, steps=60):
    """The notebook's demo: an IRNN (ReLU, W_hh = 1.1·I: slightly too large) on the adding problem at
    T = 100 with SGD(lr = 0.05); the same seeds with and without clipping."""
    torch.manual_seed(0)
    net = tasks.AddingRegressor(hidden_size=16, nonlinearity="relu", init="default")
    init_recurrent_(net.rnn, "identity", gain=1.1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    return train(net, tasks.adding_batches(20, 100, seed=1), steps=steps, optimizer=opt, clip=clip,
                 device="cpu", progress=False)


def test_unclipped_run_diverges_clipped_run_trains():
    plain, clipped = diverging_run(None), diverging_run(1.0)
    assert plain.loss[0] == clipped.loss[0]                          # same seed, same first batch and weights
    assert not math.isfinite(plain.final_loss) or plain.final_loss >= 10 * clipped.final_loss
    assert all(math.isfinite(v) for v in clipped.loss) and len(clipped.loss) == 60
    first, last = np.mean(clipped.loss[:10]), np.mean(clipped.loss[-10:])
    assert last < first / 10 and last < tasks.BASELINE_MSE * 2


# ----------------------------------------------------------------------------- the cliff

def test_cliff_gradient_matches_finite_differences_away_from_the_wall():
    L, gw, gb = cliff.loss_and_grad(10.0, -3.0)
    e = 1e-6
    fw = (float(cliff.loss(10.0 + e, -3.0)) - float(cliff.loss(10.0 - e, -3.0))) / (2 * e)
    fb = (float(cliff.loss(10.0, -3.0 + e)) - float(cliff.loss(10.0, -3.0 - e))) / (2 * e)
    assert gw == pytest.approx(fw, rel=1e-6) and gb == pytest.approx(fb, rel=1e-6)
    # x_T by the recurrence written out
    x = 0.5
    for _ in range(cliff.T):
        x = 10.0 * (1 / (1 + math.exp(-x))) - 3.0
    assert L == pytest.approx((x - 0.7) ** 2, rel=1e-12)


def test_cliff_is_a_wall_of_huge_gradients():
    b = torch.linspace(-4.6, -4.0, 6001, dtype=torch.float64, requires_grad=True)
    cliff.loss(torch.tensor(8.0, dtype=torch.float64), b).sum().backward()
    g = b.grad.abs()
    assert float(g.max()) > 100 * float(g[0]) and float(g.max()) > 100 * float(g[-1])


def test_plain_descent_is_thrown_off_clipped_descent_stays():
    plain, clipped = cliff.descend(), cliff.descend(clip=cliff.THRESHOLD)
    assert plain.grad_norm.max() > 100 * cliff.THRESHOLD
    assert plain.largest_jump > 10 and clipped.largest_jump <= cliff.LR * cliff.THRESHOLD + 1e-9
    assert clipped.loss.min() < 1.0 and clipped.loss[-1] < plain.loss[-1] / 10
    value = cliff.descend(clip=1.0, mode="value")
    assert value.largest_jump <= cliff.LR * math.sqrt(2) + 1e-9


def test_surface_shapes():
    w, b, L = cliff.surface(n=20)
    assert w.shape == (20,) and b.shape == (20,) and L.shape == (20, 20)
    assert L[3, 5] == pytest.approx(float(cliff.loss(w[5], b[3])))


# ----------------------------------------------------------------------------- initialisers

@pytest.mark.parametrize("shape", [(6, 6), (4, 7), (7, 4)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal_equals_torch_and_is_orthogonal(shape, gain):
    ours, theirs = torch.empty(shape), torch.empty(shape)
    orthogonal_(ours, gain, generator=torch.Generator().manual_seed(5))
    torch.nn.init.orthogonal_(theirs, gain, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(ours, theirs, atol=1e-6)
    W = ours.double() / gain
    small = W @ W.T if shape[0] <= shape[1] else W.T @ W
    assert torch.allclose(small, torch.eye(min(shape), dtype=torch.float64), atol=1e-5)


def test_orthogonal_matrix_sign_fix_makes_r_diagonal_positive():
    A = torch.randn(5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    Q = orthogonal_matrix(A)
    R = Q.T @ A                                   # A = Q R with R upper-triangular, positive diagonal
    assert torch.allclose(torch.tril(R, -1), torch.zeros(5, 5, dtype=torch.float64), atol=1e-12)
    assert bool((torch.diagonal(R) > 0).all())


def test_identity_init_on_scratch_and_torch_rnns():
    torch.manual_seed(0)
    scratch, ref = RNNScratch(3, 5, num_layers=2, nonlinearity="relu"), torch.nn.RNN(3, 5, 2, nonlinearity="relu",
                                                                                     batch_first=True)
    init_recurrent_(scratch, "identity", gain=0.9)
    init_recurrent_(ref, "identity", gain=0.9)
    for cell in scratch.cells:
        assert torch.equal(cell.W_hh, 0.9 * torch.eye(5)) and torch.equal(cell.b_h, torch.zeros(5))
    assert torch.equal(ref.weight_hh_l1, 0.9 * torch.eye(5)) and torch.equal(ref.bias_ih_l0, torch.zeros(5))
    # IRNN with zero input copies a non-negative state unchanged
    h0 = torch.rand(2, 2, 5)                       # (layers, batch, hidden), non-negative
    _, h = scratch(torch.zeros(2, 4, 3), h0)
    assert torch.allclose(h[0], 0.9 ** 4 * h0[0])
    copy_rnn_weights(scratch, ref)
    x = torch.randn(2, 6, 3)
    assert torch.allclose(scratch(x)[0], ref(x)[0], atol=1e-6)


def test_orthogonal_init_on_scratch_rnn():
    net = RNNScratch(3, 6, num_layers=2)
    init_recurrent_(net, "orthogonal", generator=torch.Generator().manual_seed(0))
    for cell in net.cells:
        W = cell.W_hh.double()
        assert torch.allclose(W @ W.T, torch.eye(6, dtype=torch.float64), atol=1e-5)
    with pytest.raises(ValueError, match="scheme"):
        init_recurrent_(net, "xavier")
    with pytest.raises(TypeError):
        init_recurrent_(torch.nn.LSTM(2, 3), "identity")


# ----------------------------------------------------------------------------- the adding problem

def test_adding_problem_is_seeded_and_well_formed():
    x, y = tasks.adding_problem(500, 40, seed=3)
    x2, y2 = tasks.adding_problem(500, 40, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2) and x.shape == (500, 40, 2) and y.shape == (500,)
    marker = x[..., 1]
    assert torch.equal(marker.sum(1), torch.full((500,), 2.0))
    assert torch.equal(marker[:, :20].sum(1), torch.ones(500))           # one marker in each half
    assert torch.allclose(y, (x[..., 0] * marker).sum(1))
    assert float(((y - 1) ** 2).mean()) == pytest.approx(tasks.BASELINE_MSE, abs=0.02)
    assert not torch.equal(tasks.adding_problem(5, 40, seed=4)[0], x[:5])


@pytest.mark.parametrize("spec", list(tasks.MODELS))
def test_adding_regressor_shapes_and_scratch_equals_torch(spec):
    torch.manual_seed(0)
    net = tasks.AddingRegressor(hidden_size=8, **tasks.MODELS[spec])
    x, y = tasks.adding_problem(4, 12, seed=0)
    pred, loss = net(x, y)
    assert pred.shape == (4,) and loss.ndim == 0
    if spec != "LSTM":
        scratch = tasks.AddingRegressor(hidden_size=8, impl="scratch", **tasks.MODELS[spec])
        copy_rnn_weights(scratch.rnn, net.rnn)
        scratch.head.load_state_dict(net.head.state_dict())
        assert torch.allclose(scratch(x, y)[0], pred, atol=1e-5)


def test_cliff_widget_redraws_when_the_threshold_moves():
    pytest.importorskip("ipywidgets")
    widget = cliff.CliffWidget(threshold=10.0)
    first = widget.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and "largest step" in widget.readout.value
    widget.controls["threshold"].value = 1000.0
    assert widget.image.value != first and len(widget.latencies) == 2
    fig = cliff.cliff_figure(threshold=1.0, mode="value")
    assert len(fig.axes) == 3 and fig.axes[0].get_xlabel() == "recurrent weight w"
