"""Made-up poses and small helpers for the worked examples of chapter 00, *Measuring pose*.

Nothing here is data. The two poses are typed in by hand to look like an infant:

* :func:`infant_pose_2d`: a COCO-17 infant lying on its back, seen from above, with one
  occluded joint (``v = 1``) and one unlabelled joint (``v = 0``), placed in pixels;
* :func:`infant_pose_3d`: a 62 cm infant in MINI-RGBD's 25-joint layout, in metres, and
  :func:`infant_pose_h36m17`, the same body in Human3.6M's 17 joints.

The helpers build what the chapter measures: noisy copies (:func:`add_noise`), a tiny COCO
keypoint set with its predictions (:func:`worked_coco_set`, :func:`noisy_predictions`),
similarity transforms and mirror images for PA-MPJPE (:func:`similarity_transform`,
:func:`mirror`), the closed-form expected OKS under Gaussian noise
(:func:`expected_oks_gaussian`), and made-up test errors of several training seeds
(:func:`seed_predictions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data.coco import CocoKeypoints, annotation_record, image_record, make_coco
from .keypoints import COCO17_OKS_SIGMAS, Conversion, convert
from .metrics import oks

# ---------------------------------------------------------------------------
# The made-up poses
# ---------------------------------------------------------------------------

# An infant on its back seen from above (image axes: x right, y down), in units of its
# body length. It faces the camera, so its left side is on the image's right. Right arm
# up beside the head, legs in the frog position of young infants.
_INFANT_COCO17_UNIT = np.array(
    [
        [0.00, 0.10, 2],  # nose
        [0.04, 0.065, 2],  # left_eye
        [-0.04, 0.065, 2],  # right_eye
        [0.09, 0.085, 2],  # left_ear
        [-0.09, 0.085, 0],  # right_ear: turned into the mattress, not labelled
        [0.15, 0.24, 2],  # left_shoulder
        [-0.15, 0.24, 2],  # right_shoulder
        [0.28, 0.36, 2],  # left_elbow
        [-0.27, 0.15, 2],  # right_elbow
        [0.30, 0.50, 1],  # left_wrist: under a toy, labelled but occluded
        [-0.22, 0.02, 2],  # right_wrist
        [0.09, 0.58, 2],  # left_hip
        [-0.09, 0.58, 2],  # right_hip
        [0.23, 0.75, 2],  # left_knee
        [-0.21, 0.77, 2],  # right_knee
        [0.14, 0.95, 2],  # left_ankle
        [-0.16, 0.96, 2],  # right_ankle
    ]
)


def infant_pose_2d(
    center: tuple[float, float] = (128.0, 128.0), length_px: float = 190.0
) -> np.ndarray:
    """The made-up COCO-17 infant as a ``(17, 3)`` array of ``x, y, v`` in pixels.

    ``length_px`` is the body length (top of the eyes to the heels, about) and ``centre``
    the middle of the joints' extent. The right ear is not labelled (``v = 0``, stored as
    ``0, 0, 0`` in COCO files but kept at its place here) and the left wrist is occluded
    (``v = 1``).
    """
    pose = _INFANT_COCO17_UNIT.copy()
    xy = pose[:, :2]
    middle = (xy.min(0) + xy.max(0)) / 2
    pose[:, :2] = (xy - middle) * length_px + np.asarray(center, dtype=np.float64)
    return pose


# MINI-RGBD joints (layout MINIRGBD25) in metres, in the body frame: x to the infant's left,
# y from its feet to its head, z out of its chest; the pelvis is the origin. Legs flexed
# and turned out, right arm raised, as infants lie in MINI-RGBD's sequences.
_INFANT_MINIRGBD25_M = np.array(
    [
        [0.000, 0.000, 0.000],  # pelvis
        [0.045, -0.030, 0.000],  # left_hip
        [-0.045, -0.030, 0.000],  # right_hip
        [0.000, 0.060, -0.005],  # spine1
        [0.085, -0.140, 0.090],  # left_knee
        [-0.075, -0.135, 0.110],  # right_knee
        [0.000, 0.120, -0.005],  # spine2
        [0.070, -0.245, 0.040],  # left_ankle
        [-0.085, -0.230, 0.120],  # right_ankle
        [0.000, 0.170, 0.000],  # spine3
        [0.080, -0.265, 0.100],  # left_toes
        [-0.095, -0.250, 0.180],  # right_toes
        [0.000, 0.225, 0.000],  # neck
        [0.030, 0.210, 0.000],  # left_collar
        [-0.030, 0.210, 0.000],  # right_collar
        [0.000, 0.290, 0.010],  # head (the skull's centre)
        [0.075, 0.205, -0.005],  # left_shoulder
        [-0.075, 0.205, -0.005],  # right_shoulder
        [0.130, 0.130, 0.030],  # left_elbow
        [-0.140, 0.250, 0.040],  # right_elbow
        [0.150, 0.050, 0.090],  # left_wrist
        [-0.130, 0.330, 0.080],  # right_wrist
        [0.155, 0.010, 0.110],  # left_fingers
        [-0.125, 0.370, 0.100],  # right_fingers
        [0.000, 0.295, 0.065],  # nose
    ]
)


def infant_pose_3d() -> np.ndarray:
    """The made-up infant in MINI-RGBD's 25 joints: ``(25, 3)`` metres, y up (see module doc)."""
    return _INFANT_MINIRGBD25_M.copy()


