"""Pose-ResNet (SimpleBaseline, Xiao et al. 2018): a ResNet trunk, three deconvolutions, a 1×1 head.

As the reference (``microsoft/human-pose-estimation.pytorch``, ``lib/models/pose_resnet.py``):
torchvision ResNet-18/34/50/101/152 without avgpool/fc, then ``deconv_channels`` ×
[ConvTranspose2d(k=4, s=2, p=1, no bias) → BN → ReLU], then a 1×1 conv to ``num_joints``
heatmaps (output stride 4). Deconv weights N(0, 0.001), BN γ=1 β=0, final conv N(0, 0.001) and
bias 0. The trunk modules are attributes of the model itself (``conv1``, ``bn1``, ``layer1``…),
so the Microsoft checkpoint keys match ours one to one (:mod:`.checkpoints`).

Backbones are built with ``weights=None``: nothing is downloaded. The adult starting model of
the book is trained on the adult synthetic set instead of ImageNet + COCO (:mod:`.train`).
``channel_order`` records whether the network expects RGB (mmpose, our own training) or BGR
(the Microsoft COCO checkpoints) input; :mod:`.dataset` follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from ..checked import CheckedConfig
from ..compat import import_torchvision
from .heatmaps import HeatmapCodec

__all__ = ["PoseResNet", "PoseResNetConfig", "build_pose_resnet"]

#: Channels of layer-4 output per depth (BasicBlock: 512; Bottleneck: 2048).
FEATURE_CHANNELS = {18: 512, 34: 512, 50: 2048, 101: 2048, 152: 2048}


@dataclass
class PoseResNetConfig(CheckedConfig):
    """What defines a Pose-ResNet. ``input_size`` is ``(width, height)`` as in the papers' yaml.

    ``codec`` is part of the model: the heatmaps it was trained to output and how they are read
    (:class:`~infantpose.pose2d.heatmaps.HeatmapCodec`), saved with its config in every
    checkpoint and read back by every evaluator (``model.codec``).
    """

    depth: int = 50
    num_joints: int = 17
    deconv_channels: tuple[int, ...] = (256, 256, 256)
    input_size: tuple[int, int] = (192, 256)
    channel_order: str = "RGB"
    codec: HeatmapCodec = field(default_factory=HeatmapCodec)

    _nested: ClassVar[dict[str, type]] = {"codec": HeatmapCodec}

    _limits: ClassVar[dict[str, str]] = {
        "num_joints": "[1, inf)", "deconv_channels": "[1, inf)", "input_size": "(0, inf)"
    }  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.depth not in FEATURE_CHANNELS:
            raise ValueError(f"depth={self.depth}: choose one of {sorted(FEATURE_CHANNELS)}")
        if self.channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order={self.channel_order!r}: 'RGB' or 'BGR'")
        if not isinstance(self.codec, HeatmapCodec):
            raise ValueError(f"codec={self.codec!r}: a HeatmapCodec or a mapping of its fields")
        stride = 4 * 2 ** (3 - len(self.deconv_channels))
        w, h = self.input_size
        if w % 32 or h % 32:
            raise ValueError(
                f"input_size={self.input_size}: width and height must be multiples of 32"
            )
        self._stride = stride

    @property
    def stride(self) -> int:
        """Input pixels per heatmap pixel (4 with three deconvolutions)."""
        return self._stride

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """``(width, height)`` of the output heatmaps."""
        return self.input_size[0] // self.stride, self.input_size[1] // self.stride

    @property
    def feature_channels(self) -> int:
        return FEATURE_CHANNELS[self.depth]


class PoseResNet(nn.Module):
    """``forward(x)`` → heatmaps ``(N, K, H/4, W/4)``; ``forward(x, return_features=True)`` →
    ``(heatmaps, layer4_features)``, the features the domain classifier of FiDIP reads."""

    def __init__(self, config: PoseResNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or PoseResNetConfig()
        tv = import_torchvision()
        trunk = getattr(tv.models, f"resnet{self.config.depth}")(weights=None)
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"):
            setattr(self, name, getattr(trunk, name))
        layers: list[nn.Module] = []
        channels = self.config.feature_channels
        for out in self.config.deconv_channels:
            layers += [
                nn.ConvTranspose2d(channels, out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
            ]
            channels = out
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(channels, self.config.num_joints, 1)
        self.init_head()

    @property
    def codec(self) -> HeatmapCodec:
        """How this model's heatmaps are made and read: its config's ``codec``."""
        return self.config.codec

    @codec.setter
    def codec(self, codec: HeatmapCodec) -> None:
        # A new config, never a change to one that a TrainConfig may share with this model.
        self.config = self.config.replace(codec=codec)

    def init_head(self) -> None:
        """The reference initialisation of the deconvolutions and the final layer."""
        for m in self.deconv_layers.modules():
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.normal_(m.weight, std=0.001)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.final_layer.weight, std=0.001)
        nn.init.zeros_(self.final_layer.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Layer-4 output, ``(N, C, H/32, W/32)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def head(self, features: torch.Tensor) -> torch.Tensor:
        return self.final_layer(self.deconv_layers(features))

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        heatmaps = self.head(f)
        return (heatmaps, f) if return_features else heatmaps


def build_pose_resnet(config: PoseResNetConfig | None = None, **overrides: Any) -> PoseResNet:
    """A fresh :class:`PoseResNet`; ``overrides`` change fields of ``config`` (or the defaults)."""
    return PoseResNet((config or PoseResNetConfig()).replace(**overrides))
