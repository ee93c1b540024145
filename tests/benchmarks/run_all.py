"""Every course benchmark in one command: one table, one JSON file.

    python tests/benchmarks/run_all.py [--quick] [--json benchmarks.json]

Runs each ``bench_*.py`` here as its own process (as one would by hand; each compares the course with
its peer in the same run, interleaved, medians and ratios), then every lesson notebook in a fresh
kernel (``python -m course_lib.dev run-all``), reads the figures each prints and checks them
against the course's targets. ``--quick`` leaves out the two long ones (the 2-minute char-LM training
and the notebook run). Optional peers (gensim) are skipped with a message when absent. Not part of
``pytest``: these machines are noisy, so no test asserts an absolute time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _env() -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    shared = REPO.parent / "shared" / "data"          # the corpora, as the tests find them
    if not env.get("COURSE_DATA_DIR") and shared.is_dir():
        env["COURSE_DATA_DIR"] = str(shared)
    return env


RAW: dict[str, str] = {}


def run(script: str, *args: str, timeout: int = 900) -> str:
    env = _env()
    done = subprocess.run([sys.executable, str(HERE / script), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    RAW[" ".join([script, *args])] = done.stdout      # kept in the JSON file: the figures as printed
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed: {(done.stderr or done.stdout)[-600:]}")
    return done.stdout


def row(item: str, measured: str, target: str, ok: bool | None, detail: str = "") -> dict:
    return {"item": item, "measured": measured, "target": target, "ok": ok, "detail": detail}


def scratch_vs_torch() -> list[dict]:
    out = run("bench_rnn.py", "1", "--no-lm")
    ms = {m[0]: float(m[1]) for m in re.findall(r"^(\S+)\s+fwd\+bwd: median (\d+) ms", out, re.M)}
    rows = [row("scratch RNN vs nn.RNN, fwd+bwd (B 64, T 100, H 256)", f"{ms['RNNScratch'] / ms['nn.RNN']:.2f}x",
                "<= 1.5x", ms["RNNScratch"] / ms["nn.RNN"] <= 1.5, f"{ms['RNNScratch']:.0f} vs {ms['nn.RNN']:.0f} ms")]
    out = run("bench_lstm_gru.py", "1")
    for name, m, ratio in re.findall(r"^(\S.*?)\s+fwd\+bwd median\s+(\d+) ms\s+([\d.]+)x", out, re.M):
        if not name.startswith("nn."):
            rows.append(row(f"scratch {name} vs torch.nn", f"{float(ratio):.2f}x", "<= 1.5x", float(ratio) <= 1.5,
                            f"{m} ms"))
    return rows


def char_lm() -> list[dict]:
    out = run("bench_rnn.py", "2", "--lm-only", timeout=1200)   # training gets both cores, as on a laptop
    got = {(who, int(s)): (float(v), int(n), ms) for who, s, n, v, ms in re.findall(
        r"^(course|baseline)\b.*?(\d+) s: (\d+) steps, held-out loss ([\d.]+) nats/char \((\d+) ms/step\)", out, re.M)}
    rows = []
    for s in sorted({s for _, s in got}):
        (c, cn, cms), (b, bn, bms) = got["course", s], got["baseline", s]
        rows.append(row(f"char-LM nats/char after {s} s, 2 threads: course LSTM recipe vs plain nn.GRU", f"{c:.3f} vs {b:.3f}",
                        "course <= 1.55 at 120 s" if s == 120 else "-", c <= 1.55 if s == 120 else None,
                        f"steps {cn} vs {bn}; {cms} vs {bms} ms/step"))
    return rows


def word2vec() -> list[dict]:
    out = run("bench_word2vec.py", "2", "3")
    ratios = re.findall(r"^(\d) epoch\(s\) course_lib / gensim [\d.]+: ([\d.]+)x", out, re.M)
    if not ratios:
        return [row("word2vec SGNS words/s vs gensim", "skipped", ">= 0.5x", None, "gensim not installed "
                    "(pip install gensim)")]
    acc = dict(re.findall(r"^(\d) epoch\(s\) course_lib\s*:.*?analog\w* ([\d.]+%)", out, re.M))
    return [row(f"word2vec SGNS words/s vs gensim, {e} epoch(s), 2 threads", f"{float(r):.2f}x", ">= 0.5x",
                float(r) >= 0.5, f"analogies {acc.get(e, '?')}") for e, r in ratios]


def ngram() -> list[dict]:
    out = run("bench_ngram.py")
    rows = [row(f"n-gram build (n={n}, {name}) vs nltk.lm fit", f"{float(r):.1f}x", ">= 10x", float(r) >= 10)
            for n, name, r in re.findall(r"^n=(\d) (\S+)\s+course_lib .*?\(([\d.]+)x\)", out, re.M)]
    for n, name, k, ours, theirs, same, t_ours, t_nltk, r in re.findall(
            r"^scoring n=(\d) (\S+)\s+([\d,]+) predictions: perplexity course_lib ([\d.]+) nltk.lm ([\d.]+) "
            r"\((\w+)\); ([\d.]+) vs ([\d.]+) µs each \(([\d.]+)x\)", out, re.M):
        kn = name.startswith("Kneser")   # the scoring target is about nltk's slow KN (27-30 ms a trigram)
        rows.append(row(f"n-gram scoring (n={n}, {name}) vs nltk.lm, same {k} predictions", f"{float(r):.0f}x",
                        ">= 100x" if kn else "- (nltk Laplace is cheap)", float(r) >= 100 if kn else None,
                        f"{t_ours} vs {t_nltk} µs each"))
        rows.append(row(f"n-gram perplexity (n={n}, {name}) course_lib vs nltk.lm", same,
                        "identical", same == "identical", f"{ours} vs {theirs}"))
    m = re.search(r"perplexity ([\d.]+): ([\d,]+) predictions in ([\d.]+) s \(([\d.]+) µs each\)", out)
    if m:
        rows.append(row("KN trigram scoring, whole held-out set", f"{m.group(4)} µs/pred", "-", None,
                        f"{m.group(2)} predictions, perplexity {m.group(1)}"))
    return rows


def grading() -> list[dict]:
    out = run("bench_grading.py")
    rows = [row(f"grading {a}, isolated, --jobs 2", f"{int(r)}/min", ">= 60/min", int(r) >= 60)
            for a, r in re.findall(r"^(\S+) isolated: .*?= (\d+) per minute", out, re.M)]
    m = re.search(r"start\+stop median (\d+) ms isolated, (\d+) ms not isolated", out)
    if m:
        rows.append(row("isolation cost per child (numpy)", f"{int(m.group(1)) - int(m.group(2))} ms", "-", None))
    return rows


def widget() -> list[dict]:
    out = run("bench_widget.py")
    split = {c: (a, b) for c, a, b in re.findall(r"^(\w+): compute \(measure\) median (\d+) ms, render median (\d+) ms",
                                                 out, re.M)}
    load = re.search(r"^load average ([\d.]+)", out, re.M)
    return [row(f"gradient widget redraw, {cell} (T 200, H 128)", f"p50 {p50} / p95 {p95} ms", "p95 <= 100 ms",
                int(p95) <= 100, f"CPU time p50 {c50} / p95 {c95} ms; compute {split.get(cell, ('?', '?'))[0]} + "
                f"render {split.get(cell, ('?', '?'))[1]} ms; load {load.group(1) if load else '?'}")
            for cell, p50, p95, c50, c95 in re.findall(
                r"^(\w+): redraw median (\d+) ms, p95 (\d+) ms .*?CPU time median (\d+) ms, p95 (\d+) ms", out, re.M)]


def notebooks() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "course_lib.dev", "run-all", "notebooks", "--json", f"{tmp}/nb.json"],
                       cwd=REPO, env=_env(), capture_output=True, timeout=3600)
        rows_nb = json.loads(Path(f"{tmp}/nb.json").read_text())
    out = [row(f"notebook {Path(r['notebook']).stem}", f"{r['seconds']:.0f} s", "<= 90 s",
               r["ok"] and r["seconds"] <= 90, r["error"]) for r in rows_nb]
    total = sum(r["seconds"] for r in rows_nb)
    out.append(row("all lesson notebooks", f"{total / 60:.1f} min", "<= 15 min", total <= 900))
    return out


def markdown(rows: list[dict]) -> str:
    lines = ["| measured | result | target | met | detail |", "|---|---|---|---|---|"]
    for r in rows:
        mark = {True: "yes", False: "**no**", None: ""}[r["ok"]]
        cells = [r["item"], r["measured"], r["target"], mark, r["detail"]]
        lines.append("| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="leave out the char-LM training and the notebook run")
    ap.add_argument("--json", default="benchmarks.json")
    ap.add_argument("--markdown", help="also write the table as Markdown (the README's Performance section)")
    args = ap.parse_args()
    parts = [scratch_vs_torch, word2vec, ngram, grading, widget]
    if not args.quick:
        parts += [char_lm, notebooks]
    rows, start = [], time.perf_counter()
    load_start = round(os.getloadavg()[0], 1)       # the machines are shared: say how loaded this one was
    for part in parts:
        try:
            got = part()
        except Exception as exc:  # noqa: BLE001 (one broken benchmark is a row, not the end of the run)
            got = [row(part.__name__, "error", "-", False, str(exc)[:300])]
        rows += got
        for r in got:
            mark = {True: "ok", False: "MISSED", None: ""}[r["ok"]]
            print(f"{r['item'][:72]:72s} {r['measured']:>20s}  {r['target']:>28s}  {mark:6s} {r['detail']}", flush=True)
    import torch
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "torch": torch.__version__,
            "python": platform.python_version(), "cpu": _cpu_name(), "cores": os.cpu_count(),
            "load average at start / end": [load_start, round(os.getloadavg()[0], 1)],
            "minutes": round((time.perf_counter() - start) / 60, 1)}
    Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows, "printed": RAW}, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows))
    print(f"\n{sum(r['ok'] is True for r in rows)} met, {sum(r['ok'] is False for r in rows)} missed; "
          f"{meta} -> {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
