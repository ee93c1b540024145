"""The student copy: ``course-grade release OUTDIR [--force]``.

Everything a student needs and nothing an instructor keeps. The copy is built from the course's
**committed** files only (``git ls-files`` and ``git show HEAD:…``), never from the working folder as it
is: submissions, grades, feedback, caches and an instructor's unfinished edits in the checkout cannot
reach it. When a tracked course file has uncommitted changes, ``release`` refuses and names them;
``--force`` releases the last commit anyway (the edits stay out). Without git (a downloaded archive),
an explicit allow-list of the course's folders is copied instead, and the copy says so.

Left out: ``solutions/`` (and so the hidden tests), the tests that need them (grading, isolation, the
known-wrong answers), CI, git history, and the jupytext pairing: students get plain ``.ipynb``
notebooks (no ``.py`` twins, no ``jupytext.toml``), which open in JupyterLab, VS Code or Colab whatever
their file times. The copy gets its own README (``assets/README_student.md``, with the course's notebook
table and its hosted-service section), and its ``pytest`` passes on a fresh clone: unit tests, lesson
notebooks, exercise notebooks as stubs.
"""
from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

from . import paths

SKIP_NAMES = {"solutions", ".git", ".ci", "grading-out", "release", "__pycache__", ".ipynb_checkpoints",
              ".pytest_cache", ".venv", "venv", "_build"}
# Tests that need solutions/, the hidden tests or the instructors' known-wrong answers.
INSTRUCTOR_TESTS = ("test_grading_*.py", "test_isolation.py", "test_release.py", "test_progress_report.py",
                    "test_instructor_flow.py",
                    "exercise_variants.py", "grading_helpers.py", "benchmarks/bench_grading.py")
STUDENT_README = "README_student.md"
# Without git: the course's own top-level files and folders, nothing else of the working folder.
ALLOW = ("README.md", "requirements.txt", "pyproject.toml", "LICENSE", ".gitignore", "notebooks", "exercises",
         "course_lib", "tests", "assets")
PAIRED = ("notebooks", "exercises")           # folders whose .py twins (jupytext) students do not get


def _table(section: str) -> str:
    """The first Markdown table of a section (the notebook table, not the module table after it)."""
    rows, started = [], False
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append(line)
            started = True
        elif started:
            break
    return "\n".join(rows)


def _section(readme: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", readme, flags=re.S | re.M)
    return match.group(0) if match else ""


def student_readme(course_readme: str, template: str) -> str:
    """The template with the course README's notebook table and its hosted-service section."""
    hosted = _section(course_readme, "Run on a hosted notebook service").strip()
    return (template.replace("{notebooks}", _table(_section(course_readme, "The notebooks")))
            .replace("{hosted}", hosted))


def _shipped(rel: str) -> bool:
    """Whether a course file (path relative to the checkout, posix) belongs in the student copy."""
    parts = PurePosixPath(rel).parts
    if any(p in SKIP_NAMES or p.endswith(".egg-info") for p in parts):
        return False
    if parts[0] == "tests" and any(fnmatch.fnmatch("/".join(parts[1:]), pat) for pat in INSTRUCTOR_TESTS):
        return False
    if parts[0] in PAIRED and rel.endswith(".py"):
        return False
    if rel in ("jupytext.toml", f"assets/{STUDENT_README}"):
        return False
    return True


def _git(src: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(src), *args], capture_output=True, timeout=120)


def tracked_changes(src: Path) -> list[str]:
    """Tracked course files whose working copy differs from the last commit (what ``release`` refuses)."""
    out = _git(src, "status", "--porcelain", "--untracked-files=no", "-z")
    if out.returncode != 0:
        return []
    entries = [e for e in out.stdout.decode("utf-8", "replace").split("\0") if e]
    paths = [e[3:] for e in entries if len(e) > 3]
    # a paired .py counts for the notebook it is the twin of (students get the .ipynb)
    return sorted(p for p in paths if _shipped(p) or (p.endswith(".py") and _shipped(p[:-3] + ".ipynb")))


def _committed_files(src: Path) -> list[str] | None:
    """The files of the last commit, or None where this is not a git checkout."""
    if not (src / ".git").exists() or shutil.which("git") is None:
        return None
    out = _git(src, "ls-tree", "-r", "-z", "--name-only", "HEAD")
    if out.returncode != 0:
        return None
    return [p for p in out.stdout.decode("utf-8").split("\0") if p]


def release(outdir: str | Path, force: bool = False) -> Path:
    """Write the student copy to ``outdir`` (new or empty, outside the checkout); return its path.

    Raises ValueError for a bad ``outdir`` and, unless ``force``, when tracked course files have
    uncommitted changes (they would not be in the copy, which is made from the last commit)."""
    src, dest = paths.repo_root(), Path(outdir).resolve()
    if dest == src or src in dest.parents:
        raise ValueError(f"release OUTDIR must be outside the course checkout ({src})")
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"{dest} exists and is not empty; choose a new folder")
    committed = _committed_files(src)
    if committed is not None:
        changed = tracked_changes(src)
        if changed and not force:
            shown = ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
            raise ValueError(f"{len(changed)} course file(s) have uncommitted changes: {shown}. The copy is made from "
                             "the last commit: commit them to release them, or pass --force to release the last "
                             "commit without them")
        files = [f for f in committed if _shipped(f)]
        dest.mkdir(parents=True, exist_ok=True)
        for rel in files:
            blob = _git(src, "show", f"HEAD:{rel}")
            if blob.returncode != 0:
                raise ValueError(f"could not read {rel} from the last commit: {blob.stderr.decode()[:200]}")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
        readme_src = _git(src, "show", "HEAD:README.md").stdout.decode("utf-8")
        template = _git(src, "show", f"HEAD:assets/{STUDENT_README}").stdout.decode("utf-8")
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name in ALLOW:
            p = src / name
            for f in ([p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else []):
                rel = f.relative_to(src).as_posix()
                if _shipped(rel):
                    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, dest / rel)
        readme_src = (src / "README.md").read_text(encoding="utf-8")
        template = (src / "assets" / STUDENT_README).read_text(encoding="utf-8")
    (dest / "README.md").write_text(student_readme(readme_src, template), encoding="utf-8")
    return dest
