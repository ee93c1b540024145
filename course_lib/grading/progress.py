"""A student's view of what is left: the public checks of every exercise notebook, in one table.

    course-grade progress exercises/           # in a terminal
    from course_lib.grading import progress     # in a notebook
    progress()

Each notebook is read the way the grader reads it (only its definitions: imports, ``def``,
``class``, constants) and each exercise runs in a child process with a time limit, so a
half-finished notebook, an endless loop or a crash shows up as a row, never as a crash here.
"""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import isolation, paths
from .grader import grade_notebook, load_assignment


@dataclass
class Row:
    notebook: str
    exercise: str
    passed: int          # public tests passed
    tests: int           # public tests
    earned: float        # public points earned
    points: float        # public points available
    note: str = ""       # the first failing test's message, or why the notebook could not be read

    @property
    def done(self) -> bool:
        return self.tests > 0 and self.passed == self.tests


def _rows_for(notebook: Path, timeout: float) -> list[Row]:
    assignment = load_assignment(notebook.stem, hidden=False)
    res = grade_notebook(notebook, assignment, timeout=timeout, isolated=isolation.problem() is None)
    rows = []
    for exercise, points in assignment.exercises.items():
        results = [r for r in res.results if r["exercise"] == exercise]
        failed = [r["message"] for r in results if r["earned"] < r["points"]]
        note = failed[0] if failed else ""
        if not res.status.startswith("ok"):
            note = res.status
        rows.append(Row(notebook.stem, exercise, len(results) - len(failed), len(results),
                        sum(r["earned"] for r in results), points, note))
    return rows


def collect(folder: str | Path | None = None, *, timeout: float = 10.0, jobs: int = 2) -> list[Row]:
    """One row per exercise of every ``NN_topic.ipynb`` in ``folder`` (default: the course's exercises/)."""
    folder = Path(folder) if folder is not None else paths.exercises_dir()
    known = set(paths.assignments())
    notebooks = [p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")) if p.stem in known]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return [row for rows in pool.map(lambda p: _rows_for(p, timeout), notebooks) for row in rows]


def table(rows: list[Row]) -> str:
    """The rows as an aligned text table, with a closing summary line."""
    if not rows:
        return "no exercise notebooks found (expected files such as exercises/00_welcome.ipynb)"
    head = ("notebook", "exercise", "public tests", "points", "what to look at")
    body = [(r.notebook, r.exercise, f"{r.passed}/{r.tests}", f"{r.earned:g}/{r.points:g}",
             "done" if r.done else (r.note[:70] + ("..." if len(r.note) > 70 else ""))) for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line[:4], widths)) + "  " + line[4] for line in [head, *body]]
    lines.insert(1, "-" * max(len(x) for x in lines))
    done = sum(r.done for r in rows)
    lines.append(f"\n{done} of {len(rows)} exercises pass all their public tests. The hidden tests your instructor "
                 "grades with check more: test your code on your own cases too.")
    return "\n".join(lines)


def progress(folder: str | Path | None = None, *, timeout: float = 10.0, file=None) -> list[Row]:
    """Print the table of public checks for every exercise notebook in ``folder``; return its rows.
    Save your notebooks first: it reads the files, not the running kernel."""
    rows = collect(folder, timeout=timeout)
    print(table(rows), file=file or sys.stdout)
    return rows
