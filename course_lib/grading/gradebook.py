"""The gradebook of one assignment: a store that grows as batches are graded into it.

``course-grade grade ASSIGNMENT FILES --out DIR`` grades FILES and merges their rows into DIR's gradebook
(``results.json``, every test's result; ``grades.csv``, one row a student): a student graded again gets
the new row, every other student keeps theirs. So regrading one student never loses the class. Rows of
students who are not in the batch leave the gradebook only on request (``--replace``), and their feedback
files go with them, so no stale feedback is left. Each row records the assignment and the submission's
time (the file's modification time when it was graded, UTC), which the late policy of ``export`` reads.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

RESULTS = "results.json"


class GradebookMismatch(ValueError):
    """The folder holds another assignment's gradebook."""


def load(out: Path) -> list[dict]:
    """The gradebook's rows (an empty list where there is none yet)."""
    f = Path(out) / RESULTS
    if not f.is_file():
        return []
    rows = json.loads(f.read_text(encoding="utf-8"))
    return rows if isinstance(rows, list) else []


def submitted_at(path: str | Path) -> str | None:
    """The file's modification time as an ISO 8601 UTC string, or None when it cannot be read."""
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc).isoformat(timespec="seconds")
    except OSError:
        return None


def interrupted(out: Path) -> str | None:
    """A warning when a grading run into ``out`` is going on or was killed (its rows are not in yet)."""
    return (f"{out}: a grading run did not finish (GRADING.txt): the gradebook holds the rows from before it; "
            "grade again to finish it") if (Path(out) / "GRADING.txt").is_file() else None


def merge(out: Path, assignment: str, new_rows: list[dict], *, replace: bool = False) -> tuple[list[dict], list[dict]]:
    """The gradebook after this batch, sorted by student, and the rows dropped (``replace``).

    ``new_rows`` replace the rows of the same students; other students' rows stay unless ``replace``.
    Raises GradebookMismatch when ``out`` holds a gradebook of another assignment."""
    old = load(out)
    other = {r.get("assignment") for r in old} - {None, assignment}
    if other:
        raise GradebookMismatch(f"{out} holds the gradebook of {', '.join(sorted(other))}, not {assignment}: "
                                "grade each assignment into its own folder")
    for r in new_rows:
        r["assignment"] = assignment
        if not r.get("submitted_at"):
            r["submitted_at"] = submitted_at(r.get("file", ""))
    fresh = {r["student"] for r in new_rows}
    kept = [] if replace else [r for r in old if r["student"] not in fresh]
    dropped = [r for r in old if r["student"] not in fresh] if replace else []
    rows = sorted(kept + list(new_rows), key=lambda r: r["student"])
    return rows, dropped
