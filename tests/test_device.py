import random

import numpy as np
import pytest
import torch

from course_lib.device import available_devices, describe_environment, get_device, seed_everything


def test_default_device_is_best_available(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert get_device().type == available_devices()[0]
    assert available_devices()[-1] == "cpu"


def test_env_override_cpu(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_absent_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="'cuda' was requested .* has only: .*cpu"):
        get_device()


def test_unknown_device_name(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="one of cpu, cuda, mps"):
        get_device()


def test_cuda_preferred_when_present(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device().type == "cuda"


def test_seed_everything_repeats_all_generators():
    seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


@pytest.mark.parametrize("bad", [1.5, "3", None, True])
def test_seed_rejects_non_int(bad):
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_everything(bad)


def test_seed_range():
    with pytest.raises(ValueError, match="2\\*\\*32"):
        seed_everything(-1)


def test_describe_environment_keys():
    env = describe_environment()
    assert {"torch", "device", "data cache"} <= set(env)
    assert env["torch"] == "2.13.0"


def test_no_hard_coded_cpu_without_a_reason():
    """Notebooks and course_lib take the device from get_device(); a literal device="cpu" needs a comment
    (on its line or just above) saying why the CPU is the right place there."""
    import re
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    literal = re.compile(r"""device\s*=\s*['"]cpu['"]|torch\.device\(\s*['"]cpu['"]\s*\)""")
    files = [*repo.glob("notebooks/*.py"), *repo.glob("solutions/*.py"), *repo.glob("course_lib/**/*.py")]
    offenders = []
    for f in files:
        lines = f.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            code = line.split("#", 1)[0]
            if literal.search(code) and not any("#" in lines[j] for j in range(max(0, i - 3), i + 1)):
                offenders.append(f"{f.relative_to(repo)}:{i + 1}: {line.strip()}")
    assert not offenders, "hard-coded CPU without a comment saying why:\n" + "\n".join(offenders)
