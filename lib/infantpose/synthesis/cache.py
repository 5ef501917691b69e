"""The synthetic datasets of the book, made on demand and kept under the data root.

FiDIP's recipe (seed 000 §4.2), run end to end on the embedded default:

1. **source poses**: infant postures with 2D keypoints. FiDIP fitted SMIL to its real
   images; until the infant set of chapter 01 exists we render library poses with the
   ``photo`` preset and take their depth-tested COCO keypoints as the "labels";
2. **fit** a body to those keypoints (:func:`infantpose.body.fit.fit`) and keep the accepted fits;
3. **render** each accepted fit 10 times, turned by the paper's global rotations, with the
   ``synthetic`` preset: the synthetic infants (SyRIP's naming, ``train10001.jpg`` on);
4. **adults** for SHIFT and FiDIP's pre-stage: adult library poses rendered with the
   ``surreal`` preset (the SURREAL-like source set) and with ``photo`` (the real-adult stand-in).

Every dataset is a COCO folder (:mod:`infantpose.render.synth`) plus ``synthesis.json``, the
parameters it was made with. :func:`load_or_make` reuses a folder only when those match, so a
changed parameter never serves a stale dataset; writing is atomic, so an interrupted run
leaves nothing half-made.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..body.poses import ADULT_FLOOR_POSTURES, ADULT_POSTURES
from ..config import data_root
from ..io import write_json_atomic
from .coco import CocoKeypoints, read_coco

__all__ = [
    "ADULT_POSTURE_GROUPS",
    "ADULT_PRETRAINING_SETS",
    "AdultPart",
    "SourceFits",
    "adult_pretraining_set",
    "adult_set",
    "adults_root",
    "dataset_root",
    "fit_source_poses",
    "infants_root",
    "is_current",
    "load_made",
    "load_or_make",
    "make_adult_set",
    "make_synthetic_infants",
    "read_stamp",
]

#: SyRIP numbers synthetic training images from 10001 (``train10001.jpg``).
SYRIP_SYNTHETIC_FIRST_ID = 10001

#: The parameters a made dataset was made with, in its folder.
STAMP_FILE = "synthesis.json"

log = logging.getLogger(__name__)


def dataset_root(name: str) -> Path:
    """``<data root>/synthetic/<name>``."""
    return data_root() / "synthetic" / name


def infants_root(num_source_poses: int, rotations: int, seed: int, backend: str = "anny") -> Path:
    """Where chapter 02 writes FiDIP's synthetic infants made with these parameters."""
    return dataset_root(f"infants_fidip_n{num_source_poses}_r{rotations}_s{seed}_{backend}")


def adults_root(preset: str, num_adults: int, seed: int, backend: str = "anny") -> Path:
    """Where chapter 02 writes an adult set (``surreal``: synthetic; ``photo``: the real stand-in)."""
    return dataset_root(f"adults_{preset}_n{num_adults}_s{seed}_{backend}")


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


#: The code a synthetic dataset depends on; its hash is part of every dataset's stamp.
ENGINE_SOURCES = ("body", "render", "optim.py", "data/synthetic.py")


def engine_fingerprint() -> str:
    """A hash of the package code that makes the datasets (bodies, poses, fit, renderer), so
    that a change to any of it makes them again instead of serving a stale set."""
    import hashlib

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in ENGINE_SOURCES:
        path = package / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(package).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


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


@dataclass
class SourceFits:
    """Source keypoints (the "real" labels), what the fit made of them, and their images."""

    keypoints: np.ndarray  # (N, 17, 3)
    images: list[np.ndarray]  # (H, W, 3) uint8, for figures
    postures: list[str]
    truth_keypoints_3d: np.ndarray  # (N, 17, 3) of the source bodies, camera frame
    fits: Any  # infantpose.body.fit.FitResult
    image_size: tuple[int, int]


