"""A scripted class, end to end, as an instructor runs it: release -> grade -> regrade one student ->
report -> export (Canvas, Moodle, with a late policy) -> feedback pack -> a batch that replaces the class.
Every step's output is what an instructor expects: no lost row, no leaked file, no stale feedback."""
import csv
import io
import json
import os
import shutil
import zipfile
from datetime import datetime, timezone

import pytest

from course_lib.grading.cli import main as course_grade
from exercise_variants import VARIANTS
from grading_helpers import REPO, linux_only, load_nb, with_replaced, write

DEADLINE = "2026-12-01T23:59:00+00:00"
ON_TIME = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc).timestamp()
LATE = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc).timestamp()          # 1 started day late


def _rows(path):
    return {r["student"]: r for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))}


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    copy = root / "student-copy"
    assert course_grade(["release", str(copy), "--force"]) == 0
    stub = json.loads((copy / "exercises" / "00_welcome.ipynb").read_text(encoding="utf-8"))
    sol = load_nb("00_welcome")
    subs = root / "subs"
    subs.mkdir()
    write(sol, subs / "ann.ipynb")
    write(sol, subs / "bob.ipynb")
    shutil.copy(subs / "ann.ipynb", subs / "gus.ipynb")                        # ann's work handed in again
    write(with_replaced(sol, "cross_entropy", "def cross_entropy(logits, targets):\n    raise NotImplementedError\n"),
          subs / "cat.ipynb")                                                   # partial
    write(with_replaced(sol, "softmax", VARIANTS["00_welcome"]["softmax"]["wrong_axis"]), subs / "dan.ipynb")
    write(with_replaced(sol, "cross_entropy", VARIANTS["00_welcome"]["cross_entropy"]["log2"]), subs / "jon.ipynb")
    (subs / "eve.ipynb").write_text(json.dumps(stub), encoding="utf-8")          # the stub, untouched
    write(with_replaced(sol, "softmax", "def softmax(z):\n    return z +* 1\n"), subs / "fay.ipynb")   # syntax error
    (subs / "hal.ipynb").write_text("these are my answers, sorry, no notebook", encoding="utf-8")  # not a notebook
    write(sol, subs / "ivy.ipynb")
    write(sol, subs / "kim.ipynb")
    write(with_replaced(sol, "softmax", VARIANTS["00_welcome"]["softmax"]["no_exp"]), subs / "lee.ipynb")
    for f in subs.iterdir():
        os.utime(f, (ON_TIME, ON_TIME))
    os.utime(subs / "ivy.ipynb", (LATE, LATE))
    return {"root": root, "copy": copy, "subs": subs, "out": root / "grades" / "00", "sol": sol}


