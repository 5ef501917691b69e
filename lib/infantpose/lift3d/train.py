"""Denoising score matching for the pose prior, with warm-up, clipping and an EMA used at inference.

The loss is ZeDO's ``||score * std + noise||^2 / 2`` = ``||eps_hat - noise||^2 / 2`` summed
over the 3J coordinates and averaged over the batch, with ``t ~ U(t_eps, t_max)``; Adam, linear warm-up,
gradient-norm clipping at 1. Unlike the release, the EMA weights **are** what inference uses:
a :class:`ScorePrior`'s ``network`` is the EMA copy, ``raw`` the trained weights.

Training augmentation (``rotate``): each batch, half the poses get a random left-right
mirror and a random rotation (ZeDO's ``--rotflip`` makes a rotated copy once instead). Small
infant sets need it. Checkpoints are written atomically and carry the network config, its
layout and the training config; loading one for another layout is an error that says so.

One device (``device``): the poses, labels, network and its EMA live there; the batch indices,
times and noise are drawn with a CPU generator (the same draws on every device) and moved there;
the losses are read back every 50 steps, not every step.
"""

from __future__ import annotations

import copy
import os
import pickle
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..checked import CheckedConfig
from ..env import resolve_device
from ..io import atomic_path
from ..keypoints import get_layout, mirror_poses
from ..progress import progress_bar
from .score import ControlScoreNet, ScoreConfig, ScoreNet
from .sde import SubVPSDE

__all__ = [
    "FORMAT",
    "CheckpointError",
    "PriorTrainConfig",
    "ScorePrior",
    "dsm_step",
    "load_prior",
    "random_rotations",
    "save_prior",
    "train_prior",
    "train_score_model",
]


class CheckpointError(ValueError):
    """A checkpoint that cannot be used here (another layout, another kind, damaged, unsafe)."""


#: Checkpoint format: /2 holds only tensors and plain types (/1 held a numpy array).
FORMAT = "infantpose.lift3d/2"


@dataclass
class PriorTrainConfig(CheckedConfig):
    """Denoising score matching; defaults are ZeDO's except sizes (``paper`` uses the reference).

    ``low_noise_share`` of each batch draws ``t ~ U(t_eps, low_noise_max)`` instead of the full
    range: lifting only ever asks the prior about ``t <= 0.1`` (0.05 on the fast schedule),
    while the sampling demo needs the full range, which the rest of the batch keeps.
    """

    steps: int = 3000
    batch_size: int = 256
    lr: float = 2e-4
    warmup: int = 300  # reference 5000 of many more steps
    grad_clip: float = 1.0
    ema_rate: float = 0.999  # reference 0.9999 (for ~10^4-10^5 steps)
    t_eps: float = 1e-5
    t_max: float = 1.0
    low_noise_share: float = 0.0
    low_noise_max: float = 0.1
    rotate: bool = True
    label_dropout: float = 0.1  # conditional models only: share of labels replaced by "none"
    beta_min: float = 0.1
    beta_max: float = 20.0

    _limits: ClassVar[dict[str, str]] = {
        "steps": "[0, inf)", "batch_size": "[1, inf)", "lr": "(0, inf)", "warmup": "[0, inf)",
        "grad_clip": "(0, inf)", "ema_rate": "[0, 1]", "t_eps": "(0, 1)", "t_max": "(0, 1]",
        "low_noise_share": "[0, 1]", "low_noise_max": "(0, 1]", "label_dropout": "[0, 1)",
        "beta_min": "(0, inf)", "beta_max": "(0, inf)",
    }  # fmt: skip

    @classmethod
    def paper(cls, **overrides: Any) -> PriorTrainConfig:
        """ZeDO-i's infant settings (batch 5000, warm-up 5000, EMA 0.9999)."""
        values = {"steps": 8000, "batch_size": 5000, "warmup": 5000, "ema_rate": 0.9999}
        return cls._preset("paper", values, overrides)


