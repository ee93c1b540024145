"""The gradient-decay widget in a real browser: JupyterLab on 127.0.0.1, Debian's chromium driven by
playwright (no browser download), the notebook run, the spectral-radius slider moved, and the
plot seen to change (screenshots of the plot compared, and the plot's readout changed).

Run: pytest -m browser tests/browser   (needs `apt-get install chromium` and
`pip install -r tests/browser/requirements.txt`; skipped when either is missing).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": "from course_lib.widgets import GradientFlowWidget\n"
                   "w = GradientFlowWidget(rho=0.8, T=60, hidden=16)\nw"},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="pip install -r tests/browser/requirements.txt")
    (tmp_path / "widget.ipynb").write_text(json.dumps(NOTEBOOK))
    settings = tmp_path / "settings"
    (settings / "overrides").mkdir(parents=True)
    (settings / "overrides" / "overrides.json").write_text(json.dumps(
        {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}))
    port, token = _free_port(), "course-browser-test"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings / "user"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         f"--LabApp.user_settings_dir={settings / 'user'}", "--allow-root",
         f"--LabServerApp.app_settings_dir={settings}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api?token={token}", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("JupyterLab did not start within 60 s")
    yield f"{url}/lab/tree/widget.ipynb?token={token}", tmp_path
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_slider_changes_the_plot(lab):
    from playwright.sync_api import sync_playwright

    url, tmp_path = lab
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            viewport={"width": 1400, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(url)
        # the kernel must be attached and idle before running (the toolbar's flag comes too early)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Shift+Enter")
        image = page.locator(".jp-OutputArea-output img.widget-image, .jp-OutputArea-output .widget-image").first
        image.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        readout = page.locator(".jp-OutputArea-output .widget-html-content").first
        before_text = readout.inner_text()
        before_png = image.screenshot(path=str(tmp_path / "before.png"))
        before_src = image.get_attribute("src")
        # drag the spectral-radius slider (the first slider of the widget) to the right
        handle = page.locator(".jp-OutputArea-output .noUi-handle").first
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        page.wait_for_function("([el, src]) => el.getAttribute('src') !== src",
                               arg=[image.element_handle(), before_src], timeout=30_000)
        page.wait_for_timeout(300)
        after_png = image.screenshot(path=str(tmp_path / "after.png"))
        after_text = readout.inner_text()
        context.close()
    assert before_png != after_png, "the plot did not change after moving the slider"
    assert before_text != after_text, "the horizon readout did not change"
    out = Path(os.environ.get("COURSE_BROWSER_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    (out / "widget_before.png").write_bytes(before_png)
    (out / "widget_after.png").write_bytes(after_png)
