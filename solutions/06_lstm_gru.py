# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-widgets
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Exercises: the LSTM and the GRU by hand
#
# The lecture's equations, with batch-first row vectors (a batch of B inputs in the rows):
#
# $$\begin{aligned}
# i_t &= \sigma(W_{xi} x_t + W_{hi} h_{t-1} + b_i), \quad f_t = \sigma(W_{xf} x_t + W_{hf} h_{t-1} + b_f), \quad
# \tilde c_t = \tanh(W_{xc} x_t + W_{hc} h_{t-1} + b_c), \quad o_t = \sigma(W_{xo} x_t + W_{ho} h_{t-1} + b_o)\\
# c_t &= f_t \odot c_{t-1} + i_t \odot \tilde c_t, \qquad h_t = o_t \odot \tanh(c_t)
# \end{aligned}$$
#
# As in `nn.LSTM`, the four gates' matrices are stacked: `W_xh` is `(4H, D)`, `W_hh` is `(4H, H)`,
# `b` is `(4H,)`, in the block order **i, f, c̃, o** (rows `0:H` for i, `H:2H` for f, `2H:3H` for
# c̃, `3H:4H` for o). With row vectors, one product per input (x_t with `W_xh`, h_{t-1} with `W_hh`) gives
# all four pre-activations of the whole batch at once, shape `(B, 4H)`.
#
# | symbol | shape |
# |---|---|
# | $x_t$ | `(B, D)` |
# | $h_{t-1}$, $c_{t-1}$, $h_t$, $c_t$ and every gate | `(B, H)` |

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import math

import numpy as np
import torch
from torch import nn

from course_lib.grading import check, needs_exercise


def sigmoid(a):
    """σ(a) = 1 / (1 + e^(−a)), elementwise."""
    return 1 / (1 + np.exp(-a))


# %% [markdown]
# ## Exercise 1: `lstm_step`: one step of the LSTM
#
# Return the pair `(h_t, c_t)`.

# %%
def lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b):
    """One LSTM step. x_t (B, D), h_prev and c_prev (B, H), W_xh (4H, D), W_hh (4H, H), b (4H,) -> (h_t, c_t)."""
    ### HINT: the (B, 4H) pre-activations hold four (B, H) column blocks in the order i, f, c̃, o; the three gates live in (0, 1), the candidate in (−1, 1); h_t is read from the cell after its update
    ### BEGIN SOLUTION
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    a_i, a_f, a_c, a_o = np.split(a, 4, axis=1)
    i, f, c_tilde, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_c), sigmoid(a_o)
    c_t = f * c_prev + i * c_tilde
    h_t = o * np.tanh(c_t)
    return h_t, c_t
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("lstm_step")

# %% [markdown]
# ## Exercise 2: `peephole_lstm_step`: an LSTM whose gates can see the cell
#
# In Exercise 1 the gates see $x_t$ and $h_{t-1}$ but never the cell $c_{t-1}$ itself; they only see
# it through $h_{t-1} = o_{t-1} \odot \tanh(c_{t-1})$, and while the output gate is shut that is about 0.
# A cell that counts time steps (f = 1, a constant written in at every step) therefore cannot tell
# its own gates "now": Gers & Schmidhuber (2000, and "Learning precise timing with LSTM recurrent
# networks", 2002) added **peephole** connections, diagonal weights through which each gate reads
# its own unit's cell:
#
# $$\begin{aligned}
# i_t &= \sigma(W_{xi} x_t + W_{hi} h_{t-1} + w_{ci} \odot c_{t-1} + b_i), \qquad
# f_t = \sigma(W_{xf} x_t + W_{hf} h_{t-1} + w_{cf} \odot c_{t-1} + b_f)\\
# c_t &= f_t \odot c_{t-1} + i_t \odot \tilde c_t \quad \text{(unchanged, as is } \tilde c_t\text{)}\\
# o_t &= \sigma(W_{xo} x_t + W_{ho} h_{t-1} + w_{co} \odot c_t + b_o), \qquad h_t = o_t \odot \tanh(c_t)
# \end{aligned}$$
#
# `w_ci`, `w_cf`, `w_co` are vectors of shape `(H,)`: unit k's gate sees only unit k's cell (a
# diagonal matrix, 3H extra parameters). The input and forget gates decide *how to update* the cell,
# so they can only see the old one, $c_{t-1}$; the output gate comes after the update and sees the
# new one, $c_t$. (Some summaries of the lecture let $o_t$ see $c_{t-1}$ too; we follow Gers &
# Schmidhuber and `course_lib.lstm_gru.LSTMCellScratch(peephole=True)`.) Return `(h_t, c_t)`, as
# `lstm_step` does; with all three peepholes 0 your step must equal `lstm_step`.

