"""For every assignment: the solution earns full marks, the generated stub earns 0, and every
known-wrong variant (tests/exercise_variants.py) earns less than full on its exercise while the
other exercises keep their points."""
import ast
import json

import pytest

from course_lib.grading import paths
from course_lib.grading.check import check
from course_lib.grading.extract import extract_definitions, read_notebook_cells
from course_lib.grading.grader import grade_notebook, load_assignment
from course_lib.grading.runner import ZygotePool
from exercise_variants import DEPENDS, VARIANTS
from grading_helpers import REPO, load_nb, with_replaced, write, linux_only

pytestmark = linux_only

ASSIGNMENTS = paths.assignments()
CASES = [(a, e, v) for a, exs in VARIANTS.items() for e, vs in exs.items() for v in vs]


@pytest.fixture(scope="module")
def zygotes():
    """One pool for the whole module, as one grading batch has: each configuration's zygote (numpy, torch,
    course_lib imported once) serves every notebook graded here; each exercise still runs in a fresh child."""
    with ZygotePool() as pool:
        yield pool


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_stub_zero(assignment, zygotes):
    a = load_assignment(assignment)
    sol = grade_notebook(REPO / "solutions" / f"{assignment}.ipynb", a, zygotes=zygotes)
    assert sol.status == "ok" and sol.total == a.max_points, [r for r in sol.results if r["earned"] == 0]
    stub = grade_notebook(REPO / "exercises" / f"{assignment}.ipynb", a, zygotes=zygotes)
    assert stub.status == "ok" and stub.total == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_public_hidden_tests_and_three_variants(assignment):
    a = load_assignment(assignment)
    for ex in a.exercises:
        assert {t.hidden for t in a.tests if t.exercise == ex} == {True, False}, f"{ex}: public and hidden tests"
        assert len(VARIANTS.get(assignment, {}).get(ex, {})) >= 3, f"{assignment}/{ex} needs >= 3 known-wrong variants"


@pytest.mark.parametrize("assignment, exercise, variant", CASES)
def test_known_wrong_variant_scores_below_full(tmp_path, assignment, exercise, variant, zygotes):
    a = load_assignment(assignment)
    nb = with_replaced(load_nb(assignment), exercise, VARIANTS[assignment][exercise][variant])
    res = grade_notebook(write(nb, tmp_path / "s.ipynb"), a, zygotes=zygotes)
    assert res.scores[exercise] < a.exercises[exercise], f"{variant} earned full marks"
    dependents = DEPENDS.get(assignment, {}).get(exercise, [])
    for other, score in res.scores.items():
        if other != exercise and other not in dependents:
            assert score == a.exercises[other], f"{variant}: honest {other} lost points"
    failed = [r["message"] for r in res.results if r["exercise"] == exercise and r["earned"] == 0]
    assert failed and all(m and m != "passed" for m in failed)


def _namespace(nb: dict) -> dict:
    """What a student's kernel holds after running the notebook's definitions (imports, defs, classes,
    constants), as the grader extracts them; nothing else of the notebook runs."""
    defs = extract_definitions(read_notebook_cells(json.dumps(nb).encode()))
    ns: dict = {"__name__": "__student__"}
    for s in defs.statements:
        exec(compile(s.source, f"<{s.origin}>", "exec"), ns)  # noqa: S102 (our own solution + known variants)
    return ns


def _public_check(assignment: str, exercise: str, source: str | None = None) -> dict:
    """check(exercise) as a student runs it (only the public tests, in this process), on the solution
    notebook's definitions with ``source`` (a known-wrong variant) replacing the solution's."""
    nb = load_nb(assignment)
    if source is not None:
        nb = with_replaced(nb, exercise, source)
    return check(exercise, namespace=_namespace(nb), quiet=True, return_result=True)


@pytest.mark.parametrize("assignment, exercise, variant", CASES)
def test_known_wrong_variant_fails_a_public_check(assignment, exercise, variant):
    """A student who makes this mistake is told so by check(), before the grade: every known-wrong
    variant fails at least one PUBLIC test, with a message."""
    res = _public_check(assignment, exercise, VARIANTS[assignment][exercise][variant])
    assert res["implemented"], f"{variant} was taken for the stub"
    assert not res["passed"], f"{assignment}/{exercise}: the wrong answer {variant!r} passes every public check"
    assert any(m and m != "passed" for m in res["messages"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_passes_its_public_checks(assignment):
    for ex in load_assignment(assignment).exercises:
        res = _public_check(assignment, ex)
        assert res["passed"], f"{assignment}/{ex}: the solution fails a public check: {res['messages']}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_test_function_is_shadowed(assignment):
    """Two tests with the same function name in one file: the second silently replaces the first."""
    for path in (paths.PUBLIC_TESTS / f"{assignment}.py", REPO / "solutions" / "hidden_tests" / f"{assignment}.py"):
        names = [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]
        assert len(names) == len(set(names)), f"{path.name}: {sorted({n for n in names if names.count(n) > 1})}"