@linux_only
def test_the_class_end_to_end(klass, capsys):
    subs, out, copy = klass["subs"], klass["out"], klass["copy"]
    # nothing of the instructor's in the student copy
    assert not (copy / "solutions").exists() and not list(copy.rglob("*hidden*"))
    files = sorted(subs.iterdir())
    assert len(files) >= 12
    # grade: every file gets a row; the same file given twice is graded once, and said
    assert course_grade(["grade", "00_welcome", *map(str, files), str(subs / "ann.ipynb"), "--out", str(out),
                         "--jobs", "2", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "given twice" in err
    rows = _rows(out / "grades.csv")
    assert set(rows) == {f.stem for f in files}
    full = float(rows["ann"]["max"])
    assert float(rows["ann"]["total"]) == full and float(rows["eve"]["total"]) == 0
    assert 0 < float(rows["cat"]["total"]) < full
    assert float(rows["dan"]["total"]) < full and float(rows["lee"]["total"]) < full
    fay = (out / "feedback" / "fay.md").read_text(encoding="utf-8")
    assert "syntax error at line" in fay and "could not be read" in fay
    assert "hal" in rows and rows["hal"]["status"] != "ok"

    # regrade one student: eve hands in the solution; everyone else's row stays
    write(klass["sol"], subs / "eve.ipynb")
    before = {s: r["total"] for s, r in rows.items() if s != "eve"}
    assert course_grade(["grade", "00_welcome", str(subs / "eve.ipynb"), "--out", str(out), "--quiet"]) == 0
    rows = _rows(out / "grades.csv")
    assert float(rows["eve"]["total"]) == full
    assert {s: r["total"] for s, r in rows.items() if s != "eve"} == before
    assert len(json.loads((out / "results.json").read_text())) == len(files)

    # report: the assignment by name, wrong answers' messages (not stubs), shared code
    assert course_grade(["report", str(out)]) == 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Grading report: 00_welcome")
    assert f"{len(files)} submissions" in report
    shared = report.split("## Submissions that share code")[1].split("##")[0]
    assert "`ann`" in shared and "`gus`" in shared and "identical" in shared
    assert "not implemented yet" not in report.split("## Submissions that share code")[0].split("Tests failed")[-1]

    # export with a late policy: ivy is one started day late, 10 % off
    assert course_grade(["export", str(out), "--format", "csv", "--deadline", DEADLINE, "-o",
                         str(out / "all.csv")]) == 0
    table = _rows(out / "all.csv")
    assert table["ivy"]["late_days"] == "1" and float(table["ivy"]["final"]) == pytest.approx(0.9 * full)
    assert table["ann"]["late_days"] == "0" and float(table["ann"]["final"]) == full
    assert course_grade(["export", str(out), "--format", "canvas", "--deadline", DEADLINE, "-o",
                         str(out / "canvas.csv")]) == 0
    canvas = (out / "canvas.csv").read_text(encoding="utf-8").splitlines()
    assert canvas[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section,00_welcome (")
    assert canvas[1].startswith("Points Possible") and len(canvas) == 2 + len(files)
    assert course_grade(["export", str(out), "--format", "moodle", "-o", str(out / "moodle.csv")]) == 0
    moodle = list(csv.reader(io.StringIO((out / "moodle.csv").read_text(encoding="utf-8"))))
    assert moodle[0][:3] == ["Username", "Email address", "00_welcome"] and len(moodle) == 1 + len(files)

    # feedback handed back: one folder per student
    assert course_grade(["pack", str(out)]) == 0
    with zipfile.ZipFile(out / "feedback.zip") as z:
        assert sorted(n.split("/")[0] for n in z.namelist()) == sorted(f.stem for f in files)

    # a batch that replaces the class: the others' rows and feedback go, nothing stale is left
    assert course_grade(["grade", "00_welcome", str(subs / "ann.ipynb"), str(subs / "bob.ipynb"), "--out", str(out),
                         "--replace", "--quiet"]) == 0
    assert set(_rows(out / "grades.csv")) == {"ann", "bob"}
    assert sorted(p.stem for p in (out / "feedback").glob("*.md")) == ["ann", "bob"]


def test_a_gradebook_holds_one_assignment(tmp_path):
    from course_lib.grading.gradebook import GradebookMismatch, merge
    (tmp_path / "results.json").write_text(json.dumps([{"student": "a", "assignment": "01_ngrams", "total": 1}]))
    with pytest.raises(GradebookMismatch, match="01_ngrams"):
        merge(tmp_path, "00_welcome", [{"student": "b", "total": 2}])


def test_exports_never_carry_a_spreadsheet_formula(tmp_path):
    from course_lib.grading.export import export
    rows = [{"student": "=1+2", "assignment": "00_welcome", "total": 3.0, "max": 5.0, "status": "@SUM(A1)",
             "scores": {"softmax": 3.0}, "submitted_at": None}]
    (tmp_path / "results.json").write_text(json.dumps(rows))
    for fmt in ("csv", "canvas", "moodle"):
        text = export(tmp_path, fmt)
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert not any(c.startswith(("=", "@", "+")) for c in cells), (fmt, cells)
