"""ZeDO-i: a diffusion pose prior, its infant adaptation, and optimisation-based 2D-to-3D lifting.

>>> from infantpose import lift3d
>>> adult = lift3d.sample_pose_set(body, "adult", 2000, seed=0)
>>> prior = lift3d.train_prior(adult.poses_3d, lift3d.ScoreConfig(width=256), seed=0)
>>> infant = lift3d.finetune(prior, infant_train.poses_3d)
>>> result = lift3d.lift(infant, test.keypoints_2d, test.intrinsics, lift3d.LiftConfig.fast())
>>> lift3d.evaluate_lift(result, test.poses_3d)["mpjpe"]

Modules: :mod:`.data` (pose sets), :mod:`.score` (network), :mod:`.sde`, :mod:`.train`
(DSM, EMA, checkpoints that load without unpickling objects), :mod:`.control`,
:mod:`.augment`, :mod:`.lift`, :mod:`.baselines` (the learned lifter and its random views),
:mod:`.metrics` (MPJPE, N-MPJPE, PA-MPJPE, bone ratio), :mod:`.experiment` (the chapter's
table, on the test or the validation set). Every config is an
:class:`infantpose.checked.CheckedConfig` (checked names and numbers).
"""

from __future__ import annotations

from .augment import GuidedAugmentConfig, augment_poses, train_domain_model
from .baselines import LifterConfig, MlpLifter, fit_lifter, random_views, train_lifter
from .control import control_branch
from .data import (
    PoseSet3D,
    body_joints_to_layout,
    load_pose_set,
    minirgbd_pose_set,
    noisy_keypoints,
    root_of,
    root_relative,
    sample_pose_set,
)
from .lift import LiftConfig, LiftResult, initial_poses, lift, solve_translation
from .metrics import bone_ratio, evaluate_lift, mpjpe_mm, n_mpjpe_mm, pa_mpjpe_mm
from .score import ControlScoreNet, ScoreConfig, ScoreNet
from .sde import SubVPSDE
from .train import (
    CheckpointError,
    PriorTrainConfig,
    ScorePrior,
    finetune,
    load_prior,
    save_prior,
    train_prior,
)

__all__ = [
    "CheckpointError",
    "ControlScoreNet",
    "GuidedAugmentConfig",
    "LiftConfig",
    "LiftResult",
    "LifterConfig",
    "MlpLifter",
    "PoseSet3D",
    "PriorTrainConfig",
    "ScoreConfig",
    "ScoreNet",
    "ScorePrior",
    "SubVPSDE",
    "augment_poses",
    "body_joints_to_layout",
    "bone_ratio",
    "control_branch",
    "evaluate_lift",
    "finetune",
    "fit_lifter",
    "initial_poses",
    "lift",
    "load_pose_set",
    "load_prior",
    "minirgbd_pose_set",
    "mpjpe_mm",
    "n_mpjpe_mm",
    "noisy_keypoints",
    "pa_mpjpe_mm",
    "random_views",
    "root_of",
    "root_relative",
    "sample_pose_set",
    "save_prior",
    "solve_translation",
    "train_domain_model",
    "train_lifter",
    "train_prior",
]

from .experiment import (
    METHODS,
    PAPER_MPJPE,
    PAPER_MPJPE_SOURCE,
    ConfigScore,
    ExperimentData,
    ExperimentProfile,
    LiftingRow,
    compare_lift_configs,
    finetuned_infant_prior,
    infant_size_ratio,
    make_datasets,
    method_names,
    run_lifting_experiment,
)

__all__ += [
    "METHODS",
    "PAPER_MPJPE",
    "PAPER_MPJPE_SOURCE",
    "ConfigScore",
    "ExperimentData",
    "ExperimentProfile",
    "LiftingRow",
    "compare_lift_configs",
    "finetuned_infant_prior",
    "infant_size_ratio",
    "make_datasets",
    "method_names",
    "run_lifting_experiment",
]
