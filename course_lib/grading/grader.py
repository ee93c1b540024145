"""Grading: tests of an assignment, one submission at a time or a whole class in parallel."""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import gradebook, isolation, paths
from .extract import Definitions, NotebookError, extract_definitions, read_notebook_cells
from .runner import RemoteStudent, ZygotePool
from .spec import Fail, NotImplementedYet, SandboxError, StudentError, Test, forbidden_names, load_tests

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_MESSAGE_CHARS = 1000           # a test's message as stored (results.json); feedback shows less
SUBMISSION_BUDGET = 120.0          # wall-clock seconds of students' code per submission, all exercises together
PRELOADABLE = ("numpy", "torch", "course_lib", "math", "random", "collections", "itertools", "functools", "re")


@dataclass
class Assignment:
    name: str
    tests: list[Test]

    @property
    def exercises(self) -> dict[str, float]:
        """Exercise name -> maximum points, in the order the tests introduce them."""
        out: dict[str, float] = {}
        for t in self.tests:
            out[t.exercise] = out.get(t.exercise, 0.0) + t.points
        return out

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.tests)


def load_assignment(name: str, hidden: bool = True) -> Assignment:
    """Public tests, plus hidden ones when ``hidden`` (they exist only in the instructor's copy)."""
    if not isinstance(name, str) or "/" in name or name.endswith(".ipynb"):
        raise ValueError(f"an assignment is a notebook name without extension, e.g. 00_welcome; got {name!r}")
    public = paths.PUBLIC_TESTS / f"{name}.py"
    if not public.is_file():
        raise ValueError(f"no assignment {name!r}; known: {', '.join(paths.assignments()) or '(none)'}")
    tests = load_tests(public, hidden=False)
    if hidden:
        hidden_file = paths.hidden_tests_dir() / f"{name}.py"
        if not hidden_file.is_file():
            raise FileNotFoundError(f"hidden tests {hidden_file} not found: grading needs the instructor's copy "
                                    "of the course (a student copy made by `course-grade release` has none)")
        tests += load_tests(hidden_file, hidden=True)
    return Assignment(name, tests)


@dataclass
class TestResult:
    exercise: str
    name: str
    points: float
    earned: float
    hidden: bool
    message: str
    kind: str = ""     # passed, wrong, not-implemented, error, stopped, unchecked, skipped: what the feedback may say


@dataclass
class SubmissionResult:
    student: str
    file: str
    sha256: str
    status: str = "ok"
    scores: dict = field(default_factory=dict)     # exercise -> earned points
    total: float = 0.0
    max: float = 0.0
    results: list = field(default_factory=list)    # TestResult as dicts
    warnings: list = field(default_factory=list)
    output: str = ""
    feedback: str = ""                             # the feedback file's name (in feedback/)


def run_test(test: Test, student) -> TestResult:
    """Run one test against a student handle (remote or local); never raises."""
    try:
        test.func(student)
        return TestResult(test.exercise, test.name, test.points, test.points, test.hidden, "passed", "passed")
    except Fail as exc:
        msg, kind = str(exc) or "wrong answer", "wrong"
    except NotImplementedYet:
        msg, kind = "not implemented yet", "not-implemented"
    except StudentError as exc:
        msg, kind = str(exc), "error"
    except SandboxError as exc:
        msg, kind = str(exc), "stopped"
    except Exception as exc:  # noqa: BLE001 (a check that could not interpret the answer)
        msg, kind = f"the answer could not be checked ({type(exc).__name__}: {exc})", "unchecked"
    return TestResult(test.exercise, test.name, test.points, 0.0, test.hidden, msg[:MAX_MESSAGE_CHARS], kind)


