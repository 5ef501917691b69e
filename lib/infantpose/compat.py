"""Make ``import torchvision`` work on a CPU-only torch.

On these machines ``torch==2.13.0`` resolves to a CPU wheel, but the registry's
``torchvision==0.28.0`` is a CUDA build whose C extension (``torchvision/_C.so``)
cannot load against it. torchvision then dies at import time: its
``_meta_registrations`` registers fake kernels for ``torchvision::nms`` and
``torchvision::qnms``, which do not exist without the extension.

:func:`ensure_torchvision` defines those two operators in pure torch *before*
torchvision is imported. Models and transforms work; ``torchvision.io`` decoding
and the other compiled ops (roi_align, deform_conv2d) stay unavailable (we decode
images with PIL/OpenCV). Where the extension loads (a matching CUDA or CPU build),
the function changes nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

_LIBRARY: torch.library.Library | None = None  # kept alive: dropping it unregisters the ops


def _extension_path() -> Path | None:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return None
    candidates = sorted(Path(spec.origin).parent.glob("_C*.so")) + sorted(
        Path(spec.origin).parent.glob("_C*.pyd")
    )
    return candidates[0] if candidates else None


def _extension_loads(path: Path) -> bool:
    try:
        torch.ops.load_library(str(path))
    except (OSError, RuntimeError):
        return False
    return _has_op("nms")


def _has_op(name: str) -> bool:
    try:
        getattr(torch.ops.torchvision, name)
    except (AttributeError, RuntimeError):
        return False
    return True


def nms_reference(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression with torchvision's semantics, in plain torch.

    ``boxes`` are ``(N, 4)`` as ``x1, y1, x2, y2``; returns the kept indices sorted
    by decreasing score.
    """
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    order = torch.argsort(scores, descending=True, stable=True)
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool, device=boxes.device)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        w = (torch.minimum(x2[i], x2) - torch.maximum(x1[i], x1)).clamp(min=0)
        h = (torch.minimum(y2[i], y2) - torch.maximum(y1[i], y1)).clamp(min=0)
        inter = w * h
        iou = inter / (areas[i] + areas - inter)
        suppressed |= iou > iou_threshold
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


def _register_pure_torch_ops() -> None:
    global _LIBRARY
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.impl("nms", nms_reference, "CompositeExplicitAutograd")
    lib.impl(
        "qnms",
        lambda dets, scores, thr: nms_reference(dets.dequantize(), scores.dequantize(), thr),
        "CompositeExplicitAutograd",
    )
    _LIBRARY = lib


def ensure_torchvision() -> bool:
    """Prepare torch so that ``import torchvision`` succeeds. Idempotent.

    Returns ``True`` when the pure-torch fallback was installed, ``False`` when
    nothing was needed (torchvision absent, already imported, its extension
    loads, or the fallback is already in place).
    """
    if "torchvision" in sys.modules or _LIBRARY is not None or _has_op("nms"):
        return False
    path = _extension_path()
    if path is None or _extension_loads(path):
        return False
    _register_pure_torch_ops()
    return True


def import_torchvision():
    """``import torchvision`` after :func:`ensure_torchvision`; the way package code imports it."""
    ensure_torchvision()
    import torchvision

    return torchvision
