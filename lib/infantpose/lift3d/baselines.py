"""A learned 2D-to-3D lifter (Martinez et al. 2017 style), trained on the same small infant data.

2D-3D pairs are free to make from 3D poses, and :func:`fit_lifter` makes new ones every batch
(:func:`random_views`): a share of the poses is mirrored and rotated at random (as the prior's
training augmentation), each pose is placed along a random camera ray at a depth and with
intrinsics drawn from the pose set's own cameras, and projected. So the lifter sees as many
views as the prior does; pre-trained on adult poses and fine-tuned on the infants (``start=``)
it gets the same data as the adapted priors.

Input: 2D keypoints in normalised camera coordinates (``K^-1 [u, v, 1]``, so any intrinsics
work), centred on the 2D root and divided by their RMS spread (the depth is unobservable);
missing joints are zeros with a visibility flag. Output: the root-relative 3D pose in metres.
Network: Linear → [Linear-BN-ReLU-Dropout ×2 + skip] × blocks → Linear (Martinez: width 1024,
2 blocks, dropout 0.5). Trained with Adam on L2 to the 3D joints; random 2D joint dropout
teaches it to cope with missing joints.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..camera import project_with_intrinsics
from ..checked import CheckedConfig
from ..keypoints import get_layout, mirror_poses
from .data import PoseSet3D, root_of
from .lift import check_intrinsics, check_keypoints

__all__ = [
    "LifterConfig",
    "MlpLifter",
    "fit_lifter",
    "normalize_2d",
    "random_views",
    "train_lifter",
]


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
    view_share: float = 1.0  # fit_lifter: share of each batch seen from a new random view
    rotate_share: float = 0.5  # of those: share also mirrored/rotated at random (the prior's)

    _limits: ClassVar[dict[str, str]] = {
        "width": "[1, inf)", "blocks": "[1, inf)", "dropout": "[0, 1)", "steps": "[0, inf)",
        "batch_size": "[1, inf)", "lr": "(0, inf)", "joint_dropout": "[0, 1)",
        "view_share": "[0, 1]", "rotate_share": "[0, 1]",
    }  # fmt: skip


def normalize_2d(keypoints_2d: Any, intrinsics: Any, layout: str) -> np.ndarray:
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
    centered = (xy - origin) * w
    spread = np.sqrt((centered**2).sum((1, 2)) / np.maximum(w.sum((1, 2)), 1))
    centered = centered / np.maximum(spread, 1e-9)[:, None, None]
    return np.concatenate([centered, w], -1).reshape(len(uv), -1).astype(np.float32)


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
        inputs = torch.as_tensor(normalize_2d(keypoints_2d, intrinsics, self.layout), device=device)
        self.network.to(device).eval()
        with torch.no_grad():
            out = self.network(inputs).view(len(inputs), -1, 3)
        out = out - out[:, list(root_of(self.layout))].mean(1, keepdim=True)
        return out.double().cpu().numpy()


def random_views(
    poses_3d: np.ndarray,
    cameras: PoseSet3D,
    rng: np.random.Generator,
    rotate_share: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New 2D views of root-relative poses (B, J, 3): ``(keypoints_2d, intrinsics, poses_3d)``.

    A share ``rotate_share`` is mirrored (half of it) and rotated uniformly at random; every
    pose gets the intrinsics and root depth (times U(0.8, 1.25)) of a random pose of
    ``cameras`` and a root ray through a uniform point of the image's central 60 %.
    """
    from scipy.spatial.transform import Rotation

    poses = np.array(poses_3d, dtype=np.float64)
    count, layout = len(poses), get_layout(cameras.layout)
    turn = rng.random(count) < rotate_share
    if turn.any():
        chosen = poses[turn]
        mirror = rng.random(len(chosen)) < 0.5
        chosen[mirror] = mirror_poses(chosen[mirror], layout)
        R = Rotation.random(len(chosen), random_state=rng).as_matrix()
        poses[turn] = np.einsum("bij,bkj->bki", R, chosen)
    pick = rng.integers(len(cameras), size=count)
    K = cameras.intrinsics[pick]
    depth = cameras.root[pick, 2] * rng.uniform(0.8, 1.25, count)
    width, height = cameras.image_size
    pixel = np.stack(
        [
            rng.uniform(0.2 * width, 0.8 * width, count),
            rng.uniform(0.2 * height, 0.8 * height, count),
            np.ones(count),
        ],
        1,
    )
    ray = np.einsum("bij,bj->bi", np.linalg.inv(K), pixel)
    points = poses + (ray * depth[:, None])[:, None]
    points[..., 2] = np.maximum(points[..., 2], 0.05)  # a joint never behind the camera
    return project_with_intrinsics(points, K), K, poses


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
    """Train an :class:`MlpLifter` on the given 2D-3D pairs (N, J, 2), (N|1, 3, 3), (N, J, 3) m."""
    config = config or LifterConfig()
    inputs = normalize_2d(keypoints_2d, intrinsics, layout)
    targets = np.asarray(poses_3d, dtype=np.float32).reshape(len(inputs), -1)

    def batch(index: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return inputs[index], targets[index]

    return _train(batch, len(inputs), layout, config, seed, device, None)


def fit_lifter(
    poses: PoseSet3D,
    config: LifterConfig | None = None,
    *,
    seed: int = 0,
    device: Any = "cpu",
    start: MlpLifter | None = None,
) -> MlpLifter:
    """Train on ``poses`` seen from new random views every batch (:func:`random_views`).

    A share ``1 - view_share`` of each batch keeps the set's own 2D keypoints. ``start``: a
    trained lifter to fine-tune (e.g. pre-trained on adults); it is left unchanged.
    """
    config = config or LifterConfig()
    own = normalize_2d(poses.keypoints_2d, poses.intrinsics, poses.layout)
    targets = np.asarray(poses.poses_3d, dtype=np.float32)

    def batch(index: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        inputs, out = own[index].copy(), targets[index].copy()
        new = rng.random(len(index)) < config.view_share
        if new.any():
            kp, K, rotated = random_views(targets[index[new]], poses, rng, config.rotate_share)
            inputs[new] = normalize_2d(kp, K, poses.layout)
            out[new] = rotated
        return inputs, out.reshape(len(index), -1)

    return _train(batch, len(poses), poses.layout, config, seed, device, start)


def _train(
    batch: Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]],
    count: int,
    layout: str,
    config: LifterConfig,
    seed: int,
    device: Any,
    start: MlpLifter | None,
) -> MlpLifter:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    joints = len(get_layout(layout))
    if start is not None:
        if get_layout(start.layout).name != get_layout(layout).name:
            raise ValueError(f"cannot fine-tune a {start.layout} lifter on {layout} poses")
        network = copy.deepcopy(start.network).to(device)
    else:
        network = nn.Sequential(
            nn.Linear(3 * joints, config.width),
            nn.BatchNorm1d(config.width),
            nn.ReLU(),
            *[_Block(config.width, config.dropout) for _ in range(config.blocks)],
            nn.Linear(config.width, 3 * joints),
        ).to(device)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(config.steps, 1))
    history = []
    begin = time.perf_counter()
    network.train()
    chunk = 32  # batches made at once: the numpy view synthesis costs little per pose
    for step in range(config.steps):
        if step % chunk == 0:
            size = min(chunk, config.steps - step) * config.batch_size
            all_inputs, all_targets = batch(rng.integers(count, size=size), rng)
        part = slice((step % chunk) * config.batch_size, (step % chunk + 1) * config.batch_size)
        inputs, targets = all_inputs[part], all_targets[part]
        x = torch.as_tensor(inputs, device=device).view(config.batch_size, joints, 3)
        y = torch.as_tensor(targets, dtype=torch.float32, device=device)
        drop = torch.as_tensor(rng.random((config.batch_size, joints, 1)) < config.joint_dropout)
        x = torch.where(drop.to(device), torch.zeros_like(x), x).view(config.batch_size, -1)
        loss = ((network(x) - y) ** 2).view(config.batch_size, joints, 3).sum(-1).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        history.append(float(loss.detach()))
    network.eval()
    return MlpLifter(network, layout, config, time.perf_counter() - begin, history)
