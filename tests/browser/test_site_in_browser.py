"""The course website in a real browser: the site is built (python -m course_lib.site build), served
on 127.0.0.1, and every page is opened in Debian's chromium (playwright, no browser download).

A page fails on: a console error, a failed or non-2xx request, any request that leaves 127.0.0.1,
an image that did not load, raw TeX where math should be typeset, or a dead internal link (a
missing page or a missing #anchor). Screenshots of the landing page and one lesson page are saved
to _build/screenshots/.

Run: pytest -m browser tests/browser   (needs `apt-get install chromium`,
`pip install -r tests/browser/requirements.txt -r assets/site/requirements.txt`).
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# MathJax 2.7's HTML-CSS output probes for a locally installed font with a url(about:blank) font
# face; Chromium logs that probe as an error although nothing is missing (the math is typeset and
# checked below). This one message is the only console output tolerated.
TOLERATED_CONSOLE = ("Access to font at 'about:blank'", "net::ERR_FAILED")
RAW_TEX = re.compile(r"\\\(|\\\[|\$[^$\s][^$]{0,80}\\[a-zA-Z]+[^$]{0,80}\$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="pip install -r tests/browser/requirements.txt")
    pytest.importorskip("myst_nb", reason="pip install -r assets/site/requirements.txt")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "course_lib.site", "build"], cwd=REPO, check=True, timeout=300)
    build_seconds = time.perf_counter() - start
    root = REPO / "_build" / "site"
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield {"root": root, "base": f"http://127.0.0.1:{port}/", "build_seconds": build_seconds}
    finally:
        server.kill()


def _pages(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html") if "_static" not in p.parts)


def _ids(html_file: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html_file.read_text(encoding="utf-8")))


def test_build_is_quick(site):
    assert site["build_seconds"] < 120, f"the site build took {site['build_seconds']:.0f} s (budget 120 s)"


def test_every_page_loads_clean(site):
    from playwright.sync_api import sync_playwright
    root, base = site["root"], site["base"]
    pages = _pages(root)
    assert {"index.html", "install.html", "glossary.html"} <= set(pages)
    lessons = [p for p in pages if p.startswith("lessons/")]
    assert len(lessons) == len(list((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    assert not any(p.startswith("solutions") or "hidden" in p for p in pages)
    problems: list[str] = []
    shots = REPO / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    id_cache: dict[Path, set[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                     "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        current = {"url": ""}

        def on_console(msg):
            if msg.type == "error" and not any(t in msg.text for t in TOLERATED_CONSOLE):
                problems.append(f"{current['url']}: console error: {msg.text[:200]}")

        def on_request(req):
            if not req.url.startswith((base, "data:", "about:blank", "blob:")):
                problems.append(f"{current['url']}: request leaves the site: {req.url}")

        def on_response(resp):
            if resp.status >= 400:
                problems.append(f"{current['url']}: HTTP {resp.status} for {resp.url}")

        def on_failed(req):
            if req.url != "about:blank":
                problems.append(f"{current['url']}: request failed: {req.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: problems.append(f"{current['url']}: page error: {e}"))
        page.on("request", on_request)
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        for rel in pages:
            current["url"] = rel
            page.goto(base + rel, wait_until="load")
            if page.evaluate("typeof MathJax !== 'undefined' && !!MathJax.Hub"):
                page.evaluate("() => new Promise(r => MathJax.Hub.Queue(r))")  # typesetting finished
            broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                                   ".map(i => i.src)")
            problems += [f"{rel}: image did not load: {src}" for src in broken]
            prose = page.evaluate("[...document.querySelectorAll('article p, article li, article td, article h1, "
                                  "article h2, article h3')].filter(e => !e.closest('pre, code, .highlight, "
                                  ".cell_output')).map(e => e.innerText).join('\\n')")
            raw = RAW_TEX.findall(prose)
            if raw:
                problems.append(f"{rel}: raw TeX not typeset: {raw[:3]}")
            for href in page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
                if not href.startswith(base):
                    continue
                target, frag = urldefrag(href)
                path = unquote(urlparse(target).path).lstrip("/") or "index.html"
                file = root / path
                if file.is_dir():
                    file = file / "index.html"
                if not file.is_file():
                    problems.append(f"{rel}: dead link {href}")
                elif frag and file.suffix == ".html":
                    ids = id_cache.setdefault(file, _ids(file))
                    if unquote(frag) not in ids:
                        problems.append(f"{rel}: link to a missing anchor {href}")
            if rel == "index.html" or rel == lessons[min(3, len(lessons) - 1)]:
                page.screenshot(path=str(shots / (rel.replace("/", "_").replace(".html", ".png"))))
        browser.close()
    assert not problems, "\n".join(problems[:40])
