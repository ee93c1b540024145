"""``course-grade``: what an instructor runs.

    course-grade list                                   # assignments, exercises, points
    course-grade grade 01_ngrams subs/*.ipynb --out grades/01 --jobs 2   # students' code runs in bubblewrap
    course-grade grade 01_ngrams subs/ken.ipynb --out grades/01        # regrade one student: the rest stay
    course-grade report grades/01                       # class summary: report.md + histograms
    course-grade export grades/01 --format canvas -o canvas.csv [--deadline ... --late-penalty 10]
    course-grade pack grades/01                         # feedback.zip: <student>/feedback.md, to hand back
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
    unique, seen = [], {}
    for f in files:                      # the same file named twice (a folder and a glob) is graded once
        key = f.resolve() if f.exists() else f
        if key in seen:
            print(f"course-grade: {f} was given twice; graded once", file=sys.stderr)
            continue
        seen[key] = f
        unique.append(f)
    files = unique
    stems: dict[str, list[Path]] = {}
    for f in files:
        stems.setdefault(f.stem, []).append(f)
    for stem, same in stems.items():
        if len(same) > 1:                # two files for one student: both graded, as stem, stem~2, ... and said
            print(f"course-grade: {len(same)} files for student {stem!r} ({', '.join(map(str, same))}): graded as "
                  f"{stem!r}, {stem + '~2'!r}, ...; hand in one file per student", file=sys.stderr)
    start = time.perf_counter()
    done = []

    def progress(res):
        done.append(res)
        print(f"[{len(done)}/{len(files)}] {res.student}: {res.total:g}/{res.max:g} {res.status}", flush=True)

    try:
        results = grade_batch(args.assignment, files, args.out, jobs=args.jobs, timeout=args.timeout,
                              progress=None if args.quiet else progress, isolated=not args.no_isolation,
                              replace=args.replace)
    except (IsolationUnavailable, GraderTampered) as exc:
        print(f"course-grade: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, IsolationUnavailable) else 3
    secs = time.perf_counter() - start
    ok = sum(r.status == "ok" for r in results)
    from .gradebook import load
    book = load(Path(args.out))
    print(f"graded {len(results)} submissions ({ok} ok, {len(results) - ok} with a reason) in {secs:.1f} s "
          f"-> {Path(args.out) / 'grades.csv'} (the gradebook holds {len(book)} students)")
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


def _cmd_export(args) -> int:
    from .export import LatePolicy, _time, export
    from .gradebook import interrupted
    if interrupted(Path(args.grades_dir)):
        print(f"course-grade export: warning: {interrupted(Path(args.grades_dir))}", file=sys.stderr)
    try:
        late = None
        if args.deadline:
            late = LatePolicy(_time(args.deadline), args.late_penalty, args.late_max_days)
        text = export(args.grades_dir, args.format, roster=args.roster, late=late, submitted_csv=args.submitted)
    except (ValueError, OSError, KeyError) as exc:
        print(f"course-grade export: {exc}", file=sys.stderr)
        return 2
    if args.o:
        Path(args.o).write_text(text, encoding="utf-8")
        print(f"wrote {args.o} ({args.format}, {text.count(chr(10)) - 1 - (args.format == 'canvas')} students)")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_pack(args) -> int:
    from .export import pack
    try:
        out = pack(args.grades_dir, args.o)
    except (ValueError, OSError) as exc:
        print(f"course-grade pack: {exc}", file=sys.stderr)
        return 2
    print(f"feedback packed into {out} (one folder per student)")
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
    g.add_argument("--replace", action="store_true",
                   help="make the gradebook exactly this batch: drop the rows (and feedback) of students not in it. "
                        "Without it, grading some students updates their rows and keeps everyone else's")
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
    ex = sub.add_parser("export", help="instructors: the gradebook as a Canvas or Moodle import CSV, with a late policy")
    ex.add_argument("grades_dir")
    ex.add_argument("--format", choices=["canvas", "moodle", "csv"], default="csv")
    ex.add_argument("--roster", help="CSV with a 'student' column and any of name, email, sis_id, section, username")
    ex.add_argument("--deadline", help="ISO 8601 time, e.g. 2026-12-01T23:59+01:00 (no zone: UTC)")
    ex.add_argument("--late-penalty", type=float, default=10.0, help="percent of the earned points per started day late")
    ex.add_argument("--late-max-days", type=int, default=5, help="later than this many days: 0 points")
    ex.add_argument("--submitted", help="CSV of student,submitted_at overriding the recorded file times")
    ex.add_argument("-o", help="write to this file (default: standard output)")
    ex.set_defaults(func=_cmd_export)
    pk = sub.add_parser("pack", help="instructors: every student's feedback in one zip, to hand back")
    pk.add_argument("grades_dir")
    pk.add_argument("-o", help="the zip (default: GRADES_DIR/feedback.zip)")
    pk.set_defaults(func=_cmd_pack)
    gen = sub.add_parser("generate", help="regenerate exercises/ from solutions/")
    gen.add_argument("name", nargs="?")
    gen.add_argument("--check", action="store_true", help="only report out-of-date exercises")
    gen.set_defaults(func=_cmd_generate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
