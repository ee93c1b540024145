"""Isolation enforced by the kernel for the grader's children (Linux).

The audit hook in ``sandbox.py`` sees only what Python itself does; native code (torch's file
functions, numpy's memmap, any C extension) makes system calls directly. So every child that
runs a student's code is started inside three layers the kernel enforces:

1. **bubblewrap** (``bwrap``, Debian's ``bubblewrap`` package, the tool Flatpak uses) gives the
   child its own user, mount, PID, network, IPC, UTS and cgroup namespaces. Its filesystem is
   built from nothing: ``/usr`` and the Python runtime and site-packages read-only, ``course_lib``
   read-only only when the exercise imports it (just that folder, none of the rest of the checkout),
   one empty size-capped tmpfs (``/scratch``) as
   the only writable place, a fresh ``/proc`` that shows the sandbox's own processes only (the zygote and one child), and
   nothing else of the course (no ``solutions/``, hidden tests, ``tests/``, ``.git``,
   submissions, output folder or home). Read-only holds for root too: they are read-only
   mounts, which a user namespace cannot remount.
   The process bubblewrap starts is a **zygote** (``sandbox.main``, ``runner.Zygote``): it does
   the trusted imports once and forks one child per exercise, one at a time, emptying ``/scratch``
   between them; it runs as the sandbox's PID 1 and non-dumpable, so a child can neither signal
   it nor reach its memory through ``/proc``.
2. **seccomp** (a filter built here, installed by each forked child before any student code):
   threads yes, new processes no (fork, vfork, clone without CLONE_THREAD, execve), and no
   ptrace, process_vm_*, mount/namespace calls, sockets, bpf, io_uring, keyrings, modules, no IPC
   objects (they would outlive the child), and limits, priorities and CPU affinity of the
   child itself only (not of the zygote, whose children would inherit them).
3. **limits**: CPU seconds, address space, file size and core dumps as rlimits; the number of
   threads as a ``pids`` cgroup where the grader may create one (root, or a delegated cgroup),
   else as ``RLIMIT_NPROC`` (which the kernel ignores for root: hence the cgroup); wall clock
   in the grader (``runner.RemoteStudent``), which kills the whole sandbox, zygote included.

Where the kernel offers none of this (macOS, Windows, no user namespaces, no ``bwrap``),
:func:`problem` says what is missing and the grader refuses unless told ``--no-isolation``.
"""
from __future__ import annotations

import functools
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

SCRATCH = "/scratch"                 # the child's only writable folder (a tmpfs)
SCRATCH_BYTES = 64 << 20             # its size cap
MAX_TASKS = 64                       # threads (and processes, which seccomp forbids) per child
SANDBOX_AT = "/grader/sandbox.py"    # where the child's own script is mounted
SANDBOX_UID = 65534                  # "nobody": the host uid of every sandboxed process of a root grader

INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
                "`sudo dnf install bubblewrap`)")

# ----------------------------------------------------------------------------- seccomp

# Syscall numbers from the kernel's headers (x86_64: asm/unistd_64.h; aarch64: asm-generic/unistd.h).
_DENIED = {  # name: (x86_64, aarch64); None = the architecture has no such call
    "fork": (57, None), "vfork": (58, None), "execve": (59, 221), "execveat": (322, 281),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "mount": (165, 40), "umount2": (166, 39),
    "pivot_root": (155, 41), "chroot": (161, 51), "unshare": (272, 97), "setns": (308, 268),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282), "keyctl": (250, 219),
    "add_key": (248, 217), "request_key": (249, 218), "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426), "io_uring_register": (427, 427), "personality": (135, 92),
    "socket": (41, 198), "socketpair": (53, 199), "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264), "kcmp": (312, 272), "move_mount": (429, 429), "open_tree": (428, 428),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "mount_setattr": (442, 442), "init_module": (175, 105), "finit_module": (313, 273),
    "delete_module": (176, 106), "reboot": (169, 142), "swapon": (167, 224), "swapoff": (168, 225),
    "acct": (163, 89), "quotactl": (179, 60), "syslog": (103, 116), "pidfd_getfd": (438, 438),
    "pidfd_open": (434, 434), "process_madvise": (440, 440), "pidfd_send_signal": (424, 424),
    "process_mrelease": (448, 448),
    # System V and POSIX IPC objects outlive their creator and would be shared by all the children a
    # zygote forks (they share its IPC namespace): nobody may create one.
    "shmget": (29, 194), "semget": (64, 190), "msgget": (68, 186), "mq_open": (240, 180),
    # The host's name is shared by every process of the sandbox; memory file descriptors are shared memory
    # that an address-space limit does not count (where no memory cgroup counts it either).
    "sethostname": (170, 161), "setdomainname": (171, 162), "memfd_create": (319, 279), "memfd_secret": (447, 447),
}
# Calls that may change another process the child can name, allowed only on the child itself: each
# argument index must hold the given value (pid 0 = the caller; setpriority's PRIO_PROCESS = 0,
# ioprio_set's IOPRIO_WHO_PROCESS = 1). The zygote is the child's parent in the same PID namespace:
# lowering its limits, priority or CPU affinity would change every child it forks afterwards.
_SELF_ONLY = {  # name: ((x86_64, aarch64), ((argument index, required value), ...))
    "prlimit64": ((302, 261), ((0, 0),)), "sched_setparam": ((142, 118), ((0, 0),)),
    "sched_setscheduler": ((144, 119), ((0, 0),)), "sched_setaffinity": ((203, 122), ((0, 0),)),
    "sched_setattr": ((314, 274), ((0, 0),)), "setpriority": ((141, 140), ((0, 0), (1, 0))),
    "ioprio_set": ((251, 30), ((0, 1), (1, 0))),
}
_CLONE, _CLONE3 = (56, 220), (435, 435)
_ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}   # column in _DENIED, AUDIT_ARCH_*
CLONE_THREAD = 0x00010000
EPERM, ENOSYS = 1, 38


