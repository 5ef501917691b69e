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

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..body import PoseSampler, load_body_model
from ..body.model import BodyModel
from ..config import Profile, data_root, load_profile
from ..data.coco import CocoKeypoints
from ..data.syrip import SYRIP_SPLITS, load_syrip, syrip_root
from ..data.video import write_video
from ..io import write_json_atomic
from ..render.samples import render_motion
from .cache import load_or_make
from .writer import DatasetWriter

__all__ = [
    "STANDIN_SPLITS",
    "clip_truth_path",
    "load_clip_truth",
    "load_infant_images",
    "make_standin_clip",
    "make_standin_syrip",
    "standin_root",
]

#: SyRIP's split names and file naming (train ids from 1, validate ids from 0).
STANDIN_SPLITS: dict[str, dict[str, Any]] = {
    "train_infant": {"file_pattern": "train{id:05d}.jpg", "first_id": 1},
    "validate_infant": {"file_pattern": "test{id}.jpg", "first_id": 0},
}


def make_standin_syrip(
    body: BodyModel,
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


def standin_root(train: int, validate: int, seed: int, image_size: tuple[int, int]) -> Path:
    """``<data root>/standin/syrip_<train>_<validate>_s<seed>_<W>x<H>``: one folder per size."""
    width, height = image_size
    return data_root() / "standin" / f"syrip_{train}_{validate}_s{seed}_{width}x{height}"


def load_infant_images(
    profile: str | os.PathLike | Profile,
    *,
    train: int,
    validate: int,
    seed: int = 0,
    image_size: tuple[int, int] = (640, 480),
    body: BodyModel | None = None,
    progress: bool = False,
) -> tuple[dict[str, CocoKeypoints], str]:
    """The infant images of a profile: ``({"train_infant": …, "validate_infant": …}, data)``.

    With ``paths.syrip`` set in the profile, the real SyRIP splits (``data == "real"``; its
    train split holds real and synthetic images, told apart by ``is_synthetic``). Otherwise
    the stand-in set of ``train`` + ``validate`` images (``data == "embedded"``), rendered
    once into :func:`standin_root` and reused while its parameters and the engine code are
    unchanged. ``body`` (default: ``anny``) is only built when the set must be made.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    if prof.paths.get("syrip"):
        root = syrip_root(prof)
        return {split: load_syrip(root, split) for split in SYRIP_SPLITS}, "real"

    def make(root: Path) -> None:
        nonlocal body
        if body is None:
            body = load_body_model("anny")
        make_standin_syrip(
            body, root, train=train, validate=validate, seed=seed, image_size=image_size,
            progress=progress,
        )  # fmt: skip

    root = standin_root(train, validate, seed, image_size)
    parameters = {"train": train, "validate": validate, "seed": seed, "image_size": image_size,
                  "preset": "photo", "backend": "anny"}  # fmt: skip
    load_or_make(  # makes the set unless this exact one is there already
        root,
        "annotations/person_keypoints_train_infant.json",
        "images/train_infant",
        parameters,
        make,
    )
    sets = {split: load_syrip(root, split) for split in SYRIP_SPLITS}
    return sets, "embedded"


def clip_truth_path(path: str | os.PathLike) -> Path:
    """The ground-truth file written next to a stand-in clip: ``clip.mp4`` → ``clip.truth.json``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.truth.json")


def make_standin_clip(
    body: BodyModel,
    path: str | os.PathLike,
    *,
    frames: int = 48,
    fps: float = 12.0,
    seed: int = 0,
    image_size: tuple[int, int] = (384, 288),
) -> Path:
    """A short video of one rendered infant moving between two supine library poses (kicking,
    waving), written atomically as mp4: the input of chapter 01's frames demo.

    Like a home video, it has still stretches: the infant holds its first pose for the first
    quarter, moves (eased in and out) through the middle half, and holds the last pose.

    The renderer's labels are written beside it (:func:`clip_truth_path`): per frame the
    index, time and COCO-17 keypoints with visibility, so a labelling session on the clip's
    frames can be scored. A real video has no such file.
    """
    pose = PoseSampler(body, postures=["supine"], mirror=False).sample(2, seed=seed).pose
    start, end = pose.select([0]), pose.select([1])
    end.global_orient = start.global_orient  # the limbs move; the body stays where it lies
    t = np.linspace(0.0, 1.0, frames)
    u = np.clip((t - 0.25) / 0.5, 0.0, 1.0)
    clip = render_motion(
        body, start, end, frames, preset="photo", seed=seed, image_size=image_size,
        timing=u * u * (3 - 2 * u),  # smoothstep: no jerk at the start and end of the move
    )  # fmt: skip
    video = write_video([c.rgb for c in clip], path, fps)
    truth = {
        "video": video.name,
        "fps": fps,
        "width": image_size[0],
        "height": image_size[1],
        "frames": [
            {"index": i, "timestamp_s": i / fps, "keypoints": c.keypoints.round(3).tolist()}
            for i, c in enumerate(clip)
        ],
    }
    write_json_atomic(clip_truth_path(video), truth)
    return video


def load_clip_truth(path: str | os.PathLike) -> dict[int, np.ndarray]:
    """The stand-in clip's keypoints by frame index, ``{index: (17, 3) array}``.

    ``path`` is the clip or its ``.truth.json``.
    """
    path = Path(path)
    truth_file = path if path.name.endswith(".truth.json") else clip_truth_path(path)
    if not truth_file.exists():
        raise FileNotFoundError(
            f"{truth_file}: no ground truth beside this clip. Only clips made by "
            "make_standin_clip have one; a real video is scored by its labels alone."
        )
    data = json.loads(truth_file.read_text(encoding="utf-8"))
    return {int(f["index"]): np.asarray(f["keypoints"], dtype=np.float64) for f in data["frames"]}
