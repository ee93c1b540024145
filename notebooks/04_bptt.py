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
# # 04 · Backpropagation through time, and vanishing / exploding gradients
#
# The lecture's network:
#
# $$z_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h,\quad h_t = \tanh(z_t),\quad s_t = W_{hy} h_t + b_y,\quad y_t = \sigma(s_t),
# \quad E = \sum_t \tfrac12 \lVert y_t - d_t \rVert^2$$
#
# Training it needs $\partial E/\partial W$ for weights that are **shared across time**, so the
# chain rule runs backwards through every step: *backpropagation through time* (BPTT). With
#
# $$\delta_y^t = (y_t - d_t) \odot \sigma'(s_t),\qquad
# \delta_h^t = \big(W_{hy}^\top \delta_y^t + W_{hh}^\top \delta_h^{t+1}\big) \odot f'(z_t),$$
#
# each weight's gradient is a **sum over time**: $\partial E/\partial W_{hh} = \sum_t \delta_h^t h_{t-1}^\top$,
# $\partial E/\partial W_{xh} = \sum_t \delta_h^t x_t^\top$, $\partial E/\partial W_{hy} = \sum_t \delta_y^t h_t^\top$.
# (Note $h_{t-1}$: $W_{hh}$ multiplies the previous state; one slide writes $h^{(t)}$, a typo.)
#
# `course_lib.bptt` implements exactly this in NumPy. First we prove it right, then we follow
# the gradient back in time and watch it vanish or explode.

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import bptt
from course_lib.gradient_flow import FlowSettings, horizons, measure

torch.set_num_threads(1)

# %% [markdown]
# ## Proof: hand-written BPTT = autograd = finite differences

# %%
# NBVAL_CHECK_OUTPUT
params = bptt.init_params(D=3, H=5, M=2, seed=0)
rng = np.random.default_rng(1)
X, d = rng.normal(size=(2, 8, 3)), rng.uniform(size=(2, 8, 2))       # 2 sequences of 8 steps
cache = bptt.forward(params, X, d)
grads = bptt.backward(params, cache, d)

# the same network in PyTorch, float64, differentiated by autograd
P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
h, E = torch.zeros(2, 5, dtype=torch.double), 0.0
for t in range(8):
    h = torch.tanh(torch.tensor(X[:, t]) @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])
    y = torch.sigmoid(h @ P["W_hy"].T + P["b_y"])
    E = E + 0.5 * ((y - torch.tensor(d[:, t])) ** 2).sum()
E.backward()
print(f"loss: hand {cache.loss:.6f}, autograd {E.item():.6f}")
for name in bptt.PARAMS:
    vs_autograd = np.abs(grads[name] - P[name].grad.numpy()).max()
    numeric = bptt.numerical_gradient(params, X, d, name)
    rel = np.abs(grads[name] - numeric).max() / np.abs(numeric).max()
    print(f"∂E/∂{name:5s} vs autograd: equal to 1e-8: {vs_autograd < 1e-8}   "
          f"vs finite differences: relative error below 1e-5: {rel < 1e-5}")

# %% [markdown]
# ## Truncated BPTT
#
# Full BPTT stores every state of the sequence and runs back to step 1. *Truncated* BPTT (the
# lecture's pseudo-code) lets the error of each step flow back through at most k steps; anything
# earlier is treated as a constant. It bounds memory and time, at the price of ignoring
# dependencies longer than k.
#
# Notebook 03 already trained this way: each random window of 64 characters started from
# $h_0 = 0$, so no gradient ever flowed back further than the window's first character (k = 64,
# and, unlike the lecture's pseudo-code, no state carried over from the text before the window either).
# How far is the truncated gradient from the full one?

# %%
# NBVAL_CHECK_OUTPUT
for k in (1, 2, 4, 8):
    g_k = bptt.truncated_backward(params, cache, d, k)
    err = np.linalg.norm(g_k["W_hh"] - grads["W_hh"]) / np.linalg.norm(grads["W_hh"])
    print(f"k = {k}: relative difference of ∂E/∂W_hh from full BPTT: {err:.3f}")

