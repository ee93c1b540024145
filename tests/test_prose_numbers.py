"""Every number a lesson's text states is one its own outputs print (a claim is a check).

For each lesson notebook (``notebooks/NN_*.ipynb``) every number in a markdown cell must be one of:

* printed by an output of that notebook, at the precision the prose writes it (prose ``1.52`` matches a
  printed ``1.5213``; prose ``190`` does not match a printed ``191``); a percentage may match a printed
  fraction (``13.7 %`` and ``0.137``);
* approximate — the word before it is "about", "around", "roughly", "nearly", "almost", "≈" or "~" — and
  within 25 % of a printed number: that is how the text speaks of values that move with the machine,
  whose band a nearby cell asserts (``course_lib.claims``);
* a bound — "more than", "over", "above", "at least", "less than", "under", "below", "at most", ">" or
  "<" — that a printed number meets (within a factor of 3, so that an unrelated number cannot stand in);
* a literal of the notebook's own code (a parameter the reader can see set: ``seq_len=100``);
* a structural number: an integer from 0 to 12, a year from 1900 to 2099, or the number of a notebook,
  lecture, exercise, section, chapter, slide, page, figure, equation or part;
* listed with its reason in ``tests/prose_numbers/<notebook stem>.txt`` (one ``number  reason`` a line):
  for numbers that come from elsewhere (a paper's result, a figure's axis) and say where.

Math (``$...$``), inline code, links' targets and HTML comments are not prose and are skipped.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALLOW_DIR = Path(__file__).resolve().parent / "prose_numbers"

# a number: 1,115,394  13.7  0.5  1.65e9  (sign ignored; a digit glued to a letter or _ is a name: word2vec, W_hh, 1D)
NUMBER = re.compile(r"(?<![\w.^/\\])(\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u2009\u202f]\d{3})+(?![\d.,])|\d+)(\.\d+)?(?:[eE]([-+−]?\d+))?(?![\w.]*[A-Za-wyz_])")
OUT_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:[eE]([-+]?\d+))?")
APPROX = re.compile(r"(?:about|around|roughly|nearly|almost|approximately|≈|~|∼)\s*$", re.I)
ABOVE = re.compile(r"(?:more than|over|above|at least|exceeds?|>|≥)\s*$", re.I)
BELOW = re.compile(r"(?:less than|fewer than|under|below|at most|<|≤)\s*$", re.I)
STRUCTURAL = re.compile(r"(?:notebooks?|lectures?|exercises?|sections?|chapters?|slides?|pages?|pp\.|figures?|fig\.|"
                        r"equations?|eq\.|parts?|lessons?|§|#)\s*(?:\d+[.\-–]?\s*(?:,|and|or|to|–|-)\s*)*$", re.I)
SKIP = [re.compile(p, re.S) for p in (r"\$\$.*?\$\$", r"\$[^$\n]+\$", r"\\\[.*?\\\]", r"\\\(.*?\\\)", r"```.*?```",
                                       r"`[^`]*`", r"<!--.*?-->", r"\]\([^)]*\)", r"<[^>]+>", r"https?://\S+")]


def _value(whole: str, frac: str | None, exp: str | None) -> float:
    v = float(re.sub(r"[, \u2009\u202f]", "", whole) + (frac or ""))
    return v * 10 ** int(exp.replace("−", "-")) if exp else v


def _prose(md: str) -> str:
    for pat in SKIP:
        md = pat.sub(lambda m: " " * len(m.group(0)), md)
    return md


def _outputs(nb: dict) -> list[str]:
    texts = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                texts.append("".join(o.get("text", "")))
            for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
                data = o.get("data", {}).get(mime)
                if data:
                    texts.append("".join(data))
    return texts


def _numbers(texts) -> set[float]:
    found: set[float] = set()
    for t in texts:
        for m in OUT_NUMBER.finditer(t):
            v = _value(*m.groups())
            found.add(v)
            if m.group(3):  # 1.65e+09: the mantissa too, as the prose writes "1.65 × 10^9"
                found.add(_value(m.group(1), m.group(2), None))
    return found


def _code_literals(nb: dict) -> set[float]:
    return _numbers("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def _allowed(stem: str) -> set[str]:
    f = ALLOW_DIR / f"{stem}.txt"
    if not f.is_file():
        return set()
    keep = set()
    for line in f.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keep.add(line.split()[0])
    return keep


def unbacked_numbers(nb: dict, stem: str) -> list[str]:
    """The prose's numbers that nothing in the notebook backs, each with its sentence."""
    printed = _numbers(_outputs(nb))
    code = _code_literals(nb)
    allow = _allowed(stem)
    bad = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "markdown":
            continue
        text = _prose("".join(c["source"]))
        for m in NUMBER.finditer(text):
            whole, frac, exp = m.groups()
            token = m.group(0)
            v = _value(whole, frac, exp)
            before = text[max(0, m.start() - 40):m.start()]
            after = text[m.end():m.end() + 3]
            decimals = len(frac) - 1 if frac else 0
            if token in allow or token.replace(",", "") in allow:
                continue
            if not frac and not exp and whole.isdigit() and (v <= 12 or (1900 <= v <= 2099 and len(whole) == 4)):
                continue
            if STRUCTURAL.search(before):
                continue
            if v in code:
                continue
            percent = after.lstrip().startswith("%")
            candidates = printed | ({p * 100 for p in printed | code} if percent else set())
            tol = 0.5 * 10 ** -decimals * (10 ** int(exp.replace("−", "-")) if exp else 1) + 1e-12
            if any(abs(p - v) <= tol for p in candidates):
                continue
            if APPROX.search(before) and any(abs(p - v) <= 0.25 * abs(v) for p in candidates):
                continue
            if ABOVE.search(before) and any(v <= p <= 3 * v for p in candidates):
                continue
            if BELOW.search(before) and any(v / 3 <= p <= v for p in candidates):
                continue
            line = text[text.rfind("\n", 0, m.start()) + 1: text.find("\n", m.end()) if "\n" in text[m.end():] else None]
            bad.append(f"cell {i}: {token!r} in: {line.strip()[:160]}")
    return bad


@pytest.mark.parametrize("ipynb", LESSONS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_printed(ipynb):
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    bad = unbacked_numbers(nb, ipynb.stem)
    assert not bad, (f"{ipynb.name}: {len(bad)} number(s) in the text that no output prints at that precision "
                     f"(print it, say 'about' and assert its band, or list it with its source in "
                     f"tests/prose_numbers/{ipynb.stem}.txt):\n  " + "\n  ".join(bad))


def test_the_checker_catches_a_contradiction():
    """The test can fail: a number the outputs contradict is reported, one they print is not."""
    nb = {"cells": [
        {"cell_type": "code", "source": "print(191)", "outputs": [{"output_type": "stream", "text": "ratio 191.3\nloss 1.5213\n"}]},
        {"cell_type": "markdown", "source": "The ratio is 191 and the loss 1.52, about 1.6, or 13.7 % of it."},
        {"cell_type": "markdown", "source": "A word model is 190 times wider; it took about 20 s; less than 0.2; 1 913 of them."},
    ]}
    bad = unbacked_numbers(nb, "none")
    assert [b.split("'")[1] for b in bad] == ["13.7", "190", "20", "0.2", "1 913"], bad
