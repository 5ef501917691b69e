"""The co-labelling widget in a real browser: JupyterLab on this environment, driven by headless
Chromium over the DevTools protocol (``make browser-test``, part of ``make test``).

One image, the baseline proposal: accept every joint with the ``A`` shortcut, select the nose
with ``j``, click the image to move it, finish with ``f``; the COCO file on disk must hold the
clicked nose and validate. Skipped only when Chromium is not installed.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from infantpose.book.devtools import INSTALL_HINT, DevToolsPage, find_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK_CELL = """\
from infantpose.data.colabel import LabelingSession
from infantpose.viz.colabel_widget import ColabelWidget

session = LabelingSession("labels.json", ["infant.png"], image_root=".")
ColabelWidget(session)
"""
#: The notebook panel (the headless page has no focus, so the shell has no current widget).
NOTEBOOK_PANEL = (
    "[...(window.jupyterapp?.shell?.widgets('main') ?? [])].find(w => w.sessionContext)"
)
#: Where the test clicks the nose to, in image pixels: far from every joint of the proposal.
TARGET = (14.0, 12.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_lab(folder: Path):
    """JupyterLab serving ``folder`` as ``make lab`` starts it, on a free port with a token."""
    from infantpose.book.run import ensure_kernel
    from infantpose.lab import lab_command

    ensure_kernel()
    port, token = _free_port(), secrets.token_hex(16)
    state = folder.parent / "jupyter-state"
    command, env = lab_command(
        folder,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--expose-app-in-browser",  # window.jupyterapp, to run the cells
    )
    env.update(
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_DATA_DIR=str(state / "data"),  # kernels and extensions still come from the venv
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),  # no tabs left from other sessions
    )
    log = open(folder.parent / "jupyterlab.log", "w")
    lab = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if lab.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "JupyterLab did not start:\n"
                        + (folder.parent / "jupyterlab.log").read_text()
                    ) from None
                time.sleep(0.25)
        yield base, token
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=15)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait()
        log.close()


def _wait_for_file(path: Path, check, timeout_s: float, what: str) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            doc = json.loads(path.read_text())
            if check(doc):
                return doc
        except (OSError, json.JSONDecodeError):
            pass  # not written yet
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not in {path} after {timeout_s:.0f} s")
        time.sleep(0.1)


def _state(doc: dict) -> dict:
    return next(iter(doc["colabel"]["images"].values()))


def open_and_run_all(page: DevToolsPage, base: str, token: str, name: str) -> None:
    """Open notebook ``name`` of the running lab, wait for its kernel, run every cell."""
    page.navigate(f"{base}/lab/tree/{name}?token={token}")
    page.wait_for(
        f"{NOTEBOOK_PANEL}?.sessionContext?.session?.kernel?.status === 'idle'",
        60,
        "the notebook and its kernel",
    )
    page.evaluate(
        f"(() => {{ jupyterapp.shell.activateById({NOTEBOOK_PANEL}.id);"
        "void jupyterapp.commands.execute('notebook:run-all-cells'); return true; })()"
    )


def test_colabel_widget_keyboard_click_and_save_in_jupyterlab(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(f"headless Chromium is not installed: {INSTALL_HINT}")
    pytest.importorskip("websocket", reason="websocket-client comes with jupyter_server")
    from PIL import Image

    started = time.perf_counter()
    folder = tmp_path / "lab"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(90, 170, (120, 160, 3), dtype=np.uint8)).save(
        folder / "infant.png"
    )
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "colabel",
                "metadata": {},
                "outputs": [],
                "source": NOTEBOOK_CELL,
            }
        ],
        "metadata": {"kernelspec": {"name": "infantpose", "display_name": "Python (infantpose)"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / "colabel.ipynb").write_text(json.dumps(notebook))
    labels = folder / "labels.json"

    with running_lab(folder) as (base, token), DevToolsPage(chromium, timeout_s=60) as page:
        try:
            open_and_run_all(page, base, token, "colabel.ipynb")
            page.wait_for(
                "document.querySelector('.js-plotly-plot .nsewdrag') !== null", 60, "the figure"
            )
            _wait_for_file(labels, lambda d: _state(d)["status"] == "proposed", 10, "a proposal")

            # Keyboard: hover the widget (ipyevents listens there), accept every joint.
            hover = page.evaluate(
                "(() => { const e = [...document.querySelectorAll('.widget-html-content')]"
                ".find(e => e.textContent.includes('image 1/1')); e.scrollIntoView();"
                "const r = e.getBoundingClientRect(); return [r.left + 5, r.top + r.height / 2]; })()"
            )
            page.move_mouse(*hover)
            page.press("A")
            doc = _wait_for_file(
                labels,
                lambda d: set(_state(d)["decisions"]) == {"accepted"},
                15,
                "every joint accepted by the A shortcut",
            )
            proposal = np.array(_state(doc)["proposal"], dtype=float)
            assert np.hypot(*(proposal[0, :2] - TARGET)) > 10  # the click really moves the nose

            # Select the nose (j) and click its new place on the image.
            page.press("j")
            page.wait_for(
                "document.querySelector('.widget-dropdown select')?.selectedOptions[0]"
                "?.textContent === 'nose'",
                15,
                "the nose selected by the j shortcut",
            )
            x, y = page.evaluate(
                "(() => { const gd = document.querySelector('.js-plotly-plot');"
                "gd.scrollIntoView(); const r = gd.getBoundingClientRect();"
                "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
                f"return [r.left + xa._offset + xa.d2p({TARGET[0]}),"
                f" r.top + ya._offset + ya.d2p({TARGET[1]})]; }})()"
            )
            page.click(x, y)
            doc = _wait_for_file(
                labels, lambda d: _state(d)["revised"][0] is not None, 15, "the clicked nose"
            )
            page.press("f")
            doc = _wait_for_file(labels, lambda d: len(d["annotations"]) == 1, 15, "finish (f)")
        except Exception:
            page.screenshot(tmp_path / "failure.png")
            print(f"screenshot: {tmp_path / 'failure.png'}; console: {page.console}")
            raise

    annotation = doc["annotations"][0]
    keypoints = np.array(annotation["keypoints"], dtype=float).reshape(17, 3)
    assert keypoints[0, 2] == 2
    assert np.allclose(keypoints[0, :2], TARGET, atol=1.0), keypoints[0]
    assert np.allclose(keypoints[1:], proposal[1:], atol=1e-3)  # the accepted joints as proposed
    assert doc["images"][0]["is_labeled"] is True

    from infantpose.cli import validate_file

    assert validate_file(labels, folder, syrip=False) == []
    cli = subprocess.run(
        [sys.executable, "-m", "infantpose", "validate", str(labels), "--images", str(folder)],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    print(f"browser test took {time.perf_counter() - started:.1f} s")
