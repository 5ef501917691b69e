"""Lifting errors in millimetres: MPJPE, N-MPJPE (scale only), PA-MPJPE (proper rotations only).

Three alignments tell size from posture: MPJPE compares as lifted (root-relative), N-MPJPE
first rescales the prediction by the one factor that best fits the truth (Rhodin et al.
2018), PA-MPJPE also rotates it. A perfect posture at the wrong size scores badly on MPJPE
and well on N-MPJPE; ``bone_ratio`` (predicted / true mean bone length) says which way.

Built on :mod:`infantpose.metrics`, whose Procrustes alignment already excludes reflections
by default (ZeDO's ``reflection='best'`` is ``allow_reflection=True`` there). Poses are
compared root-relative (both re-centred on the layout's root, :func:`.data.root_of`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import metrics as _metrics
from ..keypoints import get_layout
from .data import root_of
from .lift import LiftResult

__all__ = ["bone_ratio", "evaluate_lift", "mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm"]


def mpjpe_mm(pred: Any, gt: Any, layout: str, reduce: str = "mean") -> Any:
    """Root-relative MPJPE in mm of metre poses (..., J, 3)."""
    return _metrics.mpjpe(
        np.asarray(pred) * 1000, np.asarray(gt) * 1000, root=root_of(layout), reduce=reduce
    )


def pa_mpjpe_mm(pred: Any, gt: Any, reduce: str = "mean") -> Any:
    """PA-MPJPE in mm (similarity alignment, no reflections) of metre poses (..., J, 3)."""
    return _metrics.pa_mpjpe(
        np.asarray(pred) * 1000, np.asarray(gt) * 1000, allow_reflection=False, reduce=reduce
    )


def n_mpjpe_mm(pred: Any, gt: Any, layout: str, reduce: str = "mean") -> Any:
    """MPJPE in mm after the least-squares scale ``<pred, gt> / <pred, pred>`` (root-relative)."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    root = list(root_of(layout))
    pred = pred - pred[..., root, :].mean(-2, keepdims=True)
    gt = gt - gt[..., root, :].mean(-2, keepdims=True)
    seen = np.isfinite(gt).all(-1, keepdims=True) & np.isfinite(pred).all(-1, keepdims=True)
    p, g = np.where(seen, pred, 0.0), np.where(seen, gt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = (p * g).sum((-2, -1)) / (p * p).sum((-2, -1))
    return mpjpe_mm(scale[..., None, None] * pred, gt, layout, reduce=reduce)


def bone_ratio(pred: Any, gt: Any, layout: str) -> np.ndarray:
    """Per pose: mean predicted bone length / mean true bone length (1 = right size)."""
    bones = get_layout(layout).bone_indices

    def length(poses: np.ndarray) -> np.ndarray:
        poses = np.asarray(poses, dtype=np.float64)
        return np.nanmean(
            np.linalg.norm(poses[..., bones[:, 0], :] - poses[..., bones[:, 1], :], axis=-1), -1
        )

    return length(pred) / length(gt)


def evaluate_lift(result: LiftResult | np.ndarray, gt: Any, layout: str | None = None) -> dict:
    """Errors of a lift against ground truth (B, J, 3), in mm.

    ``mpjpe``/``n_mpjpe``/``pa_mpjpe`` and ``bone_ratio`` (mean over poses of predicted /
    true mean bone length) of the first hypothesis; with several hypotheses also
    ``min_mpjpe`` (the oracle best per pose, as ZeDO reports), ``mean_mpjpe`` (the average
    over hypotheses), ``mean_pose_mpjpe`` (the mean pose) and ``selected_mpjpe`` (the
    hypothesis with the lowest reprojection error). ``per_joint`` of the first hypothesis.
    Invalid poses (too few 2D joints) are left out and counted in ``invalid``.
    """
    if isinstance(result, LiftResult):
        poses, layout, valid = result.poses, result.layout, result.valid
    else:
        poses = np.asarray(result)
        poses = poses[:, None] if poses.ndim == 3 else poses
        valid = np.isfinite(poses).all((1, 2, 3))
        if layout is None:
            raise ValueError("give the layout of raw pose arrays")
    gt = np.asarray(gt, dtype=np.float64)
    if gt.shape != poses.shape[:1] + poses.shape[2:]:
        raise ValueError(f"ground truth {gt.shape} does not match lifted poses {poses.shape}")
    poses, gt = poses[valid], gt[valid]
    per_hyp = mpjpe_mm(
        poses, np.broadcast_to(gt[:, None], poses.shape), layout, reduce="per_sample"
    )  # (B, S)
    out = {
        "mpjpe": float(per_hyp[:, 0].mean()),
        "n_mpjpe": float(n_mpjpe_mm(poses[:, 0], gt, layout)),
        "pa_mpjpe": float(pa_mpjpe_mm(poses[:, 0], gt)),
        "bone_ratio": float(np.mean(bone_ratio(poses[:, 0], gt, layout))),
        "per_joint": mpjpe_mm(poses[:, 0], gt, layout, reduce="per_joint"),
        "per_sample": per_hyp[:, 0],
        "hypotheses": int(poses.shape[1]),
        "count": len(gt),
        "invalid": int((~valid).sum()),
    }
    if poses.shape[1] > 1:
        out["min_mpjpe"] = float(per_hyp.min(1).mean())
        out["mean_mpjpe"] = float(per_hyp.mean())
        out["mean_pose_mpjpe"] = float(mpjpe_mm(poses.mean(1), gt, layout))
        if isinstance(result, LiftResult):
            best = result.best_pose[valid]
            out["selected_mpjpe"] = float(mpjpe_mm(best, gt, layout))
    return out
