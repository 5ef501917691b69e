"""COCO 2017 person keypoints: the adult source domain, read as :class:`CocoKeypoints`.

Layout (from https://cocodataset.org/#download: ``annotations_trainval2017.zip`` and the
image zips)::

    <root>/                                   paths.coco in configs/*.yaml
      annotations/
        person_keypoints_train2017.json
        person_keypoints_val2017.json
      train2017/000000000009.jpg …
      val2017/000000000139.jpg …

The files list every image (with or without people) and every person annotation,
crowd regions (``iscrowd: 1``, no keypoints) included. Pose training and OKS evaluation
use only single persons with at least one labelled keypoint: ``min_keypoints=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import Profile
from .coco import CocoKeypoints, read_coco, validate
from .syrip import configured_root

__all__ = ["COCO_SPLITS", "COCO_URL", "coco_annotation_path", "coco_root", "load_coco_keypoints"]

COCO_URL = "https://cocodataset.org/#download"
COCO_SPLITS = ("train2017", "val2017")


def coco_root(profile: str | os.PathLike | Profile = "paper") -> Path:
    """The COCO root of a profile (``paths.coco``); the error says where to get COCO."""
    return configured_root(
        profile,
        "coco",
        "COCO 2017",
        f"{COCO_URL} (2017 Train/Val images and annotations)",
        "annotations/person_keypoints_{train,val}2017.json and {train,val}2017/",
    )


def coco_annotation_path(root: str | os.PathLike, split: str = "val2017") -> Path:
    """``<root>/annotations/person_keypoints_<split>.json`` (split checked)."""
    if split not in COCO_SPLITS:
        raise ValueError(f"COCO split {split!r} is unknown; use one of {COCO_SPLITS}")
    return Path(root) / "annotations" / f"person_keypoints_{split}.json"


def load_coco_keypoints(
    root: str | os.PathLike,
    split: str = "val2017",
    *,
    check_images: bool = True,
    min_keypoints: int = 0,
    max_images: int | None = None,
) -> CocoKeypoints:
    """Read COCO 2017 person keypoints of one split, validated, with ``image_root`` set.

    ``min_keypoints=0`` keeps the file as it is. ``min_keypoints >= 1`` keeps only
    ``category_id == 1``, ``iscrowd == 0`` annotations with ``num_keypoints >= min_keypoints``
    and drops images left without one. ``max_images`` then keeps the first images in file
    order. ``check_images`` checks the files of the images kept.
    """
    root = Path(root)
    path = coco_annotation_path(root, split)
    if not path.is_file():
        found = sorted(p.name for p in root.iterdir())[:10] if root.is_dir() else None
        state = f"{root} holds {found}" if found is not None else f"{root} is not a folder"
        raise FileNotFoundError(
            f"COCO annotation file {path} does not exist ({state}). The COCO root should hold "
            f"annotations/person_keypoints_{split}.json and {split}/; unzip "
            f"annotations_trainval2017.zip from {COCO_URL} into the root"
        )
    if min_keypoints < 0:
        raise ValueError(f"min_keypoints must be ≥ 0, got {min_keypoints}")
    if max_images is not None and max_images < 0:
        raise ValueError(f"max_images must be ≥ 0 or None, got {max_images}")
    images = root / split
    coco = read_coco(path, image_root=images, check_images=False)
    if min_keypoints > 0:
        keep = [
            a
            for a in coco.annotations
            if a["category_id"] == 1
            and a.get("iscrowd", 0) == 0
            and a["num_keypoints"] >= min_keypoints
        ]
        with_people = {a["image_id"] for a in keep}
        coco = CocoKeypoints(
            images=[im for im in coco.images if im["id"] in with_people],
            annotations=keep,
            categories=coco.categories,
            extra=coco.extra,
            source=coco.source,
            image_root=coco.image_root,
        )
    if max_images is not None and max_images < coco.num_images:
        coco = coco.subset(coco.image_ids[:max_images])
    if check_images:
        if not images.is_dir():
            raise FileNotFoundError(
                f"COCO image folder {images} does not exist; unzip {split}.zip from {COCO_URL} "
                f"into {root}, or pass check_images=False to read the annotations only"
            )
        validate(coco, check_images=True)
    return coco