# %%
def peephole_lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b, w_ci, w_cf, w_co):
    """One peephole LSTM step. x_t (B, D), h_prev and c_prev (B, H), W_xh (4H, D), W_hh (4H, H), b (4H,),
    peephole weights w_ci, w_cf, w_co (H,) -> (h_t, c_t)."""
    ### HINT: start from Exercise 1; a peephole is one more term of a gate's pre-activation, and unit k's gate sees only unit k's cell; which cell exists yet when each gate is computed?
    ### BEGIN SOLUTION
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    a_i, a_f, a_c, a_o = np.split(a, 4, axis=1)
    i = sigmoid(a_i + w_ci * c_prev)
    f = sigmoid(a_f + w_cf * c_prev)
    c_t = f * c_prev + i * np.tanh(a_c)
    o = sigmoid(a_o + w_co * c_t)
    h_t = o * np.tanh(c_t)
    return h_t, c_t
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("peephole_lstm_step")

# %% [markdown]
# A sanity check against the course's own cell: random weights and peepholes copied into
# `LSTMCellScratch(peephole=True)` (float64), five steps carried.

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.lstm_gru import LSTMCellScratch

with needs_exercise("peephole_lstm_step"):
    r = np.random.default_rng(0)
    B, D, H = 2, 3, 4
    cell = LSTMCellScratch(D, H, peephole=True).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.from_numpy(r.normal(size=tuple(p.shape))))
    params = [getattr(cell, n).detach().numpy() for n in ("W_xh", "W_hh", "b", "w_ci", "w_cf", "w_co")]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    h_ref, c_ref = torch.zeros(B, H, dtype=torch.float64), torch.zeros(B, H, dtype=torch.float64)
    worst = 0.0
    for t in range(5):
        x = r.normal(size=(B, D))
        h, c = peephole_lstm_step(x, h, c, *params)
        with torch.no_grad():
            h_ref, (_, c_ref) = cell(torch.from_numpy(x), (h_ref, c_ref))
        worst = max(worst, float(np.abs(h - h_ref.numpy()).max()), float(np.abs(c - c_ref.numpy()).max()))
    print("your step equals LSTMCellScratch(peephole=True) over 5 steps (to 1e-9):", worst < 1e-9)

# %% [markdown]
# ### Try it: an output gate that opens at a chosen step
#
# One unit (H = D = 1, all weight matrices 0, input 0): i ≈ f ≈ 1 and c̃ = 0.1, so the cell counts,
# c_t ≈ 0.1·t. The output gate's bias keeps it shut, and its peephole `w_co` = 100 opens it once
# 100·c_t outgrows the bias: the bias below is chosen so that happens at step `open_at`. Without the
# peephole (`w_co` = 0) nothing can open it: the gate's only other inputs are x_t (0) and
# $h_{t-1}$, which is 0 while the gate is shut. Change `open_at` and re-run.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("peephole_lstm_step"):
    open_at = 6
    for w_co in (100.0, 0.0):
        b = np.array([10.0, 10.0, np.arctanh(0.1), -100.0 * 0.1 * (open_at - 0.5)])   # i, f, c̃, o
        h, c = np.zeros((1, 1)), np.zeros((1, 1))
        hs = []
        for t in range(1, 11):
            h, c = peephole_lstm_step(np.zeros((1, 1)), h, c, np.zeros((4, 1)), np.zeros((4, 1)), b,
                                      np.zeros(1), np.zeros(1), np.array([w_co]))
            hs.append(float(h[0, 0]))
        print(f"w_co = {w_co:3.0f}: h_1..h_10 = " + " ".join(f"{v:.2f}" for v in hs))

# %% [markdown]
# ## Exercise 3: `peephole_grads`: how the peephole weights learn, derived by hand
#
# Training needs $\partial L/\partial w_{ci}$, $\partial L/\partial w_{cf}$, $\partial L/\partial w_{co}$.
# Take one step and a loss whose gradient at the output is given, `dh_t` $= \partial L/\partial h_t$
# `(B, H)` (for instance $L = \sum$ `dh_t` $\odot h_t$), and apply the chain rule backwards through the
# equations of Exercise 2, from $h_t$ to each gate's pre-activation, where the peepholes sit. Draw the
# graph of one unit first: which quantities does $c_t$ feed, and which cell does each peephole read?
# Every path from a weight to $h_t$ contributes to its gradient. A peephole vector is shared by every
# row of the batch, and $L$ sums over the rows. Return `(dw_ci, dw_cf, dw_co)`, each `(H,)`. The tests
# compare with autograd through `LSTMCellScratch(peephole=True)` in float64.