# %% [markdown]
# With k = T = 8 the truncated gradient *is* the full one. With k = 1 the recurrent weight gets
# only the one-step part of its gradient.
#
# ## The gradient of one step's error: a sum over earlier steps, each a product of Jacobians
#
# The lecture writes the gradient of the error $E_t$ of a single step t as
#
# $$\frac{\partial E_t}{\partial W} = \sum_{k=0}^{t} \frac{\partial E_t}{\partial h^{(t)}}
#   \prod_{j=k+1}^{t} \left( \frac{\partial h^{(j)}}{\partial h^{(j-1)}} \right) \frac{\partial h^{(k)}}{\partial W}.$$
#
# Read it term by term. W is used at every step k up to t, so $E_t$ depends on it through each of
# those uses: $\partial h^{(k)}/\partial W$ is the *immediate* effect of W at step k (the previous
# state $h^{(k-1)}$ held fixed), and the product of the $t-k$ Jacobians carries that effect forward
# to $h^{(t)}$. The δ recursion above computes exactly these terms, for every t at once, and its
# sums over time add them up. Checked below for $E_8$ (the last step's error of the first
# sequence) and $W = W_{hh}$: the eight terms (k = 1..8; here $h_0 = 0$, so the k = 1 term, whose
# immediate effect is $\delta\, h_0^\top$, is zero) add up to autograd's gradient of $E_8$. The
# further back k lies, the more Jacobians its term passes through, and the smaller it is:

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.claims import claim

t = 8
y_t = cache.y[0, t - 1]
dE_dh = ((y_t - d[0, t - 1]) * y_t * (1 - y_t)) @ params["W_hy"]            # ∂E_8/∂h_8, (H,)
terms = []
for k in range(1, t + 1):
    back = dE_dh @ bptt.jacobian_product(params, cache, t_from=k, t_to=t)    # ∂E_8/∂h_k: the product
    terms.append(np.outer(back * (1 - cache.h[0, k] ** 2), cache.h[0, k - 1]))  # × ∂h_k/∂W_hh, h_{k-1} fixed
P8 = {name: torch.tensor(v, requires_grad=True) for name, v in params.items()}
h = torch.zeros(5, dtype=torch.double)
for step in range(t):
    h = torch.tanh(torch.tensor(X[0, step]) @ P8["W_xh"].T + h @ P8["W_hh"].T + P8["b_h"])
E_8 = 0.5 * ((torch.sigmoid(h @ P8["W_hy"].T + P8["b_y"]) - torch.tensor(d[0, t - 1])) ** 2).sum()
E_8.backward()
print("Σ_k term_k equals autograd's ∂E_8/∂W_hh to 1e-12:", np.abs(sum(terms) - P8["W_hh"].grad.numpy()).max() < 1e-12)
norms = [np.linalg.norm(term) for term in terms]
for k, n in enumerate(norms, 1):
    print(f"k = {k}: through {t - k} Jacobian(s), ‖term‖ = {n:.1e}")
claim(all(a < b for a, b in zip(norms[1:], norms[2:])), "the further back k lies (k = 2..8), the smaller its term")

# %% [markdown]
# ## The gradient through time is a product of Jacobians
#
# So everything hinges on the product. How does the error at step T reach step t? Through every
# step in between:
#
# $$\frac{\partial h_T}{\partial h_t} = \prod_{i=t+1}^{T} \frac{\partial h_i}{\partial h_{i-1}}
#   = \prod_{i=t+1}^{T} \mathrm{diag}\big(f'(z_i)\big)\, W_{hh}.$$
#
# Checked: the product from `bptt.jacobian_product` equals PyTorch's Jacobian of $h_8$ with
# respect to $h_3$.

# %%
# NBVAL_CHECK_OUTPUT
J_hand = bptt.jacobian_product(params, cache, t_from=3, t_to=8)


def h8_from_h3(h3):
    h = h3
    for t in range(3, 8):
        h = torch.tanh(torch.tensor(X[0, t]) @ P["W_xh"].detach().T + h @ P["W_hh"].detach().T + P["b_h"].detach())
    return h


J_auto = torch.autograd.functional.jacobian(h8_from_h3, torch.tensor(cache.h[0, 3]))
print("∂h_8/∂h_3: product of Jacobians equals autograd to 1e-12:", np.abs(J_hand - J_auto.numpy()).max() < 1e-12)
print(f"its norm: {np.linalg.norm(J_hand, 2):.4f}")

# %% [markdown]
# How large can this product get? Each factor has norm at most $\gamma\,\lVert W_{hh}\rVert_2$, with
# $\gamma = \max f' \le 1$ for tanh and $\lVert W_{hh}\rVert_2$ the **largest singular value**, so
# $\lVert \partial h_T/\partial h_t \rVert \le (\gamma \lVert W_{hh}\rVert_2)^{T-t}$. Pascanu et al. (2013)
# draw the two conditions from it, both on the largest singular value:
#
# * $\lVert W_{hh}\rVert_2 < 1/\gamma$ is **sufficient** for vanishing: every factor shrinks;
# * so $\lVert W_{hh}\rVert_2 > 1/\gamma$ is **necessary** for exploding: otherwise no factor can
#   stretch anything.
#
# The spectral radius ρ, the largest |eigenvalue|, is a different number: $\rho \le \lVert W_{hh}\rVert_2$,
# with equality for a symmetric or orthogonal matrix. For a general matrix a single step can
# stretch a vector by more than ρ (the exercises meet a one-step norm of 1.19 with ρ = 0.9); over
# many steps of a *linear* RNN (f' = 1), though, the product is $W_{hh}^k$ and behaves like
# $\rho^k$, because $\lVert W_{hh}^k\rVert^{1/k} \to \rho$: there ρ < 1 makes the gradient vanish and
# ρ > 1 makes it explode (the paper's linear case). Below, the matrix is orthogonal times ρ, so
# $\lVert W_{hh}\rVert_2 = \rho$ and all these conditions speak of the same number:
#
# $\lVert W_{hh}\rVert_2$ and ρ of the matrices used here, and of a Gaussian one for comparison:

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.gradient_flow import recurrent_matrix

