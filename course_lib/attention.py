"""Attention: a query looks at keys and takes a weighted average of their values.

The lecture's attention pooling, for one query q and pairs (k_i, v_i):

    f(q, (k_1, v_1), ..., (k_n, v_n)) = Σ_i α(q, k_i) v_i,      α(q, k_i) = softmax_i(a(q, k_i))

The weights α are a softmax over the KEYS: for every query they are ≥ 0 and sum to 1. What differs
between attention mechanisms is the scoring function a(q, k):

* Nadaraya–Watson kernel regression (1964): a(q, k) = −(q − k)² / (2 σ²), a Gaussian kernel of width
  σ, fixed (``nadaraya_watson``) or learned (``KernelRegression``). No parameters to speak of: the
  first example of attention pooling.
* additive attention (Bahdanau): a(q, k) = w_vᵀ tanh(W_q q + W_k k), for queries and keys of
  different sizes (``AdditiveAttention``).
* scaled dot-product: a(q, k) = qᵀk / √d (``DotProductAttention``), all queries at once
  softmax(QKᵀ/√d) V. Why √d: with q, k of d independent unit-variance entries, qᵀk has variance d;
  dividing by √d brings it back to 1, so the softmax does not saturate as d grows (``dot_product_variance``).
* multi-head attention: h heads h_i = f(W_i^q q, W_i^k k, W_i^v v), each on its own d/h slice of the
  projections, concatenated and mixed by W_o: W_o [h_1; ...; h_h] (``MultiHeadAttention``).

Masks say which keys a query may look at: True = "may attend" (``F.scaled_dot_product_attention``'s
boolean ``attn_mask`` convention; ``nn.MultiheadAttention``'s masks use the opposite, True = blocked).
``padding_mask`` hides the pads of a padded batch, ``causal_mask`` hides the future. A masked key gets
weight exactly 0 and the others still sum to 1 (``masked_softmax``).

Shapes are batch-first: queries (B, T_q, d), keys (B, T_k, d), values (B, T_k, d_v), weights
(B, T_q, T_k) (or (B, heads, T_q, T_k)). Every module keeps its last weights in ``.attention_weights``
for plotting (``plot_attention``).

Seq2seq with attention (Bahdanau et al. 2015): notebook 08's decoder reads one fixed context c = h_n
at every step; ``AttentionSeq2Seq``'s decoder builds a new context c_j at every step, an attention
pooling of all encoder outputs with the previous decoder state s_{j-1} as the query (``AttentionDecoder``).
"""
from __future__ import annotations

import io
import math

import torch
import torch.nn.functional as F
from torch import nn

from .seq2seq import PAD_ID, Encoder, length_mask, masked_cross_entropy


# ----------------------------------------------------------------------------- masks and the masked softmax

def padding_mask(lengths: torch.Tensor, T_k: int) -> torch.Tensor:
    """(B, 1, T_k) bool: True at the real keys k < lengths[b] (broadcasts over the queries)."""
    return length_mask(lengths, T_k)[:, None, :]


def causal_mask(T_q: int, T_k: int | None = None, device=None) -> torch.Tensor:
    """(T_q, T_k) bool, lower-triangular: query t may look at keys 0..t only (never at the future)."""
    T_k = T_q if T_k is None else T_k
    return torch.ones(T_q, T_k, dtype=torch.bool, device=device).tril()


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax over the last axis (the keys), with masked keys given weight exactly 0.

    scores (..., T_q, T_k); mask bool, broadcastable to scores, True where the query may attend.
    -> weights of the same shape: ≥ 0, summing to 1 over the allowed keys of each query.

    Why not add −inf: a row with NO allowed key (a query of a fully padded row) would give 0/0 = NaN
    and NaN gradients. Here masked scores become the most negative float (exp underflows to exactly
    0 as soon as one key is allowed), and the masked weights are then set to 0, so such a row is all 0.
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    mask = mask.to(torch.bool)
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)


# ----------------------------------------------------------------------------- Nadaraya–Watson

def gaussian_scores(queries: torch.Tensor, keys: torch.Tensor, width) -> torch.Tensor:
    """a(q, k) = −(q − k)² / (2 σ²) for scalar inputs: queries (Q,), keys (N,) -> scores (Q, N)."""
    return -((queries[:, None] - keys[None, :]) ** 2) / (2 * width ** 2)


