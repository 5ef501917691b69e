"""Gaussian heatmap targets, decoding back to coordinates, and the flip test.

* :func:`gaussian_targets` — the reference target (``unbiased=False``): a peak-1 Gaussian of
  ``sigma`` heatmap pixels inside a ±3σ window around the *integer* centre ``int(x/stride + 0.5)``;
  or (``unbiased=True``, DarkPose) a full-map Gaussian at the float centre ``x/stride``. The
  target weight is the visibility (v > 0), zeroed when the window is fully outside the map.
* :func:`decode_heatmaps` — argmax per joint, confidence = max value (coordinates zeroed when it
  is ≤ 0), then ``post="quarter"`` (the reference: 0.25 px towards the larger neighbour) or
  ``post="dark"`` (DarkPose: blur, log, one Newton step of a second-order Taylor expansion).
* :func:`flip_back` and :func:`flip_test_average` — heatmaps of a flipped input mirrored back,
  left/right channels swapped and shifted right by ``shift`` heatmap pixels (the reference's
  ``SHIFT_HEATMAP`` moves them 1 px); then averaged with the unflipped heatmaps.
* :func:`final_predictions` — decoded heatmap coordinates mapped back to image pixels.
* :class:`HeatmapCodec` — the three choices above as **one setting**: the targets a model is
  trained on, how its heatmaps are decoded and how the flip test shifts, so that training-time
  validation, test evaluation and :func:`~infantpose.pose2d.evaluate.predict` cannot disagree.
  It is part of the model's config (``PoseResNetConfig.codec``); :func:`codec_of` reads it.

Coordinates on a heatmap are ``x_input / stride``; decoding inverts exactly that. Why the flip
shift is 0.75 at stride 4: the input is flipped as ``x → W − 1 − x``, so a joint at heatmap
``x/4`` appears in the flipped maps at ``(W − 1 − x)/4 = W_h − 1/4 − x/4``; mirroring the maps
back (``u → W_h − 1 − u``) puts it at ``x/4 − 3/4``. The exact correction is ``1 − 1/stride``
pixels to the right, for quantised and unbiased targets alike; the reference's whole pixel
over-corrects by a quarter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ..checked import CheckedConfig
from .transforms import transform_preds

__all__ = [
    "HeatmapCodec",
    "codec_of",
    "decode_heatmaps",
    "final_predictions",
    "flip_back",
    "flip_test_average",
    "gaussian_targets",
]

_TARGETS = ("quantised", "unbiased")
_DECODINGS = ("quarter", "dark", "argmax")


@dataclass(frozen=True)
class HeatmapCodec(CheckedConfig):
    """How keypoints become heatmaps and back: one setting for training and every evaluation.

    ``targets``: ``"quantised"`` (the reference: a Gaussian at the rounded centre) or
    ``"unbiased"`` (DarkPose: at the exact centre). ``decoding``: ``"quarter"`` (argmax + 0.25 px
    towards the larger neighbour, the reference), ``"dark"`` (DarkPose's Taylor step) or
    ``"argmax"``. ``flip_test``: average with the mirrored prediction of the flipped input,
    shifted right by ``flip_shift`` heatmap pixels (0.75 is exact at stride 4, see the module
    docstring; the reference uses 1). The defaults are the reference's (FiDIP's code);
    :meth:`precise` is the codec for small inputs, where a heatmap pixel is a large error.
    """

    targets: str = "quantised"
    decoding: str = "quarter"
    flip_test: bool = False
    flip_shift: float = 1.0

    _limits: ClassVar[dict[str, str]] = {"flip_shift": "[0, 2]"}  # heatmap pixels

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.targets not in _TARGETS:
            raise ValueError(f"codec targets={self.targets!r}: one of {_TARGETS}")
        if self.decoding not in _DECODINGS:
            raise ValueError(f"codec decoding={self.decoding!r}: one of {_DECODINGS}")

    @classmethod
    def precise(cls) -> HeatmapCodec:
        """Unbiased targets, DARK decoding, flip test with the exact 0.75-pixel shift."""
        return cls("unbiased", "dark", True, 0.75)

    @property
    def unbiased(self) -> bool:
        return self.targets == "unbiased"

    @property
    def post(self) -> str | None:
        """The ``post`` argument of :func:`decode_heatmaps`."""
        return None if self.decoding == "argmax" else self.decoding


def codec_of(model: Any) -> HeatmapCodec:
    """The codec ``model`` was trained with: its ``codec`` (a Pose-ResNet's is its config's),
    else its ``config.codec``. A model that carries none is an error, never a guess."""
    codec = getattr(model, "codec", None) or getattr(getattr(model, "config", None), "codec", None)
    if not isinstance(codec, HeatmapCodec):
        raise ValueError(
            f"{type(model).__name__} carries no heatmap codec (no `codec`, no `config.codec`): "
            "build it from a PoseResNetConfig (its `codec` field), load it with its checkpoint, "
            "or pass codec=HeatmapCodec(...)"
        )
    return codec


def gaussian_targets(
    joints: np.ndarray,
    heatmap_size: Sequence[int],
    stride: float,
    sigma: float = 2.0,
    *,
    unbiased: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Targets ``(K, H, W)`` float32 and weights ``(K,)`` from ``(K, 3)`` joints ``x, y, v`` in
    input-crop pixels; ``heatmap_size = (W, H)``."""
    joints = np.asarray(joints, dtype=np.float64)
    w, h = int(heatmap_size[0]), int(heatmap_size[1])
    weight = (joints[:, 2] > 0).astype(np.float32)
    if unbiased:
        mu = joints[:, :2] / stride
    else:
        mu = np.floor(joints[:, :2] / stride + 0.5)
    xs = np.arange(w, dtype=np.float64)
    ys = np.arange(h, dtype=np.float64)
    dx = xs[None, :] - mu[:, :1]  # (K, W)
    dy = ys[None, :] - mu[:, 1:2]  # (K, H)
    gx = np.exp(-(dx**2) / (2 * sigma**2))
    gy = np.exp(-(dy**2) / (2 * sigma**2))
    radius = 3 * sigma
    if unbiased:
        inside = (mu[:, 0] >= 0) & (mu[:, 0] <= w - 1) & (mu[:, 1] >= 0) & (mu[:, 1] <= h - 1)
    else:
        gx = gx * (np.abs(dx) <= radius)
        gy = gy * (np.abs(dy) <= radius)
        # The reference drops a joint whose window lies fully outside the map.
        ul, br = mu - radius, mu + radius + 1
        inside = (ul[:, 0] < w) & (ul[:, 1] < h) & (br[:, 0] >= 0) & (br[:, 1] >= 0)
    weight = weight * inside
    target = (gy[:, :, None] * gx[:, None, :]).astype(np.float32) * weight[:, None, None]
    return target, weight


