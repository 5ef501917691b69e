"""The typed configuration of a 2D pose training run (saved with every checkpoint).

Defaults of :class:`TrainConfig` are FiDIP's (Pose-ResNet code at ``e6816c1``, v1 yaml):
ResNet-50 at 288×384, batch 85, 80 epochs, Adam 1e-3 without weight decay and a constant rate,
λ = 5e-4, 10 pre-stage epochs at batch 128, σ = 3, quantised targets decoded with the quarter
offset, conv1/bn1/layer1/layer2 frozen. :func:`cpu_config` is the recipe the book's CPU runs
use, chosen by pilots on validation splits (its docstring gives the reason for each choice).

Every config is a :class:`~infantpose.checked.CheckedConfig`: unknown keys are errors
(``replace(epocs=3)`` names ``epochs``), in ``replace``, ``from_dict`` and the nested model,
augmentation and codec settings, and every number is checked where it is declared. The codec
belongs to the model's config (``model.codec``); ``config.codec`` reads it, and ``codec`` in a
mapping (a checkpoint written before it moved) goes into ``model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any, ClassVar

from ..checked import CheckedConfig
from .heatmaps import HeatmapCodec
from .model import PoseResNetConfig
from .transforms import AugmentConfig

__all__ = ["PAPER_FROZEN", "SELECTION", "TrainConfig", "cpu_config", "recipe_config"]

PAPER_FROZEN = ("conv1", "bn1", "layer1", "layer2")
_OPTIMIZERS = ("adam", "adamw")
_SCHEDULES = ("constant", "cosine")
_PRECISIONS = (None, "fp32", "bf16", "fp16", "auto")
#: How :func:`~infantpose.pose2d.train.fit` picks the epoch it returns, declared before a run:
#: the highest validation AP, ties broken by the higher validation mean OKS, then the later epoch.
SELECTION = "validation AP, ties broken by validation mean OKS, then by the later epoch"


@dataclass
class TrainConfig(CheckedConfig):
    """Everything that defines a training run; defaults are FiDIP's (Pose-ResNet code, v1 yaml)."""

    model: PoseResNetConfig = field(
        default_factory=lambda: PoseResNetConfig(depth=50, input_size=(288, 384))
    )
    epochs: int = 80
    batch_size: int = 85
    lr: float = 1e-3
    classifier_lr: float = 1e-3
    weight_decay: float = 0.0
    domain_adaptation: bool = True
    grl_lambda: float = 5e-4
    pre_epochs: int = 10
    pre_batch_size: int = 128
    classifier_hidden: tuple[int, int] = (2048, 512)
    frozen: tuple[str, ...] = PAPER_FROZEN
    heatmap_sigma: float = 3.0
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    optimizer: str = "adam"
    schedule: str = "constant"
    warmup_fraction: float = 0.0
    balanced_batches: bool = False
    max_steps_per_epoch: int | None = None
    seed: int = 0
    device: str = "cpu"
    precision: str | None = None
    channels_last: bool = False
    num_workers: int = 0
    cache_images: bool = True
    log: bool = True
    #: The codec is the model's (``model.codec``, read back as ``config.codec``); given here,
    #: it goes into ``model``, as ``codec`` in a mapping does (files written before it moved).
    codec: InitVar[HeatmapCodec | Mapping | None] = None

    _limits: ClassVar[dict[str, str]] = {
        "epochs": "[0, inf)", "batch_size": "[1, inf)", "lr": "(0, inf)",
        "classifier_lr": "(0, inf)", "weight_decay": "[0, inf)", "grl_lambda": "[0, inf)",
        "pre_epochs": "[0, inf)", "pre_batch_size": "[1, inf)", "classifier_hidden": "[1, inf)",
        "heatmap_sigma": "(0, inf)", "warmup_fraction": "[0, 1)",
        "max_steps_per_epoch": "[1, inf)", "seed": "[0, inf)", "num_workers": "[0, inf)",
    }  # fmt: skip

    _nested: ClassVar[dict[str, type]] = {"model": PoseResNetConfig, "augment": AugmentConfig}
    _moved: ClassVar[dict[str, str]] = {"codec": "model"}

    def __post_init__(self, codec: HeatmapCodec | Mapping | None) -> None:
        super().__post_init__()  # names, numbers and nested mappings, before anything uses them
        if codec is not None:
            self.model = self.model.replace(codec=codec)
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"TrainConfig.optimizer={self.optimizer!r}: one of {_OPTIMIZERS}")
        if self.schedule not in _SCHEDULES:
            raise ValueError(f"TrainConfig.schedule={self.schedule!r}: one of {_SCHEDULES}")
        if self.precision not in _PRECISIONS:
            raise ValueError(f"TrainConfig.precision={self.precision!r}: one of {_PRECISIONS}")
        if str(self.device).split(":")[0] not in ("cpu", "cuda", "auto"):
            raise ValueError(
                f"TrainConfig.device={self.device!r}: 'cpu', 'cuda', 'cuda:N' or 'auto'"
            )

    @property
    def resumable_epochs(self) -> bool:
        """Whether asking for more epochs can continue a run: only with a constant rate (an
        annealed rate depends on the total length, so a longer run is a different run)."""
        return self.schedule == "constant"


