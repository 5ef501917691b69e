"""Student and teacher views of one base image, and the way back to the base frame.

The base frame is the evaluation crop of an image (the person box, as every top-down chapter
of the book uses). A view is that crop under a random affine (rotation, shear-x, scale about
the centre, translation) and a photometric change (brightness, contrast, saturation, blur),
made here on tensors in one batched ``grid_sample``, so the same matrix warps an image, its
heatmaps and its keypoints and the inverse is exact:

* pixel coordinates put pixel ``i``'s centre at ``x = i`` (as OpenCV and the codec do);
* a matrix ``M`` (3×3) maps base-frame pixels to view pixels; heatmaps at stride ``s`` use
  ``P M P⁻¹`` with ``P = diag(1/s, 1/s, 1)``, the codec's ``u = x / s``.

Devices: the images, heatmaps and keypoints stay on their device (the profile's); the random
draws (matrices, jitter factors, blur widths) come from a CPU generator, so a seed gives the
same views on every device, and the few numbers each image needs are moved to the images.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..pose2d.dataset import IMAGENET_MEAN, IMAGENET_STD
from .config import ViewAugment

__all__ = [
    "colour_jitter",
    "gaussian_heatmaps",
    "heatmap_matrix",
    "sample_affine",
    "soft_argmax",
    "transform_points",
    "view",
    "warp",
]

_MEAN = torch.from_numpy(IMAGENET_MEAN).view(1, 3, 1, 1)
_STD = torch.from_numpy(IMAGENET_STD).view(1, 3, 1, 1)


def sample_affine(
    batch: int, size: tuple[int, int], augment: ViewAugment, generator: torch.Generator
) -> torch.Tensor:
    """``(batch, 3, 3)`` base → view matrices for images of ``size = (W, H)``: rotation
    U(−r, r)°, shear-x U(a, b)°, scale U(s0, s1) about the centre, then a translation of
    U(±t·W), U(±t·H) pixels (the released ``RandomAffineRotation``)."""

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(batch, generator=generator, dtype=torch.float64)

    w, h = size
    angle = torch.deg2rad(uniform(-augment.rotation, augment.rotation))
    shear = torch.deg2rad(uniform(*augment.shear))
    scale = uniform(*augment.scale)
    tx = uniform(-augment.translate[0] * w, augment.translate[0] * w)
    ty = uniform(-augment.translate[1] * h, augment.translate[1] * h)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    cos, sin = torch.cos(angle), torch.sin(angle)
    m = torch.zeros(batch, 3, 3, dtype=torch.float64)
    # A = R · Shear · S (shear-x: x' = x + tan(φ) y), centred on the image centre.
    a00, a01 = cos * scale, (cos * torch.tan(shear) - sin) * scale
    a10, a11 = sin * scale, (sin * torch.tan(shear) + cos) * scale
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = a00, a01, a10, a11
    m[:, 0, 2] = cx + tx - (a00 * cx + a01 * cy)
    m[:, 1, 2] = cy + ty - (a10 * cx + a11 * cy)
    m[:, 2, 2] = 1.0
    return m


def heatmap_matrix(matrix: torch.Tensor, stride: float) -> torch.Tensor:
    """The same warp on the heatmap grid: ``P M P⁻¹`` with ``P = diag(1/stride, 1/stride, 1)``."""
    like = {"dtype": matrix.dtype, "device": matrix.device}
    p = torch.diag(torch.tensor([1.0 / stride, 1.0 / stride, 1.0], **like))
    p_inv = torch.diag(torch.tensor([stride, stride, 1.0], **like))
    return p @ matrix @ p_inv


def _normaliser(w: int, h: int, dtype: torch.dtype) -> torch.Tensor:
    # pixel (centre at i) → grid_sample's align_corners=False coordinates in [−1, 1]
    return torch.tensor(
        [[2.0 / w, 0, 1.0 / w - 1], [0, 2.0 / h, 1.0 / h - 1], [0, 0, 1]], dtype=dtype
    )


def warp(x: torch.Tensor, matrix: torch.Tensor, *, mode: str = "bilinear") -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` in frame A → frame B where ``matrix`` ``(N, 3, 3)`` maps A-pixels
    to B-pixels; the output has the same size, zeros outside. Differentiable in ``x``.

    The sampling grid is built in float64 on the CPU (the matrices are drawn there) and moved
    to ``x``'s device."""
    _n, _, h, w = x.shape
    matrix = matrix.detach().to("cpu", torch.float64)
    norm = _normaliser(w, h, torch.float64)
    theta = norm @ torch.linalg.inv(matrix) @ torch.linalg.inv(norm)
    theta = theta[:, :2].to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)


