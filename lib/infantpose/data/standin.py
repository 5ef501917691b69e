"""The stand-in for real infant photos: the embedded default of chapter 01 and of FiDIP's "real" split.

No infant photo can ship with the book, so its "real" infants are rendered too, with the
``photo`` preset (natural light, sensor noise, blur, JPEG, natural and procedural backgrounds)
and the infant pose library, and laid out **exactly like SyRIP**::

    <root>/
      annotations/person_keypoints_train_infant.json     is_synthetic: false for every image
      annotations/person_keypoints_validate_infant.json
      images/train_infant/train00001.jpg …
      images/validate_infant/test0.jpg …
      masks/…, depth/…                                   extras SyRIP does not have

so that swapping in the real SyRIP is a path change (``paths.syrip`` in a profile). Every
record still says how it was made (``appearance.preset == "photo"``, ``appearance.rendered``),
and the book says so wherever it reports a number on it. Train and validate poses come from
different seeds, so no pose is shared between the splits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .coco import CocoKeypoints

__all__ = ["STANDIN_SPLITS", "make_standin_clip", "make_standin_syrip"]

#: SyRIP's split names and file naming (train ids from 1, validate ids from 0).
STANDIN_SPLITS: dict[str, dict[str, Any]] = {
    "train_infant": {"file_pattern": "train{id:05d}.jpg", "first_id": 1},
    "validate_infant": {"file_pattern": "test{id}.jpg", "first_id": 0},
}


def make_standin_syrip(
    body: Any,
    root: str | os.PathLike,
    *,
    train: int,
    validate: int,
    seed: int = 0,
    image_size: tuple[int, int] = (640, 480),
    progress: bool = False,
) -> dict[str, CocoKeypoints]:
    """Render the stand-in infant set into ``root`` (atomically, replacing an older one).

    ``train`` and ``validate`` are the numbers of images; each image is a different library
    pose (seeds ``seed`` and ``seed + 1``) from a random camera. SyRIP's images are 640×480
    video frames and web photos; the default size follows.
    """
    from ..body import PoseSampler
    from ..render import DatasetWriter

    sampler = PoseSampler(body, population="infant")
    with DatasetWriter(Path(root), overwrite=True, progress=progress) as writer:
        for offset, (split, count) in enumerate(
            (("train_infant", train), ("validate_infant", validate))
        ):
            sample = sampler.sample(count, seed=seed + offset)
            writer.add_split(
                split,
                body,
                sample.pose,
                preset="photo",
                seed=seed + offset,
                rotations=None,
                image_size=image_size,
                postures=list(sample.posture),
                is_synthetic=False,
                **STANDIN_SPLITS[split],
            )
    return dict(writer.splits)


def make_standin_clip(
    body: Any,
    path: str | os.PathLike,
    *,
    frames: int = 48,
    fps: float = 12.0,
    seed: int = 0,
    image_size: tuple[int, int] = (384, 288),
) -> Path:
    """A short video of one rendered infant moving between two supine library poses (kicking,
    waving), written atomically as mp4: the input of chapter 01's frames demo."""
    from ..body import PoseSampler
    from ..render import render_motion
    from .video import write_video

    pose = PoseSampler(body, postures=["supine"], mirror=False).sample(2, seed=seed).pose
    start, end = pose.select([0]), pose.select([1])
    end.global_orient = start.global_orient  # the limbs move; the body stays where it lies
    clip = render_motion(body, start, end, frames, preset="photo", seed=seed, image_size=image_size)
    return write_video([c.rgb for c in clip], path, fps)
