"""``course-grade``: what an instructor runs.

    course-grade list                                   # assignments, exercises, points
    course-grade grade 01_ngrams subs/*.ipynb --out grades/01 --jobs 2   # students' code runs in bubblewrap
    course-grade report grades/01                       # class summary: report.md + histograms
    course-grade release ../course-student              # a copy without solutions/hidden tests
    course-grade progress exercises/                    # students: what is left (public checks)
    course-grade generate [NAME] [--check]              # exercises/ from solutions/
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import paths


def _cmd_list(args) -> int:
    from .grader import load_assignment
    names = paths.assignments()
    if not names:
        print("no assignments yet")
    for name in names:
        try:
            a = load_assignment(name, hidden=paths.hidden_tests_dir().is_dir())
        except FileNotFoundError:
            a = load_assignment(name, hidden=False)
        parts = ", ".join(f"{ex} ({pts:g} pt)" for ex, pts in a.exercises.items())
        hidden = sum(t.hidden for t in a.tests)
        print(f"{name}: {a.max_points:g} points, {len(a.tests)} tests ({hidden} hidden): {parts}")
    return 0


def _cmd_grade(args) -> int:
    from .grader import GraderTampered, IsolationUnavailable, grade_batch
    files = []
    for s in args.submissions:
        p = Path(s)
        files.extend(sorted(p.glob("*")) if p.is_dir() else [p])
    if not files:
        print("no submissions given", file=sys.stderr)
        return 2
    start = time.perf_counter()
    done = []

    def progress(res):
        done.append(res)
        print(f"[{len(done)}/{len(files)}] {res.student}: {res.total:g}/{res.max:g} {res.status}", flush=True)

    try:
        results = grade_batch(args.assignment, files, args.out, jobs=args.jobs, timeout=args.timeout,
                              progress=None if args.quiet else progress, isolated=not args.no_isolation)
    except (IsolationUnavailable, GraderTampered) as exc:
        print(f"course-grade: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, IsolationUnavailable) else 3
    secs = time.perf_counter() - start
    ok = sum(r.status == "ok" for r in results)
    print(f"graded {len(results)} submissions ({ok} ok, {len(results) - ok} with a reason) in {secs:.1f} s "
          f"-> {Path(args.out) / 'grades.csv'}")
    return 0


def _cmd_release(args) -> int:
    from .release import release
    try:
        dest = release(args.outdir, force=args.force)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"student copy written to {dest} from the last commit (its own README, plain notebooks; no solutions/, "
          "hidden tests, grading tests, or anything uncommitted or untracked: submissions, grades, edits)")
    return 0


def _cmd_progress(args) -> int:
    from .progress import progress
    progress(args.folder, timeout=args.timeout)
    return 0


def _cmd_report(args) -> int:
    from .report import build
    try:
        out = build(args.grades_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"course-grade: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {out} (and {out.parent / 'report_scores.png'})")
    return 0


def _cmd_generate(args) -> int:
    from .generate import generate
    stale = generate(args.name, check_only=args.check)
    if args.check:
        if stale:
            print("exercises out of date: " + ", ".join(stale) + "; run `course-grade generate`")
            return 1
        print("exercises are up to date")
    else:
        print("generated: " + (", ".join(stale) if stale else "nothing changed"))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="course-grade", description="Grading for the RNN course.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="assignments with their exercises and points").set_defaults(func=_cmd_list)
    g = sub.add_parser("grade", help="grade submitted notebooks (file stem = student id)")
    g.add_argument("assignment", help="exercise notebook name without extension, e.g. 00_welcome")
    g.add_argument("submissions", nargs="+", help=".ipynb files (or folders of them)")
    g.add_argument("--out", required=True, help="output folder: grades.csv and feedback/")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    g.add_argument("--timeout", type=float, default=10.0, help="seconds per call of a student's function")
    g.add_argument("--quiet", action="store_true")
    g.add_argument("--no-isolation", action="store_true",
                   help="grade even where the kernel cannot isolate students' code (not Linux, no bubblewrap); "
                        "every row's status then says so. Only for submissions you trust")
    g.set_defaults(func=_cmd_grade)
    r = sub.add_parser("release", help="write a student copy: everything but solutions/ and hidden tests")
    r.add_argument("outdir")
    r.add_argument("--force", action="store_true",
                   help="release the last commit even though tracked course files have uncommitted changes "
                        "(the changes stay out of the copy)")
    r.set_defaults(func=_cmd_release)
    p = sub.add_parser("progress", help="students: the public checks of every exercise notebook, as one table")
    p.add_argument("folder", nargs="?", default=None, help="folder of exercise notebooks (default: exercises/)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per call of your function")
    p.set_defaults(func=_cmd_progress)
    rep = sub.add_parser("report", help="instructors: summary of a graded batch (report.md + a histogram figure)")
    rep.add_argument("grades_dir", help="the --out folder of `course-grade grade`")
    rep.set_defaults(func=_cmd_report)
    gen = sub.add_parser("generate", help="regenerate exercises/ from solutions/")
    gen.add_argument("name", nargs="?")
    gen.add_argument("--check", action="store_true", help="only report out-of-date exercises")
    gen.set_defaults(func=_cmd_generate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
