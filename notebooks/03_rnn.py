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
# # 03 · The vanilla RNN and RNN language models
#
# **Sequence data** (sentences, audio, prices) changes along a time axis and comes in any length;
# **grid data** (an image) is seen all at once. A feed-forward network, like the fixed-window LM
# of notebook 01, takes a fixed-size input: it cannot read a sentence of any length, and the
# weights that look at position 1 are not the ones that look at position 5, so it learns the same
# pattern once per position. A **recurrent network** reads one step at a time and keeps a
# hidden state, updated by the *same* weights at every step:
#
# $$h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h), \qquad y_t = \mathrm{softmax}(W_{hy} h_t + b_y)$$
#
# (The lecture writes a sigmoid σ for the output $y_t$; why a language model needs the softmax
# instead is explained below.) This notebook builds it from that equation (`course_lib.rnn.RNNCellScratch`), proves it equal to
# PyTorch's `nn.RNN`, and trains RNN language models on Shakespeare, character by character and
# word by word.

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import math
import re

import matplotlib.pyplot as plt
import torch

from course_lib import data, get_device, seed_everything
from course_lib.claims import between, claim
from course_lib.figures import rnn_task_types, unrolled_lm
from course_lib.rnn import RNNLM, RNNCellScratch, RNNScratch, copy_rnn_weights, generate
from course_lib.text import Vocab, char_tokenize, lm_random_batches, lm_sequential_batches, word_tokenize
from course_lib.train import evaluate_loss, train
from course_lib.widgets import TemperatureWidget, temperature_figure

seed_everything(0)
torch.set_num_threads(1)
device = get_device()  # CUDA or MPS when there is one, else the CPU (COURSE_DEVICE=cpu forces the CPU)

# %% [markdown]
# ## One step of the cell, with shapes
#
# Batch-first shapes: a batch of B inputs $x_t$ is `(B, D)`, the hidden state `(B, H)`. With the
# batch in the rows, $W_{xh} x_t$ is `x_t @ W_xh.T`.

# %%
# NBVAL_CHECK_OUTPUT
B, D, H = 4, 3, 5
cell = RNNCellScratch(D, H)
for name, p in cell.named_parameters():
    print(f"{name:5s} {tuple(p.shape)}")
x_t, h_prev = torch.randn(B, D), torch.zeros(B, H)
h_t, _ = cell(x_t, h_prev)
assert h_t.shape == (B, H)
print("x_t", tuple(x_t.shape), "+ h_{t-1}", tuple(h_prev.shape), "-> h_t", tuple(h_t.shape))

# %% [markdown]
# ## Unrolling in time, and weight sharing
#
# Unrolled over T steps, the RNN is a T-layer network whose layers all share $W_{xh}, W_{hh}, b_h$.
# So the number of parameters does not depend on the length of the sequence:

# %%
# NBVAL_CHECK_OUTPUT
rnn = RNNScratch(input_size=D, hidden_size=H)
n_params = sum(p.numel() for p in rnn.parameters())
for T in (10, 1000):
    outputs, h_n = rnn(torch.randn(B, T, D))
    print(f"T={T:5d}: outputs {tuple(outputs.shape)}, h_T {tuple(h_n.shape)}, parameters {n_params}")
print(f"= H*D + H*H + H = {H * D} + {H * H} + {H}")

