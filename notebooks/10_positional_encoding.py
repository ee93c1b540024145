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
# # 10 · Positional encoding: self-attention without recurrence
#
# In **self-attention** every token is a query, a key and a value at once: each position looks at
# every other position in one step, not through T − 1 recurrent steps as in an RNN. But the weighted
# average of notebook 09 has no notion of order: shuffle the tokens and the outputs are shuffled the
# same way. "dog bites man" and "man bites dog" would look alike. The lecture's remedy is to add a
# **positional encoding** P to the embeddings X, and to feed X + P to the attention layers:
#
# $$p_{i,2j} = \sin\Big(\frac{i}{10000^{2j/d}}\Big), \qquad p_{i,2j+1} = \cos\Big(\frac{i}{10000^{2j/d}}\Big)$$
#
# with rows i = positions and columns 2j, 2j + 1 = dimensions (d even). This notebook draws P,
# checks why sinusoids (relative positions are a fixed rotation), shows that self-attention without P
# ignores order and with P does not, builds the Transformer encoder block, trains a tiny causal
# Transformer LM against notebook 06's LSTM on the same characters, and ends with a map of the course.
# Code: `course_lib.positional`, built on notebook 09's `course_lib.attention`.

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import math
import time

import matplotlib.pyplot as plt
import torch

from course_lib import data, get_device, seed_everything
from course_lib.claims import between, claim
from course_lib.attention import MultiHeadAttention
from course_lib.lstm_gru import RecurrentLM
from course_lib.positional import (EncoderBlock, PositionalEncoding, TransformerLM, count_parameters,
                                   relative_rotation, sinusoidal_positional_encoding)
from course_lib.text import Vocab, char_tokenize, lm_random_batches, lm_sequential_batches
from course_lib.train import evaluate_loss, train

seed_everything(0)
torch.set_num_threads(1)
device = get_device()

# %% [markdown]
# ## The encoding matrix
#
# 64 positions, d = 32 dimensions. Each pair of columns (2j, 2j + 1) is a sine and a cosine of the
# same angular frequency $\omega_j = 1 / 10000^{2j/d}$: column 0 turns once every 2π ≈ 6.3 positions, the
# last pair so slowly that over 64 positions it barely moves.

# %%
# NBVAL_CHECK_OUTPUT
n, d = 64, 32
P = sinusoidal_positional_encoding(n, d, dtype=torch.float64)
print("P:", tuple(P.shape), "  row 0 (position 0):", [round(v, 2) for v in P[0, :6].tolist()], "...")
print("period of column pair j = 0:", round(2 * math.pi, 1), "positions; j = 15:",
      f"{2 * math.pi * 10000 ** (30 / 32):,.0f}", "positions")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3.2), layout="constrained")
im = ax1.imshow(P.numpy(), aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
ax1.set_xlabel("dimension (column) 2j, 2j+1"); ax1.set_ylabel("position i (row)")
ax1.set_title("P: rows are positions", fontsize=10); fig.colorbar(im, ax=ax1, label="p[i, column]")
for col in (6, 7, 8, 9):
    ax2.plot(P[:, col].numpy(), label=f"column {col}")
ax2.set_xlabel("position i"); ax2.set_ylabel("p[i, column]"); ax2.set_title("a few columns as curves", fontsize=10)
ax2.legend(fontsize=7, loc="lower left"); plt.show()

# %% [markdown]
# What to see: the left columns alternate fast, the right ones are almost constant (sin ≈ 0, cos ≈ 1).
# Read down a column and it is a clock hand; read across a row and it is the position written in
# "binary with smooth digits": fast digits on the left, slow ones on the right. Columns 6 and 7
# (and 8 and 9) are a sine and a cosine of the same frequency, a quarter period apart.
#
# ## Why sinusoids: relative positions are a fixed rotation
#
# From sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b − sin a sin b, with
# a = iω_j and b = kω_j:
#
# $$\begin{bmatrix} p_{i+k,2j} \\ p_{i+k,2j+1} \end{bmatrix} =
# \begin{bmatrix} \cos k\omega_j & \sin k\omega_j \\ -\sin k\omega_j & \cos k\omega_j \end{bmatrix}
# \begin{bmatrix} p_{i,2j} \\ p_{i,2j+1} \end{bmatrix}$$
#
# The matrix depends on the offset k only, not on i: a model can learn "look k positions back" once,
# as one linear map M_k (block-diagonal, one 2×2 rotation per frequency), and it works everywhere.

# %%
# NBVAL_CHECK_OUTPUT
for k in (1, 5, 20):
    Pk = sinusoidal_positional_encoding(n + k, d, dtype=torch.float64)
    M = relative_rotation(k, d)
    err = (Pk[k:] - Pk[:n] @ M.T).abs().max().item()              # P[i+k] = M_k P[i] for all 64 i at once
    print(f"k = {k:2d}: max |P[i+k] − M_k P[i]| ≤ 1e-12: {err <= 1e-12}   (M_k orthogonal: "
          f"{torch.allclose(M @ M.T, torch.eye(d, dtype=torch.float64))})")

# %% [markdown]
# The error is at the level of float64 rounding, below 1e-12 (tests/test_positional.py asserts it for several k).
#
# ## Similarity of positions against distance
#
# Because P[i+k] is a rotation of P[i], the dot product P[i] · P[i+k] = Σ_j cos(kω_j) depends on the
# distance k only. It is largest at k = 0 (= d/2) and falls, not monotonically, as k grows: nearby
# positions look alike, far ones less so.

# %%
# NBVAL_CHECK_OUTPUT
P128 = sinusoidal_positional_encoding(128, d, dtype=torch.float64)
sims = P128 @ P128.T                                               # (128, 128): P[i] · P[i']
dist = torch.arange(128)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3.2), layout="constrained")
im = ax1.imshow(sims.numpy(), cmap="viridis"); ax1.set_xlabel("position i'"); ax1.set_ylabel("position i")
ax1.set_title("P[i] · P[i']", fontsize=10); fig.colorbar(im, ax=ax1, label="P[i] · P[i']")
for i in (0, 40, 80):
    ax2.plot(dist[i:] - i, sims[i, i:].numpy(), label=f"from position {i}")