def transform_points(points: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """``(N, K, 2)`` points through ``(N, 3, 3)`` matrices (moved to the points' device)."""
    m = matrix.to(points.device, points.dtype)
    return points @ m[:, :2, :2].transpose(1, 2) + m[:, None, :2, 2]


def colour_jitter(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Brightness, contrast and saturation factors U(1 − c, 1 + c) per image, on
    ImageNet-normalised tensors (undone, jittered in [0, 1], redone)."""
    if strength <= 0:
        return x
    n = x.shape[0]
    rgb = x * _STD.to(x) + _MEAN.to(x)

    def factor() -> torch.Tensor:
        f = 1.0 + strength * (2 * torch.rand(n, generator=generator) - 1)
        return f.to(x).view(n, 1, 1, 1)

    weights = torch.tensor([0.299, 0.587, 0.114], device=x.device).to(x).view(1, 3, 1, 1)
    rgb = (rgb * factor()).clamp(0, 1)
    grey = (rgb * weights).sum(1, keepdim=True)
    rgb = (
        (rgb - grey.mean((2, 3), keepdim=True)) * factor() + grey.mean((2, 3), keepdim=True)
    ).clamp(0, 1)
    grey = (rgb * weights).sum(1, keepdim=True)
    rgb = ((rgb - grey) * factor() + grey).clamp(0, 1)
    return (rgb - _MEAN.to(x)) / _STD.to(x)


def _blur(x: torch.Tensor, max_sigma: float, generator: torch.Generator) -> torch.Tensor:
    if max_sigma <= 0:
        return x
    out = []
    for image, sigma in zip(x, max_sigma * torch.rand(len(x), generator=generator), strict=True):
        s = float(sigma)
        if s < 0.1:
            out.append(image)
            continue
        radius = max(1, math.ceil(2 * s))
        t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
        k = torch.exp(-(t**2) / (2 * s * s))
        k = k / k.sum()
        c = image.shape[0]
        y = F.conv2d(
            image[None], k.view(1, 1, 1, -1).expand(c, 1, 1, -1), padding=(0, radius), groups=c
        )
        y = F.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), padding=(radius, 0), groups=c)
        out.append(y[0])
    return torch.stack(out)


def view(
    base: torch.Tensor, augment: ViewAugment, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random view of each base image: ``(images, matrices base → view)``."""
    n, _, h, w = base.shape
    matrix = sample_affine(n, (w, h), augment, generator)
    # Warp in pixel space with the normalisation undone, so the padding is black, not mean grey.
    rgb = base * _STD.to(base) + _MEAN.to(base)
    rgb = warp(rgb, matrix)
    x = (rgb - _MEAN.to(base)) / _STD.to(base)
    x = colour_jitter(x, augment.color, generator)
    return _blur(x, augment.blur, generator), matrix


def gaussian_heatmaps(points: torch.Tensor, size: tuple[int, int], sigma: float) -> torch.Tensor:
    """Unit-peak Gaussians ``(N, K, H, W)`` at ``points`` ``(N, K, 2)`` on the heatmap grid
    (``size = (W, H)``); differentiable in ``points``."""
    w, h = size
    xs = torch.arange(w, dtype=points.dtype, device=points.device)
    ys = torch.arange(h, dtype=points.dtype, device=points.device)
    gx = torch.exp(-((xs - points[..., :1]) ** 2) / (2 * sigma**2))  # (N, K, W)
    gy = torch.exp(-((ys - points[..., 1:2]) ** 2) / (2 * sigma**2))  # (N, K, H)
    return gy[..., :, None] * gx[..., None, :]


def soft_argmax(heatmaps: torch.Tensor, beta: float) -> torch.Tensor:
    """``(N, K, 2)`` expected ``(x, y)`` on the heatmap grid under ``softmax(beta · h)``:
    a differentiable argmax (the released prior loss uses β = 500)."""
    n, k, h, w = heatmaps.shape
    p = torch.softmax(beta * heatmaps.float().reshape(n, k, -1), -1).reshape(n, k, h, w)
    xs = torch.arange(w, dtype=p.dtype, device=p.device)
    ys = torch.arange(h, dtype=p.dtype, device=p.device)
    return torch.stack([(p.sum(2) * xs).sum(-1), (p.sum(3) * ys).sum(-1)], -1)


def argmax_points(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer argmax ``(N, K, 2)`` on the grid and the maxima ``(N, K)``."""
    n, k, _h, w = heatmaps.shape
    values, index = heatmaps.reshape(n, k, -1).max(-1)
    return torch.stack([(index % w), (index // w)], -1).to(heatmaps.dtype), values


def numpy_matrix(matrix: torch.Tensor) -> np.ndarray:
    return matrix.detach().cpu().numpy()
