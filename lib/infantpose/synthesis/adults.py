"""The adult sets: SURREAL-like synthetic adults and the real-adult stand-in (SHIFT's source
domain and FiDIP's pre-stage), and the adult starting model's pretraining mixes.

Adult library poses rendered with the ``surreal`` preset (the SURREAL-like source set) or with
``photo`` (the real-adult stand-in), each set made once and kept under the data root
(:func:`adult_set`, through :func:`~infantpose.synthesis.cache.load_or_make`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..body import PoseSampler, load_body_model
from ..body.model import BodyModel
from ..body.poses import ADULT_FLOOR_POSTURES, ADULT_POSTURES
from ..data.coco import CocoKeypoints
from .cache import dataset_root, load_or_make
from .writer import DatasetWriter

__all__ = [
    "ADULT_POSTURE_GROUPS",
    "ADULT_PRETRAINING_SETS",
    "AdultPart",
    "adult_pretraining_set",
    "adult_set",
    "adults_root",
    "make_adult_set",
]


def adults_root(preset: str, num_adults: int, seed: int, backend: str = "anny") -> Path:
    """Where chapter 02 writes an adult set (``surreal``: synthetic; ``photo``: the real stand-in)."""
    return dataset_root(f"adults_{preset}_n{num_adults}_s{seed}_{backend}")


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
    body: BodyModel | None = None,
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
    body: BodyModel,
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
#: posture, both in 640×480 frames like the infants'. ``release``: the released adult model's
#: mix (:mod:`infantpose.pose2d.release`), all in 640×480 frames.
ADULT_PRETRAINING_SETS: dict[str, tuple[AdultPart, ...]] = {
    "surreal": (AdultPart("surreal", "upright", 1.0),),
    "coco-like": (
        AdultPart("surreal", "upright", 0.5),
        AdultPart("surreal", "floor", 0.25, (640, 480)),
        AdultPart("photo", "all", 0.25, (640, 480)),
    ),
    # The released adult model's set (pose2d.release): every part in the infants' 640×480
    # frames, and more of it on the floor, where the infants are.
    "release": (
        AdultPart("surreal", "upright", 0.4, (640, 480)),
        AdultPart("surreal", "floor", 0.3, (640, 480)),
        AdultPart("photo", "all", 0.3, (640, 480)),
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
