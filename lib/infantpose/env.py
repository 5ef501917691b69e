"""The first and last cells of every chapter: set up, and report the environment.

``setup_notebook`` seeds every generator, fixes the plot style and the plotly
renderer (so interactive figures are inlined into the offline book), and returns
the torch device the profile asked for. ``env_report`` prints what a reader needs
to reproduce a number: versions, device, git commit.
"""

from __future__ import annotations

import os
import platform
import random
import re
import subprocess
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

_REPORTED = (
    "infantpose",
    "torch",
    "torchvision",
    "numpy",
    "anny",
    "smplx",
    "pyrender",
    "pycocotools",
    "papermill",
    "jupyter-book",
    "plotly",
)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``, or ``"auto"``/None (CUDA when
    present) → ``torch.device``. The one device rule of chapters, training and evaluation.

    Asking for CUDA on a machine without it is an error rather than a silent
    fallback, so a `paper` run never trains for hours on the CPU by accident.
    """
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {str(device)!r} was requested but torch sees no GPU (no CUDA device). "
            "On a machine without one, set `device: cpu` (or `auto`) in the profile, both at "
            "its top and under `parameters:` (configs/<profile>.yaml; `paper` asks for cuda, "
            "and `paper-smoke` with `device: cpu` is the CPU dry run of the paper's shapes), "
            "or in the notebook's parameters; pass `--device cpu` to `python -m "
            "infantpose.pose2d`, or device='cpu' in a training config"
        )
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - libraries still draw from the legacy global generator
    torch.manual_seed(seed)


_REMOTE_MATHJAX = re.compile(r'<script src="https?://[^"]*mathjax[^"]*"></script>', re.IGNORECASE)
OFFLINE_RENDERER = "notebook_offline"


def register_offline_plotly_renderer() -> str:
    """Register plotly's notebook renderer minus its MathJax-from-a-CDN script tag.

    plotly's ``notebook`` renderer hard-codes ``include_mathjax="cdn"``; the book
    already loads MathJax locally, and a published page must not fetch anything.
    Returns the renderer name to combine with ``plotly_mimetype``.
    """
    import plotly.io as pio
    from plotly.io._base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        def to_mimebundle(self, fig_dict):
            bundle = super().to_mimebundle(fig_dict)
            bundle["text/html"] = _REMOTE_MATHJAX.sub("", bundle["text/html"])
            return bundle

    if OFFLINE_RENDERER not in pio.renderers:
        pio.renderers[OFFLINE_RENDERER] = OfflineNotebookRenderer()
    return OFFLINE_RENDERER


def setup_notebook(seed: int = 0, device: str = "cpu", *, torch_threads: int | None = None):
    """Seed, set the figure style and the plotly renderer; return the torch device.

    ``torch_threads`` defaults to the number of CPUs available to this process.
    """
    import matplotlib as mpl
    import plotly.io as pio
    import torch

    seed_everything(seed)
    torch.set_num_threads(torch_threads or len(os.sched_getaffinity(0)))
    # plotly.js travels inside the page; the mimetype keeps JupyterLab interactive.
    pio.renderers.default = f"plotly_mimetype+{register_offline_plotly_renderer()}"
    # Send plotly.js now, as this cell's invisible output, rather than beside the first
    # figure (a captioned figure cell must have one output). plotly has no public call.
    pio.renderers._activate_pending_renderers()
    mpl.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "figure.figsize": (6.4, 4.0),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "font.size": 10,
        }
    )
    return resolve_device(device)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str, cwd: str | os.PathLike | None = None) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, timeout=5, check=True, cwd=cwd
    ).stdout.strip()


def git_commit(
    folder: str | os.PathLike | None = None, *, short: bool = True, paths: tuple = ()
) -> str:
    """The commit of the checkout holding ``folder`` (default: the working directory), with
    ``+dirty`` when tracked files (under ``paths``, if given) have changed; ``unknown`` outside
    a checkout."""
    try:
        commit = _git("rev-parse", *(["--short"] if short else []), "HEAD", cwd=folder)
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--",
                     *map(str, paths), cwd=folder)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def environment() -> dict[str, str]:
    """Versions, device and commit, as a flat dict (also saved beside every metrics file)."""
    import torch

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(len(os.sched_getaffinity(0))),
        "torch_threads": str(torch.get_num_threads()),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "git_commit": git_commit(),
    }
    info.update({package: _version(package) for package in _REPORTED})
    return info


def env_report() -> None:
    """Print :func:`environment` as an aligned block (the hidden last cell of each chapter)."""
    info = environment()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
