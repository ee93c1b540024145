"""From a submitted notebook to the few statements the grader may execute.

Only definitions are kept: imports, ``def``, ``class`` and assignments whose value is a
literal constant (``N = 3``, ``SPECIALS = ("<pad>", "<unk>")``). Top-level training loops,
prints, magics and shell lines are never executed. For each exercise the grader then keeps
only the definitions that the exercise needs, transitively by name, so a broken or hostile
cell elsewhere cannot take an honest answer down with it.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field


MAX_CODE_CELLS = 3000        # a notebook with more is refused (the course's have well under 100)
MAX_CELL_CHARS = 100_000     # a larger cell is skipped, with a note (a lesson's largest is a few thousand)
MAX_CELL_LINES = 5_000


class NotebookError(ValueError):
    """The submission is not a readable Jupyter notebook."""


@dataclass
class Statement:
    source: str
    origin: str          # "cell 4, line 2": where the student wrote it
    binds: frozenset     # names it defines
    uses: frozenset      # names it reads (free or not: a superset is safe here)


@dataclass
class Definitions:
    statements: list[Statement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    broken: list = field(default_factory=list)   # (cell, line, message, source) of cells that do not parse

    def defined(self) -> set[str]:
        return set().union(*(s.binds for s in self.statements)) if self.statements else set()

    def closure(self, names) -> list[Statement]:
        """The statements needed to define ``names``, in notebook order."""
        needed, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.add(name)
            for s in self.statements:
                if name in s.binds:
                    todo.extend(s.uses - needed)
        return [s for s in self.statements if s.binds & needed]

    def imported_modules(self, statements) -> set[str]:
        mods = set()
        for s in statements:
            for node in ast.walk(ast.parse(s.source)):
                if isinstance(node, ast.Import):
                    mods.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    mods.add(node.module.split(".")[0])
        return mods


def read_notebook_cells(raw: bytes) -> list[str]:
    """Code-cell sources of a notebook file's bytes. Only JSON is parsed: nothing is unpickled."""
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError("the file is not UTF-8 text, so it is not a notebook") from None
    except RecursionError:
        raise NotebookError("the notebook's JSON is nested far too deeply") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"the notebook's JSON is broken ({exc.msg} at line {exc.lineno}); "
                            "open it in Jupyter, save it again and resubmit") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("the file is JSON but has no list of cells, so it is not a notebook")
    cells = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if isinstance(src, str):
            cells.append(src)
        if len(cells) > MAX_CODE_CELLS:
            raise NotebookError(f"more than {MAX_CODE_CELLS} code cells; is this really the exercise notebook?")
    return cells


def _strip_magics(src: str) -> str:
    """IPython-only lines (``%time``, ``!pip``, ``%%bash`` cells) become blank lines."""
    lines = src.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return ""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def _binds(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def extract_definitions(cells: list[str]) -> Definitions:
    """Parse every code cell; keep the definition statements with where they came from."""
    out = Definitions()
    for ci, src in enumerate(cells, start=1):
        if len(src) > MAX_CELL_CHARS or src.count("\n") > MAX_CELL_LINES:
            out.warnings.append(f"cell {ci} is too large ({len(src)} characters, {src.count(chr(10)) + 1} lines; "
                                f"at most {MAX_CELL_CHARS} and {MAX_CELL_LINES}); it was skipped")
            continue
        src = _strip_magics(src)
        lines = src.splitlines(keepends=True)
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:
            out.warnings.append(f"cell {ci} has a syntax error (line {exc.lineno}: {exc.msg}); it was skipped")
            out.broken.append((ci, exc.lineno, exc.msg, src))
            continue
        except (ValueError, RecursionError, MemoryError) as exc:
            out.warnings.append(f"cell {ci} could not be parsed ({type(exc).__name__}); it was skipped")
            continue
        for node in tree.body:
            keep = isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if isinstance(node, ast.Assign) and _is_literal(node.value):
                keep = all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets)
            if isinstance(node, ast.AnnAssign) and node.value is not None and _is_literal(node.value):
                keep = isinstance(node.target, ast.Name)
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                out.warnings.append(f"cell {ci}, line {node.lineno}: `from {node.module} import *` was skipped; "
                                    "import the names you use")
                keep = False
            if not keep:
                continue
            segment = _segment(lines, node) or ast.unparse(node)
            # keep decorators: get_source_segment starts at `def`, the decorators sit above it
            if getattr(node, "decorator_list", None):
                segment = ast.unparse(node)
            uses = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            uses |= {n.value.id for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
            out.statements.append(Statement(_dedent(segment), f"cell {ci}, line {node.lineno}",
                                            frozenset(_binds(node)), frozenset(uses)))
    return out


def _segment(lines: list[str], node: ast.AST) -> str | None:
    """``ast.get_source_segment(src, node, padded=True)`` on lines split once per cell (it splits the whole
    cell again for every statement: quadratic in a cell of many statements)."""
    try:
        first, last = node.lineno - 1, node.end_lineno - 1
        start, end = node.col_offset, node.end_col_offset
    except AttributeError:
        return None
    if end is None or last >= len(lines):
        return None
    if first == last:
        return lines[first].encode()[start:end].decode()
    head = lines[first].encode()
    padding = "".join(c if c.isspace() else " " for c in head[:start].decode())
    return "".join([padding + head[start:].decode(), *lines[first + 1:last], lines[last].encode()[:end].decode()])


def _dedent(src: str) -> str:
    import textwrap
    return textwrap.dedent(src)