# %%
def peephole_grads(x_t, h_prev, c_prev, W_xh, W_hh, b, w_ci, w_cf, w_co, dh_t):
    """∂L/∂w_ci, ∂L/∂w_cf, ∂L/∂w_co, each (H,), for one peephole LSTM step (arguments as peephole_lstm_step)
    given dh_t = ∂L/∂h_t (B, H)."""
    ### HINT: the backward pass needs the forward pass's gates and cells, so recompute them; a sigmoid's derivative can be written with its own output; count the paths from c_t to h_t when w_co ≠ 0; the result has one entry per unit, not per row
    ### BEGIN SOLUTION
    a_i, a_f, a_c, a_o = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b, 4, axis=1)
    i, f, c_tilde = sigmoid(a_i + w_ci * c_prev), sigmoid(a_f + w_cf * c_prev), np.tanh(a_c)
    c_t = f * c_prev + i * c_tilde
    o = sigmoid(a_o + w_co * c_t)
    tanh_c = np.tanh(c_t)
    d_pre_o = dh_t * tanh_c * o * (1 - o)                       # ∂L/∂(o's pre-activation)
    d_c = dh_t * o * (1 - tanh_c ** 2) + d_pre_o * w_co        # both paths from c_t to h_t
    d_pre_i = d_c * c_tilde * i * (1 - i)
    d_pre_f = d_c * c_prev * f * (1 - f)
    return (d_pre_i * c_prev).sum(axis=0), (d_pre_f * c_prev).sum(axis=0), (d_pre_o * c_t).sum(axis=0)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("peephole_grads")

# %% [markdown]
# A finite-difference check on your own step: nudge each peephole of unit 0 by ±1e-6, run your
# `peephole_lstm_step` twice, and compare $(L(w + \epsilon) - L(w - \epsilon)) / 2\epsilon$ with your formula.

# %%
with needs_exercise("peephole_grads"):
    r = np.random.default_rng(1)
    B, D, H = 3, 2, 4
    args = [r.normal(size=(B, D)), r.normal(size=(B, H)), r.normal(size=(B, H)) * 2, r.normal(size=(4 * H, D)),
            r.normal(size=(4 * H, H)), r.normal(size=4 * H)] + [r.normal(size=H) for _ in range(3)]
    dh = r.normal(size=(B, H))
    gaps = []
    grads = peephole_grads(*args, dh)
    for k, name in enumerate(("w_ci", "w_cf", "w_co")):
        plus, minus = [a.copy() for a in args], [a.copy() for a in args]
        plus[6 + k][0] += 1e-6
        minus[6 + k][0] -= 1e-6
        numeric = ((peephole_lstm_step(*plus)[0] * dh).sum() - (peephole_lstm_step(*minus)[0] * dh).sum()) / 2e-6
        print(f"dL/d{name}[0]: yours {grads[k][0]:+.5f}, finite difference {numeric:+.5f}")
        gaps.append(abs(grads[k][0] - numeric))

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.claims import claim

with needs_exercise("peephole_grads"):
    if len(gaps) < 3:
        raise NotImplementedError("the cell above needs your answer first")
    claim(max(gaps) < 1e-6, "your three peephole gradients equal the finite differences (to 1e-6)")

# %% [markdown]
# ## Exercise 4: `gru_step`: one step of the GRU, the lecture's way
#
# $$r_t = \sigma(W_{xr} x_t + W_{hr} h_{t-1} + b_r), \quad z_t = \sigma(W_{xz} x_t + W_{hz} h_{t-1} + b_z)$$
# $$\tilde h_t = \tanh(W_{xh} x_t + W_{hh} (r_t \odot h_{t-1}) + b_h), \qquad
# h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t$$
#
# Stacked as before: `W_xh` `(3H, D)`, `W_hh` `(3H, H)`, `b` `(3H,)`, block order **r, z, h̃**.
# Careful: the reset gate multiplies $h_{t-1}$ *before* the product with the candidate's block of
# `W_hh` (PyTorch's `nn.GRU` applies it after; notebook 06 shows the difference).

