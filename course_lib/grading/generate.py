"""Student notebooks from solution notebooks: the one source of truth is ``solutions/``.

In a solution notebook's ``.py`` (jupytext percent format), the code a student writes sits
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``. An optional ``### HINT: ...`` line
just above ``### BEGIN SOLUTION`` becomes the stub's message. The generated exercise
notebook replaces each region by ``raise NotImplementedError("...")`` at the same indentation.
Cells tagged ``solution-only`` (a ``# %% tags=["solution-only"]`` header) are left out.
"""
from __future__ import annotations

import hashlib

import re
from pathlib import Path

import jupytext

from . import paths

BEGIN, END, HINT = "### BEGIN SOLUTION", "### END SOLUTION", "### HINT:"
GENERATED = "# This exercise notebook is generated from solutions/{name}.py by `course-grade generate`: do not edit.\n"


def make_stub(source: str, name: str = "<solution>") -> str:
    """Replace every solution region of ``source`` by a NotImplementedError stub."""
    out, inside, hint, indent = [], False, None, ""
    lines = source.splitlines(keepends=True)
    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(HINT) and not inside:
            hint = stripped[len(HINT):].strip()
            continue
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{name}:{no}: {BEGIN} inside another solution region")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            message = hint or "write your solution here"
            out.append(f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError({message!r})\n")
            hint = None
            continue
        if stripped == END:
            if not inside:
                raise ValueError(f"{name}:{no}: {END} without {BEGIN}")
            inside = False
            continue
        if not inside:
            if hint is not None:
                raise ValueError(f"{name}:{no}: {HINT} must stand directly above {BEGIN}")
            out.append(line)
    if inside:
        raise ValueError(f"{name}: {BEGIN} without {END}")
    return "".join(out)




def _drop_solution_only_cells(text: str) -> str:
    parts = re.split(r"(?m)^(?=# %%)", text)
    return "".join(p for p in parts if not (p.startswith("# %%") and "solution-only" in p.splitlines()[0]))


def exercise_text(solution_py: Path) -> str:
    text = solution_py.read_text(encoding="utf-8")
    body = make_stub(_drop_solution_only_cells(text), solution_py.name)
    # the notice goes after jupytext's YAML header so the pairing metadata stays first
    if body.startswith("# ---\n"):
        end = body.index("# ---\n", 6) + len("# ---\n")
        return body[:end] + "\n" + GENERATED.format(name=solution_py.stem) + body[end:]
    return GENERATED.format(name=solution_py.stem) + body


def generate(name: str | None = None, check_only: bool = False) -> list[str]:
    """Write exercises/<name>.py and .ipynb from solutions/<name>.py (all when ``name`` is None).
    With ``check_only``, write nothing and return the names whose exercise files differ."""
    sols = sorted(paths.solutions_dir().glob("[0-9][0-9]_*.py"))
    if name is not None:
        sols = [s for s in sols if s.stem == name]
        if not sols:
            raise ValueError(f"no solutions/{name}.py")
    stale = []
    for sol in sols:
        py = paths.exercises_dir() / sol.name
        text = exercise_text(sol)
        nb = jupytext.reads(text, fmt="py:percent")
        _stable_ids(nb)
        ipynb_text = jupytext.writes(nb, fmt="ipynb")
        ipynb = py.with_suffix(".ipynb")
        same = (py.is_file() and py.read_text(encoding="utf-8") == text and ipynb.is_file()
                and _sources(ipynb.read_text(encoding="utf-8")) == _sources(ipynb_text))
        if same:
            continue
        stale.append(sol.stem)
        if not check_only:
            py.parent.mkdir(parents=True, exist_ok=True)
            py.write_text(text, encoding="utf-8")
            ipynb.write_text(ipynb_text, encoding="utf-8")
    return stale


def _stable_ids(nb) -> None:
    """Give every cell an id made from its type and source (nbformat would draw random ones), so
    regenerating an unchanged exercise rewrites the same file and a changed one diffs only where
    it changed."""
    seen: dict[str, int] = {}
    for cell in nb.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode("utf-8")).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def _sources(ipynb_text: str) -> list[tuple[str, str]]:
    nb = jupytext.reads(ipynb_text, fmt="ipynb")
    return [(c.cell_type, c.source) for c in nb.cells]
