"""The mean teacher: an EMA copy of the student, its pseudo-labels, mask and occlusion.

Per target batch (UDAPE's recipe, which SHIFT keeps): the teacher predicts on its own view;
the heatmaps are warped back to the base frame; each (sample, joint) gets the teacher's peak
as its confidence; the pairs below the ``mask_ratio`` quantile are dropped; the rest become
clean Gaussians at the teacher's argmax (*rectified*); the student, on a differently
augmented and partly occluded view, is pulled towards them in the base frame.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .views import argmax_points, gaussian_heatmaps

__all__ = ["EmaTeacher", "confidence_mask", "consistency_loss", "occlude", "rectify"]


class EmaTeacher:
    """``θ_t ← α θ_t + (1 − α) θ_s`` after every student step (α = ``ema``).

    With ``buffers=True`` BatchNorm running means and variances are averaged the same way
    (``num_batches_tracked`` is copied); the teacher then runs in eval mode. The released
    code averages only parameters and runs the teacher in train mode on batch statistics.
    """

    def __init__(self, student: nn.Module, ema: float, *, buffers: bool = True) -> None:
        self.model = copy.deepcopy(student)
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.ema, self.buffers = float(ema), buffers

    @torch.no_grad()
    def update(self, student: nn.Module) -> None:
        a = self.ema
        for t, s in zip(self.model.parameters(), student.parameters(), strict=True):
            t.mul_(a).add_(s.detach(), alpha=1.0 - a)
        if self.buffers:
            for t, s in zip(self.model.buffers(), student.buffers(), strict=True):
                if t.dtype.is_floating_point:
                    t.mul_(a).add_(s.detach(), alpha=1.0 - a)
                else:
                    t.copy_(s)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def confidence_mask(confidence: torch.Tensor, mask_ratio: float) -> torch.Tensor:
    """Keep the (sample, joint) pairs above the ``mask_ratio`` quantile of ``confidence``
    ``(N, K)`` over the whole batch (the released ``kthvalue`` rule): ``(N, K)`` bool."""
    flat = confidence.detach().flatten()
    k = int(mask_ratio * flat.numel())
    if k < 1:
        return torch.ones_like(confidence, dtype=torch.bool)
    threshold = flat.kthvalue(k).values
    return confidence > threshold


def rectify(heatmaps: torch.Tensor, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean unit-peak Gaussians at each heatmap's argmax, and the maxima (confidences)."""
    _n, _k, h, w = heatmaps.shape
    points, values = argmax_points(heatmaps)
    return gaussian_heatmaps(points.float(), (w, h), sigma), values


def consistency_loss(
    student_base: torch.Tensor, teacher_rectified: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``mean((mask · (H_student − H_teacher))²)`` over samples, joints and pixels."""
    diff = (student_base.float() - teacher_rectified.float()) * mask[..., None, None].float()
    return diff.square().mean()


@torch.no_grad()
def occlude(
    images: torch.Tensor,
    points: torch.Tensor,
    confidence: torch.Tensor,
    *,
    rate: float,
    threshold: float,
    half_size: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """Adaptive keypoint occlusion (UDAPE): with probability ``rate``, pick one joint whose
    teacher confidence is ≥ ``threshold`` and paste over a (2·half)² box around it a patch of
    the same image from a random place. ``points`` are in image pixels of ``images``.

    The images stay on their device; which joint and where are decided on the host (data-
    dependent choices), from one copy of ``confidence`` and ``points`` made only when a first
    image is picked for occlusion."""
    out = images.clone()
    n, _, h, w = images.shape
    side = 2 * half_size
    if side >= min(h, w):
        return out
    host: tuple[torch.Tensor, torch.Tensor] | None = None
    for i in range(n):
        if float(torch.rand(1, generator=generator)) >= rate:
            continue
        if host is None:
            host = (confidence.detach().cpu(), points.detach().cpu())
        sure = torch.nonzero(host[0][i] >= threshold).flatten()
        if len(sure) == 0:
            continue
        j = int(sure[int(torch.randint(len(sure), (1,), generator=generator))])
        x, y = (round(float(v)) for v in host[1][i, j])
        x0, y0 = max(0, x - half_size), max(0, y - half_size)
        x1, y1 = min(w, x + half_size), min(h, y + half_size)
        if x1 <= x0 or y1 <= y0:
            continue
        sx = int(torch.randint(w - (x1 - x0) + 1, (1,), generator=generator))
        sy = int(torch.randint(h - (y1 - y0) + 1, (1,), generator=generator))
        out[i, :, y0:y1, x0:x1] = images[i, :, sy : sy + (y1 - y0), sx : sx + (x1 - x0)]
    return out
