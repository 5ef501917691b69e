"""The infant pose prior: a 2D Pose-NDF, a distance field over the directions of 13 bones.

As the released ``prior/`` (Tiwari et al.'s Pose-NDF in 2D): each pose becomes 13 unit bone
vectors along SHIFT's kinematic tree; a per-bone encoder runs down the tree (each bone sees its
vector and its parent's feature); a weight-normalised MLP maps the 78-d code to a distance,
non-negative at the output (softplus where the released code has a ReLU). Training data: clean poses (distance 0) and von Mises-perturbed
copies (κ ∈ {1, 2, 4, 8, 16}) labelled with their distance to the clean set: the mean of the 5
smallest mean-over-bones distances among 500 nearest candidates (:func:`nearest_distances`:
an exact brute-force search with ``torch.cdist`` in chunks of queries, on the profile's device;
the released code needs FAISS on a GPU). Three stages: far poses only, then near and far, then
clean, near and far. The network trains on one device (``device``): its data sets are moved
there once.

The prior uses **infant pose labels**: SHIFT is free of target *image* labels, not of infant
pose labels. Which poses trained a prior is saved in its checkpoint.

On COCO-17 there is no neck or head joint: the neck is the shoulders' midpoint and the head
is the nose (the SyRIP mapping of the released code fills head, neck and thorax with the nose).
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from ..checked import CheckedConfig
from ..env import resolve_device
from ..keypoints import COCO17
from ..pose2d.checkpoints import load_checkpoint, save_checkpoint

__all__ = [
    "BONE_PARENTS",
    "PoseNDF",
    "PriorConfig",
    "PriorData",
    "bone_vectors",
    "load_prior",
    "make_prior_data",
    "nearest_distances",
    "prior_step",
    "save_prior",
    "train_prior",
]

log = logging.getLogger(__name__)

#: Parent of each of the 13 bones (the released ``[-1,0,0,0,0,1,5,2,7,3,9,4,11]``).
BONE_PARENTS = (-1, 0, 0, 0, 0, 1, 5, 2, 7, 3, 9, 4, 11)
_NECK = "neck"  # the shoulders' midpoint on COCO-17
#: (child, parent) joints of each bone, vector = child − parent (the released order).
BONES = (
    ("nose", _NECK),
    (_NECK, "left_hip"),
    (_NECK, "right_hip"),
    (_NECK, "left_shoulder"),
    (_NECK, "right_shoulder"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
)
#: The COCO-17 joints a pose needs for the prior.
PRIOR_JOINTS = tuple(sorted({j for bone in BONES for j in bone if j != _NECK}
                            | {"left_shoulder", "right_shoulder"}, key=COCO17.joints.index))  # fmt: skip
LAYOUT = COCO17.name


def _point(points: torch.Tensor, name: str) -> torch.Tensor:
    if name == _NECK:
        i, j = COCO17.joints.index("left_shoulder"), COCO17.joints.index("right_shoulder")
        return 0.5 * (points[..., i, :] + points[..., j, :])
    return points[..., COCO17.joints.index(name), :]


def bone_vectors(points: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``(..., 17, 2)`` COCO-17 keypoints → ``(..., 13, 2)`` unit bone vectors (differentiable)."""
    if points.shape[-2] != len(COCO17.joints):
        raise ValueError(f"bone_vectors: {points.shape[-2]} joints; the prior is for COCO-17")
    v = torch.stack([_point(points, a) - _point(points, b) for a, b in BONES], -2)
    return v / v.norm(dim=-1, keepdim=True).clamp_min(eps)


@dataclass(frozen=True)
class PriorConfig(CheckedConfig):
    """The prior network and its training. Released: hidden 512 × 5 layers, Adam 3e-4, batch
    1024, 75/100/200 epochs of 1000 iterations (875k steps). CPU profiles shrink the steps."""

    hidden: int = 512
    layers: int = 5
    lr: float = 3e-4
    batch_size: int = 1024
    stage_steps: tuple[int, int, int] = (75_000, 100_000, 200_000)
    kappas: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    candidates: int = 500
    k_distance: int = 5
    far: float = 0.5
    near: float = 0.3
    rotations: int = 8
    seed: int = 0

    _limits: ClassVar[dict[str, str]] = {
        "hidden": "[1, inf)", "layers": "[1, inf)", "lr": "(0, inf)", "batch_size": "[1, inf)",
        "stage_steps": "[0, inf)", "kappas": "(0, inf)", "candidates": "[1, inf)",
        "k_distance": "[1, inf)", "far": "[0, inf)", "near": "[0, inf)", "rotations": "[0, inf)",
        "seed": "[0, inf)",
    }  # fmt: skip


