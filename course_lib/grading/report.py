"""The instructor's summary of a graded batch: ``course-grade report GRADES_DIR``.

Reads what ``course-grade grade`` wrote (``results.json``) and writes ``report.md`` beside it:
the class's totals, for each exercise its mean, median and distribution (``report_scores.png``),
the tests failed most often with their most common message, and the rows whose status is not ok.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

RESULTS = "results.json"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def load_results(grades_dir: Path) -> list[dict]:
    f = grades_dir / RESULTS
    if not f.is_file():
        raise FileNotFoundError(f"{f} not found: run `course-grade grade ... --out {grades_dir}` first")
    return json.loads(f.read_text(encoding="utf-8"))


def histogram_figure(results: list[dict], maxes: dict, path: Path) -> None:
    """One panel per exercise plus the total: how many students got each score."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [*maxes, "total"]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 2.8), squeeze=False)
    for ax, name in zip(axes[0], panels):
        scores = [r["total"] if name == "total" else r["scores"].get(name, 0.0) for r in results]
        top = results[0]["max"] if name == "total" else maxes[name]
        steps = int(top) if 0 < top <= 40 and float(top).is_integer() else 20   # one bar per point where points are whole
        width = top / steps if steps else 1.0
        edges = [(i - 0.5) * width for i in range(steps + 2)]
        ax.hist(scores, bins=edges, color="#4c72b0", edgecolor="white")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"points (of {top:g})")
        ax.set_ylabel("students")
    fig.suptitle("Score distributions: a pile-up at 0 or just below full marks points at a shared mistake", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def build(grades_dir: str | Path, top: int = 5) -> Path:
    """Write ``report.md`` (and ``report_scores.png``) into ``grades_dir``; return the report's path."""
    grades_dir = Path(grades_dir)
    results = load_results(grades_dir)
    if not results:
        raise ValueError(f"{grades_dir / RESULTS} holds no submissions")
    maxes: dict[str, float] = {}
    for r in results:
        for t in r["results"]:
            maxes.setdefault(t["exercise"], 0.0)
    for ex in maxes:  # an exercise's maximum = the sum of its tests' points (from any fully listed row)
        maxes[ex] = max(sum(t["points"] for t in r["results"] if t["exercise"] == ex) for r in results)
    n = len(results)
    totals = [r["total"] for r in results]
    bad = [r for r in results if not r["status"].startswith("ok")]
    lines = [f"# Grading report: {grades_dir.name}", "",
             f"{n} submissions; total (of {_fmt(results[0]['max'])}): mean {_fmt(statistics.mean(totals))}, "
             f"median {_fmt(statistics.median(totals))}, min {_fmt(min(totals))}, max {_fmt(max(totals))}; "
             f"{sum(t == results[0]['max'] for t in totals)} with full marks; {len(bad)} whose status is not ok.", "",
             "![score distributions](report_scores.png)", "",
             "| exercise | points | mean | median | full marks | zero |", "|---|---|---|---|---|---|"]
    for ex, top_points in maxes.items():
        s = [r["scores"].get(ex, 0.0) for r in results]
        lines.append(f"| `{ex}` | {_fmt(top_points)} | {_fmt(statistics.mean(s))} | {_fmt(statistics.median(s))} | "
                     f"{sum(x == top_points for x in s)} | {sum(x == 0 for x in s)} |")
    lines.append("")
    for ex in maxes:
        lines += [f"## `{ex}`", ""]
        failed: Counter = Counter()
        messages: dict[str, Counter] = {}
        hidden = {}
        for r in results:
            for t in r["results"]:
                if t["exercise"] == ex and t["earned"] < t["points"]:
                    failed[t["name"]] += 1
                    messages.setdefault(t["name"], Counter())[t["message"][:300]] += 1
                    hidden[t["name"]] = t["hidden"]
        if not failed:
            lines += ["Every submission passed every test.", ""]
            continue
        lines += ["Tests failed most often:", "", "| test | failed by | most common message |", "|---|---|---|"]
        for name, count in failed.most_common(top):
            msg, times = messages[name].most_common(1)[0]
            kind = "hidden" if hidden[name] else "public"
            lines.append(f"| {name.replace('_', ' ')} ({kind}) | {count}/{n} | {msg.replace('|', '/')} ({times}×) |")
        lines.append("")
    lines += ["## Rows whose status is not ok", ""]
    lines += [f"- `{r['student']}`: {r['status']}" for r in bad] or ["None."]
    histogram_figure(results, maxes, grades_dir / "report_scores.png")
    out = grades_dir / "report.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
