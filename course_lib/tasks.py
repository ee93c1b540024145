"""Synthetic tasks: the adding problem (Hochreiter & Schmidhuber 1997), which needs long memory, and
human-readable dates -> ISO dates (``date_pairs``, notebook 08's seq2seq task).

Each sequence has T steps of two channels: a value drawn uniformly from [0, 1] and a marker
that is 1 at exactly two steps (one in the first half, one in the second half, as in Le et al.
2015 and Arjovsky et al. 2016) and 0 elsewhere. The target is the sum of the two marked values.
Answering the mean sum, 1, whatever the input gives MSE = Var(u_1 + u_2) = 2/12 ≈ 0.167: a model
beats that baseline only if it carries a marked value across up to T steps.

``AddingRegressor`` reads the sequence with a recurrent layer and predicts the sum from the last
hidden state (many-to-one), with the course's signature ``forward(x, y) -> (prediction, loss)``.
"""
from __future__ import annotations

import torch
from torch import nn

from .rnn import RNNScratch, init_recurrent_

BASELINE_MSE = 2 / 12          # always answering 1

# The three models compared in notebook 05
MODELS = {
    "IRNN": dict(cell="rnn", nonlinearity="relu", init="identity"),   # Le et al. 2015
    "tanh RNN": dict(cell="rnn", nonlinearity="tanh", init="default"),
    "LSTM": dict(cell="lstm"),
}


def adding_problem(n: int, T: int, generator: torch.Generator | None = None, seed: int | None = None):
    """n sequences of length T: (x (n, T, 2) float32 with channels [value, marker], y (n,) the sums)."""
    if T < 2 or n < 1:
        raise ValueError(f"need n >= 1 and T >= 2, got n={n}, T={T}")
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
    values = torch.rand(n, T, generator=generator)
    first = torch.randint(0, T // 2, (n,), generator=generator)               # one marker in each half
    second = torch.randint(T // 2, T, (n,), generator=generator)
    marker = torch.zeros(n, T)
    rows = torch.arange(n)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    return torch.stack([values, marker], dim=-1), (values * marker).sum(dim=1)


def adding_batches(batch_size: int, T: int, seed: int = 0):
    """An endless iterator of fresh (x (B, T, 2), y (B,)) batches, repeatable from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield adding_problem(batch_size, T, generator)


class AddingRegressor(nn.Module):
    """Recurrent layer -> linear head on the last hidden state: ŷ = w_y · h_T + b_y.

    cell="rnn": the vanilla RNN h_t = f(W_xh x_t + W_hh h_{t-1} + b_h) with f = ``nonlinearity``
    and W_hh from ``init`` ("default": nn.RNN's uniform, "identity": IRNN, "orthogonal");
    ``impl="torch"`` runs it with nn.RNN (fast), ``"scratch"`` with the course's RNNScratch.
    cell="lstm": torch's nn.LSTM (notebook 06 builds it from scratch).
    forward(x (B, T, 2), y (B,) or None) -> (prediction (B,), MSE loss or None).
    """

    def __init__(self, cell: str = "rnn", hidden_size: int = 32, nonlinearity: str = "tanh", init: str = "default",
                 impl: str = "torch", input_size: int = 2):
        super().__init__()
        if cell not in ("rnn", "lstm"):
            raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
        if init not in ("default", "identity", "orthogonal"):
            raise ValueError(f"init must be 'default', 'identity' or 'orthogonal', got {init!r}")
        if cell == "lstm":
            self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True)
        elif impl == "torch":
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, batch_first=True)
        elif impl == "scratch":
            self.rnn = RNNScratch(input_size, hidden_size, nonlinearity=nonlinearity)
        else:
            raise ValueError(f"impl must be 'torch' or 'scratch', got {impl!r}")
        if cell == "rnn" and init != "default":
            init_recurrent_(self.rnn, init)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        outputs, _ = self.rnn(x)                       # (B, T, H)
        pred = self.head(outputs[:, -1]).squeeze(-1)   # (B,): many-to-one, from h_T
        loss = None if y is None else torch.mean((pred - y) ** 2)
        return pred, loss


OPTIMIZERS = {"SGD": torch.optim.SGD, "RMSprop": torch.optim.RMSprop, "Adam": torch.optim.Adam}
LEARNING_RATES = {"SGD": 0.01, "RMSprop": 1e-3, "Adam": 3e-3}


@torch.no_grad()
def test_mse(model: nn.Module, T: int, n: int = 1000, seed: int = 12345, device=None) -> float:
    """MSE on n fresh test sequences (a fixed seed, never used for training)."""
    x, y = adding_problem(n, T, seed=seed)
    device = device if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    _, loss = model(x.to(device), y.to(device))
    model.train(was_training)
    return float(loss)


def run_adding(model: str, optimizer: str, T: int, steps: int, batch_size: int = 50, hidden_size: int = 32,
               lr: float | None = None, clip: float | None = 1.0, seed: int = 0, device=None):
    """Train one of ``MODELS`` with one of ``OPTIMIZERS`` on the adding problem with ``train.train``.

    Returns (History, test MSE). The model's weights come from ``seed``, the batches from seed + 1.
    """
    from .device import get_device
    from .train import train

    device = get_device() if device is None else torch.device(device)
    torch.manual_seed(seed)
    net = AddingRegressor(hidden_size=hidden_size, **MODELS[model])
    opt = OPTIMIZERS[optimizer](net.parameters(), lr=lr if lr is not None else LEARNING_RATES[optimizer])
    history = train(net, adding_batches(batch_size, T, seed + 1), steps=steps, optimizer=opt, clip=clip,
                    device=device, progress=False)
    return history, test_mse(net, T, device=device)


# ----------------------------------------------------------------------------- dates (notebook 08, seq2seq)

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DATE_FORMATS = ("{d} {month} {yyyy}", "{month} {d}, {yyyy}", "{d} {mon} {yyyy}", "{mon} {dd} {yyyy}",
                "{dd}.{mm}.{yyyy}", "{weekday}, {month} {d}, {yyyy}")


def format_date(day, fmt: str) -> str:
    """A ``datetime.date`` written in one of ``DATE_FORMATS`` (lower case)."""
    month = MONTHS[day.month - 1]
    return fmt.format(d=day.day, dd=f"{day.day:02d}", mm=f"{day.month:02d}", yyyy=day.year, month=month,
                      mon=month[:3], weekday=WEEKDAYS[day.weekday()])


def date_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """n (human-readable date, ISO date) pairs, e.g. ("march 5, 1987", "1987-03-05").

    Days are uniform over 1950-01-01 .. 2049-12-31 and the format uniform over ``DATE_FORMATS``; the
    same seed gives the same pairs. The ISO target starts with the year, which every format writes last.
    """
    import datetime
    import random

    rng = random.Random(seed)
    start = datetime.date(1950, 1, 1).toordinal()
    span = datetime.date(2049, 12, 31).toordinal() - start + 1
    out = []
    for _ in range(n):
        day = datetime.date.fromordinal(start + rng.randrange(span))
        out.append((format_date(day, rng.choice(DATE_FORMATS)), day.isoformat()))
    return out
