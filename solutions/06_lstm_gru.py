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
# c̃, `3H:4H` for o). All four pre-activations at once are `x_t @ W_xh.T + h_prev @ W_hh.T + b`, shape `(B, 4H)`.
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
    ### HINT: the (B, 4H) pre-activations hold four (B, H) column blocks, in the order i, f, c̃, o; σ for the three gates, tanh for c̃; h_t reads the NEW cell
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
# ## Exercise 2: `gru_step`: one step of the GRU, the lecture's way
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
    ### HINT: r and z come from the first 2H rows of the weights and b; the candidate's block (the last H rows) multiplies the reset state r_t ⊙ h_{t-1}
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
# ## Exercise 3: `LSTMLayer`: an LSTM layer equal to `nn.LSTM`, end to end
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
        ### HINT: one step per time index with (h, c) carried along; both biases enter every gate; outputs stack h_1..h_T on the time axis; h_n and c_n keep a leading layer axis of size 1
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
