"""Grading throughput: 36 generated submissions of mixed quality, graded with --jobs 2 as an
instructor would, isolated by the kernel (bubblewrap + seccomp + pids cgroup) and, for comparison
in the same run, without it (--no-isolation); then the cost of starting one child either way (with a
zygote of its own, or forked by a warm one as in a batch: runner.ZygotePool), and the time of one
in-notebook check().

    python tests/benchmarks/bench_grading.py [ASSIGNMENT ...]     (default: 00_welcome 01_ngrams)
"""
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from course_lib.grading import check  # noqa: E402
from course_lib.grading.grader import grade_batch  # noqa: E402
from exercise_variants import VARIANTS  # noqa: E402
from grading_helpers import REPO, load_nb, with_cells, with_replaced, write  # noqa: E402


def submissions(assignment: str, folder: Path) -> list[Path]:
    base, stub = load_nb(assignment), load_nb(assignment, "exercises")
    nbs = [base] * 8 + [stub] * 4
    for exercise, variants in VARIANTS[assignment].items():
        nbs += [with_replaced(base, exercise, src) for src in variants.values()]
    nbs.append(with_cells(base, "while True:\n    pass"))
    first = next(iter(VARIANTS[assignment]))
    nbs.append(with_replaced(base, first, f"def {first}(*a, **k):\n    while True:\n        pass\n"))
    nbs.append(with_replaced(base, first, f"def {first}(*a, **k):\n    import os\n    os._exit(0)\n"))
    while len(nbs) < 36:
        nbs.append(base)
    return [write(nb, folder / f"student{i:02d}.ipynb") for i, nb in enumerate(nbs)]


for assignment in sys.argv[1:] or ("00_welcome", "01_ngrams"):
    for isolated in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            files = submissions(assignment, Path(tmp))
            t = time.perf_counter()
            results = grade_batch(assignment, files, Path(tmp) / "out", jobs=2, timeout=5, isolated=isolated)
            dt = time.perf_counter() - t
            totals = sorted(r.total for r in results)
            print(f"{assignment} {'isolated' if isolated else 'NOT isolated'}: {len(files)} submissions in {dt:.1f} s "
                  f"= {60 * len(files) / dt:.0f} per minute (jobs=2, timeout 5 s; two of them time out); "
                  f"scores {totals[0]:g}..{totals[-1]:g} of {results[0].max:g}")

from course_lib.grading.extract import Statement  # noqa: E402
from course_lib.grading.runner import RemoteStudent, ZygotePool  # noqa: E402

for preload in (("numpy",), ("numpy", "torch")):
    cost = {}
    with ZygotePool() as pool:  # warm: the batch's case, every child but a worker's first per configuration
        for isolated in (True, False) * 5:
            for warm in (False, True):
                t = time.perf_counter()
                RemoteStudent([Statement("def f():\n    return 1", "c", frozenset(), frozenset())], preload=preload,
                              isolated=isolated, zygotes=pool if warm else None).cleanup()
                cost.setdefault((isolated, warm), []).append(time.perf_counter() - t)
    ms = {k: f"{1000 * statistics.median(v):.0f}" for k, v in cost.items()}
    print(f"one child ({'+'.join(preload)}): start+stop median {ms[True, False]} ms isolated, {ms[False, False]} ms "
          f"not isolated with a zygote of its own; forked by a warm zygote {ms[True, True]} ms isolated, "
          f"{ms[False, True]} ms not isolated")

sys.path.insert(0, str(REPO / "solutions"))
import numpy as np  # noqa: E402


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


times = []
for _ in range(5):
    t = time.perf_counter()
    check(softmax, quiet=True)
    times.append(time.perf_counter() - t)
print(f"one check('softmax') in the notebook: median {1000 * statistics.median(times):.1f} ms")
