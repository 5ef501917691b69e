"""The typed configuration of a 2D pose training run (saved with every checkpoint).

Defaults of :class:`TrainConfig` are FiDIP's (Pose-ResNet code at ``e6816c1``, v1 yaml):
ResNet-50 at 288×384, batch 85, 80 epochs, Adam 1e-3 without weight decay, λ = 5e-4, 10
pre-stage epochs at batch 128, σ = 3, conv1/bn1/layer1/layer2 frozen. :func:`cpu_config` is the
small profile the book's CPU runs use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .model import PoseResNetConfig
from .transforms import AugmentConfig

__all__ = ["PAPER_FROZEN", "TrainConfig", "cpu_config"]

PAPER_FROZEN = ("conv1", "bn1", "layer1", "layer2")


@dataclass
class TrainConfig:
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
    unbiased_targets: bool = False
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    balanced_batches: bool = False
    flip_test: bool = False
    max_steps_per_epoch: int | None = None
    seed: int = 0
    device: str = "cpu"
    precision: str | None = None
    channels_last: bool = False
    num_workers: int = 0
    cache_images: bool = True
    log: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = PoseResNetConfig.from_dict(self.model)
        if isinstance(self.augment, dict):
            self.augment = AugmentConfig(**self.augment)
        self.frozen = tuple(self.frozen)
        self.classifier_hidden = tuple(self.classifier_hidden)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["model"] = self.model.to_dict()
        d["augment"] = None if self.augment is None else asdict(self.augment)
        d["frozen"] = list(self.frozen)
        d["classifier_hidden"] = list(self.classifier_hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (``model`` may be a dict of model-config changes)."""
        d = self.to_dict()
        if isinstance(changes.get("model"), dict):
            changes["model"] = {**d["model"], **changes["model"]}
        d.update(changes)
        return TrainConfig.from_dict(d)


def cpu_config(**changes: Any) -> TrainConfig:
    """The small CPU profile: ResNet-18, 96×128 input (heatmaps 24×32, σ = 2), 128-channel
    deconvolutions (the paper: 256; the last deconvolution dominates the cost at this size),
    batch 32, 8 epochs, 2 pre-stage epochs, a (512, 128) classifier. About 25–40 training
    images/s on one busy CPU core."""
    base = TrainConfig(
        model=PoseResNetConfig(depth=18, input_size=(96, 128), deconv_channels=(128, 128, 128)),
        epochs=8,
        batch_size=32,
        pre_epochs=2,
        pre_batch_size=64,
        classifier_hidden=(512, 128),
        heatmap_sigma=2.0,
    )
    return base.replace(**changes) if changes else base
