"""The process that runs a student's code for the grader, and the wire format both sides use.

This file is executed by path (``python -I sandbox.py CONTROL_FD``), normally inside the
kernel-enforced sandbox that ``isolation.py`` builds with bubblewrap (its own namespaces, a
read-only minimal filesystem, one empty tmpfs to write in). It imports only the standard library
and numpy (torch when the assignment needs it). It starts as a **zygote** and never runs a
student's code itself:

1. import the trusted modules the assignment needs (numpy, torch): once, because ``import torch``
   costs seconds and an assignment has several exercises to grade in a fresh process each;
2. make itself non-dumpable (``PR_SET_DUMPABLE`` 0), so that a child of the same user can neither
   open its ``/proc/<pid>/mem``, ``environ`` or ``fd/`` nor attach to it, then wait on the grader's
   control socket;
3. for each exercise, ``fork`` one child on pipes the grader sends, one child at a time; after the
   child has exited, empty the writable folder (``/scratch``) and restore its mode and times, so
   the next child finds it exactly as the first did (the zygote quits, and the grader starts a
   fresh one, if that fails).

The child, from the fork on (``_run_child``):

1. closes the control socket, takes the grader's log file as stdout/stderr, starts its own
   session (so no process-group call reaches the zygote) and becomes dumpable again;
2. limits itself: CPU seconds, address space, file size, no core dumps, threads; without
   bubblewrap (``--no-isolation``) also a new network namespace when the kernel allows it;
3. installs the seccomp filter the grader sent (threads yes; processes, exec, ptrace, sockets,
   mounts, namespaces, IPC objects and changes to other processes no): from here on the kernel
   refuses those calls, native code included;
4. installs an audit hook, the second line: it refuses the same things at the Python level with
   a clear message, and opening files under the folders the grader names;
5. executes only the definitions the grader sent (never the notebook's top-level code);
6. answers requests: call a function, build an object, call a method, set parameters,
   run a backward pass. Every answer is plain data: JSON with numpy arrays as
   ``np.save(allow_pickle=False)`` bytes. The grader judges the answers in its own process.

Messages are single lines of JSON, one per request and one per answer.
"""
from __future__ import annotations

import base64
import io
import json
import os
import sys

import numpy as np

# ----------------------------------------------------------------------------- wire format


