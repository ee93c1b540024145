"""A long-range dependency with a dial: subject–verb agreement across a chosen number of words.

The seed's example: "The cat, which already ate …, **was** full" / "The cats, which already ate …,
**were** full". To choose the verb the model must carry one bit (singular or plural) from the
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
                          clip: float = 1.0, device=None):
    """A fresh ``RecurrentLM`` with this ``cell`` ("rnn", "lstm", "gru"; PyTorch's layers, for speed)
    trained for ``steps`` steps of Adam on sentences of one ``distance`` with ``train.train`` (the
    one loop). Seeded: the same call gives the same model."""
    from .device import get_device, seed_everything
    from .lstm_gru import RecurrentLM
    from .train import train

    device = get_device() if device is None else device
    seed_everything(seed)
    model = RecurrentLM(len(VOCAB), embed_dim, hidden_size, cell=cell, memory_bias=memory_bias).to(device)
    train(model, agreement_batches(batch_size, [distance], seed=seed), steps=steps, lr=lr, clip=clip, device=device,
          progress=False)
    return model


def accuracy_by_distance(cell: str, distances, *, eval_size: int = 500, **settings) -> dict[int, float]:
    """For each distance: ``train_agreement_model(cell, distance, **settings)``, then its verb
    accuracy on ``eval_size`` new sentences of that distance (chance: 0.5)."""
    from .lstm_gru import last_step_accuracy

    return {d: last_step_accuracy(train_agreement_model(cell, d, **settings), *agreement_batch(eval_size, d, seed=10_000 + d))
            for d in distances}