def fit_source_poses(
    body: Any,
    count: int,
    seed: int,
    *,
    image_size: tuple[int, int] = (384, 288),
    config: Any = None,
) -> SourceFits:
    """Render ``count`` library infants with the ``photo`` preset and fit the body to their keypoints.

    The fit sees only the 2D keypoints and the image size (no intrinsics: the fixed focal
    length of the reference, as for real photos).
    """
    from ..body import PoseSampler
    from ..body.fit import fit
    from ..render.synth import render_poses

    sample = PoseSampler(body).sample(count, seed=seed)
    rendered = render_poses(body, sample.pose, preset="photo", seed=seed, image_size=image_size)
    keypoints = [r.keypoints for r in rendered]
    images = [r.rgb for r in rendered]
    keypoints_arr = np.stack(keypoints)
    result = fit(body, keypoints_arr, image_size, config=config)
    return SourceFits(
        keypoints=keypoints_arr,
        images=images,
        postures=list(sample.posture),
        truth_keypoints_3d=np.stack([r.keypoints_3d for r in rendered]),
        fits=result,
        image_size=image_size,
    )


def make_synthetic_infants(
    body: Any,
    source: SourceFits,
    root: str | os.PathLike,
    *,
    rotations: int = 10,
    seed: int = 0,
    image_size: tuple[int, int] = (384, 288),
    progress: bool = False,
) -> CocoKeypoints:
    """FiDIP's synthetic infants: every accepted fit × ``rotations`` global rotations, rendered
    with the ``synthetic`` preset into SyRIP's layout (``images/train_infant/train10001.jpg``…)."""
    from ..render import DatasetWriter

    accepted = np.flatnonzero(source.fits.accepted)
    if len(accepted) == 0:
        raise ValueError(
            "no fit was accepted, so there is nothing to render; look at fits.reasons and "
            "loosen FitConfig's thresholds or fit more poses"
        )
    poses = source.fits.pose.select(accepted)
    with DatasetWriter(root, overwrite=True, progress=progress) as writer:
        writer.add_split(
            "train_infant",
            body,
            poses,
            preset="synthetic",
            seed=seed,
            rotations=rotations,
            image_size=image_size,
            postures=[source.postures[i] for i in accepted],
            file_pattern="train{id:05d}.jpg",
            first_id=SYRIP_SYNTHETIC_FIRST_ID,
        )
    return writer.splits["train_infant"]


#: Adult posture groups by name (:mod:`infantpose.body.poses`): the upright SURREAL-like
#: people, adults on the floor, or both.
ADULT_POSTURE_GROUPS: dict[str, tuple[str, ...]] = {
    "upright": ADULT_POSTURES,
    "floor": ADULT_FLOOR_POSTURES,
    "all": ADULT_POSTURES + ADULT_FLOOR_POSTURES,
}
_ADULT_IMAGE_SIZE = (384, 288)


def adult_set(
    preset: str,
    count: int,
    seed: int,
    *,
    postures: str = "upright",
    body: Any = None,
    image_size: tuple[int, int] = _ADULT_IMAGE_SIZE,
    progress: bool = False,
) -> CocoKeypoints:
    """The adult set of ``preset``/``count``/``seed`` in :func:`adults_root`: made once with
    :func:`make_adult_set`, then read while its parameters and the engine code are unchanged.
    ``postures`` names an :data:`ADULT_POSTURE_GROUPS` entry; ``body`` (default: ``anny``,
    built only when the set must be made) sets the backend."""
    if postures not in ADULT_POSTURE_GROUPS:
        raise ValueError(
            f"adult_set: postures={postures!r}; use one of {', '.join(ADULT_POSTURE_GROUPS)}"
        )
    image_size = (int(image_size[0]), int(image_size[1]))
    backend = "anny" if body is None else body.backend
    parameters = {"count": count, "preset": preset, "seed": seed, "image_size": image_size,
                  "backend": backend}  # fmt: skip
    root = adults_root(preset, count, seed, backend)
    if postures != "upright" or image_size != _ADULT_IMAGE_SIZE:  # older folders keep their names
        parameters["postures"] = postures
        root = root.with_name(f"{root.name}_{postures}_{image_size[0]}x{image_size[1]}")

    def make(root: Path) -> None:
        nonlocal body
        if body is None:
            from ..body import load_body_model

            body = load_body_model("anny")
        make_adult_set(body, count, root, preset=preset, seed=seed, image_size=image_size,
                       postures=ADULT_POSTURE_GROUPS[postures], progress=progress)  # fmt: skip

    return load_or_make(
        root,
        "annotations/person_keypoints_train_adult.json",
        "images/train_adult",
        parameters,
        make,
    )


