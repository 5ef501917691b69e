"""A learned 2D-to-3D lifter (Martinez et al. 2017 style), trained on the same small infant data.

Input: 2D keypoints in normalised camera coordinates (``K^-1 [u, v, 1]``, so any intrinsics
work), centred on the 2D root and divided by their RMS spread (the depth is unobservable);
missing joints are zeros with a visibility flag. Output: the root-relative 3D pose in metres.
Network: Linear → [Linear-BN-ReLU-Dropout ×2 + skip] × blocks → Linear (Martinez: width 1024,
2 blocks, dropout 0.5). Trained with Adam on L2 to the 3D joints; random 2D joint dropout
teaches it to cope with missing joints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..keypoints import get_layout
from .data import root_of
from .keys import CheckedConfig
from .lift import check_intrinsics, check_keypoints

__all__ = ["LifterConfig", "MlpLifter", "normalise_2d", "train_lifter"]


@dataclass
class LifterConfig(CheckedConfig):
    """Size and training of :class:`MlpLifter`."""

    width: int = 256  # Martinez: 1024
    blocks: int = 2
    dropout: float = 0.25  # Martinez: 0.5
    steps: int = 2000
    batch_size: int = 256
    lr: float = 1e-3
    joint_dropout: float = 0.05


def normalise_2d(keypoints_2d: Any, intrinsics: Any, layout: str) -> np.ndarray:
    """(B, 3J) network input: root-centred, spread-normalised camera coordinates + visibility."""
    joints = len(get_layout(layout))
    uv, visible = check_keypoints(keypoints_2d, joints, layout)
    K = check_intrinsics(intrinsics, len(uv))
    homogeneous = np.concatenate([uv, np.ones_like(uv[..., :1])], -1)
    xy = np.einsum("bij,bkj->bki", np.linalg.inv(K), homogeneous)[..., :2]
    w = visible[..., None].astype(np.float64)
    root = list(root_of(layout))
    root_seen = visible[:, root].all(1, keepdims=True)[..., None]
    centroid = (xy * w).sum(1, keepdims=True) / np.maximum(w.sum(1, keepdims=True), 1)
    origin = np.where(root_seen, xy[:, root].mean(1, keepdims=True), centroid)
    centred = (xy - origin) * w
    spread = np.sqrt((centred**2).sum((1, 2)) / np.maximum(w.sum((1, 2)), 1))
    centred = centred / np.maximum(spread, 1e-9)[:, None, None]
    return np.concatenate([centred, w], -1).reshape(len(uv), -1).astype(np.float32)


class _Block(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(
            *[
                m
                for _ in range(2)
                for m in (
                    nn.Linear(width, width),
                    nn.BatchNorm1d(width),
                    nn.ReLU(),
                    nn.Dropout(dropout),
                )
            ]
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.net(h)


@dataclass
class MlpLifter:
    """A trained lifter; :meth:`predict` maps 2D keypoints + intrinsics to root-relative poses."""

    network: nn.Module
    layout: str
    config: LifterConfig
    seconds: float = 0.0
    history: list[float] = field(default_factory=list)

    def predict(self, keypoints_2d: Any, intrinsics: Any, device: Any = "cpu") -> np.ndarray:
        inputs = torch.as_tensor(normalise_2d(keypoints_2d, intrinsics, self.layout), device=device)
        self.network.to(device).eval()
        with torch.no_grad():
            out = self.network(inputs).view(len(inputs), -1, 3)
        out = out - out[:, list(root_of(self.layout))].mean(1, keepdim=True)
        return out.double().cpu().numpy()


def train_lifter(
    keypoints_2d: Any,
    intrinsics: Any,
    poses_3d: Any,
    layout: str,
    config: LifterConfig | None = None,
    *,
    seed: int = 0,
    device: Any = "cpu",
) -> MlpLifter:
    """Train an :class:`MlpLifter` on 2D-3D pairs (N, J, 2), (N|1, 3, 3), (N, J, 3) metres."""
    config = config or LifterConfig()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    joints = len(get_layout(layout))
    inputs = torch.as_tensor(normalise_2d(keypoints_2d, intrinsics, layout), device=device)
    targets = torch.as_tensor(np.asarray(poses_3d, dtype=np.float32), device=device).view(
        len(inputs), -1
    )
    network = nn.Sequential(
        nn.Linear(3 * joints, config.width),
        nn.BatchNorm1d(config.width),
        nn.ReLU(),
        *[_Block(config.width, config.dropout) for _ in range(config.blocks)],
        nn.Linear(config.width, 3 * joints),
    ).to(device)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.steps)
    history = []
    start = time.perf_counter()
    network.train()
    for _ in range(config.steps):
        index = torch.randint(len(inputs), (config.batch_size,), generator=generator).to(device)
        x = inputs[index].view(config.batch_size, joints, 3)
        drop = (
            torch.rand(config.batch_size, joints, 1, generator=generator) < config.joint_dropout
        ).to(device)
        x = torch.where(drop, torch.zeros_like(x), x).view(config.batch_size, -1)
        loss = (
            ((network(x) - targets[index]) ** 2).view(config.batch_size, joints, 3).sum(-1).mean()
        )
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        history.append(float(loss.detach()))
    network.eval()
    return MlpLifter(network, layout, config, time.perf_counter() - start, history)