def seccomp_filter(machine: str | None = None) -> bytes:
    """The child's seccomp program (classic BPF, ``struct sock_filter[]``) for this machine.

    Threads are ``clone`` with ``CLONE_THREAD`` and stay allowed; every other ``clone`` (fork,
    posix_spawn, vfork) and the calls in ``_DENIED`` fail with EPERM; ``clone3`` fails with ENOSYS
    so that the C library falls back to ``clone``, whose flags a filter can read (clone3's sit
    behind a pointer). The calls in ``_SELF_ONLY`` work on the caller only (EPERM otherwise).
    Another architecture's system calls kill the process."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        raise OSError(f"no seccomp filter for the {machine} architecture")
    col, audit_arch = _ARCHES[machine]
    ld_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    errno = 0x00050000
    denied = sorted({nrs[col] for nrs in _DENIED.values() if nrs[col] is not None})
    # Program text with symbolic jump targets, resolved below (BPF jumps are relative, forward only).
    prog: list[tuple] = [(ld_abs, None, None, 4),                     # A = seccomp_data.arch
                         (jeq, 0, "kill", audit_arch),
                         (ld_abs, None, None, 0)]                     # A = seccomp_data.nr
    if machine == "x86_64":
        prog.append((jge, "deny", 0, 0x40000000))                     # the x32 ABI
    prog += [(jeq, "deny", 0, nr) for nr in denied]
    prog += [(jeq, f"self:{required}", 0, nrs[col]) for nrs, required in _SELF_ONLY.values()]
    prog += [(jeq, "clone", 0, _CLONE[col]), (jeq, "enosys", 0, _CLONE3[col]), (ret, None, None, allow)]
    labels = {"clone": len(prog)}
    prog += [(ld_abs, None, None, 16),                                 # A = low 32 bits of args[0] (flags)
             (jset, "allow", "deny", CLONE_THREAD)]
    for required in dict.fromkeys(required for _, required in _SELF_ONLY.values()):  # one check per rule
        labels[f"self:{required}"] = len(prog)
        for index, value in required:                                  # A = low 32 bits of args[index]
            prog += [(ld_abs, None, None, 16 + 8 * index), (jeq, 0, "deny", value)]
        prog.append((ret, None, None, allow))
    labels["allow"] = len(prog)
    prog.append((ret, None, None, allow))
    labels["deny"] = len(prog)
    prog.append((ret, None, None, errno | EPERM))
    labels["enosys"] = len(prog)
    prog.append((ret, None, None, errno | ENOSYS))
    labels["kill"] = len(prog)
    prog.append((ret, None, None, kill))
    out = b""
    for i, (code, jt, jf, k) in enumerate(prog):
        def rel(target):
            if target is None or isinstance(target, int):
                return target or 0
            offset = labels[target] - i - 1
            assert 0 <= offset < 256, "BPF jump out of range"
            return offset
        out += struct.pack("=HBBI", code, rel(jt), rel(jf), k)
    return out


# ----------------------------------------------------------------------------- bubblewrap


def bwrap_path() -> str | None:
    return shutil.which("bwrap", path=os.environ.get("PATH", "") + os.pathsep + "/usr/bin:/bin")


def runtime_paths() -> list[str]:
    """The Python runtime and its installed packages, as the grader's own interpreter finds them."""
    import site
    import sysconfig
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        found.add(sysconfig.get_paths().get(key, ""))
    found.update(site.getsitepackages())
    found.add(str(Path(sys.executable).parent))
    found.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    paths = sorted(p for p in found if p and os.path.isdir(p))
    # keep only the outermost folders (a bind of /a makes /a/b visible already)
    keep = [p for p in paths if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in paths)]
    return [p for p in keep if p != "/"]