class _StructureEncoder(nn.Module):
    def __init__(self, feature: int = 6) -> None:
        super().__init__()
        self.feature = feature
        self.nets = nn.ModuleList(
            nn.Sequential(
                nn.Linear(2 + (0 if parent < 0 else feature), 2 + feature),
                nn.ReLU(),
                nn.Linear(2 + feature, feature),
                nn.ReLU(),
            )
            for parent in BONE_PARENTS
        )

    def forward(self, bones: torch.Tensor) -> torch.Tensor:
        features: list[torch.Tensor] = []
        for i, (net, parent) in enumerate(zip(self.nets, BONE_PARENTS, strict=True)):
            x = (
                bones[..., i, :]
                if parent < 0
                else torch.cat([bones[..., i, :], features[parent]], -1)
            )
            features.append(net(x))
        return torch.cat(features, -1)


class PoseNDF(nn.Module):
    """``forward(bones (N, 13, 2)) → (N,)`` non-negative distances to the pose manifold."""

    def __init__(self, config: PriorConfig | None = None) -> None:
        super().__init__()
        self.config = config or PriorConfig()
        self.encoder = _StructureEncoder()
        width = self.config.hidden
        layers: list[nn.Module] = []
        inputs = 6 * len(BONE_PARENTS)
        for _ in range(self.config.layers):
            layers += [weight_norm(nn.Linear(inputs, width)), nn.ReLU()]
            inputs = width
        # Softplus, not the released ReLU: still a non-negative distance, but its gradient does
        # not die where the network undershoots (a dead ReLU gives the student no signal).
        layers += [weight_norm(nn.Linear(inputs, 1)), nn.Softplus()]
        self.distance = nn.Sequential(*layers)

    def forward(self, bones: torch.Tensor) -> torch.Tensor:
        return self.distance(self.encoder(bones)).squeeze(-1)

    def pose_distance(self, points: torch.Tensor) -> torch.Tensor:
        """Distances of COCO-17 keypoint sets ``(N, 17, 2)`` (any frame: directions only)."""
        return self(bone_vectors(points))


@dataclass
class PriorData:
    """Clean poses (distance 0) and perturbed ones split by label: ``far`` ≥ 0.5, ``near`` in
    (0.3, 0.5); perturbed poses at ≤ 0.3 are dropped (the released ``prepare_data.py``)."""

    clean: np.ndarray
    near: np.ndarray
    near_distance: np.ndarray
    far: np.ndarray
    far_distance: np.ndarray
    source: str


def _augment_clean(bones: np.ndarray, rotations: int, rng: np.random.Generator) -> np.ndarray:
    # Infants lie in every orientation, so a pose turned in the image plane or mirrored is as
    # plausible as the original; rotation number 0 keeps the pose itself.
    out = [bones]
    mirror = bones.copy()
    mirror[..., 0] *= -1
    swap = [0, 2, 1, 4, 3, 7, 8, 5, 6, 11, 12, 9, 10]  # left ↔ right bones
    out.append(mirror[:, swap])
    for _ in range(rotations):
        for source in (bones, mirror[:, swap]):
            a = rng.uniform(-np.pi, np.pi, size=(len(source), 1))
            c, s = np.cos(a), np.sin(a)
            x, y = source[..., 0], source[..., 1]
            out.append(np.stack([c * x - s * y, s * x + c * y], -1))
    return np.concatenate(out).astype(np.float32)


def _ordered_mean(values: torch.Tensor) -> torch.Tensor:
    """The mean over the last axis (at most 128 long) summed in the order NumPy sums float32
    (eight pairwise accumulators, then the rest in turn), so that the labels are bit for bit
    those of the NumPy code this replaced, on every device (the book's numbers stay put)."""
    n = values.shape[-1]
    if n < 8:
        total = values[..., 0]
        for i in range(1, n):
            total = total + values[..., i]
    else:
        r = [values[..., i] for i in range(8)]
        for start in range(8, n - n % 8, 8):
            r = [r[i] + values[..., start + i] for i in range(8)]
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(n - n % 8, n):
            total = total + values[..., i]
    return total / n


