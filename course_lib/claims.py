"""A claim the prose makes about a run, checked where the run prints it.

Training, sampling and search give digits that move with the CPU's float path (AVX2 vs AVX-512,
one thread vs two) and with the seed. The course therefore never compares those digits as text.
What the lesson *says* about them is checked instead, with the band that holds on every machine:

    >>> from course_lib.claims import claim, between
    >>> claim(lstm_loss < rnn_loss, "the LSTM ends below the RNN")           # a verdict
    ✓ the LSTM ends below the RNN
    >>> between(exact_match, 0.9, 1.0, "exact match of the reversed model")  # a band
    ✓ exact match of the reversed model is between 0.9 and 1

The printed line is the same on every machine, so a cell of such checks may be compared by nbval
(``# NBVAL_CHECK_OUTPUT``); the digits themselves are printed by a cell that is not compared.
A band is chosen from the range seen over several seeds and two float paths, with a margin, and
the lesson's text says "about" wherever the value moves.
"""
from __future__ import annotations

import math

__all__ = ["claim", "between", "ClaimFailed"]


class ClaimFailed(AssertionError):
    """The run contradicts what the lesson says about it."""


def _fmt(x: float) -> str:
    return f"{x:g}"


def claim(condition: bool, statement: str) -> None:
    """Assert ``condition``; print ``✓ statement`` when it holds.

    ``statement`` is the sentence the lesson makes, in its words (e.g. "reversed > plain > no mask").
    """
    if not bool(condition):
        raise ClaimFailed(f"the lesson says: {statement!r}, and this run disagrees")
    print(f"✓ {statement}")


def between(value: float, lo: float, hi: float, what: str) -> float:
    """Assert ``lo <= value <= hi``; print ``✓ <what> is between lo and hi``. Returns ``value``.

    NaN is never between anything.
    """
    v = float(value)
    if math.isnan(v) or not (lo <= v <= hi):
        raise ClaimFailed(f"{what} = {v:.6g}, outside the band [{_fmt(lo)}, {_fmt(hi)}] the lesson relies on")
    print(f"✓ {what} is between {_fmt(lo)} and {_fmt(hi)}")
    return value
