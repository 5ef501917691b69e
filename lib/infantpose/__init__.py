"""infantpose: the tested package behind the Infant Pose Book.

Notebooks import it by name (``import infantpose as ip``). Submodules are loaded
on first use so that ``import infantpose`` stays fast and never pulls in torch,
pyrender or the body models unless a chapter needs them.

The package reads top to bottom, in layers; a module imports only from its own layer and
the ones below it, and no module imports itself back (``tests/test_layers.py`` holds this):

6. entry points: :mod:`.cli` (``python -m infantpose``)
5. presentation: :mod:`.viz`, :mod:`.worked_examples`, :mod:`.book` (the chapter driver), :mod:`.lab`
4. the papers' models: :mod:`.pose2d` (FiDIP), :mod:`.shift` (SHIFT), :mod:`.lift3d` (ZeDO-i)
3. datasets made here: :mod:`.synthesis` (the stand-in infants, FiDIP's synthetic infants, the
   adult sets, the dataset writer, the load-or-make cache)
2. the renderer: :mod:`.render` (labelled images, masks, depth; no file format)
1. published formats and measures: :mod:`.data` (COCO, SyRIP, MINI-RGBD, SURREAL, video,
   selection, co-labelling), :mod:`.body` (body models, poses, fitting, priors),
   :mod:`.metrics`, :mod:`.tables`, :mod:`.runs`
0. foundation: :mod:`.keypoints`, :mod:`.config`, :mod:`.checked` (the one typed-config class),
   :mod:`.io`, :mod:`.images`, :mod:`.camera`
   (the pinhole camera), :mod:`.optim`, :mod:`.env` (seeds, devices), :mod:`.progress`,
   :mod:`.logs`, :mod:`.compat`, :mod:`.sources` (import closures: the code part of cache keys)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .logs import install as _install_logging

__version__ = "0.1.0"

_SUBMODULES = (
    "body",
    "book",
    "camera",
    "checked",
    "compat",
    "config",
    "data",
    "env",
    "images",
    "io",
    "keypoints",
    "lab",
    "lift3d",
    "logs",
    "metrics",
    "optim",
    "pose2d",
    "progress",
    "render",
    "runs",
    "shift",
    "sources",
    "synthesis",
    "tables",
    "viz",
    "worked_examples",
)

if TYPE_CHECKING:  # pragma: no cover
    from . import (  # noqa: F401
        body,
        book,
        camera,
        checked,
        compat,
        config,
        data,
        env,
        images,
        io,
        keypoints,
        lab,
        lift3d,
        logs,
        metrics,
        optim,
        pose2d,
        progress,
        render,
        runs,
        shift,
        sources,
        synthesis,
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
