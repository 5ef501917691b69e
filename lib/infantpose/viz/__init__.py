"""Figures of the book: 2D pose overlays (matplotlib) and 3D skeletons (plotly).

Every skeleton is drawn in one colour scheme, :mod:`infantpose.viz.colors`: left limbs blue,
right limbs orange, the centre line grey, with one shade per body part.
"""

from .colors import (
    PALETTE,
    PARTS,
    PREDICTION_COLOR,
    SIDES,
    Limb,
    bone_colors,
    bone_limb,
    bone_limbs,
    joint_colors,
    joint_limbs,
    joint_part,
)
from .distribution import plot_pose_distribution, torso_aligned
from .inputs import input_rgb
from .skeleton2d import (
    compare_poses_2d,
    draw_skeleton_2d,
    plot_coco_samples,
    plot_pose_grid,
    plot_prediction_grid,
)
from .skeleton3d import UP_AXES, add_pose_3d, skeleton_figure_3d

__all__ = [
    "PALETTE",
    "PARTS",
    "PREDICTION_COLOR",
    "SIDES",
    "UP_AXES",
    "Limb",
    "add_pose_3d",
    "bone_colors",
    "bone_limb",
    "bone_limbs",
    "compare_poses_2d",
    "draw_skeleton_2d",
    "input_rgb",
    "joint_colors",
    "joint_limbs",
    "joint_part",
    "plot_coco_samples",
    "plot_pose_distribution",
    "plot_pose_grid",
    "plot_prediction_grid",
    "skeleton_figure_3d",
    "torso_aligned",
]
