"""Boxes to crops and back: centre/scale, the affine warp, training augmentation, flips.

Conventions of the reference (``microsoft/human-pose-estimation.pytorch``, ``lib/utils/transforms.py``
and ``lib/dataset/coco.py``):

* a box ``[x, y, w, h]`` becomes a centre ``(x + w/2, y + h/2)`` and a scale ``(w, h) / 200``
  (``pixel_std``) after padding w or h to the input aspect ratio, then ×1.25;
* one affine maps the rotated, scaled box onto the input crop (three-point construction);
  the same construction with ``inv=True`` maps heatmap or crop coordinates back to the image;
* a horizontal flip maps ``x → width − 1 − x`` and swaps the left/right joints. The box centre
  lands on crop pixel ``w/2`` (not ``(w − 1)/2``), so the crop of a flipped image is the mirrored
  crop moved one pixel right; this is why the reference's flip test shifts heatmaps by one pixel
  (:func:`~infantpose.pose2d.heatmaps.flip_test_average`). Kept for compatibility with
  published checkpoints.

Warps use ``cv2.warpAffine`` (bilinear, constant 0 border), after halving the image by area
averages when the crop shrinks it ≥ 2× (anti-aliasing, :func:`crop_image`), when OpenCV is
importable, and a numpy bilinear sampler with the same convention (no anti-aliasing) otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..checked import CheckedConfig

try:  # OpenCV is ~10× faster; the numpy path keeps the package usable without it
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

__all__ = [
    "ANTIALIAS_ABOVE",
    "PIXEL_STD",
    "AugmentConfig",
    "Augmentation",
    "affine_points",
    "box_to_center_scale",
    "clip_box",
    "crop_image",
    "get_affine_transform",
    "sample_augmentation",
    "transform_preds",
]

#: The reference divides box sizes by 200 px to get its "scale".
PIXEL_STD = 200.0


def clip_box(box: Sequence[float], width: int, height: int) -> list[float] | None:
    """``[x, y, w, h]`` clipped to the image (as the reference's bbox sanitising), or None when
    nothing of the box is inside."""
    x, y, w, h = (float(v) for v in box)
    x0, y0 = max(0.0, x), max(0.0, y)
    x1 = min(width - 1.0, x + max(0.0, w - 1.0))
    y1 = min(height - 1.0, y + max(0.0, h - 1.0))
    if x1 <= x0 or y1 <= y0:
        return None
    return [x0, y0, x1 - x0, y1 - y0]


def box_to_center_scale(
    box: Sequence[float],
    aspect_ratio: float,
    *,
    padding: float = 1.25,
    pixel_std: float = PIXEL_STD,
) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``(2,)`` and scale ``(2,)`` of a box, padded to ``aspect_ratio = width / height``."""
    x, y, w, h = (float(v) for v in box)
    center = np.array([x + w * 0.5, y + h * 0.5], dtype=np.float32)
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    else:
        w = h * aspect_ratio
    scale = np.array([w / pixel_std, h / pixel_std], dtype=np.float32) * padding
    return center, scale


def _rotate(point: np.ndarray, radians: float) -> np.ndarray:
    s, c = np.sin(radians), np.cos(radians)
    return np.array([point[0] * c - point[1] * s, point[0] * s + point[1] * c])


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    return b + np.array([-d[1], d[0]])


def get_affine_transform(
    center: Sequence[float],
    scale: Sequence[float],
    rotation: float,
    output_size: Sequence[int],
    *,
    inv: bool = False,
    pixel_std: float = PIXEL_STD,
) -> np.ndarray:
    """``(2, 3)`` affine from image to an ``output_size = (w, h)`` crop (or back with ``inv``).

    ``rotation`` is in degrees, counter-clockwise as in the reference. Only the box width
    fixes the zoom (the height follows the aspect ratio of ``output_size``).
    """
    center = np.asarray(center, dtype=np.float64)
    src_w = float(scale[0]) * pixel_std
    dst_w, dst_h = float(output_size[0]), float(output_size[1])
    src_dir = _rotate(np.array([0.0, src_w * -0.5]), np.pi * rotation / 180)
    dst_dir = np.array([0.0, dst_w * -0.5])
    src = np.zeros((3, 2))
    dst = np.zeros((3, 2))
    src[0], src[1] = center, center + src_dir
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = dst[0] + dst_dir
    src[2], dst[2] = _third_point(src[0], src[1]), _third_point(dst[0], dst[1])
    a, b = (dst, src) if inv else (src, dst)
    # Solve [a | 1] M^T = b for the 2×3 matrix M (what cv2.getAffineTransform does).
    return np.linalg.solve(np.hstack([a, np.ones((3, 1))]), b).T.astype(np.float64)


def affine_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine to ``(..., 2)`` points."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


#: A crop that shrinks the image at least this much is anti-aliased first (:func:`crop_image`).
ANTIALIAS_ABOVE = 2.0


def crop_image(
    image: np.ndarray, matrix: np.ndarray, output_size: Sequence[int], *, antialias: bool = True
) -> np.ndarray:
    """Warp ``image`` (H, W, C) with a forward affine into ``output_size = (w, h)`` (bilinear).

    Bilinear sampling reads 2×2 pixels per output pixel, so a crop that shrinks the image
    k-fold skips most of them and aliases (stripes and edges break into moiré). A large infant
    box (≈ 300 px) shrinks ≈ 3× into a 96×128 input while a small SURREAL-like adult barely
    shrinks, so without anti-aliasing the two domains differ in a way that has nothing to do
    with bodies. With ``antialias`` (and OpenCV), the part of the image under the crop is
    halved by 2×2 area averages (``cv2.INTER_AREA``, pixel centres kept aligned) while the
    shrink left is :data:`ANTIALIAS_ABOVE` or more; the warp does the rest (< 2×). Exact halving
    is OpenCV's fast path (≈ 0.1 ms for 640×480; an arbitrary area ratio costs ≈ 15× more).
    Keypoints map through ``matrix`` unchanged.
    """
    w, h = int(output_size[0]), int(output_size[1])
    if cv2 is None:
        return _warp_numpy(image, matrix, (w, h))
    if antialias:
        image, matrix = _area_prefilter(image, np.asarray(matrix, dtype=np.float64), (w, h))
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR)