def infant_pose_h36m17(convention: str = "anatomical") -> np.ndarray:
    """:func:`infant_pose_3d` in Human3.6M's 17 joints, ``(17, 3)`` metres, y up.

    ``convention="zedoi"`` reproduces ZeDO-i's conversion (toes as ankles, collars as
    shoulders); the default takes the anatomical joints.
    """
    return convert(infant_pose_3d(), "minirgbd25", "h36m17", convention)


# ---------------------------------------------------------------------------
# Noise, flips and rigid motions
# ---------------------------------------------------------------------------


def add_noise(
    points: np.ndarray,
    sigma: float | np.ndarray,
    rng: np.random.Generator,
    *,
    coords: int = 2,
) -> np.ndarray:
    """``points`` plus Gaussian noise of standard deviation ``sigma`` on each coordinate.

    Only the first ``coords`` channels move (2 for ``x, y, v`` arrays, 3 for 3D points);
    the others (a visibility or score column) are kept. ``sigma`` broadcasts against the
    batch shape ``...`` of ``(..., K, D)`` points, so each sample can have its own noise.
    """
    points = np.asarray(points, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)[..., None, None]
    noisy = points.copy()
    noisy[..., :coords] += rng.normal(size=points[..., :coords].shape) * sigma
    return noisy


def rotation_matrix(angle_deg: float, axis: str = "y") -> np.ndarray:
    """The ``(3, 3)`` proper rotation by ``angle_deg`` about ``"x"``, ``"y"`` or ``"z"``."""
    if axis not in ("x", "y", "z"):
        raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    c, s = np.cos(np.deg2rad(angle_deg)), np.sin(np.deg2rad(angle_deg))
    i, j = [(1, 2), (2, 0), (0, 1)]["xyz".index(axis)]
    rotation = np.eye(3)
    rotation[i, i], rotation[i, j], rotation[j, i], rotation[j, j] = c, -s, s, c
    return rotation


