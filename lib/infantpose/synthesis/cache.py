"""One load-or-make cache for every dataset the book makes, with one fingerprint rule.

A made dataset is a COCO folder plus ``synthesis.json``, the parameters it was made with and
the fingerprint of the code that made it (:func:`code_fingerprint` of :data:`ENGINE_SOURCES`).
:func:`load_or_make` reuses a folder only when both match, so a changed parameter or a changed
line of the engine never serves a stale dataset; the makers write atomically, so an
interrupted run leaves nothing half-made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import data_root
from ..data.coco import CocoKeypoints, read_coco
from ..io import write_json_atomic

__all__ = [
    "ENGINE_SOURCES",
    "STAMP_FILE",
    "code_fingerprint",
    "dataset_root",
    "engine_fingerprint",
    "is_current",
    "load_made",
    "load_or_make",
    "read_stamp",
]

#: The parameters a made dataset was made with, in its folder.
STAMP_FILE = "synthesis.json"

#: The code a made dataset depends on (paths in the package): bodies, poses and the fit, the
#: camera, the renderer and this package. Its fingerprint is part of every dataset's stamp.
ENGINE_SOURCES = ("body", "camera.py", "optim.py", "render", "synthesis")

_PACKAGE = Path(__file__).resolve().parents[1]

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


def code_fingerprint(sources: Sequence[str], length: int = 16) -> str:
    """A hash of the package's source files ``sources`` (paths in the package; a folder means
    every ``.py`` below it): each file's package path and bytes, in order. The one rule by
    which a cache (a made dataset, a trained model) tells that the code that made it changed."""
    digest = hashlib.sha256()
    for name in sources:
        path = _PACKAGE / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(_PACKAGE).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:length]


def engine_fingerprint() -> str:
    """The fingerprint of the code that makes the datasets (:data:`ENGINE_SOURCES`), so that a
    change to any of it makes them again instead of serving a stale set."""
    return code_fingerprint(ENGINE_SOURCES)


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
