"""The executed course as a static website, built from the committed notebooks without running them.

    python -m pip install -r assets/site/requirements.txt   # once: the build's own tools
    python -m course_lib.site build                          # -> _build/site/index.html (about a minute)

Tool: Sphinx with MyST-NB and the Sphinx Book Theme, the engine of Jupyter Book 1, driven directly
(all pure Python, so the build needs no Node.js and works offline). MyST-NB renders the stored
outputs (``nb_execution_mode = "off"``): the notebooks are executed and checked by nbval already,
so the site costs a build, not a re-run. Math is typeset by a local copy of MathJax (from the
``jupyter-server-mathjax`` package), never a CDN. Sphinx's own search index gives the search box.

Pages: the README (landing page, with the course map), "Install and run", the lesson notebooks in
lecture order, the exercise notebooks (stubs; never ``solutions/`` or hidden tests), the glossary.
Every notebook page starts with a download link for its ``.ipynb`` and how to open it in JupyterLab.
The build stops on any Sphinx warning (``-W``): a broken cross-reference or a missing notebook fails.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "_build"

# The lecture's arc, shown on the landing page: (stage, notebooks).
COURSE_MAP = [("n-grams", ["01_ngrams"]), ("embeddings", ["02_word2vec"]),
              ("RNN", ["03_rnn", "04_bptt", "05_clipping"]), ("gates", ["06_lstm_gru", "07_birnn"]),
              ("encoder-decoder", ["08_seq2seq"]), ("attention", ["09_attention", "10_positional_encoding"])]

CONF = '''\
project = "RNNs and Language Models"
author = "the course's authors"
copyright = "MIT License"
extensions = ["myst_nb", "sphinx.ext.mathjax"]
nb_execution_mode = "off"                  # the committed, nbval-checked outputs are rendered as they are
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
html_theme = "sphinx_book_theme"
html_title = "RNNs and Language Models"
html_static_path = ["_static"]
html_theme_options = {"show_navbar_depth": 1, "use_download_button": True, "show_toc_level": 2,
                      "navigation_with_keys": True}
html_sourcelink_suffix = ""
html_context = {"default_mode": "light"}
html_favicon = "_static/favicon.svg"
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"   # local MathJax 2.7, no CDN
mathjax2_config = {"tex2jax": {"inlineMath": [["\\\\(", "\\\\)"]], "displayMath": [["\\\\[", "\\\\]"]],
                               "processEscapes": True,
                               # MyST-NB marks notebook pages tex2jax_ignore and their math spans "math"
                               "processClass": "math|tex2jax_process|mathjax_process"},
                   # the local copy has the STIX-Web fonts only (as Jupyter's own MathJax setup uses)
                   "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None, "preferredFont": None},
                   "SVG": {"font": "STIX-Web"}}
exclude_patterns = ["_build", "_originals"]
suppress_warnings = ["mystnb.unknown_mime_type"]   # ipywidgets views: their static figure is beside them
'''


FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" '
           'fill="#4c72b0"/><text x="16" y="22" font-size="16" text-anchor="middle" fill="white" '
           'font-family="sans-serif">h</text></svg>')


def _title(ipynb: Path) -> str:
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ipynb.stem


def _with_download_note(src: Path, dest: Path, folder: str) -> None:
    """Copy a notebook, with a first cell that links the original .ipynb and says how to open it.
    The original goes to ``_originals/`` (not a page; the download link serves it as it is in the repo)."""
    original = dest.parents[1] / "_originals" / dest.parent.name / src.name
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, original)
    nb = json.loads(src.read_text(encoding="utf-8"))
    note = (f"```{{note}}\nThis page shows `{folder}/{src.name}` as executed. {{download}}`Download the notebook "
            f"<../_originals/{dest.parent.name}/{src.name}>` and open it in JupyterLab (`jupyter lab {folder}/{src.name}` "
            "from the course's folder) to run it, change it and use its widgets.\n```")
    for cell in nb["cells"]:  # notebooks/glossary.md is one folder up on the site
        if cell["cell_type"] == "markdown":
            src_text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = src_text.replace("](glossary.md", "](../glossary.md")
    nb["cells"].insert(0, {"cell_type": "markdown", "id": "course-site-note", "metadata": {}, "source": note})
    nb.setdefault("metadata", {}).pop("widgets", None)
    dest.write_text(json.dumps(nb), encoding="utf-8")


def _landing(readme: str, lessons: list[Path]) -> str:
    present = {p.stem: p for p in lessons}
    rows = []
    for stage, stems in COURSE_MAP:
        links = [f"[{_title(present[s])}](lessons/{s}.ipynb)" if s in present else f"{s} (planned)"
                 for s in stems]
        rows.append(f"| {stage} | {'<br>'.join(links)} |")
    course_map = "## Course map\n\n| stage | notebooks |\n|---|---|\n" + "\n".join(rows) + "\n\n"
    first, _, rest = readme.partition("\n## ")
    toc = ("\n```{toctree}\n:hidden:\n:caption: Start\n\ninstall\nglossary\n```\n"
           "\n```{toctree}\n:hidden:\n:caption: Lessons\n\n" + "\n".join(f"lessons/{p.stem}" for p in lessons)
           + "\n```\n\n```{toctree}\n:hidden:\n:caption: Exercises\n\n"
           + "\n".join(f"exercises/{p.stem}" for p in lessons if (REPO / "exercises" / p.name).is_file()) + "\n```\n")
    return first + "\n\n" + course_map + "## " + rest + toc


def _section(readme: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", readme, flags=re.S | re.M)
    return m.group(0) if m else ""


def prepare(src: Path) -> Path:
    """Write the Sphinx source tree into ``src`` (emptied first)."""
    if src.exists():
        shutil.rmtree(src)
    (src / "lessons").mkdir(parents=True)
    (src / "exercises").mkdir()
    lessons = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not lessons:
        raise FileNotFoundError("no lesson notebooks in notebooks/: nothing to build")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (src / "index.md").write_text(_landing(readme, lessons), encoding="utf-8")
    install = "# Install and run\n\n" + "\n".join(
        _section(readme, t) for t in ("Start", "Run on a hosted notebook service", "GPU",
                                                              "Exercises (students)"))
    (src / "install.md").write_text(install.replace("](#", "](index.md#"), encoding="utf-8")
    from myst_parser.slugs import github_slugify   # the anchors MyST gives headings (myst_heading_anchors)

    from . import glossary
    (src / "glossary.md").write_text(glossary.markdown(lambda h: github_slugify(glossary._plain(h)), "lessons/"),
                                     encoding="utf-8")
    for p in lessons:
        _with_download_note(p, src / "lessons" / p.name, "notebooks")
    for p in sorted((REPO / "exercises").glob("[0-9][0-9]_*.ipynb")):
        _with_download_note(p, src / "exercises" / p.name, "exercises")
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    static = src / "_static"
    static.mkdir()
    (static / "favicon.svg").write_text(FAVICON, encoding="utf-8")
    import jupyter_server_mathjax
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", static / "mathjax")
    return src


def build(out: str | Path | None = None) -> Path:
    """Build the site into ``out`` (default ``_build/site``); raise SystemExit on any warning."""
    from sphinx.cmd.build import build_main
    out = Path(out) if out else BUILD / "site"
    src = prepare(BUILD / "site-src")
    code = build_main(["-W", "--keep-going", "-q", "-b", "html", str(src), str(out)])
    if code != 0:
        raise SystemExit(f"the site build failed (exit {code}): see the warnings above")
    return out / "index.html"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "build":
        print(__doc__)
        return 2
    import time
    start = time.perf_counter()
    index = build(argv[1] if len(argv) > 1 else None)
    pages = len(list(index.parent.rglob("*.html")))
    print(f"site built in {time.perf_counter() - start:.0f} s: {pages} pages, open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
