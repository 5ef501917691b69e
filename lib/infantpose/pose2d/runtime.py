"""Device, precision and seeding helpers shared by training and evaluation."""

from __future__ import annotations

import contextlib
import random

import torch

__all__ = ["autocast_context", "resolve_device", "seed_everything"]

_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"cpu"``, ``"cuda"`` (``"auto"``/None: cuda when available); cuda without a GPU is an error."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' but torch sees no GPU; set device='cpu' in the config")
    return device


def autocast_context(device: torch.device, precision: str | None):
    """``torch.autocast`` for ``precision`` in ``{"bf16", "fp16"}``; a no-op for None/"fp32".

    fp16 autocast is only used on CUDA (on CPU it falls back to fp32 silently, which is what a
    laptop run of the ``paper`` profile should do).
    """
    if precision in (None, "fp32"):
        return contextlib.nullcontext()
    if precision not in _AUTOCAST_DTYPES:
        raise ValueError(f"precision={precision!r}: None, 'fp32', 'bf16' or 'fp16'")
    if device.type != "cuda" and precision == "fp16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[precision])


def seed_everything(seed: int) -> None:
    """Seed python and torch (CPU and CUDA)."""
    random.seed(seed)
    torch.manual_seed(seed)
