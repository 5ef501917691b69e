"""SyRIP (Huang et al., FiDIP): the real + synthetic infant pose set, read as COCO keypoints.

Layout (``syrip_for_train.zip``; the variant folders come from ``SyRIP.zip``)::

    <root>/                                   paths.syrip in configs/*.yaml
      annotations/
        person_keypoints_train_infant.json      600 real + 1000 synthetic (FiDIP's train)
        person_keypoints_validate_infant.json   the real test images
        200R/ 1000S/ 200R_1000S/ train600/ validate100/ validate500/
          person_keypoints_{train,validate}_infant.json   (each variant holds one or both)
      images/
        train_infant/     train00001.jpg … (real), train10001.jpg … (synthetic)
        validate_infant/  test0.jpg, test1.jpg, …

The JSON files are COCO person keypoints (:func:`infantpose.data.coco.read_coco` validates
them) plus a per-image ``is_synthetic`` bool, FiDIP's domain label. SHIFT trains on
``200R_1000S`` and tests on ``validate500``; the FG 2021 headline benchmark is the 100 hard
real images (``validate100``).

This module also defines :class:`DatasetError` and :func:`configured_root`, shared by the
other dataset loaders (``coco2017``, ``minirgbd``, ``surreal``).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

from ..config import Profile, data_root, load_profile
from .coco import CocoKeypoints, read_coco

__all__ = [
    "SYRIP_SPLITS",
    "SYRIP_URL",
    "SYRIP_VARIANTS",
    "DatasetError",
    "configured_root",
    "domain_counts",
    "load_syrip",
    "syrip_annotation_path",
    "syrip_root",
]

SYRIP_URL = "https://coe.northeastern.edu/Research/AClab/SyRIP/"

#: The two splits of ``syrip_for_train.zip`` (also the image folder names).
SYRIP_SPLITS = ("train_infant", "validate_infant")

#: Annotation variants of ``SyRIP.zip``: ``annotations/<variant>/person_keypoints_<split>.json``.
SYRIP_VARIANTS = ("200R", "1000S", "200R_1000S", "train600", "validate100", "validate500")

# SyRIP's naming convention: test{id}.jpg in validate, train{id:05d}.jpg in train.
_FILE_NUMBER = re.compile(r"^(?:train|test)(\d+)\.jpg$")


class DatasetError(ValueError):
    """A dataset on disk that cannot be used as it is; the message names the file and the fix."""


# --------------------------------------------------------------------------- roots


def configured_root(
    profile: str | os.PathLike | Profile, key: str, name: str, obtain: str, expected: str
) -> Path:
    """The folder ``paths.<key>`` of a profile points to (relative paths: under the data root).

    ``name``, ``obtain`` (where the data comes from) and ``expected`` (what should be in the
    folder) go into the error raised when the key is unset or the folder is missing.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    value = prof.paths.get(key)
    if not value:
        raise FileNotFoundError(
            f"{prof.source}: `paths.{key}` is not set, so {name} cannot be found. Download "
            f"{name} from {obtain}, unpack it, and set `paths.{key}:` to the folder that holds "
            f"{expected} (a relative path is taken under the data root {data_root()})"
        )
    root = Path(os.path.expanduser(value))
    if not root.is_absolute():
        root = data_root() / root
    if not root.is_dir():
        raise FileNotFoundError(
            f"{prof.source}: `paths.{key}` = {value!r} → {root}, which is not a folder. "
            f"Fix `paths.{key}` or unpack {name} there (from {obtain}); it should hold {expected}"
        )
    return root


def syrip_root(profile: str | os.PathLike | Profile = "paper") -> Path:
    """The SyRIP root of a profile (``paths.syrip``); the error says where to get SyRIP."""
    return configured_root(
        profile,
        "syrip",
        "SyRIP",
        f"{SYRIP_URL} (syrip_for_train.zip)",
        "annotations/ and images/",
    )


# --------------------------------------------------------------------------- loading


def syrip_annotation_path(
    root: str | os.PathLike, split: str = "train_infant", variant: str | None = None
) -> Path:
    """``annotations/[<variant>/]person_keypoints_<split>.json`` under ``root`` (checked names)."""
    if split not in SYRIP_SPLITS:
        raise ValueError(f"SyRIP split {split!r} is unknown; use one of {SYRIP_SPLITS}")
    if variant is not None and variant not in SYRIP_VARIANTS:
        raise ValueError(
            f"SyRIP annotation variant {variant!r} is unknown; use None (the default files) "
            f"or one of {SYRIP_VARIANTS}"
        )
    folder = Path(root) / "annotations"
    if variant is not None:
        folder = folder / variant
    return folder / f"person_keypoints_{split}.json"


