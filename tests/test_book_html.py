"""The built book's weight and the browser check: plotly.js once, from ``_static``, only on
pages with a figure; no dead widget state; the download button off; and a check that fails
on a figure that did not draw, an image that did not load or a link that leads nowhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from infantpose.book import ChapterFailed, build_html, check_in_browser
from infantpose.book.offline import PLOTLY_JS, plotly_js_file
from infantpose.book.outputs import (
    PLOTLY_FIGURE_MARK,
    WIDGET_NOTE,
    WIDGET_STATE,
    WIDGET_VIEW,
    slim_notebook,
    widget_manager_served,
)
from infantpose.book.run import KERNEL_NAME, ensure_kernel

ROOT = Path(__file__).resolve().parents[1]
PLOTLY_BANNER = "plotly.js v"  # the licence banner that opens the library's source
needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="needs Debian chromium (make browser)"
)

SETUP = "from infantpose.env import setup_notebook\ndevice = setup_notebook(0, 'cpu')"
CHAPTERS = {
    "figures": [
        SETUP,
        "import plotly.graph_objects as go\ngo.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])).show()",
        "go.Figure(go.Scatter3d(x=[0, 1], y=[0, 1], z=[0, 1], mode='lines')).show()",
        "import ipywidgets\nipywidgets.IntSlider(3)",
    ],
    "text": [SETUP, "print('a page without figures')"],
}


def _execute(cells: list[str]) -> dict:
    import nbformat
    from nbclient import NotebookClient

    ensure_kernel()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter")] + [
        nbformat.v4.new_code_cell(source) for source in cells
    ]
    NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=300, store_widget_state=True).execute()
    return json.loads(nbformat.writes(nb))


@pytest.fixture(scope="module")
def executed() -> dict[str, dict]:
    """The chapters above as a kernel executed them: real plotly and ipywidgets outputs."""
    return {name: _execute(cells) for name, cells in CHAPTERS.items()}


def _html_outputs(nb: dict) -> list[str]:
    return [
        "".join(output["data"]["text/html"])
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


def _markdown_outputs(nb: dict) -> list[str]:
    return [
        output["data"]["text/markdown"]
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        if "text/markdown" in output.get("data", {})
    ]


# ------------------------------------------------------------ the executed notebooks


@pytest.mark.slow
def test_slimming_drops_plotly_js_but_keeps_the_figures(executed):
    nb = executed["figures"]
    assert any(PLOTLY_BANNER in html for html in _html_outputs(nb)), "setup sent no plotly.js"
    slim = slim_notebook(nb)
    html = _html_outputs(slim)
    assert not any(PLOTLY_BANNER in h or "window.PlotlyConfig" in h for h in html)
    figures = [h for h in html if PLOTLY_FIGURE_MARK in h]
    assert len(figures) == 2 and all("Plotly.newPlot" in h for h in figures)
    assert slim["cells"][1]["outputs"] == [], "the setup cell's loader output should be gone"
    assert slim_notebook(slim) == slim  # idempotent: `book build` applies it again


@pytest.mark.slow
def test_widget_state_that_cannot_render_is_replaced_by_a_note(executed):
    nb = executed["figures"]
    assert nb["metadata"]["widgets"][WIDGET_STATE]["state"], "nbclient stored no widget state"
    slim = slim_notebook(nb, widget_manager=False)
    assert "widgets" not in slim["metadata"]
    assert WIDGET_VIEW not in json.dumps(slim["cells"])
    assert _markdown_outputs(slim) == [WIDGET_NOTE]


@pytest.mark.slow
def test_a_served_widget_manager_keeps_the_state_of_standard_widgets_only(executed):
    nb = executed["figures"]
    state = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    kept = slim_notebook(nb, widget_manager=True)
    assert kept["metadata"]["widgets"][WIDGET_STATE]["state"] == state  # slider, layout, style
    assert WIDGET_VIEW in json.dumps(kept["cells"])
    # One model from a third-party module (plotly's FigureWidget, say): the manager would
    # have to fetch its code, so the view and every model it holds go.
    foreign = json.loads(json.dumps(nb))
    models = foreign["metadata"]["widgets"][WIDGET_STATE]["state"]
    layout = next(m for m in models.values() if m["model_name"] == "LayoutModel")
    layout["model_module"] = "jupyterlab-plotly"
    slim = slim_notebook(foreign, widget_manager=True)
    assert "widgets" not in slim["metadata"]
    assert _markdown_outputs(slim) == [WIDGET_NOTE]


def test_the_book_serves_no_widget_manager_so_widget_state_is_dropped():
    assert widget_manager_served(ROOT / "_config.yml") is False


def test_the_download_button_obeys_the_config():
    from jupyter_book.config import get_final_config

    config, _ = get_final_config(
        user_yaml=ROOT / "_config.yml",
        sourcedir=ROOT / "book",
        cli_config={"latex_individualpages": False},
    )
    jb = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert jb["html"]["use_download_button"] is False
    assert config["html_theme_options"]["use_download_button"] is False
    # the html: keys still reach the theme (sphinx.config merges, it does not replace)
    assert config["html_theme_options"]["use_repository_button"] is False
    assert config["html_copy_source"] is False


# ------------------------------------------------------------ the built book


@pytest.fixture(scope="module")
def built(executed, tmp_path_factory) -> Path:
    """A small book built with the project's ``_config.yml``: a page with two figures and a
    widget, a page with none."""
    root = tmp_path_factory.mktemp("book")
    (root / "book" / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    shutil.copy(ROOT / "book" / "references.bib", root / "book" / "references.bib")
    (root / "book" / "intro.md").write_text("# A book\n\nTwo chapters.\n")
    (root / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n"
        "  - file: notebooks/figures\n  - file: notebooks/text\n"
    )
    for name, nb in executed.items():  # as executed: the build slims them
        (root / "book" / "notebooks" / f"{name}.ipynb").write_text(json.dumps(nb))
    return build_html(root)


@pytest.mark.slow
def test_plotly_js_is_served_once_and_loaded_only_by_pages_with_a_figure(built):
    assert (built / "_static" / PLOTLY_JS).read_bytes() == plotly_js_file().read_bytes()
    pages = {p.relative_to(built).as_posix(): p.read_text() for p in built.rglob("*.html")}
    pages = {k: v for k, v in pages.items() if not k.startswith("_static/")}
    assert not [k for k, v in pages.items() if PLOTLY_BANNER in v], "plotly.js inlined"
    loading = sorted(k for k, v in pages.items() if f"_static/{PLOTLY_JS}" in v)
    assert loading == ["notebooks/figures.html"]
    assert pages["notebooks/figures.html"].count(f"_static/{PLOTLY_JS}") == 1
    assert pages["notebooks/figures.html"].count(PLOTLY_FIGURE_MARK) == 2


@pytest.mark.slow
def test_the_built_pages_carry_no_widget_state_no_sources_and_no_download_button(built):
    page = (built / "notebooks" / "figures.html").read_text()
    assert WIDGET_STATE not in page and WIDGET_VIEW not in page
    assert "An interactive widget stands here" in page
    assert not (built / "_sources").exists()
    for html in (built / "notebooks").glob("*.html"):
        assert "btn-download" not in html.read_text() and "Download this page" not in (
            html.read_text()
        ), html.name


@pytest.mark.slow
@needs_chromium
def test_the_built_book_passes_the_browser_check_with_every_figure_drawn(built, tmp_path):
    checks = {Path(c.page).name: c for c in check_in_browser(built, tmp_path / "shots")}
    assert checks["figures.html"].plotly_figures == 2
    assert checks["text.html"].plotly_figures == 0
    shot = tmp_path / "shots" / "notebooks__figures.png"
    from PIL import Image

    assert Image.open(shot).height > 1000  # the whole page, not the first screen


# ------------------------------------------------------------ what the check catches


def _page(body: str, plotly: bool = False) -> str:
    script = f'<script src="{PLOTLY_JS}"></script>' if plotly else ""
    return f"<html><head>{script}</head><body>{body}</body></html>"


def _figure(data: str) -> str:
    return (
        '<div id="f" class="plotly-graph-div" style="height:300px; width:400px;"></div>'
        f"<script>Plotly.newPlot('f', {data});</script>"
    )


@needs_chromium
def test_the_check_fails_a_figure_that_did_not_draw_an_image_or_a_link(tmp_path):
    from PIL import Image

    html = tmp_path / "html"
    html.mkdir()
    shutil.copy(plotly_js_file(), html / PLOTLY_JS)
    Image.new("RGB", (8, 8), "red").save(html / "ok.png")
    (html / "not-a.png").write_text("not an image")  # served (no 404), but cannot decode
    (html / "ok.html").write_text(
        _page(
            _figure("[{x: [0, 1], y: [1, 0]}]")
            + '<img src="ok.png"><a id="here" href="empty.html#here">a link</a>'
            + '<a href="ok.html#here">same page</a><a href="https://example.org">offsite</a>',
            plotly=True,
        )
    )
    (html / "empty.html").write_text(_page('<p id="here">' + _figure("[]") + "</p>", plotly=True))
    (html / "never.html").write_text(_page('<div class="plotly-graph-div"></div>', plotly=True))
    (html / "image.html").write_text(_page('<img src="not-a.png">'))
    (html / "links.html").write_text(
        _page('<a href="nowhere.html">gone</a><a href="ok.html#nope">no anchor</a>')
    )
    with pytest.raises(ChapterFailed) as err:
        check_in_browser(html, tmp_path / "shots")
    report = {
        line.split(": ", 1)[0].rsplit("/", 1)[-1]: line.split(": ", 1)[1]
        for line in str(err.value).splitlines()[1:]
    }
    assert "ok.html" not in report, report.get("ok.html")
    assert report["empty.html"] == "plotly figure 1 (#f) did not draw: it has no visible trace"
    assert report["never.html"] == "plotly figure 1 did not draw: plotly never drew it"
    assert report["image.html"] == "image not-a.png did not load"
    assert report["links.html"] == (
        "broken link /nowhere.html (no such file); broken link /ok.html#nope (no element #nope)"
    )
    assert (tmp_path / "shots" / "ok.png").exists()


# ------------------------------------------------------------ the README's pictures


def test_readme_pictures_exist_and_are_small():
    from infantpose.book.screenshots import MAX_BYTES, SHOTS

    readme = (ROOT / "README.md").read_text()
    for shot in SHOTS:
        path = ROOT / "book" / "_static" / shot.file
        assert path.is_file() and path.stat().st_size <= MAX_BYTES < 150_000 + 1, shot.file
        assert f"book/_static/{shot.file}" in readme


def test_a_screenshot_is_squeezed_under_the_size_limit():
    import io

    import numpy as np
    from PIL import Image

    from infantpose.book.screenshots import _jpeg_under

    noise = np.random.default_rng(0).integers(0, 256, (800, 1280, 3), dtype=np.uint8)
    png = io.BytesIO()
    Image.fromarray(noise).save(png, "PNG")  # noise: no JPEG quality alone gets it small
    jpeg = _jpeg_under(png.getvalue(), 150_000)
    assert len(jpeg) <= 150_000 and jpeg[:2] == b"\xff\xd8"
    assert Image.open(io.BytesIO(jpeg)).width < 1280