def nadaraya_watson(x_query: torch.Tensor, x_train: torch.Tensor, y_train: torch.Tensor, width: float = 1.0,
                    mask: torch.Tensor | None = None):
    """Nadaraya–Watson kernel regression: ŷ(x) = Σ_i softmax_i(−(x − x_i)² / 2σ²) y_i.

    x_query (Q,), x_train (N,), y_train (N,), σ = ``width``; mask (Q, N) optional (True = use the point).
    -> (ŷ (Q,), weights (Q, N)). Attention pooling with queries x, keys x_i and values y_i.
    """
    weights = masked_softmax(gaussian_scores(x_query, x_train, width), mask)
    return weights @ y_train, weights


class KernelRegression(nn.Module):
    """Nadaraya–Watson with a LEARNED kernel width: a(q, k) = −((q − k) w)² / 2, one parameter w = 1/σ.

    forward(x (N,), y (N,)) -> (predictions (N,), loss): every training point is predicted from all the
    OTHER points (leave-one-out: the diagonal is masked), and loss is their mean squared error. Without
    the mask the best width would be σ → 0, each point predicting itself. ``predict`` uses all points.
    """

    def __init__(self, init_width: float = 1.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(1.0 / init_width))
        self.attention_weights = None

    @property
    def width(self) -> float:
        """σ = 1 / |w|."""
        return float(1.0 / self.w.detach().abs())

    def _pool(self, x_query, x_train, y_train, mask=None):
        scores = -(((x_query[:, None] - x_train[None, :]) * self.w) ** 2) / 2
        self.attention_weights = masked_softmax(scores, mask)
        return self.attention_weights @ y_train

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        others = ~torch.eye(len(x), dtype=torch.bool, device=x.device)
        pred = self._pool(x, x, y, others)
        return pred, F.mse_loss(pred, y)

    def predict(self, x_query, x_train, y_train):
        """ŷ at x_query (Q,) from all training points."""
        return self._pool(x_query, x_train, y_train)


# ----------------------------------------------------------------------------- scoring functions

class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention: a(q, k) = w_vᵀ tanh(W_q q + W_k k).

    Queries and keys may have different sizes: W_q (hidden, query_size), W_k (hidden, key_size),
    w_v (hidden,), no biases. forward(queries (B, T_q, query_size), keys (B, T_k, key_size),
    values (B, T_k, d_v), mask bool broadcastable to (B, T_q, T_k) or None) -> (B, T_q, d_v).
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int):
        super().__init__()
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False)
        self.w_v = nn.Linear(hidden_size, 1, bias=False)
        self.attention_weights = None

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """(B, T_q, T_k): every query against every key, through one tanh layer."""
        features = torch.tanh(self.W_q(queries)[:, :, None, :] + self.W_k(keys)[:, None, :, :])  # (B, T_q, T_k, hidden)
        return self.w_v(features).squeeze(-1)

    def forward(self, queries, keys, values, mask=None):
        self.attention_weights = masked_softmax(self.scores(queries, keys), mask)   # (B, T_q, T_k)
        return self.attention_weights @ values


class DotProductAttention(nn.Module):
    """Scaled dot-product attention: softmax(Q Kᵀ / √d) V.

    forward(queries (..., T_q, d), keys (..., T_k, d), values (..., T_k, d_v), mask bool broadcastable
    to (..., T_q, T_k), True = may attend) -> (..., T_q, d_v). Equal to
    ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)`` (tests/test_attention.py).
    ``scale=False`` drops the 1/√d (to see what it is for).
    """

    def __init__(self, scale: bool = True):
        super().__init__()
        self.scale = scale
        self.attention_weights = None

    def forward(self, queries, keys, values, mask=None):
        d = queries.shape[-1]
        scores = queries @ keys.transpose(-2, -1)                       # (..., T_q, T_k): q_i · k_j
        if self.scale:
            scores = scores / math.sqrt(d)                              # variance d -> 1
        self.attention_weights = masked_softmax(scores, mask)
        return self.attention_weights @ values


def dot_product_variance(d: int, n: int = 20000, seed: int = 0) -> tuple[float, float]:
    """Variance of qᵀk and of qᵀk/√d for n pairs of random q, k with d independent N(0, 1) entries.

    Theory: Var(qᵀk) = Σ_i Var(q_i k_i) = d, so the scaled score has variance 1. -> (raw, scaled).
    """
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(n, d, generator=g, dtype=torch.float64)
    k = torch.randn(n, d, generator=g, dtype=torch.float64)
    s = (q * k).sum(-1)
    return float(s.var()), float((s / math.sqrt(d)).var())


# ----------------------------------------------------------------------------- multi-head attention

def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, T, C) -> (B, heads, T, C / heads): head i gets feature columns i·C/h .. (i+1)·C/h − 1."""
    B, T, C = x.shape
    return x.reshape(B, T, num_heads, C // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, heads, T, C / heads) -> (B, T, C): the heads' outputs side by side, [h_1; ...; h_h]."""
    B, h, T, c = x.shape
    return x.transpose(1, 2).reshape(B, T, h * c)