ax2.set_xlabel("distance k = i' − i"); ax2.set_ylabel("P[i] · P[i+k]"); ax2.legend(fontsize=8)
ax2.set_title("the same curve from every start", fontsize=10); plt.show()
for k in (0, 1, 4, 16, 64):
    print(f"distance {k:3d}: P[i]·P[i+k] = {sims[0, k].item():5.2f}")

# %% [markdown]
# What to see: on the left the similarity is constant along every diagonal (i' − i fixed); the
# three curves on the right lie on top of each other (the similarity is a function of
# the distance only), starting at d/2 = 16 and falling to about half of that at distance 16 (7.92): the
# slow clocks (cos ≈ 1 for every small k) keep it from reaching 0.
#
# ## The Transformer encoder block
#
# The lecture's block, as `EncoderBlock`: multi-head self-attention (notebook 09's `MultiHeadAttention`),
# **add & norm** (a residual connection X + Sublayer(X), then a layer normalisation), then a
# **position-wise feed-forward network** W₂ ReLU(W₁x + b₁) + b₂ (the same MLP at every position), and
# add & norm again. A stack of such blocks is the encoder.
#
# **Layer normalisation** standardises each position's d features separately, with their own mean
# and variance, then rescales them with learned γ and β (d numbers each):
#
# $$\mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta, \qquad
# \mu = \frac1d \sum_{k=1}^d x_k, \quad \sigma^2 = \frac1d \sum_{k=1}^d (x_k - \mu)^2 .$$
#
# Unlike batch normalisation it uses no statistics of the batch, so it works the same for one
# sentence or many, at every length, in training and at test time. After each residual sum it keeps the
# features at mean 0 and variance 1 (before γ and β), however many blocks are stacked.
#
# For a language model the attention gets a **causal mask** (notebook 09's `causal_mask`): position t
# may look at 0..t only, so predicting token t + 1 never sees it. `TransformerLM` puts the normalisation
# before each sub-layer (pre-norm, GPT-2's order; the lecture's figure is post-norm), which trains more
# easily; one sentence of departure, said here.
#
# Proof that the block and the layer norm are the standard ones: the formula above against
# `nn.LayerNorm`, and with `nn.TransformerEncoderLayer`'s weights copied in, both orders give the same
# outputs in float64, under a causal mask (tests/test_positional.py checks the gradients too).

# %%
# NBVAL_CHECK_OUTPUT
seed_everything(0)
X = torch.randn(1, 8, 16, dtype=torch.float64)                   # 8 tokens, 16 features
ln = torch.nn.LayerNorm(16).double()
with torch.no_grad():
    ln.weight.uniform_(0.5, 1.5), ln.bias.uniform_(-0.5, 0.5)      # a γ and β other than 1 and 0
    mu, var = X.mean(-1, keepdim=True), X.var(-1, unbiased=False, keepdim=True)
    by_hand = ln.weight * (X - mu) / torch.sqrt(var + ln.eps) + ln.bias
    print(f"LN by the formula vs nn.LayerNorm: max diff ≤ 1e-12: {(by_hand - ln(X)).abs().max().item() <= 1e-12}")