def _grade_exercise(defs: Definitions, exercise: str, tests: list[Test], *, timeout: float, deny: list[str],
                    warnings: list[str], outputs: list[str], isolated: bool, zygotes: ZygotePool,
                    deadline: float | None = None, forbidden: tuple = ()) -> list[TestResult]:
    if exercise not in defs.defined():
        why = f"`{exercise}` was not found in the notebook (a def or class with that exact name)"
        for cell, line, msg, src in getattr(defs, "broken", []):
            if re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(exercise)}\b", src, flags=re.M):
                why = (f"`{exercise}` could not be read: its cell ({cell}) has a syntax error at line {line} ({msg}). "
                       "Fix it and run the cell: Python reads none of a cell that does not parse")
                break
        return [TestResult(t.exercise, t.name, t.points, 0.0, t.hidden, why, "missing") for t in tests]
    statements = defs.closure([exercise])
    preload = [m for m in PRELOADABLE if m in defs.imported_modules(statements)] or ["numpy"]
    if forbidden and "course_lib" in preload:
        warnings.append(f"{exercise}: course_lib's own " + ", ".join(n.replace(":", ".") for n in forbidden)
                        + " cannot be used for this exercise (the grader replaced it while grading it): "
                          "write your own")
    results, student, timeouts = [], None, 0
    try:
        for t in tests:
            if deadline is not None and time.monotonic() >= deadline:
                results.append(TestResult(t.exercise, t.name, t.points, 0.0, t.hidden,
                                          "skipped: this submission used its time budget (for all its exercises)",
                                          "skipped"))
                continue
            if student is None or student.dead:
                if student is not None:
                    student.close()  # the child flushes what it printed as it ends
                    outputs.append(student.output())
                    student.cleanup()
                    student = None
                if timeouts >= 2:
                    results.append(TestResult(t.exercise, t.name, t.points, 0.0, t.hidden,
                                              "skipped: earlier tests of this exercise timed out twice", "skipped"))
                    continue
                try:
                    student = RemoteStudent(statements, preload=preload, deny_roots=deny, timeout=timeout,
                                            isolated=isolated, zygotes=zygotes, deadline=deadline,
                                            forbidden=forbidden)
                    warnings.extend(f"{exercise}: {e}" for e in student.load_errors)
                except (SandboxError, StudentError) as exc:
                    timeouts += "timed out" in str(exc)
                    results.append(TestResult(t.exercise, t.name, t.points, 0.0, t.hidden,
                                              f"your definitions could not be loaded: {exc}"[:MAX_MESSAGE_CHARS],
                                              "error" if isinstance(exc, StudentError) else "stopped"))
                    continue
            result = run_test(t, student)
            timeouts += result.message.startswith("timed out")
            results.append(result)
    finally:
        if student is not None:
            student.close()
            outputs.append(student.output())
            student.cleanup()
    return results


class IsolationUnavailable(RuntimeError):
    """Grading was asked to isolate students' code and this machine cannot: the message says why."""


class GraderTampered(RuntimeError):
    """A file the grader trusts (its own code, the tests) changed while it was grading."""


NOT_ISOLATED = "not isolated (--no-isolation)"


def require_isolation(isolated: bool) -> None:
    """Raise ``IsolationUnavailable`` when ``isolated`` is asked for and the kernel cannot give it."""
    if isolated and (why := isolation.problem()):
        raise IsolationUnavailable(f"cannot isolate students' code on this machine: {why}. Grade on Linux with "
                                   "bubblewrap, or pass --no-isolation to grade anyway (only submissions you "
                                   "trust: their code can then read and change your files)")