class MultiHeadAttention(nn.Module):
    """Multi-head attention: W_o [h_1; ...; h_h], h_i = DotProductAttention(Q W_i^q, K W_i^k, V W_i^v).

    The h projections W_i^q (d/h × d) are stacked into one (d × d) ``W_q`` and split after the product
    (``split_heads``), as ``nn.MultiheadAttention`` does. forward(queries (B, T_q, d), keys (B, T_k, d),
    values (B, T_k, d), mask bool broadcastable to (B, T_q, T_k) or (B, heads, T_q, T_k), True = may
    attend) -> (B, T_q, d); ``.attention_weights`` (B, heads, T_q, T_k). ``copy_from_torch`` takes an
    ``nn.MultiheadAttention``'s weights (then the outputs are equal, tests/test_attention.py).
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be a multiple of num_heads {num_heads}")
        self.num_heads = num_heads
        self.W_q = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.W_k = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.W_v = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.W_o = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.attention = DotProductAttention()

    @property
    def attention_weights(self):
        return self.attention.attention_weights

    def forward(self, queries, keys, values, mask=None):
        h = self.num_heads
        q, k, v = (split_heads(W(x), h) for W, x in ((self.W_q, queries), (self.W_k, keys), (self.W_v, values)))
        if mask is not None and mask.dim() == 3:
            mask = mask[:, None]                                        # the same mask for every head
        return self.W_o(merge_heads(self.attention(q, k, v, mask)))

    @torch.no_grad()
    def copy_from_torch(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy an ``nn.MultiheadAttention``'s weights (its in_proj stacks W_q, W_k, W_v in this order)."""
        for W, w in zip((self.W_q, self.W_k, self.W_v), mha.in_proj_weight.chunk(3, dim=0)):
            W.weight.copy_(w)
        if mha.in_proj_bias is not None:
            for W, b in zip((self.W_q, self.W_k, self.W_v), mha.in_proj_bias.chunk(3, dim=0)):
                W.bias.copy_(b)
        self.W_o.weight.copy_(mha.out_proj.weight)
        if mha.out_proj.bias is not None:
            self.W_o.bias.copy_(mha.out_proj.bias)
        return self


# ----------------------------------------------------------------------------- seq2seq with attention

class AttentionDecoder(nn.Module):
    """Bahdanau's decoder: a new context c_j at every step, attended from the previous state.

        c_j = Σ_i α(s_{j-1}, h_i) h_i                   additive attention over the encoder outputs h_i
        s_j = GRU([E y_{j-1}; c_j], s_{j-1}),   P(y_j | ...) = softmax(W_s s_j + b_s)

    Notebook 08's ``Decoder`` is the same with c_j = c = h_n for every j. The query is the top layer's
    s_{j-1}; pads of the source get weight 0 (``src_mask``). GRU only.

    forward(tgt_in (B, T), state (L, B, H), enc_outputs (B, S, H), src_mask (B, S) bool)
    -> (logits (B, T, V), state (L, B, H), weights (B, T, S)).
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int = 1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size)
        self.rnn = nn.GRU(embed_dim + hidden_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tgt_in, state, enc_outputs, src_mask):
        e = self.embed(tgt_in)                                          # (B, T, E)
        outs, weights = [], []
        for j in range(e.shape[1]):                                     # one step at a time: c_j needs s_{j-1}
            query = state[-1][:, None, :]                               # (B, 1, H): s_{j-1}, top layer
            context = self.attention(query, enc_outputs, enc_outputs, src_mask[:, None, :])   # (B, 1, H)
            weights.append(self.attention.attention_weights)            # (B, 1, S)
            out, state = self.rnn(torch.cat([e[:, j:j + 1], context], dim=-1), state)
            outs.append(out)
        return self.head(torch.cat(outs, 1)), state, torch.cat(weights, 1)


class AttentionSeq2Seq(nn.Module):
    """Notebook 08's encoder (``seq2seq.Encoder``, GRU) + ``AttentionDecoder``, with the course's signature:

    forward(src (B, S), src_lengths (B,), tgt_in (B, T), targets (B, T) or None) -> (logits (B, T, V), loss)

    and notebook 08's decoding interface (``encode``, ``decode_step``), so ``seq2seq.translate``,
    greedy and beam search work unchanged. ``.attention_weights`` (B, T, S) after every forward / step.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embed_dim: int = 64, hidden_size: int = 128,
                 num_layers: int = 1):
        super().__init__()
        self.config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size, embed_dim=embed_dim,
                           hidden_size=hidden_size, num_layers=num_layers)
        self.encoder = Encoder(src_vocab_size, embed_dim, hidden_size, num_layers, cell="gru", impl="torch")
        self.decoder = AttentionDecoder(tgt_vocab_size, embed_dim, hidden_size, num_layers)
        self.attention_weights = None

    def forward(self, src, src_lengths, tgt_in, targets=None):
        enc_outputs, state = self.encoder(src, src_lengths)            # (B, S, H), (L, B, H)
        src_mask = length_mask(src_lengths, src.shape[1])
        logits, _, self.attention_weights = self.decoder(tgt_in, state, enc_outputs, src_mask)
        loss = None if targets is None else masked_cross_entropy(logits, targets, targets != PAD_ID)
        return logits, loss

    def encode(self, src, src_lengths=None) -> tuple:
        """-> decoding state (h (B, L, H), encoder outputs (B, S, H), source mask (B, S)), batch on dim 0."""
        if src_lengths is None:
            src_lengths = torch.full((src.shape[0],), src.shape[1], dtype=torch.long, device=src.device)
        enc_outputs, state = self.encoder(src, src_lengths)
        return state.transpose(0, 1), enc_outputs, length_mask(src_lengths, src.shape[1])

    def decode_step(self, prev, state):
        """prev (N,) ids -> (log-probabilities (N, V), new state); the step's weights in .attention_weights (N, 1, S)."""
        h, enc_outputs, src_mask = state
        logits, new, self.attention_weights = self.decoder(prev[:, None], h.transpose(0, 1).contiguous(),
                                                           enc_outputs, src_mask)
        return torch.log_softmax(logits[:, 0], dim=-1), (new.transpose(0, 1), enc_outputs, src_mask)