# %% [markdown]
# The outputs are batch-first, `(B, T, H)`, like every tensor in the course; the final state `h_T`
# is the one exception, `(layers, B, H)` (here one layer): that is PyTorch's convention for states
# even with `batch_first=True`, so that a stack of layers keeps one state per layer along the
# first axis and `h_T[-1]` is the top layer's. Our RNN follows it so it can stand in for `nn.RNN`.
#
# **`nn.RNN` is sequence-first unless told otherwise.** Its default, `batch_first=False`, expects
# `(T, B, D)` and returns outputs `(T, B, H)`: time on the first axis, as in the lecture's
# $h^{(1)}, \dots, h^{(t)}$ loop. Given a batch-first tensor it does not complain when the shapes
# happen to fit; it silently treats the batch as time. The course always passes
# `batch_first=True`; the two conventions compute the same thing once the first two axes are swapped:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
seq_first = torch.nn.RNN(D, H)                                      # the default: batch_first=False
batch_first = torch.nn.RNN(D, H, batch_first=True)
batch_first.load_state_dict(seq_first.state_dict())                 # the same weights
x = torch.randn(B, 7, D)                                            # batch-first: (B, T, D)
out_sf, h_sf = seq_first(x.transpose(0, 1))                         # it wants (T, B, D)
out_bf, h_bf = batch_first(x)
print("sequence-first: input", tuple(x.transpose(0, 1).shape), "-> outputs", tuple(out_sf.shape), " h_T", tuple(h_sf.shape))
print("batch-first:    input", tuple(x.shape), "-> outputs", tuple(out_bf.shape), " h_T", tuple(h_bf.shape))
print("same outputs once transposed (to 1e-6):", torch.allclose(out_sf.transpose(0, 1), out_bf, atol=1e-6),
      "  same h_T:", torch.allclose(h_sf, h_bf, atol=1e-6))

# %% [markdown]
# ## Proof: the scratch RNN computes exactly what `nn.RNN` computes
#
# Copy `nn.RNN`'s weights into the scratch RNN (`nn.RNN` keeps two biases, `b_ih` and `b_hh`;
# their sum is the lecture's $b_h$), run both in float64, and compare the outputs and the
# gradients of every parameter.

# %%
# NBVAL_CHECK_OUTPUT
for layers in (1, 2):
    torch.manual_seed(layers)
    reference = torch.nn.RNN(D, H, num_layers=layers, batch_first=True).double()
    scratch = RNNScratch(D, H, num_layers=layers).double()
    copy_rnn_weights(scratch, reference)
    x = torch.randn(B, 7, D, dtype=torch.double)
    h0 = torch.randn(layers, B, H, dtype=torch.double)
    out_ref, hn_ref = reference(x, h0)
    out_scr, hn_scr = scratch(x, h0)
    weights = torch.randn_like(out_ref)             # a random loss: sum(weights * outputs)
    (out_ref * weights).sum().backward()
    (out_scr * weights).sum().backward()
    grad_diff = max(max((cell.W_xh.grad - getattr(reference, f"weight_ih_l{l}").grad).abs().max().item(),
                        (cell.W_hh.grad - getattr(reference, f"weight_hh_l{l}").grad).abs().max().item(),
                        (cell.b_h.grad - getattr(reference, f"bias_ih_l{l}").grad).abs().max().item())
                    for l, cell in enumerate(scratch.cells))
    out_diff = max((out_ref - out_scr).abs().max().item(), (hn_ref - hn_scr).abs().max().item())
    print(f"{layers} layer(s): outputs equal to 1e-12: {out_diff < 1e-12}; gradients equal to 1e-12: {grad_diff < 1e-12}")

# %% [markdown]
# ## Task types
#
# The same cell serves every shape of problem; what changes is where inputs enter and where
# outputs are read.

# %%
rnn_task_types()
plt.show()

# %% [markdown]
# ## An RNN language model, character by character
#
# The model reads characters and, at every step, predicts the next one:
# embedding → RNN → $W_{hy} h_t + b_y$ → softmax. The **target at step t is the input at step
# t+1**: the targets are the inputs shifted left by one, so one window of text gives T predictions.

# %%
unrolled_lm("ROMEO:")
plt.show()