for init in ("orthogonal", "gaussian"):
    W = recurrent_matrix(64, 0.9, init, np.random.default_rng(0))
    print(f"{init:10s} W_hh scaled to ρ = {np.max(np.abs(np.linalg.eigvals(W))):.2f}: ‖W_hh‖₂ = {np.linalg.norm(W, 2):.2f}")

# %% [markdown]
# That is the whole story of vanishing and exploding gradients. Let us measure it:
# `gradient_flow.measure` runs a real RNN forward for T steps,
# puts a loss $L_T = v^\top h_T$ on the last state ($\lVert\partial L_T/\partial h_T\rVert = 1$), and reads
# $\lVert\partial L_T/\partial h_{T-k}\rVert$ for every distance k by autograd.

# %%
# NBVAL_CHECK_OUTPUT
cases = {"ρ = 0.8, tanh": dict(rho=0.8), "ρ = 1.0, tanh": dict(rho=1.0),
         "ρ = 1.2, tanh": dict(rho=1.2), "ρ = 1.2, linear": dict(rho=1.2, activation="linear"),
         "ρ = 1.0, tanh, strong inputs (saturated)": dict(rho=1.0, input_scale=3.0),
         "ρ = 1.0, tanh, weak inputs": dict(rho=1.0, input_scale=0.1)}
fig, ax = plt.subplots(figsize=(6.9, 3.8))
for label, kw in cases.items():
    r = measure(FlowSettings(T=100, hidden=64, **kw))
    ax.semilogy(r.distance, r.grad_norm.clip(1e-14), label=label)
    horizon = r.horizon if r.horizon is not None else "> 100"
    print(f"{label:42s} gradient after 20 steps {r.grad_norm[20]:9.2e}   horizon {horizon}")
ax.axhline(1e-3, color="gray", ls=":", lw=1, label="1e-3: the horizon's threshold")
ax.set(xlabel="distance $k$ (steps back)", ylabel=r"$\Vert\partial L_T/\partial h_{T-k}\Vert$", ylim=(1e-14, 1e14),
       xlim=(0, 100))
ax.set_title(r"vanilla RNN, $H$ = 64, orthogonal $W_{hh}$ scaled to spectral radius ρ", fontsize=10)
ax.legend(fontsize=8, loc="upper left", ncol=2)      # the upper left is empty: no curve hidden
fig.tight_layout()
plt.show()

# %% [markdown]
# The curves (log scale) are straight lines where the decay or growth is geometric:
#
# * **ρ < 1: vanishing.** The gradient decays geometrically: the error at step T says nothing
#   to the weights about what happened 20 steps earlier.
# * **ρ > 1: exploding**, clearly with a linear activation (growth exactly 1.2^k). With tanh the
#   saturation (f' < 1) fights the growth; with a large ρ the hidden units saturate and the
#   gradient *vanishes* again.
# * **Saturation.** Strong inputs push tanh into its flat regions where f'(z) ≈ 0: the horizon
#   drops to a handful of steps even at ρ = 1. Weak inputs keep tanh almost linear, and an
#   orthogonal W_hh with ρ = 1 then keeps the gradient alive for ~100 steps.
#
# The *information horizon* is the number of steps until the gradient is below 1e-3 of its
# start. An example of why it matters, from CS224N's notes on language models: the answer to both
# (1) "Jane walked into the room. John walked in too. Jane said hi to ___" and
# (2) "Jane walked into the room. John walked in too. It was late in the day, and everyone was
# walking home after a long day at work. Jane said hi to ___" is "John", 8 words before the blank
# in (1) and 25 in (2). The notes observe that an RNN gets (1) right far more often. A gradient
# that dies within 8 steps (the saturated case above) barely reaches "John" in (1), and training
# cannot learn the dependency in (2).
#
# ## The widget
#
# Move the sliders: cell type, activation, spectral radius, hidden size, sequence length,
# initialisation, input scale, and two controls that belong to later notebooks: the bias of the
# gate that keeps memory (the LSTM forget gate and GRU update gate of notebook 06) and a clipping
# threshold (notebook 05: the gradient flowing back through each step is rescaled to at most this
# norm; clipping tames explosion but cannot revive a vanished gradient). Leave those two alone for
# now, or peek ahead. The left panel shows the measured gradient against the reference ρ^k (dashed)
# and, for the RNN, the bound $\prod_i \gamma_i \lVert W_{hh} \rVert_2$ (grey, under the reference:
# with an orthogonal $W_{hh}$ they nearly coincide); the right panel the singular values of the
# one-step Jacobians: when even the largest sits below 1, every direction shrinks.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.widgets import GradientFlowWidget, static_figure

