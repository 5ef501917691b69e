"""SURREAL (Varol et al.): synthetic adults, the source domain of UDAPE/SHIFT.

Two layouts are read. The TLlib-preprocessed crops that UDAPE/SHIFT use::

    <root>/                                   paths.surreal in configs/*.yaml
      {train,val,test}/
        run0.json run1.json run2.json         [{name, keypoint2d (24×2, crop px),
        run0/<name> run1/… run2/…              keypoint3d (24×3, camera frame), intrinsic_matrix}]

and the original release::

    <root>/cmu/{train,val,test}/run{0,1,2}/<seq>/
        <seq>_c0001.mp4   <seq>_c0001_info.mat   (_segm.mat, _depth.mat: not read here)

``_info.mat`` holds ``joints2D`` (2, 24, T) pixels, ``joints3D`` (3, 24, T) world metres,
``pose`` (72, T), ``shape`` (10, T), ``camLoc`` (3,), ``zrot`` (T,), ``gender`` (T,) and more.
Joints are in :data:`infantpose.keypoints.SMPL24` order in both layouts.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Profile
from ..io import FileFormatError, path_under, read_json
from ..keypoints import convert
from .coco import CocoKeypoints, annotation_record, image_record, make_coco
from .syrip import DatasetError, configured_root

__all__ = [
    "SURREAL_SPLITS",
    "SURREAL_URL",
    "SurrealSamples",
    "load_surreal",
    "read_surreal_info",
    "read_surreal_video",
    "surreal_root",
    "surreal_sequences",
]

SURREAL_URL = "https://www.di.ens.fr/willow/research/surreal/data/"
SURREAL_SPLITS = ("train", "val", "test")
_FIELDS = ("name", "keypoint2d", "keypoint3d", "intrinsic_matrix")
_INFO_FIELDS = ("joints2D", "joints3D")


def surreal_root(profile: str | os.PathLike | Profile = "paper") -> Path:
    """The SURREAL root of a profile (``paths.surreal``); the error says where to get it."""
    return configured_root(
        profile,
        "surreal",
        "SURREAL",
        f"{SURREAL_URL} (licence form), or TLlib's preprocessed crops",
        "{train,val,test}/run{0,1,2}.json (preprocessed) or cmu/ (original)",
    )


# --------------------------------------------------------------------------- preprocessed


@dataclass
class SurrealSamples:
    """Preprocessed SURREAL crops: SMPL24 ``keypoints_2d`` (N, 24, 2), ``keypoints_3d`` (N, 24, 3)."""

    image_paths: list[Path]
    keypoints_2d: np.ndarray
    keypoints_3d: np.ndarray
    intrinsics: np.ndarray  # (N, 3, 3)

    def __len__(self) -> int:
        return len(self.image_paths)

    def keypoints_uda16(self, convention: str = "udape") -> np.ndarray:
        """(N, 16, 2) in SHIFT's Body16 order; ``"udape"`` uses SMPL's collars as shoulders."""
        return convert(self.keypoints_2d, "smpl24", "uda16", convention)

    def keypoints_coco17(self) -> np.ndarray:
        """(N, 17, 3) COCO ``x, y, v``: v = 2 for the 12 body joints, face joints 0, 0, 0."""
        xyv = np.concatenate(
            [self.keypoints_2d, np.full((*self.keypoints_2d.shape[:2], 1), 2.0)], -1
        )
        return convert(xyv, "smpl24", "coco17", visibility=True)

    def to_coco(self, *, bbox_margin: float = 0.1) -> CocoKeypoints:
        """A validated COCO set; sizes read from the image headers, boxes from the keypoints."""
        from ..images import image_size

        points = self.keypoints_coco17()
        images, annotations = [], []
        root = Path(os.path.commonpath([p.parent for p in self.image_paths])) if self else None
        for i, path in enumerate(self.image_paths):
            if not path.is_file():
                raise FileNotFoundError(
                    f"SURREAL crop {path} does not exist; unpack the run folders next to their "
                    "run*.json files"
                )
            width, height = image_size(path)
            file_name = path.relative_to(root).as_posix()
            images.append(image_record(i + 1, file_name, width, height, is_synthetic=True))
            annotations.append(
                annotation_record(
                    i + 1, i + 1, points[i], bbox_margin=bbox_margin, image_size=(width, height)
                )
            )
        return make_coco(images, annotations, image_root=root, source="SURREAL (preprocessed)")


def _read_run(path: Path) -> list[dict[str, Any]]:
    try:
        samples = read_json(path, "SURREAL annotation file")
    except FileFormatError as error:
        raise DatasetError(f"{error}; download or unpack it again") from None
    if not isinstance(samples, list):
        raise DatasetError(f"SURREAL annotation file {path}: expected a JSON list of samples")
    for i, sample in enumerate(samples):
        missing = [f for f in _FIELDS if not isinstance(sample, dict) or f not in sample]
        if missing:
            raise DatasetError(
                f"SURREAL annotation file {path}: sample [{i}] has no field(s) {missing}; every "
                f"sample needs {', '.join(_FIELDS)}. Is this TLlib's preprocessed SURREAL?"
            )
        for field, shape in (
            ("keypoint2d", (24, 2)),
            ("keypoint3d", (24, 3)),
            ("intrinsic_matrix", (3, 3)),
        ):
            got = np.shape(sample[field])
            if got != shape:
                raise DatasetError(
                    f"SURREAL annotation file {path}: sample [{i}] (name={sample['name']!r}) field "
                    f"{field!r} has shape {got}; expected {shape} (SMPL24 order)"
                )
    return samples


def load_surreal(
    root: str | os.PathLike,
    split: str = "train",
    runs: Iterable[int] = (0, 1, 2),
    *,
    tllib_split: bool = True,
) -> SurrealSamples:
    """Read TLlib-preprocessed SURREAL crops of one split.

    With ``tllib_split=True`` the samples are shuffled like TLlib (``random.seed(42)``) and
    ``train`` drops, ``test`` keeps, the first min(20 %, 3200) of them, as UDAPE/SHIFT do.
    """
    if split not in SURREAL_SPLITS:
        raise ValueError(f"SURREAL split {split!r} is unknown; use one of {SURREAL_SPLITS}")
    root = Path(root)
    samples: list[dict[str, Any]] = []
    for run in runs:
        path = root / split / f"run{run}.json"
        if not path.is_file():
            state = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else None
            raise FileNotFoundError(
                f"SURREAL annotation file {path} does not exist "
                f"({f'{path.parent} holds {state[:10]}' if state is not None else f'no folder {path.parent}'}). "
                "The preprocessed root holds {train,val,test}/run{0,1,2}.json and the run folders; "
                "for the original .mp4/.mat release use read_surreal_info"
            )
        for sample in _read_run(path):
            crop = path_under(
                root / split / f"run{run}", sample["name"], where=f"{path}", field="name"
            )
            samples.append({**sample, "image_path": crop})
    if tllib_split:
        random.Random(42).shuffle(samples)
        cut = min(int(len(samples) * 0.2), 3200)
        samples = (
            samples[cut:] if split == "train" else samples[:cut] if split == "test" else samples
        )
    return SurrealSamples(
        image_paths=[s["image_path"] for s in samples],
        keypoints_2d=np.array([s["keypoint2d"] for s in samples], dtype=np.float64).reshape(
            -1, 24, 2
        ),
        keypoints_3d=np.array([s["keypoint3d"] for s in samples], dtype=np.float64).reshape(
            -1, 24, 3
        ),
        intrinsics=np.array([s["intrinsic_matrix"] for s in samples], dtype=np.float64).reshape(
            -1, 3, 3
        ),
    )


# --------------------------------------------------------------------------- original release


def surreal_sequences(root: str | os.PathLike, split: str = "train") -> list[Path]:
    """Every ``<seq>_c*_info.mat`` of ``<root>/cmu/<split>/run*/``, sorted."""
    folder = Path(root) / "cmu" / split
    if not folder.is_dir():
        raise FileNotFoundError(
            f"SURREAL folder {folder} does not exist; the original release unpacks to "
            f"cmu/{{train,val,test}}/run{{0,1,2}}/<seq>/ (from {SURREAL_URL})"
        )
    return sorted(folder.glob("run*/*/*_info.mat"))


def read_surreal_info(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``_info.mat`` with frames first: ``joints2D`` (T, 24, 2), ``joints3D`` (T, 24, 3),
    ``pose`` (T, 72), ``shape`` (T, 10), ``zrot``/``gender`` (T,), ``camLoc`` (3,); other
    fields as stored."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"SURREAL info file {path} does not exist; check the sequence folder"
        )
    mat = loadmat(path)
    missing = [f for f in _INFO_FIELDS if f not in mat]
    if missing:
        raise DatasetError(
            f"SURREAL info file {path} has no {missing} (fields: {sorted(k for k in mat if not k.startswith('__'))}); "
            "is it a *_info.mat of the original release?"
        )
    info = {k: np.asarray(v) for k, v in mat.items() if not k.startswith("__")}
    for field, dim in (("joints2D", 2), ("joints3D", 3)):
        value = info[field]
        if value.ndim == 2:  # a one-frame clip saved without its frame axis
            value = value[..., None]
        if value.shape[:2] != (dim, 24):
            raise DatasetError(
                f"SURREAL info file {path}: field {field!r} has shape {value.shape}; expected "
                f"({dim}, 24, T)"
            )
        info[field] = value.transpose(2, 1, 0)
    frames = info["joints2D"].shape[0]
    for field, size in (("pose", 72), ("shape", 10)):
        if field in info and info[field].shape[0] == size:
            info[field] = info[field].T.reshape(frames, size)
    for field in ("zrot", "gender", "camLoc"):
        if field in info:
            info[field] = info[field].reshape(-1)
    return info


def read_surreal_video(path: str | os.PathLike) -> np.ndarray:
    """All frames of a SURREAL ``.mp4`` as (T, H, W, 3) uint8 RGB (OpenCV decodes)."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SURREAL video {path} does not exist; check the sequence folder")
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])
    capture.release()
    if not frames:
        raise DatasetError(
            f"SURREAL video {path}: OpenCV decoded no frame (damaged file, or an OpenCV build "
            "without an H.264/MPEG-4 decoder); check with `ffprobe`, or install opencv-python"
        )
    return np.stack(frames)
