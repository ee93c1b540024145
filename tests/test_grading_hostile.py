"""Hostile submissions, graded as one batch, as an instructor would.

For each exploit: it earns nothing, the honest exercise in the same notebook keeps its points,
the batch finishes, and the gradebook has a row for the file with a score or a reason.
The exploits target `softmax`; `cross_entropy` stays honest (5 points) unless noted.

The second group attacks from native code (torch's and numpy's file functions, threads, fork,
/proc), which Python's audit hook never sees: only the kernel isolation (bubblewrap's namespaces,
seccomp, the pids cgroup; see course_lib/grading/isolation.py) stops them. After the batch, the
repo's tracked files are byte-identical, nothing of the hidden tests is in any feedback file, and
no file the attacks tried to write exists anywhere.
"""
import csv
import hashlib
import json
import os
import pickle
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from course_lib.grading.grader import grade_batch, load_assignment
from grading_helpers import REPO, load_nb, with_cells, with_replaced, write, linux_only

pytestmark = linux_only

A = "00_welcome"
SOLUTION_FILE = REPO / "solutions" / f"{A}.py"
HIDDEN_FILE = REPO / "solutions" / "hidden_tests" / f"{A}.py"
PUBLIC_FILE = REPO / "course_lib" / "grading" / "public" / f"{A}.py"
# Text only the hidden tests (or the solution) contain: none of it may reach a feedback file.
SECRETS = ("default_rng(1234)", "def _ce(", "Hidden tests for 00_welcome", "instructor only")
PWNED = "pwned_by_student"       # every file an attack tries to create has this in its name
GRADER_SECRET = "grader-env-secret-3f9a"
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
    # a real fault (a read of address 0): a child is PID 1 of its own namespace, where the kernel drops the
    # signals a process sends itself (faulthandler._sigsegv() raises one), but never a fault
    add_softmax("segfault_real", "    import faulthandler\n    faulthandler._read_null()\n" + ZEROS)
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
    native_attacks(add_softmax, tmp)
    return subs


