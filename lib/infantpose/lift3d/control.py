"""ZeDO-i's control branch: a frozen adult prior steered by a trainable copy.

The network, :class:`~infantpose.lift3d.score.ControlScoreNet`, holds the frozen prior and a trainable copy of it, **copied after the
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

from .score import ControlScoreNet
from .train import PriorTrainConfig, ScorePrior, train_score_model

__all__ = ["control_branch"]


def control_branch(
    prior: ScorePrior,
    poses: Any,
    config: PriorTrainConfig | None = None,
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
        config or PriorTrainConfig(),
        prior.config,
        seed=seed,
        device=device,
        kind="control",
        start_step=prior.step,
    )