def nearest_distances(
    queries: np.ndarray,
    clean: np.ndarray,
    *,
    candidates: int,
    k_distance: int,
    device: str | torch.device = "cpu",
    memory_mb: float = 256.0,
) -> np.ndarray:
    """Each query's distance to the clean set, exactly as the released ``prepare_data.py``
    defines it: among the ``candidates`` clean poses nearest in the flattened bone vectors
    (Euclidean), the mean of the ``k_distance`` smallest mean-over-bones distances.
    ``queries`` ``(Q, 13, 2)``, ``clean`` ``(N, 13, 2)`` float32 → ``(Q,)`` float32.

    Exact brute force on ``device``: ``torch.cdist`` in float64 over chunks of queries sized
    so that a chunk's distance matrix and candidates take about ``memory_mb``; memory grows
    with the clean set, not with the queries (scikit-learn's search and the candidate array
    took 7.7 GB at 45k queries). The per-bone lengths and means follow NumPy's rounding, so the
    result equals the scikit-learn + NumPy computation it replaced bit for bit."""
    device = resolve_device(device)
    q_all = torch.as_tensor(np.ascontiguousarray(queries, dtype=np.float32))
    pool = torch.as_tensor(np.ascontiguousarray(clean, dtype=np.float32)).to(device)
    k = min(candidates, len(pool))
    flat_pool = pool.reshape(len(pool), -1).double()
    per_query = 8 * len(pool) + 4 * k * pool[0].numel() * 3  # distances + gathered candidates
    chunk = max(1, int(memory_mb * 2**20 // per_query))
    out = []
    for start in range(0, len(q_all), chunk):
        q = q_all[start : start + chunk].to(device)
        flat = torch.cdist(q.reshape(len(q), -1).double(), flat_pool)  # (chunk, N)
        nearest = flat.topk(k, dim=1, largest=False).indices  # (chunk, k)
        diff = q[:, None] - pool[nearest]  # (chunk, k, 13, 2)
        squares = diff * diff
        # sqrt in float64, then rounded: float32's correctly rounded root, as NumPy's
        bone = (squares[..., 0] + squares[..., 1]).double().sqrt().float()
        exact = _ordered_mean(bone)  # (chunk, k): mean over the 13 bones
        smallest = exact.topk(min(k_distance, k), dim=1, largest=False).values
        out.append(_ordered_mean(smallest).cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def make_prior_data(
    keypoints: np.ndarray,
    config: PriorConfig,
    *,
    source: str = "(keypoints)",
    device: str | torch.device = "cpu",
) -> PriorData:
    """Clean and perturbed poses from ``(N, 17, 3)`` COCO-17 keypoints (``x, y, v``); poses
    missing a joint of :data:`PRIOR_JOINTS` are left out. The perturbed poses' distances are
    searched on ``device`` (:func:`nearest_distances`)."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (17, 3):
        raise ValueError(
            f"{source}: prior poses must be (N, 17, 3) COCO-17 keypoints, got {keypoints.shape}"
        )
    needed = [COCO17.joints.index(j) for j in PRIOR_JOINTS]
    complete = (keypoints[:, needed, 2] > 0).all(1)
    if complete.sum() < 2:
        raise ValueError(
            f"{source}: {int(complete.sum())} poses with all of {', '.join(PRIOR_JOINTS)} labelled; "
            "the prior needs at least 2 (label the joints, or give more images to the prior split)"
        )
    rng = np.random.default_rng([config.seed, 77])
    bones = bone_vectors(torch.from_numpy(keypoints[complete, :, :2])).numpy()
    clean = _augment_clean(bones, config.rotations, rng)
    noisy = []
    for kappa in config.kappas:
        angle = rng.vonmises(0.0, kappa, size=clean.shape[:2])
        c, s = np.cos(angle), np.sin(angle)
        x, y = clean[..., 0], clean[..., 1]
        noisy.append(np.stack([c * x - s * y, s * x + c * y], -1))
    noisy = np.concatenate(noisy).astype(np.float32)
    distance = nearest_distances(noisy, clean, candidates=config.candidates,
                                 k_distance=config.k_distance, device=device)  # fmt: skip
    far, near = distance >= config.far, (distance > config.near) & (distance < config.far)
    return PriorData(clean, noisy[near], distance[near].astype(np.float32), noisy[far],
                     distance[far].astype(np.float32), source)  # fmt: skip


def prior_step(
    model: PoseNDF, optimiser: torch.optim.Optimizer, bones: torch.Tensor, distance: torch.Tensor
) -> torch.Tensor:
    """One step of the prior: MSE between its distances of ``bones`` ``(B, 13, 2)`` and the
    labels ``distance`` ``(B,)``, one optimiser step; the loss, detached, on the device."""
    loss = torch.nn.functional.mse_loss(model(bones), distance)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.detach()


def train_prior(
    data: PriorData,
    config: PriorConfig,
    *,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> tuple[PoseNDF, list[dict[str, float]]]:
    """The three-stage curriculum: (1) far poses, (2) near then far, (3) clean (target 0),
    near, far; one optimiser step per set per iteration, MSE on the distance. On ``device``:
    the network and the three sets go there once; the batches are drawn with a CPU generator
    (the same on every device) and the losses read once per stage (no per-step host sync)."""
    from ..progress import progress_bar

    device = resolve_device(device)
    torch.manual_seed(config.seed)
    model = PoseNDF(config).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    g = torch.Generator().manual_seed(config.seed)
    sets = {
        name: (x.to(device), y.to(device))
        for name, (x, y) in {
            "clean": (torch.from_numpy(data.clean), torch.zeros(len(data.clean))),
            "near": (torch.from_numpy(data.near), torch.from_numpy(data.near_distance)),
            "far": (torch.from_numpy(data.far), torch.from_numpy(data.far_distance)),
        }.items()
    }
    stages = (("far",), ("near", "far"), ("clean", "near", "far"))
    history = []
    for stage, (names, steps) in enumerate(zip(stages, config.stage_steps, strict=True), 1):
        names = tuple(n for n in names if len(sets[n][0]))
        tic, recent = time.perf_counter(), deque(maxlen=50)
        for _ in progress_bar(range(steps), desc=f"prior stage {stage}", enabled=progress):
            for name in names:
                x, y = sets[name]
                idx = torch.randint(len(x), (min(config.batch_size, len(x)),), generator=g)
                idx = idx.to(device)
                recent.append(prior_step(model, optimiser, x[idx], y[idx]))
        loss = float(np.mean([float(v) for v in recent])) if recent else float("nan")
        seconds = time.perf_counter() - tic
        history.append({"stage": stage, "steps": steps, "sets": ",".join(names),
                        "loss": loss, "seconds": seconds,
                        "poses_per_s": steps * len(names) * config.batch_size / max(seconds, 1e-9)})  # fmt: skip
    model.eval()
    return model, history


def save_prior(path: str | os.PathLike, model: PoseNDF, *, trained_on: str) -> Path:
    return save_checkpoint(path, {"kind": "shift-prior", "layout": LAYOUT, "bones": [list(b) for b in BONES],
                                  "config": model.config.to_dict(), "trained_on": trained_on,
                                  "model": model.state_dict()})  # fmt: skip


def load_prior(path: str | os.PathLike) -> tuple[PoseNDF, str]:
    """A prior saved by :func:`save_prior`, and what it was trained on. A checkpoint of another
    joint layout or bone list is an error naming the file."""
    payload = load_checkpoint(path)
    if payload.get("kind") != "shift-prior":
        raise ValueError(f"{path}: not a SHIFT prior checkpoint (no kind='shift-prior'); "
                         "make one with infantpose.shift.train_prior and save_prior")  # fmt: skip
    bones = [list(b) for b in BONES]
    if payload.get("layout") != LAYOUT or payload.get("bones") != bones:
        raise ValueError(
            f"{path}: a prior for joint layout {payload.get('layout')!r} with bones "
            f"{payload.get('bones')}; this book's pose networks predict {LAYOUT!r} and the prior "
            f"reads the bones {bones}. Retrain it on {LAYOUT} poses (delete the file; the chapter "
            "makes it again) or convert the poses with infantpose.keypoints first"
        )
    model = PoseNDF(PriorConfig.from_dict(payload["config"], f"{path}: config"))
    model.load_state_dict(payload["model"])
    model.eval()
    return model, str(payload.get("trained_on", ""))
