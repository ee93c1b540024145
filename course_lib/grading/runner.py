"""The grader's side: start a sandboxed child for one exercise, talk to it, judge here.

``RemoteStudent`` (a child process) and ``LocalStudent`` (the live notebook, for ``check``)
offer the same calls to a test, and both hand the test plain data only: a local result is
sent through the same encoder as a remote one.
"""
from __future__ import annotations

import base64
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import isolation, paths, sandbox
from .extract import Statement
from .spec import NotImplementedYet, SandboxError, StudentError

SANDBOX_SCRIPT = Path(sandbox.__file__).resolve()
MAX_MESSAGE = 64 << 20


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


class RemoteStudent:
    """The student's definitions for one exercise, running in a limited child process."""

    def __init__(self, statements: list[Statement], *, preload=("numpy",), deny_roots=(), timeout: float = 10.0,
                 cpu_seconds: int = 60, memory_bytes: int = 2 << 30, seed: int = 0, isolated: bool = True,
                 audit_hook: bool = True):
        """``isolated``: run inside ``isolation``'s kernel sandbox (bubblewrap + seccomp + limits); the
        grader refuses to run without it unless the instructor said ``--no-isolation``.
        ``audit_hook=False`` is for the tests that prove the kernel layer holds on its own."""
        self.timeout = timeout
        self.dead: str | None = None
        self.isolated = isolated
        self._tmp = tempfile.TemporaryDirectory(prefix="course-grade-")
        work = Path(self._tmp.name) / "work"
        work.mkdir()
        self._log_path = Path(self._tmp.name) / "output.txt"
        self._log = open(self._log_path, "wb")
        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        self.token = f"course-sandbox-{time.monotonic_ns()}-{id(self)}"
        home = isolation.SCRATCH if isolated else str(work)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
               "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "COURSE_SANDBOX_TOKEN": self.token,
               "LANG": "C.UTF-8"}
        deny = [*deny_roots, f"/proc/{os.getpid()}", self._tmp.name + "/output.txt"]
        argv = [sys.executable, "-I", "-X", "utf8", str(SANDBOX_SCRIPT), str(req_r), str(resp_w)]
        self._tasks = None
        setup = {"statements": [{"source": s.source, "origin": s.origin} for s in statements],
                 "preload": list(preload), "deny_roots": [str(d) for d in deny], "cpu_seconds": cpu_seconds,
                 "memory_bytes": memory_bytes, "seed": seed, "audit_hook": audit_hook}
        if isolated:
            argv[4] = isolation.SANDBOX_AT
            course_lib = str(paths.PACKAGE) if "course_lib" in preload else None
            argv = isolation.bwrap_command(argv, sandbox_script=str(SANDBOX_SCRIPT), course_lib=course_lib,
                                           forbidden=tuple(deny_roots))
            self._tasks = isolation.TaskLimit.create(self.token)
            if self._tasks is not None:
                argv = self._tasks.wrap(argv)
            setup["seccomp"] = base64.b64encode(isolation.seccomp_filter()).decode("ascii")
            setup["max_tasks"] = isolation.MAX_TASKS
        try:
            self.proc = subprocess.Popen(
                argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                pass_fds=(req_r, resp_w), start_new_session=True, close_fds=True)
        except BaseException:
            if self._tasks is not None:
                self._tasks.close()
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)
        self._buffer = b""
        info = _raise_for(self._exchange(setup, timeout=max(30.0, timeout)), "loading your definitions")
        self.load_errors: list[str] = info["load_errors"]
        self.notes: str = info["notes"]

    # -- transport
    def _exchange(self, message: dict, timeout: float) -> dict:
        if self.dead:
            raise SandboxError(self.dead)
        try:
            os.write(self._req_w, (json.dumps(message) + "\n").encode())
        except (BrokenPipeError, OSError):
            self._die("your code ended the grader's child process")
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self._die(f"timed out after {timeout:g} s (an endless loop, or far too slow?)")
            ready, _, _ = select.select([self._resp_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._resp_r, 1 << 20)
            if not chunk:
                self._die(self._exit_reason())
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE:
                self._die("sent more than 64 MiB of output")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            self._die("answered with something that is not the grader's protocol")
        if not isinstance(reply, dict):
            self._die("answered with something that is not the grader's protocol")
        return reply

    def _exit_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "closed its channel to the grader"
        if self.isolated and 128 < code < 128 + 65:  # bubblewrap reports a child killed by signal N as 128 + N
            code = 128 - code
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
        self.dead = reason
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
        return RemoteObject(self, int(ref["__handle__"]), name)

    def output(self) -> str:
        try:
            with open(self._log_path, "rb") as f:
                data = f.read(20000)
            return data.decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self._req_w, b'{"op": "bye"}\n')
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:  # the whole process group: nothing the student started survives
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _kill_marked(self.token)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self._tasks is not None:  # kills whatever is left in the child's cgroup, then removes it
            self._tasks.close()
            self._tasks = None
        for fd in (self._req_w, self._resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._req_w = self._resp_r = -1
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
