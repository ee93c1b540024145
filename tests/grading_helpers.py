"""Build submission notebooks for grading tests: start from a real solution notebook and swap,
add, delete or scramble cells the way students (and cheaters) do."""
from __future__ import annotations

import ast
import copy
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Grading runs students' code isolated by the Linux kernel (bubblewrap); elsewhere the grader refuses
# (tests/test_isolation.py checks the refusal). On Linux a missing bubblewrap fails these tests.
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="grading isolation needs Linux (namespaces, seccomp); the grader refuses elsewhere")


def load_nb(assignment: str, folder: str = "solutions") -> dict:
    return json.loads((REPO / folder / f"{assignment}.ipynb").read_text())


def defines(cell: dict, name: str) -> bool:
    if cell.get("cell_type") != "code":
        return False
    src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return False
    return any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name for n in tree.body)


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def with_replaced(nb: dict, name: str, source: str) -> dict:
    """The notebook with the cell that defines ``name`` replaced by ``source``."""
    nb = copy.deepcopy(nb)
    hits = [i for i, c in enumerate(nb["cells"]) if defines(c, name)]
    assert hits, f"no cell defines {name}"
    for i in hits:
        nb["cells"][i] = code_cell(source)
    return nb


def with_cells(nb: dict, *sources: str, at: int | None = None) -> dict:
    nb = copy.deepcopy(nb)
    new = [code_cell(s) for s in sources]
    if at is None:
        nb["cells"].extend(new)
    else:
        nb["cells"][at:at] = new
    return nb


def write(nb: dict, path: Path) -> Path:
    path.write_text(json.dumps(nb))
    return path
