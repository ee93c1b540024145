"""Submissions that share code, for the instructor's report (a hint to look, never a verdict).

For every exercise, each student's definition (the ``def``/``class`` the grader extracts, the way it
grades) is normalised: comments, docstrings, blank lines and formatting go (through ``ast``), and the
names of local variables and arguments become ``v0, v1, …`` in order of appearance, so renaming and
re-commenting a copied answer does not hide it. Equal normalised code is reported as "identical"; two
token sequences that match on at least 95 % (``difflib``) as "nearly identical". Definitions of fewer
than 25 tokens are skipped: short exercises have few ways to be right.
"""
from __future__ import annotations

import ast
import difflib
import io
import tokenize
from pathlib import Path

from .extract import NotebookError, extract_definitions, read_notebook_cells

MIN_TOKENS = 25
NEAR = 0.95
MAX_FILE = 20_000_000


class _Renamer(ast.NodeTransformer):
    """Local names and arguments to v0, v1, … in order of first appearance (globals and attributes stay)."""

    def __init__(self, keep: set[str]):
        self.keep, self.names = keep, {}

    def _new(self, name: str) -> str:
        if name in self.keep:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store) or node.id in self.names:
            node.id = self._new(node.id)
        return node

    def visit_FunctionDef(self, node):
        node.returns = None
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None),
                                                                          ast.Constant) and isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node


def normalised(source: str, name: str) -> str | None:
    """The definition of ``name`` in ``source``, normalised (None where it is not there)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.name == name:
            return ast.unparse(_Renamer(keep={name}).visit(node))
    return None


def _tokens(code: str) -> list[str]:
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.string.strip()]
    except (tokenize.TokenError, IndentationError):
        return code.split()


def definitions(path: str | Path, exercises) -> dict[str, str]:
    """Each exercise's normalised definition in one submitted notebook (those it defines)."""
    p = Path(path)
    try:
        if not p.is_file() or p.is_symlink() or p.stat().st_size > MAX_FILE:
            return {}
        defs = extract_definitions(read_notebook_cells(p.read_bytes()))
    except (OSError, NotebookError, ValueError, RecursionError):
        return {}
    source = "\n".join(s.source for s in defs.statements)
    out = {}
    for ex in exercises:
        code = normalised(source, ex)
        if code is not None:
            out[ex] = code
    return out


def shared_code(rows: list[dict]) -> list[tuple[str, list[str], str]]:
    """``(exercise, students, "identical" | "nearly identical")`` for each group found in the gradebook's rows
    (each row names its submitted file), in exercise order."""
    exercises: list[str] = []
    for r in rows:
        for t in r.get("results", []):
            if t["exercise"] not in exercises:
                exercises.append(t["exercise"])
    code = {r["student"]: definitions(r.get("file", ""), exercises) for r in rows}
    found = []
    for ex in exercises:
        by_code: dict[str, list[str]] = {}
        toks = {}
        for student, defs in code.items():
            if ex in defs and len(_tokens(defs[ex])) >= MIN_TOKENS:
                by_code.setdefault(defs[ex], []).append(student)
                toks[student] = _tokens(defs[ex])
        for group in by_code.values():
            if len(group) > 1:
                found.append((ex, sorted(group), "identical"))
        singles = [sorted(g)[0] for g in by_code.values()]     # one student for each distinct definition
        for i, a in enumerate(singles):
            for b in singles[i + 1:]:
                ratio = difflib.SequenceMatcher(None, toks[a], toks[b], autojunk=False).ratio()
                if ratio >= NEAR:
                    found.append((ex, sorted([a, b]), "nearly identical"))
    return found
