"""The executed course as a static website, built from the committed notebooks without running them.

    python -m pip install -r assets/site/requirements.txt   # once: the build's own tools
    python -m course_lib.site build                          # -> _build/site/index.html (about a minute)

Tool: Sphinx with MyST-NB and the Sphinx Book Theme, the engine of Jupyter Book 1, driven directly
(all pure Python, so the build needs no Node.js and works offline). MyST-NB renders the stored
outputs (``nb_execution_mode = "off"``): the notebooks are executed and checked by nbval already,
so the site costs a build, not a re-run. Math is typeset by a local copy of MathJax (from the
``jupyter-server-mathjax`` package), never a CDN. Sphinx's own search index gives the search box.

Pages: a landing page for students (the README's introduction, Start, the course map with every lesson
and its exercises, how exercises are checked), "Install and run", "For instructors" (grading, the tests,
the site, performance), the lesson notebooks in lecture order, the exercise notebooks (stubs; never
``solutions/`` or hidden tests), the glossary. Every notebook page starts with the one download link for
its ``.ipynb`` (the repository's file as it is); nbval markers, the import guard and the generated-file
marker are left off the page, not out of the notebook. ``assets/site/course.css`` keeps wide math and code
inside the column (scrolling), ``course.js`` opens a figure full size on a click.
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

CONF = '''\
project = "RNNs and Language Models"
author = "the course's authors"
copyright = "the course's authors; MIT License"
extensions = ["myst_nb", "sphinx.ext.mathjax", "sphinx_copybutton"]
copybutton_exclude = ".linenos, .gp, .go"   # copy the code, never prompts or outputs
nb_execution_mode = "off"                  # the committed, nbval-checked outputs are rendered as they are
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
html_theme = "sphinx_book_theme"
html_title = "RNNs and Language Models"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = ["course.js"]
# one download per page: the note at the top of each notebook page links the repository's own file
html_theme_options = {"show_navbar_depth": 1, "use_download_button": False, "show_toc_level": 2,
                      "navigation_with_keys": True}
html_copy_source = False                    # no second copy of every notebook under _sources/
html_show_sourcelink = False
# Chinese terms (the lecture's, in the glossary) are found by their parts too: see course_lib.site.CjkSearch
import course_lib.site as _course_site
_course_site.register_search()
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


CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def register_search() -> None:
    """Make Sphinx's English search index find the lecture's Chinese terms by their parts.

    Sphinx splits text into words at spaces, so a run of Chinese characters (梯度消失问题) is one word and
    a search for 梯度 finds nothing; its Chinese splitter needs jieba (a 20 MB dictionary). Here every
    run also yields its 2-, 3- and 4-character pieces, which is what a reader types."""
    from sphinx.search import languages
    from sphinx.search.en import SearchEnglish

    class CjkSearch(SearchEnglish):
        def split(self, input: str) -> list[str]:
            words = super().split(input)
            for run in CJK_RUN.findall(input):
                words += [run[i:i + n] for n in (2, 3, 4) for i in range(len(run) - n + 1)]
            return words

    languages["en"] = CjkSearch


def _title(ipynb: Path) -> str:
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ipynb.stem


NBVAL_MARKER = re.compile(r"^[ \t]*# ?NBVAL_[A-Z_]+[^\n]*\n?", re.M)


def _site_source(source: str, guard: str) -> str:
    """A code cell as the site shows it: without nbval's markers (they steer the tests, not the reader)
    and without the import guard that only a kernel lacking the course needs."""
    source = NBVAL_MARKER.sub("", source)
    if source.startswith(guard):
        source = source[len(guard):].lstrip("\n")
    return source


def _alt_text(cell_source: str, heading: str) -> str:
    """Words for a figure: its title when the cell sets one, else the cell's first comment, else the section."""
    m = re.search(r"(?:suptitle|set_title|title)\(\s*[rf]?[\"']([^\"'{}]{6,120})[\"']", cell_source)
    if m:
        return m.group(1)
    for line in cell_source.splitlines():
        line = line.strip()
        if line.startswith("#") and len(line) > 8 and "NBVAL" not in line:
            return line.lstrip("# ").strip()
    return f"figure: {heading}" if heading else "figure"


