"""The kernel layer alone: every attack runs in a grading child with Python's audit hook OFF, so
only bubblewrap's namespaces, the seccomp filter and the limits stand in the way (as they do for
native code when the hook is on). Plus the pieces: the seccomp program, refusal without isolation,
the grader's integrity alarm."""
import hashlib
import os
import platform
import struct
import time
from pathlib import Path

import pytest

from course_lib.grading import isolation
from course_lib.grading.extract import Statement
from course_lib.grading.grader import GraderTampered, IsolationUnavailable, grade_batch, require_isolation
from course_lib.grading.runner import RemoteStudent, ZygotePool
from course_lib.grading.spec import SandboxError, StudentError
from grading_helpers import REPO, linux_only

HIDDEN = REPO / "solutions" / "hidden_tests" / "00_welcome.py"
PUBLIC = REPO / "course_lib" / "grading" / "public" / "00_welcome.py"
GRADER = REPO / "course_lib" / "grading" / "grader.py"
PWNED = "pwned_kernel_test"

needs_isolation = linux_only


def run(source: str, *args, preload=("numpy",), hook: bool = False):
    """Define ``source`` in a fresh isolated child (audit hook off unless ``hook``) and call ``attack``."""
    source = "import numpy as np\n" + source
    student = RemoteStudent([Statement(source, "cell", frozenset(), frozenset())], preload=preload, timeout=10,
                            audit_hook=hook)
    try:
        return student.call("attack", *args)
    finally:
        student.cleanup()


def refused(source: str, *args, **kw) -> str:
    with pytest.raises((StudentError, SandboxError)) as info:
        run(source, *args, **kw)
    return str(info.value)


@pytest.fixture(scope="module", autouse=True)
def isolation_available():
    if os.sys.platform.startswith("linux"):
        assert isolation.problem() is None, f"grading isolation unavailable: {isolation.problem()}"


def _runtime_in_checkout() -> set[str]:
    """Top folders of the checkout that hold a runtime folder: the README's `python -m venv .venv` puts the venv
    there, and the child must see the way down to it (and nothing else of the checkout)."""
    repo = str(REPO).rstrip("/") + "/"
    return {p[len(repo):].split("/")[0] for p in isolation.runtime_paths() if p.startswith(repo)}


@needs_isolation
def test_the_child_sees_only_the_runtime_and_scratch():
    top, cwd, work_root, uid = run("import os\ndef attack():\n    return sorted(os.listdir('/')), os.getcwd(), "
                                   "sorted(os.listdir(" + repr(str(REPO)) + ")) if os.path.isdir(" + repr(str(REPO))
                                   + ") else [], os.getuid()")
    assert cwd == isolation.SCRATCH
    # a top-level folder exists only as the path to a mounted runtime folder (e.g. /tmp/.../venv in CI)
    runtime_tops = {p.strip("/").split("/")[0] for p in isolation.runtime_paths()}
    allowed = {"bin", "dev", "etc", "grader", "lib", "lib32", "lib64", "proc", "sbin", "scratch", "usr"}
    assert set(top) <= allowed | runtime_tops, set(top) - allowed - runtime_tops
    assert "sys" not in top and ("home" not in top or "home" in runtime_tops)
    # course_lib is mounted only for exercises that import it; a venv inside the checkout is seen, nothing else
    assert set(work_root) == _runtime_in_checkout(), set(work_root) - _runtime_in_checkout()
    # what the child sees under a runtime's top folder is only the way down to that runtime
    for top_dir in runtime_tops - allowed:
        seen = run(f"import os\ndef attack():\n    return sorted(os.listdir('/{top_dir}'))")
        wanted = sorted({p.strip("/").split("/")[1] for p in isolation.runtime_paths()
                         if p.strip("/").split("/")[0] == top_dir and p.count("/") > 1})
        assert seen == wanted, (top_dir, seen, wanted)


