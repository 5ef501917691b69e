"""Checkpoints: our own (atomic, with their config) and published Pose-ResNet weights.

Published layouts that load into :class:`~infantpose.pose2d.model.PoseResNet`:

* **Microsoft** (``microsoft/human-pose-estimation.pytorch``, the FiDIP starting point):
  ``conv1.weight``, ``layer1.0.conv1.weight``, ``deconv_layers.0.weight``,
  ``final_layer.weight`` (optionally prefixed ``module.``); trained on **BGR** input.
* **mmpose** (SimpleBaseline ``TopDown`` + ``ResNet`` + ``TopdownHeatmapSimpleHead``):
  ``backbone.conv1.weight``, ``keypoint_head.deconv_layers.0.weight``,
  ``keypoint_head.final_layer.weight`` (mmpose 1.x: ``head.`` instead of ``keypoint_head.``);
  trained on **RGB** input.

The depth and the number of joints are read from the weights; the channel order is recorded in
the model's config, and :mod:`.dataset` feeds images in that order. Any missing or unexpected key
or wrong shape raises :class:`CheckpointMismatchError` listing all of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..io import atomic_path
from .heatmaps import HeatmapCodec
from .model import PoseResNet, PoseResNetConfig

__all__ = [
    "CheckpointMismatchError",
    "NotOurCheckpointError",
    "UntrustedCheckpointError",
    "convert_published_state",
    "load_checkpoint",
    "load_model",
    "load_published",
    "save_checkpoint",
]

_BLOCKS = {  # (blocks in layer1..4, bottleneck) → depth
    ((2, 2, 2, 2), False): 18,
    ((3, 4, 6, 3), False): 34,
    ((3, 4, 6, 3), True): 50,
    ((3, 4, 23, 3), True): 101,
    ((3, 8, 36, 3), True): 152,
}


class CheckpointMismatchError(ValueError):
    """A state dict does not fit the model: missing/unexpected keys or wrong shapes."""


class NotOurCheckpointError(ValueError):
    """A checkpoint without our ``config`` and ``model``: published weights, perhaps
    (:func:`load_published`)."""


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """``torch.save`` atomically: the file is complete or the old one stays."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


class UntrustedCheckpointError(ValueError):
    """A checkpoint file that cannot be read safely: not a torch file, cut short, or holding
    objects other than tensors, numbers, strings and containers (which could run code)."""


def _safe_load(path: str | os.PathLike, map_location: str | torch.device) -> Any:
    """``torch.load(weights_only=True)`` with an error that names the file and the fix."""
    import pickle

    if not Path(path).is_file():
        raise FileNotFoundError(
            f"no checkpoint file {path}: check the path (or the config key that gave it)"
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError) as error:
        first = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()
        raise UntrustedCheckpointError(
            f"{path} was refused: it is not a checkpoint that loads without running code "
            f"({first[0] if first else type(error).__name__}). Checkpoints must hold only tensors, "
            "numbers, strings and containers; re-save the weights as a plain state dict "
            "(torch.save(model.state_dict(), ...)), or copy the file again if it was cut short"
        ) from None


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """A checkpoint written by :func:`save_checkpoint` (tensors, numbers, strings, containers only)."""
    return _safe_load(path, map_location)


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> PoseResNet:
    """The :class:`PoseResNet` saved in one of our checkpoints (``best.pt`` or ``last.pt`` of
    :func:`~infantpose.pose2d.train.fit`), rebuilt from the model config it carries, codec
    included (a checkpoint written before the codec moved into the model's config has it
    beside the model's, in the training config)."""
    payload = load_checkpoint(path, map_location)
    if not isinstance(payload, dict) or "config" not in payload or "model" not in payload:
        raise NotOurCheckpointError(
            f"{path} is not an infantpose.pose2d checkpoint (no 'config'/'model'); for published "
            "weights use load_published()"
        )
    saved = payload["config"]
    config = dict(saved["model"])
    if "codec" not in config:
        if "codec" not in saved:
            raise ValueError(
                f"{path}: its config holds no heatmap codec (neither config.model.codec nor "
                "config.codec), so its heatmaps cannot be read as trained; load its weights with "
                "load_published(..., codec=HeatmapCodec(...)) and the codec it was trained with"
            )
        config["codec"] = saved["codec"]
    model = PoseResNet(PoseResNetConfig.from_dict(config, f"{path}: config.model"))
    model.load_state_dict(check_state(model, payload["model"]))
    return model


