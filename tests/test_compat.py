"""The torchvision compat step: torchvision imports on CPU torch, and it is a no-op otherwise."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import torch

from infantpose.compat import nms_reference


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (import state is what is under test)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_torchvision_imports_and_builds_a_model_after_the_compat_step():
    out = _python(
        """
        import torch
        from infantpose.compat import ensure_torchvision
        first, second = ensure_torchvision(), ensure_torchvision()
        import torchvision
        from torchvision.models import resnet18
        y = resnet18(weights=None)(torch.zeros(1, 3, 64, 64))
        print(first, second, tuple(y.shape))
        """
    )
    installed, again, shape = out.split(" ", 2)
    assert again == "False"  # idempotent
    assert shape == "(1, 1000)"
    # Installed only where the C extension cannot load (the CPU-torch + CUDA-torchvision case).
    assert installed in ("True", "False")


def test_compat_step_is_a_no_op_when_the_extension_loads():
    out = _python(
        """
        import infantpose.compat as compat
        compat._extension_loads = lambda path: True
        print(compat.ensure_torchvision(), compat._LIBRARY is None)
        """
    )
    assert out == "False True"


def test_compat_step_is_a_no_op_after_torchvision_was_imported():
    out = _python(
        """
        import sys, types
        sys.modules["torchvision"] = types.ModuleType("torchvision")
        import infantpose.compat as compat
        print(compat.ensure_torchvision())
        """
    )
    assert out == "False"


def test_nms_reference_keeps_the_best_box_of_each_overlapping_group():
    boxes = torch.tensor(
        [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5], [21, 21, 29, 29]],
        dtype=torch.float32,
    )
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95, 0.1])
    keep = nms_reference(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [3, 2]  # sorted by score; box 0, 1 overlap box 3; box 4 inside box 2


def test_nms_reference_matches_brute_force_on_random_boxes():
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(60, 2, generator=gen) * 50
    wh = torch.rand(60, 2, generator=gen) * 20 + 1
    boxes = torch.cat([xy, xy + wh], dim=1)
    scores = torch.rand(60, generator=gen)

    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
        return inter / (area(a) + area(b) - inter)

    expected = []
    for i in sorted(range(60), key=lambda i: -scores[i].item()):
        if all(iou(boxes[i].tolist(), boxes[j].tolist()) <= 0.3 for j in expected):
            expected.append(i)
    assert nms_reference(boxes, scores, 0.3).tolist() == expected


def test_nms_reference_on_no_boxes():
    assert nms_reference(torch.zeros(0, 4), torch.zeros(0), 0.5).numel() == 0
