"""Chapter 06's live explorers in a real browser: JupyterLab on this environment, driven by
headless Chromium over the DevTools protocol (``make browser-test``, part of ``make test``).

The chapter is opened with the smoke profile's parameters (as papermill would inject them),
every cell is run in JupyterLab, then the body explorer's *left knee flexion* slider is dragged
with the mouse: the explorer's status line (where the ankles project) and the coordinates of
its plotly figure's 2D joints must change. It reads the data root the environment names
(``INFANTPOSE_DATA``; a cold one makes the smoke sets first, which takes minutes) and writes its
run folder under the test's temporary directory. Skipped only when Chromium is not installed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_colabel_browser import NOTEBOOK_PANEL, open_and_run_all, running_lab

from infantpose.book.devtools import INSTALL_HINT, DevToolsPage, find_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
#: The body explorer: the widget box holding the status line "age … · nose at (…) px".
EXPLORER = (
    "[...document.querySelectorAll('.widget-vbox')].filter(e => e.querySelector("
    "'.widget-html-content')?.textContent.includes('nose at (')).pop()"
)
STATUS = f"{EXPLORER}?.querySelector('.widget-html-content')?.textContent"
JOINTS_2D = (
    f"(() => {{ const gd = {EXPLORER}?.querySelector('.js-plotly-plot');"
    "if (!gd || !gd.data) return null; const t = gd.data[gd.data.length - 1];"
    "return JSON.stringify([Array.from(t.x), Array.from(t.y)]); })()"
)


def _smoke_notebook(target: Path, run_dir: Path) -> None:
    """Chapter 06 as an .ipynb with the smoke profile's parameters injected (papermill's way)."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from infantpose.book.run import to_ipynb
    from infantpose.config import load_profile

    to_ipynb(ROOT / "notebooks" / "06-pose-explorer.md", target)
    parameters = {
        **load_profile("smoke").parameters_for("06-pose-explorer"),
        "live": True,  # the book's run builds no widget; JupyterLab is where they live
        "run_dir": str(run_dir),
    }
    nb = parameterize_notebook(
        load_notebook_node(str(target)), parameters, kernel_name="infantpose"
    )
    nbformat.write(nb, target)


def test_body_explorer_slider_moves_the_view_in_jupyterlab(tmp_path, monkeypatch):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(f"headless Chromium is not installed: {INSTALL_HINT}")
    pytest.importorskip("websocket", reason="websocket-client comes with jupyter_server")
    monkeypatch.setenv("INFANTPOSE_RUNS", str(tmp_path / "runs"))  # the kernel inherits it

    started = time.perf_counter()
    folder = tmp_path / "lab"
    folder.mkdir()
    _smoke_notebook(folder / "06-pose-explorer.ipynb", tmp_path / "run")
    # Every cell in the page: JupyterLab 4 leaves cells scrolled out of view out of the DOM.
    settings = tmp_path / "jupyter-state" / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    metrics = tmp_path / "run" / "metrics.json"

    with running_lab(folder) as (base, token), DevToolsPage(chromium, timeout_s=60) as page:
        try:
            open_and_run_all(page, base, token, "06-pose-explorer.ipynb")
            deadline = time.monotonic() + 300
            while not metrics.exists():  # the chapter's results cell ran: every cell before it too
                if time.monotonic() > deadline:
                    raise AssertionError("the chapter did not reach its results cell in 300 s")
                time.sleep(0.5)
            run_s = time.perf_counter() - started
            page.wait_for(
                f"{NOTEBOOK_PANEL}.sessionContext.session.kernel.status === 'idle'", 60, "idle"
            )
            page.wait_for(f"({JOINTS_2D}) !== null", 30, "the body explorer's plotly figure")
            before_status, before_joints = page.evaluate(STATUS), page.evaluate(JOINTS_2D)
            assert "ankles at" in before_status

            # Drag the handle of the "left knee flexion" slider to the right.
            x, y, width = page.evaluate(
                f"(() => {{ const s = [...{EXPLORER}.querySelectorAll('.widget-slider')]"
                ".find(e => e.textContent.includes('left knee flexion'));"
                "s.scrollIntoView({block: 'center'}); const h = s.querySelector('.noUi-handle');"
                "const t = s.querySelector('.noUi-target').getBoundingClientRect();"
                "const r = h.getBoundingClientRect();"
                "return [r.left + r.width / 2, r.top + r.height / 2, t.width]; })()"
            )
            page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
            page.send("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left",
                      clickCount=1)  # fmt: skip
            for k in range(1, 6):
                page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x + 0.1 * k * width,
                          y=y, button="left", buttons=1)  # fmt: skip
            page.send("Input.dispatchMouseEvent", type="mouseReleased", x=x + 0.5 * width, y=y,
                      button="left", clickCount=1)  # fmt: skip
            page.wait_for(f"({STATUS}) !== {json.dumps(before_status)}", 30, "a new status line")
            page.wait_for(f"({JOINTS_2D}) !== {json.dumps(before_joints)}", 30, "moved 2D joints")
            after_status, after_joints = page.evaluate(STATUS), page.evaluate(JOINTS_2D)
        except Exception:
            page.screenshot(tmp_path / "failure.png")
            print(f"screenshot: {tmp_path / 'failure.png'}; console: {page.console}")
            raise

    # The ankles' projections changed and the knee slider holds a new value in the status.
    assert before_status.split("ankles at")[1] != after_status.split("ankles at")[1]
    xs_before, xs_after = json.loads(before_joints)[0], json.loads(after_joints)[0]
    assert any(a != b for a, b in zip(xs_before, xs_after, strict=True))
    recorded = json.loads(metrics.read_text())
    assert recorded["notebook"] == "run" and "lift_mpjpe_mm/final_mean" in recorded["metrics"]
    print(
        f"chapter run in JupyterLab: {run_s:.1f} s; browser test: {time.perf_counter() - started:.1f} s"
    )
