"""The grader on the demo assignment 00_welcome: solution = full marks, generated stub = 0,
every known-wrong variant below full, and the same tests behind the students' check()."""
import csv
import shutil

import pytest

from course_lib.grading.grader import grade_batch, grade_notebook, load_assignment
from grading_helpers import REPO, load_nb, with_replaced, write

A = "00_welcome"

VARIANTS = {
    "softmax": {
        "no_max_shift": "def softmax(z):\n    import numpy as np\n    e = np.exp(np.asarray(z, float))\n"
                        "    return e / e.sum(axis=-1, keepdims=True)\n",
        "wrong_axis": "def softmax(z):\n    import numpy as np\n    z = np.asarray(z, float)\n"
                      "    e = np.exp(z - z.max(axis=0, keepdims=True))\n    return e / e.sum(axis=0, keepdims=True)\n",
        "no_exp": "def softmax(z):\n    import numpy as np\n    z = np.asarray(z, float)\n"
                  "    return z / z.sum(axis=-1, keepdims=True)\n",
        "global_normalisation": "def softmax(z):\n    import numpy as np\n    z = np.asarray(z, float)\n"
                                "    e = np.exp(z - z.max())\n    return e / e.sum()\n",
    },
    "cross_entropy": {
        "sum_not_mean": "def cross_entropy(logits, targets):\n    import numpy as np\n    s = logits - logits.max(-1, keepdims=True)\n"
                        "    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))\n"
                        "    return -lp[np.arange(len(targets)), targets].sum()\n",
        "log2": "def cross_entropy(logits, targets):\n    import numpy as np\n    s = logits - logits.max(-1, keepdims=True)\n"
                "    p = np.exp(s) / np.exp(s).sum(-1, keepdims=True)\n"
                "    return -np.log2(p[np.arange(len(targets)), targets]).mean()\n",
        "off_by_one_target": "def cross_entropy(logits, targets):\n    import numpy as np\n    s = logits - logits.max(-1, keepdims=True)\n"
                             "    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))\n"
                             "    return -lp[np.arange(len(targets)), (targets + 1) % logits.shape[1]].mean()\n",
        "log_of_softmax_unstable": "def cross_entropy(logits, targets):\n    import numpy as np\n    e = np.exp(logits)\n"
                                   "    p = e / e.sum(-1, keepdims=True)\n"
                                   "    return -np.log(p[np.arange(len(targets)), targets]).mean()\n",
    },
}


@pytest.fixture(scope="module")
def assignment():
    return load_assignment(A)


def test_assignment_has_public_and_hidden_tests(assignment):
    assert set(assignment.exercises) == {"softmax", "cross_entropy"}
    for ex in assignment.exercises:
        kinds = {t.hidden for t in assignment.tests if t.exercise == ex}
        assert kinds == {True, False}, f"{ex} needs public and hidden tests"


def test_solution_full_marks_stub_zero(assignment):
    sol = grade_notebook(REPO / "solutions" / f"{A}.ipynb", assignment)
    assert sol.status == "ok" and sol.total == assignment.max_points, sol.results
    stub = grade_notebook(REPO / "exercises" / f"{A}.ipynb", assignment)
    assert stub.status == "ok" and stub.total == 0
    assert all(r["message"] == "not implemented yet" for r in stub.results)


@pytest.mark.parametrize("exercise, variant", [(e, v) for e, vs in VARIANTS.items() for v in vs])
def test_known_wrong_variant_scores_below_full(assignment, tmp_path, exercise, variant):
    nb = with_replaced(load_nb(A), exercise, VARIANTS[exercise][variant])
    res = grade_notebook(write(nb, tmp_path / "s.ipynb"), assignment)
    full = assignment.exercises[exercise]
    assert res.scores[exercise] < full, f"{variant} earned full marks"
    others = {e: s for e, s in res.scores.items() if e != exercise}
    assert all(s == assignment.exercises[e] for e, s in others.items()), "honest work elsewhere lost points"
    failed = [r["message"] for r in res.results if r["exercise"] == exercise and r["earned"] == 0]
    assert failed and all(m and m != "passed" for m in failed)


def test_each_exercise_has_three_wrong_variants():
    assert all(len(v) >= 3 for v in VARIANTS.values())


def test_batch_csv_feedback_cache_and_determinism(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(REPO / "solutions" / f"{A}.ipynb", subs / "alice.ipynb")
    shutil.copy(REPO / "exercises" / f"{A}.ipynb", subs / "bob.ipynb")
    write(with_replaced(load_nb(A), "softmax", VARIANTS["softmax"]["wrong_axis"]), subs / "carol.ipynb")
    out = tmp_path / "out"
    first = grade_batch(A, sorted(subs.iterdir()), out, jobs=2)
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol"]
    assert list(rows[0]) == ["student", "softmax", "cross_entropy", "total", "max", "status"]
    assert rows[0]["total"] == rows[0]["max"] == "10" and rows[1]["total"] == "0"
    assert float(rows[2]["softmax"]) < 5 and rows[2]["cross_entropy"] == "5"
    assert "normalise over the last axis" in (out / "feedback" / "carol.md").read_text()
    # unchanged submissions come from the cache, with identical grades
    (out / "feedback" / "alice.md").unlink()
    again = grade_batch(A, sorted(subs.iterdir()), out, jobs=1)
    assert [(r.student, r.total, r.results) for r in first] == [(r.student, r.total, r.results) for r in again]
    assert (out / "feedback" / "alice.md").is_file()


def test_check_in_notebook_uses_public_tests(capsys):
    from course_lib.grading import check
    import numpy as np

    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    result = check(softmax, return_result=True)
    out = capsys.readouterr().out
    assert result["passed"] and "hidden tests decide the grade" in out

    def softmax(z):  # noqa: F811 (the stub)
        raise NotImplementedError("write it")

    result = check("softmax", {"softmax": softmax}, return_result=True)
    assert not result["implemented"] and "not implemented yet" in capsys.readouterr().out

    def softmax(z):  # noqa: F811 (wrong axis)
        e = np.exp(z)
        return e / e.sum(axis=0, keepdims=True)

    result = check(softmax, return_result=True)
    out = capsys.readouterr().out
    assert not result["passed"] and "FAIL" in out and "last axis" in out


def test_check_does_not_let_student_mutate_test_inputs():
    from course_lib.grading import check
    import numpy as np

    def softmax(z):   # correct, but works in place on its argument
        z -= z.max(axis=-1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=-1, keepdims=True)
        return z

    assert check(softmax, quiet=True, return_result=True)["passed"]
