"""Hostile submissions, graded as one batch, as an instructor would.

For each exploit: it earns nothing, the honest exercise in the same notebook keeps its points,
the batch finishes, and the gradebook has a row for the file with a score or a reason.
The exploits target `softmax`; `cross_entropy` stays honest (5 points) unless noted.
"""
import csv
import json
import os
import pickle
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from course_lib.grading.grader import grade_batch, load_assignment
from grading_helpers import REPO, load_nb, with_cells, with_replaced, write

A = "00_welcome"
SOLUTION_FILE = REPO / "solutions" / f"{A}.py"
HIDDEN_FILE = REPO / "solutions" / "hidden_tests" / f"{A}.py"
MARKER_SLEEP = "313.25"          # a background process would show up as `sleep 313.25`
ZEROS = "    return np.zeros_like(np.asarray(z, dtype=float))\n"


def softmax_with(body: str) -> str:
    return "import numpy as np\n\ndef softmax(z):\n" + body


class Listener:
    """A loopback server that records whether anyone connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def hostile_submissions(tmp: Path, port: int) -> dict:
    """name -> (path, expectation) where expectation is a dict of expected exercise scores
    ('full', 0, or 'below') and optionally the status prefix."""
    base = load_nb(A)
    subs = {}

    def add(name, nb, softmax=0, cross_entropy="full", status="ok"):
        subs[name] = (write(nb, tmp / f"{name}.ipynb"), {"softmax": softmax, "cross_entropy": cross_entropy,
                                                         "status": status})

    def add_softmax(name, body, **kw):
        add(name, with_replaced(base, "softmax", softmax_with(body)), **kw)

    add_softmax("patch_allclose", "    import numpy, numpy.testing\n    numpy.allclose = lambda *a, **k: True\n"
                "    numpy.testing.assert_allclose = lambda *a, **k: None\n    numpy.isclose = lambda *a, **k: True\n" + ZEROS)
    add("patch_allclose_toplevel", with_cells(with_replaced(base, "softmax", softmax_with(ZEROS)),
                                              "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                                              "import torch\ntorch.allclose = lambda *a, **k: True"))
    add_softmax("eq_always_true", "    class Yes:\n        def __eq__(self, other): return True\n"
                "        def __array__(self, *a, **k): raise TypeError('no')\n    return Yes()\n")
    add_softmax("ndarray_subclass", "    class Liar(np.ndarray):\n        def __eq__(self, o): return np.ones(np.shape(o), bool)\n"
                "        def __sub__(self, o): return np.zeros(np.shape(o))\n        def __abs__(self): return self\n"
                "    return np.zeros_like(np.asarray(z, float)).view(Liar)\n")
    add_softmax("patch_grader", "    import course_lib.grading.spec as s, course_lib.grading.grader as g\n"
                "    s.expect_close = lambda *a, **k: None\n    s.expect = lambda *a, **k: None\n"
                "    g.run_test = lambda t, st: None\n" + ZEROS)
    add("ipython_hook", with_cells(with_replaced(base, "softmax", softmax_with(ZEROS)),
                                   "import ast\nclass NoAssert(ast.NodeTransformer):\n"
                                   "    def visit_Assert(self, node): return ast.Pass()\n"
                                   "get_ipython().ast_transformers.append(NoAssert())"))
    add_softmax("print_all_passed", "    print('All tests passed! 10/10')\n    import sys\n"
                "    sys.stderr.write('All tests passed\\n')\n" + ZEROS)
    add_softmax("infinite_loop_in_function", "    while True:\n        pass\n")
    add("infinite_loop_toplevel", with_cells(base, "while True:\n    pass"), softmax="full")
    add("long_training_toplevel", with_cells(base, "import time\nfor epoch in range(10**9):\n    time.sleep(1)"),
        softmax="full")
    add_softmax("os_exit", "    import os\n    os._exit(0)\n")
    add_softmax("sys_exit", "    import sys\n    sys.exit(0)\n")
    add_softmax("segfault_ctypes", "    import ctypes\n    ctypes.string_at(0)\n" + ZEROS)
    add_softmax("segfault_real", "    import faulthandler\n    faulthandler._sigsegv()\n" + ZEROS)
    add_softmax("uses_course_lib_honestly", "    from course_lib.text import Vocab\n    assert len(Vocab(['a'])) == 5\n"
                "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n",
                softmax="full")
    add_softmax("memory_bomb", "    x = bytearray(50 * 2**30)\n" + ZEROS)
    add_softmax("memory_bomb_list", "    x = [0] * (10**10)\n" + ZEROS)
    add_softmax("read_solution", f"    src = open({str(SOLUTION_FILE)!r}).read()\n"
                "    ns = {}\n    exec(src.replace('check(', 'print('), ns)\n    return ns['softmax'](z)\n")
    add_softmax("read_hidden_tests", f"    src = open({str(HIDDEN_FILE)!r}).read()\n"
                "    ns = {}\n    exec(src, ns)\n    return ns['_softmax'](np.asarray(z, float))\n")
    add_softmax("import_solution_module", f"    import sys, importlib.util\n"
                f"    spec = importlib.util.spec_from_file_location('sol', {str(SOLUTION_FILE)!r})\n"
                "    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n    return m.softmax(z)\n")
    add_softmax("list_repo", f"    import os\n    return np.array([len(os.listdir({str(REPO / 'solutions')!r}))], float)\n")
    add_softmax("network_socket", f"    import socket\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                "    s.close()\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n")
    add_softmax("background_process", f"    import subprocess\n    subprocess.Popen(['sleep', '{MARKER_SLEEP}'])\n" + ZEROS)
    add_softmax("background_fork", f"    import os\n    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '{MARKER_SLEEP}'])\n" + ZEROS)
    # a pickle file in the submission: if the grader ever unpickled it, the flag file would appear
    flag = tmp / "UNPICKLED"

    class Evil:
        def __reduce__(self):
            return (open, (str(flag), "w"))
    (tmp / "evil.pkl").write_bytes(pickle.dumps(Evil()))
    subs["evil"] = (tmp / "evil.pkl", {"softmax": 0, "cross_entropy": 0, "status": "not a notebook"})
    (tmp / "evil_in_disguise.ipynb").write_bytes(pickle.dumps(Evil()))
    subs["evil_in_disguise"] = (tmp / "evil_in_disguise.ipynb",
                                {"softmax": 0, "cross_entropy": 0, "status": "unreadable notebook"})
    # cells deleted, duplicated, reordered; metadata edited
    nb = json.loads(json.dumps(base))
    nb["cells"] = [c for c in nb["cells"] if "def softmax" not in "".join(c["source"])]
    add("deleted_cell", nb, softmax=0)
    nb = json.loads(json.dumps(base))
    nb["cells"] = nb["cells"] + nb["cells"]
    add("duplicated_cells", nb, softmax="full")
    add("duplicated_then_wrong", with_cells(base, softmax_with(ZEROS)), softmax=0)
    nb = json.loads(json.dumps(base))
    nb["cells"].reverse()
    add("reordered_cells", nb, softmax="full")
    nb = json.loads(json.dumps(base))
    for c in nb["cells"]:
        c["metadata"] = {"tags": ["raises-exception", "nbval-skip"], "deletable": True,
                         "nbgrader": {"grade": True, "points": 1000, "solution": False, "locked": False},
                         "otter": {"points": 99}}
    nb["metadata"]["kernelspec"] = {"name": "evil", "display_name": "x", "language": "python"}
    add("edited_metadata", nb, softmax="full")
    (tmp / "broken_json.ipynb").write_text(json.dumps(base)[:-200])
    subs["broken_json"] = (tmp / "broken_json.ipynb", {"softmax": 0, "cross_entropy": 0,
                                                       "status": "unreadable notebook"})
    add("syntax_error_elsewhere", with_cells(base, "def broken(:\n    pass", at=2), softmax="full")
    add("magics_and_pip", with_cells(base, "!pip install requests", "%timeit softmax(np.zeros(3))",
                                     "%%bash\necho hi", "%matplotlib inline\nimport numpy as np", at=1),
        softmax="full")
    add_softmax("warnings_on_stderr", "    import warnings, sys\n    warnings.warn('deprecated thing', DeprecationWarning)\n"
                "    warnings.warn('a user warning')\n    print('noise', file=sys.stderr)\n"
                "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n",
                softmax="full")
    add_softmax("non_deterministic", "    import random\n    if random.random() < 0.5:\n        return np.zeros_like(z)\n"
                "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n",
                softmax="any")
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    listener = Listener()
    try:
        subs = hostile_submissions(tmp, listener.port)
        out = tmp / "out"
        start = time.perf_counter()
        results = grade_batch(A, [p for p, _ in subs.values()], out, jobs=2, timeout=3)
        elapsed = time.perf_counter() - start
        time.sleep(0.3)
    finally:
        listener.close()
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    return {"subs": subs, "rows": rows, "results": {r.student: r for r in results}, "out": out,
            "connections": listener.connections, "flag": tmp / "UNPICKLED", "elapsed": elapsed}


def test_every_file_has_a_row(graded):
    names = {p.stem if p.suffix == ".ipynb" else p.name for p, _ in graded["subs"].values()}
    assert set(graded["rows"]) == names
    for name in names:
        assert (graded["out"] / "feedback" / f"{name}.md").is_file()


EXPLOITS = ["patch_allclose", "patch_allclose_toplevel", "eq_always_true", "ndarray_subclass", "patch_grader",
            "ipython_hook", "print_all_passed", "infinite_loop_in_function", "infinite_loop_toplevel",
            "long_training_toplevel", "os_exit", "sys_exit", "segfault_ctypes", "segfault_real", "uses_course_lib_honestly", "memory_bomb", "memory_bomb_list",
            "read_solution", "read_hidden_tests", "import_solution_module", "list_repo", "network_socket",
            "background_process", "background_fork", "evil", "evil_in_disguise", "deleted_cell", "duplicated_cells",
            "duplicated_then_wrong", "reordered_cells", "edited_metadata", "broken_json", "syntax_error_elsewhere",
            "magics_and_pip", "warnings_on_stderr", "non_deterministic"]


@pytest.mark.parametrize("name", EXPLOITS)
def test_exploit(graded, name):
    student = name if name != "evil" else "evil.pkl"
    _, expect = graded["subs"][name if name != "evil" else "evil"]
    row = graded["rows"][student]
    maxes = load_assignment(A).exercises
    for exercise in ("softmax", "cross_entropy"):
        got, want = float(row[exercise]), expect[exercise]
        if want == "full":
            assert got == maxes[exercise], f"{name}: honest {exercise} lost points: {row}"
        elif want == 0:
            assert got == 0, f"{name}: the exploit earned {got} on {exercise}"
    assert row["status"].startswith(expect["status"]), row["status"]
    if row["status"] == "ok" and expect["softmax"] == 0:
        messages = [r["message"] for r in graded["results"][student].results if r["exercise"] == "softmax"]
        assert all(m and m != "passed" for m in messages)


def test_specific_reasons(graded):
    msgs = {name: " ".join(r["message"] for r in res.results if r["exercise"] == "softmax")
            for name, res in graded["results"].items()}
    assert "timed out" in msgs["infinite_loop_in_function"]
    assert "not found" in msgs["deleted_cell"]
    assert "does not allow" in msgs["read_solution"] and "does not allow" in msgs["read_hidden_tests"]
    assert "does not allow" in msgs["network_socket"]
    assert "exited" in msgs["os_exit"] or "ended" in msgs["os_exit"]
    assert "SystemExit" in msgs["sys_exit"]
    assert "SIGSEGV" in msgs["segfault_real"]
    assert "expect_close" not in msgs["patch_grader"] and "sum to 1" in msgs["patch_grader"]
    assert "MemoryError" in msgs["memory_bomb"] or "memory" in msgs["memory_bomb"]
    assert any("syntax error" in w for w in graded["results"]["syntax_error_elsewhere"].warnings)


def test_no_connection_reached_the_listener(graded):
    assert graded["connections"] == 0


def test_nothing_was_unpickled(graded):
    assert not graded["flag"].exists()


def test_no_background_process_survives(graded):
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"sleep {MARKER_SLEEP}" not in ps


def test_warnings_do_not_cost_points_and_output_is_kept(graded):
    res = graded["results"]["warnings_on_stderr"]
    assert res.total == res.max


def test_regrading_is_deterministic(graded, tmp_path):
    path, _ = graded["subs"]["non_deterministic"]
    again = grade_batch(A, [path], tmp_path, jobs=1, timeout=3)[0]
    first = graded["results"]["non_deterministic"]
    assert again.scores == first.scores and again.results == first.results


def test_grader_process_is_untouched(graded):
    import numpy as np
    from course_lib.grading import spec
    assert np.allclose(np.zeros(1), np.ones(1)) is False or not np.allclose(np.zeros(1), np.ones(1))
    with pytest.raises(spec.Fail):
        spec.expect_close([0.0], [1.0], "x")
    assert os.getpid() > 0