def _as_numpy(heatmaps: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(heatmaps, torch.Tensor):
        return heatmaps.detach().float().cpu().numpy()
    return np.asarray(heatmaps, dtype=np.float32)


def decode_heatmaps(
    heatmaps: np.ndarray | torch.Tensor, post: str | None = "quarter", *, blur_kernel: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(N, K, 2)`` on the heatmap grid and confidences ``(N, K)`` of ``(N, K, H, W)``
    heatmaps. ``post``: ``"quarter"``, ``"dark"`` or ``None`` (plain argmax)."""
    hm = _as_numpy(heatmaps)
    n, k, h, w = hm.shape
    flat = hm.reshape(n, k, -1)
    idx = flat.argmax(-1)
    maxvals = flat.max(-1)
    coords = np.stack([idx % w, idx // w], -1).astype(np.float64)
    if post == "quarter":
        ix, iy = coords[..., 0].astype(int), coords[..., 1].astype(int)
        ok = (ix > 0) & (ix < w - 1) & (iy > 0) & (iy < h - 1)
        bi, ki = np.nonzero(ok)
        x, y = ix[bi, ki], iy[bi, ki]
        ddx = hm[bi, ki, y, x + 1] - hm[bi, ki, y, x - 1]
        ddy = hm[bi, ki, y + 1, x] - hm[bi, ki, y - 1, x]
        coords[bi, ki, 0] += 0.25 * np.sign(ddx)
        coords[bi, ki, 1] += 0.25 * np.sign(ddy)
    elif post == "dark":
        coords = _dark_refine(hm, coords, blur_kernel)
    elif post is not None:
        raise ValueError(f"post={post!r}: 'quarter', 'dark' or None")
    coords[maxvals <= 0] = 0.0
    return coords, maxvals


def _dark_refine(hm: np.ndarray, coords: np.ndarray, kernel: int) -> np.ndarray:
    """DarkPose: Gaussian-blur each map (keeping its max), take logs, one Taylor/Newton step."""
    import cv2

    n, k, h, w = hm.shape
    border = (kernel - 1) // 2
    smooth = np.empty_like(hm)
    for i in range(n):
        for j in range(k):
            peak = hm[i, j].max()
            padded = np.zeros((h + 2 * border, w + 2 * border), np.float32)
            padded[border : -border or None, border : -border or None] = hm[i, j]
            blurred = cv2.GaussianBlur(padded, (kernel, kernel), 0)[
                border : border + h, border : border + w
            ]
            smooth[i, j] = blurred * (peak / max(blurred.max(), 1e-12))
    logs = np.log(np.maximum(smooth, 1e-10))
    out = coords.copy()
    for i in range(n):
        for j in range(k):
            x, y = int(coords[i, j, 0]), int(coords[i, j, 1])
            if not (1 < x < w - 2 and 1 < y < h - 2):
                continue
            m = logs[i, j]
            dx = 0.5 * (m[y, x + 1] - m[y, x - 1])
            dy = 0.5 * (m[y + 1, x] - m[y - 1, x])
            dxx = 0.25 * (m[y, x + 2] - 2 * m[y, x] + m[y, x - 2])
            dyy = 0.25 * (m[y + 2, x] - 2 * m[y, x] + m[y - 2, x])
            dxy = 0.25 * (m[y + 1, x + 1] - m[y - 1, x + 1] - m[y + 1, x - 1] + m[y - 1, x - 1])
            hessian = np.array([[dxx, dxy], [dxy, dyy]])
            if dxx * dyy - dxy**2 != 0:
                out[i, j] -= np.linalg.solve(hessian, np.array([dx, dy]))
    return out


def flip_back(heatmaps: torch.Tensor, flip_pairs: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Mirror ``(N, K, H, W)`` heatmaps horizontally and swap the left/right channels."""
    out = heatmaps.flip(-1)
    perm = list(range(out.shape[1]))
    for a, b in flip_pairs:
        perm[a], perm[b] = b, a
    return out[:, perm]


def flip_test_average(
    heatmaps: torch.Tensor,
    flipped_heatmaps: torch.Tensor,
    flip_pairs: Sequence[tuple[int, int]],
    *,
    shift: float | bool = 1.0,
) -> torch.Tensor:
    """Average of the heatmaps and those of the flipped input, mirrored back.

    ``shift`` moves the mirrored maps that many heatmap pixels right (``True`` = 1, the
    reference's ``SHIFT_HEATMAP``); a fractional shift interpolates linearly between the two
    neighbouring whole-pixel shifts, the first column repeated at the border.
    """
    back = flip_back(flipped_heatmaps, flip_pairs)
    shift = float(shift)
    whole, frac = int(np.floor(shift)), shift - np.floor(shift)

    def moved(maps: torch.Tensor, k: int) -> torch.Tensor:
        if k == 0:
            return maps
        return torch.cat([maps[..., :1].expand(*maps.shape[:-1], k), maps[..., :-k]], dim=-1)

    back = (
        moved(back, whole)
        if frac == 0
        else (1 - frac) * moved(back, whole) + frac * moved(back, whole + 1)
    )
    return 0.5 * (heatmaps + back)


def final_predictions(
    heatmaps: np.ndarray | torch.Tensor,
    centers: np.ndarray,
    scales: np.ndarray,
    post: str | None = "quarter",
) -> tuple[np.ndarray, np.ndarray]:
    """Image coordinates ``(N, K, 2)`` and confidences ``(N, K)`` from heatmaps and each crop's
    centre ``(N, 2)`` and scale ``(N, 2)``."""
    hm = _as_numpy(heatmaps)
    coords, maxvals = decode_heatmaps(hm, post)
    size = (hm.shape[3], hm.shape[2])
    preds = np.zeros((len(coords), hm.shape[1], 2))
    for i in range(len(coords)):
        preds[i] = transform_preds(coords[i], centers[i], scales[i], size)
    return preds, maxvals
