"""``make lab``: JupyterLab on the book's environment, chapters opening as notebooks.

The chapters are MyST text files (``notebooks/NN-name.md``). jupytext's JupyterLab
extension opens them as notebooks; this module makes that the default viewer for
``.md`` files (a settings override inside the virtual environment, so nothing in
the user's home changes), checks that the widget and plotly extensions are
present, and starts JupyterLab in ``notebooks/`` with the ``infantpose`` kernel.
Saving in Lab writes the ``.md`` source and a paired ``.ipynb`` (git ignores it).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from .book.run import ensure_kernel
from .config import data_root, project_root, runs_root
from .io import write_json_atomic

log = logging.getLogger(__name__)

#: JupyterLab settings: Markdown files open with jupytext's notebook view.
LAB_OVERRIDES = {
    "@jupyterlab/docmanager-extension:plugin": {
        "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    }
}
REQUIRED_LAB_EXTENSIONS = (
    "jupyterlab-jupytext",
    "@jupyter-widgets/jupyterlab-manager",
    "jupyterlab-plotly",
    "anywidget",
    "ipyevents",
)


def write_lab_settings(prefix: Path | None = None) -> Path:
    """Merge :data:`LAB_OVERRIDES` into ``<prefix>/share/jupyter/lab/settings/overrides.json``."""
    path = Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for plugin, settings in LAB_OVERRIDES.items():
        current.setdefault(plugin, {}).update(settings)
    return write_json_atomic(path, current, indent=2)


def missing_lab_extensions(prefix: Path | None = None) -> list[str]:
    """Lab extensions the chapters rely on that are not installed in this environment."""
    folder = Path(prefix or sys.prefix) / "share" / "jupyter" / "labextensions"
    return [
        name for name in REQUIRED_LAB_EXTENSIONS if not (folder / name / "package.json").is_file()
    ]


def lab_command(notebook_dir: Path, *extra: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment that start JupyterLab on this environment in
    ``notebook_dir``, with the data and runs roots the package uses (``make lab``; the
    browser test of the co-labelling widget starts Lab the same way)."""
    env = {**os.environ, "INFANTPOSE_DATA": str(data_root()), "INFANTPOSE_RUNS": str(runs_root())}
    command = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={notebook_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    return [*command, *extra], env


def main() -> int:
    missing = missing_lab_extensions()
    if missing:
        log.error(f"missing JupyterLab extensions {missing}: run `make setup` again")
        return 1
    ensure_kernel()
    write_lab_settings()
    command, env = lab_command(project_root() / "notebooks", *sys.argv[1:])
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