@needs_isolation
def test_course_lib_is_visible_read_only_only_when_imported():
    listing = run("import course_lib, os\ndef attack():\n    return sorted(os.listdir(" + repr(str(REPO)) + "))",
                  preload=("numpy", "course_lib"))
    assert listing == sorted({"course_lib"} | _runtime_in_checkout())
    msg = refused("import course_lib\ndef attack():\n    open(" + repr(str(PUBLIC)) + ", 'r+b').write(b'#')",
                  preload=("numpy", "course_lib"))
    assert "Read-only file system" in msg or "Permission denied" in msg  # not its owner, and read-only


@needs_isolation
@pytest.mark.parametrize("target", [HIDDEN, REPO / "solutions" / "00_welcome.py", REPO / "tests" / "conftest.py",
                                    REPO / ".git" / "HEAD", Path.home() / ".bashrc"])
def test_nothing_else_is_readable(target):
    assert "No such file" in refused(f"def attack():\n    return open({str(target)!r}, 'rb').read()")
    assert "No such file" in refused("import torch\ndef attack():\n"
                                     f"    return torch.from_file({str(target)!r}, size=8, dtype=torch.uint8)",
                                     preload=("numpy", "torch"))


@needs_isolation
@pytest.mark.parametrize("target", [PUBLIC, GRADER, HIDDEN])
def test_course_files_cannot_be_written_natively(target):
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    for src in ("import torch\ndef attack():\n"
                f"    t = torch.from_file({str(target)!r}, shared=True, size=16, dtype=torch.uint8)\n    t[:] = 35",
                f"def attack():\n    t = np.memmap({str(target)!r}, dtype=np.uint8, mode='r+')\n    t[:16] = 35\n    t.flush()"):
        for lib in (("numpy",), ("numpy", "torch", "course_lib")):
            msg = refused(src, preload=lib)
            assert "No such file" in msg or "Read-only" in msg or "Permission denied" in msg, msg
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


@needs_isolation
def test_links_from_scratch_lead_nowhere():
    assert "No such file" in refused(f"import os\ndef attack():\n    os.symlink({str(HIDDEN)!r}, 'h')\n"
                                     "    return open('h').read()")
    assert "No such file" in refused(f"import os\ndef attack():\n    os.link({str(HIDDEN)!r}, 'h')")


@needs_isolation
def test_writes_land_only_in_scratch(tmp_path):
    targets = [str(REPO / f"{PWNED}.py"), str(Path.home() / PWNED), f"/tmp/{PWNED}", str(tmp_path / PWNED),
               f"/dev/shm/{PWNED}", f"/{PWNED}"]
    errors = run("import torch\ndef attack(paths):\n    errs = []\n    for p in paths:\n        try:\n"
                 "            torch.save(torch.zeros(2), p)\n            errs.append('written')\n"
                 "        except Exception as e:\n            errs.append(type(e).__name__)\n"
                 "    np.zeros(2).tofile('ok.bin')\n    return errs", targets, preload=("numpy", "torch"))
    assert "written" not in errors
    for t in targets:
        assert not Path(t).exists(), t


@needs_isolation
def test_state_does_not_survive_into_the_next_child():
    run("def attack():\n    open('left_behind', 'w').write('x')")
    assert run("import os\ndef attack():\n    return os.listdir('.')") == []


@needs_isolation
def test_scratch_is_size_capped():
    msg = refused("def attack():\n    for j in range(20):\n        with open(f'f{j}', 'wb') as f:\n"
                  "            for _ in range(15):\n                f.write(b'x' * (1 << 20))")
    assert "No space left" in msg


