"""Gaussian heatmap targets, decoding back to coordinates, and the flip test.

* :func:`gaussian_targets` — the reference target (``unbiased=False``): a peak-1 Gaussian of
  ``sigma`` heatmap pixels inside a ±3σ window around the *integer* centre ``int(x/stride + 0.5)``;
  or (``unbiased=True``, DarkPose) a full-map Gaussian at the float centre ``x/stride``. The
  target weight is the visibility (v > 0), zeroed when the window is fully outside the map.
* :func:`decode_heatmaps` — argmax per joint, confidence = max value (coordinates zeroed when it
  is ≤ 0), then ``post="quarter"`` (the reference: 0.25 px towards the larger neighbour) or
  ``post="dark"`` (DarkPose: blur, log, one Newton step of a second-order Taylor expansion).
* :func:`flip_back` and :func:`flip_test_average` — heatmaps of a flipped input mirrored back,
  left/right channels swapped and (``shift=True``, for quantised targets) shifted 1 px right,
  as ``SHIFT_HEATMAP`` in the reference; then averaged with the unflipped heatmaps.
* :func:`final_predictions` — decoded heatmap coordinates mapped back to image pixels.

Coordinates on a heatmap are ``x_input / stride``; decoding inverts exactly that.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .transforms import transform_preds

__all__ = [
    "decode_heatmaps",
    "final_predictions",
    "flip_back",
    "flip_test_average",
    "gaussian_targets",
]


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
    shift: bool = True,
) -> torch.Tensor:
    """Average of the heatmaps and those of the flipped input, mirrored back.

    ``shift`` moves the mirrored maps one pixel right (the reference's ``SHIFT_HEATMAP``):
    with quantised targets and ``x → W − 1 − x`` flips, the mirrored peak lands ~1 px left.
    Use ``shift=False`` with unbiased targets/DARK.
    """
    back = flip_back(flipped_heatmaps, flip_pairs)
    if shift:
        back = torch.cat([back[..., :1], back[..., :-1]], dim=-1)
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
