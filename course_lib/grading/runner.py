"""The grader's side: start a sandboxed child for one exercise, talk to it, judge here.

``RemoteStudent`` (a child process) and ``LocalStudent`` (the live notebook, for ``check``)
offer the same calls to a test, and both hand the test plain data only: a local result is
sent through the same encoder as a remote one.

Every child is forked by a ``Zygote``, a sandbox that has already imported numpy/torch (a fresh
interpreter per exercise spent ~2 s on ``import torch`` alone); a ``ZygotePool`` keeps one per grading
worker and configuration for a whole batch. The zygote talks to the grader on a Unix socket (the
grader sends each child's pipes and log file as descriptors); the child talks to the grader on
those pipes, exactly as a directly started child did.
"""
from __future__ import annotations

import base64
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import isolation, paths, sandbox
from .extract import Statement
from .spec import NotImplementedYet, SandboxError, StudentError

FLOAT_PATH_VARS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR")
SANDBOX_SCRIPT = Path(sandbox.__file__).resolve()
# The child's replies are bounded before they are parsed: their size, and the number of containers and
# items in them (each costs the grader a Python object: 16 MiB of "0," would be 8 million), their depth.
MAX_MESSAGE = 16 << 20
MAX_CONTAINERS = 100_000
MAX_ITEMS = 2_000_000
MAX_DEPTH = 24
MAX_ERROR_TEXT = 600
_KINDS = {"not-implemented", "error", "bad-output"}


class ProtocolError(ValueError):
    """A reply that is not the grader's protocol: the student's code wrote it (its sandbox is killed)."""


def parse_reply(line: bytes) -> dict:
    """One reply line -> a checked dict: ``{"ok": True, "result": ...}`` or ``{"ok": False, "kind": ...,
    "error": str}``. Raises ``ProtocolError`` for anything else, never another exception."""
    if len(line) > MAX_MESSAGE:
        raise ProtocolError(f"a reply larger than {MAX_MESSAGE >> 20} MiB")
    if line.count(b"[") + line.count(b"{") > MAX_CONTAINERS or line.count(b",") + line.count(b":") > MAX_ITEMS:
        raise ProtocolError("a reply with too many values")
    try:
        reply = json.loads(line)
    except (ValueError, RecursionError, MemoryError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"a reply that is not JSON ({type(exc).__name__})") from None
    _check_depth(reply)
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise ProtocolError("a reply without its ok field")
    if reply["ok"]:
        if set(reply) != {"ok", "result"}:
            raise ProtocolError("a reply with unknown fields")
    else:
        if set(reply) != {"ok", "kind", "error"} or reply["kind"] not in _KINDS or not isinstance(reply["error"], str):
            raise ProtocolError("an error reply without its kind and text")
        reply["error"] = reply["error"][:MAX_ERROR_TEXT]
    return reply


def _check_depth(value) -> None:
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ProtocolError(f"a reply nested more than {MAX_DEPTH} levels deep")
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v)


def _raise_for(reply: dict, what: str):
    if reply.get("ok"):
        return sandbox.decode(reply.get("result"))
    if reply.get("kind") == "not-implemented":
        raise NotImplementedYet(f"{what} is not implemented yet ({reply.get('error')})")
    raise StudentError(f"{what} raised {reply.get('error')}")


class RemoteObject:
    """An object that lives in the student's process (e.g. an ``RNNCellScratch``)."""

    def __init__(self, student, handle: int, what: str):
        self._student, self._handle, self._what = student, handle, what

    def call(self, method: str, *args, **kwargs):
        return self._student._request("method", f"{self._what}.{method}", handle=self._handle, method=method,
                                      args=args, kwargs=kwargs)

    def __call__(self, *args, **kwargs):
        return self.call("__call__", *args, **kwargs)

    def attr(self, name: str):
        return self._student._request("getattr", f"{self._what}.{name}", handle=self._handle, name=name)

    def set_params(self, params: dict):
        return self._student._request("set_params", f"{self._what} (setting its parameters)", handle=self._handle,
                                      params=params)

    def param_shapes(self) -> dict:
        return self._student._request("param_shapes", f"{self._what}.named_parameters()", handle=self._handle)

    def backward(self, *args, grad_output, method: str = "__call__", output_index: int | None = None, **kwargs):
        """Run ``method(*args)``, backpropagate ``sum(output * grad_output)``; return
        ``{"output", "input_grads", "param_grads"}`` (inputs marked ``TensorArg(..., requires_grad=True)``)."""
        return self._student._request("backward", f"{self._what}.{method} (backward)", handle=self._handle,
                                      method=method, args=args, kwargs=kwargs, grad_output=grad_output,
                                      output_index=output_index)