@dataclass
class ScorePrior:
    """A trained prior: the EMA ``network`` (used everywhere), the ``raw`` weights, configs."""

    network: nn.Module
    raw: nn.Module
    config: ScoreConfig
    train_config: PriorTrainConfig
    kind: str = "score"  # "score" or "control"
    step: int = 0
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    pose_sample: np.ndarray | None = None  # up to 1000 training poses: lifting's start poses

    @property
    def layout(self) -> str:
        return self.config.layout

    @property
    def sde(self) -> SubVPSDE:
        return SubVPSDE(self.train_config.beta_min, self.train_config.beta_max)

    def to(self, device: Any) -> ScorePrior:
        self.network.to(device)
        self.raw.to(device)
        return self

    def eps(
        self, x: torch.Tensor, t: torch.Tensor, label: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The EMA network's noise prediction in eval mode (no dropout)."""
        self.network.eval()
        return self.network(x, t, label) if label is not None else self.network(x, t)


def random_rotations(count: int, generator: torch.Generator, device: Any = None) -> torch.Tensor:
    """``count`` uniform random rotation matrices (normalised Gaussian quaternions)."""
    q = torch.randn(count, 4, generator=generator)
    q = q / q.norm(dim=1, keepdim=True)
    w, x, y, z = q.unbind(1)
    R = torch.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - z * w),
            2 * (x * z + y * w),
            2 * (x * y + z * w),
            1 - 2 * (x * x + z * z),
            2 * (y * z - x * w),
            2 * (x * z - y * w),
            2 * (y * z + x * w),
            1 - 2 * (x * x + y * y),
        ],
        dim=1,
    ).view(count, 3, 3)
    return R.to(device)


def _augment(x: torch.Tensor, layout: str, generator: torch.Generator) -> torch.Tensor:
    """Mirror (swap sides, negate x) and rotate a random half of the batch. Which half is
    drawn on the CPU, so choosing it needs no sync with ``x``'s device."""
    half = torch.rand(x.shape[0], generator=generator) < 0.5
    if not half.any():
        return x
    rows = half.nonzero().squeeze(1).to(x.device)
    chosen = x[rows]
    mirror = (torch.rand(len(rows), generator=generator) < 0.5).to(x.device)
    mirrored = mirror_poses(chosen, layout)
    chosen = torch.where(mirror[:, None, None], mirrored, chosen)
    R = random_rotations(len(rows), generator, x.device).to(x.dtype)
    x = x.clone()
    x[rows] = chosen @ R.transpose(1, 2)
    return x


def _as_poses(poses: Any, layout: str) -> torch.Tensor:
    poses = torch.as_tensor(np.asarray(poses), dtype=torch.float32)
    joints = len(get_layout(layout))
    if poses.dim() != 3 or poses.shape[1:] != (joints, 3):
        raise ValueError(
            f"training poses must be (N, {joints}, 3) root-relative {layout} joints in metres, "
            f"got {tuple(poses.shape)}"
        )
    if not torch.isfinite(poses).all():
        raise ValueError("training poses contain NaN or infinite values; drop those poses")
    return poses


def dsm_step(
    network: nn.Module,
    optimiser: torch.optim.Optimizer,
    poses: torch.Tensor,
    step: int,
    config: PriorTrainConfig,
    score_config: ScoreConfig,
    generator: torch.Generator,
    *,
    labels: torch.Tensor | None = None,
    ema: list[tuple[torch.Tensor, torch.Tensor]] = (),
) -> torch.Tensor:
    """Training step ``step`` of denoising score matching on ``poses`` (N, J, 3), on their
    device (where ``network`` and ``labels`` are): a batch, times and noise drawn with the CPU
    ``generator`` and moved there, the loss, the warm-up rate, clipping, one optimiser step of
    the optimiser's parameters and the EMA update of ``ema`` ``(average, parameter)`` pairs.
    Returns the loss, detached, on the device (no host sync)."""
    device = poses.device
    sde = SubVPSDE(config.beta_min, config.beta_max)
    params = [p for group in optimiser.param_groups for p in group["params"]]
    index = torch.randint(len(poses), (config.batch_size,), generator=generator).to(device)
    x0 = poses[index]
    if config.rotate:
        x0 = _augment(x0, score_config.layout, generator)
    t = torch.rand(config.batch_size, generator=generator).to(device)
    top = torch.full_like(t, config.t_max)
    if config.low_noise_share > 0:
        low = torch.rand(config.batch_size, generator=generator).to(device)
        top = torch.where(
            low < config.low_noise_share, min(config.low_noise_max, config.t_max), top
        )
    t = t * (top - config.t_eps) + config.t_eps
    noise = torch.randn(x0.shape, generator=generator).to(device)
    xt, _ = sde.perturb(x0, t, noise)
    if labels is not None:
        label = labels[index]
        drop = torch.rand(config.batch_size, generator=generator).to(device)
        label = torch.where(drop < config.label_dropout, score_config.num_classes, label)
        eps = network(xt, t, label)
    else:
        eps = network(xt, t)
    # score * std = -eps: ZeDO's ||score * std + z||^2 with the sign folded in.
    loss = 0.5 * ((eps - noise) ** 2).sum(dim=(1, 2)).mean()
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    for group in optimiser.param_groups:
        group["lr"] = config.lr * min(1.0, (step + 1) / max(config.warmup, 1))
    if config.grad_clip > 0:
        nn.utils.clip_grad_norm_(params, config.grad_clip)
    optimiser.step()
    with torch.no_grad():
        # Bias-corrected early on (as score_sde's num_updates form) so short runs are usable.
        rate = min(config.ema_rate, (1 + step) / (10 + step))
        for pe, p in ema:
            pe.lerp_(p, 1.0 - rate)
    return loss.detach()


