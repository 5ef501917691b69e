"""A small Sphinx extension that keeps the built book offline.

Jupyter Book 1 loads MathJax from a CDN by default. This extension points Sphinx
at the MathJax 2 copy shipped by the ``jupyter-server-mathjax`` package and copies
it into the book's ``_static`` folder, so formulas render with no request leaving
the machine. It also drops sphinx-thebe's scripts, which Jupyter Book always adds:
they point at a CDN and, registered twice, raise a JavaScript error on every page
(the book has no live-code buttons; students use ``make lab`` instead).
Listed under ``sphinx.extra_extensions`` in ``_config.yml``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML"


def mathjax_static_dir() -> Path:
    """Folder holding ``MathJax.js`` inside the installed ``jupyter_server_mathjax``."""
    return Path(str(files("jupyter_server_mathjax") / "static"))


def _copy_mathjax(app, exception) -> None:
    import shutil

    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / "MathJax.js").exists():
        shutil.copytree(mathjax_static_dir(), target, dirs_exist_ok=True)


def _configure(app, config) -> None:
    config.mathjax_path = f"mathjax/MathJax.js?config={_MATHJAX_CONFIG}"
    # MathJax 2 reads its settings from here. MyST wraps notebook pages in a
    # `tex2jax_ignore` section and marks each formula with the class `math`.
    config.mathjax2_config = {
        "tex2jax": {
            "inlineMath": [["\\(", "\\)"]],
            "displayMath": [["\\[", "\\]"]],
            "ignoreClass": "tex2jax_ignore|mathjax_ignore",
            "processClass": "tex2jax_process|mathjax_process|math|output_area",
            "processEscapes": True,
        }
    }
    config.mathjax3_config = None
    config.myst_update_mathjax = False  # it would write a MathJax 3 config


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