def read_submission(path: Path) -> tuple[bytes | None, str]:
    """The bytes of a submitted file, or None and the reason it was not read. Only a regular file is read
    (never what a symbolic link points to, never a FIFO or device, which could block or never end), and
    never more than ``MAX_NOTEBOOK_BYTES`` + 1 bytes of it."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return None, f"could not read the file: {exc.strerror or exc}"
    if stat.S_ISLNK(st.st_mode):
        return None, "refused: a symbolic link, not a file (only regular files are graded)"
    if not stat.S_ISREG(st.st_mode):
        return None, "refused: not a regular file (a folder, FIFO, socket or device is never read)"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, f"could not read the file: {exc.strerror or exc}"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the lstat
            return None, "refused: not a regular file (a folder, FIFO, socket or device is never read)"
        chunks, size = [], 0
        while size <= MAX_NOTEBOOK_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_NOTEBOOK_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), ""
    except OSError as exc:
        return None, f"could not read the file: {exc.strerror or exc}"
    finally:
        os.close(fd)


def grade_notebook(path: str | Path, assignment: Assignment, *, student: str | None = None,
                   timeout: float = 10.0, extra_deny: tuple = (), isolated: bool = True,
                   zygotes: ZygotePool | None = None, raw: bytes | None = None, read_error: str = "",
                   budget: float | None = None) -> SubmissionResult:
    """Grade one submitted notebook. Never raises for anything in the submission.
    ``isolated=False`` (``--no-isolation``) runs students' code without the kernel sandbox and says so
    in the row's status. ``zygotes``: the batch's pool (``runner.ZygotePool``); without one, this
    notebook's exercises share a pool of their own. ``raw``: the file's bytes when the caller has read
    them (``read_submission``). ``budget``: seconds of students' code for the whole submission (default:
    ``SUBMISSION_BUDGET``, or six calls' ``timeout`` per exercise where that is more)."""
    require_isolation(isolated)
    path = Path(path)
    res = SubmissionResult(student=student or path.stem, file=str(path), sha256="", max=assignment.max_points)
    if raw is None and not read_error:
        raw, read_error = read_submission(path)
    with ZygotePool() if zygotes is None else contextlib.nullcontext(zygotes) as pool:
        _grade_into(res, path, raw, read_error, assignment, timeout=timeout, extra_deny=extra_deny,
                    isolated=isolated, zygotes=pool, budget=budget)
    if not isolated:
        res.status = f"{res.status}; {NOT_ISOLATED}"
    return res


def _grade_into(res: SubmissionResult, path: Path, raw: bytes | None, read_error: str, assignment: Assignment, *,
                timeout: float, extra_deny: tuple, isolated: bool, zygotes: ZygotePool,
                budget: float | None = None) -> None:
    res.scores = {ex: 0.0 for ex in assignment.exercises}
    if raw is None:
        res.status = read_error or "could not read the file"
        return
    res.sha256 = hashlib.sha256(raw).hexdigest()
    if path.suffix != ".ipynb":
        res.status = "not a notebook: expected a .ipynb file (nothing in it was opened)"
        return
    if len(raw) > MAX_NOTEBOOK_BYTES:
        res.status = f"notebook larger than {MAX_NOTEBOOK_BYTES >> 20} MiB; clear its outputs and resubmit"
        return
    try:
        defs = extract_definitions(read_notebook_cells(raw))
    except NotebookError as exc:
        res.status = f"unreadable notebook: {exc}"
        return
    res.warnings.extend(defs.warnings)
    deny = [str(paths.solutions_dir()), str(paths.hidden_tests_dir()), str(paths.repo_root() / "tests"),
            str(paths.repo_root() / ".git"), str(path.resolve().parent), *map(str, extra_deny)]
    outputs: list[str] = []
    if budget is None:
        budget = max(SUBMISSION_BUDGET, 6 * timeout * len(assignment.exercises))
    deadline = time.monotonic() + budget
    for exercise in assignment.exercises:
        tests = [t for t in assignment.tests if t.exercise == exercise]
        forbidden = forbidden_names(exercise)
        for r in _grade_exercise(defs, exercise, tests, timeout=timeout, deny=deny, warnings=res.warnings,
                                 outputs=outputs, isolated=isolated, zygotes=zygotes, deadline=deadline,
                                 forbidden=forbidden):
            res.results.append(asdict(r))
            res.scores[exercise] += r.earned
    res.total = sum(res.scores.values())
    res.output = "\n".join(o for o in outputs if o.strip())[-4000:]
    res.warnings = [w[:MAX_MESSAGE_CHARS] for w in res.warnings[:100]]


# ----------------------------------------------------------------------------- a whole class

