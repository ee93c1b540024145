"""For every assignment: the solution earns full marks, the generated stub earns 0, and every
known-wrong variant (tests/exercise_variants.py) earns less than full on its exercise while the
other exercises keep their points."""
import pytest

from course_lib.grading import paths
from course_lib.grading.grader import grade_notebook, load_assignment
from exercise_variants import DEPENDS, VARIANTS
from grading_helpers import REPO, load_nb, with_replaced, write, linux_only

pytestmark = linux_only

ASSIGNMENTS = paths.assignments()
CASES = [(a, e, v) for a, exs in VARIANTS.items() for e, vs in exs.items() for v in vs]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_stub_zero(assignment):
    a = load_assignment(assignment)
    sol = grade_notebook(REPO / "solutions" / f"{assignment}.ipynb", a)
    assert sol.status == "ok" and sol.total == a.max_points, [r for r in sol.results if r["earned"] == 0]
    stub = grade_notebook(REPO / "exercises" / f"{assignment}.ipynb", a)
    assert stub.status == "ok" and stub.total == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_public_hidden_tests_and_three_variants(assignment):
    a = load_assignment(assignment)
    for ex in a.exercises:
        assert {t.hidden for t in a.tests if t.exercise == ex} == {True, False}, f"{ex}: public and hidden tests"
        assert len(VARIANTS.get(assignment, {}).get(ex, {})) >= 3, f"{assignment}/{ex} needs >= 3 known-wrong variants"


@pytest.mark.parametrize("assignment, exercise, variant", CASES)
def test_known_wrong_variant_scores_below_full(tmp_path, assignment, exercise, variant):
    a = load_assignment(assignment)
    nb = with_replaced(load_nb(assignment), exercise, VARIANTS[assignment][exercise][variant])
    res = grade_notebook(write(nb, tmp_path / "s.ipynb"), a)
    assert res.scores[exercise] < a.exercises[exercise], f"{variant} earned full marks"
    dependents = DEPENDS.get(assignment, {}).get(exercise, [])
    for other, score in res.scores.items():
        if other != exercise and other not in dependents:
            assert score == a.exercises[other], f"{variant}: honest {other} lost points"
    failed = [r["message"] for r in res.results if r["exercise"] == exercise and r["earned"] == 0]
    assert failed and all(m and m != "passed" for m in failed)
