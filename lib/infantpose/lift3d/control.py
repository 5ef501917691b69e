"""ZeDO-i's control branch: a frozen adult prior steered by a trainable copy.

:class:`ControlScoreNet` holds the frozen prior and a trainable copy of it, **copied after the
prior's weights are loaded** (the release copies the random init). The copy sees the noisy
pose plus a learned infant-domain offset ``SiLU(Linear(infant_embedding))``; each copy layer's
pre-norm activation goes through a **zero-initialised** ``Linear(H, H)`` and is added to the
frozen layer's pre-norm activation (the release's "zero" layers keep PyTorch's default init,
and its block copy overwrites ``dense2`` with ``dense2_t`` instead of adding them; both are
fixed here). At initialisation the output is therefore exactly the frozen prior's.

Trained with the same DSM loss (:func:`control_branch`); only the copy, the zero layers and
the domain embedding get gradients.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from .score import ScoreNet
from .train import ScorePrior, TrainConfig, train_score_model

__all__ = ["ControlScoreNet", "control_branch"]


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


def control_branch(
    prior: ScorePrior,
    poses: Any,
    config: TrainConfig | None = None,
    *,
    seed: int = 0,
    device: Any = "cpu",
) -> ScorePrior:
    """Adapt ``prior`` to ``poses`` (infants) through a control branch; the prior is not changed."""
    if prior.kind != "score":
        raise ValueError(f"control_branch takes a plain score prior, not a {prior.kind!r} one")
    torch.manual_seed(seed)
    frozen = copy.deepcopy(prior.network)  # the EMA weights inference used
    network = ControlScoreNet(frozen)
    return train_score_model(
        network,
        poses,
        config or TrainConfig(),
        prior.config,
        seed=seed,
        device=device,
        kind="control",
        start_step=prior.step,
    )