def grader_fingerprint(assignment: str) -> str:
    """Changes whenever the tests or the grading code change (then cached grades are redone)."""
    h = hashlib.sha256()
    files = [paths.PUBLIC_TESTS / f"{assignment}.py", paths.hidden_tests_dir() / f"{assignment}.py",
             *sorted(Path(__file__).parent.glob("*.py"))]
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def _student_ids(files: list[Path]) -> list[str]:
    """One distinct id per file given (the file's stem), whatever the names: a stem given twice becomes
    ``stem~2``, and never an id that another file has already."""
    stems = [f.stem if f.suffix == ".ipynb" else f.name for f in files]
    taken: set[str] = set()
    ids = []
    for stem in stems:
        candidate, n = stem, 1
        while candidate in taken or (n > 1 and candidate in stems):
            n += 1
            candidate = f"{stem}~{n}"
        taken.add(candidate)
        ids.append(candidate)
    return ids


def output_names(ids: list[str]) -> list[str]:
    """A safe file-name stem per student id (feedback/<name>.md, .cache/<name>.json): ASCII letters, digits,
    ``.``, ``_``, ``-`` and ``~`` only, at most ~100 characters, never hidden; an id that had to change
    (unicode, a long or odd name) gets a short hash of itself, so two ids never share a file, even on a
    file system that ignores case."""
    names, taken = [], set()
    for sid in ids:
        base = re.sub(r"[^A-Za-z0-9._~-]", "_", sid)[:96].lstrip(".-") or "student"
        if base != sid:
            base += "-" + hashlib.sha256(sid.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}~{n}"
        taken.add(name.lower())
        names.append(name)
    return names


def watched_files(assignment: str) -> list[Path]:
    """The files a grading run trusts: all of course_lib (the grader and what the tests import),
    the assignment's public and hidden tests. Hashed before any student code runs, checked after."""
    files = sorted(paths.PACKAGE.rglob("*.py"))
    files += [paths.PUBLIC_TESTS / f"{assignment}.py", paths.hidden_tests_dir() / f"{assignment}.py"]
    return files


class Integrity:
    """sha256 of every watched file, taken once; ``verify`` raises ``GraderTampered`` on a change."""

    def __init__(self, files: list[Path]):
        self.files = list(files)
        self.digests = {f: self._digest(f) for f in self.files}

    @staticmethod
    def _digest(f: Path) -> str:
        try:
            return hashlib.sha256(f.read_bytes()).hexdigest()
        except OSError:
            return "missing"

    def verify(self) -> None:
        changed = [str(f) for f in self.files if self._digest(f) != self.digests[f]]
        if changed:
            raise GraderTampered("ALARM: files the grader trusts changed while it was grading: " + ", ".join(changed)
                                 + ". The batch was stopped; restore them (git checkout -- .), find the "
                                   "submission that did it in the feedback written so far, and grade again.")