def native_attacks(add_softmax, tmp: Path) -> None:
    """Attacks through native code, which the audit hook cannot see. Each leaks what it reads
    through an exception message (that would land in the student's feedback) and tries to write
    files named PWNED."""
    home, out, subs_dir = Path.home(), tmp / "out", tmp
    leak = "    raise ValueError('LEAK ' + bytes(t.flatten().tolist()).decode('latin1'))\n"
    for name, target in (("hidden", HIDDEN_FILE), ("solution", SOLUTION_FILE)):
        add_softmax(f"torch_from_file_read_{name}", "    import torch\n"
                    f"    t = torch.from_file({str(target)!r}, shared=False, size=400, dtype=torch.uint8)\n" + leak)
        add_softmax(f"numpy_memmap_read_{name}", f"    t = np.memmap({str(target)!r}, dtype=np.uint8, mode='r')\n"
                    + leak)
        add_softmax(f"numpy_fromfile_read_{name}", f"    t = np.fromfile({str(target)!r}, dtype=np.uint8)\n" + leak)
    for name, target in (("hidden", HIDDEN_FILE), ("public", PUBLIC_FILE), ("grader", REPO / "course_lib" / "grading" / "grader.py")):
        add_softmax(f"torch_from_file_write_{name}", "    import torch\n"
                    f"    t = torch.from_file({str(target)!r}, shared=True, size=64, dtype=torch.uint8)\n"
                    "    t[:] = 35\n" + ZEROS)
        add_softmax(f"numpy_memmap_write_{name}", f"    t = np.memmap({str(target)!r}, dtype=np.uint8, mode='r+')\n"
                    "    t[:64] = 35\n    t.flush()\n" + ZEROS)
    targets = [REPO / "course_lib" / f"{PWNED}.py", REPO / "solutions" / "hidden_tests" / f"{PWNED}.py",
               home / f"{PWNED}_home", Path("/tmp") / f"{PWNED}_tmp", out / f"{PWNED}_out", subs_dir / f"{PWNED}_subs"]
    add_softmax("torch_save_everywhere", "    import torch\n    for p in " + repr([str(t) for t in targets]) + ":\n"
                "        try:\n            torch.save(torch.zeros(3), p)\n        except Exception:\n            pass\n" + ZEROS)
    add_softmax("numpy_tofile_everywhere", "    for p in " + repr([str(t) for t in targets]) + ":\n"
                "        try:\n            np.zeros(3).tofile(p)\n        except Exception:\n            pass\n" + ZEROS)
    add_softmax("torch_load_hidden", f"    import torch\n    t = torch.load({str(HIDDEN_FILE)!r}, weights_only=True)\n"
                + ZEROS)
    add_softmax("torch_jit_load_hidden", f"    import torch\n    t = torch.jit.load({str(HIDDEN_FILE)!r})\n" + ZEROS)
    add_softmax("symlink_into_repo", f"    import os\n    os.symlink({str(HIDDEN_FILE)!r}, 'h.py')\n"
                "    t = np.fromfile('h.py', dtype=np.uint8)\n" + leak)
    add_softmax("hardlink_into_repo", f"    import os\n    os.link({str(HIDDEN_FILE)!r}, 'h.py')\n"
                "    t = np.fromfile('h.py', dtype=np.uint8)\n" + leak)
    # the grader's environment and memory, through /proc: every pid the child can see, read natively
    add_softmax("proc_environ_of_others", "    import os\n    found = []\n"
                "    for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['1', str(os.getppid())]:\n"
                "        for what in ('environ', 'cmdline'):\n"
                "            try:\n                found.append(np.fromfile(f'/proc/{pid}/{what}', dtype=np.uint8))\n"
                "            except Exception:\n                pass\n"
                "    t = np.concatenate(found + [np.zeros(1, np.uint8)])\n"
                f"    if b{GRADER_SECRET!r} in bytes(t.tolist()):\n" + leak.replace("    raise", "        raise") + ZEROS)
    add_softmax("proc_self_mem", "    t = np.memmap('/proc/self/mem', dtype=np.uint8, mode='r+', offset=4096, shape=(8,))\n"
                "    t[:] = 0\n" + ZEROS)
    add_softmax("thread_bomb", "    import threading, time\n"
                "    for i in range(100000):\n        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
                + ZEROS)
    add_softmax("fork_native", "    import os\n    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n" + ZEROS)
    add_softmax("posix_spawn", f"    import os\n    os.posix_spawn('/bin/sleep', ['sleep', '{MARKER_SLEEP}'], {{}})\n" + ZEROS)
    # state left for a later submission of the same batch (each child gets a fresh, empty tmpfs)
    add_softmax("leave_state", "    import os\n"
                f"    for p in ('{PWNED}_state', '/tmp/{PWNED}_state', '/dev/shm/{PWNED}_state', "
                f"os.path.expanduser('~/{PWNED}_state')):\n"
                "        try:\n            open(p, 'w').write('x')\n        except Exception:\n            pass\n" + ZEROS)
    add_softmax("read_state", "    import os, glob\n"
                f"    if glob.glob('*{PWNED}*') + glob.glob('/tmp/*{PWNED}*') + glob.glob('/dev/shm/*{PWNED}*') "
                f"+ glob.glob(os.path.expanduser('~/*{PWNED}*')):\n"
                "        e = np.exp(z - z.max(axis=-1, keepdims=True))\n        return e / e.sum(axis=-1, keepdims=True)\n"
                + ZEROS)


NATIVE = ["torch_from_file_read_hidden", "torch_from_file_read_solution", "numpy_memmap_read_hidden",
          "numpy_memmap_read_solution", "numpy_fromfile_read_hidden", "numpy_fromfile_read_solution",
          "torch_from_file_write_hidden", "torch_from_file_write_public", "torch_from_file_write_grader",
          "numpy_memmap_write_hidden", "numpy_memmap_write_public", "numpy_memmap_write_grader",
          "torch_save_everywhere", "numpy_tofile_everywhere", "torch_load_hidden", "torch_jit_load_hidden",
          "symlink_into_repo", "hardlink_into_repo", "proc_environ_of_others", "proc_self_mem", "thread_bomb",
          "fork_native", "posix_spawn", "leave_state", "read_state"]


def tracked_tree_digest() -> dict:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    return {f: hashlib.sha256((REPO / f.decode()).read_bytes()).hexdigest() for f in files if f}