# %%
def gru_step(x_t, h_prev, W_xh, W_hh, b):
    """One GRU step (lecture convention). x_t (B, D), h_prev (B, H), W_xh (3H, D), W_hh (3H, H), b (3H,) -> h_t (B, H)."""
    ### HINT: the blocks are r, z, h̃ in this order; the reset gate acts on the state before the candidate's recurrent weights see it; in the lecture z_t is the share of the OLD state that is kept
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    rz = sigmoid(x_t @ W_xh[:2 * H].T + h_prev @ W_hh[:2 * H].T + b[:2 * H])
    r, z = rz[:, :H], rz[:, H:]
    h_tilde = np.tanh(x_t @ W_xh[2 * H:].T + (r * h_prev) @ W_hh[2 * H:].T + b[2 * H:])
    return z * h_prev + (1 - z) * h_tilde
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("gru_step")

# %% [markdown]
# ## Exercise 5: `LSTMLayer`: an LSTM layer equal to `nn.LSTM`, end to end
#
# Now in PyTorch, so autograd gives the gradients. The layer below has exactly `nn.LSTM`'s
# parameters (`weight_ih_l0` `(4H, D)`, `weight_hh_l0` `(4H, H)` and two biases `bias_ih_l0`,
# `bias_hh_l0` `(4H,)`, gate order i, f, g = c̃, o), in float64. Write its `forward` with
# `nn.LSTM(batch_first=True)`'s interface:
#
# * `x` is `(B, T, D)`; `state` is `None` (then $h_0 = c_0 = 0$) or a pair `(h_0, c_0)`, each `(1, B, H)`;
# * return `(outputs, (h_n, c_n))`: `outputs` `(B, T, H)` holds $h_1 \dots h_T$; `h_n`, `c_n` are
#   `(1, B, H)`.
#
# The tests copy random weights into your layer and into `nn.LSTM` and compare outputs, final
# states, and the gradients of `x` and of every weight. Do not call `nn.LSTM` (or `nn.LSTMCell`).