# %% [markdown]
# Read it bottom-up: at every step the hidden state mixes the new character into what came before,
# the prediction ŷ_t is a distribution over the whole vocabulary, and the loss compares it with the
# character that actually comes next. That same character is the next step's input: each target
# and the input one step later are printed in the same colour.
#
# **Output layer and loss: a departure from notebook 04.** The lecture's BPTT network (and
# notebook 04) uses a sigmoid output $y_t = \sigma(s_t)$ with the squared error
# $\tfrac12\lVert y_t - d_t\rVert^2$. A language model picks one of V tokens, so here the output is a
# softmax over the vocabulary and the loss of step t is the cross-entropy $-\ln \hat y_t[w_{t+1}]$,
# the negative log-probability the model gave the token that actually comes next. Over a window of
# T steps the training loss is their average (the same form as the lecture's skip-gram $J(\theta)$):
#
# $$J(\theta) = -\frac{1}{T}\sum_{t=1}^{T} \ln \hat y_t[w_{t+1}], \qquad \hat y_t = \mathrm{softmax}(W_{hy} h_t + b_y),$$
#
# averaged over the batch as well; $e^{J}$ is the perplexity. The backward
# pass starts just as simply: with a one-hot target y, the gradient of the cross-entropy with
# respect to the logits $s_t$ is $\delta = \hat y_t - y$ (checked by autograd below), which plays the
# role of notebook 04's $\delta_y^t$.

# %%
# NBVAL_CHECK_OUTPUT
s = torch.randn(5, dtype=torch.double, requires_grad=True)       # logits over V = 5 tokens
target = 2
torch.nn.functional.cross_entropy(s[None], torch.tensor([target])).backward()
y_onehot = torch.nn.functional.one_hot(torch.tensor(target), 5).double()
print("∂loss/∂logits equals softmax(logits) − one-hot target:",
      torch.allclose(s.grad, torch.softmax(s.detach(), 0) - y_onehot))

# %% [markdown]
# Training uses random windows of 64 characters (`lm_random_batches`, which builds exactly these
# shifted targets), 90% of the text; the last 10% is held out.
#
# **Each window starts from $h_0 = 0$: this is truncated BPTT.** A window is read from a zero
# state, so the gradient of every step's loss flows back at most to the window's first character
# and never further: backpropagation through time truncated to 64 steps (notebook 04 measures what
# truncation costs). The lecture's pseudo-code differs in one point: it slides its window of k steps
# along the text one step at a time and starts each window from the state `x` of everything read
# before it (`x = f(x, a[t])`), so the model sees more context than it backpropagates through.
# Random windows have no text read before them, so here the state restarts; at sampling time the
# state is carried for as long as we like.
#
# **`clip=1.0`** rescales the gradient of all parameters together whenever its norm exceeds 1
# (gradient clipping, notebook 05): a safety net against the exploding gradients of notebook 04.
# How often it acts is printed after training, from `History.grad_norm` (the norm before clipping).

# %%
# NBVAL_CHECK_OUTPUT
text = data.load_text("tinyshakespeare")
chars = Vocab(char_tokenize(text), specials=())     # every character is known: no <unk>, <pad>, ...
ids = torch.tensor(chars.encode(char_tokenize(text)))
cut = int(0.9 * len(ids))
train_ids, val_ids = ids[:cut], ids[cut:]
print(f"{len(chars)} character types; {len(train_ids):,} training and {len(val_ids):,} held-out characters")


# %%
seed_everything(0)
char_lm = RNNLM(len(chars), embed_dim=32, hidden_size=256)
prompt = chars.encode(char_tokenize("ROMEO:"))
gen = torch.Generator().manual_seed(0)
print("before training:", repr("".join(chars.decode(generate(char_lm, prompt, 60, generator=gen)))))


def val_loss(model):
    return evaluate_loss(model, lm_sequential_batches(val_ids, batch_size=16, seq_len=64), max_batches=40, device=device)


loss_untrained = val_loss(char_lm)
print(f"held-out loss before training: {loss_untrained:.2f} nats (ln {len(chars)} = {math.log(len(chars)):.2f})")

# %%
# NBVAL_IGNORE_OUTPUT
batches = lm_random_batches(train_ids, batch_size=32, seq_len=64, generator=torch.Generator().manual_seed(0))
history = train(char_lm, batches, steps=800, lr=3e-3, clip=1.0, device=device, eval_fn=val_loss, eval_every=200,
                desc="char RNN")
