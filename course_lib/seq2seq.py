"""The encoder–decoder (seq2seq) of the lecture, with masking, greedy decoding and beam search.

Encoder: h_i = EncoderRNN(x_i, h_{i-1}) over the source x_1..x_n; its last state is the fixed vector
c = h_n (the lecture's H) that summarises the sentence. Decoder: a conditional language model,
started from c, with the CS224N extensions (separate weights; every step reads (h_{j-1}, c, y_{j-1})):

    s_0 = c,     s_j = DecoderRNN([E y_{j-1}; c], s_{j-1}),     P(y_j | y_<j, c) = softmax(W_s s_j + b_s)
    Loss = − Σ_j log P(y_j | y_<j, c)       averaged over the real target tokens only (pads masked)

Training uses *teacher forcing*: the decoder's input at step j is the true y_{j-1} (``tgt_in`` is
``<bos> y_1 .. y_m``, ``targets`` is ``y_1 .. y_m <eos>``), so one forward pass scores the whole
target. At test time the decoder reads its own previous guess instead (``greedy_search``,
``beam_search``): the mismatch is *exposure bias*.

Padding. Batches are right-padded with ``<pad>`` (id 0) and carry ``src_lengths`` (B,). The encoder
must stop at each row's last real token (``mask_source=True``: ``nn.GRU``/``nn.LSTM`` on a packed
sequence, or for ``impl="scratch"`` the course's cells with the state frozen at pads,
``masked_unroll``); the loss must skip pad targets (``masked_cross_entropy``). With
``mask_source=False`` / ``mask_target=False`` the model does neither (notebook 08 measures what that costs).

Shapes are batch-first: tokens (B, T), embeddings (B, T, E), states (B, T, H); ``nn.GRU``'s final
state (L, B, H) is turned batch-first, (B, L, H), in the decoding state so beams can be reordered on dim 0.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from .birnn import reverse_padded, unroll  # noqa: F401 (reverse_padded: the source-reversal trick, re-exported)
from .lstm_gru import GRUScratch, LSTMScratch
from .text import length_mask  # noqa: F401 ((B, T) bool, True at real tokens: re-exported for the notebook)

PAD_ID = 0


# ----------------------------------------------------------------------------- masks and the masked loss

def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of −log P(target) over the positions where ``mask`` is True.

    logits (B, T, V), targets (B, T) ids, mask (B, T) bool -> scalar. Every real token weighs the same,
    whatever sentence it is in; pads contribute nothing, so adding pads never changes the loss.
    Equal to ``F.cross_entropy(..., ignore_index=pad)`` when ``mask = targets != pad``.
    """
    if logits.shape[:2] != targets.shape or targets.shape != mask.shape:
        raise ValueError(f"logits (B, T, V), targets (B, T), mask (B, T) must agree, got "
                         f"{tuple(logits.shape)}, {tuple(targets.shape)}, {tuple(mask.shape)}")
    logp = torch.log_softmax(logits, dim=-1)                              # (B, T, V)
    nll = -logp.gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1)  # (B, T): −log P(y_t)
    m = mask.to(nll.dtype)
    return (nll * m).sum() / m.sum().clamp_min(1.0)


def masked_unroll(cells: nn.ModuleList, x: torch.Tensor, lengths: torch.Tensor | None):
    """Run stacked course cells over x (B, T, D); at a pad step (t ≥ length) a row's state is kept.

    -> (outputs (B, T, H) of the top layer, list of final states per layer), the final state being the
    state at each row's last real token: what a packed ``nn.GRU``/``nn.LSTM`` returns. Each layer is
    notebook 07's padding-aware ``birnn.unroll``; layer i's outputs are layer i+1's inputs.
    """
    layer_input, finals = x, []
    for cell in cells:
        layer_input, state = unroll(cell, layer_input, lengths)
        finals.append(state)
    return layer_input, finals


# ----------------------------------------------------------------------------- the model