# %%
class LSTMLayer(nn.Module):
    """One LSTM layer with nn.LSTM's parameters and interface (batch-first, float64)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        bound = 1 / math.sqrt(hidden_size)            # nn.LSTM's initialisation

        def param(*shape):
            return nn.Parameter(torch.empty(*shape, dtype=torch.float64).uniform_(-bound, bound))
        self.weight_ih_l0 = param(4 * hidden_size, input_size)
        self.weight_hh_l0 = param(4 * hidden_size, hidden_size)
        self.bias_ih_l0 = param(4 * hidden_size)
        self.bias_hh_l0 = param(4 * hidden_size)

    def forward(self, x, state=None):
        """x (B, T, D), state (h_0, c_0) each (1, B, H) or None -> (outputs (B, T, H), (h_n, c_n) each (1, B, H))."""
        ### HINT: the state is carried from step to step (from zeros when none is given); nn.LSTM has two bias vectors and uses both; mind the leading layer axis of size 1 on the states going in and coming out
        ### BEGIN SOLUTION
        B = x.shape[0]
        if state is None:
            h = torch.zeros(B, self.hidden_size, dtype=x.dtype)
            c = torch.zeros(B, self.hidden_size, dtype=x.dtype)
        else:
            h, c = state[0][0], state[1][0]
        outputs = []
        for x_t in x.unbind(1):
            gates = x_t @ self.weight_ih_l0.T + self.bias_ih_l0 + h @ self.weight_hh_l0.T + self.bias_hh_l0
            a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)
            i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h[None], c[None])
        ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("LSTMLayer")

# %% [markdown]
# ## Try it: a memory that stays, or fades
#
# One LSTM unit with the forget gate's bias at 0 (f = 0.5) and at 4 (f ≈ 0.98): write 1 into the
# cell at the first step (input gate open, candidate 1), then close the input gate and watch the cell
# over 10 steps. Change `b_f` and re-run.

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("lstm_step"):
    for b_f in (0.0, 4.0):
        W_x = np.array([[20.0], [0.0], [20.0], [0.0]])         # x = 1 opens i and drives c̃ to tanh(20) ≈ 1
        b = np.array([-10.0, b_f, 0.0, 0.0])                    # x = 0: i = σ(−10) ≈ 0, f = σ(b_f)
        h, c = np.zeros((1, 1)), np.zeros((1, 1))
        cells = []
        for t in range(10):
            h, c = lstm_step(np.array([[1.0 if t == 0 else 0.0]]), h, c, W_x, np.zeros((4, 1)), b)
            cells.append(float(c[0, 0]))
        print(f"b_f = {b_f:.0f}: c_t = " + " ".join(f"{v:.3f}" for v in cells))

# %% [markdown]
# ## Exercise 6: `cell_path_gradient`: the gradient highway, measured
#
# The cell update $c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t$ is how the LSTM keeps gradients alive
# over many steps. Run a sequence `x` `(B, T, D)` through the LSTM from `(h_0, c_0)` (use your
# `lstm_step`) and return $\partial c_T / \partial c_0$ **along the cell's own path**: how much unit k's
# $c_T$ moves per unit change of its $c_0$ when the gates, the candidates and the states $h_t$ are
# held at their values (the other paths, through $h_t$ and the gates, are left out). That is one
# number per row and unit: shape `(B, H)`.
#
# Derive it first, on paper, from one step of the cell update. When `W_hh` = 0 the gates and the
# candidate see only $x_t$, the cell's path is the only way from $c_0$ to $c_T$, and the tests compare
# your result with autograd's $\partial c_T / \partial c_0$; with `W_hh` ≠ 0 they compare it with the
# gates of the run itself.

# %%
def cell_path_gradient(x, h0, c0, W_xh, W_hh, b):
    """x (B, T, D), h0 and c0 (B, H), LSTM weights as in lstm_step -> ∂c_T/∂c_0 along the cell path, (B, H)."""
    ### HINT: differentiate one step of the cell update with the gates held fixed, then chain the T steps; the gates of step t are computed from the state h_{t-1} that the run has carried to that step
    ### BEGIN SOLUTION
    H = h0.shape[1]
    h, c = h0, c0
    grad = np.ones_like(c0)
    for t in range(x.shape[1]):
        forget = sigmoid((x[:, t] @ W_xh.T + h @ W_hh.T + b)[:, H:2 * H])
        grad = grad * forget
        h, c = lstm_step(x[:, t], h, c, W_xh, W_hh, b)
    return grad
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
check("cell_path_gradient")

# %% [markdown]
# ### Try it: your formula against autograd, and the forget gate's bias as a dial
#
# First an `nn.LSTMCell` with the same weights and `W_hh` = 0, run for 30 steps: autograd's
# $\partial c_T/\partial c_0$ (the cell path is the only path here) against yours. Then random weights
# with $W_{hh}$ ≠ 0 and the forget gate's bias $b_f$ at 0 and at 3, over T = 50 steps. The values
# depend on the weights drawn; the checks do not. Change `b_f` or `T` and re-run.

# %%
highway = {}
with needs_exercise("cell_path_gradient"):
    r = np.random.default_rng(3)
    B, T, D, H = 2, 30, 3, 4
    x, h0, c0 = r.normal(size=(B, T, D)), r.normal(size=(B, H)) * 0.5, r.normal(size=(B, H))
    W_xh, b = r.normal(size=(4 * H, D)) * 0.5, r.normal(size=4 * H) * 0.5
    b[H:2 * H] += 2.0                                             # a forget gate that mostly keeps
    cell = nn.LSTMCell(D, H).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(W_xh)), cell.weight_hh.zero_()
        cell.bias_ih.copy_(torch.from_numpy(b)), cell.bias_hh.zero_()
    c_start = torch.tensor(c0, requires_grad=True)
    h_t, c_t = torch.from_numpy(h0), c_start
    for t in range(T):
        h_t, c_t = cell(torch.from_numpy(x[:, t]), (h_t, c_t))
    c_t.sum().backward()                                          # rows and units independent: the diagonal
    yours = cell_path_gradient(x, h0, c0, W_xh, np.zeros((4 * H, H)), b)
    print("autograd ∂c_T/∂c_0, row 0:", np.round(c_start.grad.numpy()[0], 4))
    print("yours,              row 0:", np.round(yours[0], 4))
    for b_f in (0.0, 3.0):
        W_hh = r.normal(size=(4 * H, H)) * 0.5
        bias = np.concatenate([np.zeros(H), np.full(H, b_f), np.zeros(2 * H)])
        xs = r.normal(size=(B, 50, D))
        highway[b_f] = cell_path_gradient(xs, np.zeros((B, H)), np.zeros((B, H)), W_xh, W_hh, bias)
        print(f"b_f = {b_f:.0f}: ∂c_50/∂c_0 along the cell, largest over rows and units {highway[b_f].max():.2g}")

# %%
# NBVAL_CHECK_OUTPUT
with needs_exercise("cell_path_gradient"):
    if len(highway) < 2:
        raise NotImplementedError("the cell above needs your answer first")
    claim(np.allclose(yours, c_start.grad.numpy(), rtol=1e-9, atol=1e-12),
          "with W_hh = 0 your ∂c_T/∂c_0 equals autograd's (to 1e-9)")
    claim(highway[0.0].max() < 1e-6, "with b_f = 0 the cell path's gradient vanishes within 50 steps")
    claim(highway[3.0].max() > 1000 * highway[0.0].max(), "b_f = 3 keeps it more than 1 000 times larger")
