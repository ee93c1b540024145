"""Parallel corpora for seq2seq: sentence pairs -> vocabularies -> padded batches with lengths.

A batch is the 4-tuple that ``seq2seq.Seq2Seq.forward`` and ``train.train`` take::

    src (B, S)          source ids, right-padded with <pad> = 0
    src_lengths (B,)    real length of each source (so the encoder can stop before the pads)
    tgt_in (B, T)       <bos> y_1 .. y_m, padded      the decoder's inputs (teacher forcing)
    targets (B, T)      y_1 .. y_m <eos>, padded      what it must predict: tgt_in shifted by one

``eng_fra`` gives the English→French pairs of ``course_lib.data`` filtered to short sentences that
start like "i am / he is / you are ..." (as the PyTorch translation tutorial does, so a small model
learns them on a CPU), split by English sentence into train and a fixed held-out set; a held-out
sentence keeps *all* its French translations as BLEU references. ``dates`` gives the synthetic
task of ``tasks.date_pairs`` (character level).
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Iterator, Sequence

import torch

from . import data
from .seq2seq import PAD_ID, reverse_padded
from .tasks import date_pairs
from .text import Vocab, pad_batch

_TOKEN = re.compile(r"\w+(?:['’]\w+)?|[^\w\s]")
ENG_PREFIXES = ("i am ", "i'm ", "he is ", "he's ", "she is ", "she's ", "you are ", "you're ",
                "we are ", "we're ", "they are ", "they're ")


def tokenize(sentence: str) -> list[str]:
    """Lower-cased words (accents kept, elisions like "n'ai" kept whole) and punctuation marks."""
    return _TOKEN.findall(sentence.lower())


class ParallelCorpus:
    """Pairs of token lists with one vocabulary per side (``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3).

    pairs: [(source tokens, target tokens)]. Vocabularies are built from these pairs unless given
    (give the training corpus's vocabularies to a test corpus).
    """

    def __init__(self, pairs: Sequence[tuple[list[str], list[str]]], src_vocab: Vocab | None = None,
                 tgt_vocab: Vocab | None = None, min_freq: int = 1):
        if not pairs:
            raise ValueError("a ParallelCorpus needs at least one pair")
        self.pairs = [(list(s), list(t)) for s, t in pairs]
        self.src_vocab = src_vocab or Vocab([s for s, _ in self.pairs], min_freq=min_freq)
        self.tgt_vocab = tgt_vocab or Vocab([t for _, t in self.pairs], min_freq=min_freq)
        self.src_ids = [self.src_vocab.encode(s) for s, _ in self.pairs]
        self.tgt_ids = [self.tgt_vocab.encode(t) for _, t in self.pairs]
        self.bos_id, self.eos_id = self.tgt_vocab.bos_id, self.tgt_vocab.eos_id

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, indices: Sequence[int], reverse_source: bool = False):
        """(src, src_lengths, tgt_in, targets) for the pairs at ``indices``."""
        return make_batch([self.src_ids[i] for i in indices], [self.tgt_ids[i] for i in indices],
                          self.bos_id, self.eos_id, reverse_source)

    def random_batches(self, batch_size: int, seed: int = 0, reverse_source: bool = False) -> Iterator[tuple]:
        """Endless batches of random pairs (a fresh permutation each epoch), repeatable from ``seed``."""
        rng = random.Random(seed)
        order: list[int] = []
        while True:
            if len(order) < batch_size:
                perm = list(range(len(self)))
                rng.shuffle(perm)
                order += perm
            idx, order = order[:batch_size], order[batch_size:]
            yield self.batch(idx, reverse_source)

    def encode_sources(self, sources: Sequence[list[str]], reverse_source: bool = False):
        """Token lists -> (src (B, S), src_lengths (B,)), unknown words as <unk>."""
        src, lengths = pad_batch([self.src_vocab.encode(s) for s in sources], PAD_ID)
        return (reverse_padded(src, lengths) if reverse_source else src), lengths

    def decode_target(self, ids: Sequence[int]) -> list[str]:
        return self.tgt_vocab.decode(ids, skip_specials=True)


def make_batch(src_ids: Sequence[list[int]], tgt_ids: Sequence[list[int]], bos_id: int, eos_id: int,
               reverse_source: bool = False):
    """Pad id lists into (src (B, S), src_lengths (B,), tgt_in (B, T), targets (B, T)), T = longest target + 1."""
    src, src_lengths = pad_batch(src_ids, PAD_ID)
    if reverse_source:
        src = reverse_padded(src, src_lengths)
    tgt_in, _ = pad_batch([[bos_id] + list(t) for t in tgt_ids], PAD_ID)
    targets, _ = pad_batch([list(t) + [eos_id] for t in tgt_ids], PAD_ID)
    return src, src_lengths, tgt_in, targets


def dates(n_train: int = 20000, n_test: int = 1000, seed: int = 0):
    """The date task at character level: (train ParallelCorpus, test ParallelCorpus with train's vocabularies)."""
    pairs = [(list(s), list(t)) for s, t in date_pairs(n_train + n_test, seed)]
    train = ParallelCorpus(pairs[:n_train])
    test = ParallelCorpus(pairs[n_train:], train.src_vocab, train.tgt_vocab)
    return train, test


def eng_fra(max_tokens: int = 8, n_heldout: int = 500, seed: int = 0, min_freq: int = 2):
    """English→French: (train ParallelCorpus, held-out list of (English tokens, [French token lists])).

    Keeps pairs whose English starts with one of ``ENG_PREFIXES``, with ≤ ``max_tokens`` English and
    ≤ ``max_tokens`` + 2 French tokens. ``n_heldout`` distinct English sentences (a shuffle seeded by
    ``seed``) are held out with all their translations; every pair of the others is for training.
    Words seen fewer than ``min_freq`` times in training become <unk>.
    """
    groups: dict[tuple, list[list[str]]] = {}
    for en, fr in data.load_pairs("eng-fra"):
        if not en.lower().startswith(ENG_PREFIXES):
            continue
        e, f = tokenize(en), tokenize(fr)
        if len(e) <= max_tokens and len(f) <= max_tokens + 2:
            groups.setdefault(tuple(e), []).append(f)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    held = [(list(k), groups[k]) for k in keys[:n_heldout]]
    train_pairs = [(list(k), f) for k in sorted(keys[n_heldout:]) for f in groups[k]]
    return ParallelCorpus(train_pairs, min_freq=min_freq), held


# ----------------------------------------------------------------------------- decoding a corpus, scores

def translate_sentences(model, corpus: ParallelCorpus, sources: Sequence[list[str]], beam_size: int = 1,
                        alpha: float = 1.0, max_len: int = 12, reverse_source: bool = False,
                        batch_size: int = 500) -> list[list[str]]:
    """Decode source token lists with ``model`` (greedy or beam), in batches -> target token lists."""
    from .seq2seq import translate

    out: list[list[str]] = []
    for i in range(0, len(sources), batch_size):
        src, lengths = corpus.encode_sources(sources[i:i + batch_size], reverse_source)
        ids = translate(model, src, lengths, corpus.bos_id, corpus.eos_id, max_len, beam_size, alpha)
        out += [corpus.decode_target(x) for x in ids]
    return out


def exact_match(model, corpus: ParallelCorpus, test: ParallelCorpus, n: int | None = None, beam_size: int = 1,
                reverse_source: bool = False) -> float:
    """Fraction of the first ``n`` test pairs whose decoded target equals the reference exactly."""
    pairs = test.pairs[:n]
    hyps = translate_sentences(model, corpus, [s for s, _ in pairs], beam_size,
                               max_len=max(len(t) for _, t in pairs) + 2, reverse_source=reverse_source)
    return sum(h == t for h, (_, t) in zip(hyps, pairs)) / len(pairs)


def heldout_bleu(model, corpus: ParallelCorpus, heldout, beam_size: int = 1, alpha: float = 1.0,
                 max_len: int = 12) -> tuple[float, list[list[str]]]:
    """Corpus BLEU (0–100, sacrebleu's defaults) of the model's translations of the held-out sentences,
    each against all its references. -> (BLEU, the translations)."""
    from .bleu import corpus_bleu

    hyps = translate_sentences(model, corpus, [s for s, _ in heldout], beam_size, alpha, max_len)
    return corpus_bleu(hyps, [refs for _, refs in heldout]), hyps


# ----------------------------------------------------------------------------- the shipped eng-fra checkpoint

CHECKPOINT = str(Path(__file__).resolve().parents[1] / "assets" / "eng_fra_seq2seq.pt")
ENG_FRA_MODEL = dict(embed_dim=64, hidden_size=192, num_layers=1, cell="gru")
ENG_FRA_TRAINING = dict(steps=1500, batch_size=64, lr=3e-3, clip=1.0, seed=0)


def train_eng_fra(out: str = CHECKPOINT, steps: int | None = None, log_every: int = 500) -> dict:
    """Train the notebook's eng-fra model on the CPU, one thread, seed 0, and save it (float16 weights).

    Same command, same file: ``python -m course_lib.parallel train-eng-fra``.
    """
    import time

    from .seq2seq import Seq2Seq
    from .train import train

    torch.set_num_threads(1)
    cfg = dict(ENG_FRA_TRAINING, **({"steps": steps} if steps else {}))
    corpus, held = eng_fra()
    torch.manual_seed(cfg["seed"])
    model = Seq2Seq(len(corpus.src_vocab), len(corpus.tgt_vocab), **ENG_FRA_MODEL)
    start = time.perf_counter()

    def bleu_now(m):
        score = heldout_bleu(m, corpus, held)[0]
        print(f"  held-out BLEU (greedy) {score:.2f}, {time.perf_counter() - start:.0f} s", flush=True)
        return score

    # the CPU on purpose: the shipped checkpoint must be reproduced bit for bit by this command,
    # and GPU kernels give other last digits
    history = train(model, corpus.random_batches(cfg["batch_size"], cfg["seed"] + 1), steps=cfg["steps"],
                    lr=cfg["lr"], clip=cfg["clip"], device="cpu", progress=False,
                    eval_fn=bleu_now, eval_every=log_every)
    seconds = time.perf_counter() - start
    state = {k: v.half() for k, v in model.state_dict().items()}
    # no wall time in the file: the same command must write the same bytes
    info = dict(config=model.config, training=cfg, final_loss=history.final_loss,
                src_itos=corpus.src_vocab.itos, tgt_itos=corpus.tgt_vocab.itos)
    torch.save({"state_dict": state, "info": info}, out)
    print(f"saved {Path(out).name}: {cfg['steps']} steps in {seconds:.0f} s, final batch loss {history.final_loss:.3f}")
    return info


def load_eng_fra(path: str = CHECKPOINT, device=None):
    """-> (model in eval mode, its training info) from the checkpoint; checks the vocabularies match."""
    from .seq2seq import Seq2Seq

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    info = ckpt["info"]
    model = Seq2Seq(**info["config"])
    model.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
    if device is not None:
        model.to(device)
    return model.eval(), info


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["train-eng-fra"]:
        sys.exit("usage: python -m course_lib.parallel train-eng-fra [output file]")
    train_eng_fra(sys.argv[2] if len(sys.argv) > 2 else CHECKPOINT)
