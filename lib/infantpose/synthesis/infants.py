"""FiDIP's synthetic infants (FiDIP paper, §4.2), made end to end on the embedded default.

1. **source poses**: infant postures with 2D keypoints. FiDIP fitted SMIL to its real
   images; until the infant set of chapter 01 exists we render library poses with the
   ``photo`` preset and take their depth-tested COCO keypoints as the "labels"
   (:func:`fit_source_poses`);
2. **fit** a body to those keypoints (:func:`infantpose.body.fit.fit_body`) and keep the
   accepted fits;
3. **render** each accepted fit 10 times, turned by the paper's global rotations, with the
   ``synthetic`` preset (:func:`make_synthetic_infants`): SyRIP's naming, ``train10001.jpg`` on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..body import PoseSampler
from ..body.fit import BodyFitResult, FitConfig, fit_body
from ..body.model import BodyModel
from ..data.coco import CocoKeypoints
from ..render.samples import render_poses
from .cache import dataset_root
from .writer import DatasetWriter

__all__ = [
    "SYRIP_SYNTHETIC_FIRST_ID",
    "SourceFits",
    "fit_source_poses",
    "infants_root",
    "make_synthetic_infants",
]

#: SyRIP numbers synthetic training images from 10001 (``train10001.jpg``).
SYRIP_SYNTHETIC_FIRST_ID = 10001


def infants_root(num_source_poses: int, rotations: int, seed: int, backend: str = "anny") -> Path:
    """Where chapter 02 writes FiDIP's synthetic infants made with these parameters."""
    return dataset_root(f"infants_fidip_n{num_source_poses}_r{rotations}_s{seed}_{backend}")


@dataclass
class SourceFits:
    """Source keypoints (the "real" labels), what the fit made of them, and their images."""

    keypoints: np.ndarray  # (N, 17, 3)
    images: list[np.ndarray]  # (H, W, 3) uint8, for figures
    postures: list[str]
    truth_keypoints_3d: np.ndarray  # (N, 17, 3) of the source bodies, camera frame
    fits: BodyFitResult
    image_size: tuple[int, int]


def fit_source_poses(
    body: BodyModel,
    count: int,
    seed: int,
    *,
    image_size: tuple[int, int] = (384, 288),
    config: FitConfig | None = None,
) -> SourceFits:
    """Render ``count`` library infants with the ``photo`` preset and fit the body to their keypoints.

    The fit sees only the 2D keypoints and the image size (no intrinsics: the fixed focal
    length of the reference, as for real photos).
    """
    sample = PoseSampler(body).sample(count, seed=seed)
    rendered = render_poses(body, sample.pose, preset="photo", seed=seed, image_size=image_size)
    keypoints = [r.keypoints for r in rendered]
    images = [r.rgb for r in rendered]
    keypoints_arr = np.stack(keypoints)
    result = fit_body(body, keypoints_arr, image_size, config=config)
    return SourceFits(
        keypoints=keypoints_arr,
        images=images,
        postures=list(sample.posture),
        truth_keypoints_3d=np.stack([r.keypoints_3d for r in rendered]),
        fits=result,
        image_size=image_size,
    )


def make_synthetic_infants(
    body: BodyModel,
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