def _unwrap(state: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    for key in ("state_dict", "model"):
        if key in state and isinstance(state[key], Mapping):
            state = state[key]
    return {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state.items()}


def _detect_layout(state: Mapping[str, Any]) -> str:
    if any(k.startswith("backbone.") for k in state):
        return "mmpose"
    if "conv1.weight" in state and any(k.startswith("deconv_layers.") for k in state):
        return "microsoft"
    raise CheckpointMismatchError(
        "unknown checkpoint layout: expected Microsoft keys (conv1.weight, deconv_layers.*, "
        "final_layer.*) or mmpose keys (backbone.*, keypoint_head.* or head.*); "
        f"first keys: {list(state)[:6]}"
    )


def convert_published_state(
    state: Mapping[str, Any], layout: str = "auto"
) -> tuple[dict[str, torch.Tensor], str, str]:
    """Our keys, the layout name and the input channel order of a published state dict."""
    state = _unwrap(state)
    if layout == "auto":
        layout = _detect_layout(state)
    if layout == "microsoft":
        return dict(state), layout, "BGR"
    if layout != "mmpose":
        raise ValueError(f"layout={layout!r}: 'auto', 'microsoft' or 'mmpose'")
    out = {}
    for key, value in state.items():
        new = re.sub(r"^backbone\.", "", key)
        new = re.sub(r"^(keypoint_head|head)\.", "", new)
        out[new] = value
    return out, layout, "RGB"


def _infer_config(state: Mapping[str, torch.Tensor], **overrides: Any) -> PoseResNetConfig:
    blocks = []
    for i in range(1, 5):
        ids = {int(m.group(1)) for k in state if (m := re.match(rf"layer{i}\.(\d+)\.", k))}
        blocks.append(max(ids) + 1 if ids else 0)
    bottleneck = "layer1.0.conv3.weight" in state
    depth = _BLOCKS.get((tuple(blocks), bottleneck))
    if depth is None:
        raise CheckpointMismatchError(
            f"cannot tell the ResNet depth: blocks per layer {blocks}, bottleneck={bottleneck}"
        )
    deconvs = sorted(
        int(m.group(1))
        for k in state
        if (m := re.match(r"deconv_layers\.(\d+)\.weight$", k)) and state[k].ndim == 4
    )
    final = state.get("final_layer.weight")
    config = {
        "depth": depth,
        "num_joints": int(final.shape[0]) if final is not None else 17,
        "deconv_channels": tuple(int(state[f"deconv_layers.{i}.weight"].shape[1]) for i in deconvs)
        or (256, 256, 256),
    }
    config.update(overrides)
    return PoseResNetConfig.from_dict(config)


def check_state(
    model: torch.nn.Module, state: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``state`` completed with missing ``num_batches_tracked`` buffers; raises listing mismatches."""
    own = model.state_dict()
    state = dict(state)
    for key in own:  # checkpoints of torch < 0.4.1 have no BN step counters
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = own[key]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        for title, items in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("wrong shape", shapes),
        ):
            if items:
                shown = ", ".join(items[:10]) + (
                    f", … ({len(items)} in all)" if len(items) > 10 else ""
                )
                parts.append(f"{len(items)} {title}: {shown}")
        raise CheckpointMismatchError(
            "the checkpoint does not fit the model — "
            + "; ".join(parts)
            + ". Check depth, num_joints and deconv_channels of the config, or the layout argument"
        )
    return state


def load_published(
    source: str | os.PathLike | Mapping[str, Any],
    *,
    layout: str = "auto",
    input_size: tuple[int, int] = (192, 256),
    config: PoseResNetConfig | None = None,
    codec: HeatmapCodec | None = None,
) -> PoseResNet:
    """A :class:`PoseResNet` with the weights of a published checkpoint (file or state dict).

    The architecture comes from ``config`` or is read from the weights (``input_size`` and
    ``codec`` are not in the weights: give the size the checkpoint was trained at, and the
    codec to read its heatmaps with, default ``config``'s or the reference's); ``channel_order``
    is set from the layout (Microsoft: BGR, mmpose: RGB).
    """
    if not isinstance(source, Mapping):
        source = _safe_load(source, "cpu")
    state, layout, channel_order = convert_published_state(source, layout)
    known = {} if codec is None else {"codec": codec}
    if config is None:
        config = _infer_config(state, input_size=input_size, channel_order=channel_order, **known)
    else:
        config = config.replace(channel_order=channel_order, **known)
    model = PoseResNet(config)
    model.load_state_dict(check_state(model, state))
    return model
