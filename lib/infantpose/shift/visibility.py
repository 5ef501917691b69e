"""Visibility alignment: a person segmenter F_seg and a keypoints-to-mask generator Kp2Seg.

SHIFT aligns the mask its Kp2Seg network draws from the student's keypoints with the person
mask a segmenter finds in the target image, so that the visible body informs joints the body
hides. The released code cannot do that: its keypoints come from an argmax into a frozen
generator (no gradient reaches the student), its generator was trained on an *untrained* pose
network's keypoints with an ill-posed loss, and its segmenter (a downloaded COCO DeepLabV3)
runs in train mode. Here:

* **F_seg** is a Pose-ResNet with one output channel (a person logit per heatmap pixel),
  trained on the masks the renderer writes for the adult *source* set, its trunk starting from
  the book's adult pose model (source data only; no pretrained segmenter can be downloaded
  here), and used in eval mode on target images;
* **Kp2Seg** draws each COCO bone as a soft segment on the heatmap grid (differentiable in the
  keypoints) and a small convolutional network turns the drawing into a person logit; it is
  trained on the source set with the *true* keypoints against the rendered masks;
* the visibility loss is the binary cross-entropy between Kp2Seg(soft-argmax student
  keypoints, base frame) and F_seg's mask of the target base image: gradients reach the
  student through the soft-argmax.

Both networks train and run on one device (``device``, the profile's): the crops, keypoints
and masks stay in host memory and each batch is moved to it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..env import resolve_device
from ..keypoints import COCO17
from ..pose2d.checkpoints import load_checkpoint, save_checkpoint
from ..pose2d.model import PoseResNet, PoseResNetConfig

__all__ = [
    "Kp2Seg",
    "bce_step",
    "build_segmenter",
    "draw_limbs",
    "load_kp2seg",
    "save_kp2seg",
    "segment",
    "train_kp2seg",
    "train_segmenter",
]

_BONES = torch.as_tensor(np.asarray(COCO17.bone_indices), dtype=torch.long)


def draw_limbs(points: torch.Tensor, size: tuple[int, int], width: float = 1.0) -> torch.Tensor:
    """``(N, B, H, W)`` soft segments, one per COCO bone, of ``(N, 17, 2)`` keypoints on a grid
    of ``size = (W, H)``: ``exp(−d² / 2w²)`` with ``d`` the distance to the segment."""
    w, h = size
    like = {"dtype": points.dtype, "device": points.device}
    ys, xs = torch.meshgrid(torch.arange(h, **like), torch.arange(w, **like), indexing="ij")
    grid = torch.stack([xs, ys], -1).view(1, 1, h, w, 2)
    bones = _BONES.to(points.device)
    a = points[:, bones[:, 0]][:, :, None, None]  # (N, B, 1, 1, 2)
    b = points[:, bones[:, 1]][:, :, None, None]
    ab = b - a
    t = ((grid - a) * ab).sum(-1) / (ab.square().sum(-1) + 1e-6)
    closest = a + t.clamp(0, 1)[..., None] * ab
    d2 = (grid - closest).square().sum(-1)
    return torch.exp(-d2 / (2 * width**2))


class Kp2Seg(nn.Module):
    """Keypoints on the heatmap grid → person logits ``(N, 1, H, W)`` at ``size = (W, H)``."""

    def __init__(self, size: tuple[int, int], channels: int = 32, limb_width: float = 1.0) -> None:
        super().__init__()
        self.size = (int(size[0]), int(size[1]))
        self.limb_width = float(limb_width)
        bones = len(COCO17.bone_indices)
        self.net = nn.Sequential(
            nn.Conv2d(bones, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=2, dilation=2),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=4, dilation=4),
            nn.ReLU(),
            nn.Conv2d(channels, 1, 1),
        )

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.net(draw_limbs(points.float(), self.size, self.limb_width))


def build_segmenter(pose_model: PoseResNet) -> PoseResNet:
    """F_seg: ``pose_model``'s architecture with one output (a person logit), its trunk and
    deconvolutions copied from ``pose_model``, a fresh head."""
    config = PoseResNetConfig.from_dict({**pose_model.config.to_dict(), "num_joints": 1})
    model = PoseResNet(config)
    state = {k: v for k, v in pose_model.state_dict().items() if not k.startswith("final_layer")}
    model.load_state_dict(state, strict=False)
    return model


def _batches(n: int, batch: int, epochs: int, generator: torch.Generator):
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch + 1 if n >= batch else 1, batch):
            yield order[start : start + batch]


def bce_step(
    model: torch.nn.Module, optimiser: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """One step of F_seg or Kp2Seg: binary cross-entropy of ``model(x)``'s logits against the
    masks ``y``, one optimiser step; the loss, detached, on the device (no host sync)."""
    loss = F.binary_cross_entropy_with_logits(model(x), y)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.detach()


def _train_bce(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    masks: torch.Tensor,
    optimiser: torch.optim.Optimizer,
    epochs: int,
    batch_size: int,
    seed: int,
    *,
    flips: bool,
    device: torch.device,
) -> list[dict[str, float]]:
    """The loop F_seg and Kp2Seg share: shuffled batches moved to ``device`` (where the model
    is), binary cross-entropy of the logits against ``masks``, the image and its mask flipped
    together half the time when ``flips`` (for F_seg; keypoints do not flip this way); the
    model is left in eval mode."""
    g = torch.Generator().manual_seed(seed)
    model.train()
    history, tic = [], time.perf_counter()
    for step, idx in enumerate(_batches(len(inputs), batch_size, epochs, g)):
        x, y = inputs[idx].to(device), masks[idx].to(device)
        if flips and bool(torch.rand(1, generator=g) < 0.5):
            x, y = x.flip(-1), y.flip(-1)
        loss = bce_step(model, optimiser, x, y)
        history.append({"step": step, "loss": float(loss), "seconds": time.perf_counter() - tic})
    model.eval()
    return history


def train_segmenter(
    model: PoseResNet,
    images: torch.Tensor,
    masks: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> list[dict[str, float]]:
    """Train F_seg on base-frame ``images`` ``(N, 3, H, W)`` against ``masks`` ``(N, 1, h, w)``
    in [0, 1] on the heatmap grid (BCE, Adam, horizontal flips), on ``device`` (the model is
    moved there; the data stay where they are and go there a batch at a time)."""
    device = resolve_device(device)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    return _train_bce(model, images, masks, optimiser, epochs, batch_size, seed, flips=True,
                      device=device)  # fmt: skip


@torch.no_grad()
def segment(model: PoseResNet, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Person probabilities ``(N, 1, h, w)`` of F_seg, always in eval mode, on the model's
    device (``images`` go there a batch at a time)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat(
        [
            torch.sigmoid(model(images[i : i + batch_size].to(device)))
            for i in range(0, len(images), batch_size)
        ]
    )


def train_kp2seg(
    model: Kp2Seg,
    points: torch.Tensor,
    masks: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> list[dict[str, float]]:
    """Train Kp2Seg on true source keypoints ``(N, 17, 2)`` (heatmap grid) against the rendered
    masks ``(N, 1, h, w)`` (BCE, Adam with β₁ = 0.5 as released), on ``device``."""
    device = resolve_device(device)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.5, 0.999))
    return _train_bce(model, points, masks, optimiser, epochs, batch_size, seed, flips=False,
                      device=device)  # fmt: skip


def save_kp2seg(path: str | os.PathLike, model: Kp2Seg) -> Path:
    return save_checkpoint(path, {"kind": "shift-kp2seg", "size": list(model.size),
                                  "channels": model.net[0].out_channels, "limb_width": model.limb_width,
                                  "layout": COCO17.name, "model": model.state_dict()})  # fmt: skip


def load_kp2seg(path: str | os.PathLike, size: tuple[int, int]) -> Kp2Seg:
    """A Kp2Seg saved by :func:`save_kp2seg` for masks of ``size = (W, H)``; another size or
    layout is an error naming the file and the fix."""
    payload: dict[str, Any] = load_checkpoint(path)
    if payload.get("kind") != "shift-kp2seg":
        raise ValueError(f"{path}: not a Kp2Seg checkpoint (no kind='shift-kp2seg')")
    saved = tuple(int(v) for v in payload["size"])
    if saved != tuple(size) or payload.get("layout") != COCO17.name:
        raise ValueError(
            f"{path}: a Kp2Seg for {payload.get('layout')!r} keypoints and {saved[0]}×{saved[1]} "
            f"masks; this pose network's heatmaps are {size[0]}×{size[1]} ({COCO17.name}). Delete "
            "the file so the chapter trains a Kp2Seg for this input size, or set input_size back"
        )
    model = Kp2Seg(saved, payload["channels"], payload["limb_width"])
    model.load_state_dict(payload["model"])
    model.eval()
    return model