def mounted_paths(course_lib: str | None) -> list[str]:
    """The host folders ``bwrap_command`` mounts besides ``/usr`` and the top-level system folders:
    the Python runtime's, and ``course_lib`` when given."""
    mounted = [p for p in runtime_paths() if not p.startswith(("/usr/", "/bin/", "/lib"))]
    return mounted + ([course_lib] if course_lib else [])


def refuse_visible(forbidden, course_lib: str | None) -> None:
    """Raise OSError when a ``forbidden`` folder (a student's submission, the hidden tests) would be
    visible in a sandbox that mounts ``course_lib``. Checked for every child, because one zygote (one
    set of mounts) serves the submissions of a whole batch, wherever each of them lies."""
    for bad in forbidden:
        bad = os.path.realpath(bad).rstrip("/") + "/"
        for m in mounted_paths(course_lib):
            m = m.rstrip("/") + "/"
            if bad.startswith(m):
                raise OSError(f"refusing to grade: mounting the Python runtime folder {m} would show the student's "
                              f"code {bad}; use a Python (virtual environment) that does not contain it")


def bwrap_command(argv: list[str], *, sandbox_script: str, course_lib: str | None) -> list[str]:
    """``bwrap ... -- argv``: the children's whole world. ``course_lib`` (a folder) is mounted
    read-only at its own path when given (``refuse_visible`` checks what that shows).
    ``argv`` runs as PID 1 of the sandbox (``--as-pid-1``): it is the zygote, and the kernel lets no
    process of the namespace signal its init (not even SIGKILL or SIGSTOP) unless init handles the
    signal, so a child cannot kill or stop the process that forks the next children."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise OSError("bubblewrap (bwrap) not found: " + INSTALL_HINT)
    cmd = [bwrap, *_unshare_flags(), "--as-pid-1", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           *(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_CHOWN"] if _as_root() else []),
           "--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        top = Path("/") / name
        if top.is_symlink():
            cmd += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            cmd += ["--ro-bind", str(top), str(top)]
    cmd += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--ro-bind-try", "/etc/localtime", "/etc/localtime"]
    made: set[str] = set()
    for p in mounted_paths(course_lib):
        # the folders above a mounted one are made here, traversable by the sandbox's unprivileged uid
        # (bubblewrap would copy their host modes: /root is 0700)
        for parent in reversed(Path(p).parents):
            if str(parent) != "/" and str(parent) not in made:
                made.add(str(parent))
                cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--ro-bind", p, p]
    cmd += ["--ro-bind", sandbox_script, SANDBOX_AT,
            "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",  # no sysctl, whoever the caller is
            "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger", "--dev", "/dev",
            "--size", str(SCRATCH_BYTES), "--tmpfs", SCRATCH, "--chdir", SCRATCH,
            "--remount-ro", "/dev", "--remount-ro", "/", "--"]   # /dev (and its /dev/shm) is a tmpfs too
    return cmd + argv


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _unshare_flags() -> list[str]:
    """bubblewrap's namespaces. An unprivileged grader gets a user namespace (its own uid, no privilege on
    the host). A root grader must not: bubblewrap would map the sandbox's uid 0 to the host's uid 0, and
    the kernel lets the host's uid 0 write global sysctls (``kernel.core_pattern``) whatever its
    capabilities. So as root the sandbox starts with the capabilities to change its uid and nothing else,
    and the zygote becomes ``SANDBOX_UID`` before it imports anything (``sandbox.main``): no process of
    the sandbox is ever the host's root."""
    flags = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    return flags if _as_root() else ["--unshare-user", *flags]


def drop_to() -> dict | None:
    """The uid/gid the zygote becomes at once, when the grader (hence the sandbox) is root."""
    return {"uid": SANDBOX_UID, "gid": SANDBOX_UID} if _as_root() else None


# ----------------------------------------------------------------------------- thread limit


SANDBOX_MEMORY = 3 << 30             # the memory cgroup of one sandbox: the child's 2 GiB and the zygote's imports
CGROUP_PREFIX = "course-sandbox-"    # + the grader's pid + "-" + ...: a dead grader's cgroups are found by name


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path in a cgroup-v1 hierarchy (``controller``) or v2 (``""``)."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if (controller and controller in names.split(",")) or (not controller and not names):
                return path.lstrip("/")
    except (OSError, ValueError):
        pass
    return ""