def grade_batch(assignment_name: str, submissions: list[str | Path], out_dir: str | Path, *, jobs: int = 1,
                timeout: float = 10.0, progress=None, isolated: bool = True,
                replace: bool = False) -> list[SubmissionResult]:
    """Grade every submission into ``out_dir``: grades.csv, feedback/<student>.md, results.json (every
    test's result, for ``course-grade report``) and a cache so that unchanged submissions are not
    graded again. Every input file gets a row. The rows are merged into the folder's gradebook
    (``gradebook.merge``): other students' rows stay, unless ``replace`` drops those not in this batch.

    Students' code runs isolated by the kernel (``isolation``); without it this refuses
    (``IsolationUnavailable``) unless ``isolated=False``. The grader's own files and the tests are
    hashed before any student code runs and checked after each submission: a change stops the
    batch with ``GraderTampered`` (and ``ALARM.txt`` in ``out_dir``) instead of grading on.
    Each worker keeps one zygote per configuration for the whole batch (``runner.ZygotePool``), so
    the trusted imports (torch: seconds) are paid once per worker, not once per exercise."""
    require_isolation(isolated)
    assignment = load_assignment(assignment_name)
    integrity = Integrity(watched_files(assignment_name))
    out = Path(out_dir)
    isolation.sweep_stale()  # what a killed run left: its cgroups (and their processes), its temporary folders
    (out / ".cache").mkdir(parents=True, exist_ok=True)
    # The gradebook (results.json, grades.csv) is the store of every student graded so far: it is rewritten
    # only at the end of a run, whole. Until then GRADING.txt says a run is going on, so a run that was killed
    # does not leave the gradebook silently behind: `report` and `export` say so while it is there.
    _atomic_write(out / "GRADING.txt", "a grading run is in progress (or was killed): the gradebook (grades.csv, "
                                       "results.json) is updated at its end; grade again to finish it\n")
    fingerprint = grader_fingerprint(assignment_name) + ("" if isolated else "-not-isolated")
    files = [Path(s) for s in submissions]
    ids = _student_ids(files)
    names = output_names(ids)

    def one(item):
        student, name, f = item
        try:
            res = grade_one(student, name, f)
        except GraderTampered:
            raise
        except Exception as exc:  # noqa: BLE001 (a row for every file, whatever happens)
            res = SubmissionResult(student=student, file=str(f), sha256="", max=assignment.max_points,
                                   status=f"grader error: {type(exc).__name__}: {str(exc)[:200]}",
                                   scores={ex: 0.0 for ex in assignment.exercises})
        res.feedback = f"{name}.md"
        try:
            _atomic_write(out / "feedback" / f"{name}.md", feedback_markdown(res, assignment))
        except OSError as exc:
            res.status = f"{res.status}; feedback not written: {exc.strerror or exc}"
        if progress:
            progress(res)
        return res

    def grade_one(student, name, f):
        raw, why = read_submission(f)
        digest = hashlib.sha256(raw).hexdigest() if raw is not None else ""
        cache = out / ".cache" / f"{name}.json"
        res = _from_cache(cache, digest, fingerprint)
        if res is None:
            integrity.verify()  # never start a student's code on a grader that was changed
            try:
                # The tests are loaded afresh for every submission: test modules draw their cases from a
                # module-level seeded generator, so a fresh module gives each submission the same cases in
                # any order and with any number of workers (one shared module would hand them out in
                # whatever order the threads ran, and the messages' numbers would change between runs).
                res = grade_notebook(f, load_assignment(assignment_name), student=student, timeout=timeout,
                                     extra_deny=(out,), isolated=isolated, zygotes=zygotes, raw=raw, read_error=why)
            except Exception as exc:  # noqa: BLE001 (the batch goes on; the row says why)
                res = SubmissionResult(student=student, file=str(f), sha256=digest, max=assignment.max_points,
                                       status=f"grader error: {type(exc).__name__}: {str(exc)[:200]}",
                                       scores={ex: 0.0 for ex in assignment.exercises})
            integrity.verify()  # a changed grader makes this result (and any later one) worthless
            if res.sha256:
                _atomic_write(cache, json.dumps({"sha256": res.sha256, "fingerprint": fingerprint,
                                                 "result": asdict(res)}))
        res.student = student  # a cached result of a file now given under another id
        return res

    try:
        with ZygotePool() as zygotes, ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
            results = list(pool.map(one, zip(ids, names, files)))
    except GraderTampered as exc:
        _atomic_write(out / "ALARM.txt", str(exc) + "\n")
        raise
    # the gradebook grows: this batch's rows replace the same students' rows, everyone else's stay
    rows, dropped = gradebook.merge(out, assignment_name, [asdict(r) for r in results], replace=replace)
    for row in dropped:                           # removed on request: their feedback and cache go too
        stem = Path(row.get("feedback") or f"{row['student']}.md").stem
        (out / "feedback" / f"{stem}.md").unlink(missing_ok=True)
        (out / ".cache" / f"{stem}.json").unlink(missing_ok=True)
    known = {f.name for f in fields(SubmissionResult)}
    _atomic_write(out / "grades.csv", grades_csv([SubmissionResult(**{k: v for k, v in r.items() if k in known})
                                                  for r in rows], assignment))
    _atomic_write(out / "results.json", json.dumps(rows, indent=1))  # for `report` and `export`
    (out / "GRADING.txt").unlink(missing_ok=True)
    return results


def _from_cache(cache: Path, digest: str, fingerprint: str) -> SubmissionResult | None:
    """The cached result when the submission and the grader are both unchanged."""
    if not digest or not cache.is_file():
        return None
    try:
        cached = json.loads(cache.read_text())
        if cached.get("sha256") == digest and cached.get("fingerprint") == fingerprint:
            return SubmissionResult(**cached["result"])
    except (ValueError, TypeError, KeyError):
        pass
    return None