for pre_norm in (False, True):
    seed_everything(0)
    ref = torch.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True,
                                           norm_first=pre_norm).double()
    mine = EncoderBlock(16, 4, d_ff=32, pre_norm=pre_norm).double().copy_from_torch(ref)
    allowed = torch.ones(8, 8, dtype=torch.bool).tril()            # ours: True = may attend
    with torch.no_grad():
        diff = (mine(X, allowed) - ref(X, src_mask=~allowed)).abs().max().item()   # torch: True = blocked
    print(f"{'pre-norm ' if pre_norm else 'post-norm'}: max |EncoderBlock − nn.TransformerEncoderLayer| "
          f"≤ 1e-12: {diff <= 1e-12}")

# %% [markdown]
# ## Without positions, self-attention ignores order
#
# Self-attention computes softmax(Q Kᵀ/√d) V with Q, K, V all projections of the same X. Permute the
# rows of X (the tokens) and Q, K, V are permuted alike; the scores are permuted on both axes, the
# softmax is taken per row, so the output rows are the old ones in the new order: the layer is
# **permutation-equivariant**. The whole encoder block above (attention, add & norm, feed-forward)
# acts on each position alike, so it is equivariant too. Adding P breaks it, because P stays where it
# is while the tokens move.

# %%
# NBVAL_CHECK_OUTPUT
seed_everything(0)
X = torch.randn(1, 8, 16, dtype=torch.float64)                   # the same 8 tokens as above
perm = torch.tensor([3, 0, 7, 1, 6, 2, 5, 4])
block = EncoderBlock(16, num_heads=4).double().eval()
pe = PositionalEncoding(16, max_len=32).double()
with torch.no_grad():
    without = (block(X)[:, perm] - block(X[:, perm])).abs().max().item()
    with_pe = (block(pe(X))[:, perm] - block(pe(X[:, perm]))).abs().max().item()
print(f"no PE:   max |f(X)[perm] − f(X[perm])| ≤ 1e-12: {without <= 1e-12}   (equivariant)")
print(f"with PE: max |f(X+P)[perm] − f(X[perm]+P)| = {with_pe:.2f}  (order now matters)")

# %% [markdown]
# ## Adding P to the embeddings: the scale √d
#
# X + P only works if neither term drowns the other. The entries of P are sines and cosines, of size
# about 1 (their root mean square is $1/\sqrt2$). An embedding table initialised like PyTorch's
# `nn.Embedding`, N(0, 1), gives entries of the same size; but the Transformer paper, and `TransformerLM`
# here, initialise the table with standard deviation $1/\sqrt d$ (a common choice when the same table
# also serves as the output layer) and multiply the looked-up vectors by $\sqrt d$ before adding P:
#
# $$X = \sqrt d \cdot E[\text{tokens}] + P .$$
#
# The product has entries of size 1 again, like P's. The factor √d belongs to the initialisation: an
# N(0, 1) table multiplied by √d would give entries of size √d (8 for d = 64), and P would be a small
# ripple on top of them.

# %%
# NBVAL_CHECK_OUTPUT
d_model = 64
P64 = sinusoidal_positional_encoding(64, d_model)
E_small = torch.randn(65, d_model, generator=torch.Generator().manual_seed(0)) * d_model ** -0.5   # std 1/√d
E_unit = torch.randn(65, d_model, generator=torch.Generator().manual_seed(0))                     # std 1
rms = lambda t: t.pow(2).mean().sqrt().item()                       # noqa: E731  root mean square of the entries
print(f"root mean square of the entries: P {rms(P64):.2f}")
print(f"  √d · E, E with std 1/√d (TransformerLM): {rms(math.sqrt(d_model) * E_small):.2f}")
print(f"  √d · E, E with std 1:                     {rms(math.sqrt(d_model) * E_unit):.2f}")

