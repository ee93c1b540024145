"""Where the course's exercises, solutions and tests are (relative to this package)."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]          # .../course_lib
PUBLIC_TESTS = Path(__file__).resolve().parent / "public"


def repo_root() -> Path:
    """The course checkout: ``$COURSE_REPO`` or the folder that holds course_lib/."""
    return Path(os.environ.get("COURSE_REPO", PACKAGE.parent)).resolve()


def solutions_dir() -> Path:
    return repo_root() / "solutions"


def exercises_dir() -> Path:
    return repo_root() / "exercises"


def hidden_tests_dir() -> Path:
    return solutions_dir() / "hidden_tests"


def assignments() -> list[str]:
    """Assignment names (notebook stems) that have public tests."""
    return sorted(p.stem for p in PUBLIC_TESTS.glob("[0-9][0-9]_*.py"))
