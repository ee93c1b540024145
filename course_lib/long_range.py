"""A long-range dependency with a dial: subject–verb agreement across a chosen number of words.

The Sequence Models notes' example: "The cat, which already ate …, **was** full" / "The cats, which
already ate …, **were** full". To choose the verb the model must carry one bit (singular or plural) from the
subject to the verb, across everything said in between. Here the in-between is ``distance``
words drawn at random from a small vocabulary that includes nouns of *both* numbers (attractors:
"… ate the mice …"), so the most recent noun is no help: only the subject is.

    the cat , which already ate the fish and some mice quickly , [was]

Every sentence comes from a seed, so a batch is reproducible. The task is framed as language
modelling with one scored position: ``idx`` is the sentence up to the last comma, ``targets`` is
-100 (ignored by the loss) everywhere except the last position, whose target is "was" or "were".
Any model with the course's ``forward(idx, targets) -> (logits, loss)`` can learn it, with the one
training loop ``course_lib.train.train``.
"""
from __future__ import annotations

import torch

SUBJECTS = [("cat", "cats"), ("dog", "dogs"), ("child", "children"), ("mouse", "mice"), ("goose", "geese"),
            ("fox", "foxes"), ("bird", "birds"), ("wolf", "wolves")]
FILLER = ["the", "a", "some", "and", "fish", "bread", "quickly", "slowly", "old", "small", "very", "then",
          "apples", "with", "near", "house", "garden", "yesterday", "green", "of"]
PREFIX = ["the"]          # the <subject> , which already ate ... , <verb>
BRIDGE = [",", "which", "already", "ate"]
VERBS = ["was", "were"]


def vocabulary() -> list[str]:
    """All tokens of the task, id = position in this list (0 is a padding token never produced)."""
    words = ["<pad>"] + PREFIX + BRIDGE + VERBS
    for s, p in SUBJECTS:
        words += [s, p]
    words += [w for w in FILLER if w not in words]
    return words


VOCAB = vocabulary()
STOI = {w: i for i, w in enumerate(VOCAB)}
NOUNS = [w for pair in SUBJECTS for w in pair]


def sentence_length(distance: int) -> int:
    """Tokens in ``idx``: "the", the subject, then the ``distance`` words strictly between the
    subject and the verb (", which already ate", the filler, the closing comma)."""
    return 2 + distance