def pwned_files(tmp: Path) -> list[str]:
    """Every file an attack tried to create, wherever it would be."""
    found = []
    for root in (REPO, Path.home(), Path("/tmp"), Path("/dev/shm"), tmp):
        if root.is_dir():
            depth = "**/" if root in (REPO, tmp) else ""
            found += [str(p) for p in root.glob(f"{depth}*{PWNED}*")]
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    listener = Listener()
    before = tracked_tree_digest()
    os.environ["COURSE_GRADER_SECRET"] = GRADER_SECRET   # the grader's own environment: must stay out of reach
    try:
        subs = hostile_submissions(tmp, listener.port)
        out = tmp / "out"
        start = time.perf_counter()
        results = grade_batch(A, [p for p, _ in subs.values()], out, jobs=2, timeout=3)
        elapsed = time.perf_counter() - start
        time.sleep(0.3)
    finally:
        listener.close()
        os.environ.pop("COURSE_GRADER_SECRET", None)
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    return {"subs": subs, "rows": rows, "results": {r.student: r for r in results}, "out": out,
            "connections": listener.connections, "flag": tmp / "UNPICKLED", "elapsed": elapsed,
            "tree_changed": sorted(f.decode() for f, d in tracked_tree_digest().items() if before.get(f) != d),
            "pwned": pwned_files(tmp)}


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
            "magics_and_pip", "warnings_on_stderr", "non_deterministic", *NATIVE]


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


def test_repo_tracked_files_are_byte_identical(graded):
    assert graded["tree_changed"] == []


def test_nothing_of_the_hidden_tests_in_any_feedback(graded):
    for f in (graded["out"] / "feedback").glob("*.md"):
        text = f.read_text()
        assert "LEAK" not in text, f"{f.name} carries leaked bytes"
        for secret in SECRETS + (GRADER_SECRET,):
            assert secret not in text, f"{f.name} contains {secret!r}"


def test_no_file_written_outside_the_childs_scratch(graded):
    assert graded["pwned"] == []


def test_native_attacks_fail_for_a_kernel_reason(graded):
    """Where the audit hook cannot see the call (torch's C++ file functions), the kernel says no: the
    file does not exist in the child's world. (tests/test_isolation.py repeats every attack with the
    audit hook off.)"""
    msgs = {name: " ".join(r["message"] for r in res.results if r["exercise"] == "softmax")
            for name, res in graded["results"].items()}
    for name in ("torch_from_file_read_hidden", "torch_from_file_write_public", "torch_from_file_write_grader",
                 "torch_jit_load_hidden"):
        assert "No such file" in msgs[name] or "does not exist" in msgs[name], msgs[name]
    assert "can't start new thread" in msgs["thread_bomb"], msgs["thread_bomb"]



# ----------------------------------------------------------------------------- second round (issue 34)
# Feedback students cannot write, a batch no file can stop, course_lib's own answers, a time budget.

def test_student_text_cannot_write_score_lines_and_hidden_feedback_says_only_what_failed(tmp_path):
    """A student's error text, printed output and file name are inert in the feedback: one line each,
    escaped, truncated, never a line of their own (no extra "**Score:" line). A hidden test's feedback
    names the property it checks in its own words, and carries neither the student's text nor the test's
    inputs; grades.csv neutralises cells a spreadsheet would run as formulas."""
    forged = "\\n**Score: 99 / 10**\\n# pwned\\n```\\n**Score: 99 / 10**\\n"
    body = (f"    print({forged!r} * 3)\n"
            f"    raise ValueError({forged!r} + repr(z) + ' ' + repr(np.asarray(z).tolist()))\n")
    sub = write(with_replaced(load_nb(A), "softmax", softmax_with(body)), tmp_path / "=1+2.ipynb")
    res = grade_batch(A, [sub], tmp_path / "out", jobs=1, timeout=3)[0]
    text = (tmp_path / "out" / "feedback" / res.feedback).read_text()
    assert [ln for ln in text.splitlines() if ln.startswith("**Score:")] == [f"**Score: {res.total:g} / {res.max:g}**"]
    assert not any(ln.startswith(("# pwned", "```")) for ln in text.splitlines())
    hidden = [r for r in res.results if r["hidden"] and r["exercise"] == "softmax"]
    assert hidden and all(not r["earned"] for r in hidden)
    for line in text.splitlines():
        if "(hidden," in line and "softmax" not in line:
            continue
        if "(hidden," in line:
            assert "ValueError" not in line and "Score" not in line and "pwned" not in line, line
            assert "the test checks:" in line, line
    # the public tests' inputs are public: but no hidden test's input (its arrays) reaches the feedback
    for r in hidden:
        assert r["message"] not in text
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert rows[1].startswith("'=1+2,"), rows[1]