def _rnn(cell: str, impl: str, input_size: int, hidden_size: int, num_layers: int) -> nn.Module:
    if cell not in ("gru", "lstm"):
        raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}")
    if impl == "torch":
        cls = nn.GRU if cell == "gru" else nn.LSTM
        return cls(input_size, hidden_size, num_layers, batch_first=True)
    if impl == "scratch":
        # GRU in nn.GRU's reset convention so copy_from_torch gives identical functions (notebook 06)
        return GRUScratch(input_size, hidden_size, num_layers, reset_after=True) if cell == "gru" \
            else LSTMScratch(input_size, hidden_size, num_layers)
    raise ValueError(f"impl must be 'torch' or 'scratch', got {impl!r}")


class Encoder(nn.Module):
    """Embedding -> recurrent layers; forward(src (B, T), lengths (B,) or None) -> (outputs (B, T, H), state).

    ``state`` is the torch layout: h (L, B, H) for a GRU, (h, c) for an LSTM, taken at each row's last
    real token when ``mask=True`` (lengths given); with ``mask=False`` the RNN also reads the pads.
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "gru", impl: str = "torch", mask: bool = True):
        super().__init__()
        self.cell, self.impl, self.mask = cell, impl, mask
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.rnn = _rnn(cell, impl, embed_dim, hidden_size, num_layers)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor | None = None):
        x = self.embed(src)                                               # (B, T, E)
        lengths = lengths if (self.mask and lengths is not None) else None
        if self.impl == "torch":
            if lengths is None:
                return self.rnn(x)
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, state = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
            return out, state
        out, finals = masked_unroll(self.rnn.cells, x, lengths)
        if self.cell == "gru":
            return out, torch.stack(finals, 0)                            # (L, B, H)
        return out, (torch.stack([s[0] for s in finals], 0), torch.stack([s[1] for s in finals], 0))


class Decoder(nn.Module):
    """A conditional LM: s_j = RNN([E y_{j-1}; c], s_{j-1}), logits_j = W_s s_j + b_s.

    forward(tgt_in (B, T), state (torch layout), context c (B, H)) -> (logits (B, T, V), state).
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "gru", impl: str = "torch"):
        super().__init__()
        self.cell, self.impl = cell, impl
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.rnn = _rnn(cell, impl, embed_dim + hidden_size, hidden_size, num_layers)
        self.head = nn.Linear(hidden_size, vocab_size)                   # W_s, b_s

    def forward(self, tgt_in: torch.Tensor, state, context: torch.Tensor):
        e = self.embed(tgt_in)                                            # (B, T, E)
        x = torch.cat([e, context[:, None, :].expand(-1, e.shape[1], -1)], dim=-1)   # (B, T, E + H)
        out, state = self.rnn(x, state)      # nn.GRU/nn.LSTM and the scratch modules share this interface
        return self.head(out), state


