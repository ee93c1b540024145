"""From the gradebook to the learning platform, and the feedback back to the students.

    course-grade export GRADES_DIR --format canvas|moodle|csv [--roster roster.csv] [-o FILE]
                        [--deadline 2026-12-01T23:59+00:00] [--late-penalty 10] [--late-max-days 5]
                        [--submitted times.csv]
    course-grade pack GRADES_DIR [-o feedback.zip]

**Formats.** ``canvas``: Canvas's gradebook import CSV (``Student, ID, SIS User ID, SIS Login ID, Section``,
then one column named after the assignment with its points in brackets; Canvas matches rows on SIS Login
ID, here the student id). ``moodle``: Moodle's grade import CSV (``Username`` or ``Email address`` to
match on, the grade, and the feedback text as a second column to map to the item's feedback).
``csv``: every column the gradebook has (student, each exercise, total, max, late days, penalty, final).
A roster (CSV with a ``student`` column and any of ``name``, ``email``, ``sis_id``, ``section``,
``username``) fills the platform's columns; without one, the student id stands in.

**Late policy.** With ``--deadline``, a submission's time is the one the gradebook recorded (the file's
modification time when it was graded) unless ``--submitted`` gives a CSV of ``student, submitted_at``
(ISO 8601; e.g. from the platform's download, which file times may not survive). Each started day late
costs ``--late-penalty`` percent of the points earned, up to ``--late-max-days``; later than that the
grade is 0. Times without a zone are read as UTC. Every row of the ``csv`` format shows its late days and
penalty, so the policy is visible.

**Pack.** ``pack`` zips each student's feedback as ``<student>/feedback.md`` (with the grade on top), the
layout most platforms' bulk feedback upload and a plain e-mail merge accept.
"""
from __future__ import annotations

import csv
import io
import math
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import gradebook

FORMATS = ("canvas", "moodle", "csv")
UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run: text that starts like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(UNSAFE_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _time(text: str) -> datetime:
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


@dataclass
class LatePolicy:
    deadline: datetime
    penalty_percent: float = 10.0      # of the earned points, per started day late
    max_days: int = 5                  # later than this: 0

    def days_late(self, submitted: datetime | None) -> int:
        if submitted is None or submitted <= self.deadline:
            return 0
        return math.ceil((submitted - self.deadline).total_seconds() / 86400)

    def final(self, earned: float, days: int) -> tuple[float, float]:
        """(penalty in points, final points) for ``earned`` points handed in ``days`` late."""
        if days <= 0:
            return 0.0, earned
        if days > self.max_days:
            return earned, 0.0
        penalty = earned * min(100.0, self.penalty_percent * days) / 100.0
        return penalty, earned - penalty


def _roster(path: str | Path | None) -> dict[str, dict]:
    if not path:
        return {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if rows and "student" not in rows[0]:
        raise ValueError(f"{path}: a roster needs a 'student' column (the id the submissions are named by)")
    return {r["student"].strip(): {k: (v or "").strip() for k, v in r.items()} for r in rows}


def _submitted(path: str | Path | None) -> dict[str, datetime]:
    if not path:
        return {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        return {r["student"].strip(): _time(r["submitted_at"]) for r in csv.DictReader(f)}


def final_rows(rows: list[dict], late: LatePolicy | None = None, submitted: dict | None = None) -> list[dict]:
    """Each student's earned points, late days, penalty and final points."""
    out = []
    for r in rows:
        when = (submitted or {}).get(r["student"])
        if when is None and r.get("submitted_at"):
            when = _time(r["submitted_at"])
        days = late.days_late(when) if late else 0
        penalty, final = late.final(float(r["total"]), days) if late else (0.0, float(r["total"]))
        out.append({**r, "late_days": days, "penalty": round(penalty, 4), "final": round(final, 4),
                    "submitted": when.isoformat(timespec="seconds") if when else ""})
    return out


def _feedback_file(grades_dir: Path, row: dict) -> Path:
    """The row's feedback file (the grader names it safely, ``row["feedback"]``)."""
    return grades_dir / "feedback" / Path(row.get("feedback") or f"{row['student']}.md").name


def export(grades_dir: str | Path, fmt: str = "csv", *, roster=None, late: LatePolicy | None = None,
           submitted_csv=None) -> str:
    """The gradebook of ``grades_dir`` as a platform's import CSV (text)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    grades_dir = Path(grades_dir)
    rows = gradebook.load(grades_dir)
    if not rows:
        raise ValueError(f"{grades_dir} holds no gradebook (results.json): grade into it first")
    people = _roster(roster)
    rows = final_rows(rows, late, _submitted(submitted_csv))
    assignment = next((r.get("assignment") for r in rows if r.get("assignment")), grades_dir.name)
    top = rows[0]["max"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if fmt == "canvas":
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{assignment} ({top:g})"])
        w.writerow(["Points Possible", "", "", "", "", f"{top:g}"])
        for r in rows:
            p = people.get(r["student"], {})
            w.writerow([_cell(p.get("name", r["student"])), "", _cell(p.get("sis_id", "")), _cell(r["student"]),
                        _cell(p.get("section", "")), f"{r['final']:g}"])
    elif fmt == "moodle":
        w.writerow(["Username", "Email address", assignment, f"{assignment} feedback"])
        for r in rows:
            p = people.get(r["student"], {})
            note = f"{r['total']:g}/{top:g}" + (f", {r['late_days']} day(s) late: -{r['penalty']:g}" if r["late_days"] else "")
            w.writerow([_cell(p.get("username", r["student"])), _cell(p.get("email", "")), f"{r['final']:g}",
                        _cell(note)])
    else:
        exercises = list(rows[0].get("scores", {}))
        w.writerow(["student", *exercises, "total", "max", "submitted", "late_days", "penalty", "final", "status"])
        for r in rows:
            w.writerow([_cell(r["student"]), *(f"{r['scores'].get(e, 0):g}" for e in exercises), f"{r['total']:g}",
                        f"{top:g}", r["submitted"], r["late_days"], f"{r['penalty']:g}", f"{r['final']:g}",
                        _cell(r.get("status", ""))])
    return buf.getvalue()


def pack(grades_dir: str | Path, out: str | Path | None = None) -> Path:
    """Zip every student's feedback as ``<student>/feedback.md``; return the zip's path."""
    grades_dir = Path(grades_dir)
    rows = gradebook.load(grades_dir)
    if not rows:
        raise ValueError(f"{grades_dir} holds no gradebook (results.json): grade into it first")
    out = Path(out) if out else grades_dir / "feedback.zip"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for r in rows:
            f = _feedback_file(grades_dir, r)
            if f.is_file():        # the folder is the feedback file's safe name, never the raw id
                z.writestr(f"{f.stem}/feedback.md", f.read_text(encoding="utf-8"))
    return out
