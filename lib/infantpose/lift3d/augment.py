"""Guided-diffusion augmentation: adult poses turned into infant-like ones to enlarge a small set.

ZeDO-i's generator is unreleased (``model_cond.py`` is missing); its consumers only show that
augmented poses are rescaled (SyRIP: divided by U(2.5, 3.5)). Our design, documented as ours:

1. A **conditional** score network (:class:`~.score.ScoreNet` with ``num_classes=2``: 0 adult,
   1 infant) trained by DSM on both sets with **label dropout**, so that one network also
   predicts the unconditional noise (classifier-free guidance, Ho & Salimans 2022).
2. Each adult pose is **rescaled** to infant size (the ratio of mean bone lengths, jittered by
   ``scale_jitter``): diffusion at moderate noise changes posture and proportions, not a
   2.7× size gap.
3. **SDEdit**: noise the rescaled pose to ``strength`` (a time in (0, 1]) and integrate the
   probability-flow ODE back with the guided prediction
   ``eps = eps_uncond + w (eps_infant - eps_uncond)`` (``w = 1 + guidance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..keypoints import get_layout
from .keys import CheckedConfig
from .score import ScoreConfig
from .train import ScorePrior, TrainConfig, train_prior

__all__ = [
    "ADULT",
    "INFANT",
    "AugmentConfig",
    "augment_poses",
    "mean_bone_length",
    "train_domain_model",
]

ADULT, INFANT = 0, 1


@dataclass
class AugmentConfig(CheckedConfig):
    """How adult poses become infant-like: SDEdit strength, guidance weight, ODE steps."""

    strength: float = 0.08  # diffusion time the rescaled pose is noised to (s = 0.08 m)
    guidance: float = 2.0  # eps = eps_u + (1 + guidance)(eps_c - eps_u)
    steps: int = 50
    scale_jitter: float = 0.1  # size ratio multiplied by U(1 - j, 1 + j)


def mean_bone_length(poses: Any, layout: str) -> float:
    """Mean bone length of (N, J, 3) poses in the layout's skeleton (metres)."""
    bones = get_layout(layout).bone_indices
    poses = np.asarray(poses, dtype=np.float64)
    return float(np.linalg.norm(poses[:, bones[:, 0]] - poses[:, bones[:, 1]], axis=-1).mean())


def train_domain_model(
    adult_poses: Any,
    infant_poses: Any,
    score_config: ScoreConfig,
    config: TrainConfig | None = None,
    *,
    seed: int = 0,
    device: Any = "cpu",
) -> ScorePrior:
    """A conditional prior over adult (label 0) and infant (label 1) poses with label dropout.

    The infant set is repeated to balance the two domains in every batch.
    """
    adult = np.asarray(adult_poses, dtype=np.float32)
    infant = np.asarray(infant_poses, dtype=np.float32)
    repeat = max(1, len(adult) // max(len(infant), 1))
    poses = np.concatenate([adult, np.tile(infant, (repeat, 1, 1))])
    labels = np.concatenate([np.full(len(adult), ADULT), np.full(len(infant) * repeat, INFANT)])
    cond_config = score_config.replace(num_classes=2)
    return train_prior(poses, cond_config, config, seed=seed, labels=labels, device=device)


def augment_poses(
    model: ScorePrior,
    adult_poses: Any,
    infant_poses: Any,
    config: AugmentConfig | None = None,
    *,
    seed: int = 0,
    device: Any = "cpu",
) -> np.ndarray:
    """Infant-like (N, J, 3) poses made from ``adult_poses`` (see the module docstring).

    ``infant_poses`` only sets the target size (mean bone length). Root-relative output.
    """
    from .data import root_of

    if not model.config.num_classes:
        raise ValueError("augment_poses needs a conditional model from train_domain_model")
    config = config or AugmentConfig()
    layout = model.layout
    rng = np.random.default_rng(seed)
    adult = np.asarray(adult_poses, dtype=np.float64)
    ratio = mean_bone_length(infant_poses, layout) / mean_bone_length(adult, layout)
    jitter = rng.uniform(1 - config.scale_jitter, 1 + config.scale_jitter, (len(adult), 1, 1))
    x0 = torch.as_tensor(adult * ratio * jitter, dtype=torch.float32, device=device)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(x0.shape, generator=generator).to(device)
    sde = model.sde
    t = torch.full((len(x0),), config.strength, device=device)
    xt, _ = sde.perturb(x0, t, noise)
    network = model.network.to(device).eval()
    infant = torch.full((len(x0),), INFANT, dtype=torch.long, device=device)
    none = torch.full((len(x0),), model.config.num_classes, dtype=torch.long, device=device)

    def guided(x: torch.Tensor, tt: torch.Tensor) -> torch.Tensor:
        eps_c = network(x, tt, infant)
        eps_u = network(x, tt, none)
        return eps_u + (1.0 + config.guidance) * (eps_c - eps_u)

    with torch.no_grad():
        out = sde.ode_sample(guided, xt, config.strength, 1e-3, config.steps)
        out = out - out[:, list(root_of(layout))].mean(1, keepdim=True)
    return out.double().cpu().numpy()