@needs_isolation
def test_no_other_process_is_visible():
    pids, pid, ppid, proc = run("import os\ndef attack():\n    return sorted(int(p) for p in os.listdir('/proc') "
                                "if p.isdigit()), os.getpid(), os.getppid(), sorted(os.listdir('/proc'))")
    # its own PID namespace (it is PID 1 there) and a /proc that shows itself only: not the zygote, not
    # another child, not /proc/sys
    assert pids == [] and pid == 1 and ppid == 0 and proc == ["self"]
    secret = f"secret-{os.getpid()}"
    os.environ["COURSE_TEST_SECRET"] = secret
    try:
        blob = run("import os\ndef attack():\n    out = b''\n    for p in os.listdir('/proc'):\n"
                   "        for f in ('environ', 'cmdline'):\n            try:\n"
                   "                out += open(f'/proc/{p}/{f}', 'rb').read()\n            except OSError:\n"
                   "                pass\n    return out.decode('latin1')")
    finally:
        os.environ.pop("COURSE_TEST_SECRET")
    assert secret not in blob and "PYTEST" not in blob


@needs_isolation
def test_no_network_even_to_loopback_services():
    assert "not permitted" in refused("import socket\ndef attack():\n    socket.socket()")


@needs_isolation
@pytest.mark.parametrize("call", ["os.fork()", "os.posix_spawn('/bin/true', ['true'], {})",
                                  "os.execv('/usr/bin/true', ['true'])", "subprocess.run(['true'])"])
def test_no_new_processes(call):
    msg = refused(f"import os, subprocess\ndef attack():\n    if {call} == 0:\n        os._exit(0)")
    assert "not permitted" in msg, msg


@needs_isolation
def test_no_new_processes_from_native_code():
    assert run("import os, ctypes\ndef attack():\n    libc = ctypes.CDLL(None, use_errno=True)\n    r = libc.fork()\n"
               "    if r == 0:\n        os._exit(0)\n    return r, ctypes.get_errno()") == (-1, 1)  # EPERM


@needs_isolation
def test_threads_work_but_are_capped():
    assert run("import threading\ndef attack():\n    out = []\n    ts = [threading.Thread(target=out.append, args=(i,)) "
               "for i in range(4)]\n    [t.start() for t in ts]\n    [t.join() for t in ts]\n    return sorted(out)") == \
        [0, 1, 2, 3]
    started = run("import threading, time\ndef attack():\n    n = 0\n    try:\n        for _ in range(10000):\n"
                  "            threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n            n += 1\n"
                  "    except RuntimeError:\n        pass\n    return n")
    assert started < isolation.MAX_TASKS


@needs_isolation
def test_ptrace_and_process_memory_are_refused():
    assert run("import ctypes\ndef attack():\n    return ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0), "
               "ctypes.get_errno()") == (-1, 1)  # PTRACE_ATTACH to pid 1: EPERM from seccomp


def test_seccomp_program_shape():
    for machine in ("x86_64", "aarch64"):
        prog = isolation.seccomp_filter(machine)
        assert len(prog) % 8 == 0 and len(prog) // 8 < 100
        first = struct.unpack("=HBBI", prog[:8])
        assert first == (0x20, 0, 0, 4)  # it starts by checking the architecture
    with pytest.raises(OSError, match="architecture"):
        isolation.seccomp_filter("sparc")


def test_refuses_without_isolation_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setattr(isolation, "problem", lambda: "bubblewrap (bwrap) is not installed: install bubblewrap")
    with pytest.raises(IsolationUnavailable, match="bwrap.*--no-isolation"):
        grade_batch("00_welcome", [REPO / "solutions" / "00_welcome.ipynb"], tmp_path)
    require_isolation(False)  # the explicit opt-out is accepted


def test_no_isolation_is_written_in_every_row(tmp_path):
    res = grade_batch("00_welcome", [REPO / "solutions" / "00_welcome.ipynb"], tmp_path, isolated=False)[0]
    assert res.total == res.max and "not isolated" in res.status
    assert "not isolated" in (tmp_path / "grades.csv").read_text()


