"""The one execution path of the book: jupytext → papermill → Jupyter Book.

``python -m infantpose.book all --profile default`` runs every chapter in order,
writes the executed copies to ``book/notebooks/``, generates ``book/results.md``
from the runs' ``metrics.json`` files and builds the HTML book into ``_build/html``;
``python -m infantpose.book check`` then opens every page in headless Chromium.
The same commands serve a student, CI (``--profile smoke``) and the published book.

- :mod:`.chapters`: the ordered chapter list
- :mod:`.run`: papermill execution, budgets and timings
- :mod:`.results`: the generated results page
- :mod:`.html`: the Jupyter Book build and the browser check (offline, figures drawn,
  images loaded, links whole, full-page screenshots)
- :mod:`.outputs`: the executed notebooks slimmed for the static book (no inlined plotly.js,
  no widget state that cannot render)
- :mod:`.offline`: the Sphinx extension serving MathJax and plotly.js from the book itself
- :mod:`.weight`: the built book's size and script bytes (``python -m infantpose.book weight``)
"""

from .chapters import CHAPTERS, ChapterFailed
from .html import build_html, check_in_browser, remote_assets
from .results import results_markdown, write_results
from .run import ensure_kernel, read_timings, run_book, run_chapter

__all__ = [
    "CHAPTERS",
    "ChapterFailed",
    "build_html",
    "check_in_browser",
    "ensure_kernel",
    "read_timings",
    "remote_assets",
    "results_markdown",
    "run_book",
    "run_chapter",
    "write_results",
]