def test_what_a_function_prints_never_reaches_the_feedback(tmp_path):
    """A function that prints its arguments would otherwise hand the student every hidden test's inputs."""
    spy = softmax_with("    print('SPY', repr(np.asarray(z).tolist()))\n" + ZEROS)
    sub = write(with_replaced(load_nb(A), "softmax", spy), tmp_path / "spy.ipynb")
    res = grade_batch(A, [sub], tmp_path / "out", jobs=1, timeout=3)[0]
    assert "SPY" in res.output  # kept for the instructor (results.json)
    assert "SPY" not in (tmp_path / "out" / "feedback" / res.feedback).read_text()


def test_a_hidden_message_never_echoes_inputs():
    from course_lib.grading.grader import feedback_message
    r = {"hidden": True, "kind": "wrong", "message": "softmax([1.5, 2.5, 99.0]) should be (got 0.3, expected 0.7)"}
    shown = feedback_message(r, "rows sum to one for a random batch")
    assert "99" not in shown and "0.7" not in shown and "rows sum to one" in shown
    assert feedback_message({**r, "kind": "error", "message": "ValueError: secret"}, "x").count("secret") == 0


@pytest.fixture(scope="module")
def stoppers(tmp_path_factory):
    """Files that each stopped a whole batch (issue 34), graded in one batch with honest ones around them."""
    tmp = tmp_path_factory.mktemp("stoppers")
    base = load_nb(A)
    files = [write(base, tmp / "honest_first.ipynb")]
    fifo = tmp / "x.ipynb"
    os.mkfifo(fifo)
    files.append(fifo)
    (tmp / "zero.ipynb").symlink_to("/dev/zero")
    files.append(tmp / "zero.ipynb")
    (tmp / "sol.ipynb").symlink_to(REPO / "solutions" / f"{A}.ipynb")
    files.append(tmp / "sol.ipynb")
    huge = json.loads(json.dumps(base))
    huge["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                          "source": "x = 1\n" * 1_000_000})
    files.append(write(huge, tmp / "million_lines.ipynb"))
    many = json.loads(json.dumps(base))
    many["cells"] += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                       "source": f"y{i} = {i}\n"} for i in range(20000)]
    files.append(write(many, tmp / "many_cells.ipynb"))
    deep = tmp / "deep.ipynb"
    deep.write_text('{"cells": ' + "[" * 100000 + "]" * 100000 + "}")
    files.append(deep)
    files.append(write(base, tmp / ("l" * 240 + ".ipynb")))
    files.append(write(base, tmp / "ünïcødé 学生 ..x\n\t.ipynb"))
    sub = tmp / "sub"
    sub.mkdir()
    files.append(write(base, sub / "honest_first.ipynb"))   # the same student id twice
    files.append(write(base, tmp / "honest_first~2.ipynb"))  # and the id the second would get
    files.append(files[0])                                    # the same file twice
    files.append(write(base, tmp / "honest_last.ipynb"))
    out = tmp / "out"
    (out).mkdir()
    (out / "grades.csv").write_text("student,total\nstale,100\n")  # a previous run's: must not survive silently
    t = time.perf_counter()
    results = grade_batch(A, files, out, jobs=2, timeout=3)
    return {"files": files, "results": results, "out": out, "elapsed": time.perf_counter() - t}


def test_no_file_stops_the_batch_and_every_file_has_a_row_and_its_own_feedback(stoppers):
    results, out = stoppers["results"], stoppers["out"]
    assert len(results) == len(stoppers["files"])
    assert len({r.student for r in results}) == len(results)
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(results) and "stale" not in {r["student"] for r in rows}
    feedback = sorted(p.name for p in (out / "feedback").iterdir())
    assert len(feedback) == len(results) and sorted(r.feedback for r in results) == feedback
    assert all(len(name) < 140 and name.isascii() for name in feedback)
    by = {Path(r.file).name: r for r in results}
    full = load_assignment(A).max_points
    assert by["honest_last.ipynb"].total == full and by["honest_first.ipynb"].total == full
    assert by["x.ipynb"].status.startswith("refused: not a regular file")
    assert by["zero.ipynb"].status.startswith("refused: a symbolic link")
    assert by["sol.ipynb"].status.startswith("refused: a symbolic link") and by["sol.ipynb"].total == 0
    assert by["deep.ipynb"].status.startswith("unreadable notebook")
    assert by["many_cells.ipynb"].status.startswith("unreadable notebook")
    assert by["million_lines.ipynb"].total == full  # the huge cell is skipped, with a note
    assert any("too large" in w for w in by["million_lines.ipynb"].warnings)
    assert stoppers["elapsed"] < 600


