"""One SHIFT adaptation run: supervised source steps plus the target losses of the mode.

Per step (the released ``train()`` without its defects):

1. a source batch, in a student-style view, with Gaussian targets at its warped keypoints:
   ``L_sup`` (JointsMSE);
2. a target batch: the teacher's view → teacher heatmaps → warped back to the base frame →
   confidences, the ``mask_ratio`` mask and rectified Gaussians; the base image is occluded
   around a confident joint, then the student's view is made from it;
3. the student's target heatmaps warped back to the base frame: ``L_cons`` against the
   teacher's; their soft-argmax keypoints (base frame, so the prior sees un-augmented poses)
   give ``L_p`` (the prior's distance) and, through Kp2Seg, ``L_seg`` (BCE against F_seg's
   mask of the base image);
4. one Adam step of the student, one EMA step of the teacher.

The ``oracle`` mode trains on labelled target crops instead of the source, with no teacher
loss. The teacher is the model evaluated (as released), except for the oracle (the student).

One device (``ShiftConfig.device``): the student, the teacher, the prior, Kp2Seg and F_seg's
masks live there; the crops stay in host memory and each batch is moved there, where its
views, targets and losses are made. A step makes no host sync of its own but the occlusion's
choice of joint (:func:`~infantpose.shift.teacher.occlude`); the random draws come from a CPU
generator, so a seed gives the same batches and views on every device.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from ..env import resolve_device, seed_everything
from ..pose2d.loss import joints_mse
from ..pose2d.model import PoseResNet
from ..pose2d.runtime import autocast_context
from ..pose2d.train import freeze_modules, set_train_mode
from .config import ShiftConfig
from .data import SourceCrops, TargetImages
from .prior import PoseNDF
from .teacher import EmaTeacher, confidence_mask, consistency_loss, occlude, rectify
from .views import gaussian_heatmaps, heatmap_matrix, soft_argmax, transform_points, view, warp
from .visibility import Kp2Seg

__all__ = ["AdaptResult", "Components", "adapt", "adaptation_losses", "adaptation_step"]

log = logging.getLogger(__name__)


@dataclass
class Components:
    """The frozen helpers of the target losses: the prior, Kp2Seg and F_seg's masks of the
    adaptation images (``target_masks``, ``(N, 1, h, w)`` probabilities, one per image)."""

    prior: PoseNDF | None = None
    kp2seg: Kp2Seg | None = None
    target_masks: torch.Tensor | None = None

    def check(self, config: ShiftConfig) -> None:
        if "prior" in config.losses and self.prior is None:
            raise ValueError(f"mode {config.mode!r} needs a prior (Components.prior)")
        if "visibility" in config.losses and (self.kp2seg is None or self.target_masks is None):
            raise ValueError(f"mode {config.mode!r} needs Kp2Seg and F_seg's target masks")

    def to(self, device: str | torch.device) -> Components:
        """The helpers on ``device``: the prior and Kp2Seg are moved in place (as
        ``Module.to``), the masks copied there; returns the moved components."""
        for module in (self.prior, self.kp2seg):
            if module is not None:
                module.to(device)
        masks = self.target_masks
        return Components(self.prior, self.kp2seg, None if masks is None else masks.to(device))


@dataclass
class AdaptResult:
    history: list[dict[str, float]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    student: PoseResNet | None = None
    teacher: PoseResNet | None = None
    seconds: float = 0.0


def _to(x: torch.Tensor, device: torch.device, config: ShiftConfig) -> torch.Tensor:
    x = x.to(device)
    return x.contiguous(memory_format=torch.channels_last) if config.channels_last else x


def _supervised(
    student: PoseResNet, crops: SourceCrops, idx: torch.Tensor, config: ShiftConfig,
    generator: torch.Generator, device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """A student-style view of labelled crops and its targets on ``device``: (images, targets,
    weights). The keypoints go through the view's matrix in float64 on the CPU, as the
    matrices are drawn there."""
    x, matrix = view(crops.images[idx].to(device), config.student, generator)
    hw, hh = student.config.heatmap_size
    points = transform_points(
        crops.points[idx].double(), heatmap_matrix(matrix, student.config.stride)
    )
    inside = (
        (points[..., 0] >= 0)
        & (points[..., 0] <= hw - 1)
        & (points[..., 1] >= 0)
        & (points[..., 1] <= hh - 1)
    )
    weights = (crops.weights[idx] * inside.float()).to(device)
    points = points.float().to(device)
    targets = gaussian_heatmaps(points, (hw, hh), config.heatmap_sigma) * weights[..., None, None]
    return x, targets, weights


def adaptation_losses(
    student: PoseResNet,
    teacher: EmaTeacher | None,
    source: SourceCrops,
    target: TargetImages | None,
    components: Components,
    config: ShiftConfig,
    generator: torch.Generator,
    *,
    device: torch.device | None = None,
) -> dict[str, torch.Tensor]:
    """The losses of one step (``total`` included), on ``device`` (default: the student's);
    differentiable in the student only. ``source`` and ``target`` may stay on the CPU: each
    batch is moved to ``device``; the components must be there (:meth:`Components.to`)."""
    device = device if device is not None else next(student.parameters()).device
    b = config.batch_size
    stride = student.config.stride
    hw, _hh = student.config.heatmap_size
    s_idx = torch.randint(len(source), (b,), generator=generator)
    x_s, t_s, w_s = _supervised(student, source, s_idx, config, generator, device)
    losses: dict[str, torch.Tensor] = {}
    if not config.losses:
        with autocast_context(device, config.precision):
            y_s = student(_to(x_s, device, config))
        losses["sup"] = joints_mse(y_s, t_s, w_s)
        losses["total"] = losses["sup"]
        return losses
    assert teacher is not None and target is not None
    t_idx = torch.randint(len(target), (b,), generator=generator)
    base = target.images[t_idx].to(device)
    with torch.no_grad():
        x_tea, m_tea = view(base, config.teacher, generator)
        with autocast_context(device, config.precision):
            h_tea = teacher(_to(x_tea, device, config)).float()
        back_tea = torch.linalg.inv(heatmap_matrix(m_tea, stride))
        h_tea_base = warp(h_tea, back_tea)
        rectified, confidence = rectify(h_tea_base, config.heatmap_sigma)
        mask = confidence_mask(confidence, config.mask_ratio)
        peaks = h_tea_base.flatten(2).argmax(-1)
        points_px = torch.stack([peaks % hw, peaks // hw], -1).float() * stride
        occluded = occlude(base, points_px, confidence, rate=config.occlude_rate,
                           threshold=config.occlude_thresh, half_size=config.occlude_size,
                           generator=generator)  # fmt: skip
    x_stu, m_stu = view(occluded, config.student, generator)
    with autocast_context(device, config.precision):
        y = student(_to(torch.cat([x_s, x_stu]), device, config))
    y = y.float()
    losses["sup"] = joints_mse(y[:b], t_s, w_s)
    back_stu = torch.linalg.inv(heatmap_matrix(m_stu, stride))
    h_stu_base = warp(y[b:], back_stu)
    losses["cons"] = consistency_loss(h_stu_base, rectified, mask)
    total = losses["sup"] + config.lambda_c * losses["cons"]
    if "prior" in config.losses or "visibility" in config.losses:
        keypoints = soft_argmax(h_stu_base, config.softargmax_beta)  # heatmap grid, base frame
        if "prior" in config.losses:
            losses["prior"] = torch.nan_to_num(components.prior.pose_distance(keypoints)).mean()
            total = total + config.lambda_p * losses["prior"]
        if "visibility" in config.losses:
            logits = components.kp2seg(keypoints)
            masks = components.target_masks
            wanted = (masks[t_idx.to(masks.device)] > 0.5).float().to(device)
            losses["seg"] = F.binary_cross_entropy_with_logits(logits, wanted)
            total = total + config.lambda_s * losses["seg"]
    losses["kept"] = mask.float().mean()
    losses["total"] = total
    return losses


def adaptation_step(
    student: PoseResNet,
    teacher: EmaTeacher | None,
    optimiser: torch.optim.Optimizer,
    source: SourceCrops,
    target: TargetImages | None,
    components: Components,
    config: ShiftConfig,
    generator: torch.Generator,
    *,
    device: torch.device | None = None,
) -> dict[str, torch.Tensor]:
    """One adaptation step: the losses, one optimiser step of the student, one EMA step of the
    teacher. Returns the losses detached, on the device (reading them is the caller's sync)."""
    losses = adaptation_losses(student, teacher, source, target, components, config, generator,
                               device=device)  # fmt: skip
    optimiser.zero_grad(set_to_none=True)
    losses["total"].backward()
    optimiser.step()
    if teacher is not None:
        teacher.update(student)
    return {k: v.detach() for k, v in losses.items()}


def _freeze(module: torch.nn.Module | None) -> None:
    if module is not None:
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)


def adapt(
    model: PoseResNet,
    source: SourceCrops,
    target: TargetImages | None,
    config: ShiftConfig,
    *,
    components: Components | None = None,
    evaluate: Callable[[PoseResNet], dict[str, Any]] | None = None,
    progress: bool = False,
) -> AdaptResult:
    """Adapt a copy of ``model`` (the source-only model, unchanged) with ``config``.

    For the ``oracle`` mode ``source`` holds the *labelled target* crops. ``evaluate`` is
    called on the evaluated model ``config.evaluations`` times, evenly spaced (the last at the
    final step); its dicts are returned in ``evaluations`` with the step.
    """
    from ..progress import progress_bar

    device = resolve_device(config.device)
    components = components or Components()
    components.check(config)
    components = components.to(device)
    _freeze(components.prior)
    _freeze(components.kp2seg)
    seed_everything(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    student = PoseResNet(model.config)  # the codec comes with the config
    student.load_state_dict(model.state_dict())
    student.to(device)
    freeze_modules(student, config.frozen)
    set_train_mode(student, config.frozen)
    teacher = (
        EmaTeacher(student, config.teacher_ema, buffers=config.ema_buffers)
        if config.losses
        else None
    )
    optimiser = torch.optim.Adam([p for p in student.parameters() if p.requires_grad], lr=config.lr)
    # evenly spaced, the last at the final step
    checkpoints = {
        max(1, round(config.steps * (i + 1) / config.evaluations))
        for i in range(config.evaluations)
    }
    result = AdaptResult()
    tic = time.perf_counter()
    bar = progress_bar(
        range(1, config.steps + 1), desc=f"SHIFT {config.mode}", enabled=progress, unit="step"
    )
    for step in bar:
        losses = adaptation_step(student, teacher, optimiser, source, target, components, config,
                                 generator, device=device)  # fmt: skip
        result.history.append({"step": step, **{k: float(v.detach()) for k, v in losses.items()},
                               "seconds": time.perf_counter() - tic})  # fmt: skip
        if evaluate is not None and step in checkpoints:
            chosen = teacher.model if teacher is not None else student
            scores = evaluate(chosen)
            set_train_mode(student, config.frozen)
            result.evaluations.append({"step": step, **scores})
    result.student, result.teacher = (
        student.eval(),
        (teacher.model if teacher is not None else None),
    )
    result.seconds = time.perf_counter() - tic
    return result