def encode(value, _depth: int = 0):
    """Plain data -> JSON-able structure. Arrays and tensors become npy bytes (base64)."""
    if _depth > 20:
        raise TypeError("value is nested more than 20 levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value if type(value) is int else int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, np.generic):
        if isinstance(value, (np.floating, np.integer, np.bool_)):
            return value.item()
        raise TypeError(f"unsupported numpy scalar {type(value).__name__}")
    if isinstance(value, np.ndarray):
        return {"__nd__": _npy(value)}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return {"__nd__": _npy(value.detach().cpu().numpy()), "tensor": True}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, _depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict keys must be strings")
        return {"__dict__": {k: encode(v, _depth + 1) for k, v in value.items()}}
    raise TypeError(f"returned an object of type {type(value).__name__}; expected numbers, arrays, "
                    "tensors, strings, or lists/tuples/dicts of them")


def _npy(arr: np.ndarray) -> str:
    arr = np.asarray(arr)  # drops ndarray subclasses: only the data travels
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"arrays must hold numbers or booleans, got dtype {arr.dtype}")
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr).reshape(arr.shape), allow_pickle=False)  # keeps 0-d arrays 0-d
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode(obj, tensors: bool = False, _depth: int = 0):
    """Inverse of ``encode``. Never unpickles: arrays are loaded with ``allow_pickle=False``.
    With ``tensors=True`` (in the child), values marked as tensors become torch tensors."""
    if _depth > 20:
        raise ValueError("message nested too deeply")
    if isinstance(obj, list):
        return [decode(v, tensors, _depth + 1) for v in obj]
    if isinstance(obj, dict):
        if "__nd__" in obj:
            arr = np.load(io.BytesIO(base64.b64decode(obj["__nd__"])), allow_pickle=False)
            if tensors and obj.get("tensor"):
                import torch
                t = torch.from_numpy(np.array(arr))
                if obj.get("requires_grad"):
                    t.requires_grad_(True)
                return t
            return arr
        if "__tuple__" in obj:
            return tuple(decode(v, tensors, _depth + 1) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {k: decode(v, tensors, _depth + 1) for k, v in obj["__dict__"].items()}
        raise ValueError(f"unknown message object with keys {sorted(obj)[:5]}")
    return obj


class TensorArg:
    """Marks an argument the child must pass as a torch tensor (optionally requiring grad)."""

    def __init__(self, array, requires_grad: bool = False, dtype: str = "float64"):
        self.array = np.asarray(array, dtype=dtype)
        self.requires_grad = requires_grad

    def encoded(self):
        return {"__nd__": _npy(self.array), "tensor": True, "requires_grad": self.requires_grad}


def encode_args(value):
    """Like ``encode``, but understands ``TensorArg`` (parent side)."""
    if isinstance(value, TensorArg):
        return value.encoded()
    if isinstance(value, tuple):
        return {"__tuple__": [encode_args(v) for v in value]}
    if isinstance(value, list):
        return [encode_args(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {k: encode_args(v) for k, v in value.items()}}
    return encode(value)


# ----------------------------------------------------------------------------- torch helpers
# Used by the child and by ``runner.LocalObject`` (check() in the notebook) alike.

def set_params(module, params: dict) -> None:
    """Copy test-chosen values into the student's module's parameters, by name and shape."""
    import torch
    named = dict(module.named_parameters())
    missing = [n for n in params if n not in named]
    if missing:
        raise AttributeError(f"your module has no parameter(s) {missing}; it has {sorted(named)}")
    with torch.no_grad():
        for n, value in params.items():
            if tuple(named[n].shape) != tuple(value.shape):
                raise ValueError(f"parameter {n} has shape {tuple(named[n].shape)}, the test expects {tuple(value.shape)}")
            named[n].copy_(torch.as_tensor(value, dtype=named[n].dtype))


def backward_through(fn, owner, args, kwargs, grad_output, output_index=None) -> dict:
    """Run ``fn(*args)``, backpropagate sum(output * grad_output); return the output, the gradients
    of the tensor arguments that require grad and those of ``owner``'s parameters (if a module)."""
    import torch
    out = fn(*args, **kwargs)
    picked = out[output_index] if output_index is not None else out
    if not isinstance(picked, torch.Tensor):
        raise TypeError(f"expected a tensor output, got {type(picked).__name__}")
    weight = torch.as_tensor(grad_output, dtype=picked.dtype)
    if tuple(weight.shape) != tuple(picked.shape):
        raise ValueError(f"output has shape {tuple(picked.shape)}, expected {tuple(weight.shape)}")
    (picked * weight).sum().backward()
    params = dict(owner.named_parameters()) if isinstance(owner, torch.nn.Module) else {}
    return {"output": out,
            "input_grads": [a.grad if isinstance(a, torch.Tensor) and a.requires_grad else None for a in args],
            "param_grads": {n: p.grad for n, p in params.items() if p.grad is not None}}


# ----------------------------------------------------------------------------- the child

_SAFE_PRELOAD = {"numpy", "torch", "course_lib", "math", "random", "collections", "itertools", "functools",
                 "re", "string", "typing", "dataclasses", "heapq", "bisect", "statistics"}

_BLOCKED_EVENTS = frozenset({
    "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
    "socket.gethostbyname", "socket.__new__",
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "os.kill", "os.killpg", "signal.pthread_kill", "pty.spawn", "os.startfile", "webbrowser.open",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function", "ctypes.cdata",
    "ctypes.cdata/buffer", "ctypes.string_at", "ctypes.wstring_at", "ctypes.addressof",
    "ctypes.get_errno", "ctypes.set_errno", "ctypes.seh_exception", "ctypes.PyObj_FromPtr",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.setprofile", "sys.settrace",
    "os.chroot", "os.setxattr", "os.removexattr", "_posixsubprocess.fork_exec",
    "sys.remote_exec", "cpython.PyInterpreterState_New",
})
_PATH_EVENTS = {"os.remove": 0, "os.rename": 0, "os.rmdir": 0, "os.mkdir": 0, "os.chmod": 0,
                "os.chown": 0, "os.link": 0, "os.symlink": 0, "os.truncate": 0, "shutil.rmtree": 0,
                "os.listdir": 0, "os.scandir": 0, "glob.glob": 0, "os.utime": 0}


def _limit_self(cpu_seconds: int, memory_bytes: int, max_tasks: int, isolated: bool) -> str:
    notes = []
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if isolated:  # in the sandbox's memory cgroup, the kernel's OOM killer takes the child, not the zygote
            try:
                with open("/proc/self/oom_score_adj", "w") as f:
                    f.write("1000")
            except OSError:
                pass
        # Threads: counted per user (the kernel ignores this for root, so the grader adds a pids
        # cgroup where it can). Without isolation, no new tasks at all (no seccomp to tell threads
        # from processes there).
        resource.setrlimit(resource.RLIMIT_NPROC, (max_tasks, max_tasks) if isolated else (0, 0))
    except (ImportError, ValueError, OSError) as exc:  # not Linux/macOS, or a limit the OS refuses
        notes.append(f"rlimits partly unavailable: {exc}")
    if sys.platform.startswith("linux") and not isolated:  # bubblewrap already gave the child its own
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            CLONE_NEWNET, CLONE_NEWUSER = 0x40000000, 0x10000000
            if libc.unshare(CLONE_NEWNET) != 0 and libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
                notes.append("no network namespace (the audit hook still refuses sockets)")
        except OSError as exc:
            notes.append(f"no network namespace: {exc}")
    return "; ".join(notes)


def install_seccomp(program: bytes) -> None:
    """Install a seccomp filter (``isolation.seccomp_filter``) on this process and its future
    threads. Irrevocable: not even this process can lift it later."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    fprog = SockFprog(len(program) // 8, program)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _install_audit_hook(deny_roots: tuple, write_root: str) -> None:
    realpath, sep = os.path.realpath, os.sep
    deny = tuple(realpath(r).rstrip(sep) + sep for r in deny_roots)
    allow = tuple(realpath(r).rstrip(sep) + sep for r in (write_root,))
    blocked, path_events = _BLOCKED_EVENTS, frozenset(_PATH_EVENTS)

    def denied(path) -> bool:
        if isinstance(path, int):
            return False  # an already open descriptor
        try:
            p = realpath(os.fsdecode(path)) + sep
        except (TypeError, ValueError):
            return True
        return p.startswith(deny)

    def outside_tmp(path) -> bool:
        try:
            return not (realpath(os.fsdecode(path)) + sep).startswith(allow)
        except (TypeError, ValueError):
            return True

    def hook(event, args):
        if event in blocked:
            raise PermissionError(f"the grader's sandbox does not allow {event}")
        if event == "open":
            path, mode = args[0], args[1]
            if path is None:
                return
            if denied(path):
                raise PermissionError(f"the grader's sandbox does not allow reading {path}")
            writing = isinstance(mode, str) and any(c in mode for c in "wax+")
            if not writing and isinstance(args[2], int):
                writing = bool(args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND))
            if writing and outside_tmp(path):
                raise PermissionError(f"the grader's sandbox allows writing only in its temporary folder, not {path}")
            # A folder's descriptor would let os.open(name, dir_fd=...) reach paths this hook never sees whole
            # (the event carries the name only): no folder outside the temporary one is opened.
            if not isinstance(path, int) and outside_tmp(path) and os.path.isdir(path):
                raise PermissionError(f"the grader's sandbox does not allow opening the folder {path}")
        elif event in path_events:
            target = args[0] if args else None
            if target is not None and (denied(target) or (event not in ("os.listdir", "os.scandir", "glob.glob")
                                                          and outside_tmp(target))):
                raise PermissionError(f"the grader's sandbox does not allow {event} on {target}")

    sys.addaudithook(hook)


class _Child:
    def __init__(self, resp_fd: int):
        self.resp = os.fdopen(resp_fd, "w", encoding="utf-8")
        self.ns: dict = {"__name__": "__student__", "__builtins__": __builtins__}
        self.handles: dict[int, object] = {}
        self.seed = 0

    def reply(self, payload: dict) -> None:
        try:
            line = json.dumps(payload, allow_nan=True)
        except (TypeError, ValueError) as exc:
            line = json.dumps({"ok": False, "kind": "bad-output", "error": f"could not send the result: {exc}"})
        self.resp.write(line + "\n")
        self.resp.flush()

    def _seed(self) -> None:
        import random
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.manual_seed(self.seed)

    def lookup(self, name: str):
        if name not in self.ns:
            raise LookupError(f"`{name}` is not defined in your notebook")
        return self.ns[name]

    def handle(self, req: dict):
        op = req["op"]
        args = decode(req.get("args", []), tensors=True)
        kwargs = decode(req.get("kwargs", {"__dict__": {}}), tensors=True)
        self._seed()
        if op == "call":
            return self.lookup(req["target"])(*args, **kwargs)
        if op == "new":
            obj = self.lookup(req["target"])(*args, **kwargs)
            hid = len(self.handles) + 1
            self.handles[hid] = obj
            return {"__handle__": hid}
        obj = self.handles[req["handle"]] if req.get("handle") else self.lookup(req["target"])
        if op == "method":
            return getattr(obj, req["method"])(*args, **kwargs)
        if op == "getattr":
            return getattr(obj, req["name"])
        if op == "set_params":
            return set_params(obj, decode(req["params"]))
        if op == "param_shapes":
            return {n: list(p.shape) for n, p in obj.named_parameters()}
        if op == "backward":
            fn = getattr(obj, req.get("method") or "__call__") if req.get("handle") else obj
            return backward_through(fn, obj, args, kwargs, decode(req["grad_output"]), req.get("output_index"))
        raise ValueError(f"unknown op {op!r}")

    def serve(self, req_file) -> None:
        for line in req_file:
            req = json.loads(line)
            if req.get("op") == "bye":
                break
            try:
                result = self.handle(req)
                self.reply({"ok": True, "result": encode(result)})
            except NotImplementedError as exc:
                self.reply({"ok": False, "kind": "not-implemented", "error": str(exc) or "NotImplementedError"})
            except BaseException as exc:  # noqa: BLE001 (SystemExit too: the student's code must not end the child)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self.reply({"ok": False, "kind": "error", "error": f"{type(exc).__name__}: {exc}"[:2000]})


PR_SET_DUMPABLE = 4


def _prctl(option: int, value: int) -> None:
    """Linux only (elsewhere there is no kernel isolation to complete: ``--no-isolation``)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    if ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


# ----------------------------------------------------------------------------- privileges and namespaces
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID = 0x20000, 0x4000000, 0x8000000, 0x10000000, \
    0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_RDONLY, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = \
    2, 4, 8, 1, 32, 4096, 8192, 16384, 1 << 18
_CAPSET = {"x86_64": 126, "aarch64": 91}


def _libc():
    import ctypes
    return ctypes, ctypes.CDLL(None, use_errno=True)


def _become(uid: int, gid: int, home: str) -> None:
    """A root sandbox (a root grader) becomes ``uid``/``gid`` for good, before it imports anything: the
    host's uid 0 may write global sysctls and root-owned /proc files whatever its capabilities. The
    writable folder is given to the new owner first (bubblewrap made it root's)."""
    os.chown(home, uid, gid)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid) or os.getgroups():
        raise OSError("could not give up root")
    with open("/proc/self/status") as f:
        caps = {ln.split(":")[0]: ln.split()[1] for ln in f if ln.startswith("Cap")}
    if int(caps.get("CapEff", "1"), 16) or int(caps.get("CapPrm", "1"), 16):
        raise OSError("capabilities left after giving up root")


def _drop_capabilities() -> None:
    """No capability at all, in any namespace, for good (bounding set, ambient, permitted, effective)."""
    import platform
    ctypes, libc = _libc()
    PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: no such cap
            raise OSError(ctypes.get_errno(), f"could not drop capability {cap}")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc.syscall(_CAPSET[platform.machine()], header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _forbid(names) -> list[str]:
    """Replace course_lib's own answers (``spec.FORBIDDEN``: "module:name") in every loaded course_lib module
    by a function that refuses; return the files that define them (hidden next, where the child has a
    mount namespace of its own). Trusted code: runs before any of the student's."""
    import glob
    import importlib
    files: set[str] = set()
    for spec in names:
        modname, _, attr = str(spec).partition(":")
        if not modname.startswith("course_lib"):
            continue
        try:
            module = importlib.import_module(modname)
        except Exception:  # noqa: BLE001 (course_lib not mounted for this exercise: nothing to hide)
            continue
        original = getattr(module, attr, None)
        if original is None:
            continue

        def refuse(*_a, _name=f"{modname}.{attr}", **_k):
            raise PermissionError(f"{_name} is course_lib's own answer to this exercise; the grader does not let "
                                  "you use it here: write your own")
        for loaded in list(sys.modules.values()):
            if getattr(loaded, "__name__", "").startswith("course_lib"):
                for key, value in list(vars(loaded).items()):
                    if value is original:
                        setattr(loaded, key, refuse)
        source = getattr(module, "__file__", None)
        if source:
            stem = os.path.splitext(os.path.basename(source))[0]
            files.add(source)
            files.update(glob.glob(os.path.join(os.path.dirname(source), "__pycache__", f"{stem}.*.pyc")))
    return sorted(files)


def _own_namespaces(close_in_relay: tuple, forbidden=()) -> str:
    """Give the forked child namespaces of its own before any student code runs: a user namespace (its
    uid mapped to itself: no privilege anywhere), a mount namespace whose ``/proc`` shows this process
    only, its own UTS (hostname), IPC and PID namespaces. The PID namespace needs one more fork: this
    process stays in the zygote's namespace as a relay (it waits for the child and ends as the child
    ended); the child, PID 1 of its own namespace, returns. Returns a note ("" when all went well)."""
    ctypes, libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) != 0:
        why = os.strerror(ctypes.get_errno())  # e.g. user namespaces restricted: the sandbox's own hold
        _forbid(forbidden)
        return f"no namespaces of its own ({why})"
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    pid = os.fork()
    if pid:
        _relay(pid, close_in_relay)  # never returns
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)

    def mount(src, dst, fstype, flags, data=None):
        if libc.mount(src, dst.encode(), fstype, flags, data) != 0:
            raise OSError(ctypes.get_errno(), f"mount {dst}: {os.strerror(ctypes.get_errno())}")

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    outer = os.readlink("/proc/self")               # this process in the zygote's /proc
    hold = os.path.join(os.getcwd(), ".proc-self")  # a moment in /scratch, then moved
    before = os.stat(os.getcwd())
    os.mkdir(hold)
    try:
        mount(f"/proc/{outer}".encode(), hold, None, MS_BIND)
        mount(b"proc", "/proc", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=16k,mode=755")
        os.mkdir("/proc/self")
        mount(hold.encode(), "/proc/self", None, MS_MOVE)
        mount(None, "/proc", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    finally:
        os.rmdir(hold)
        os.utime(os.getcwd(), ns=(before.st_atime_ns, before.st_mtime_ns))  # /scratch as the zygote left it
    for path in _forbid(forbidden):  # course_lib's own answer: its source (and bytecode) read as empty here
        mount(b"/dev/null", path, None, MS_BIND)
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _drop_capabilities()
    return ""


def _relay(pid: int, fds: tuple) -> None:
    """The child's parent in the zygote's PID namespace: end exactly as the child ends."""
    import resource
    import signal
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    code = 1
    try:
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
            os.kill(os.getpid(), sig)
            code = 128 + sig
        else:
            code = os.waitstatus_to_exitcode(status)
    finally:
        os._exit(code)


def _receive(ctl) -> tuple[dict | None, list[int]]:
    """One control message (a JSON line) and the descriptors sent with it; None when the grader has gone."""
    import socket
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, more, _, _ = socket.recv_fds(ctl, 1 << 16, 3)
        fds += more
        if not chunk or len(data) > 1 << 16:
            return None, fds
        data += chunk
    return json.loads(data), fds


def _send(ctl, message: dict) -> None:
    ctl.sendall(json.dumps(message).encode() + b"\n")


def _empty_folder(path: str, mode: int, times: tuple) -> bool:
    """Remove everything in ``path`` (a child's leftovers, folders it made read-only included) and give
    ``path`` back its first mode, times and (no) extended attributes; False when that fails (then the
    zygote quits)."""
    def remove_in(folder: str) -> None:
        with os.scandir(folder) as entries:
            for entry in list(entries):
                if entry.is_dir(follow_symlinks=False):
                    os.chmod(entry.path, 0o700)
                    remove_in(entry.path)
                    os.rmdir(entry.path)
                else:
                    os.unlink(entry.path)

    try:
        os.chmod(path, 0o700)
        remove_in(path)
        attributes = getattr(os, "listxattr", lambda _: [])  # Linux only
        for name in attributes(path):  # user.* attributes a child set on the folder itself
            os.removexattr(path, name)
        os.chmod(path, mode)
        os.utime(path, ns=times)
        return not os.listdir(path) and not attributes(path)
    except Exception:  # noqa: BLE001 (too deep, or anything else that resists: a fresh zygote instead)
        return False


def _run_child(ctl_fd: int, req_fd: int, resp_fd: int, log_fd: int, own_namespaces: bool = False) -> None:
    """A forked child: cut its ties to the zygote, then load and serve the student's definitions."""
    import signal
    os.close(ctl_fd)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.setsid()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _prctl(PR_SET_DUMPABLE, 1)  # the child's own /proc entries behave as in any fresh process (and are its own)
    req_file = os.fdopen(req_fd, "r", encoding="utf-8")
    setup = json.loads(req_file.readline())
    forbidden = list(setup.get("forbidden", []))
    if own_namespaces:
        ns_note = _own_namespaces((req_fd, resp_fd, 1, 2), forbidden)
    else:
        ns_note = ""
        _forbid(forbidden)
    child = _Child(resp_fd)
    isolated = bool(setup.get("seccomp"))
    notes = _limit_self(int(setup["cpu_seconds"]), int(setup["memory_bytes"]), int(setup.get("max_tasks", 64)),
                        isolated)
    notes = "; ".join(n for n in (ns_note, notes) if n)
    if isolated:  # failing here must stop the child: the grader then reports it, nothing runs unconfined
        install_seccomp(base64.b64decode(setup["seccomp"]))
    child.seed = int(setup.get("seed", 0))
    if setup.get("audit_hook", True):
        _install_audit_hook(tuple(setup["deny_roots"]), os.getcwd())
    load_errors = []
    for stmt in setup["statements"]:
        try:
            child._seed()
            exec(compile(stmt["source"], stmt["origin"], "exec"), child.ns)  # noqa: S102 (the sandbox's purpose)
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            load_errors.append(f"{stmt['origin']}: {type(exc).__name__}: {exc}"[:500])
    child.reply({"ok": True, "result": encode({"load_errors": load_errors, "notes": notes})})
    child.serve(req_file)
    child.resp.flush()
    for stream in (sys.__stdout__, sys.__stderr__):  # what the student printed, for the instructor's results
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass


def main() -> None:
    """The zygote (see the module's docstring). Control messages on the socket ``CONTROL_FD`` are
    JSON lines, one question and its answer at a time: ``start`` (with the modules to import), ``fork`` (with the child's
    request pipe, answer pipe and log file as passed descriptors) and ``wait`` (reap the child,
    answer its raw wait status)."""
    import resource  # noqa: F401  (loaded once here: every child's relay and limits use it)
    import signal
    import socket
    ctl_fd = int(sys.argv[1])
    ctl = socket.socket(fileno=ctl_fd)
    start, _ = _receive(ctl)
    if start.get("drop_to"):  # a root grader's sandbox: nobody from here on (isolation._unshare_flags)
        _become(int(start["drop_to"]["uid"]), int(start["drop_to"]["gid"]), os.getcwd())
    own_namespaces = bool(start.get("own_namespaces"))
    if start.get("course_lib_parent"):  # the course_lib the grader mounted (and hashed), whatever finds another
        sys.path.insert(0, str(start["course_lib_parent"]))
    # Trusted imports first (torch loads shared libraries through ctypes); children inherit them.
    for name in start.get("preload", []):
        if name in _SAFE_PRELOAD:
            __import__(name)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _prctl(PR_SET_DUMPABLE, 0)
    home = os.getcwd()
    first = os.stat(home)
    mode, times = first.st_mode & 0o7777, (first.st_atime_ns, first.st_mtime_ns)
    _send(ctl, {"ok": True})
    child = None
    while True:
        message, fds = _receive(ctl)
        if message is None:
            break  # the grader closed the socket
        op = message.get("op")
        if op == "fork" and child is None and len(fds) == 3:
            sys.stdout.flush()
            sys.stderr.flush()
            child = os.fork()
            if child == 0:
                code = 1
                try:
                    _run_child(ctl_fd, *fds, own_namespaces=own_namespaces)
                    code = 0
                except BaseException:  # noqa: BLE001 (the traceback goes to the child's log)
                    import traceback
                    traceback.print_exc()
                finally:
                    os._exit(code)  # never back into the zygote's loop; skip the student's atexit handlers
            for fd in fds:
                os.close(fd)
            _send(ctl, {"ok": True})
        elif op == "wait" and child is not None:
            _, status = os.waitpid(child, 0)
            child = None
            clean = _empty_folder(home, mode, times)
            _send(ctl, {"ok": True, "status": status, "clean": clean})
            if not clean:
                break
        else:
            break  # not the protocol: stop, the grader starts a fresh zygote
    os._exit(0)


if __name__ == "__main__":
    main()
