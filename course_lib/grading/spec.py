"""How exercise tests are written.

A test file (public: ``course_lib/grading/public/<assignment>.py``, hidden:
``solutions/hidden_tests/<assignment>.py``) is a plain Python module of functions::

    from course_lib.grading.spec import test, expect_close

    @test("softmax", points=1)
    def rows_sum_to_one(student):
        p = student.call("softmax", np.array([[1.0, 2.0, 3.0]]))
        expect_close(p.sum(axis=-1), [1.0], "each row of softmax(z) should sum to 1")

``student`` talks to the student's code: ``student.call(name, *args)``,
``student.new(ClassName, *args)`` and, on the object it returns, ``.call(method, *args)``,
``.set_params({...})`` and ``.backward(...)``. Whatever comes back is plain data (numbers,
strings, lists, tuples, dicts and numpy arrays), never the student's own objects, so a test's
verdict cannot be faked by a returned object. A test passes when it returns without raising;
``Fail("...")`` (or a failed ``expect_*``) gives the student the message, in the lecture's terms.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


class Fail(AssertionError):
    """A test's verdict: the student's answer is wrong, and the message says how."""


class NotImplementedYet(Exception):
    """The student's function still raises NotImplementedError (the stub)."""


class StudentError(Exception):
    """The student's code raised an exception (the message names it)."""


class SandboxError(Exception):
    """The student's code could not be run to the end: timeout, crash, memory limit."""


@dataclass(frozen=True)
class Test:
    exercise: str
    name: str
    points: float
    func: Callable
    hidden: bool = False
    doc: str = ""


def test(exercise: str, points: float = 1.0):
    """Register the decorated function as a test of ``exercise`` worth ``points``."""
    if not isinstance(exercise, str) or not exercise.isidentifier():
        raise ValueError(f"exercise must be a Python identifier, got {exercise!r}")
    if not points > 0:
        raise ValueError(f"points must be > 0, got {points!r}")

    def register(func: Callable) -> Callable:
        func.__course_test__ = (exercise, float(points))
        return func
    return register


def load_tests(path: str | Path, hidden: bool) -> list[Test]:
    """Import a test module by path and return its tests, in file order."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"course_tests_{'hidden' if hidden else 'public'}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = []
    for name, obj in vars(module).items():
        if callable(obj) and hasattr(obj, "__course_test__"):
            exercise, points = obj.__course_test__
            doc = (obj.__doc__ or "").strip().splitlines()[0] if obj.__doc__ else name.replace("_", " ")
            tests.append(Test(exercise, name, points, obj, hidden, doc))
    tests.sort(key=lambda t: t.func.__code__.co_firstlineno)
    return tests


def as_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    """``value`` as a float64 array of ``shape``, or a ``Fail`` that says what came back instead."""
    if value is None:
        raise Fail(f"{what}: got None; did you forget to return the result?")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        kind = f"a nested {type(value).__name__}" if isinstance(value, (list, tuple)) else type(value).__name__
        raise Fail(f"{what}: expected numbers, got {kind}") from None
    arr = np.array(arr, dtype=np.float64, copy=True)  # a plain ndarray, whatever came in
    if shape is not None and arr.shape != tuple(shape):
        raise Fail(f"{what}: expected shape {tuple(shape)}, got {arr.shape}")
    return arr


def expect_close(actual, expected, message: str, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Fail with ``message`` unless ``actual`` equals ``expected`` to the tolerances (shapes must match)."""
    expected = np.asarray(expected, dtype=np.float64)
    arr = as_array(actual, message.split(":")[0] if ":" in message else "result", expected.shape)
    if not np.all(np.isfinite(arr)) and np.all(np.isfinite(expected)):
        raise Fail(f"{message} (your result contains nan or inf)")
    diff = np.abs(arr - expected)
    bad = diff > atol + rtol * np.abs(expected)
    if bad.any():
        where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        raise Fail(f"{message} (largest difference {float(diff.max()):.3g} at index {tuple(int(i) for i in where)}: "
                   f"got {float(arr[where]):.6g}, expected {float(expected[where]):.6g})")


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` is true."""
    if not bool(condition):
        raise Fail(message)


# Exercises whose answer course_lib itself holds (the library the lessons use): while such an exercise is
# graded, these names are replaced in the student's child by a function that refuses, and the files that
# define them are hidden there, so importing (or re-reading) course_lib's copy earns nothing.
# "module:name"; grep the exercises' names against course_lib when adding an exercise.
_BPTT = ("course_lib.bptt:forward", "course_lib.bptt:backward", "course_lib.bptt:truncated_backward",
         "course_lib.bptt:jacobian_product")
_BLEU = ("course_lib.bleu:sentence_bleu", "course_lib.bleu:sentence_stats", "course_lib.bleu:bleu_from_stats",
         "course_lib.bleu:corpus_bleu", "course_lib.bleu:brevity_penalty")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "skipgram_pairs": ("course_lib.word2vec:skipgram_pairs",),
    "bptt": _BPTT, "delta_h_step": _BPTT, "grad_W_hh": _BPTT, "jacobian_norm": _BPTT,
    "masked_cross_entropy": ("course_lib.seq2seq:masked_cross_entropy",),
    "sentence_bleu": _BLEU,
    "masked_softmax": ("course_lib.attention:masked_softmax",),
    "split_heads": ("course_lib.attention:split_heads",),
    "scaled_dot_product_attention": ("course_lib.attention:DotProductAttention",),
    "additive_scores": ("course_lib.attention:AdditiveAttention",),
    "multi_head_attention": ("course_lib.attention:MultiHeadAttention",),
    "causal_mask": ("course_lib.attention:causal_mask",),
    "sinusoidal_encoding": ("course_lib.positional:sinusoidal_positional_encoding",
                            "course_lib.positional:PositionalEncoding"),
}


def forbidden_names(exercise: str) -> tuple[str, ...]:
    """course_lib's own answers to ``exercise`` ("module:name"), which the grader refuses while grading it."""
    return FORBIDDEN.get(exercise, ())