def _area_prefilter(
    image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``image`` under the crop, halved while the crop shrinks it ≥ 2×, and the
    affine from that smaller image."""
    shrink = 1.0 / np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    halvings = int(np.floor(np.log2(shrink))) if shrink >= ANTIALIAS_ABOVE else 0
    if halvings < 1:
        return image, matrix
    step = 2**halvings
    # The region the crop reads (plus a margin for the filter), its size a multiple of 2^k.
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    corners = affine_points(np.array([[0, 0], [size[0], 0], [0, size[1]], size]), inverse)
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - 2 * step, 0)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 2 * step
    x1 = x0 + (min(x1, image.shape[1]) - x0) // step * step
    y1 = y0 + (min(y1, image.shape[0]) - y0) // step * step
    if x1 <= x0 or y1 <= y0:  # the crop lies (almost) outside the image: nothing to filter
        return image, matrix
    image = image[y0:y1, x0:x1]
    for _ in range(halvings):
        image = cv2.resize(
            image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    # Small pixel x' averages original pixels x0 + k·x' … x0 + k·x' + k − 1 (k = 2^halvings):
    # its centre is x0 + k·x' + (k − 1)/2.
    offset = (step - 1) / 2
    to_original = np.array([[step, 0.0, x0 + offset], [0.0, step, y0 + offset], [0.0, 0.0, 1.0]])
    return image, matrix @ to_original


def _warp_numpy(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    inverse = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    src = affine_points(np.stack([xs, ys], -1), inverse)
    x, y = src[..., 0], src[..., 1]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    img = image.astype(np.float64)
    if img.ndim == 2:
        img = img[..., None]
    out = np.zeros((h, w, img.shape[2]))
    for dy, dx, wgt in (
        (0, 0, (1 - fx) * (1 - fy)),
        (0, 1, fx * (1 - fy)),
        (1, 0, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        xi, yi = x0 + dx, y0 + dy
        inside = (xi >= 0) & (xi < image.shape[1]) & (yi >= 0) & (yi < image.shape[0])
        values = np.zeros_like(out)
        values[inside] = img[yi[inside], xi[inside]]
        out += wgt * values
    out = out.reshape((h, w, *image.shape[2:]))
    return (
        np.clip(np.rint(out), 0, 255).astype(image.dtype)
        if image.dtype == np.uint8
        else out.astype(image.dtype)
    )


def transform_preds(
    coords: np.ndarray,
    center: Sequence[float],
    scale: Sequence[float],
    output_size: Sequence[int],
) -> np.ndarray:
    """Map ``(K, 2)`` coordinates on an ``output_size`` map (crop or heatmap) back to the image."""
    return affine_points(coords, get_affine_transform(center, scale, 0.0, output_size, inv=True))


@dataclass
class AugmentConfig(CheckedConfig):
    """FiDIP's Pose-ResNet augmentation (Microsoft yaml): scale ×clip(N(0,1)·0.3+1, 0.7, 1.3),
    rotation clip(N(0,1)·40, −80, 80) with probability 0.6, horizontal flip with p = 0.5."""

    scale_factor: float = 0.3
    rotation_factor: float = 40.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5

    _limits: ClassVar[dict[str, str]] = {
        "scale_factor": "[0, 1)", "rotation_factor": "[0, 180]", "rotation_prob": "[0, 1]",
        "flip_prob": "[0, 1]",
    }  # fmt: skip


@dataclass(frozen=True)
class Augmentation:
    """One draw: multiply the scale by ``scale``, rotate by ``rotation`` degrees, maybe flip."""

    scale: float = 1.0
    rotation: float = 0.0
    flip: bool = False


def sample_augmentation(rng: np.random.Generator, config: AugmentConfig) -> Augmentation:
    """Draw one :class:`Augmentation` as the reference does."""
    sf, rf = config.scale_factor, config.rotation_factor
    scale = float(np.clip(rng.standard_normal() * sf + 1, 1 - sf, 1 + sf))
    rotation = float(np.clip(rng.standard_normal() * rf, -2 * rf, 2 * rf))
    if rng.random() >= config.rotation_prob:
        rotation = 0.0
    flip = bool(rng.random() < config.flip_prob)
    return Augmentation(scale, rotation, flip)