# %% [markdown]
# **RNN against attention.** An RNN needs T sequential steps to read T tokens and information from token 1
# reaches token T through T − 1 multiplications (notebooks 04–06); self-attention connects any two
# positions in one step and computes all positions in parallel, at a cost of T² scores per layer.
#
# ## A tiny Transformer LM against notebook 06's LSTM
#
# Same characters, same split as notebook 03 (Tiny Shakespeare, first 90% to train, last 10% held out),
# same batches (32 windows of 64 characters, same seed), same optimiser (Adam, lr 3e-3, clipping at 1)
# and the same 300 steps for all, with about the same number of parameters. Three Transformers,
# everything else equal: one with the fixed sinusoidal P, and two with a **learned** P (a (64, d) table
# of parameters trained with the model, as in GPT). The learned P is started two ways: GPT-2's
# N(0, 0.02²), entries fifty times smaller than the embeddings' (the model starts with practically no
# positions), and N(0, 1), the embeddings' own scale.

# %%
# NBVAL_CHECK_OUTPUT
text = data.load_text("tinyshakespeare")
chars = Vocab(char_tokenize(text), specials=())
ids = torch.tensor(chars.encode(char_tokenize(text)))
cut = int(0.9 * len(ids))
train_ids, val_ids = ids[:cut], ids[cut:]
print(f"{len(chars)} character types; {len(train_ids):,} training and {len(val_ids):,} held-out characters")

# %%
def val_loss(model):
    return evaluate_loss(model, lm_sequential_batches(val_ids, batch_size=16, seq_len=64), max_batches=40,
                         device=device)


STEPS = 300                                                        # change this and re-run (all models)
transformer = dict(d=64, num_heads=4, num_layers=2, max_len=64)
makers = {"LSTM (notebook 06)": lambda: RecurrentLM(len(chars), embed_dim=32, hidden_size=128, cell="lstm"),
          "Transformer, sinusoidal P": lambda: TransformerLM(len(chars), **transformer),
          "Transformer, learned P, std 0.02": lambda: TransformerLM(len(chars), **transformer, learned_positions=True),
          "Transformer, learned P, std 1": lambda: TransformerLM(len(chars), **transformer, learned_positions=True,
                                                                 positions_init_std=1.0)}
results = {}


