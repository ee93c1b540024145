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
# # 00 · Welcome to "RNNs and Language Models"
#
# This course follows one lecture, from counting n-grams to attention, and lets you run, poke
# and implement every model in it. Each topic has three notebooks with the same name:
#
# | folder | what it is |
# |---|---|
# | `notebooks/NN_topic` | the lesson: explanations, experiments, figures |
# | `exercises/NN_topic` | your graded exercises, with `check(...)` cells |
# | `solutions/NN_topic` | the instructor's solutions (not in the student copy) |
#
# The models live in `course_lib`, a small library you can read: notebooks call it instead of
# defining models inline, so the same RNN cell you meet in notebook 03 is the one that BPTT,
# LSTM/GRU, seq2seq and attention build on.
#
# This notebook checks your setup: versions, the device computations will use, and where the
# data comes from.

# %% [markdown]
# ## The course map
#
# | # | lesson | exercises | the lecture's part |
# |---|---|---|---|
# | 00 | this notebook | [softmax, cross-entropy](../exercises/00_welcome.ipynb) | setup, data, tensors |
# | 01 | [n-gram LMs and the fixed-window neural LM](01_ngrams.ipynb) | [exercises](../exercises/01_ngrams.ipynb) | counting, smoothing, perplexity |
# | 02 | [word embeddings and word2vec](02_word2vec.ipynb) | [exercises](../exercises/02_word2vec.ipynb) | skip-gram, CBOW, negative sampling |
# | 03 | [the vanilla RNN and RNN LMs](03_rnn.ipynb) | [exercises](../exercises/03_rnn.ipynb) | h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), sampling |
# | 04 | [BPTT, vanishing and exploding gradients](04_bptt.ipynb) | [exercises](../exercises/04_bptt.ipynb) | the gradient-decay widget |
# | 05 | [gradient clipping, identity initialisation](05_clipping.ipynb) | [exercises](../exercises/05_clipping.ipynb) | the cliff, IRNN, the adding problem |
# | 06 | [LSTM and GRU](06_lstm_gru.ipynb) | [exercises](../exercises/06_lstm_gru.ipynb) | gates i, f, o and c̃; reset r and update z |
# | 07 | [bidirectional and deep RNNs](07_birnn.ipynb) | [exercises](../exercises/07_birnn.ipynb) | POS tagging, sentiment, the LM leak |
# | 08 | [seq2seq: the encoder-decoder](08_seq2seq.ipynb) | [exercises](../exercises/08_seq2seq.ipynb) | masking, teacher forcing, beam search, BLEU |
# | 09 | [attention](09_attention.ipynb) | [exercises](../exercises/09_attention.ipynb) | additive, scaled dot-product, multi-head; seq2seq with attention |
# | 10 | [positional encoding](10_positional_encoding.ipynb) | [exercises](../exercises/10_positional_encoding.ipynb) | self-attention without recurrence; Transformer LM vs LSTM |
#
# The lecture is in Chinese: the [glossary](glossary.md) maps its terms (循环神经网络, 梯度消失 …)
# to English and to the section that teaches each. Your progress on every exercise notebook at
# once: `from course_lib.grading import progress; progress()` (or `course-grade progress exercises/`).

# %%
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

import os
from pathlib import Path

import course_lib
from course_lib import data, seed_everything
from course_lib.device import describe_environment

env = describe_environment()
# The two folders are shown relative to your home folder (or only whether they hold the data), never as
# one machine's absolute path.
data_dir = os.environ.get("COURSE_DATA_DIR")
if data_dir:
    found = sum((Path(data_dir).expanduser() / c.filename).is_file() for c in data.REGISTRY.values())
    env["data dir (COURSE_DATA_DIR)"] = f"set; {found} of {len(data.REGISTRY)} corpora found there"
cache = data.cache_dir().expanduser().resolve()
home = Path.home().resolve()
env["data cache"] = f"~/{cache.relative_to(home)}" if cache.is_relative_to(home) else "outside your home folder"
for key, value in env.items():
    print(f"{key:28s} {value}")

# %% [markdown]
# **Device.** The course runs on a CPU. If a GPU is present (CUDA, or Apple's MPS), `get_device()`
# picks it; set `COURSE_DEVICE=cpu` to force the CPU, e.g. to compare timings.
#
# **Data.** Real corpora come through `course_lib.data`: each file has a pinned URL and sha256.
# It is looked for in `$COURSE_DATA_DIR`, then in your cache, and downloaded (once) only if
# missing. A file whose hash does not match is refused.

# %%
print(data.describe())

# %% [markdown]
# ## A first look at the data
#
# Tiny Shakespeare is the corpus of the character-level models. Here are its first lines and
# the sizes that matter for language modelling.

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.text import Vocab, char_tokenize, word_tokenize

