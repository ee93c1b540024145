"""Notebooks are code: every notebook is a jupytext pair in sync, exercises are exactly what the
generator makes from solutions, and the committed notebooks are executed (for nbval to compare)."""
import json
from pathlib import Path

import jupytext
import pytest

from course_lib.grading.generate import generate, make_stub

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "exercises", "solutions")
NOTEBOOKS = sorted(p for f in FOLDERS for p in (REPO / f).glob("*.ipynb"))
STEMS = ["00_welcome", "01_ngrams", "02_word2vec", "03_rnn", "04_bptt", "05_clipping", "06_lstm_gru",
         "07_birnn", "08_seq2seq", "09_attention", "10_positional_encoding"]


# The course's repository pairs every notebook with a .py (jupytext); a student copy (course-grade release)
# ships plain notebooks, so the pairing checks do not apply there.
PAIRED = (REPO / "jupytext.toml").is_file()
needs_pairing = pytest.mark.skipif(not PAIRED, reason="a student copy has plain notebooks, no jupytext pairs")


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@needs_pairing
@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pair_in_sync(ipynb):
    py = ipynb.with_suffix(".py")
    rel = ipynb.relative_to(REPO)
    assert py.is_file(), f"{rel} has no paired {py.name}; create it with: jupytext --set-formats ipynb,py:percent {rel}"
    a, b = jupytext.read(ipynb), jupytext.read(py)
    assert _cells(a) == _cells(b), (
        f"{rel} and {py.name} are out of sync. If you edited the .py: jupytext --to ipynb --update {py.relative_to(REPO)}; "
        f"if you edited the notebook: jupytext --to py:percent {rel}")


@pytest.mark.parametrize("py", sorted(p for f in FOLDERS for p in (REPO / f).glob("[0-9][0-9]_*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_py_has_its_notebook(py):
    assert py.with_suffix(".ipynb").is_file(), f"{py.relative_to(REPO)} has no .ipynb: jupytext --to ipynb {py.relative_to(REPO)}"


def test_names_follow_the_course_plan():
    for p in NOTEBOOKS:
        assert p.stem in STEMS, f"{p.relative_to(REPO)}: notebooks are named {', '.join(STEMS)}"
    for sol in (REPO / "solutions").glob("*.ipynb"):
        assert (REPO / "exercises" / sol.name).is_file(), f"solutions/{sol.name} has no exercises/{sol.name}"


@pytest.mark.skipif(not (REPO / "solutions").is_dir(), reason="a student copy has no solutions/ to generate from")
def test_exercises_are_generated_from_solutions():
    stale = generate(check_only=True)
    assert not stale, f"exercises out of date for {stale}: run `course-grade generate`"


def test_exercise_cell_ids_are_stable():
    """Generated exercise notebooks carry cell ids derived from the cells, not random ones, so that
    regenerating an unchanged exercise changes nothing."""
    from course_lib.grading.generate import _stable_ids
    for ipynb in sorted((REPO / "exercises").glob("[0-9][0-9]_*.ipynb")):
        nb = jupytext.reads(ipynb.read_text(encoding="utf-8"), fmt="ipynb")
        committed = [c["id"] for c in nb.cells]
        _stable_ids(nb)
        assert committed == [c["id"] for c in nb.cells], f"{ipynb.name}: regenerate with course-grade generate"
        assert len(set(committed)) == len(committed)


def test_committed_lesson_and_solution_notebooks_are_executed():
    """nbval compares stored outputs: a notebook saved without them would check nothing."""
    for folder in ("notebooks", "solutions"):
        for p in (REPO / folder).glob("*.ipynb"):
            nb = json.loads(p.read_text())
            code = [c for c in nb["cells"] if c["cell_type"] == "code" and c["source"]]
            assert all(c.get("execution_count") for c in code), f"{p.relative_to(REPO)} is not fully executed"


def test_exercise_notebooks_have_no_solutions():
    found = sorted((REPO / "exercises").glob("[0-9][0-9]_*.ipynb"))
    assert found, "no exercise notebooks"
    for p in found:
        text = "".join("".join(c["source"]) for c in json.loads(p.read_text(encoding="utf-8"))["cells"])
        assert "### BEGIN SOLUTION" not in text and "raise NotImplementedError" in text, p.name


def test_make_stub_keeps_indentation_and_hint():
    src = "def f(x):\n    ### HINT: add one\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    assert make_stub(src) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError('add one')\n"
    with pytest.raises(ValueError, match="without"):
        make_stub("### BEGIN SOLUTION\nx = 1\n")


def test_sanitizer_file_exists_and_nbval_is_configured():
    cfg = (REPO / "pyproject.toml").read_text()
    assert "--nbval-lax" in cfg and "nbval_sanitize.cfg" in cfg
    assert (REPO / "assets" / "nbval_sanitize.cfg").is_file()


def test_notebook_00_links_every_lesson_and_its_exercises():
    """00's course map links each lesson notebook that exists, and its exercise notebook; every link resolves."""
    import re
    nb = json.loads((REPO / "notebooks" / "00_welcome.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    links = set(re.findall(r"\]\(([^)#\s]+)\)", text))
    for lesson in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if lesson.stem != "00_welcome":
            assert lesson.name in links, f"notebooks/00_welcome's course map does not link {lesson.name}"
        if (REPO / "exercises" / lesson.name).is_file():
            assert f"../exercises/{lesson.name}" in links, f"00's course map does not link exercises/{lesson.name}"
    for link in links:
        if not link.startswith("http"):
            assert (REPO / "notebooks" / link).resolve().is_file(), f"00's course map links a missing file: {link}"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_first_code_cell_guards_the_course_import(ipynb):
    """A kernel without the course (a fresh hosted runtime) gets the install command, not a bare
    ModuleNotFoundError: `python -m course_lib.dev guard` adds the check."""
    from course_lib.dev import SETUP_GUARD
    nb = jupytext.read(ipynb)
    first = next(c for c in nb.cells if c.cell_type == "code"
                 and any(line.strip() and not line.startswith("#") for line in c.source.splitlines()))
    assert first.source.startswith(SETUP_GUARD.strip()), \
        f"{ipynb.relative_to(REPO)}: its first code cell lacks the setup guard; run: python -m course_lib.dev guard"
