"""Pick a diverse subset to label: farthest-point sampling on pose or appearance features.

With a labelling budget of a few hundred images, a subset that covers the poses and scenes
of a video collection beats a random one: near-identical frames add little. The recipe:

1. describe each image by a feature vector, :func:`pose_features` (from proposed or existing
   keypoints) or :func:`appearance_features` (colour histogram + tiny thumbnail);
2. :func:`select_diverse` standardises the features and runs :func:`farthest_point_sampling`,
   which repeatedly adds the point farthest (Euclidean) from everything chosen so far, so the
   smallest distance between chosen points stays large.

Everything is deterministic: the same features give the same indices.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np

from ..keypoints import COCO17
from .coco_checks import NUM_KEYPOINTS

__all__ = [
    "appearance_features",
    "farthest_point_sampling",
    "min_pairwise_distance",
    "pose_features",
    "select_diverse",
]

_LEFT_HIP, _RIGHT_HIP = COCO17.index("left_hip"), COCO17.index("right_hip")
_LEFT_SHOULDER, _RIGHT_SHOULDER = COCO17.index("left_shoulder"), COCO17.index("right_shoulder")


def _as_features(features: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name}: features must be (N, D), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: features contain NaN or inf; fill missing values first")
    return x


def farthest_point_sampling(
    features: np.ndarray,
    k: int,
    seed: int = 0,
    first: int | str | None = None,
) -> np.ndarray:
    """Indices of ``k`` rows of ``features`` ``(N, D)`` chosen greedily far apart.

    The first index is ``first`` when it is an int; ``None`` (default) takes the row farthest
    from the mean (an extreme point, so the result does not depend on ``seed``);
    ``"random"`` draws it with ``numpy.random.default_rng(seed)``. Each next index is the row
    whose Euclidean distance to the nearest chosen row is largest (ties: the lowest index).
    Indices are never repeated, even when rows are duplicates. Returns an ``int64`` array in
    selection order.
    """
    x = _as_features(features, "farthest_point_sampling")
    n = len(x)
    if int(k) != k or k < 0:
        raise ValueError(f"farthest_point_sampling: k must be a non-negative integer, got {k}")
    k = int(k)
    if k > n:
        raise ValueError(
            f"farthest_point_sampling: asked for k={k} points from only N={n}; use k <= N"
        )
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if first is None:
        start = int(np.argmax(((x - x.mean(axis=0)) ** 2).sum(axis=1)))
    elif first == "random":
        start = int(np.random.default_rng(seed).integers(n))
    else:
        start = int(first)
        if not 0 <= start < n:
            raise IndexError(f"farthest_point_sampling: first={first} is outside 0..{n - 1}")
    chosen = [start]
    nearest = np.sqrt(((x - x[start]) ** 2).sum(axis=1))
    nearest[start] = -np.inf
    for _ in range(k - 1):
        nxt = int(np.argmax(nearest))  # argmax returns the lowest index among ties
        chosen.append(nxt)
        nearest = np.minimum(nearest, np.sqrt(((x - x[nxt]) ** 2).sum(axis=1)))
        nearest[chosen] = -np.inf
    return np.asarray(chosen, dtype=np.int64)


def min_pairwise_distance(features: np.ndarray, indices: Sequence[int] | None = None) -> float:
    """Smallest Euclidean distance between two of the rows (``inf`` for fewer than two)."""
    x = _as_features(features, "min_pairwise_distance")
    if indices is not None:
        x = x[np.asarray(indices, dtype=np.int64)]
    if len(x) < 2:
        return float("inf")
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1))
    return float(d[np.triu_indices(len(x), k=1)].min())


def select_diverse(
    features: np.ndarray,
    k: int,
    *,
    standardize: bool = True,
    seed: int = 0,
    first: int | str | None = None,
) -> np.ndarray:
    """:func:`farthest_point_sampling` on features scaled to zero mean and unit variance per column.

    Standardising stops one wide feature (e.g. an image-size-dependent one) from deciding
    alone; constant columns are left at 0.
    """
    x = _as_features(features, "select_diverse")
    if standardize and len(x):
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return farthest_point_sampling(x, k, seed=seed, first=first)


def pose_features(keypoints: np.ndarray) -> np.ndarray:
    """``(N, 51)`` features of ``(N, 17, 3)`` COCO ``x, y, v`` poses: position, scale and gaps removed.

    Per pose: translate to the mid-hip (the mean of the labelled joints when a hip is
    missing), divide by the torso length (mid-shoulder to mid-hip; the diagonal of the
    labelled joints' box when a shoulder or hip is missing or the torso is degenerate), so
    a small infant far away and a close-up look alike. Joints with v = 0 get ``0, 0``.
    The result is 34 normalised coordinates followed by 17 labelled flags (v > 0 as 0/1),
    so a missing joint differs from one at the hip. A pose with no labelled joint is all 0.
    """
    k = np.asarray(keypoints, dtype=np.float64)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3 or k.shape[1:] != (NUM_KEYPOINTS, 3):
        raise ValueError(
            f"pose_features: keypoints must be (N, 17, 3) COCO x, y, v, got shape {k.shape}"
        )
    out = np.zeros((len(k), NUM_KEYPOINTS * 3))
    for i, pose in enumerate(k):
        labelled = (pose[:, 2] > 0) & np.isfinite(pose[:, :2]).all(axis=1)
        if not labelled.any():
            continue
        xy = pose[:, :2]
        if labelled[_LEFT_HIP] and labelled[_RIGHT_HIP]:
            center = (xy[_LEFT_HIP] + xy[_RIGHT_HIP]) / 2
        else:
            center = xy[labelled].mean(axis=0)
        scale = 0.0
        if labelled[[_LEFT_HIP, _RIGHT_HIP, _LEFT_SHOULDER, _RIGHT_SHOULDER]].all():
            shoulders = (xy[_LEFT_SHOULDER] + xy[_RIGHT_SHOULDER]) / 2
            hips = (xy[_LEFT_HIP] + xy[_RIGHT_HIP]) / 2
            scale = float(np.linalg.norm(shoulders - hips))
        if scale <= 1e-6:
            span = xy[labelled].max(axis=0) - xy[labelled].min(axis=0)
            scale = float(np.linalg.norm(span))
        if scale <= 1e-6:
            scale = 1.0
        normalized = np.where(labelled[:, None], (xy - center) / scale, 0.0)
        out[i, : 2 * NUM_KEYPOINTS] = normalized.reshape(-1)
        out[i, 2 * NUM_KEYPOINTS :] = labelled.astype(np.float64)
    return out


def appearance_features(
    images: Sequence[np.ndarray | str | os.PathLike],
    *,
    bins: int = 8,
    thumbnail: int = 8,
) -> np.ndarray:
    """``(N, 3·bins + thumbnail²)`` features: a colour histogram and a tiny grayscale thumbnail.

    The histogram (``bins`` per RGB channel, each channel summing to 1) captures the scene's
    colours and lighting; the ``thumbnail × thumbnail`` area-averaged grayscale image (values
    in [0, 1]) captures the coarse layout. Images are RGB ``uint8`` arrays, :class:`Frame`
    objects or image files.
    """
    from .video import load_frame_image

    rows = []
    for image in images:
        rgb = np.ascontiguousarray(load_frame_image(image))
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"appearance_features: expected RGB (H, W, 3), got {rgb.shape}")
        pixels = rgb.reshape(-1, 3)
        hist = [
            np.histogram(pixels[:, c], bins=bins, range=(0, 256))[0] / len(pixels) for c in range(3)
        ]
        gray = cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2GRAY)
        small = cv2.resize(gray, (thumbnail, thumbnail), interpolation=cv2.INTER_AREA)
        rows.append(np.concatenate([*hist, small.reshape(-1) / 255.0]))
    if not rows:
        return np.zeros((0, 3 * bins + thumbnail * thumbnail))
    return np.stack(rows)