@torch.no_grad()
def greedy_with_weights(model: AttentionSeq2Seq, src, src_lengths, bos_id: int, eos_id: int, max_len: int):
    """Greedy decoding of ONE source (batch of 1) that also returns the weights of every output step.

    -> (output ids without <bos>/<eos>, weights (len(output) + 1, S): one row per generated token, <eos> last).
    """
    was = model.training
    model.eval()
    state = model.encode(src, src_lengths)
    prev = torch.tensor([bos_id], device=src.device)
    out, rows = [], []
    for _ in range(max_len):
        logp, state = model.decode_step(prev, state)
        rows.append(model.attention_weights[0, 0])
        prev = logp.argmax(-1)
        if int(prev) == eos_id:
            break
        out.append(int(prev))
    model.train(was)
    return out, torch.stack(rows).cpu()


# ----------------------------------------------------------------------------- pictures

def plot_attention(weights, source_tokens, target_tokens, ax=None, titles=None, cmap="Reds"):
    """Heatmap(s) of attention weights: keys (source tokens) across, queries (target tokens) down.

    weights (T_q, T_k) for one head or (heads, T_q, T_k) for several (one panel each), a tensor or array.
    ``ax``: one axis or a sequence of them (created when None). Returns the figure.
    """
    import matplotlib.pyplot as plt

    w = torch.as_tensor(weights).detach().cpu().float()
    if w.dim() == 2:
        w = w[None]
    n = w.shape[0]
    if ax is None:
        width = min(min(4 + 0.22 * len(source_tokens), 8) * n ** 0.6 + 1, 7.0)      # at most a ~690 px column
        fig, axes = plt.subplots(1, n, figsize=(width, 1.2 + 0.25 * len(target_tokens) + 0.6 * (n > 1)),
                                 squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(ax) if hasattr(ax, "__len__") else [ax]
        fig = axes[0].figure
    shown = {"\n": "\\n", " ": "␣"}
    for i, a in enumerate(axes[:n]):
        im = a.imshow(w[i].numpy(), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        a.set_xticks(range(len(source_tokens)), [shown.get(t, t) for t in source_tokens], fontsize=8)
        a.set_yticks(range(len(target_tokens)), [shown.get(t, t) for t in target_tokens], fontsize=8)
        a.set_xlabel("source token (key)")
        if i == 0:
            a.set_ylabel("output token (query)")
        if titles is not None:
            a.set_title(titles[i], fontsize=10)
    fig.colorbar(im, ax=axes[:n], label="attention weight α", shrink=0.8)
    return fig


# ----------------------------------------------------------------------------- the widget: move a query

def demo_keys(n: int = 8, d: int = 2, seed: int = 0) -> torch.Tensor:
    """n random keys in the plane (or in d dimensions), seeded: (n, d)."""
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def query_weights(angle_deg: float, length: float, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The query q = length · (cos θ, sin θ) and its dot-product weights softmax(K q) over the keys (n,)."""
    a = math.radians(angle_deg)
    q = torch.tensor([math.cos(a), math.sin(a)]) * length
    return q, torch.softmax(keys @ q, dim=0)


def _draw_query(fig, angle_deg, length, keys):
    q, w = query_weights(angle_deg, length, keys)
    ax_plane, ax_bars = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    ax_plane.scatter(keys[:, 0], keys[:, 1], s=40 + 900 * w.numpy(), c=w.numpy(), cmap="Reds", vmin=0, vmax=1,
                     edgecolors="black")
    for i, (x, y) in enumerate(keys.tolist()):
        ax_plane.annotate(f"k{i + 1}", (x, y), textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax_plane.annotate("", xy=(float(q[0]), float(q[1])), xytext=(0, 0),
                      arrowprops=dict(arrowstyle="->", color="tab:blue", lw=2))
    ax_plane.text(float(q[0]), float(q[1]), " q", color="tab:blue")
    lim = max(3.0, float(q.abs().max()) + 0.5)
    ax_plane.set_xlim(-lim, lim)
    ax_plane.set_ylim(-lim, lim)
    ax_plane.set_aspect("equal")
    ax_plane.set_xlabel("feature 1")
    ax_plane.set_ylabel("feature 2")
    ax_plane.set_title("keys (size = weight) and the query", fontsize=10)
    ax_bars.bar([f"k{i + 1}" for i in range(len(w))], w.numpy(), color="tab:red")
    ax_bars.set_ylim(0, 1)
    ax_bars.set_xlabel("key")
    ax_bars.set_ylabel("weight α = softmax(k·q)")
    ax_bars.set_title(f"θ = {angle_deg:.0f}°, |q| = {length:.1f}: largest weight {float(w.max()):.2f}", fontsize=10)
    fig.tight_layout()


def query_figure(angle_deg: float = 45.0, length: float = 1.0, keys: torch.Tensor | None = None):
    """The widget's picture for one query, as a plain matplotlib figure (for headless runs and static pages)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(9, 3.6), dpi=72)
    _draw_query(fig, angle_deg, length, demo_keys() if keys is None else keys)
    return fig


class QueryWidget:
    """Sliders for the query's direction θ and length |q|: watch the weights over 8 fixed keys move.

    Turning q moves the weight to the keys it points at; a longer q (like an unscaled dot product in
    many dimensions) makes the softmax peakier, the best-aligned key taking more and more of the weight.
    ``QueryWidget()``; display it (it is the ``.ui`` VBox).
    """

    def __init__(self, angle_deg: float = 45.0, length: float = 1.0, keys: torch.Tensor | None = None):
        import ipywidgets as w
        self.keys = demo_keys() if keys is None else keys
        style = {"description_width": "110px"}
        self.angle = w.FloatSlider(value=angle_deg, min=-180, max=180, step=5, description="direction θ (°)",
                                   continuous_update=False, style=style)
        self.length = w.FloatSlider(value=length, min=0.0, max=15.0, step=0.25, description="length |q|",
                                    continuous_update=False, style=style)
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width="680px"))
        self.ui = w.VBox([w.HBox([self.angle, self.length]), self.image])
        for c in (self.angle, self.length):
            c.observe(lambda change: self.redraw(), names="value")
        self.redraw()

    def redraw(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        fig = query_figure(self.angle.value, self.length.value, self.keys)
        buf = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buf)
        self.image.value = buf.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)


# ----------------------------------------------------------------------------- evaluation by source length

def accuracy_by_source_length(hypotheses, pairs, edges=(12, 19)) -> dict:
    """Exact-match accuracy of decoded outputs, overall and by source length.

    hypotheses: one token list per pair (e.g. from ``parallel.translate_sentences``); pairs: the
    (source tokens, target tokens) pairs; edges (a, b) make the buckets "≤ a−1", "a–(b−1)", "≥ b" tokens.
    -> {bucket name: (accuracy, number of pairs)}, "all" included.
    """
    right = [list(h) == list(t) for h, (_, t) in zip(hypotheses, pairs)]
    lengths = [len(s) for s, _ in pairs]
    a, b = edges
    buckets = {f"≤ {a - 1}": lambda n: n < a, f"{a}–{b - 1}": lambda n: a <= n < b, f"≥ {b}": lambda n: n >= b,
               "all": lambda n: True}
    out = {}
    for name, keep in buckets.items():
        sel = [r for r, n in zip(right, lengths) if keep(n)]
        out[name] = (sum(sel) / len(sel) if sel else float("nan"), len(sel))
    return out
