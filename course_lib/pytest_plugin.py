"""Settings for the course's own test run (loaded by ``-p course_lib.pytest_plugin`` in pyproject).

Set before any notebook kernel starts, so nbval kernels inherit them:
* one thread for torch/BLAS unless OMP_NUM_THREADS says otherwise: on 2 cores this is both faster and repeatable;
* ``COURSE_OFFLINE=1``: the data layer never downloads during tests;
* ``COURSE_DATA_DIR`` defaults to ``../shared/data`` beside the checkout when present (as in CI);
* the network is off: connecting anywhere but loopback raises.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["COURSE_OFFLINE"] = "1"
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
_shared = REPO.parent / "shared" / "data"
if not os.environ.get("COURSE_DATA_DIR") and _shared.is_dir():
    os.environ["COURSE_DATA_DIR"] = str(_shared)

_real_connect = socket.socket.connect


def _loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1", "", "0.0.0.0"))


def _guarded_connect(self, address):
    if self.family == getattr(socket, "AF_UNIX", None) or _loopback(address):
        return _real_connect(self, address)
    raise RuntimeError(f"a test tried to reach the network ({address!r}); the course's tests stay offline")


socket.socket.connect = _guarded_connect


def pytest_configure(config):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))  # 1 unless a run asks for more (CI's second float path)
