"""ZeDO's score network: a residual MLP that predicts the noise of a flattened 3D pose.

As ``ScoreModelFC_Adv`` (GFPose-derived): sinusoidal embedding of ``t * 999`` →
Linear + SiLU; input layer ``Linear(3J, H)(x) + Linear(E, H)(temb)`` → GroupNorm → SiLU →
Dropout; ``blocks`` residual blocks of two such layers; ``Linear(H, 3J)``. The reference is
H = 1024, E = 512, 2 blocks, dropout 0.25 (about 7.2 M parameters for J = 17).

Additions: an optional class label (``num_classes > 0``) embedded and added to the time
embedding, with index ``num_classes`` as the "no label" token of classifier-free guidance
(:mod:`.augment`); and ``injections``, per-layer tensors added before each GroupNorm, which is
how the control branch (:mod:`.control`) steers a frozen network.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ..checked import CheckedConfig
from ..keypoints import get_layout

__all__ = ["ControlScoreNet", "ScoreConfig", "ScoreNet", "timestep_embedding"]


@dataclass
class ScoreConfig(CheckedConfig):
    """Shape of a :class:`ScoreNet`; ``layout`` names the joints it was trained on."""

    layout: str = "h36m17"
    width: int = 1024
    blocks: int = 2
    embed_dim: int = 512
    dropout: float = 0.25
    groups: int = 32
    num_classes: int = 0

    _limits: ClassVar[dict[str, str]] = {
        "width": "[1, inf)", "blocks": "[1, inf)", "embed_dim": "[2, inf)",
        "dropout": "[0, 1)", "groups": "[1, inf)", "num_classes": "[0, inf)",
    }  # fmt: skip

    @property
    def num_joints(self) -> int:
        return len(get_layout(self.layout))


def timestep_embedding(t: torch.Tensor, dim: int, max_positions: int = 10_000) -> torch.Tensor:
    """Transformer-style sinusoidal embedding of (B,) times (score_sde's ``get_timestep_embedding``)."""
    half = dim // 2
    freq = torch.exp(
        -math.log(max_positions) * torch.arange(half, device=t.device, dtype=t.dtype) / (half - 1)
    )
    angles = t[:, None] * freq[None]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    return nn.functional.pad(emb, (0, dim % 2))


class _Layer(nn.Module):
    """``Linear(x) + Linear(temb)`` → (+ injection) → GroupNorm → SiLU → Dropout."""

    def __init__(self, dim_in: int, width: int, embed_dim: int, groups: int, dropout: float):
        super().__init__()
        self.dense = nn.Linear(dim_in, width)
        self.dense_t = nn.Linear(embed_dim, width)
        self.norm = nn.GroupNorm(min(groups, width), width)
        self.dropout = nn.Dropout(dropout)

    def pre(self, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        return self.dense(h) + self.dense_t(temb)

    def post(self, h: torch.Tensor) -> torch.Tensor:
        return self.dropout(nn.functional.silu(self.norm(h)))


class ScoreNet(nn.Module):
    """ε-predictor ``net(x, t) -> eps`` for poses ``x`` (B, J, 3) and times ``t`` (B,) in [0, 1]."""

    def __init__(self, config: ScoreConfig):
        super().__init__()
        self.config = config
        width, emb, dim = config.width, config.embed_dim, 3 * config.num_joints
        self.embed = nn.Sequential(nn.Linear(emb, emb), nn.SiLU())
        if config.num_classes:
            self.label_embed = nn.Embedding(config.num_classes + 1, emb)
        args = (width, emb, config.groups, config.dropout)
        self.layers = nn.ModuleList(
            [_Layer(dim, *args)] + [_Layer(width, *args) for _ in range(2 * config.blocks)]
        )
        self.out = nn.Linear(width, dim)

    @property
    def num_injections(self) -> int:
        """How many tensors ``injections`` takes: one per layer."""
        return len(self.layers)

    def time_embedding(self, t: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        temb = self.embed(timestep_embedding(t * 999.0, self.config.embed_dim))
        if self.config.num_classes:
            if label is None:  # no label given: the unconditional token
                label = torch.full_like(t, self.config.num_classes, dtype=torch.long)
            temb = temb + self.label_embed(label)
        return temb

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        label: torch.Tensor | None = None,
        injections: list[torch.Tensor] | None = None,
        return_hidden: bool = False,
    ):
        """The predicted noise (B, J, 3); with ``return_hidden`` also each layer's pre-norm input."""
        batch = x.shape[0]
        if x.shape[1:] != (self.config.num_joints, 3):
            raise ValueError(
                f"score network for layout {self.config.layout} takes (B, "
                f"{self.config.num_joints}, 3) poses, got {tuple(x.shape)}"
            )
        t = t.expand(batch) if t.dim() == 0 else t
        temb = self.time_embedding(t, label)
        hidden = []

        def layer(i: int, h: torch.Tensor) -> torch.Tensor:
            pre = self.layers[i].pre(h, temb)
            hidden.append(pre)
            if injections is not None:
                pre = pre + injections[i]
            return self.layers[i].post(pre)

        h = layer(0, x.reshape(batch, -1))
        for b in range(self.config.blocks):
            h2 = layer(2 * b + 2, layer(2 * b + 1, h))
            h = h + h2
        eps = self.out(h).view(batch, -1, 3)
        return (eps, hidden) if return_hidden else eps


# The control branch (:mod:`.control`): a frozen prior steered by a trainable copy of itself.
class ControlScoreNet(nn.Module):
    """``prior(x, t, injections=zero_layers(copy(x + domain(embedding), t)))``."""

    def __init__(self, prior: ScoreNet):
        super().__init__()
        self.config = prior.config
        self.prior = prior
        self.copy = copy.deepcopy(prior)  # after the caller loaded the prior's weights
        width, dim = prior.config.width, 3 * prior.config.num_joints
        self.infant_embedding = nn.Parameter(torch.randn(dim))
        self.domain = nn.Linear(dim, dim)
        self.zero_layers = nn.ModuleList(
            [nn.Linear(width, width) for _ in range(prior.num_injections)]
        )
        for layer in self.zero_layers:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        for p in self.prior.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> ControlScoreNet:
        super().train(mode)
        self.prior.eval()  # frozen: no dropout in the prior's path
        return self

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        offset = nn.functional.silu(self.domain(self.infant_embedding)).view(1, -1, 3)
        _, hidden = self.copy(x + offset, t, return_hidden=True)
        injections = [zero(h) for zero, h in zip(self.zero_layers, hidden, strict=True)]
        return self.prior(x, t, injections=injections)
