"""A small Sphinx extension that keeps the built book offline.

Jupyter Book 1 loads MathJax from a CDN by default. This extension points Sphinx at
the MathJax 3 copy shipped by the ``sphinx-mathjax-offline`` package (its SVG output
carries its glyphs, so no font files are fetched) and copies it into the book's
``_static`` folder, so formulas render with no request leaving the machine. It also
drops sphinx-thebe's scripts, which Jupyter Book always adds: they point at a CDN
and, registered twice, raise a JavaScript error on every page (the book has no
live-code buttons; students use ``make lab`` instead).
Listed under ``sphinx.extra_extensions`` in ``_config.yml``.
"""

from __future__ import annotations

import shutil
from importlib.metadata import distribution
from pathlib import Path

_MATHJAX_ENTRY = "tex-svg.js"


def mathjax_static_dir() -> Path:
    """Folder holding MathJax 3 (``tex-svg.js`` and its components) in the installed package."""
    return Path(
        distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax")
    )


def _copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / _MATHJAX_ENTRY).exists():
        shutil.copytree(mathjax_static_dir(), target, dirs_exist_ok=True)


def _configure(app, config) -> None:
    config.mathjax_path = f"mathjax/{_MATHJAX_ENTRY}"


def _drop_thebe(app, pagename, templatename, context, doctree) -> None:
    def is_thebe(asset) -> bool:
        body = getattr(asset, "attributes", {}).get("body", "")
        return "thebe" in str(asset).lower() or "THEBE" in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe(asset)]


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    app.connect("html-page-context", _drop_thebe, priority=900)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