def train_score_model(
    network: nn.Module,
    poses: Any,
    config: PriorTrainConfig,
    score_config: ScoreConfig,
    *,
    labels: Any = None,
    seed: int = 0,
    device: Any = "cpu",
    kind: str = "score",
    ema: nn.Module | None = None,
    start_step: int = 0,
    progress: bool = True,
) -> ScorePrior:
    """Train ``network``'s trainable parameters by DSM on ``poses`` (N, J, 3); returns the prior.

    ``labels`` (N,) class indices for conditional networks (dropped to the "none" token with
    probability ``label_dropout``). ``ema`` continues an existing average (fine-tuning).
    ``progress`` shows a bar over the steps with the running loss (:mod:`infantpose.progress`).
    """
    device = resolve_device(device)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    poses = _as_poses(poses, score_config.layout).to(device)
    label_tensor = None
    if labels is not None:
        label_tensor = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=device)
    network = network.to(device)
    ema = copy.deepcopy(network) if ema is None else ema.to(device)
    for p in ema.parameters():
        p.requires_grad_(False)
    params = [p for p in network.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(params, lr=config.lr, betas=(0.9, 0.999), eps=1e-8)
    trainable = [
        (pe, p)
        for pe, p in zip(ema.parameters(), network.parameters(), strict=True)
        if p.requires_grad
    ]
    history = []
    network.train()
    start = time.perf_counter()
    bar = progress_bar(
        total=config.steps, desc=f"train {kind} prior", unit="step", enabled=progress, leave=False
    )
    pending: list[torch.Tensor] = []  # losses not yet read back (one sync per 50 steps)
    for step in range(config.steps):
        pending.append(dsm_step(network, optimiser, poses, step, config, score_config, generator,
                                labels=label_tensor, ema=trainable))  # fmt: skip
        bar.update()
        if step % 50 == 0 or step == config.steps - 1:
            history.extend(torch.stack(pending).tolist())
            pending.clear()
        if step % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(history[-50:]):.3g}", refresh=False)
    bar.close()
    network.eval()
    ema.eval()
    return ScorePrior(
        network=ema,
        raw=network,
        config=score_config,
        train_config=config,
        kind=kind,
        step=start_step + config.steps,
        history=history,
        seconds=time.perf_counter() - start,
        pose_sample=_pose_sample(poses, seed),
    )


def _pose_sample(poses: torch.Tensor, seed: int, size: int = 1000) -> np.ndarray:
    poses = poses.detach().cpu().numpy()
    if len(poses) > size:
        poses = poses[np.random.default_rng(seed).choice(len(poses), size, replace=False)]
    return poses.astype(np.float32)


def train_prior(
    poses: Any,
    score_config: ScoreConfig | None = None,
    config: PriorTrainConfig | None = None,
    *,
    seed: int = 0,
    labels: Any = None,
    device: Any = "cpu",
    progress: bool = True,
) -> ScorePrior:
    """Train a prior from scratch on root-relative poses (N, J, 3) in ``score_config.layout``."""
    score_config = score_config or ScoreConfig()
    config = config or PriorTrainConfig()
    torch.manual_seed(seed)
    return train_score_model(
        ScoreNet(score_config),
        poses,
        config,
        score_config,
        labels=labels,
        seed=seed,
        device=device,
        progress=progress,
    )