def _check_root(root: Path) -> None:
    expected = (
        f"annotations/person_keypoints_{{{','.join(SYRIP_SPLITS)}}}.json and "
        f"images/{{{','.join(SYRIP_SPLITS)}}}/"
    )
    if not root.is_dir():
        raise FileNotFoundError(
            f"SyRIP root {root} is not a folder; it should hold {expected} "
            f"(unpack syrip_for_train.zip from {SYRIP_URL} and point paths.syrip there)"
        )
    missing = [name for name in ("annotations", "images") if not (root / name).is_dir()]
    if missing:
        found = sorted(p.name for p in root.iterdir())[:10]
        raise FileNotFoundError(
            f"{root} is not a SyRIP root: no {' or '.join(m + '/' for m in missing)} folder "
            f"(found: {found or 'nothing'}). Expected {expected}; if you unpacked a zip, the "
            "root is probably one folder further down"
        )


def load_syrip(
    root: str | os.PathLike,
    split: str = "train_infant",
    variant: str | None = None,
    *,
    check_images: bool = True,
    image_dir: str | os.PathLike | None = None,
    require_is_synthetic: bool = True,
) -> CocoKeypoints:
    """Read one SyRIP split as a validated :class:`CocoKeypoints` with ``image_root`` set.

    ``variant`` picks ``annotations/<variant>/`` (see :data:`SYRIP_VARIANTS`); images are
    read from ``images/<split>`` unless ``image_dir`` says otherwise. Every image needs a
    bool ``is_synthetic`` (FiDIP's domain label) unless ``require_is_synthetic=False``.
    Raises FileNotFoundError (root, annotation file) or a ValueError subclass
    (:class:`~infantpose.data.coco.CocoFormatError` for invalid records or missing
    images, :class:`DatasetError` for SyRIP-specific problems).
    """
    root = Path(root)
    _check_root(root)
    path = syrip_annotation_path(root, split, variant)
    if not path.is_file():
        folder = path.parent
        present = sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []
        raise FileNotFoundError(
            f"SyRIP annotation file {path} does not exist"
            + (f"; {folder} holds {present}" if present else f"; {folder} has no JSON files")
            + ". Pick the split/variant that exists, or unpack the annotations of "
            f"{'SyRIP.zip' if variant else 'syrip_for_train.zip'} from {SYRIP_URL}"
        )
    images = Path(image_dir) if image_dir is not None else root / "images" / split
    coco = read_coco(path, image_root=images, check_images=check_images)
    if require_is_synthetic:
        _check_is_synthetic(coco)
    _warn_id_file_name_mismatch(coco)
    return coco


def _check_is_synthetic(coco: CocoKeypoints) -> None:
    # FiDIP reads image["is_synthetic"] per image and substitutes '' when it is missing; a batch
    # mixing bools with '' then fails in default_collate, deep inside training. (A literal ''
    # in the file is already rejected by read_coco's type check; this catches missing fields.)
    bad = [im for im in coco.images if not isinstance(im.get("is_synthetic"), bool)]
    if not bad:
        return
    shown = ", ".join(
        f"id={im.get('id')!r} ({im.get('file_name')!r}: is_synthetic={im.get('is_synthetic', '<missing>')!r})"
        for im in bad[:5]
    )
    raise DatasetError(
        f"{coco.source}: {len(bad)} of {coco.num_images} image records have no bool "
        f"`is_synthetic` field, e.g. {shown}. FiDIP's domain classifier needs it on every image "
        "(a missing field becomes '' and breaks batch collation). Set it to true/false in those "
        "records (SyRIP: train files numbered 10001 and up are synthetic), or pass "
        "require_is_synthetic=False if you do not need the domain label"
    )


def _warn_id_file_name_mismatch(coco: CocoKeypoints) -> None:
    # A warning, not an error: read_coco already guarantees unique ids and this package finds
    # images through file_name, so a mismatch breaks nothing here. It does break joining with
    # other SyRIP-derived data keyed by the number (SHIFT's SyRIP_all.npy, ZeDO-i's 3D file,
    # AClab scripts that assume annotation id == image id == file number), so say so.
    odd: list[str] = []
    for image in coco.images:
        match = _FILE_NUMBER.match(Path(str(image["file_name"])).name)
        if match is None:
            odd.append(f"{image['file_name']!r} (not train<number>.jpg or test<number>.jpg)")
        elif int(match.group(1)) != image["id"]:
            odd.append(f"id={image['id']} with {image['file_name']!r}")
    if odd:
        warnings.warn(
            f"{coco.source}: {len(odd)} image records break SyRIP's convention id == number in "
            f"the file name (test{{id}}.jpg, train{{id:05d}}.jpg), e.g. {'; '.join(odd[:3])}. "
            "Loading works, but joining with data keyed by that number (SHIFT, ZeDO-i) will not",
            stacklevel=3,
        )


def domain_counts(coco: CocoKeypoints) -> dict[str, Any]:
    """``{"real": n, "synthetic": n, "unknown": n}`` from the ``is_synthetic`` labels."""
    flags = [coco.is_synthetic(image) for image in coco.images]
    return {
        "real": flags.count(False),
        "synthetic": flags.count(True),
        "unknown": flags.count(None),
    }