class Zygote:
    """A sandboxed process that has done the trusted imports of one configuration and forks one child
    per exercise (``sandbox.main``); it never runs a student's code itself.

    Why: a fresh interpreter per exercise pays ``import torch`` (seconds) every time; a fork of one
    that has already imported it costs milliseconds. What keeps the children apart, in the kernel:
    the zygote is PID 1 of its sandbox (``isolation.bwrap_command``), so no child can signal it
    (the kernel drops signals sent to a namespace's init from inside it unless it handles them); it is
    non-dumpable, so a child can neither read nor write its memory, environment or descriptors
    through ``/proc``; the seccomp filter refuses calls that would change it (``_SELF_ONLY``) and
    IPC objects that would outlive a child; one child at a time, and ``/scratch`` is emptied between
    children. Whenever the zygote misbehaves (it dies, does not answer, cannot empty ``/scratch``), or
    a child must be killed (wall clock, protocol), the whole sandbox is killed as it was for a child
    before, and the next exercise gets a fresh zygote (``ZygotePool``)."""

    def __init__(self, preload, isolated: bool = True):
        self.preload, self.isolated = list(preload), isolated
        self.dead: str | None = None
        self.busy = False
        self._tmp = tempfile.TemporaryDirectory(prefix=f"course-zygote-{os.getpid()}-")
        self.work = Path(self._tmp.name) / "work"   # the children's cwd without bubblewrap
        self.work.mkdir()
        self._log = open(Path(self._tmp.name) / "zygote.txt", "wb")
        self._ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.token = f"{isolation.CGROUP_PREFIX}{os.getpid()}-{time.monotonic_ns()}-{id(self)}"
        home = isolation.SCRATCH if isolated else str(self.work)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
               "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "COURSE_SANDBOX_TOKEN": self.token,
               "LANG": "C.UTF-8"}
        # the CPU dispatch the grader runs under reaches the children too, so a test run on another float path
        # (CI's second pass) grades on that path; these variables only choose kernels, never grant anything
        env.update({k: os.environ[k] for k in FLOAT_PATH_VARS if k in os.environ})
        argv = [sys.executable, "-I", "-X", "utf8", str(SANDBOX_SCRIPT), str(theirs.fileno())]
        self._tasks = None
        self.children = 0
        try:
            if isolated:
                argv[4] = isolation.SANDBOX_AT
                course_lib = str(paths.PACKAGE) if "course_lib" in preload else None
                argv = isolation.bwrap_command(argv, sandbox_script=str(SANDBOX_SCRIPT), course_lib=course_lib)
                self._tasks = isolation.TaskLimit.create(self.token)
                if self._tasks is not None:
                    argv = self._tasks.wrap(argv)
            self.proc = subprocess.Popen(
                argv, cwd=self.work, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                pass_fds=(theirs.fileno(),), start_new_session=True, close_fds=True)
        except BaseException:
            self.close()
            raise
        finally:
            theirs.close()
        start = {"op": "start", "preload": self.preload}
        if isolated:
            start.update(drop_to=isolation.drop_to(), own_namespaces=True)
            if "course_lib" in self.preload:
                start["course_lib_parent"] = str(paths.PACKAGE.parent)
        self._ask(start, timeout=60.0, what="start")

    def _ask(self, message: dict, *, timeout: float, what: str, fds=()) -> dict:
        """One control message and its answer; any failure kills the zygote and raises SandboxError."""
        if self.dead:
            raise SandboxError(self.dead)
        try:
            socket.send_fds(self._ctl, [json.dumps(message).encode() + b"\n"], list(fds))
            raw, deadline = b"", time.monotonic() + timeout
            while not raw.endswith(b"\n"):  # one line per answer; strictly one question at a time
                self._ctl.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = self._ctl.recv(1 << 16)
                if not chunk or len(raw) > 1 << 16:
                    break
                raw += chunk
            reply = json.loads(raw) if raw.endswith(b"\n") else None
        except (OSError, ValueError):
            reply = None
        if not isinstance(reply, dict) or not reply.get("ok"):
            said = self._said() if what == "start" else ""  # e.g. a failed import: worth the instructor's eyes
            self.close(f"the grader's sandbox stopped answering ({what})" + (f": {said}" if said else ""))
            raise SandboxError(self.dead)
        return reply

    def _said(self) -> str:
        """The end of what the zygote itself printed (never a student's output: children log elsewhere)."""
        try:
            self._log.flush()
            return (Path(self._tmp.name) / "zygote.txt").read_bytes()[-300:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def fork(self, req_r: int, resp_w: int, log_w: int) -> None:
        """Start one child on these descriptors (the caller closes its copies)."""
        if self.busy:
            raise RuntimeError("one child at a time per zygote")
        self._ask({"op": "fork"}, timeout=30.0, what="fork", fds=(req_r, resp_w, log_w))
        self.busy = True
        self.children += 1

    def wait(self, timeout: float) -> int:
        """The raw wait status of the child (once it has exited); the zygote then empties /scratch,
        and quits if it cannot (the next ``ZygotePool.get`` starts a fresh one)."""
        reply = self._ask({"op": "wait"}, timeout=timeout, what="wait")
        self.busy = False
        if not reply.get("clean"):
            self.close("the grader's sandbox could not be emptied after a child")
        return int(reply["status"])

    def close(self, reason: str = "closed") -> None:
        """Kill the whole sandbox: the zygote, its child, and anything they started."""
        if not self.dead:
            self.dead = reason
        self.busy = False
        if self._log.closed:
            return  # closed before
        try:
            self._ctl.close()
        except OSError:
            pass
        proc = getattr(self, "proc", None)
        if proc is not None:
            try:  # the whole process group: nothing the student started survives
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _kill_marked(self.token)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._tasks is not None:  # kills whatever is left in the sandbox's cgroup, then removes it
            self._tasks.close()
            self._tasks = None
        if not self._log.closed:
            self._log.close()
        self._tmp.cleanup()


class ZygotePool:
    """The zygotes of one grading run: per thread (a grading worker grades one exercise at a time) and
    per configuration (which modules are preloaded, hence whether course_lib is mounted; isolated or
    not). Closing the pool kills them all."""

    def __init__(self):
        self._local = threading.local()
        self._all: list[Zygote] = []
        self._lock = threading.Lock()

    def get(self, preload, isolated: bool = True) -> Zygote:
        key = (tuple(preload), isolated)
        mine = self._local.__dict__.setdefault("zygotes", {})
        zygote = mine.get(key)
        if zygote is None or zygote.dead or zygote.busy or zygote.proc.poll() is not None:
            zygote = Zygote(preload, isolated)
            mine[key] = zygote
            with self._lock:
                self._all = [z for z in self._all if not z.dead] + [zygote]
        return zygote

    def close(self) -> None:
        with self._lock:
            zygotes, self._all = self._all, []
        for zygote in zygotes:
            zygote.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RemoteStudent:
    """The student's definitions for one exercise, running in a limited child forked by a ``Zygote``."""

    def __init__(self, statements: list[Statement], *, preload=("numpy",), deny_roots=(), timeout: float = 10.0,
                 cpu_seconds: int = 60, memory_bytes: int = 2 << 30, seed: int = 0, isolated: bool = True,
                 audit_hook: bool = True, zygotes: ZygotePool | None = None, deadline: float | None = None,
                 forbidden=()):
        """``isolated``: run inside ``isolation``'s kernel sandbox (bubblewrap + seccomp + limits); the
        grader refuses to run without it unless the instructor said ``--no-isolation``.
        ``audit_hook=False`` is for the tests that prove the kernel layer holds on its own.
        ``zygotes``: the grading run's pool, whose zygote for this configuration forks the child; without
        one, the student gets a zygote of its own, closed with it."""
        if isolated:  # the zygote's mounts serve every submission: check this one's folders against them
            isolation.refuse_visible(deny_roots, str(paths.PACKAGE) if "course_lib" in preload else None)
        self.timeout = timeout
        self.deadline = deadline  # time.monotonic() by which the whole submission must be done (its budget)
        self.dead: str | None = None
        self.isolated = isolated
        self._own_pool = None if zygotes is not None else ZygotePool()
        self._tmp = tempfile.TemporaryDirectory(prefix=f"course-grade-{os.getpid()}-")
        self._log_path = Path(self._tmp.name) / "output.txt"
        self._log = open(self._log_path, "wb")
        self._req_w = self._resp_r = -1
        self._zygote = None
        deny = [*deny_roots, f"/proc/{os.getpid()}", str(self._log_path)]
        setup = {"statements": [{"source": s.source, "origin": s.origin} for s in statements],
                 "deny_roots": [str(d) for d in deny], "cpu_seconds": cpu_seconds,
                 "memory_bytes": memory_bytes, "seed": seed, "audit_hook": audit_hook, "forbidden": list(forbidden)}
        if deadline is not None:  # CPU seconds too: never past what is left of the submission's budget
            setup["cpu_seconds"] = max(1, min(cpu_seconds, int(deadline - time.monotonic()) + 1))
        if isolated:
            setup["seccomp"] = base64.b64encode(isolation.seccomp_filter()).decode("ascii")
            setup["max_tasks"] = isolation.MAX_TASKS
        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        try:
            for _ in range(2):  # a zygote that served children before and is gone now: once more, fresh
                self._zygote = (zygotes or self._own_pool).get(preload, isolated)
                try:
                    self._zygote.fork(req_r, resp_w, self._log.fileno())
                    break
                except SandboxError:
                    if not self._zygote.children:
                        raise
        except SandboxError as exc:
            self.dead = str(exc)
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)
        self._buffer = b""
        try:
            info = _raise_for(self._exchange(setup, timeout=max(30.0, timeout)), "loading your definitions")
        except ValueError:  # a result that does not decode
            info = None
        if not (isinstance(info, dict) and set(info) == {"load_errors", "notes"} and isinstance(info["notes"], str)
                and isinstance(info["load_errors"], list) and all(isinstance(e, str) for e in info["load_errors"])):
            self._die("answered with something that is not the grader's protocol (loading its definitions)")
        self.load_errors: list[str] = [e[:MAX_ERROR_TEXT] for e in info["load_errors"][:50]]
        self.notes: str = info["notes"][:MAX_ERROR_TEXT]
    # -- transport
    def _exchange(self, message: dict, timeout: float) -> dict:
        if self.dead:
            raise SandboxError(self.dead)
        try:
            os.write(self._req_w, (json.dumps(message) + "\n").encode())
        except (BrokenPipeError, OSError):
            self._die("your code ended the grader's child process")
        deadline = time.monotonic() + timeout
        budget_ends = self.deadline is not None and self.deadline < deadline
        if budget_ends:
            deadline = self.deadline
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                if budget_ends:
                    self._die("stopped: the submission used its time budget for all its exercises")
                self._die(f"timed out after {timeout:g} s (an endless loop, or far too slow?)")
            ready, _, _ = select.select([self._resp_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._resp_r, 1 << 20)
            if not chunk:
                self._die(self._exit_reason())
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE and b"\n" not in self._buffer:
                self._die(f"sent a reply larger than {MAX_MESSAGE >> 20} MiB")
        line, _, self._buffer = self._buffer.partition(b"\n")
        if self._buffer:  # one answer per request, never ahead of it
            self._die("answered with something that is not the grader's protocol (more than one reply)")
        try:
            return parse_reply(line)
        except ProtocolError as exc:
            self._die(f"answered with something that is not the grader's protocol ({exc})")

    def _exit_reason(self) -> str:
        try:
            code = os.waitstatus_to_exitcode(self._zygote.wait(timeout=5))
        except SandboxError:
            return "closed its channel to the grader"
        if code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if sig == signal.SIGXCPU or sig == signal.SIGKILL:
                return f"was stopped by {name} (CPU-time or memory limit)"
            return f"crashed with {name}" + (" (a segmentation fault)" if sig == signal.SIGSEGV else "")
        if code == 0:
            return "exited (sys.exit / os._exit?) before answering"
        text = self.output()[-300:]
        if "MemoryError" in text:
            return "ran out of memory (the grader's limit)"
        return f"exited with code {code} before answering"

    def _die(self, reason: str):
        """The child is finished with: a timeout or a broken protocol kills its whole sandbox (zygote
        included, as the wall clock did for a child of its own before); a child that ended by itself
        was already reaped by ``_exit_reason``."""
        self.dead = reason
        if self._zygote is not None and self._zygote.busy:
            self._zygote.close(f"a child was stopped: {reason}")
        self.close()
        raise SandboxError(reason)

    def _request(self, op: str, what: str, **fields):
        message = {"op": op}
        for key in ("target", "handle", "method", "name", "output_index"):
            if key in fields:
                message[key] = fields[key]
        message["args"] = sandbox.encode_args(list(fields.get("args", ())))
        message["kwargs"] = sandbox.encode_args(dict(fields.get("kwargs", {})))
        if "params" in fields:
            message["params"] = sandbox.encode_args(dict(fields["params"]))
        if "grad_output" in fields:
            message["grad_output"] = sandbox.encode_args(fields["grad_output"])
        return _raise_for(self._exchange(message, self.timeout), what)

    # -- what tests use
    def call(self, name: str, *args, **kwargs):
        return self._request("call", f"{name}(...)", target=name, args=args, kwargs=kwargs)

    def new(self, name: str, *args, **kwargs) -> RemoteObject:
        ref = self._request("new", f"{name}(...)", target=name, args=args, kwargs=kwargs)
        handle = ref.get("__handle__") if isinstance(ref, dict) and len(ref) == 1 else None
        if type(handle) is not int or handle < 1:
            self._die("answered with something that is not the grader's protocol (an object's handle)")
        return RemoteObject(self, handle, name)

    def output(self) -> str:
        try:
            with open(self._log_path, "rb") as f:
                data = f.read(20000)
            return data.decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self) -> None:
        zygote = self._zygote
        if zygote is not None and zygote.busy:  # the child is still running: ask it to end, then reap it
            try:
                os.write(self._req_w, b'{"op": "bye"}\n')
            except OSError:
                pass
            try:
                zygote.wait(timeout=2)
            except SandboxError:
                pass  # the zygote killed its sandbox, child included
        for fd in (self._req_w, self._resp_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._req_w = self._resp_r = -1
        if self._own_pool is not None:
            self._own_pool.close()
        if not self._log.closed:
            self._log.close()

    def cleanup(self) -> None:
        self.close()
        self._tmp.cleanup()


def _kill_marked(token: str) -> None:
    """Kill any process that still carries the sandbox's token (one that left its process group)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    needle = f"COURSE_SANDBOX_TOKEN={token}".encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


class LocalStudent:
    """The live notebook, for ``check()``: same interface, same plain-data answers."""

    def __init__(self, namespace: dict):
        self.ns = namespace
        self.timeout = None

    def _plain(self, value):
        return sandbox.decode(sandbox.encode(value))

    def _run(self, what: str, fn, *args, **kwargs):
        """Call the student's ``fn``; its exceptions become the test's verdict. Test inputs must be
        copied by the caller (``_localize``) so the student cannot change the test's own arrays."""
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as exc:
            raise NotImplementedYet(f"{what} is not implemented yet ({exc})") from None
        except Exception as exc:  # noqa: BLE001 (the student's error is the test's message)
            raise StudentError(f"{what} raised {type(exc).__name__}: {exc}") from exc

    def _lookup(self, name: str):
        if name not in self.ns:
            raise StudentError(f"`{name}` is not defined in your notebook (run its cell first)")
        return self.ns[name]

    def call(self, name: str, *args, **kwargs):
        return self._plain(self._run(f"{name}(...)", self._lookup(name), *_localize(list(args)), **_localize(kwargs)))

    def new(self, name: str, *args, **kwargs):
        obj = self._run(f"{name}(...)", self._lookup(name), *_localize(list(args)), **_localize(kwargs))
        return LocalObject(self, obj, name)


class LocalObject:
    def __init__(self, student: LocalStudent, obj, what: str):
        self._s, self._obj, self._what = student, obj, what

    def call(self, method: str, *args, **kwargs):
        return self._s._plain(self._s._run(f"{self._what}.{method}", getattr(self._obj, method),
                                           *_localize(list(args)), **_localize(kwargs)))

    def __call__(self, *args, **kwargs):
        return self.call("__call__", *args, **kwargs)

    def attr(self, name: str):
        return self._s._plain(getattr(self._obj, name))

    def set_params(self, params: dict):
        self._s._run(f"{self._what} (setting its parameters)", sandbox.set_params, self._obj, _localize(params))

    def param_shapes(self) -> dict:
        return {n: list(p.shape) for n, p in self._obj.named_parameters()}

    def backward(self, *args, grad_output, method: str = "__call__", output_index: int | None = None, **kwargs):
        return self._s._plain(self._s._run(
            f"{self._what}.{method} (backward)", sandbox.backward_through, getattr(self._obj, method), self._obj,
            _localize(list(args)), _localize(kwargs), _localize(grad_output), output_index))


def _localize(value):
    """A fresh copy of a test input, built exactly as the child builds it (TensorArg -> tensor),
    so a student function that changes its input in place cannot change the test's own copy."""
    return sandbox.decode(sandbox.encode_args(value), tensors=True)
