"""Maintainers' helper: refresh a notebook pair the same way every time, or time every notebook.

    python -m course_lib.dev refresh notebooks/01_ngrams.py [more .py or .ipynb ...]
    python -m course_lib.dev run-all [--device cuda] [--json out.json] [notebooks/ solutions/ ...]
    python -m course_lib.dev guard [notebooks/ solutions/ ...]
    python -m course_lib.dev sync [notebooks/ exercises/ solutions/ or files ...]

``sync`` re-pairs notebooks edited outside JupyterLab: where a ``.ipynb`` is newer than its ``.py`` (saved
by VS Code or Colab, or downloaded again) JupyterLab's jupytext refuses to open it ("File Load Error");
``sync`` writes the newer file's cells into the older one (``jupytext --sync``) and says which way each went.

``guard`` puts ``SETUP_GUARD`` at the top of the first code cell of every notebook pair (idempotent):
a hosted kernel without the course installed gets the install command, not a bare ModuleNotFoundError.
``run-all`` executes each notebook in a fresh kernel (as nbval does), in memory (nothing is
written back), with ``COURSE_DEVICE`` set when ``--device`` is given, and prints one row per
notebook: ok or the error, the wall time, and on CUDA the peak GPU memory its cells allocated
(0 B means the notebook never used the GPU).

For each: .py -> .ipynb (keeping outputs), execute in place with one thread and no timing
metadata, drop widget state unless the notebook asks to keep it (``keep_widget_state: true`` in
its metadata), write the .py back from the notebook. A solution also regenerates its exercise.
"""
from __future__ import annotations

import os
import re
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


SETUP_GUARD = """\
try:  # a kernel without the course (e.g. a fresh hosted runtime) gets the install command
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    raise ModuleNotFoundError("course_lib is not installed. From the course's folder run: python -m pip install -r "
                              "requirements.txt (in a notebook cell: %pip install -r requirements.txt), then restart "
                              "the kernel. README: 'Run on a hosted notebook service'.") from None

"""


def add_guard(folders: list[str]) -> list[str]:
    """Prepend SETUP_GUARD to the first code cell of each ``NN_*.ipynb`` and its ``.py`` (same edit in both,
    outputs kept, nothing re-executed); returns the notebooks changed."""
    import nbformat
    changed = []
    for folder in folders:
        for ipynb in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(ipynb, as_version=4)
            first = next(c for c in nb.cells if c.cell_type == "code")
            if first.source.startswith(SETUP_GUARD.splitlines()[0]):
                continue
            first.source = SETUP_GUARD + first.source
            nbformat.write(nb, ipynb)
            _run(sys.executable, "-m", "jupytext", "--to", "py:percent", "--quiet", str(ipynb))
            changed.append(str(ipynb))
    return changed


_PEAK_CELL = ("import sys as _s\n_t = _s.modules.get('torch')\n"
              "print('COURSE_PEAK_CUDA', _t.cuda.max_memory_allocated() if _t is not None and _t.cuda.is_available() else 0)")


def run_notebook(path: Path, device: str | None = None, timeout: int = 600) -> dict:
    """Execute ``path`` in a fresh kernel (nothing written back); return its row for ``run-all``."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if device:
        env["COURSE_DEVICE"] = device
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    start = time.perf_counter()
    row = {"notebook": str(path), "device": device or "default", "ok": True, "error": "", "peak_cuda_bytes": 0}
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        out = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
        if "COURSE_PEAK_CUDA" in out:
            row["peak_cuda_bytes"] = int(out.split("COURSE_PEAK_CUDA")[1].split()[0])
    except Exception as exc:  # noqa: BLE001 (a row says what broke; the run goes on)
        last = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines() or [""]
        row["ok"], row["error"] = False, f"{type(exc).__name__}: {last[-1]}"[:300]
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def run_all(folders: list[str], device: str | None = None) -> list[dict]:
    rows = []
    for folder in folders:
        for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
            row = run_notebook(path, device)
            rows.append(row)
            mib = row["peak_cuda_bytes"] / 2**20
            print(f"{row['notebook']:40s} {'ok' if row['ok'] else 'ERROR':5s} {row['seconds']:7.1f} s  "
                  f"peak CUDA {mib:8.1f} MiB  {row['error']}", flush=True)
    total = sum(r["seconds"] for r in rows)
    print(f"{sum(r['ok'] for r in rows)}/{len(rows)} notebooks ok, {total:.0f} s in all"
          f"{'' if all(r['seconds'] <= 90 for r in rows) else ' (some over the 90 s budget)'}")
    return rows


def sync(targets) -> list[str]:
    """Bring each notebook pair in ``targets`` (folders or files) in line with its newer file."""
    done = []
    for target in map(Path, targets):
        pairs = sorted(target.glob("[0-9][0-9]_*.ipynb")) if target.is_dir() else [target.with_suffix(".ipynb")]
        for ipynb in pairs:
            py = ipynb.with_suffix(".py")
            if not (ipynb.is_file() and py.is_file()):
                continue
            newer = ipynb if ipynb.stat().st_mtime > py.stat().st_mtime else py
            before = (ipynb.read_bytes(), py.read_bytes())
            _run(sys.executable, "-m", "jupytext", "--sync", "--quiet", str(ipynb))
            if (ipynb.read_bytes(), py.read_bytes()) != before:
                done.append(f"{ipynb}: synced from {newer.name}")
    return done or ["every pair was already in sync"]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 1 and argv[0] == "run-all":
        import argparse
        import json
        ap = argparse.ArgumentParser(prog="python -m course_lib.dev run-all")
        ap.add_argument("folders", nargs="*", default=["notebooks"])
        ap.add_argument("--device", choices=["cpu", "cuda", "mps"], default=None)
        ap.add_argument("--json", default=None, help="also write the rows to this file")
        args = ap.parse_args(argv[1:])
        rows = run_all(args.folders, args.device)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
        return 0 if all(r["ok"] for r in rows) else 1
    if len(argv) >= 1 and argv[0] == "guard":
        print("\n".join(add_guard(argv[1:] or ["notebooks", "solutions"])) or "all notebooks have the guard")
        from .grading.generate import generate
        generate()  # exercises/ get it from solutions/
        return 0
    if len(argv) >= 1 and argv[0] == "sync":
        for line in sync(argv[1:] or ["notebooks", "exercises", "solutions"]):
            print(line)
        return 0
    if len(argv) < 2 or argv[0] != "refresh":
        print(__doc__)
        return 2
    for path in argv[1:]:
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
