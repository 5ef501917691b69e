"""Pose distributions as FiDIP's Fig. 3 draws them: every pose's keypoints, torsos aligned.

Each 2D pose is moved so its mid-hip is at the origin, turned so its torso (mid-hip to
mid-shoulder) points straight up, and scaled to a torso length of 1. What is left is the
posture: where the limbs go relative to the torso, whatever the image, box or camera roll.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..keypoints import COCO17
from .colors import joint_colors

__all__ = ["plot_pose_distribution", "torso_aligned"]

_K = {name: i for i, name in enumerate(COCO17.joints)}


def torso_aligned(keypoints: np.ndarray) -> np.ndarray:
    """(N, 17, 3) COCO keypoints → torso-aligned ``x, y, v`` (y up, torso length 1).

    Poses without both shoulders and both hips labelled come back as NaN (and v = 0).
    """
    points = np.asarray(keypoints, dtype=np.float64).reshape(-1, 17, 3)
    v = points[..., 2]
    need = [_K[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    ok = (v[:, need] > 0).all(1)
    xy = points[..., :2] * np.array([1.0, -1.0])  # image y down -> up
    hips = xy[:, [_K["left_hip"], _K["right_hip"]]].mean(1)
    shoulders = xy[:, [_K["left_shoulder"], _K["right_shoulder"]]].mean(1)
    torso = shoulders - hips
    length = np.linalg.norm(torso, axis=1)
    ok &= length > 0
    angle = np.arctan2(torso[:, 0], torso[:, 1])  # turn the torso onto +y
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    centered = (xy - hips[:, None]) / np.where(length > 0, length, 1.0)[:, None, None]
    aligned = np.einsum("nij,nkj->nki", rotation, centered)
    out = np.concatenate([aligned, v[..., None]], axis=-1)
    out[~ok] = np.nan
    out[~ok, :, 2] = 0
    out[..., 2] = np.where(np.isfinite(out[..., 0]), out[..., 2], 0)
    return out


def plot_pose_distribution(
    sets: Mapping[str, np.ndarray],
    joints: Sequence[str] = (
        "nose",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
        "left_knee",
        "right_knee",
        "left_ankle",
        "right_ankle",
    ),
    *,
    panel_size: float = 3.2,
    max_points: int = 2000,
    seed: int = 0,
) -> Figure:
    """One panel per named set of (N, 17, 3) keypoints: the ``joints`` of every pose, torso-aligned.

    The shoulders and hips are drawn as the mean torso; each joint in the book's limb colour.
    """
    if not sets:
        raise ValueError("plot_pose_distribution needs at least one named set of keypoints")
    colors = joint_colors(COCO17)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        1, len(sets), figsize=(panel_size * len(sets), panel_size * 1.15), squeeze=False,
        sharex=True, sharey=True, layout="constrained",
    )  # fmt: skip
    for ax, (name, keypoints) in zip(axes[0], sets.items(), strict=True):
        aligned = torso_aligned(keypoints)
        valid = np.isfinite(aligned[:, 0, 0])
        aligned = aligned[valid]
        if len(aligned) > max_points:
            aligned = aligned[rng.choice(len(aligned), max_points, replace=False)]
        for joint in joints:
            j = _K[joint]
            seen = aligned[:, j, 2] > 0
            ax.scatter(
                aligned[seen, j, 0], aligned[seen, j, 1], s=4, alpha=0.35, color=colors[j],
                linewidths=0, rasterized=True,
            )  # fmt: skip
        if len(aligned):
            mean = np.nanmean(aligned[..., :2], axis=0)
            torso = [_K[n] for n in ("left_shoulder", "right_shoulder", "right_hip", "left_hip")]
            ring = mean[[*torso, torso[0]]]
            ax.plot(ring[:, 0], ring[:, 1], color="0.2", linewidth=1.5)
        ax.set_title(f"{name} ({int(valid.sum())} poses)", fontsize="small")
        ax.set_aspect("equal")
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.axhline(0, color="0.85", linewidth=0.8, zorder=0)
        ax.axvline(0, color="0.85", linewidth=0.8, zorder=0)
        ax.tick_params(labelsize="x-small")
    axes[0, 0].set_ylabel("torso lengths (up)")
    return fig