def test_a_changed_grader_file_stops_the_batch(monkeypatch, tmp_path):
    watched = tmp_path / "watched.py"
    watched.write_text("x = 1\n")
    from course_lib.grading import grader
    monkeypatch.setattr(grader, "watched_files", lambda name: [watched])
    subs = [REPO / "solutions" / "00_welcome.ipynb", REPO / "exercises" / "00_welcome.ipynb"]
    graded = []

    def tamper(res):  # as if the first submission had changed a file the grader trusts
        graded.append(res.student)
        watched.write_text("x = 2\n")

    with pytest.raises(GraderTampered, match="ALARM"):
        grade_batch("00_welcome", subs, tmp_path / "out", jobs=1, progress=tamper, isolated=False)
    assert graded == ["00_welcome"] and (tmp_path / "out" / "ALARM.txt").is_file()
    assert not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="seccomp tables for x86_64/aarch64")
def test_denied_syscall_numbers_match_the_kernel_headers():
    header = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if not header.is_file():
        pytest.skip("kernel headers not installed")
    numbers = {}
    for line in header.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "#define" and parts[1].startswith("__NR_"):
            numbers[parts[1][5:]] = int(parts[2])
    for name, (x86, _arm) in isolation._DENIED.items():
        assert numbers.get(name) == x86, name
    for name, ((x86, _arm), _required) in isolation._SELF_ONLY.items():
        assert numbers.get(name) == x86, name
    assert numbers["clone"] == isolation._CLONE[0] and numbers["clone3"] == isolation._CLONE3[0]