def similarity_transform(
    points: np.ndarray,
    *,
    angle_deg: float = 0.0,
    axis: str = "y",
    scale: float = 1.0,
    translation: tuple[float, float, float] | np.ndarray = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """``(..., K, 3)`` points rotated about the origin, scaled, then translated."""
    points = np.asarray(points, dtype=np.float64)
    rotated = points @ rotation_matrix(angle_deg, axis).T
    return scale * rotated + np.asarray(translation, dtype=np.float64)


def mirror(points: np.ndarray, axis: int = 0) -> np.ndarray:
    """The mirror image of ``(..., K, 3)`` points: coordinate ``axis`` negated, labels kept.

    No rotation can produce it (its determinant is −1); see
    :func:`infantpose.metrics.procrustes_align` and its ``allow_reflection``.
    """
    mirrored = np.array(points, dtype=np.float64)
    mirrored[..., axis] = -mirrored[..., axis]
    return mirrored


# ---------------------------------------------------------------------------
# OKS under Gaussian noise
# ---------------------------------------------------------------------------


def expected_oks_gaussian(
    noise_px: float | np.ndarray,
    area: float | np.ndarray,
    sigmas: np.ndarray | None = None,
    visible: np.ndarray | None = None,
) -> np.ndarray:
    """Expected OKS of a prediction whose x and y each err by ``N(0, noise_px²)``.

    With ``k = 2σ`` and ``s² = area`` the squared distance is ``noise_px² · χ²₂``, and
    ``E[exp(−d² / 2s²k²)] = 1 / (1 + noise_px² / (s² k²))`` per joint; OKS averages that
    over the ``visible`` joints (all by default). ``noise_px`` and ``area`` broadcast.
    """
    sigmas = np.asarray(COCO17_OKS_SIGMAS if sigmas is None else sigmas, dtype=np.float64)
    keep = np.ones(len(sigmas), bool) if visible is None else np.asarray(visible, bool)
    noise = np.asarray(noise_px, dtype=np.float64)[..., None]
    area = np.asarray(area, dtype=np.float64)[..., None]
    per_joint = 1.0 / (1.0 + noise**2 / (area * (2 * sigmas[keep]) ** 2))
    return per_joint.mean(-1)


# ---------------------------------------------------------------------------
# A tiny COCO keypoint set and its predictions
# ---------------------------------------------------------------------------

#: Body lengths (px) of the two kinds of infant in :func:`worked_coco_set`: with a 10 %
#: box margin their areas fall in COCO's "medium" (32²–96²) and "large" (> 96²) ranges.
WORKED_LENGTHS_PX = {"medium": 60.0, "large": 190.0}


@dataclass(frozen=True)
class WorkedSet:
    """A made-up COCO keypoint set: one infant per image, with every joint's true place.

    ``coco`` holds the annotations as a COCO file stores them (unlabelled joints as
    ``0, 0, 0``); ``poses`` is ``(N, 17, 3)`` ``x, y, v`` with the true coordinates of
    every joint, in annotation order; ``areas`` and ``bboxes`` (``x, y, w, h``) are the
    annotations'; ``sizes`` says ``"medium"`` or ``"large"`` per image.
    """

    coco: CocoKeypoints
    poses: np.ndarray
    areas: np.ndarray
    bboxes: np.ndarray
    sizes: tuple[str, ...]
    image_size: int


def worked_coco_set(
    rng: np.random.Generator,
    num_images: int = 40,
    *,
    image_size: int = 256,
    shape_noise: float = 0.02,
) -> WorkedSet:
    """``num_images`` square images, alternately one medium and one large infant.

    Each infant is :func:`infant_pose_2d` with every joint moved by ``shape_noise`` ×
    its body length (so no two are identical), placed at a random spot inside the image.
    """
    if num_images < 2:
        raise ValueError("worked_coco_set needs at least 2 images (one medium, one large)")
    images, annotations, poses, sizes = [], [], [], []
    for i in range(num_images):
        size = ("medium", "large")[i % 2]
        length = WORKED_LENGTHS_PX[size]
        pose = add_noise(infant_pose_2d((0.0, 0.0), length), shape_noise * length, rng)
        extent = pose[:, :2].max(0) - pose[:, :2].min(0)
        room = np.maximum(image_size - 1.3 * extent, 0) / 2  # keep the 10 % box margin inside
        pose[:, :2] += image_size / 2 + rng.uniform(-room, room)
        image_id = i + 1
        images.append(image_record(image_id, f"worked_{image_id:03d}.png", image_size, image_size))
        annotations.append(
            # A copy: annotation_record zeroes the unlabelled joints of the array it is given.
            annotation_record(i + 1, image_id, pose.copy(), image_size=(image_size, image_size))
        )
        poses.append(pose)
        sizes.append(size)
    coco = make_coco(images, annotations, source="worked example (made-up infants)")
    return WorkedSet(
        coco=coco,
        poses=np.stack(poses),
        areas=np.array([a["area"] for a in annotations]),
        bboxes=np.array([a["bbox"] for a in annotations]),
        sizes=tuple(sizes),
        image_size=image_size,
    )


def noisy_predictions(
    worked: WorkedSet,
    noise_px: float,
    rng: np.random.Generator,
    *,
    score: str = "oracle",
) -> tuple[list[dict], np.ndarray]:
    """Predictions for every image: the true joints plus ``N(0, noise_px²)`` on x and y.

    Returns the COCO results list (keypoint scores 1) and the ``(N, 17, 2)`` predicted
    points. ``score="oracle"`` gives each person its own OKS as its score, the perfect
    ranking a model's confidence could achieve, so AP measures localisation alone;
    ``score="constant"`` gives every person 1.0 (an uninformative confidence).
    """
    if score not in ("oracle", "constant"):
        raise ValueError(f"score must be 'oracle' or 'constant', got {score!r}")
    predicted = add_noise(worked.poses[..., :2], noise_px, rng)
    if score == "oracle":
        scores = oks(predicted, worked.poses, worked.areas)
    else:
        scores = np.ones(len(predicted))
    results = [
        {
            "image_id": int(ann["image_id"]),
            "category_id": 1,
            "keypoints": [float(v) for v in np.column_stack([xy, np.ones(len(xy))]).ravel()],
            "score": float(s),
        }
        for ann, xy, s in zip(worked.coco.annotations, predicted, scores, strict=True)
    ]
    return results, predicted


# ---------------------------------------------------------------------------
# Made-up test errors of several training seeds
# ---------------------------------------------------------------------------


def seed_predictions(
    pose: np.ndarray,
    rng: np.random.Generator,
    *,
    num_seeds: int = 10,
    num_samples: int = 60,
    typical_noise: float = 0.02,
    seed_spread: float = 0.15,
) -> np.ndarray:
    """Predictions of ``num_seeds`` made-up models on ``num_samples`` test copies of ``pose``.

    Test sample ``j`` has a difficulty, a noise level drawn from a gamma distribution with
    mean ``typical_noise`` (shared by every seed: it is the same test set); seed ``i`` scales
    all its noise by ``1 + seed_spread · z_i`` with ``z_i ~ N(0, 1)`` (training randomness).
    Returns ``(num_seeds, num_samples, K, 3)`` points in the units of ``pose``.
    """
    difficulty = rng.gamma(shape=2.0, scale=typical_noise / 2.0, size=num_samples)
    seed_factor = np.clip(1.0 + seed_spread * rng.standard_normal(num_seeds), 0.1, None)
    sigma = seed_factor[:, None] * difficulty[None, :]
    gt = np.broadcast_to(np.asarray(pose, dtype=np.float64), (num_seeds, num_samples, *pose.shape))
    return add_noise(gt, sigma, rng, coords=3)


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def conversion_differences(first: Conversion, second: Conversion) -> pd.DataFrame:
    """The target joints two conversions between the same layouts build differently.

    One row per differing target joint (the index, named ``"<dst> joint"``), one column per
    convention with the source joint(s) it averages (``"—"`` when missing).
    """
    if (first.src, first.dst) != (second.src, second.dst):
        raise ValueError(f"conversions {first.name} and {second.name} do not map the same layouts")
    columns = (f"{first.dst.name} joint", first.convention, second.convention)
    rows = [
        {
            f"{first.dst.name} joint": joint,
            first.convention: " + ".join(a) or "—",
            second.convention: " + ".join(b) or "—",
        }
        for joint, a, b in zip(first.dst.joints, first.sources, second.sources, strict=True)
        if a != b
    ]
    return pd.DataFrame(rows, columns=list(columns)).set_index(columns[0])