widget = GradientFlowWidget(rho=0.95, T=100, hidden=64)
widget

# %% [markdown]
# Without a running kernel (a static export of this page, or before you run the cell) the widget
# above stays empty; here is the same plot for its default setting as a plain figure. At ρ = 0.95 the bound and
# ρ^k fall slowly, yet the measured gradient drops below 1e-3 after the few steps printed below:
# the bound uses the steepest unit's slope γ_i, but most units sit on flatter parts of tanh (the
# median singular value, right panel, is well below 1), so the gradient shrinks far faster.

# %%
# NBVAL_CHECK_OUTPUT
r = measure(FlowSettings(rho=0.95, T=100, hidden=64))
print(f"ρ = 0.95: information horizon {r.horizon} steps, where 0.95^k is still {0.95 ** r.horizon:.2f}")
static_figure(rho=0.95, T=100, hidden=64)

# %% [markdown]
# ## A look ahead: RNN, LSTM and GRU at the same settings
#
# The LSTM and GRU are taught in notebook 06, clipping in notebook 05; this section only
# measures, ahead of time, a claim of the course's summary notes (not the lecture's slides): "an
# LSTM keeps ~100 steps, a plain RNN ~7". Measured here, with every recurrent weight block given the same spectral radius and
# initialisation, and the bias of the gate that keeps memory (forget gate f, update gate z) set
# by hand:

# %%
# NBVAL_CHECK_OUTPUT
base = dict(T=200, hidden=64, rho=1.0, init="gaussian")
for label, kw in (("gate bias 0 (as initialised)", {}), ("forget / update gate bias 1", {"memory_bias": 1.0}),
                  ("forget / update gate bias 3", {"memory_bias": 3.0}),
                  ("saturating inputs (scale 3)", {"input_scale": 3.0})):
    found = horizons(**base, **kw)
    print(f"{label:30s}", "   ".join(f"{c.upper()} {h if h is not None else '> 200'}" for c, h in found.items()))

# %% [markdown]
# What this measurement shows (untrained networks, random weights):
#
# * **At initialisation the gates do not help.** With zero gate biases the forget gate sits at
#   σ(0) = 0.5, so the LSTM's cell state halves every step, and its gradient dies as fast as the
#   RNN's (about a dozen steps).
# * **The gates help when they are open for memory.** A forget-gate bias of 1 (a common
#   initialisation) roughly doubles the horizon; a bias of 3 keeps the LSTM's gradient alive beyond 200
#   steps and the GRU's for ~100. The plain RNN has no such knob: its only path back in time goes
#   through W_hh and tanh.
# * **Saturating inputs** cut the vanilla RNN to ~8 steps, close to the notes' "~7".
#
# So "LSTM ~100, RNN ~7" is not a property of the architectures at every setting: it holds for an
# LSTM whose forget gates are open (bias 3 here) against a vanilla RNN whose units saturate. Why
# the gates give the gradient this second path is notebook 06's subject.
#
# ## Recap
#
# * Hand-written BPTT equals autograd (to 1e-8) and finite differences (relative error below
#   1e-5) for every parameter; each shared weight's gradient is a sum over time.
# * Truncating the backward pass to k = 1 step puts ∂E/∂W_hh 0.225 (relative) away from the
#   full gradient, k = 2 0.044; k = T is full BPTT. Notebook 03's random windows, each from
#   $h_0 = 0$, are truncated BPTT over 64 steps.
# * The gradient of one step's error is the lecture's sum over earlier steps k, each term carried
#   through a product of t − k Jacobians; the far terms are the small ones.
# * The gradient back through k steps is a product of k Jacobians diag(f'(z_i)) W_hh:
#   ‖W_hh‖₂ < 1/γ makes it vanish, ‖W_hh‖₂ > 1/γ is needed for it to explode. Measured at T = 100:
#   ρ = 0.8 vanishes, ρ = 1.2 explodes only with a linear activation, and tanh's saturation
#   shortens the horizon to about 8 steps.
#
# **Next:** notebook 05 (`notebooks/05_clipping`): gradient clipping against explosion, identity
# initialisation and ReLU against vanishing. First, this notebook's exercises
# (`exercises/04_bptt`): the one-step δ recursion, the W_hh sum over time, the Jacobian norm, and
# the full backward pass for every parameter, derived by you and checked against autograd.
