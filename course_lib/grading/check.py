"""``check("softmax")`` in an exercise notebook: the public tests, on the live object.

It reports what the public tests prove and no more: hidden tests decide the grade.
"""
from __future__ import annotations

import inspect
from contextlib import contextmanager

from . import paths
from .grader import load_assignment, run_test
from .spec import load_tests


def _find_assignment(exercise: str) -> str | None:
    for name in paths.assignments():
        if any(t.exercise == exercise for t in load_tests(paths.PUBLIC_TESTS / f"{name}.py", hidden=False)):
            return name
    return None


def check(exercise, namespace: dict | None = None, *, quiet: bool = False, return_result: bool = False):
    """Run the public tests of ``exercise`` (its name, or the function/class itself).

    Prints one line per test. With ``return_result=True`` it also returns
    ``{"passed": bool, "earned": x, "max": y, ...}`` (otherwise None, so a notebook shows only the report).
    """
    name = exercise if isinstance(exercise, str) else getattr(exercise, "__name__", None)
    if not name:
        raise TypeError("check() takes an exercise name such as check('softmax'), or the function/class itself")
    if namespace is None:
        namespace = dict(inspect.stack()[1].frame.f_globals)
    if not isinstance(exercise, str):
        namespace = {**namespace, name: exercise}
    assignment_name = _find_assignment(name)
    if assignment_name is None:
        raise ValueError(f"no exercise named {name!r}; exercises are named in the notebook's headings")
    tests = [t for t in load_assignment(assignment_name, hidden=False).tests if t.exercise == name]
    from .runner import LocalStudent
    student = LocalStudent(namespace)
    results = [run_test(t, student) for t in tests]
    earned = sum(r.earned for r in results)
    total = sum(r.points for r in results)
    not_done = all(r.message == "not implemented yet" for r in results)
    lines = []
    if not_done:
        lines.append(f"{name}: not implemented yet (replace the `raise NotImplementedError` with your code, "
                     "run the cell, then run this check again)")
    else:
        lines.append(f"{name}: public checks {earned:g}/{total:g} points")
        for r in results:
            mark = "PASS" if r.earned == r.points else "FAIL"
            detail = "" if r.message == "passed" else f"  -> {r.message}"
            lines.append(f"  [{mark}] {r.name.replace('_', ' ')} ({r.points:g} pt){detail}")
        if earned == total:
            lines.append("  Public checks passed; hidden tests decide the grade.")
    if not quiet:
        print("\n".join(lines))
    if not return_result:
        return None
    return {"exercise": name, "passed": earned == total and not not_done, "earned": earned, "max": total,
            "implemented": not not_done, "messages": [r.message for r in results]}


@contextmanager
def needs_exercise(name: str):
    """Wrap a cell that uses a student's answer: until it is written, say so instead of crashing.

    >>> with needs_exercise("softmax"):
    ...     print(softmax(np.zeros(3)))
    """
    try:
        yield
    except NotImplementedError:
        print(f"(this cell needs your `{name}`: it runs once that exercise is implemented)")