def run(name):
    """Train one of the models from seed 0 on the same batches; keep its held-out curve (step 0 included)."""
    seed_everything(0)                                             # every model starts from the same seed
    model = makers[name]()
    batches = lm_random_batches(train_ids, batch_size=32, seq_len=64, generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    first = val_loss(model)                                        # step 0: the untrained model
    h = train(model, batches, steps=STEPS, lr=3e-3, clip=1.0, device=device, eval_fn=val_loss, eval_every=100,
              progress=False)
    results[name] = ([0] + list(h.eval_step), [first] + list(h.eval_loss), time.perf_counter() - start)
    print(f"{name:33s} {count_parameters(model):7,d} parameters   held-out loss after {STEPS} steps: "
          f"{h.eval_loss[-1]:.2f} nats/char")


# %%
run("LSTM (notebook 06)")                                          # one model per cell

# %%
run("Transformer, sinusoidal P")

# %%
run("Transformer, learned P, std 0.02")

# %%
run("Transformer, learned P, std 1")

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for name, (steps, losses, _) in results.items():
    ax.plot(steps, losses, "o-", ms=4, label=name)
ax.set_xlabel("step"); ax.set_ylabel("held-out cross-entropy (nats/char)")
ax.set_ylim(top=max(losses_[1] for _, losses_, _ in results.values()) + 0.4)   # step 0 (≈ ln 65) is cut off
ax.legend(fontsize=8, loc="upper right")                                       # above the curves' ends
ax.set_title("same data, same steps (lower is better)", fontsize=10); plt.show()
for name, (_, _, sec) in results.items():
    print(f"{name:33s} {sec:5.1f} s of training on {device.type}")   # wall time varies with the machine

# %%
# NBVAL_CHECK_OUTPUT
final = {name: losses[-1] for name, (_, losses, _) in results.items()}
lstm, sin_p, small_p, unit_p = final.values()
between(lstm, 1.9, 2.2, "the LSTM's held-out loss after 300 steps")
claim(lstm < min(sin_p, small_p, unit_p), "the LSTM ends lowest")
claim(sin_p < unit_p < small_p, "sinusoidal P < learned P started at the embeddings' scale < learned P started at 0.02")
between(small_p - sin_p, 0.08, 0.35, "learned P from std 0.02 minus sinusoidal P")
_ = between(unit_p - sin_p, 0.0, 0.15, "learned P from std 1 minus sinusoidal P")

# %% [markdown]
# What to see: all four curves still fall at step 300, and the LSTM's lies lowest throughout. (The
# first point, before training, is off the top of the plot: about ln 65 for every model.)
#
# At this size the **LSTM wins**: after the same 300 steps its held-out loss is about 2.03 nats/char
# against about 2.17 for the Transformer with sinusoidal positions (printed above), and on a CPU each of
# its steps is cheaper too, so it wins at equal time by more. That is the honest result of a tiny budget:
# a Transformer has no built-in bias towards "recent characters matter most" and must learn, through its
# positional encoding, where to look; an LSTM has that bias by construction. Transformers win with more
# data, more steps, longer contexts and hardware that runs their parallel attention fast, none of which a
# few seconds on a CPU gives. Set `STEPS = 1200` and re-run (about four times longer) to see the gap
# narrow; `tests/benchmarks/bench_positional.py` runs that longer comparison outside the notebook.
#
# Fixed against learned positions: the learned P started at 0.02 ends clearly worst, but most of that is
# its start. Its entries are fifty times smaller than the embeddings', so for the first hundred steps the
# model is nearly position-blind and has to grow P from almost nothing. Started at the embeddings' scale,
# the learned P ends within a tenth of a nat/char of the sinusoidal one (the checks above; in every run we
# tried, three seeds and a second float path, it stayed behind). So at 300 steps fixed positions beat
# learned ones by a little; most of the large gap was the initialisation's. With enough data a learned table catches up, which is
# why GPT uses one.
#
# ## The whole course on one page
#
# | notebook | idea | what it shows (numbers in that notebook) |
# |---|---|---|
# | 01 n-grams | count the next token; smoothing; perplexity | Kneser-Ney smoothing gives the lowest held-out perplexity of the counting models |
# | 02 word2vec | embeddings: a lookup table learned by skip-gram / CBOW | neighbours such as thou → art, hast; a few percent of analogies solved on a small corpus |
# | 03 RNN | $h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)$, an LM over a whole history | a character RNN beats the n-gram models' held-out loss |
# | 04 BPTT | gradients through time, a product of Jacobians | truncating backpropagation to one step gives a badly wrong gradient for $W_{hh}$ |
# | 05 clipping | clip the global norm; identity init | unclipped descent meets gradient norms in the thousands on the cliff |
# | 06 LSTM / GRU | gates i, f, o and c̃; r and z | agreement across 20 words: LSTM with a forget-gate bias and GRU right, RNN at chance |
# | 07 BiRNN | read the sentence both ways; stack layers | POS tagging: the BiLSTM beats the one-way LSTM, most on unknown words |
# | 08 seq2seq | encode to c, decode with masking; beam search; BLEU | dates → ISO nearly all right with the source reversed; eng-fra held-out BLEU a little higher with a beam |
# | 09 attention | softmax(QKᵀ/√d)V; masks; multi-head | date task: exact match from half or less to nearly 1 with attention |
# | 10 positional encoding | X + P, self-attention without recurrence | 300 steps: the LSTM ahead of the small Transformers (above) |
#
# n-grams → embeddings → RNN → gates → attention: each step removed one limit of the one before (a fixed
# window, sparse counts, vanishing gradients, a single fixed context vector, sequential computation).
#
# ## Recap
#
# * P is an (n, d) matrix, $p_{i,2j} = \sin(i \omega_j)$, $p_{i,2j+1} = \cos(i \omega_j)$,
#   $\omega_j = 10000^{-2j/d}$; rows are positions, column pairs are clocks from fast to slow. d must be
#   even (`sinusoidal_positional_encoding` rejects an odd d).
# * Moving k positions is a fixed rotation M_k, one 2×2 block per frequency, verified to float64 rounding;
#   hence P[i] · P[i+k] depends on the distance k only.
# * The encoder block: self-attention, add & norm, feed-forward, add & norm; layer normalisation
#   standardises each position's features, $\gamma \odot (x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta$.
# * Without positions, self-attention and a whole encoder block are permutation-equivariant (difference
#   ≤ 1e-12 above); with X + P they are not (difference 1.75).
# * X = √d · E[tokens] + P with E initialised at std 1/√d: embeddings and positions both of size about 1.
# * On Tiny Shakespeare characters, same data and 300 steps, the small LSTM beats the small Transformers
#   in held-out loss: at this size the recurrent bias wins. Fixed positions beat a learned table by a
#   little when the table starts at the embeddings' scale, by much more when it starts near 0.
#
# **Exercises** (`exercises/10_positional_encoding.ipynb`): the sinusoidal encoding, adding it to a batch
# with the right broadcasting and scale (the √d above), the causal mask, and end to end a causal
# self-attention layer that never looks ahead. This is the last notebook of the course.