try:
    text = data.load_text("tinyshakespeare")
except data.DataNotFoundError as missing:  # one short message (where to get the file), not the download's traceback
    raise data.DataNotFoundError(str(missing)) from None
print(text[:200])
chars, words = char_tokenize(text), word_tokenize(text)
print(f"{len(chars):,} characters, {len(set(chars))} distinct")
print(f"{len(words):,} words, {len(set(words)):,} distinct (lower-cased)")
print(f"the word vocabulary is {len(set(words)) / len(set(chars)):.0f} times the character vocabulary")

# %% [markdown]
# ## What the lecture's NLP applications look like as data
#
# The lecture opens with what natural language processing is for: question answering, machine
# translation, speech and character recognition, text classification and sentiment analysis,
# part-of-speech tagging. Text is **sequential data**: its meaning is in the order of the words, and
# inputs have different lengths, unlike the fixed grid of an image. Three of those applications,
# with the shape of what goes in and what comes out, as the course meets them (one example each from
# its data):
#
# | task | in → out | where in the course |
# |---|---|---|
# | sentiment analysis (text classification) | a sentence → one label | notebook 07 (SST-2 film reviews) |
# | part-of-speech tagging | a sentence → one tag per word, same length | notebook 07 (English Web Treebank) |
# | machine translation | a sentence → a sentence of another length | notebooks 08 and 09 (English → French) |
#
# All three are built from the parts of a language model (notebooks 01-03), which reads a sequence
# and predicts what comes next: word embeddings (02) and recurrent layers (03-07); a translation
# model's decoder is itself a language model, conditioned on the source sentence (08).

# %%
# NBVAL_CHECK_OUTPUT
review, label = data.load_sst("sst2-dev")[0]
tagged_words, tags = data.load_conllu("ud-ewt-dev")[1]
english, french = data.load_pairs("eng-fra")[5000]
print("sentiment:  ", " ".join(review), "->", ["negative", "positive"][label])
print("POS tagging:", " ".join(f"{w}/{t}" for w, t in zip(tagged_words[:7], tags)), "...")
print("translation:", english, "->", french)
print(f"{len(review)} words -> 1 label;  {len(tagged_words)} words -> {len(tags)} tags;  "
      f"{len(english.split())} words -> {len(french.split())} words")

# %% [markdown]
# ## From text to tensors
#
# A `Vocab` maps tokens to integer ids, most frequent first, after four special tokens:
# `<pad>` (padding), `<unk>` (unknown word), `<bos>` / `<eos>` (begin / end of sequence).
# The course's tensors are **batch-first**: `(B, T)` for token ids, `(B, T, C)` for features. One
# exception comes in notebook 03: the final hidden state `h_n` of a recurrent layer is `(layers, B, H)`,
# PyTorch's convention for states even with `batch_first=True`.

# %%
# NBVAL_CHECK_OUTPUT
import torch

from course_lib.text import lm_random_batches

vocab = Vocab(char_tokenize(text))
print(vocab)
ids = vocab.encode(char_tokenize("To be, or not to be"))
print("ids:", ids)
print("decoded:", "".join(vocab.decode(ids)))

seed_everything(0)
x, y = next(lm_random_batches(vocab.encode(chars), batch_size=4, seq_len=8,
                              generator=torch.Generator().manual_seed(0)))
print("x:", tuple(x.shape), " y:", tuple(y.shape), "  (B, T): y is x shifted by one step")
print("x[0] =", repr("".join(vocab.decode(x[0]))), "-> y[0] =", repr("".join(vocab.decode(y[0]))))

# %% [markdown]
# ## Recap
#
# - The course's models live in `course_lib`; its data comes through `course_lib.data`, checked by hash.
# - Text is sequential data. The lecture's NLP applications differ in what comes out: one label for a
#   sentence (sentiment), one tag per word (part-of-speech tagging), another sentence (translation).
# - Tiny Shakespeare: 1,115,394 characters of 65 kinds, or 253,599 words of 12,384 kinds (printed
#   above): a word-level model needs an output layer 191 times wider than a character-level one.
# - Text becomes integer ids through a `Vocab`; a language-model batch is a pair `(x, y)` of shape
#   `(B, T)` where y is x shifted by one step: at every position the target is the next token.
# - To poke: change `batch_size` and `seq_len` above, or encode your own sentence, and re-run.
#
# If everything above printed without an error, you are ready. **Next:** warm up with the two
# exercises in `exercises/00_welcome` (softmax and cross-entropy, which every model in the course
# ends with), then open `notebooks/01_ngrams`.
