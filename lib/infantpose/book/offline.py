"""A small Sphinx extension that keeps the built book offline and light.

- **MathJax.** Jupyter Book 1 loads MathJax from a CDN by default. This extension points
  Sphinx at the MathJax 3 copy shipped by the ``sphinx-mathjax-offline`` package (its SVG
  output carries its glyphs, so no font files are fetched) and copies it into the book's
  ``_static`` folder: ``tex-svg.js`` and the components it loads on demand, not the other
  combined builds the package also ships (13 MB no page would load).
- **plotly.js.** Pages that hold a plotly figure (a ``plotly-graph-div`` output, see
  :mod:`.outputs`, which strips the library from the executed notebooks) get one
  ``<script src="_static/plotly.min.js">``, copied from the installed ``plotly`` package
  at build time; pages without a figure load none of it.
- **thebe.** It drops sphinx-thebe's scripts, which Jupyter Book always adds: they point at
  a CDN and, registered twice, raise a JavaScript error on every page (the book has no
  live-code buttons; students use ``make lab`` instead).

Listed under ``sphinx.extra_extensions`` in ``_config.yml``.
"""

from __future__ import annotations

import shutil
from importlib.metadata import distribution
from importlib.resources import files
from pathlib import Path

from docutils import nodes

from .outputs import PLOTLY_FIGURE_MARK

_MATHJAX_ENTRY = "tex-svg.js"
PLOTLY_JS = "plotly.min.js"
#: Set before plotly.js loads, as plotly's notebook renderer does: leave MathJax alone.
PLOTLY_CONFIG = "window.PlotlyConfig = {MathJaxConfig: 'local'};"


def mathjax_static_dir() -> Path:
    """Folder holding MathJax 3 (``tex-svg.js`` and its components) in the installed package."""
    return Path(
        distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax")
    )


def plotly_js_file() -> Path:
    """The minified plotly.js bundled with the installed ``plotly`` package."""
    return Path(str(files("plotly") / "package_data" / PLOTLY_JS))


def _other_builds(folder: str, names: list[str]) -> set[str]:
    # Top-level *.js files are combined builds (tex-chtml.js, mml-svg.js, ...); the book
    # loads one. Sub-folders hold the components any build may load on demand: keep them.
    if Path(folder) != mathjax_static_dir():
        return set()
    return {n for n in names if n.endswith(".js") and n != _MATHJAX_ENTRY}


def _copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(mathjax_static_dir(), target, ignore=_other_builds, dirs_exist_ok=True)


def _configure(app, config) -> None:
    config.mathjax_path = f"mathjax/{_MATHJAX_ENTRY}"


def _drop_thebe(app, pagename, templatename, context, doctree) -> None:
    def is_thebe(asset) -> bool:
        body = getattr(asset, "attributes", {}).get("body", "")
        return "thebe" in str(asset).lower() or "THEBE" in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe(asset)]


# ---------------------------------------------------------------- plotly.js, once


def has_plotly_figure(doctree: nodes.Node) -> bool:
    """Whether a page's doctree holds a plotly figure's HTML output."""
    return any(
        "html" in node.get("format", "").split() and PLOTLY_FIGURE_MARK in node.astext()
        for node in doctree.findall(nodes.raw)
    )


def _note_plotly_pages(app, doctree) -> None:
    pages = _plotly_pages(app.env)
    pages.discard(app.env.docname)
    if has_plotly_figure(doctree):
        pages.add(app.env.docname)


def _plotly_pages(env) -> set[str]:
    if not hasattr(env, "infantpose_plotly_pages"):
        env.infantpose_plotly_pages = set()
    return env.infantpose_plotly_pages


def _purge(app, env, docname) -> None:
    _plotly_pages(env).discard(docname)


def _merge(app, env, docnames, other) -> None:
    _plotly_pages(env).update(_plotly_pages(other) & set(docnames))


def _add_plotly(app, pagename, templatename, context, doctree) -> None:
    if pagename in _plotly_pages(app.env):
        app.add_js_file(None, body=PLOTLY_CONFIG, priority=400)
        app.add_js_file(PLOTLY_JS, priority=401)  # in <head>, before the figures' scripts


def _copy_plotly(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if _plotly_pages(app.env):
        shutil.copyfile(plotly_js_file(), Path(app.outdir) / "_static" / PLOTLY_JS)


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    app.connect("doctree-read", _note_plotly_pages)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("html-page-context", _drop_thebe, priority=900)
    app.connect("html-page-context", _add_plotly)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _copy_plotly)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
