"""SHIFT (Bose et al., CVPRW 2025): unsupervised adult-to-infant adaptation of a 2D pose network.

A mean teacher (UDAPE) plus an infant pose prior and a visibility loss, built on
:mod:`infantpose.pose2d` (its Pose-ResNet, codec, crops and adult model). Modules, one job each:

* :mod:`.config` ``ShiftConfig``/``ViewAugment``, the modes;
* :mod:`.views` random affine views, warps back to the base frame, Gaussians, soft-argmax;
* :mod:`.teacher` the EMA teacher, confidence mask, rectified targets, keypoint occlusion;
* :mod:`.prior` the 2D Pose-NDF prior, its data (von Mises + nearest neighbours) and curriculum;
* :mod:`.visibility` F_seg (segmenter) and Kp2Seg (keypoints → mask);
* :mod:`.data` base-frame tensors and the target splits; :mod:`.evaluate` PCK@0.05 (SHIFT groups);
* :mod:`.targets` the target infants (stand-in, SyRIP, MINI-RGBD) cut into SHIFT's splits;
* :mod:`.adapt` one adaptation run; :mod:`.experiment` the chapter's rows, cached helpers and
  the paper's numbers.
"""

from __future__ import annotations

from .adapt import AdaptResult, Components, adapt, adaptation_losses, adaptation_step
from .config import MODES, ShiftConfig, ViewAugment
from .data import SourceCrops, TargetImages, source_crops, target_images, target_splits
from .evaluate import DECODINGS, frame_normaliser, pck_of, shift_pck
from .experiment import (
    PAPER_PCK,
    PAPER_PCK_SOURCE,
    ROWS,
    SELECTIONS,
    ShiftSets,
    paper_pck,
    prepare,
    run_row,
    score,
)
from .prior import (
    PoseNDF,
    PriorConfig,
    PriorData,
    bone_vectors,
    load_prior,
    make_prior_data,
    nearest_distances,
    prior_step,
    save_prior,
    train_prior,
)
from .targets import TARGETS, TargetData, minirgbd_target, syrip_target, target_data
from .teacher import EmaTeacher, confidence_mask, consistency_loss, occlude, rectify
from .views import (
    gaussian_heatmaps,
    heatmap_matrix,
    sample_affine,
    soft_argmax,
    transform_points,
    view,
    warp,
)
from .visibility import (
    Kp2Seg,
    bce_step,
    build_segmenter,
    draw_limbs,
    load_kp2seg,
    save_kp2seg,
    segment,
    train_kp2seg,
    train_segmenter,
)

__all__ = [
    "DECODINGS",
    "MODES",
    "PAPER_PCK",
    "PAPER_PCK_SOURCE",
    "ROWS",
    "SELECTIONS",
    "TARGETS",
    "AdaptResult",
    "Components",
    "EmaTeacher",
    "Kp2Seg",
    "PoseNDF",
    "PriorConfig",
    "PriorData",
    "ShiftConfig",
    "ShiftSets",
    "SourceCrops",
    "TargetData",
    "TargetImages",
    "ViewAugment",
    "adapt",
    "adaptation_losses",
    "adaptation_step",
    "bce_step",
    "bone_vectors",
    "build_segmenter",
    "confidence_mask",
    "consistency_loss",
    "draw_limbs",
    "frame_normaliser",
    "gaussian_heatmaps",
    "heatmap_matrix",
    "load_kp2seg",
    "load_prior",
    "make_prior_data",
    "minirgbd_target",
    "nearest_distances",
    "occlude",
    "paper_pck",
    "pck_of",
    "prepare",
    "prior_step",
    "rectify",
    "run_row",
    "sample_affine",
    "save_kp2seg",
    "save_prior",
    "score",
    "segment",
    "shift_pck",
    "soft_argmax",
    "source_crops",
    "syrip_target",
    "target_data",
    "target_images",
    "target_splits",
    "train_kp2seg",
    "train_prior",
    "train_segmenter",
    "transform_points",
    "view",
    "warp",
]
