"""Maintainers' helper: refresh a notebook pair the same way every time.

    python -m course_lib.dev refresh notebooks/01_ngrams.py [more .py or .ipynb ...]

For each: .py -> .ipynb (keeping outputs), execute in place with one thread and no timing
metadata, drop widget state unless the notebook asks to keep it (``keep_widget_state: true`` in
its metadata), write the .py back from the notebook. A solution also regenerates its exercise.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def refresh(path: str) -> float:
    p = Path(path)
    py, ipynb = p.with_suffix(".py"), p.with_suffix(".ipynb")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    os.environ.update(env)
    if py.is_file() and (not ipynb.is_file() or py.stat().st_mtime > ipynb.stat().st_mtime):
        _run(sys.executable, "-m", "jupytext", "--to", "ipynb", "--update" if ipynb.is_file() else "--quiet", str(py))
    start = time.perf_counter()
    _run(sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "notebook", "--inplace",
         "--ExecutePreprocessor.record_timing=False", "--ExecutePreprocessor.timeout=600", str(ipynb))
    seconds = time.perf_counter() - start
    import nbformat
    nb = nbformat.read(ipynb, as_version=4)
    if not nb.metadata.get("keep_widget_state") and "widgets" in nb.metadata:
        del nb.metadata["widgets"]
        nbformat.write(nb, ipynb)
    _run(sys.executable, "-m", "jupytext", "--to", "py:percent", "--quiet", str(ipynb))
    if ipynb.parent.name == "solutions":
        from .grading.generate import generate
        generate(ipynb.stem)
    print(f"{ipynb}: executed in {seconds:.1f} s")
    return seconds


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != "refresh":
        print(__doc__)
        return 2
    for path in argv[1:]:
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
