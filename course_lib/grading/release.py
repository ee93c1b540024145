"""The student copy: ``course-grade release OUTDIR``.

Everything a student needs and nothing an instructor keeps: no ``solutions/`` (and so no hidden
tests), no tests that need them (grading, isolation, the known-wrong answers), no CI, no git
history. The copy gets its own README (``assets/README_student.md``, with the course's notebook
table), and its ``pytest`` passes on a fresh clone: unit tests, lesson notebooks, exercise
notebooks as stubs.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import paths

SKIP_NAMES = {"solutions", ".git", ".ci", "grading-out", "release", "__pycache__", ".ipynb_checkpoints",
              ".pytest_cache", ".venv", "venv", "_build"}
# Tests that need solutions/, the hidden tests or the instructors' known-wrong answers.
INSTRUCTOR_TESTS = ("test_grading_*.py", "test_isolation.py", "test_release.py", "test_progress_report.py", "exercise_variants.py", "grading_helpers.py",
                    "benchmarks/bench_grading.py")
STUDENT_README = "README_student.md"


def student_readme(course_readme: str, template: str) -> str:
    """The template with the course README's notebook table (the table of its "## The notebooks")."""
    match = re.search(r"^## The notebooks\n.*?(?=^## )", course_readme, flags=re.S | re.M)
    rows = [line for line in (match.group(0) if match else "").splitlines() if line.startswith("|")]
    return template.replace("{notebooks}", "\n".join(rows))


def release(outdir: str | Path) -> Path:
    """Write the student copy to ``outdir`` (new or empty, outside the checkout); return its path."""
    src, dest = paths.repo_root(), Path(outdir).resolve()
    if dest == src or src in dest.parents:
        raise ValueError(f"release OUTDIR must be outside the course checkout ({src})")
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"{dest} exists and is not empty; choose a new folder")
    tests = src / "tests"
    dropped = {p.resolve() for pattern in INSTRUCTOR_TESTS for p in tests.glob(pattern)}

    def ignore(folder, names):
        skip = {n for n in names if n in SKIP_NAMES or n.endswith(".egg-info")}
        return skip | {n for n in names if (Path(folder) / n).resolve() in dropped}

    shutil.copytree(src, dest, ignore=ignore)
    template = (src / "assets" / STUDENT_README).read_text(encoding="utf-8")
    (dest / "README.md").write_text(student_readme((src / "README.md").read_text(encoding="utf-8"), template),
                                    encoding="utf-8")
    (dest / "assets" / STUDENT_README).unlink()
    return dest