def grades_csv(results: list[SubmissionResult], assignment: Assignment) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    exercises = list(assignment.exercises)
    w.writerow(["student", *exercises, "total", "max", "status"])
    for r in sorted(results, key=lambda r: r.student):
        w.writerow([csv_text(r.student), *(_fmt(r.scores.get(e, 0.0)) for e in exercises), _fmt(r.total),
                    _fmt(r.max), csv_text(r.status)])
    return buf.getvalue()


def csv_text(text: str, limit: int = 300) -> str:
    """A text cell a spreadsheet shows as text: one line, truncated, and never a formula (a cell that starts
    with = + - @ or a tab/CR gets a leading apostrophe, as OWASP advises for CSV injection)."""
    text = " ".join(str(text).split())[:limit]
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _fmt(x: float) -> str:
    return f"{x:g}"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~$&])")  # inline Markdown (the text never starts a line)


def md_text(text: str, limit: int = 400) -> str:
    """Text from a submission (its name, its error messages, its warnings) as inert Markdown: one line (so it
    can never start a line of its own, a `**Score:` line included), truncated, every Markdown character
    escaped, control characters dropped."""
    text = " ".join("".join(c if c.isprintable() or c in " \t" else " " for c in str(text)).split())
    if len(text) > limit:
        text = text[:limit] + " …"
    return _MD_SPECIAL.sub(r"\\\1", text)


_HIDDEN_KIND = {"wrong": "wrong answer", "not-implemented": "not implemented yet",
                "error": "your code raised an error", "stopped": "your code was stopped (time, memory or a crash)",
                "unchecked": "your answer could not be checked (not numbers of the expected kind)",
                "missing": "the exercise was not found in the notebook",
                "skipped": "skipped (time budget used, or earlier timeouts)"}


def feedback_message(r: dict, doc: str) -> str:
    """What the student reads for one failed test. A public test's message, made inert. A hidden test's
    says only what kind of failure it was and which property the test checks, in the test's own words
    (its docstring): never the student's output or error text, never the test's inputs or expected values,
    which a student could otherwise collect over a few submissions."""
    if r.get("hidden"):
        kind = r.get("kind") or "wrong"
        return f"{_HIDDEN_KIND.get(kind, 'failed')}; the test checks: {md_text(doc, 200)}"
    return md_text(r["message"])


def feedback_markdown(res: SubmissionResult, assignment: Assignment) -> str:
    docs = {(t.exercise, t.name): t.doc for t in assignment.tests}
    status = "" if res.status == "ok" else f"  \nStatus: {md_text(res.status, 300)}"
    lines = [f"# {assignment.name}: feedback for {md_text(res.student, 120)}", "",
             f"**Score: {_fmt(res.total)} / {_fmt(res.max)}**" + status, ""]
    maxes = assignment.exercises
    for ex in assignment.exercises:
        lines += [f"## `{ex}`: {_fmt(res.scores.get(ex, 0.0))} / {_fmt(maxes[ex])}", ""]
        for r in (r for r in res.results if r["exercise"] == ex):
            mark = "✅" if r["earned"] == r["points"] else "❌"
            kind = "hidden" if r["hidden"] else "public"
            doc = docs.get((ex, r["name"]), r["name"].replace("_", " "))
            detail = "" if r["message"] == "passed" else f": {feedback_message(r, doc)}"
            lines.append(f"- {mark} {md_text(r['name'].replace('_', ' '), 120)} ({kind}, {_fmt(r['earned'])}/"
                         f"{_fmt(r['points'])}){detail}")
        lines.append("")
    if res.warnings:
        lines += ["## Notes", "", *(f"- {md_text(w)}" for w in res.warnings[:30]), ""]
    # What the student's code printed is not shown: the child that runs the public tests runs the hidden ones
    # too, and a function that prints its arguments would hand the student the hidden tests' inputs. It stays
    # in results.json for the instructor.
    return "\n".join(lines)