history.plot(title="character-level RNN LM")
plt.show()

# %%
for step, loss in zip(history.eval_step, history.eval_loss):
    print(f"step {step:4d}: held-out loss {loss:.2f} nats/char, perplexity {math.exp(loss):.1f}")
norms = torch.tensor(history.grad_norm)
print(f"gradient norm before clipping: median {norms.median():.2f}, largest {norms.max():.2f}; "
      f"above the threshold 1.0 (clipped) in {int((norms > 1.0).sum())} of {len(norms)} steps")

# %%
# NBVAL_CHECK_OUTPUT
# what the text says about the run above, with bands that hold across seeds and CPUs
between(loss_untrained, 4.1, 4.25, "the held-out loss before training (about ln 65 = 4.17)")
claim(all(a > b for a, b in zip(history.eval_loss, history.eval_loss[1:])), "the held-out loss falls at every evaluation")
between(history.eval_loss[-1], 1.7, 1.95, "the held-out loss after 800 steps, nats/char (about 1.8)")
between(float(norms.median()), 0.1, 0.9, "the median gradient norm (below the threshold 1.0)")
claim(float((norms > 1.0).float().mean()) < 0.05, "clipping acts on fewer than 5 % of the steps")

# %% [markdown]
# The held-out loss falls from about ln 65 (a uniform guess) to about 1.8 nats per character.
# The gradient norm of a typical step is well below the threshold of 1.0, so `clip=1.0` acts only
# on the rare spikes (printed above): a safety net that costs nothing when the gradients behave.
# Notebook 05 shows what clipping does and how to pick a threshold.
#
# What has the model learned? Samples after the prompt "ROMEO:" and a line break, at temperatures
# 0.5 and 1.0 (explained next), from a fixed seed: 300 characters at T = 0.5, and the start of a
# 2000-character sample at T = 1.0. Below them, how many of the sampled words occur in the
# training text, and which lines look like a speaker's name:

# %%
known_words = set(re.findall(r"[A-Za-z']+", text[:int(0.9 * len(text))]))
speaker_line = re.compile(r"^([A-Z][A-Za-z ]*):$", re.M)          # e.g. "ROMEO:" on a line of its own
speakers = set(speaker_line.findall(text[:int(0.9 * len(text))]))   # the play's speakers, as the text writes them
sample_stats = {}
for T, length, shown in ((0.5, 300, 300), (1.0, 2000, 500)):
    out = generate(char_lm, chars.encode(char_tokenize("ROMEO:\n")), length, temperature=T,
                   generator=torch.Generator().manual_seed(0))
    sample = "".join(chars.decode(out))
    found = re.findall(r"[A-Za-z']+", sample)
    sample_stats[T] = dict(known=sum(w in known_words for w in found) / len(found), lines=sample.count("\n"),
                           speakers=speaker_line.findall(sample))
    print(f"--- T = {T}, the first {shown} of {length} characters ---\nROMEO:\n{sample[:shown]}\n")
for T, st in sample_stats.items():
    print(f"T = {T}: {st['known']:.0%} of the sampled words occur in the training text; {st['lines']} line breaks; "
          f"speaker lines: {st['speakers']}, of which speakers of the text: {sorted(set(st['speakers']) & speakers)}")

# %%
# NBVAL_CHECK_OUTPUT
claim(sample_stats[0.5]["known"] > 0.7, "at T = 0.5 most sampled words (over 70 %) occur in the text")
claim(sample_stats[1.0]["lines"] >= 20, "at T = 1.0 the sample is broken into lines (at least 20)")
claim(len(sample_stats[1.0]["speakers"]) >= 2, "at T = 1.0 at least two lines are a name and a colon")
claim(set(sample_stats[1.0]["speakers"]) & speakers, "at least one of those names is a speaker of the text")

