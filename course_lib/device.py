"""Where tensors live, and how runs are made repeatable.

The course runs on a CPU laptop first. ``get_device()`` is the one place that decides
whether CUDA or Apple's MPS is used instead; nothing else in course_lib assumes a GPU.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

_CHOICES = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Names of the devices this machine can use, best first (``cpu`` is always last)."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return found + ["cpu"]


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the device the course computes on: CUDA, then MPS, then CPU.

    ``prefer`` (or the environment variable ``COURSE_DEVICE``) forces one of
    ``cpu``, ``cuda`` or ``mps``. Asking for a device that is not present is an error,
    never a silent fall-back, so a result is never attributed to the wrong hardware.
    """
    wanted = prefer if prefer is not None else os.environ.get("COURSE_DEVICE", "").strip().lower() or None
    if wanted is None:
        return torch.device(available_devices()[0])
    if not isinstance(wanted, str) or wanted not in _CHOICES:
        raise ValueError(f"device must be one of {', '.join(_CHOICES)} (got {wanted!r}); "
                         "set COURSE_DEVICE=cpu|cuda|mps or pass prefer=...")
    if wanted not in available_devices():
        raise RuntimeError(f"device {wanted!r} was requested (COURSE_DEVICE or prefer=) but this machine "
                           f"has only: {', '.join(available_devices())}. Unset COURSE_DEVICE or choose one of those.")
    return torch.device(wanted)


def seed_everything(seed: int = 0) -> int:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and all CUDA devices).

    Returns the seed so a notebook can print what it used. Call it at the top of every
    experiment: with the same seed, thread count and hardware a re-run gives the same numbers.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed


def describe_environment() -> dict[str, str]:
    """What the welcome notebook prints: versions, device, threads and data location."""
    from . import data  # local import: data pulls in nothing heavy, but keep device import light

    dev = get_device()
    return {
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "torch": torch.__version__.split("+")[0],
        "numpy": np.__version__,
        "device": str(dev),
        "available devices": ", ".join(available_devices()),
        "torch threads": str(torch.get_num_threads()),
        "data dir (COURSE_DATA_DIR)": os.environ.get("COURSE_DATA_DIR", "(not set)"),
        "data cache": str(data.cache_dir()),
    }
