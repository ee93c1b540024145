"""Shared fixtures. Environment settings live in course_lib/pytest_plugin.py (they must reach
notebook kernels too)."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def shared_data() -> Path:
    d = os.environ.get("COURSE_DATA_DIR")
    if not d or not Path(d).is_dir():
        pytest.fail("real data not found: set COURSE_DATA_DIR to a folder with the course's files "
                    "(CI uses ../shared/data)")
    return Path(d)
