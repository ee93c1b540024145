"""The student copy (`course-grade release`) works on its own: its README is for students, it
holds nothing of the instructors', and its own test command passes on it."""
import os
import subprocess
import sys

import pytest

from course_lib.grading.cli import main as course_grade

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    dest = tmp_path_factory.mktemp("release") / "student"
    # --force: a developer's checkout may hold uncommitted edits; the copy is the last commit either way
    assert course_grade(["release", str(dest), "--force"]) == 0
    return dest


def test_nothing_of_the_instructors_is_shipped(copy):
    names = {p.relative_to(copy).as_posix() for p in copy.rglob("*")}
    assert not any(n.startswith(("solutions", ".git/", ".ci")) or n == ".git" for n in names)
    assert not any("hidden" in n or "exercise_variants" in n or "test_grading" in n for n in names)
    for p in [*(copy / "exercises").iterdir(), *(copy / "notebooks").iterdir()]:
        assert "### BEGIN SOLUTION" not in p.read_text(encoding="utf-8"), p
    # plain notebooks: no jupytext twins that could block opening a notebook saved elsewhere
    assert not (copy / "jupytext.toml").exists()
    assert not list((copy / "notebooks").glob("*.py")) and not list((copy / "exercises").glob("*.py"))
    assert len(list((copy / "exercises").glob("[0-9][0-9]_*.ipynb"))) == len(list((REPO / "exercises").glob("*.ipynb")))


def test_the_readme_is_for_students(copy):
    text = (copy / "README.md").read_text(encoding="utf-8")
    assert "student copy" in text and "## How to submit" in text and "course-grade progress" in text
    assert "| 03 | `03_rnn`" in text  # the course's notebook table
    assert "| module |" not in text   # ... alone: the module table after it is the maintainers'
    assert "## Run on a hosted notebook service" in text and "{hosted}" not in text
    for instructor_only in ("## Instructors", "solutions/", "hidden_tests", "course-grade grade", "bubblewrap"):
        assert instructor_only not in text, instructor_only


def test_release_refuses_a_folder_inside_the_course_or_not_empty(tmp_path, capsys):
    assert course_grade(["release", str(REPO / "release-inside")]) == 2
    (tmp_path / "x").write_text("x")
    assert course_grade(["release", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err


@pytest.mark.slow
def test_the_copy_passes_its_own_tests(copy):
    """The whole suite collects without an error, and a representative part runs green: unit tests, the
    pipeline checks, a lesson and an exercise notebook (as the stub) under nbval."""
    env = {**os.environ, "PYTHONPATH": str(copy)}  # the copy's course_lib, not this checkout's
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q"], cwd=copy, env=env,
                               capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_notebook_pipeline.py", "tests/test_text.py",
                          "notebooks/00_welcome.ipynb", "exercises/00_welcome.ipynb"], cwd=copy, env=env,
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout and "skipped" in ran.stdout  # solutions-only checks skip, saying why


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


def test_only_committed_course_files_are_released(tmp_path, capsys, monkeypatch):
    """Submissions, grades, feedback and an instructor's unfinished edit in the checkout never reach the copy:
    the release refuses while a tracked file has uncommitted changes, and --force ships the last commit."""
    course = tmp_path / "course"
    _git(tmp_path, "clone", "-q", "--no-hardlinks", str(REPO), str(course))
    (course / "submissions").mkdir()
    (course / "submissions" / "alice.ipynb").write_bytes((REPO / "solutions" / "03_rnn.ipynb").read_bytes())
    (course / "grades" / "03" / "feedback").mkdir(parents=True)
    (course / "grades" / "03" / "grades.csv").write_text("student,points\nalice,40\n")
    (course / "grades" / "03" / "feedback" / "alice.md").write_text("**Score: 40**")
    (course / "exercises" / "scratch.ipynb").write_text("{}")                       # untracked, in a course folder
    edited = course / "exercises" / "03_rnn.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# an unfinished edit: rnn_step solved\n", encoding="utf-8")
    monkeypatch.setenv("COURSE_REPO", str(course))
    assert course_grade(["release", str(tmp_path / "refused")]) == 2
    assert "exercises/03_rnn.py" in capsys.readouterr().err
    assert course_grade(["release", str(tmp_path / "copy"), "--force"]) == 0
    copy = tmp_path / "copy"
    names = {p.relative_to(copy).as_posix() for p in copy.rglob("*")}
    assert not any(n.startswith(("submissions", "grades")) for n in names), sorted(names)[:20]
    assert "exercises/scratch.ipynb" not in names
    assert not (copy / "exercises" / "03_rnn.py").exists()
    assert "an unfinished edit" not in (copy / "exercises" / "03_rnn.ipynb").read_text(encoding="utf-8")