# %% [markdown]
# After 800 steps (about half a minute) the model has learned spaces between words and short common
# words, and the T = 1.0 sample shows line breaks and the shape of a speech: a capitalised name
# and a colon on its own line, then lines of verse (some names are speakers of the text, printed above, others invented). Longer
# words are still misspelled, and the text makes no sense. Longer training goes much further:
# `tests/benchmarks/bench_rnn.py` measures this model after 60 and 120 s.
#
# **Sampling.** Feed a prompt, then draw each next character from softmax(logits / T) and feed it
# back. The temperature T trades safety for surprise. Move the slider: the bars are the model's
# distribution for the character after the prompt, and the text below is a sample drawn at that
# temperature.

# %%
# NBVAL_IGNORE_OUTPUT
TemperatureWidget(char_lm, chars.itos, chars.encode(char_tokenize("ROMEO:\nWhat ")), temperature=1.0)

# %% [markdown]
# Without a running kernel the slider does nothing; here is the same distribution at three
# temperatures. At T = 0.5 the mass concentrates on the few most likely characters (lower
# entropy: safe, repetitive text); at T = 1.5 it spreads over many (higher entropy: surprising
# text, and more spelling errors). The order of the characters never changes, only how peaked
# the distribution is.

# %%
what = chars.encode(char_tokenize("ROMEO:\nWhat "))
z = char_lm.step_logits(torch.tensor([what]))[0][0, -1].detach()
peaks = {}
for T in (0.5, 1.0, 1.5):
    p = torch.softmax(z / T, 0)
    peaks[T] = (int(p.argmax()), float(p.max()), float(-(p * p.clamp_min(1e-12).log()).sum()))
    print(f"T = {T}: most likely next character {chars.itos[peaks[T][0]]!r} with p = {peaks[T][1]:.2f}; "
          f"entropy {peaks[T][2]:.2f} nats")
temperature_figure(char_lm, chars.itos, what)

# %%
# NBVAL_CHECK_OUTPUT
claim(peaks[0.5][0] == peaks[1.0][0] == peaks[1.5][0], "the most likely character is the same at every T")
claim(peaks[0.5][1] > peaks[1.0][1] > peaks[1.5][1], "its probability falls as T rises")
claim(peaks[0.5][2] < peaks[1.0][2] < peaks[1.5][2], "the entropy rises with T")

# %% [markdown]
# ## Word level, and `<unk>`
#
# A word-level model predicts whole words: fewer steps per sentence, but a vocabulary of
# thousands, and words it has never seen. Words seen fewer than 3 times become `<unk>`; each line
# ends with `<eos>`, so the model learns where lines end. When sampling, the advice of the
# Sequence Models course (week 1; not the lecture's) is to re-draw whenever `<unk>` comes out;
# `generate(..., banned=[<unk>])` does that exactly, by giving `<unk>` probability 0.

# %%
# NBVAL_CHECK_OUTPUT
lines = [word_tokenize(line) for line in text.split("\n") if line.strip()]
words = Vocab(lines, min_freq=3)
stream = [i for line in lines for i in words.encode(line) + [words.eos_id]]
unk_share = sum(i == words.unk_id for i in stream) / len(stream)
print(f"{len(words):,} word types (min_freq=3); {len(stream):,} tokens, {unk_share:.1%} of them <unk>")
chars_per_token = len(text) / len(stream)
print(f"{len(text):,} characters / {len(stream):,} word tokens = {chars_per_token:.1f} characters per token "
      "(punctuation and <eos> are tokens too; spaces and line breaks are counted in the characters)")
word_ids = torch.tensor(stream)
w_cut = int(0.9 * len(word_ids))

seed_everything(0)
word_lm = RNNLM(len(words), embed_dim=64, hidden_size=256)

# %%
# NBVAL_IGNORE_OUTPUT
w_history = train(word_lm, lm_random_batches(word_ids[:w_cut], 32, 24, generator=torch.Generator().manual_seed(0)),
                  steps=300, lr=3e-3, clip=1.0, device=device, desc="word RNN")

