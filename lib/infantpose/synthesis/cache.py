"""One load-or-make cache for every dataset the book makes, with one fingerprint rule.

A made dataset is a COCO folder plus ``synthesis.json``, the parameters it was made with and
the fingerprint of the code that made it (:func:`engine_fingerprint`: the
:func:`~infantpose.sources.code_fingerprint` of every module of :mod:`infantpose.synthesis`
and of everything they import, bodies, poses, the fit, the camera and the renderer among
them). :func:`load_or_make` reuses a folder only when both match, so a changed parameter or a
changed line of the engine never serves a stale dataset; the makers write atomically, so an
interrupted run leaves nothing half-made.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import data_root
from ..data.coco import CocoKeypoints, read_coco
from ..io import write_json_atomic
from ..sources import code_fingerprint, import_closure, submodules

__all__ = [
    "ENGINE",
    "STAMP_FILE",
    "code_fingerprint",
    "dataset_root",
    "engine_fingerprint",
    "engine_modules",
    "is_current",
    "load_made",
    "load_or_make",
    "read_stamp",
]

#: The parameters a made dataset was made with, in its folder.
STAMP_FILE = "synthesis.json"

#: The package that makes the datasets: its modules and what they import are the engine.
ENGINE = "infantpose.synthesis"

log = logging.getLogger(__name__)


def dataset_root(name: str) -> Path:
    """``<data root>/synthetic/<name>``."""
    return data_root() / "synthetic" / name


def load_made(root: str | os.PathLike, what: str, split: str = "train_infant") -> CocoKeypoints:
    """Read a set chapter 02 made (``annotations/person_keypoints_<split>.json``; adults:
    ``split="train_adult"``), or say how to make it."""
    root = Path(root)
    annotation = root / "annotations" / f"person_keypoints_{split}.json"
    if not annotation.is_file() or not (root / "synthesis.json").is_file():
        raise FileNotFoundError(
            f"{what} not found at {root}: chapter 02 makes it. Run "
            "`python -m infantpose.book run --profile <profile> --only 02-smil-synthesis` with "
            "the same sizes and seed (the folder name holds them), then run this chapter again"
        )
    return read_coco(annotation, image_root=root / "images" / split)


def engine_modules() -> list[str]:
    """The modules whose code makes the datasets: every module of :data:`ENGINE` and every
    package module they import (:func:`~infantpose.sources.import_closure`)."""
    return import_closure(*submodules(ENGINE))


def engine_fingerprint() -> str:
    """The fingerprint of the code that makes the datasets (:func:`engine_modules`), so that a
    change to any of it makes them again instead of serving a stale set."""
    return code_fingerprint(*submodules(ENGINE))


def load_or_make(
    root: str | os.PathLike,
    annotation_file: str,
    image_dir: str,
    parameters: dict[str, Any],
    make: Callable[[Path], Any],
) -> CocoKeypoints:
    """The COCO set at ``root/annotation_file`` (images in ``root/image_dir``) if it was made
    with ``parameters`` by the same engine code (:func:`engine_fingerprint`), else
    ``make(root)`` (which must write it, replacing any older folder) and record them."""
    root = Path(root)
    stamped = {**parameters, "engine": engine_fingerprint()}
    wanted = json.loads(json.dumps(stamped, sort_keys=True, default=str))
    made = read_stamp(root) if (root / annotation_file).exists() else None
    if made == wanted:
        log.debug(f"reusing {root}")
        return read_coco(root / annotation_file, image_root=root / image_dir)
    why = (
        "not made yet"
        if made is None
        else "the code that makes it changed"
        if made.get("engine") != wanted["engine"]
        else "asked for with other parameters"
    )
    log.debug(f"making {root} ({why})")
    make(root)
    write_json_atomic(root / STAMP_FILE, wanted)
    return read_coco(root / annotation_file, image_root=root / image_dir)


def read_stamp(root: str | os.PathLike) -> dict[str, Any] | None:
    """The parameters the dataset in ``root`` was made with (its ``synthesis.json``), or None
    when it has no readable stamp (then :func:`load_or_make` makes it again)."""
    try:
        stamp = json.loads((Path(root) / STAMP_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return stamp if isinstance(stamp, dict) else None


def is_current(root: str | os.PathLike) -> bool:
    """Whether the dataset in ``root`` was made by today's engine code: only then does
    :func:`load_or_make` reuse it (when it is asked for with the same parameters)."""
    stamp = read_stamp(root)
    return stamp is not None and stamp.get("engine") == engine_fingerprint()
