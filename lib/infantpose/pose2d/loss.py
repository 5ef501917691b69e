"""JointsMSE: the heatmap loss of SimpleBaseline and FiDIP.

For each joint, ``0.5 · mean((pred·w − target·w)²)`` over batch and pixels, averaged over joints
(``microsoft/human-pose-estimation.pytorch``, ``lib/core/loss.py``). Averaging per joint and then
over joints equals one global mean, which is what is computed. Values are ~1e-3.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["JointsMSELoss", "joints_mse"]


def joints_mse(
    heatmaps: torch.Tensor,
    target: torch.Tensor,
    target_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """``heatmaps``/``target`` ``(N, K, H, W)``; ``target_weight`` ``(N, K)`` or ``(N, K, 1)``."""
    diff = heatmaps.float() - target.float()
    if target_weight is not None:
        diff = diff * target_weight.reshape(*target_weight.shape[:2], 1, 1).float()
    return 0.5 * diff.square().mean()


class JointsMSELoss(nn.Module):
    """Module form of :func:`joints_mse`; ``use_target_weight=False`` ignores the weights."""

    def __init__(self, use_target_weight: bool = True) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight

    def forward(self, heatmaps, target, target_weight=None):
        return joints_mse(heatmaps, target, target_weight if self.use_target_weight else None)
