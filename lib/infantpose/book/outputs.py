"""The executed notebooks made fit for the static book: nothing in a page that renders nothing.

Two kinds of output weigh on the built pages without showing anything there:

- **plotly.js itself.** Every chapter's setup cell (:func:`infantpose.env.setup_notebook`)
  activates plotly's ``notebook`` renderer, which sends the whole library (4.8 MB) as an
  invisible ``text/html`` output so that the figures below it can draw in a classic notebook.
  Kept, it is inlined into every page, with or without a figure. :func:`slim_notebook` drops
  it; each figure's own output (a ``<div class="plotly-graph-div">`` and its
  ``Plotly.newPlot`` call) stays, and the Sphinx extension :mod:`.offline` gives the pages
  that hold such a figure one ``<script src="_static/plotly.min.js">``.
- **ipywidgets state.** A widget's view draws only where a widget manager runs and knows
  every model's JavaScript module. The book serves one only when ``_config.yml`` names its
  files (``nb_ipywidgets_js``), and it knows only the standard ``@jupyter-widgets`` modules;
  the state of any other widget (e.g. plotly's ``FigureWidget`` in the co-labelling widget)
  is megabytes of JSON that can never render. :func:`slim_notebook` drops it, keeps the state
  of the views that can render, and leaves a one-line note where a cell would otherwise be
  empty.

Why here and not in the renderer: the renderer is chosen by ``setup_notebook`` in
``infantpose.env``, whose text keys the dataset caches; and a post-processing step also
slims notebooks executed before this existed (``python -m infantpose.book build`` applies it
to every executed copy). The live notebooks (``make lab``) are untouched: there the figures
come from plotly's own mimetype and the widgets from a kernel.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from pathlib import Path

from ..io import write_json_atomic

__all__ = [
    "PLOTLY_FIGURE_MARK",
    "WIDGET_NOTE",
    "slim_executed_copies",
    "slim_notebook",
    "widget_manager_served",
]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

#: What every plotly figure's HTML output carries (plotly's ``to_html``).
PLOTLY_FIGURE_MARK = 'class="plotly-graph-div"'

#: The widget modules a served ``@jupyter-widgets/html-manager`` draws without fetching code.
STANDARD_WIDGET_MODULES = frozenset(
    {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}
)

#: Shown in the book where a widget stood and nothing else would.
WIDGET_NOTE = (
    "*An interactive widget stands here in the live notebook; it needs a running kernel. "
    "Open this chapter in JupyterLab (`make lab`) to use it.*"
)

# plotly.js as plotly's notebook renderer inlines it (``get_plotlyjs()`` starts with its
# licence banner), and the one-line config script sent with it.
_PLOTLY_JS = re.compile(r"<script[^>]*>\s*/\*\*?\s*\*\s*plotly\.js v[\s\S]*?</script>")
_PLOTLY_CONFIG = re.compile(r"<script[^>]*>\s*window\.PlotlyConfig\s*=[\s\S]*?</script>")
_MODEL_REF = re.compile(r"IPY_MODEL_([0-9a-fA-F]+)")


def widget_manager_served(config_file: Path) -> bool:
    """Whether the book serves a widget manager: ``_config.yml`` names its files in
    ``sphinx.config.nb_ipywidgets_js`` (MyST-NB's default loads it from a CDN, so the book
    sets it explicitly, to ``{}`` while it serves none). No config file: no manager."""
    import yaml

    if not config_file.is_file():
        return False
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    sphinx = (config.get("sphinx") or {}).get("config") or {}
    return bool(sphinx.get("nb_ipywidgets_js"))


def slim_notebook(nb: dict, *, widget_manager: bool = False) -> dict:
    """A copy of an executed notebook (nbformat 4 JSON) without what renders nothing.

    Drops inlined plotly.js (and outputs left empty by it), and the widget views and
    state that cannot render (all of them when ``widget_manager`` is False); a cell whose
    only output was such a widget shows :data:`WIDGET_NOTE` instead. Idempotent.
    """
    nb = copy.deepcopy(nb)
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    kept_views: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data")
            if output.get("output_type") not in ("display_data", "execute_result") or not data:
                outputs.append(output)
                continue
            if "text/html" in data:
                html = _strip_plotly_js("".join(_lines(data["text/html"])))
                if not html.strip() and set(data) <= {"text/html", "text/plain"}:
                    continue  # it only loaded plotly.js
                data["text/html"] = html
            if WIDGET_VIEW in data:
                model_id = data[WIDGET_VIEW].get("model_id", "")
                if widget_manager and _renders(model_id, state):
                    kept_views.append(model_id)
                else:
                    del data[WIDGET_VIEW]
                    if set(data) <= {"text/plain"}:  # only the widget's repr was left
                        output["data"] = {"text/markdown": WIDGET_NOTE, "text/plain": WIDGET_NOTE}
                        output["metadata"] = {}
            outputs.append(output)
        cell["outputs"] = outputs
    _keep_state_of(nb, state, kept_views)
    return nb


def _lines(text: str | list[str]) -> list[str]:
    return [text] if isinstance(text, str) else list(text)


def _strip_plotly_js(html: str) -> str:
    if "plotly.js v" not in html and "window.PlotlyConfig" not in html:
        return html
    return _PLOTLY_CONFIG.sub("", _PLOTLY_JS.sub("", html))


def _reachable(model_ids: Iterable[str], state: dict) -> set[str]:
    """The models a view needs: itself and every model its state refers to, transitively."""
    seen: set[str] = set()
    todo = list(model_ids)
    while todo:
        model_id = todo.pop()
        if model_id in seen or model_id not in state:
            continue
        seen.add(model_id)
        todo.extend(_MODEL_REF.findall(repr(state[model_id].get("state", {}))))
    return seen


def _renders(model_id: str, state: dict) -> bool:
    models = _reachable([model_id], state)
    return model_id in models and all(
        state[m].get("model_module") in STANDARD_WIDGET_MODULES for m in models
    )


def _keep_state_of(nb: dict, state: dict, views: list[str]) -> None:
    widgets = nb.get("metadata", {}).get("widgets")
    if widgets is None:
        return
    keep = _reachable(views, state)
    if not keep:
        del nb["metadata"]["widgets"]
        return
    widgets[WIDGET_STATE]["state"] = {k: v for k, v in state.items() if k in keep}


def slim_executed_copies(notebooks_dir: Path, *, widget_manager: bool) -> list[Path]:
    """Apply :func:`slim_notebook` to every ``.ipynb`` in ``notebooks_dir``; return those changed."""
    changed = []
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        slim = slim_notebook(nb, widget_manager=widget_manager)
        if slim != nb:
            write_json_atomic(path, slim)
            changed.append(path)
    return changed
