"""infantpose: the tested package behind the Infant Pose Book.

Notebooks import it by name (``import infantpose as ip``). Submodules are loaded
on first use so that ``import infantpose`` stays fast and never pulls in torch,
pyrender or the body models unless a chapter needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .logs import install as _install_logging

__version__ = "0.1.0"

_SUBMODULES = (
    "body",
    "book",
    "compat",
    "config",
    "data",
    "env",
    "io",
    "keypoints",
    "lab",
    "lift3d",
    "logs",
    "metrics",
    "pose2d",
    "progress",
    "render",
    "runs",
    "tables",
    "viz",
    "worked_examples",
)

if TYPE_CHECKING:  # pragma: no cover
    from . import (  # noqa: F401
        book,
        compat,
        config,
        data,
        env,
        io,
        keypoints,
        lab,
        lift3d,
        logs,
        metrics,
        pose2d,
        progress,
        render,
        runs,
        tables,
        viz,
        worked_examples,
    )


_install_logging()  # the package's messages reach the screen and a run's log file


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'infantpose' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES])