def _live_widget(source: str, outputs: list) -> str | None:
    """The HTML of the live gradient-decay widget for a cell that shows ``GradientFlowWidget(...)``, started at
    the cell's own settings; None for any other cell."""
    import ast
    if not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs):
        return None
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "GradientFlowWidget":
            from .site_widget import html
            return html(**{kw.arg: ast.literal_eval(kw.value) for kw in node.keywords})
    return None


def _with_download_note(src: Path, dest: Path, folder: str) -> None:
    """Copy a notebook for the site: a first cell that links the repository's own .ipynb (served as it is,
    from ``_originals/``) and says how to open it; test markers, the import guard and the generated-file
    marker left out of the page (the notebook itself keeps them); figures with alt text."""
    from .dev import SETUP_GUARD
    original = dest.parents[1] / "_originals" / dest.parent.name / src.name
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, original)
    nb = json.loads(src.read_text(encoding="utf-8"))
    shown = "as executed" if folder == "notebooks" else "as it is handed out (the exercises are yours to write)"
    note = (f"```{{note}}\nThis page shows `{folder}/{src.name}` {shown}. {{download}}`Download the notebook "
            f"<../_originals/{dest.parent.name}/{src.name}>` and open it in JupyterLab (`jupyter lab {folder}/{src.name}` "
            "from the course's folder) to run it, change it and use its widgets.\n```")
    heading = ""
    for cell in nb["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if cell["cell_type"] == "markdown":   # notebooks/glossary.md is one folder up on the site
            cell["source"] = text.replace("](glossary.md", "](../glossary.md")
            found = re.findall(r"^#{1,4} (.+)$", text, flags=re.M)
            heading = found[-1].strip() if found else heading
            continue
        if cell["cell_type"] == "code":
            if text.startswith("# This exercise notebook is generated from"):
                tags.append("remove-cell")
                continue
            shown_src = _site_source(text, SETUP_GUARD)
            cell["source"] = shown_src
            if not shown_src.strip():
                tags.append("remove-input")
            live = _live_widget(text, cell.get("outputs", []))
            if live is not None:       # the gradient-decay widget, alive on the page (course_lib.site_widget)
                cell["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"text/html": live}}]
            if any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
                cell["metadata"]["mystnb"] = {"image": {"alt": _alt_text(text, heading),
                                                        "classes": "course-figure"}}
    nb["cells"].insert(0, {"cell_type": "markdown", "id": "course-site-note", "metadata": {}, "source": note})
    nb.setdefault("metadata", {}).pop("widgets", None)
    dest.write_text(json.dumps(nb), encoding="utf-8")


STUDENT_SECTIONS = ("Start", "Exercises (students)")
INSTALL_SECTIONS = ("Run on a hosted notebook service", "GPU", "Data")
INSTRUCTOR_SECTIONS = ("Instructors", "How the tests work", "The notebooks", "The course as a website", "Performance",
                       "License")


def _slug(title: str) -> str:
    from myst_parser.slugs import github_slugify
    return github_slugify(title)


def _relink(text: str, where: dict[str, str], page: str) -> str:
    """README links to its own sections (``](#instructors)``) point at the page that now holds the section."""
    def fix(m):
        target = where.get(m.group(1))
        return m.group(0) if target in (None, page) else f"]({target}#{m.group(1)})"
    return re.sub(r"\]\(#([\w-]+)\)", fix, text)


def _section(readme: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", readme, flags=re.S | re.M)
    return m.group(0) if m else ""


def _course_map(readme: str, lessons: list[Path]) -> str:
    """The lessons in the lecture's order, each with its topic and a link to its exercises."""
    topics = {}
    for num, stem, topic, _ in re.findall(r"^\| (\d\d) \| `([^`]+)` \| ([^|]+) \| ([^|]+) \|$",
                                          _section(readme, "The notebooks"), re.M):
        topics[stem] = topic.strip()
    rows = []
    for p in lessons:
        ex = f"[exercises](exercises/{p.stem}.ipynb)" if (REPO / "exercises" / p.name).is_file() else ""
        rows.append(f"| [{_title(p)}](lessons/{p.stem}.ipynb) | {topics.get(p.stem, '')} | {ex} |")
    return ("## The course, lesson by lesson\n\nRead each lesson top to bottom and run its cells, then do its "
            "exercises: `check()` answers each one as you go.\n\n| lesson | what it teaches | practise |\n"
            "|---|---|---|\n" + "\n".join(rows) + "\n\n")


def _landing(readme: str, lessons: list[Path], where: dict[str, str]) -> str:
    """The student's front door: what the course is, how to start, the map, how exercises are checked.
    Installation details, grading and maintenance have pages of their own."""
    first, _, _ = readme.partition("\n## ")
    parts = [first.rstrip() + "\n\n", _section(readme, "Start"), _course_map(readme, lessons),
             _section(readme, "Exercises (students)"),
             "## More\n\n- [Install and run](install.md): hosted notebooks (Colab, Kaggle, JupyterHub), the GPU, "
             "the offline data.\n- [Glossary](glossary.md): the lecture's Chinese terms, in English, with the "
             "section that teaches each.\n- [For instructors](instructors.md): grading a class, the tests, the "
             "website, performance.\n"]
    toc = ("\n```{toctree}\n:hidden:\n:caption: Start\n\ninstall\nglossary\ninstructors\n```\n"
           "\n```{toctree}\n:hidden:\n:caption: Lessons\n\n" + "\n".join(f"lessons/{p.stem}" for p in lessons)
           + "\n```\n\n```{toctree}\n:hidden:\n:caption: Exercises\n\n"
           + "\n".join(f"exercises/{p.stem}" for p in lessons if (REPO / "exercises" / p.name).is_file()) + "\n```\n")
    return _relink("".join(parts), where, "index.md") + toc


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
    where = {}
    for page, titles in (("index.md", STUDENT_SECTIONS), ("install.md", INSTALL_SECTIONS),
                         ("instructors.md", INSTRUCTOR_SECTIONS)):
        where.update({_slug(t): page for t in titles})
    (src / "index.md").write_text(_landing(readme, lessons, where), encoding="utf-8")
    install = "# Install and run\n\n" + "\n".join(_section(readme, t) for t in INSTALL_SECTIONS)
    (src / "install.md").write_text(_relink(install, where, "install.md"), encoding="utf-8")
    instructors = ("# For instructors and maintainers\n\nGrading a class, how the course tests itself, the website "
                   "and the measured performance.\n\n" + "\n".join(_section(readme, t) for t in INSTRUCTOR_SECTIONS))
    (src / "instructors.md").write_text(_relink(instructors, where, "instructors.md"), encoding="utf-8")
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
    for name in ("course.css", "course.js", "gradient_widget.js"):
        shutil.copy(REPO / "assets" / "site" / name, static / name)
    from .site_widget import write_grid        # the live widget's curves, measured once per version of the code
    write_grid(static / "gradient_grid.js", cache_dir=BUILD / "cache")
    import jupyter_server_mathjax
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", static / "mathjax")
    return src


def build(out: str | Path | None = None) -> Path:
    """Build the site into ``out`` (default ``_build/site``); raise SystemExit on any warning."""
    from sphinx.cmd.build import build_main
    out = Path(out) if out else BUILD / "site"
    src = prepare(BUILD / "site-src")
    if out.exists():                 # nothing of an earlier build (a removed page, an old cache) is served
        shutil.rmtree(out)
    # Sphinx's cache (.doctrees) goes beside the site, never into the folder that is served
    code = build_main(["-W", "--keep-going", "-q", "-b", "html", "-d", str(BUILD / "site-doctrees"), str(src),
                       str(out)])
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