# %%
w_val = evaluate_loss(word_lm, lm_sequential_batches(word_ids[w_cut:], 16, 24), max_batches=40, device=device)
print(f"word level, 300 steps: held-out loss {w_val:.2f} nats/word, perplexity {math.exp(w_val):.0f}")
print(f"per character: {w_val:.2f} / {chars_per_token:.1f} = {w_val / chars_per_token:.2f} nats "
      f"(the character model: {history.eval_loss[-1]:.2f})")
start = [words.eos_id] + words.encode(["the", "king"])
unk_drawn = {}
for banned, label in (([], "<unk> allowed"), ([words.unk_id], "<unk> re-drawn")):
    gen = torch.Generator().manual_seed(3)
    out = generate(word_lm, start, 1000, temperature=1.0, banned=banned, generator=gen)
    unk_drawn[label] = out.count(words.unk_id) / len(out)
    print(f"{label}: <unk> drawn {out.count(words.unk_id)} times in {len(out)} words; first words:")
    print("    the king", " ".join(words.decode(out[:24])).replace("<eos>", "/"))

# %%
# NBVAL_CHECK_OUTPUT
between(w_val, 4.75, 5.2, "the word model's held-out loss, nats/word (about 5)")
claim(w_val / chars_per_token < history.eval_loss[-1], "per character, the word model's loss is below the character model's")
between(unk_drawn["<unk> allowed"], 0.01, 0.06, "the share of <unk> among 1000 sampled words when allowed (about 3 %)")
claim(unk_drawn["<unk> re-drawn"] == 0, "banned, <unk> is never drawn")

# %% [markdown]
# Allowed, `<unk>` comes out about as often as it stands in the text (3.2% of the tokens); banned,
# never: its probability is set to 0 and the others are renormalised.
#
# Perplexities per word and per character are not comparable as they stand: a word token is
# 3.9 characters on average here (printed above), so per character the word model's loss is its
# loss per word divided by 3.9, the number to set beside the character model's. Even then the
# word model is flattered: the 3.2% of its tokens that are `<unk>` hide rare words it never has
# to spell out, which a character model must.
#
# ## Pros and cons of the vanilla RNN
#
# * **+** any length; the same weights at every step (parameters independent of T); in principle
#   the state carries information from the whole past, unlike an n-gram or fixed window.
# * **−** computation is sequential in time (step t needs step t−1), so it parallelises poorly;
#   and in practice the information from far back fades: the gradient that would teach the model
#   long-range dependencies vanishes (or explodes) as it flows back through many steps. That is
#   notebook 04.
#
# ## Recap
#
# * The scratch RNN (`RNNCellScratch`, `RNNScratch`) equals `nn.RNN` to 1e-12 in outputs and
#   gradients, for one and two layers; its parameter count (H·D + H·H + H) does not depend on T.
# * An RNN LM predicts the next token at every step (targets = inputs shifted by one) with a
#   softmax output and the cross-entropy, whose gradient at the logits is ŷ − y.
# * Each random training window starts from $h_0 = 0$: truncated BPTT over 64 steps; `clip=1.0`
#   is a safety net that rarely acts here.
# * Character level, 800 steps (about half a minute): held-out loss from about 4.18 (≈ ln 65) down
#   to about 1.8 nats per character, perplexity about 6; the samples have words, line breaks and
#   speaker lines. Word level, 300 steps: about 5 nats per word, perplexity about 140; per
#   character that is about 1.3 nats, comparable only with the `<unk>` caveat.
# * Temperature reshapes softmax(z / T); banning `<unk>` (probability 0) is the Sequence Models
#   course's "re-draw on `<unk>`", done exactly.
#
# **Next:** notebook 04 (`notebooks/04_bptt`): backpropagation through time by hand, and why the
# gradient vanishes or explodes. First, this notebook's exercises (`exercises/03_rnn`): the RNN
# step and unroll in NumPy, the sequence loss, sampling probabilities, and, end to end, an RNN LM in
# PyTorch with shifted targets and its training loop.