class Seq2Seq(nn.Module):
    """Encoder + decoder with the course's signature:

    forward(src (B, S), src_lengths (B,), tgt_in (B, T), targets (B, T) or None) -> (logits (B, T, V), loss)

    loss = masked cross-entropy over the real target tokens (``mask_target=True``), or the plain mean
    over every position, pads included (``False``). The decoder starts from the encoder's final state
    and reads the context c = top layer's final h at every step.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embed_dim: int = 64, hidden_size: int = 128,
                 num_layers: int = 1, cell: str = "gru", impl: str = "torch",
                 mask_source: bool = True, mask_target: bool = True):
        super().__init__()
        self.config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size, embed_dim=embed_dim,
                           hidden_size=hidden_size, num_layers=num_layers, cell=cell, impl=impl,
                           mask_source=mask_source, mask_target=mask_target)
        self.cell, self.mask_target = cell, mask_target
        self.encoder = Encoder(src_vocab_size, embed_dim, hidden_size, num_layers, cell, impl, mask_source)
        self.decoder = Decoder(tgt_vocab_size, embed_dim, hidden_size, num_layers, cell, impl)

    def _context(self, state) -> torch.Tensor:
        h = state if self.cell == "gru" else state[0]
        return h[-1]                                                      # (B, H): top layer's final h

    def forward(self, src, src_lengths, tgt_in, targets=None):
        _, state = self.encoder(src, src_lengths)
        logits, _ = self.decoder(tgt_in, state, self._context(state))
        loss = None
        if targets is not None:
            mask = targets != PAD_ID if self.mask_target else torch.ones_like(targets, dtype=torch.bool)
            loss = masked_cross_entropy(logits, targets, mask)
        return logits, loss

    # --- the decoding interface: states are tuples of tensors with the batch on dim 0
    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor | None = None) -> tuple:
        """-> decoding state: (h (B, L, H), [c (B, L, H) for an LSTM,] context (B, H))."""
        _, state = self.encoder(src, src_lengths)
        ctx = self._context(state)
        parts = (state,) if self.cell == "gru" else tuple(state)
        return tuple(p.transpose(0, 1) for p in parts) + (ctx,)

    def decode_step(self, prev: torch.Tensor, state: tuple):
        """One decoder step: prev (N,) token ids -> (log-probabilities (N, V), new state)."""
        *parts, ctx = state
        torch_state = parts[0].transpose(0, 1).contiguous() if self.cell == "gru" \
            else tuple(p.transpose(0, 1).contiguous() for p in parts)
        logits, new = self.decoder(prev[:, None], torch_state, ctx)
        new_parts = (new,) if self.cell == "gru" else tuple(new)
        return torch.log_softmax(logits[:, 0], dim=-1), tuple(p.transpose(0, 1) for p in new_parts) + (ctx,)


# ----------------------------------------------------------------------------- decoding

StepFn = Callable[[torch.Tensor, tuple], tuple]


@torch.no_grad()
def greedy_search(step: StepFn, state: tuple, batch_size: int, bos_id: int, eos_id: int, max_len: int) -> list:
    """At each step feed back the most probable token; a row stops at its first <eos>.

    step(prev (N,), state) -> (log_probs (N, V), state). Returns one list of ids per row, without
    <bos> and <eos> (at most ``max_len`` tokens when no <eos> comes).
    """
    device = state[0].device
    prev = torch.full((batch_size,), bos_id, dtype=torch.long, device=device)
    out = [[] for _ in range(batch_size)]
    done = [False] * batch_size
    for _ in range(max_len):
        logp, state = step(prev, state)
        prev = logp.argmax(-1)
        for b, tok in enumerate(prev.tolist()):
            if not done[b]:
                if tok == eos_id:
                    done[b] = True
                else:
                    out[b].append(tok)
        if all(done):
            break
    return out


@torch.no_grad()
def beam_search(step: StepFn, state: tuple, batch_size: int, bos_id: int, eos_id: int, max_len: int,
                beam_size: int = 5, alpha: float = 1.0, return_scores: bool = False, trace: list | None = None):
    """Batched beam search: keep the ``beam_size`` best prefixes per source, ranked by Σ log P.

    Each step extends every live prefix by every token and keeps the best ``beam_size`` of the
    beam_size · V candidates (re-ranked across beams). A candidate ending in <eos> that ranks among
    the best ``beam_size`` is moved to the finished list (and no longer extended); a source is done
    when it has ``beam_size`` finished hypotheses, or at ``max_len`` (the live prefixes then count as
    finished). The answer is the finished hypothesis with the best length-normalised score
    Σ log P / len^alpha (len counts the <eos>; alpha = 0: raw sum, which favours short outputs).
    With beam_size = 1 this is exactly ``greedy_search``.

    state: tuple of tensors with the batch on dim 0. Returns one list of ids per source (without
    <bos>/<eos>), and their normalised scores when ``return_scores``.
    ``trace``: a list that receives, for the first source, one dict per step:
    {"step": t, "kept": [(ids, Σ log P), ...] best first, "finished": [(ids, Σ log P, normalised), ...]}
    (the prefixes kept for the next step and the hypotheses that ended with <eos> at this step).
    """
    if beam_size < 1 or max_len < 1:
        raise ValueError(f"beam_size and max_len must be >= 1, got {beam_size}, {max_len}")
    B, K = batch_size, beam_size
    device = state[0].device
    state = tuple(s.repeat_interleave(K, dim=0) for s in state)          # (B·K, ...)
    prefixes = [[[] for _ in range(K)] for _ in range(B)]
    scores = torch.full((B, K), -math.inf, device=device)
    scores[:, 0] = 0.0                                                   # one live beam at the start
    prev = torch.full((B * K,), bos_id, dtype=torch.long, device=device)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    done = [False] * B
    for t in range(1, max_len + 1):
        logp, state = step(prev, state)                                  # (B·K, V)
        V = logp.shape[-1]
        scores = scores.to(logp.dtype)                                   # float64 scores for a float64 model
        cand = (scores[:, :, None] + logp.view(B, K, V)).view(B, K * V)   # Σ log P of every extension
        top, idx = cand.topk(min(2 * K, K * V), dim=1)                    # best first
        top, idx = top.tolist(), idx.tolist()
        new_scores = torch.full((B, K), -math.inf, device=device, dtype=logp.dtype)
        rows = torch.zeros(B, K, dtype=torch.long)
        toks = torch.full((B, K), eos_id, dtype=torch.long)
        new_prefixes = [[[] for _ in range(K)] for _ in range(B)]
        step_finished: list = []
        for b in range(B):
            if done[b]:
                continue
            kept = 0
            for rank, (s, i) in enumerate(zip(top[b], idx[b])):
                if s == -math.inf or kept == K:
                    break
                k, w = divmod(i, V)
                if w == eos_id:
                    if rank < K:                                         # it would have been kept: finish it
                        finished[b].append((s / t ** alpha, prefixes[b][k]))
                        if trace is not None and b == 0:
                            step_finished.append((list(prefixes[b][k]), s, s / t ** alpha))
                    continue
                new_scores[b, kept] = s
                rows[b, kept] = b * K + k
                toks[b, kept] = w
                new_prefixes[b][kept] = prefixes[b][k] + [w]
                kept += 1
            if len(finished[b]) >= K:
                done[b] = True
        if trace is not None and not (done[0] and not step_finished):
            trace.append({"step": t, "finished": step_finished,
                          "kept": [] if done[0] else [(list(new_prefixes[0][k]), float(new_scores[0, k]))
                                                      for k in range(K) if new_scores[0, k] > -math.inf]})
        if all(done):
            break
        prefixes, scores = new_prefixes, new_scores
        state = tuple(s[rows.view(-1).to(device)] for s in state)       # each beam continues its parent's state
        prev = toks.view(-1).to(device)
    else:
        for b in range(B):                                               # max_len reached: live prefixes count
            if not done[b]:
                for k in range(K):
                    s = float(scores[b, k])
                    if s > -math.inf:
                        finished[b].append((s / max_len ** alpha, prefixes[b][k]))
    best = [max(f, key=lambda p: p[0]) for f in finished]
    out = [list(p[1]) for p in best]
    return (out, [p[0] for p in best]) if return_scores else out


@torch.no_grad()
def translate(model: Seq2Seq, src: torch.Tensor, src_lengths: torch.Tensor, bos_id: int, eos_id: int,
              max_len: int, beam_size: int = 1, alpha: float = 1.0) -> list:
    """Decode a padded batch of sources: greedy (beam_size=1) or beam search. -> one id list per row."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    state = model.encode(src.to(device), src_lengths.to(device))
    if beam_size == 1:
        out = greedy_search(model.decode_step, state, src.shape[0], bos_id, eos_id, max_len)
    else:
        out = beam_search(model.decode_step, state, src.shape[0], bos_id, eos_id, max_len, beam_size, alpha)
    model.train(was)
    return out


@torch.no_grad()
def sequence_log_prob(model: Seq2Seq, src, src_lengths, tgt_in, targets) -> torch.Tensor:
    """Σ_j log P(y_j | y_<j, c) of each row's target (pads skipped): (B,)."""
    was = model.training
    model.eval()
    logits, _ = model(src, src_lengths, tgt_in)
    logp = torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    model.train(was)
    return (logp * (targets != PAD_ID)).sum(1)


# ----------------------------------------------------------------------------- a toy model for tests

class TableModel:
    """A decoder whose next-token distribution depends only on the last token: log P(w | v) = table[v, w].

    Its best sequence can be found by brute force, so beam search can be checked exactly.
    ``step`` has the decoding interface; the state is a dummy (B, 1) tensor.
    """

    def __init__(self, log_table: torch.Tensor):
        self.table = log_table                                            # (V, V)

    def step(self, prev: torch.Tensor, state: tuple):
        return self.table[prev], state
