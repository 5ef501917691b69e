"""A network's input tensor back to a picture: undo the ImageNet normalisation of
:mod:`infantpose.pose2d.dataset` so a crop, a view or an augmented image can be shown."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["input_rgb"]


def input_rgb(images: Any) -> np.ndarray:
    """The first image of ``images`` (a normalised ``(N, 3, H, W)`` or ``(3, H, W)`` tensor or
    array, as the pose networks take it) as an ``(H, W, 3)`` RGB array in [0, 1]."""
    from ..pose2d.dataset import IMAGENET_MEAN, IMAGENET_STD  # torch only when used

    if hasattr(images, "detach"):
        images = images.detach().float().cpu().numpy()
    array = np.asarray(images, dtype=np.float64)
    if array.ndim == 4:
        array = array[0]
    if array.ndim != 3 or array.shape[0] != 3:
        raise ValueError(
            f"input_rgb needs (N, 3, H, W) or (3, H, W) network input, got shape {array.shape}"
        )
    rgb = array.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN
    return rgb.clip(0, 1)