def agreement_batch(batch_size: int, distance: int, seed: int | torch.Generator = 0,
                    attractor_rate: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of sentences whose verb is ``distance`` words after its subject.

    Returns ``idx`` (B, T) and ``targets`` (B, T), T = distance + 2: all targets are -100 except
    the last, which is the id of "was" (singular subject) or "were" (plural). Half the subjects are
    plural. Each filler word is, with probability ``attractor_rate``, a random noun of either number.
    """
    if isinstance(distance, bool) or not isinstance(distance, int) or distance < len(BRIDGE) + 1:
        raise ValueError(f"distance must be an int >= {len(BRIDGE) + 1} (', which already ate' and the "
                         f"closing comma), got {distance!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not 0.0 <= attractor_rate <= 1.0:
        raise ValueError(f"attractor_rate must be in [0, 1], got {attractor_rate!r}")
    g = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
    B, n_fill = batch_size, distance - len(BRIDGE) - 1   # the bridge and the closing comma are words too
    plural = torch.randint(0, 2, (B,), generator=g)
    which = torch.randint(0, len(SUBJECTS), (B,), generator=g)
    subject = torch.tensor([STOI[SUBJECTS[w][p]] for w, p in zip(which.tolist(), plural.tolist())])
    filler_ids = torch.tensor([STOI[w] for w in FILLER])
    noun_ids = torch.tensor([STOI[w] for w in NOUNS])
    fill = filler_ids[torch.randint(0, len(FILLER), (B, n_fill), generator=g)]
    attract = torch.rand(B, n_fill, generator=g) < attractor_rate
    fill = torch.where(attract, noun_ids[torch.randint(0, len(NOUNS), (B, n_fill), generator=g)], fill)
    idx = torch.cat([torch.full((B, 1), STOI["the"]), subject[:, None],
                     torch.tensor([STOI[w] for w in BRIDGE]).expand(B, -1), fill,
                     torch.full((B, 1), STOI[","])], dim=1)
    targets = torch.full_like(idx, -100)
    targets[:, -1] = torch.where(plural.bool(), STOI["were"], STOI["was"])
    return idx, targets


def agreement_batches(batch_size: int, distances: list[int] | range, seed: int = 0, attractor_rate: float = 0.3):
    """An endless stream of batches for ``train.train``; each batch has one distance drawn from ``distances``."""
    distances = list(distances)
    if not distances:
        raise ValueError("distances must not be empty")
    g = torch.Generator().manual_seed(seed)
    while True:
        d = distances[int(torch.randint(0, len(distances), (1,), generator=g))]
        yield agreement_batch(batch_size, d, g, attractor_rate)


def decode(ids) -> str:
    """Token ids -> words, for reading a batch (negative ids, i.e. ignored targets, become '_')."""
    return " ".join(VOCAB[i] if i >= 0 else "_" for i in (ids.tolist() if hasattr(ids, "tolist") else ids))


def train_agreement_model(cell: str, distance: int, *, steps: int = 300, seed: int = 0, memory_bias: float = 0.0,
                          hidden_size: int = 32, embed_dim: int = 16, batch_size: int = 32, lr: float = 1e-2,
                          clip: float = 1.0, device=None, eval_fn=None, eval_every: int | None = None):
    """A fresh ``RecurrentLM`` with this ``cell`` ("rnn", "lstm", "gru"; PyTorch's layers, for speed)
    trained for ``steps`` steps of Adam on sentences of one ``distance`` with ``train.train`` (the
    one loop). Seeded: the same call gives the same model. ``eval_fn(model)`` runs every
    ``eval_every`` steps, as in ``train.train`` (a probe that draws no random numbers leaves the model
    exactly as without it)."""
    from .device import get_device, seed_everything
    from .lstm_gru import RecurrentLM
    from .train import train

    device = get_device() if device is None else device
    seed_everything(seed)
    model = RecurrentLM(len(VOCAB), embed_dim, hidden_size, cell=cell, memory_bias=memory_bias).to(device)
    train(model, agreement_batches(batch_size, [distance], seed=seed), steps=steps, lr=lr, clip=clip, device=device,
          progress=False, eval_fn=eval_fn, eval_every=eval_every)
    return model


def accuracy_by_distance(cell: str, distances, *, eval_size: int = 500, **settings) -> dict[int, float]:
    """For each distance: ``train_agreement_model(cell, distance, **settings)``, then its verb
    accuracy on ``eval_size`` new sentences of that distance (chance: 0.5)."""
    from .lstm_gru import last_step_accuracy

    return {d: last_step_accuracy(train_agreement_model(cell, d, **settings), *agreement_batch(eval_size, d, seed=10_000 + d))
            for d in distances}


def subject_gradient(model, distance: int, n: int = 256, seed: int = 777) -> float:
    """How much of the verb's error reaches the subject: the mean over ``n`` sentences of
    ‖∂L / ∂e_subject‖, the gradient of the loss at the verb with respect to the subject's embedding
    (the input ``distance`` steps before the verb). Autograd, whatever the caller's grad mode."""
    import torch.nn.functional as F

    device = next(model.parameters()).device
    idx, targets = agreement_batch(n, distance, seed=seed)
    idx, targets = idx.to(device), targets.to(device)
    with torch.enable_grad():
        emb = model.embed(idx).detach().requires_grad_(True)
        logits = model.head(model.rnn(emb)[0][:, -1])
        (grad,) = torch.autograd.grad(F.cross_entropy(logits, targets[:, -1]), emb)
    return float(grad[:, 1].norm(dim=-1).mean() * n)     # × n: the per-sentence loss, not the batch mean


@torch.no_grad()
def memory_state(model, distance: int, n: int = 256, seed: int = 777) -> dict[str, float]:
    """The "keep" gate over the words after the subject, f_t for an LSTM and z_t for a GRU (both 1 = keep
    the old state), traced with the scratch cells (``lstm_gru.trace_gates``): ``gate`` its mean over
    units, words and sentences, ``gate_max_unit`` the mean of the unit that keeps most. For an LSTM also
    ``cell_at_verb``, the mean |c_t| at the last word (where tanh(c) is read out: tanh′ ≈ 0 beyond 3)."""
    from .lstm_gru import trace_gates

    if model.cell not in ("lstm", "gru"):
        raise ValueError(f"only gated cells have a memory gate, got {model.cell!r}")
    device = next(model.parameters()).device
    idx, _ = agreement_batch(n, distance, seed=seed)
    trace = trace_gates(model.rnn, model.embed(idx.to(device)))[0]
    keep = trace["f" if model.cell == "lstm" else "z"][:, 2:]           # (B, T - 2, H): after the subject
    out = {"gate": float(keep.mean()), "gate_max_unit": float(keep.mean((0, 1)).max())}
    if model.cell == "lstm":
        out["cell_at_verb"] = float(trace["c"][:, -1].abs().mean())
    return out


def watch_training(cell: str, distance: int, *, every: int = 25, **settings) -> dict:
    """``train_agreement_model(cell, distance, **settings)`` (the same model), measuring every
    ``every`` steps, from step 0, ``subject_gradient`` and ``memory_state``. Returns lists ``step``,
    ``subject_gradient`` and one per key of ``memory_state``, and the trained ``model``."""
    seen: dict = {"step": [], "subject_gradient": []}

    def probe(model):
        seen["step"].append(every * len(seen["step"]))
        seen["subject_gradient"].append(subject_gradient(model, distance))
        for key, value in memory_state(model, distance).items():
            seen.setdefault(key, []).append(value)
        return 0.0

    from .device import seed_everything
    from .lstm_gru import RecurrentLM

    seed_everything(settings.get("seed", 0))            # step 0: the model exactly as train_agreement_model starts it
    start = RecurrentLM(len(VOCAB), settings.get("embed_dim", 16), settings.get("hidden_size", 32), cell=cell,
                        memory_bias=settings.get("memory_bias", 0.0))
    start.eval()
    probe(start)
    seen["model"] = train_agreement_model(cell, distance, eval_fn=probe, eval_every=every, **settings)
    return seen