def make_adult_set(
    body: Any,
    count: int,
    root: str | os.PathLike,
    *,
    preset: str = "surreal",
    seed: int = 0,
    image_size: tuple[int, int] = _ADULT_IMAGE_SIZE,
    postures: tuple[str, ...] = ADULT_POSTURES,
    progress: bool = False,
) -> CocoKeypoints:
    """``count`` adults in library ``postures``, each from a random camera, with ``preset``:
    ``surreal`` for the SURREAL-like source set, ``photo`` for the real-adult stand-in."""
    from ..body import PoseSampler
    from ..render import DatasetWriter

    sample = PoseSampler(body, population="adult", postures=postures).sample(count, seed=seed)
    with DatasetWriter(root, overwrite=True, progress=progress) as writer:
        writer.add_split(
            "train_adult",
            body,
            sample.pose,
            preset=preset,
            seed=seed,
            rotations=None,
            image_size=image_size,
            postures=list(sample.posture),
            file_pattern="adult{id:05d}.jpg",
        )
    return writer.splits["train_adult"]


@dataclass(frozen=True)
class AdultPart:
    """One part of an adult pretraining set: a share of the images, rendered with ``preset``
    in the ``postures`` group at ``image_size``."""

    preset: str
    postures: str
    share: float
    image_size: tuple[int, int] = _ADULT_IMAGE_SIZE


#: The adult starting model's training sets. ``surreal``: SURREAL-like people, upright, small in
#: 384×288 frames (the book's first recipe). ``coco-like``: a stand-in for COCO, whose people
#: the paper's adult model saw: half of them the same, a quarter on the floor (lying in every
#: orientation, sitting, kneeling, on all fours) and a quarter with the photo look in every
#: posture, both in 640×480 frames like the infants'.
ADULT_PRETRAINING_SETS: dict[str, tuple[AdultPart, ...]] = {
    "surreal": (AdultPart("surreal", "upright", 1.0),),
    "coco-like": (
        AdultPart("surreal", "upright", 0.5),
        AdultPart("surreal", "floor", 0.25, (640, 480)),
        AdultPart("photo", "all", 0.25, (640, 480)),
    ),
}


def adult_pretraining_set(
    kind: str, count: int, seed: int, *, progress: bool = False
) -> CocoKeypoints:
    """``count`` adults for the adult starting model, made of :data:`ADULT_PRETRAINING_SETS`
    ``[kind]``'s parts (each its own cached :func:`adult_set`; part ``k`` is rendered with
    ``seed + 1000 k``), ids renumbered so that they merge into one set."""
    if kind not in ADULT_PRETRAINING_SETS:
        raise ValueError(
            f"adult pretraining set {kind!r} is unknown; use one of "
            f"{', '.join(ADULT_PRETRAINING_SETS)}"
        )
    parts = ADULT_PRETRAINING_SETS[kind]
    counts = [round(count * part.share) for part in parts]
    counts[0] += count - sum(counts)
    sets = []
    for k, (part, n) in enumerate(zip(parts, counts, strict=True)):
        made = adult_set(part.preset, n, seed + 1000 * k, postures=part.postures,
                         image_size=part.image_size, progress=progress)  # fmt: skip
        sets.append(made.offset_ids(sum(counts[:k])) if k else made)
    return sets[0] if len(sets) == 1 else CocoKeypoints.merge(*sets, source=f"{kind} adults")