def finetune(
    prior: ScorePrior,
    poses: Any,
    config: PriorTrainConfig | None = None,
    *,
    seed: int = 0,
    device: Any = "cpu",
    progress: bool = True,
) -> ScorePrior:
    """ZeDO-i's fine-tuning: every weight trained further on ``poses``, from the prior's EMA.

    Both the trained copy and its EMA start from the prior's EMA weights (the ones inference
    used); the prior itself is left unchanged.
    """
    if prior.kind != "score":
        raise ValueError(f"finetune takes a plain score prior, not a {prior.kind!r} one")
    config = config or PriorTrainConfig()
    network = copy.deepcopy(prior.network)
    for p in network.parameters():
        p.requires_grad_(True)
    return train_score_model(
        network,
        poses,
        config,
        prior.config,
        seed=seed,
        device=device,
        ema=copy.deepcopy(network),
        start_step=prior.step,
        progress=progress,
    )


def save_prior(prior: ScorePrior, path: str | os.PathLike) -> Path:
    """Write a checkpoint atomically: weights (EMA and raw), configs, layout, kind, step."""
    path = Path(path)
    sample = prior.pose_sample
    state = {
        "format": FORMAT,
        "kind": prior.kind,
        "layout": prior.layout,
        "score_config": prior.config.to_dict(),
        "train_config": asdict(prior.train_config),
        "step": prior.step,
        "ema": prior.network.state_dict(),
        "raw": prior.raw.state_dict(),
        # Tensors and plain types only, so that loading never needs to unpickle objects.
        "pose_sample": None if sample is None else torch.as_tensor(np.asarray(sample)),
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_prior(
    path: str | os.PathLike, *, layout: str | None = None, device: Any = "cpu"
) -> ScorePrior:
    """Read a :func:`save_prior` checkpoint; ``layout`` given and different → :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"prior checkpoint {path} does not exist; train one with train_prior"
        )
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path} is not a torch checkpoint (not a zip archive; damaged or another format); "
            "save priors with infantpose.lift3d.save_prior"
        )
    try:
        # weights_only: tensors and plain containers only; any other object is refused before
        # it is built, so a crafted file cannot run code here.
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        lines = str(error).splitlines()
        detail = next((line.strip() for line in lines if "Unsupported" in line), lines[0])
        raise CheckpointError(
            f"{path} was refused: it holds objects other than tensors and plain types, which "
            "an infantpose.lift3d checkpoint never does, and loading them could run code "
            f"({detail}). Only load priors written by infantpose.lift3d.save_prior."
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise CheckpointError(
            f"{path} is not a readable torch checkpoint ({error}); save priors with "
            "infantpose.lift3d.save_prior"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        hint = (
            "it was written by an older version (format /1); train and save it again"
            if found == "infantpose.lift3d/1"
            else "save priors with infantpose.lift3d.save_prior"
        )
        raise CheckpointError(
            f"{path} is not an {FORMAT} checkpoint (format field: {found!r}); {hint}"
        )
    missing = sorted(
        {"kind", "layout", "score_config", "train_config", "step", "ema", "raw"} - set(state)
    )
    if missing or state["kind"] not in ("score", "control"):
        raise CheckpointError(
            f"{path} is damaged: missing field(s) {missing} or unknown kind "
            f"{state.get('kind')!r} (expected 'score' or 'control'); save it again with save_prior"
        )
    if layout is not None and get_layout(layout).name != state["layout"]:
        raise CheckpointError(
            f"checkpoint {path} holds a prior for layout {state['layout']!r} "
            f"({len(get_layout(state['layout']))} joints), but {get_layout(layout).name!r} was "
            "asked for; train or load a prior of that layout"
        )
    score_config = ScoreConfig.from_dict(state["score_config"], f"{path}: score_config")
    train_config = PriorTrainConfig.from_dict(state["train_config"], f"{path}: train_config")
    if state["kind"] == "control":
        make = lambda: ControlScoreNet(ScoreNet(score_config))  # noqa: E731
    else:
        make = lambda: ScoreNet(score_config)  # noqa: E731
    sample = state.get("pose_sample")
    network, raw = make(), make()
    network.load_state_dict(state["ema"])
    raw.load_state_dict(state["raw"])
    network.eval()
    raw.eval()
    return ScorePrior(
        network=network.to(device),
        raw=raw.to(device),
        config=score_config,
        train_config=train_config,
        kind=state["kind"],
        step=int(state["step"]),
        pose_sample=None if sample is None else sample.cpu().numpy().astype(np.float32),
    )
