"""The grader on the demo assignment 00_welcome: solution = full marks, generated stub = 0,
every known-wrong variant below full, and the same tests behind the students' check()."""
import csv
import shutil

import pytest

from course_lib.grading.grader import grade_batch, grade_notebook, load_assignment
from exercise_variants import VARIANTS
from grading_helpers import REPO, load_nb, with_replaced, write, linux_only

pytestmark = linux_only

A = "00_welcome"

@pytest.fixture(scope="module")
def assignment():
    return load_assignment(A)


def test_batch_csv_feedback_cache_and_determinism(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(REPO / "solutions" / f"{A}.ipynb", subs / "alice.ipynb")
    shutil.copy(REPO / "exercises" / f"{A}.ipynb", subs / "bob.ipynb")
    write(with_replaced(load_nb(A), "softmax", VARIANTS[A]["softmax"]["wrong_axis"]), subs / "carol.ipynb")
    out = tmp_path / "out"
    first = grade_batch(A, sorted(subs.iterdir()), out, jobs=2)
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol"]
    assert list(rows[0]) == ["student", "softmax", "cross_entropy", "total", "max", "status"]
    maxes = load_assignment(A).exercises
    assert rows[0]["total"] == rows[0]["max"] == f"{sum(maxes.values()):g}" and rows[1]["total"] == "0"
    assert float(rows[2]["softmax"]) < maxes["softmax"] and rows[2]["cross_entropy"] == f"{maxes['cross_entropy']:g}"
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


MODULE_SRC = """import torch

class Affine(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.W = torch.nn.Parameter(torch.zeros(d, d, dtype=torch.float64))
        self.b = torch.nn.Parameter(torch.zeros(d, dtype=torch.float64))

    def forward(self, x):
        return torch.tanh(x @ self.W.T + self.b)
"""


def test_module_tests_run_the_same_in_the_sandbox_and_in_check():
    """set_params and backward (used by module exercises such as RNN cells) give the same plain
    answers through the child process and through check()'s local path, input gradients included."""
    import numpy as np

    from course_lib.grading import TensorArg
    from course_lib.grading.extract import extract_definitions
    from course_lib.grading.runner import LocalStudent, RemoteStudent
    from course_lib.grading.spec import StudentError

    rng = np.random.default_rng(0)
    W, b, x, g = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    namespace = {}
    exec(MODULE_SRC, namespace)
    remote = RemoteStudent(extract_definitions([MODULE_SRC]).closure(["Affine"]), preload=("numpy", "torch"))
    try:
        answers = []
        for student in (remote, LocalStudent(namespace)):
            obj = student.new("Affine", 3)
            assert obj.param_shapes() == {"W": [3, 3], "b": [3]}
            obj.set_params({"W": W, "b": b})
            answers.append(obj.backward(TensorArg(x, requires_grad=True), grad_output=g))
            with pytest.raises(StudentError, match="no parameter"):
                obj.set_params({"V": W})
    finally:
        remote.cleanup()
    for got in answers:
        out = np.tanh(x @ W.T + b)
        np.testing.assert_allclose(got["output"], out, atol=1e-12)
        dz = g * (1 - out ** 2)
        np.testing.assert_allclose(got["param_grads"]["W"], dz.T @ x, atol=1e-12)
        np.testing.assert_allclose(got["input_grads"][0], dz @ W, atol=1e-12)


def test_batch_results_do_not_depend_on_the_workers(tmp_path):
    """Identical submissions get identical results, messages included, in a batch with two workers:
    the test modules draw their random cases from a module-level seeded generator, and every
    submission gets freshly loaded tests, so no worker takes cases meant for another."""
    a = "01_ngrams"
    subs = tmp_path / "subs"
    subs.mkdir()
    wrong = with_replaced(load_nb(a), "WindowLM", VARIANTS[a]["WindowLM"]["no_tanh"])
    files = [write(wrong, subs / f"student{i}.ipynb") for i in range(4)]
    results = grade_batch(a, files, tmp_path / "out", jobs=2)
    first = results[0].results
    assert any(not r["earned"] and any(ch.isdigit() for ch in r["message"]) for r in first)  # numbers in messages
    assert all(r.results == first for r in results[1:])
