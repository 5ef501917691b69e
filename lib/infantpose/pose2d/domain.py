"""Domain confusion: a gradient-reversal layer and FiDIP's 3-layer domain classifier.

* :class:`GradientReversal` — identity forward, ``−λ · grad`` backward (Ganin & Lempitsky 2015).
  The FiDIP code has no such layer; it subtracts ``λ·BCE`` from the pose loss instead, which gives
  the feature extractor the same gradient but also leaks ``−λ·∂BCE/∂θ_D`` into the classifier's
  ``.grad`` (ostadabbas/Infant-Pose-Estimation). With the layer, the pose step never touches the classifier.
* :class:`DomainClassifier` — Linear → BN1d → ReLU → Linear → BN1d → ReLU → Linear(1), widths
  2048 and 512 as the paper. **Deviation:** the paper flattens layer-4 output of a 384×288
  input (2048·12·9 = 221,184 inputs, a 453M-weight first layer that only works at that size);
  we global-average-pool layer 4 first (``pool="avg"``), so any input size works and the first
  layer has ``C × 2048`` weights. ``pool="flatten"`` with ``in_features`` reproduces the paper.
* :func:`domain_loss` — BCE on the logit with the label convention of FiDIP: synthetic = 1.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["DomainClassifier", "GradientReversal", "domain_loss", "grad_reverse"]


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: float) -> torch.Tensor:
        ctx.lambd = float(lambd)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.lambd * grad, None


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``−lambd`` in the backward pass."""
    return _GradReverse.apply(x, lambd)


class GradientReversal(nn.Module):
    """Module form of :func:`grad_reverse` with a fixed ``lambd``."""

    def __init__(self, lambd: float = 1.0) -> None:
        super().__init__()
        self.lambd = float(lambd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd:g}"


class DomainClassifier(nn.Module):
    """Logit of "synthetic" from layer-4 features ``(N, C, h, w)`` (any h, w with ``pool="avg"``)."""

    def __init__(
        self,
        in_channels: int = 2048,
        hidden: tuple[int, int] = (2048, 512),
        *,
        pool: str = "avg",
        in_features: int | None = None,
    ) -> None:
        super().__init__()
        if pool not in ("avg", "flatten"):
            raise ValueError(f"pool={pool!r}: 'avg' (any input size) or 'flatten' (the paper)")
        if pool == "flatten" and in_features is None:
            raise ValueError(
                "pool='flatten' needs in_features = C·h·w of layer 4 (221184 in the paper)"
            )
        self.pool = pool
        width = in_channels if pool == "avg" else int(in_features)
        layers: list[nn.Module] = []
        for out in hidden:
            layers += [nn.Linear(width, out), nn.BatchNorm1d(out), nn.ReLU(inplace=True)]
            width = out
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # autocast may hand us half-precision features; the classifier runs in its own dtype
        features = features.to(self.layers[0].weight.dtype)
        if self.pool == "avg":
            x = features.mean(dim=(2, 3))
        else:
            x = features.flatten(1)
            expected = self.layers[0].in_features
            if x.shape[1] != expected:
                raise ValueError(
                    f"DomainClassifier(pool='flatten') expects {expected} features per sample but "
                    f"got {tuple(features.shape[1:])} = {x.shape[1]}; the flatten size depends on "
                    "the input size. Use pool='avg' to accept any input size"
                )
        return self.layers(x).squeeze(1)


def domain_loss(logits: torch.Tensor, is_synthetic: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of domain logits ``(N,)`` against labels (synthetic = 1, real = 0)."""
    return F.binary_cross_entropy_with_logits(
        logits.float(), is_synthetic.float().reshape(logits.shape)
    )