def _cgroup_parents() -> list[tuple[Path, list[str]]]:
    """(folder, controllers) where a sandbox's cgroup may be made: v1's pids and memory hierarchies (under this
    process's own cgroup, so that limits set on the grader still hold), or v2's root with the controllers it
    delegates."""
    found = []
    for controller in ("pids", "memory"):
        root = Path("/sys/fs/cgroup") / controller
        if (root / "cgroup.procs").is_file():
            found.append((root / _own_cgroup(controller), [controller]))
    if found:
        return found
    root = Path("/sys/fs/cgroup")
    try:
        enabled = (root / "cgroup.subtree_control").read_text().split()
    except OSError:
        return []
    wanted = [c for c in ("pids", "memory") if c in enabled]
    return [(root, wanted)] if wanted and (root / "cgroup.procs").is_file() else []


class TaskLimit:
    """The cgroups of one sandbox: ``pids`` (threads count as tasks) and ``memory`` (what the zygote and its
    child hold, shared memory, tmpfs and page cache included: the memory an address-space limit does not
    see), cgroup v1 or v2. ``TaskLimit.create`` returns None where this process may create none."""

    def __init__(self, paths: list[Path]):
        self.paths = paths

    @property
    def path(self) -> Path:
        return self.paths[0]

    @classmethod
    def create(cls, name: str, max_tasks: int = MAX_TASKS, memory: int = SANDBOX_MEMORY) -> "TaskLimit | None":
        made = []
        for parent, controllers in _cgroup_parents():
            path = parent / name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                if "pids" in controllers:
                    (path / "pids.max").write_text(str(max_tasks))
                if "memory" in controllers:
                    for limit in ("memory.limit_in_bytes", "memory.max"):
                        if (path / limit).is_file():
                            (path / limit).write_text(str(memory))
                    try:  # v1: memory and swap together (absent without swap accounting)
                        (path / "memory.memsw.limit_in_bytes").write_text(str(memory))
                    except OSError:
                        pass
                    try:  # no swap either, where the kernel accounts for it
                        (path / "memory.swap.max").write_text("0")
                    except OSError:
                        pass
                made.append(path)
            except OSError:
                _remove_cgroup(path)
        return cls(made) if made else None

    def wrap(self, argv: list[str]) -> list[str]:
        """Run ``argv`` inside the cgroups: a shell joins them, then execs (so nothing escapes)."""
        joins = " && ".join(f'echo $$ > "${i + 1}"' for i in range(len(self.paths)))
        return ["/bin/sh", "-c", f'{joins} && shift {len(self.paths)} && exec "$@"', "sh",
                *(str(p / "cgroup.procs") for p in self.paths), *argv]

    def peak_memory(self) -> int | None:
        for p in self.paths:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                try:
                    return int((p / name).read_text())
                except (OSError, ValueError):
                    continue
        return None

    def close(self) -> None:
        for path in self.paths:
            _remove_cgroup(path)


def _remove_cgroup(path: Path) -> None:
    """Kill whatever is in the cgroup, then remove it."""
    import time
    for _ in range(50):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(tmp_root: str | None = None) -> list[str]:
    """Remove what a killed grading run left: sandbox cgroups (and their processes) and temporary folders
    whose grader (the pid in their name) is gone. Those of a grader still running are left alone."""
    import tempfile
    removed = []
    for parent, _ in _cgroup_parents():
        try:
            entries = list(parent.iterdir())
        except OSError:
            continue
        for entry in entries:
            pid = _grader_pid(entry.name, CGROUP_PREFIX)
            if pid is not None and not _pid_alive(pid) and entry.is_dir():
                _remove_cgroup(entry)
                removed.append(str(entry))
    root = Path(tmp_root or tempfile.gettempdir())
    for prefix in ("course-zygote-", "course-grade-"):
        for entry in root.glob(prefix + "*"):
            pid = _grader_pid(entry.name, prefix)
            if pid is not None and not _pid_alive(pid) and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(str(entry))
    return removed


def _grader_pid(name: str, prefix: str) -> int | None:
    if not name.startswith(prefix):
        return None
    head = name[len(prefix):].split("-", 1)[0]
    # a pid (at most 2**22 on Linux); anything else is another tool's name, or an older grader's: left alone
    return int(head) if head.isdigit() and len(head) <= 7 and 0 < int(head) <= 1 << 22 else None


# ----------------------------------------------------------------------------- availability


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """None when children can be isolated here; otherwise what is missing, in one sentence."""
    if not sys.platform.startswith("linux"):
        return f"kernel isolation needs Linux (namespaces, seccomp); this is {platform.system() or sys.platform}"
    if platform.machine() not in _ARCHES:
        return f"no seccomp filter for the {platform.machine()} architecture"
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed: " + INSTALL_HINT
    probe = [*bwrap_command([sys.executable, "-I", "-c", "print('ok')"], sandbox_script=__file__,
                            course_lib=None)]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != "ok":
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"bubblewrap could not create the sandbox's namespaces ({why}); unprivileged user namespaces "
                "may be disabled (sysctl kernel.unprivileged_userns_clone / AppArmor's userns restriction)")
    return None
