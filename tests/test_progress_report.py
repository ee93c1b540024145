"""The student's progress table and the instructor's report on a graded batch."""
import json
import shutil

import pytest

from course_lib.grading.cli import main as course_grade
from course_lib.grading.grader import grade_batch
from course_lib.grading.progress import collect, table
from exercise_variants import VARIANTS
from grading_helpers import REPO, linux_only, load_nb, with_replaced, write

pytestmark = linux_only
STUB = "def cross_entropy(logits, targets):\n    raise NotImplementedError('not yet')\n"


def test_progress_on_solved_half_solved_stub_and_broken_notebooks(tmp_path, capsys):
    half = tmp_path / "half"
    half.mkdir()
    write(with_replaced(load_nb("00_welcome"), "cross_entropy", STUB), half / "00_welcome.ipynb")
    shutil.copy(REPO / "exercises" / "03_rnn.ipynb", half / "03_rnn.ipynb")
    (half / "02_word2vec.ipynb").write_text(json.dumps(load_nb("02_word2vec"))[:-300])  # cut short
    (half / "notes.ipynb").write_text("{}")  # not an exercise notebook: ignored
    rows = {(r.notebook, r.exercise): r for r in collect(half)}
    assert rows[("00_welcome", "softmax")].done
    ce = rows[("00_welcome", "cross_entropy")]
    assert not ce.done and ce.passed == 0 and ce.tests >= 2 and "not implemented" in ce.note
    assert all(r.passed == 0 for (nb, _), r in rows.items() if nb == "03_rnn")
    assert all("unreadable notebook" in r.note for (nb, _), r in rows.items() if nb == "02_word2vec")
    assert {nb for nb, _ in rows} == {"00_welcome", "02_word2vec", "03_rnn"}
    text = table(list(rows.values()))
    assert "softmax" in text and "done" in text and "1 of" in text

    solved = tmp_path / "solved"
    solved.mkdir()
    shutil.copy(REPO / "solutions" / "00_welcome.ipynb", solved / "00_welcome.ipynb")
    assert course_grade(["progress", str(solved)]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 exercises pass all their public tests" in out


def test_report_on_a_batch_of_known_wrong_variants(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(REPO / "solutions" / "00_welcome.ipynb", subs / "ann.ipynb")
    shutil.copy(REPO / "exercises" / "00_welcome.ipynb", subs / "stub.ipynb")
    for ex, variants in VARIANTS["00_welcome"].items():
        for name, src in variants.items():
            write(with_replaced(load_nb("00_welcome"), ex, src), subs / f"{ex}_{name}.ipynb")
    (subs / "broken.ipynb").write_text("{not json")
    grade_batch("00_welcome", sorted(subs.iterdir()), tmp_path / "out", jobs=2)
    assert course_grade(["report", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## `softmax`" in report and "## `cross_entropy`" in report
    assert "Tests failed most often" in report and "(hidden)" in report and "(public)" in report
    assert "`broken`: unreadable notebook" in report
    n = 2 + sum(len(v) for v in VARIANTS["00_welcome"].values()) + 1
    assert f"{n} submissions" in report
    assert (tmp_path / "out" / "report_scores.png").stat().st_size > 1000
    assert course_grade(["report", str(tmp_path / "nothing")]) == 2
    assert "run `course-grade grade" in capsys.readouterr().err