def _codec(config: TrainConfig) -> HeatmapCodec:
    """The codec the model is trained with: the model's own (``config.model.codec``)."""
    return config.model.codec


# Set after the class: ``codec`` is also the init-only argument above.
TrainConfig.codec = property(_codec)  # type: ignore[assignment]


def cpu_config(**changes: Any) -> TrainConfig:
    """The CPU recipe, each choice made by pilots on held-out *validation* adults and infants
    (never the test split) on 2 cores:

    * ResNet-18 at 96×128 (heatmaps 24×32, σ = 2), 128-channel deconvolutions (the paper: 256;
      the last deconvolution dominates the cost at this size). Resolution was the largest lever:
      64×96 reached 9 held-out adult AP where 96×128 reached 16.5 in the same 20 epochs.
    * ``codec=HeatmapCodec.precise()``: unbiased targets, DARK decoding, flip test shifted by
      0.75 heatmap pixel. With perfect heatmaps at 64×96 the reference codec scores ≈ 72 AP and
      this one ≈ 98: at this size a heatmap pixel is a large error.
    * ``precision="auto"`` + channels_last: bf16 autocast where the CPU has AVX-512 BF16 or AMX
      (a training step ≈ 2× faster than fp32 there), fp32 elsewhere — on an AVX2-only CPU bf16
      is emulated and ran 7× *slower* than fp32
      (:func:`~infantpose.pose2d.runtime.resolve_precision`).
    * AdamW, peak rate 2e-3, weight decay 1e-4, 5 % linear warm-up then a cosine anneal, stepped
      per batch, batch 32: a short from-scratch run needs the anneal (validation scores rose
      only in the decay).
    * Milder augmentation for a short run: scale ±25 %, rotation σ 30° clipped at ±60° with
      probability 0.5 (kept: infants lie in every orientation), flip 0.5.
    * 2 pre-stage epochs at batch 64 and a (512, 128) domain classifier.
    """
    base = TrainConfig(
        model=PoseResNetConfig(
            depth=18,
            input_size=(96, 128),
            deconv_channels=(128, 128, 128),
            codec=HeatmapCodec.precise(),
        ),
        epochs=20,
        batch_size=32,
        lr=2e-3,
        weight_decay=1e-4,
        optimizer="adamw",
        schedule="cosine",
        warmup_fraction=0.05,
        pre_epochs=2,
        pre_batch_size=64,
        classifier_hidden=(512, 128),
        heatmap_sigma=2.0,
        augment=AugmentConfig(scale_factor=0.25, rotation_factor=30.0, rotation_prob=0.5),
        precision="auto",
        channels_last=True,
    )
    return base.replace(**changes) if changes else base


def recipe_config(name: str, **changes: Any) -> TrainConfig:
    """A named recipe with ``changes``: ``"cpu"`` (:func:`cpu_config`) or ``"paper"`` (FiDIP's
    :class:`TrainConfig` on ``device="cuda"``, with ``precision="auto"`` — bf16 on a GPU that
    supports it — and channels_last: without a GPU it stops with an error rather than train
    for days on the CPU; ``device="cpu"`` asks for that). Chapter 03 and
    ``python -m infantpose.pose2d`` build their configs here, so both train the same model."""
    if name == "cpu":
        return cpu_config(**changes)
    if name == "paper":
        return TrainConfig(device="cuda", precision="auto", channels_last=True).replace(**changes)
    raise ValueError(f"train_config={name!r}: 'cpu' or 'paper'")