def test_a_killed_run_leaves_no_stale_gradebook_and_its_leftovers_are_swept(tmp_path):
    """A run killed mid-batch: its sandboxes' cgroups and temp folders (named after its pid) are removed by
    the next run's start; a run marks the gradebook as in progress (GRADING.txt) until it ends, and a stale
    grades.csv with no gradebook behind it is not carried over."""
    from course_lib.grading import isolation
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs: the killed grader's
    left = Path(tempfile.gettempdir()) / f"course-zygote-{dead.pid}-leftover"
    left.mkdir()
    made = isolation.TaskLimit.create(f"{isolation.CGROUP_PREFIX}{dead.pid}-leftover")
    ours = isolation.TaskLimit.create(f"{isolation.CGROUP_PREFIX}{os.getpid()}-alive")  # a live grader's: kept
    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text("student,total\nstale,100\n")
    try:
        grade_batch(A, [tmp_path / "missing.ipynb"], out, jobs=1, timeout=3)
        assert not left.exists()
        if made is not None:
            assert not any(p.exists() for p in made.paths)
            assert all(p.exists() for p in ours.paths)
        assert "stale" not in (out / "grades.csv").read_text()
        assert not (out / "GRADING.txt").exists()
    finally:
        if ours is not None:
            ours.close()
        if left.exists():
            left.rmdir()


IMPORTS_OF_THE_ANSWER = {
    "plain_import": "from course_lib.word2vec import skipgram_pairs\n",
    "wrapper": "import course_lib.word2vec as w\n\ndef skipgram_pairs(tokens, window):\n    return w.skipgram_pairs(tokens, window)\n",
    "reload": "import importlib\nimport course_lib.word2vec as w\n\ndef skipgram_pairs(tokens, window):\n"
              "    importlib.reload(w)\n    return w.skipgram_pairs(tokens, window)\n",
    "exec_source": "import course_lib.word2vec as w\nimport numpy as np\n\ndef skipgram_pairs(tokens, window):\n"
                   "    ns = {}\n    exec(bytes(np.fromfile(w.__file__, dtype=np.uint8).tolist()).decode(), ns)\n"
                   "    return ns['skipgram_pairs'](tokens, window)\n",
}


def test_course_libs_own_answer_earns_nothing_and_the_feedback_says_so(tmp_path):
    base = load_nb("02_word2vec")
    subs = [write(with_replaced(base, "skipgram_pairs", src), tmp_path / f"{name}.ipynb")
            for name, src in IMPORTS_OF_THE_ANSWER.items()]
    subs.append(write(base, tmp_path / "honest.ipynb"))
    results = {r.student: r for r in grade_batch("02_word2vec", subs, tmp_path / "out", jobs=2, timeout=5)}
    assert results["honest"].total == results["honest"].max
    for name in IMPORTS_OF_THE_ANSWER:
        assert results[name].scores["skipgram_pairs"] == 0, (name, results[name].results)
        text = (tmp_path / "out" / "feedback" / f"{name}.md").read_text()
        assert "course\\_lib's own" in text or "course_lib's own" in text, text


def test_a_submission_has_a_time_budget(tmp_path, monkeypatch):
    from course_lib.grading import grader
    monkeypatch.setattr(grader, "SUBMISSION_BUDGET", 4.0)
    slow = softmax_with("    import time\n    time.sleep(2.5)\n" + ZEROS)
    sub = write(with_replaced(load_nb(A), "softmax", slow), tmp_path / "slow.ipynb")
    t = time.perf_counter()
    res = grader.grade_notebook(sub, load_assignment(A), timeout=3, budget=4.0)
    assert time.perf_counter() - t < 40
    messages = " ".join(r["message"] for r in res.results)
    assert "time budget" in messages
