"""The typed settings of SHIFT: view augmentation, the mean teacher, the losses, the run length.

Defaults are the README commands of SHIFT's public code (diegosancarmen/SHIFT; SURREAL →
MINI-RGBD/SyRIP) and the released code's defaults where the README is silent; every field says where it comes from. Only the
sizes of a CPU run (steps, batch) and the choices the released code gets wrong (loss weights
that do nothing, a soft-argmax too sharp to pass a gradient) differ, each with its reason.
Every config rejects unknown keys (``replace(teacher_emma=…)`` names ``teacher_ema``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..checked import CheckedConfig

__all__ = ["MODES", "ShiftConfig", "ViewAugment"]

#: Which losses each mode adds to the supervised source loss (the released ``--mode``).
MODES: dict[str, tuple[str, ...]] = {
    "mean-teacher": ("consistency",),  # the released "baseline" (= UDAPE without AdaIN)
    "prior": ("consistency", "prior"),
    "visibility": ("consistency", "visibility"),
    "all": ("consistency", "prior", "visibility"),
    "oracle": (),  # supervised on labelled target images, no teacher loss
}


@dataclass(frozen=True)
class ViewAugment(CheckedConfig):
    """One view's random affine and photometric change (``--rotation_stu 60 --shear_stu -30 30
    --translate_stu 0.05 0.05 --scale_stu 0.6 1.3 --color_stu 0.25 --blur_stu 0``).

    ``rotation``: max |angle| in degrees; ``shear``: shear-x range in degrees (shear-y 0, as
    released); ``translate``: max shift as a fraction of width/height; ``scale``: range;
    ``color``: brightness = contrast = saturation jitter; ``blur``: max Gaussian σ in pixels.
    """

    rotation: float = 60.0
    shear: tuple[float, float] = (-30.0, 30.0)
    translate: tuple[float, float] = (0.05, 0.05)
    scale: tuple[float, float] = (0.6, 1.3)
    color: float = 0.25
    blur: float = 0.0

    _limits: ClassVar[dict[str, str]] = {
        "rotation": "[0, inf)", "scale": "(0, inf)", "color": "[0, inf)", "blur": "[0, inf)"
    }  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.scale[0] <= self.scale[1]:
            raise ValueError(f"ViewAugment.scale={self.scale}: 0 < low ≤ high")


@dataclass(frozen=True)
class ShiftConfig(CheckedConfig):
    """Everything that defines an adaptation run (saved with its results).

    * ``teacher_ema`` α = 0.999 (``--teacher_alpha``). The teacher's time constant is
      1/(1 − α) = 1000 steps; the paper runs 30 × 500 = 15,000 adaptation steps. A CPU run of a
      few hundred steps must lower α to keep a comparable number of time constants, or the
      teacher stays the source model: the book's profiles set it and say so.
    * ``ema_buffers``: also average BatchNorm running statistics (the released code does not:
      its teacher runs in train mode on batch statistics). Here the teacher runs in eval mode,
      so its predictions do not depend on what else is in the batch, and its statistics move
      with the weights they belong to.
    * ``mask_ratio`` 0.5: the teacher-confidence quantile below which (sample, joint) pairs
      are left out of the consistency loss.
    * ``occlude_rate`` 0.5, ``occlude_thresh`` 0.9, ``occlude_size`` 5: adaptive keypoint
      occlusion; the released half-size is 10 px at 256²; 5 px is the same share of a 128-px
      frame.
    * ``lambda_c`` 1 (constant: the released decayed weight is computed and never used, so
      none is used here). ``lambda_p`` and ``lambda_s``: the README's 1e-6 makes both terms
      ≈ 1e-7 against a consistency loss of ≈ 1e-3, i.e. nothing. Ours are set so each term is
      a tenth to a half of the consistency loss on the source model *before* adaptation
      (loss magnitudes only, no target label).
    * ``softargmax_beta``: the released 500 on unit-peak heatmaps is an argmax whose gradient
      vanishes (softmax saturates); 20 spreads the weight over ≈ 1 heatmap pixel around the
      peak, so the prior and visibility losses move the heatmaps.
    * ``lr`` 1e-4, Adam (the released defaults); ``steps`` and ``batch_size`` per profile
      (released: 500 iterations × 30 epochs at batch 32 + 32).
    * ``frozen``: student blocks kept fixed, BatchNorm statistics included (released: none;
      the CPU profiles freeze chapter 03's ``conv1``–``layer2`` to afford more steps).
    """

    mode: str = "all"
    student: ViewAugment = field(default_factory=ViewAugment)
    teacher: ViewAugment = field(default_factory=ViewAugment)
    teacher_ema: float = 0.999
    ema_buffers: bool = True
    mask_ratio: float = 0.5
    occlude_rate: float = 0.5
    occlude_thresh: float = 0.9
    occlude_size: int = 5
    heatmap_sigma: float = 2.0
    lambda_c: float = 1.0
    lambda_p: float = 1e-3
    lambda_s: float = 2e-4
    softargmax_beta: float = 20.0
    lr: float = 1e-4
    steps: int = 15000
    batch_size: int = 32
    evaluations: int = 30
    seed: int = 0
    device: str = "cpu"
    precision: str | None = "auto"
    channels_last: bool = True
    frozen: tuple[str, ...] = ()

    _nested: ClassVar[dict[str, type]] = {"student": ViewAugment, "teacher": ViewAugment}
    _limits: ClassVar[dict[str, str]] = {
        "teacher_ema": "[0, 1)", "mask_ratio": "[0, 1)", "occlude_rate": "[0, 1]",
        "occlude_thresh": "[0, 1]", "occlude_size": "[0, inf)", "heatmap_sigma": "(0, inf)",
        "lambda_c": "[0, inf)", "lambda_p": "[0, inf)", "lambda_s": "[0, inf)",
        "softargmax_beta": "(0, inf)", "lr": "(0, inf)", "steps": "[1, inf)",
        "batch_size": "[1, inf)", "evaluations": "[1, inf)", "seed": "[0, inf)",
    }  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in MODES:
            raise ValueError(f"ShiftConfig.mode={self.mode!r}: one of {tuple(MODES)}")

    @property
    def losses(self) -> tuple[str, ...]:
        return MODES[self.mode]