def test_course_grade_refuses_and_names_the_missing_feature(monkeypatch, tmp_path, capsys):
    from course_lib.grading import cli
    monkeypatch.setattr(isolation, "problem", lambda: "bubblewrap (bwrap) is not installed: " + isolation.INSTALL_HINT)
    sub = str(REPO / "solutions" / "00_welcome.ipynb")
    assert cli.main(["grade", "00_welcome", sub, "--out", str(tmp_path / "a"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "apt-get install bubblewrap" in err and "--no-isolation" in err
    assert not (tmp_path / "a" / "grades.csv").exists()
    assert cli.main(["grade", "00_welcome", sub, "--out", str(tmp_path / "b"), "--quiet", "--no-isolation"]) == 0
    assert "not isolated" in (tmp_path / "b" / "grades.csv").read_text()


@needs_isolation
def test_torch_optim_works_in_the_child():
    """torch.optim imports torch._dynamo lazily, which sets environment variables (os.putenv): harmless in
    the child's own process, so the audit hook allows it and training exercises can use optimisers."""
    losses = run("import torch\ndef attack():\n    torch.manual_seed(0)\n    w = torch.nn.Parameter(torch.ones(3))\n"
                 "    opt = torch.optim.Adam([w], lr=0.1)\n    out = []\n    for _ in range(5):\n"
                 "        opt.zero_grad()\n        loss = (w ** 2).sum()\n        loss.backward()\n        opt.step()\n"
                 "        out.append(float(loss))\n    return out", preload=("numpy", "torch"), hook=True)
    assert losses[-1] < losses[0]


# ----------------------------------------------------------------------------- children of one zygote
# The grader forks every exercise's child from a zygote that has done the trusted imports
# (runner.Zygote). Children of the same zygote follow one another: nothing one of them does may
# reach the next, or the zygote. Audit hook off here too: the kernel layer alone.


def in_pool(pool: ZygotePool, source: str, *args, preload=("numpy",), timeout: float = 10, isolated: bool = True):
    """Like ``run``, with the child forked by ``pool``'s zygote for ``preload``."""
    student = RemoteStudent([Statement("import numpy as np\n" + source, "cell", frozenset(), frozenset())],
                            preload=preload, timeout=timeout, audit_hook=False, zygotes=pool, isolated=isolated)
    try:
        return student.call("attack", *args)
    finally:
        student.cleanup()


PROBE = ("import os, resource\ndef attack():\n"
         "    st = os.stat('.')\n"
         "    return (sorted(os.listdir('.')), os.listxattr('.'), st.st_mode, st.st_mtime_ns,\n"
         "            os.getpriority(os.PRIO_PROCESS, 0),\n"
         "            sorted(os.sched_getaffinity(0)), os.sched_getscheduler(0),\n"
         "            [resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_STACK,\n"
         "                                              resource.RLIMIT_MEMLOCK, resource.RLIMIT_NICE)])")


@needs_isolation
def test_each_child_of_a_zygote_finds_scratch_empty_and_as_the_first_found_it():
    with ZygotePool() as pool:
        first = in_pool(pool, PROBE)
        assert first[0] == []
        in_pool(pool, "import os\ndef attack():\n    open('left_behind', 'w').write('x')\n    os.makedirs('a/b/c')\n"
                      "    open('a/b/c/deep', 'w').write('y')\n    os.symlink('/usr', 'link')\n"
                      "    os.mkfifo('fifo')\n    os.chmod('a/b', 0o500)\n    os.utime('.', (1, 1))\n"
                      "    try:\n        os.setxattr('.', 'user.note', b'for the next one')\n"
                      "    except OSError:\n        pass\n"  # older kernels' tmpfs has no user.* attributes
                      "    os.chmod('.', 0o500)")
        zygote = pool.get(("numpy",))
        assert in_pool(pool, PROBE) == first
        assert pool.get(("numpy",)) is zygote and zygote.children == 3  # one zygote served all three


CANARY = ("import os, sys, socket, resource, builtins, numpy\ndef attack():\n"
          "    st = os.stat('.')\n"
          "    umask = os.umask(0o022)\n"
          "    os.umask(umask)\n"
          "    return {'oom': open('/proc/self/oom_score_adj').read(), 'oom_view': open('/proc/self/oom_score').read(),\n"
          "            'coredump': open('/proc/self/coredump_filter').read(), 'host': socket.gethostname(),\n"
          "            'domain': os.uname().version, 'env': sorted(os.environ.items()), 'files': sorted(os.listdir('.')),\n"
          "            'tmp': [p for p in ('/tmp', '/dev/shm') if os.path.exists(p) and os.listdir(p)],\n"
          "            'mode': st.st_mode, 'mtime': st.st_mtime_ns, 'umask': umask, 'cwd': os.getcwd(),\n"
          "            'nice': os.getpriority(os.PRIO_PROCESS, 0), 'affinity': sorted(os.sched_getaffinity(0)),\n"
          "            'limits': [resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_STACK,\n"
          "                       resource.RLIMIT_MEMLOCK, resource.RLIMIT_NICE, resource.RLIMIT_AS, resource.RLIMIT_CPU)],\n"
          "            'modules': sorted(m for m in sys.modules if 'poison' in m), 'printopts': str(numpy.get_printoptions()),\n"
          "            'builtins': sorted(dir(builtins)), 'proc': sorted(os.listdir('/proc')), 'pid': os.getpid(),\n"
          "            'ppid': os.getppid(), 'ids': (os.getresuid(), os.getresgid(), os.getgroups()),\n"
          "            'status': [ln for ln in open('/proc/self/status') if ln.split(':')[0] in\n"
          "                       ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp')]}")

POISON = ("import os, sys, socket, signal, resource, builtins, numpy, types, ctypes\ndef attack():\n"
          "    done = []\n"
          "    def tried(name, fn):\n"
          "        try:\n            fn()\n            done.append(name)\n        except OSError:\n            pass\n"
          "    def write(path, text):\n        with open(path, 'w') as f:\n            f.write(text)\n"
          "    tried('oom', lambda: write('/proc/self/oom_score_adj', '777'))\n"
          "    tried('coredump', lambda: write('/proc/self/coredump_filter', '0x7f'))\n"
          "    tried('hostname', lambda: socket.sethostname('poisoned'))\n"
          "    libc = ctypes.CDLL(None, use_errno=True)\n"
          "    if libc.setdomainname(b'poisoned', 8) == 0:\n        done.append('domainname')\n"
          "    os.environ['POISONED'] = '1'\n    os.putenv('POISONED_TOO', '1')\n"
          "    for p in ('left_behind', '/tmp/left_behind', '/dev/shm/left_behind'):\n"
          "        tried(p, lambda: write(p, 'x'))\n"
          "    sys.modules['poison_module'] = types.ModuleType('poison_module')\n"
          "    numpy.set_printoptions(precision=1)\n    builtins.poisoned = True\n"
          "    os.umask(0o777)\n    tried('nice', lambda: os.nice(5))\n"
          "    tried('nofile', lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16)))\n"
          "    tried('sysctl', lambda: write('/proc/sys/kernel/printk_ratelimit_burst', '10'))\n"
          "    for pid in range(2, 200):\n"
          "        tried(f'kill {pid}', lambda: os.kill(pid, signal.SIGSTOP))\n"
          "    tried('kill all', lambda: os.kill(-1, signal.SIGSTOP))\n"
          "    return done")


@needs_isolation
def test_a_child_cannot_reach_its_zygote_or_change_the_next_child():
    """A child has its own PID, UTS, IPC, user and mount namespaces (a /proc that shows itself only), an
    unprivileged uid and no capability: it sees no zygote to reach, and what it changes about itself
    (oom_score_adj, coredump_filter, environment, module state, umask, nice, limits, files) dies with it."""
    with ZygotePool() as pool:
        before = in_pool(pool, CANARY)
        assert before["proc"] == ["self"] and before["pid"] == 1 and before["ppid"] == 0
        assert before["ids"][0] != (0, 0, 0) and all(int(ln.split()[1], 16) == 0 for ln in before["status"]
                                                   if ln.startswith(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")))
        zygote = pool.get(("numpy",))
        done = in_pool(pool, POISON)
        # what it could change about itself only; never the hostname, a sysctl, another process
        assert not {"hostname", "domainname", "sysctl", "kill all"} & set(done), done
        assert not [d for d in done if d.startswith(("kill", "/tmp", "/dev"))], done
        assert in_pool(pool, CANARY) == before
        assert pool.get(("numpy",)) is zygote and zygote.children == 3 and not zygote.dead


@needs_isolation
def test_timeouts_and_crashes_stay_with_their_own_child():
    honest = "def attack(x):\n    return np.asarray(x) * 2"
    with ZygotePool() as pool:
        assert in_pool(pool, honest, [1.0]).tolist() == [2.0]
        assert "timed out after 1 s" in refused_in(pool, "def attack():\n    while True:\n        pass", timeout=1)
        assert in_pool(pool, honest, [2.0]).tolist() == [4.0]
        assert "SIGSEGV" in refused_in(pool, "import ctypes\ndef attack():\n    ctypes.string_at(0)")
        assert "exited (sys.exit / os._exit?)" in refused_in(pool, "import os\ndef attack():\n    os._exit(0)")
        msg = refused_in(pool, "def attack():\n    return bytearray(50 * 2**30)")
        assert "MemoryError" in msg or "memory" in msg, msg
        zygote = pool.get(("numpy",))
        assert in_pool(pool, honest, [3.0]).tolist() == [6.0]
        assert pool.get(("numpy",)) is zygote  # crashes of a child cost no new zygote


def refused_in(pool: ZygotePool, source: str, **kw) -> str:
    with pytest.raises((StudentError, SandboxError)) as info:
        in_pool(pool, source, **kw)
    return str(info.value)


@needs_isolation
@pytest.mark.parametrize("isolated", [True, False])
def test_a_dead_zygote_is_replaced_and_no_exercise_is_lost(isolated):
    import signal
    honest = "def attack(x):\n    return np.asarray(x) + 1"
    with ZygotePool() as pool:
        assert in_pool(pool, honest, [1.0], isolated=isolated).tolist() == [2.0]
        old = pool.get(("numpy",), isolated)
        os.killpg(old.proc.pid, signal.SIGKILL)  # gone between two children (OOM killer, an operator)
        old.proc.wait()
        assert in_pool(pool, honest, [2.0], isolated=isolated).tolist() == [3.0]
        new = pool.get(("numpy",), isolated)
        assert new is not old and new.children == 1
        if not isolated:  # without the sandbox a child can kill its zygote: only its own answer is at stake
            assert in_pool(pool, "import os, signal\ndef attack():\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                                 "    return 'still here'", isolated=False) == "still here"
            assert in_pool(pool, honest, [3.0], isolated=False).tolist() == [4.0]
            assert pool.get(("numpy",), False) is not new


@needs_isolation
def test_a_submission_inside_a_mounted_runtime_folder_is_refused_for_every_child(tmp_path):
    runtime = isolation.mounted_paths(None)
    if not runtime:
        pytest.skip("the Python runtime lies under /usr here: nothing of it is mounted apart")
    inside = Path(runtime[0]) / "submissions"   # as if the submissions lay in the grader's Python folder
    with ZygotePool() as pool:
        assert in_pool(pool, "def attack():\n    return 1") == 1  # the zygote for numpy exists already
        for preload in (("numpy",), ("numpy", "course_lib")):
            with pytest.raises(OSError, match="refusing to grade"):
                RemoteStudent([Statement("x = 1", "cell", frozenset(), frozenset())], preload=preload,
                              deny_roots=(str(inside),), zygotes=pool)
        with pytest.raises(OSError, match="refusing to grade"):
            isolation.refuse_visible([runtime[0]], None)
        isolation.refuse_visible([str(tmp_path)], None)  # elsewhere: fine


# ----------------------------------------------------------------------------- no root, memory, the reply protocol

@needs_isolation
def test_the_child_is_no_root_and_cannot_write_any_sysctl():
    """Whoever runs the grader (root included): the child's host uid is not 0, it holds no capability, no
    /proc/sys file opens for writing, and the hostname is not its to set."""
    out = run("import os, socket\ndef attack():\n"
              "    out = {'uid': os.getresuid(), 'caps': [ln for ln in open('/proc/self/status') if ln.startswith('Cap')]}\n"
              "    opened = []\n"
              "    for root in ('/proc/sys', '/proc/1/root/proc/sys'):\n"
              "        for folder, _, files in os.walk(root):\n"
              "            for f in files:\n"
              "                try:\n                    os.close(os.open(os.path.join(folder, f), os.O_WRONLY))\n"
              "                    opened.append(f)\n"
              "                except OSError:\n                    pass\n"
              "    out['opened'] = opened\n"
              "    for p in ('/proc/sys/kernel/core_pattern', '/proc/sys/vm/drop_caches', '/proc/sysrq-trigger'):\n"
              "        try:\n            os.close(os.open(p, os.O_WRONLY))\n            opened.append(p)\n"
              "        except OSError:\n            pass\n"
              "    try:\n        socket.sethostname('pwned')\n        out['hostname'] = 'set'\n"
              "    except OSError as e:\n        out['hostname'] = e.errno\n"
              "    return out")
    assert 0 not in out["uid"], out["uid"]
    assert all(int(ln.split()[1], 16) == 0 for ln in out["caps"]), out["caps"]
    assert out["opened"] == [] and out["hostname"] == 1


@needs_isolation
def test_shared_memory_is_refused_and_the_sandbox_has_a_memory_cgroup():
    assert run("import ctypes\ndef attack():\n    libc = ctypes.CDLL(None, use_errno=True)\n"
               "    return libc.memfd_create(b'x', 0), ctypes.get_errno()") == (-1, 1)  # EPERM: seccomp
    has_memory = any("memory" in c for _, c in isolation._cgroup_parents())
    with ZygotePool() as pool:
        assert in_pool(pool, "def attack():\n    return 1") == 1
        tasks = pool.get(("numpy",))._tasks
        if has_memory:
            limits = [p / n for p in tasks.paths for n in ("memory.limit_in_bytes", "memory.max") if (p / n).is_file()]
            assert limits and all(int(f.read_text()) == isolation.SANDBOX_MEMORY for f in limits)


FORGE = ("import os\n"
         "class Forge:\n"
         "    for fd in range(3, 40):\n"
         "        try:\n            os.write(fd, REPLY)\n        except OSError:\n            pass\n"
         "def attack():\n    return 1\n")


@needs_isolation
@pytest.mark.parametrize("reply", [
    b'{"ok": true, "result": {"__dict__": {}}}\n',                      # no load_errors: was a KeyError
    b'{"ok": true, "result": 1}\n{"ok": true}\n',                       # two replies to one request
    b'{"ok": "yes", "result": 1}\n', b'{"ok": false, "kind": "other", "error": 3}\n',
    b'[' * 5000 + b']' * 5000 + b'\n',                                 # deep: RecursionError in json
    b'{"ok": true, "result": [' + b'[' * 30 + b']' * 30 + b']}\n',     # past the depth cap
])
def test_a_forged_reply_is_the_students_fault_and_kills_its_sandbox_at_once(reply):
    with ZygotePool() as pool:
        t = time.monotonic()
        with pytest.raises(SandboxError, match="not the grader's protocol"):
            RemoteStudent([Statement(FORGE.replace("REPLY", repr(reply)), "cell", frozenset(), frozenset())],
                          zygotes=pool, audit_hook=False, timeout=5)
        assert time.monotonic() - t < 20
        assert all(z.dead for z in pool._all)  # the sandbox was killed at once, not left to time out


def test_replies_are_bounded_before_they_are_parsed():
    from course_lib.grading.runner import MAX_MESSAGE, ProtocolError, parse_reply
    assert parse_reply(b'{"ok": true, "result": [1, 2]}') == {"ok": True, "result": [1, 2]}
    assert parse_reply(b'{"ok": false, "kind": "error", "error": "' + b"x" * 5000 + b'"}')["error"] == "x" * 600
    amplifier = b'{"ok": true, "result": [' + b"0," * (7 << 20) + b'0]}'  # 14 MiB -> 7 million objects
    for line in (amplifier, b"x" * (MAX_MESSAGE + 1), b"{" * 200_000, b"[" * 3000 + b"]" * 3000, b"\xff",
                 b'{"ok": true}', b'{"ok": true, "result": 1, "extra": 2}', b'"ok"', b"null"):
        with pytest.raises(ProtocolError):
            parse_reply(line)


@needs_isolation
def test_the_audit_hook_cannot_be_sidestepped_with_a_folder_descriptor():
    """os.open(name, dir_fd=fd) shows the hook the name only: no folder outside /scratch is opened at all
    (and the kernel still shows no course file there)."""
    parent = str(HIDDEN.parent.parent)
    msg = refused(f"import os\ndef attack():\n    fd = os.open({str(REPO)!r}, os.O_RDONLY)\n"
                  "    return os.read(os.open('solutions/hidden_tests/00_welcome.py', os.O_RDONLY, dir_fd=fd), 64)",
                  hook=True)
    assert "does not allow" in msg or "No such file" in msg, msg
    msg = refused(f"import os\ndef attack():\n    fd = os.open('/', os.O_RDONLY | os.O_DIRECTORY)\n"
                  f"    return os.read(os.open({parent.lstrip('/')!r} + '/hidden_tests/00_welcome.py', os.O_RDONLY, "
                  "dir_fd=fd), 64)", hook=True)
    assert "does not allow opening the folder" in msg, msg
    assert run("import os\ndef attack():\n    os.mkdir('d')\n    fd = os.open('d', os.O_RDONLY)\n"
               "    os.close(os.open('f', os.O_WRONLY | os.O_CREAT, dir_fd=fd))\n    return os.listdir('d')",
               hook=True) == ["f"]
