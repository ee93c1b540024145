"""The instructor's summary of a graded batch: ``course-grade report GRADES_DIR``.

Reads what ``course-grade grade`` wrote (``results.json``, the assignment's gradebook) and writes
``report.md`` beside it: the assignment and the class's totals, for each exercise its mean, median and
distribution (``report_scores.png``, drawn for a 900 px page), the tests failed most often with the most
common message *of the wrong answers* (an unimplemented stub says nothing about a misconception, so stubs
are counted apart), submissions that share code (``similarity``), and the rows whose status is not ok.
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
    cols = min(4, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(9.0, 2.3 * rows + 0.5), squeeze=False)   # 900 px wide at 100 dpi
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, panels):
        scores = [r["total"] if name == "total" else r["scores"].get(name, 0.0) for r in results]
        top = results[0]["max"] if name == "total" else maxes[name]
        steps = int(top) if 0 < top <= 40 and float(top).is_integer() else 20   # one bar per point where points are whole
        width = top / steps if steps else 1.0
        edges = [(i - 0.5) * width for i in range(steps + 2)]
        ax.hist(scores, bins=edges, color="#4c72b0", edgecolor="white")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"points (of {top:g})", fontsize=9)
        ax.set_ylabel("students", fontsize=9)
        ax.tick_params(labelsize=8)
    fig.suptitle("Score distributions: a pile-up at 0 or just below full marks points at a shared mistake", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _is_stub(message: str) -> bool:
    m = message.lower()
    return "not implemented" in m or "notimplementederror" in m


def _one_line(message: str) -> str:
    return " ".join(message.split())[:300]


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
    assignment = next((r["assignment"] for r in results if r.get("assignment")), grades_dir.name)
    from .gradebook import interrupted
    warning = interrupted(grades_dir)
    lines = [f"# Grading report: {assignment}", "",
             f"Gradebook `{grades_dir}`." + (f" **Warning:** {warning}." if warning else ""), "",
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
        stubs: Counter = Counter()
        messages: dict[str, Counter] = {}
        hidden = {}
        for r in results:
            for t in r["results"]:
                if t["exercise"] == ex and t["earned"] < t["points"]:
                    hidden[t["name"]] = t["hidden"]
                    if _is_stub(t["message"]):
                        stubs[t["name"]] += 1
                        continue
                    failed[t["name"]] += 1
                    messages.setdefault(t["name"], Counter())[_one_line(t["message"])] += 1
        not_done = max(stubs.values(), default=0)
        if not failed:
            lines += ["Every submission that implemented it passed every test." if not_done else
                      "Every submission passed every test.", ""]
            if not_done:
                lines += [f"Not implemented in {not_done} of {n} submissions.", ""]
            continue
        lines += ["Tests failed most often by a wrong answer (stubs not counted):", "",
                  "| test | wrong in | most common message of the wrong answers |", "|---|---|---|"]
        for name, count in failed.most_common(top):
            msg, times = messages[name].most_common(1)[0]
            kind = "hidden" if hidden[name] else "public"
            lines.append(f"| {name.replace('_', ' ')} ({kind}) | {count}/{n} | {msg.replace('|', '/')} ({times}×) |")
        lines.append("")
        if not_done:
            lines += [f"Not implemented in {not_done} of {n} submissions.", ""]
    from .similarity import shared_code
    groups = shared_code(results)
    lines += ["## Submissions that share code", "",
              "Students whose definition of an exercise is the same after comments, blank lines and names of local "
              "variables are set aside (or nearly the same: 95 % of the tokens in order). Worth a look, not proof: "
              "short exercises have few ways to be right.", ""]
    lines += [f"- `{ex}`: {', '.join(f'`{s}`' for s in group)} ({how})" for ex, group, how in groups] or ["None found."]
    lines.append("")
    lines += ["## Rows whose status is not ok", ""]
    lines += [f"- `{r['student']}`: {r['status']}" for r in bad] or ["None."]
    histogram_figure(results, maxes, grades_dir / "report_scores.png")
    out = grades_dir / "report.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
