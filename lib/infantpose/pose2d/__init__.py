"""2D pose estimation as FiDIP: Pose-ResNet, heatmaps, domain confusion, training, evaluation.

Modules, one job each:

* :mod:`.model` Pose-ResNet; :mod:`.transforms` boxes, affine crops, augmentation, flips;
* :mod:`.heatmaps` targets, decoding, flip test (the codec, part of the model's config);
  :mod:`.loss` JointsMSE;
* :mod:`.domain` gradient reversal and the domain classifier;
* :mod:`.dataset` COCO annotations → training samples;
* :mod:`.config` ``TrainConfig``; :mod:`.train` adult model, stages I/II, fine-tuning, resume;
  :mod:`.prestage` classifier pre-training;
* :mod:`.distributed` several processes under ``torchrun`` (DDP); ``python -m infantpose.pose2d``
  trains from the command line;
* :mod:`.evaluate` predictions and COCO AP; :mod:`.checkpoints` our checkpoints and published
  Microsoft/mmpose weights; :mod:`.experiment` one table row, end to end; :mod:`.describe`
  recipes and results in words; :mod:`.predictions` a row's test predictions on disk (COCO
  results + provenance) for later chapters;
* :mod:`.release` the adult model released with the package (made once by
  ``python -m infantpose.pose2d release``), and :func:`starting_model`, the one way every
  chapter gets its adult model (released, trained in the run, or a checkpoint).
"""

from __future__ import annotations

from .checkpoints import (
    CheckpointMismatchError,
    load_checkpoint,
    load_model,
    load_published,
    save_checkpoint,
)
from .config import PAPER_FROZEN, SELECTION, TrainConfig, cpu_config, recipe_config
from .dataset import BalancedBatchSampler, PoseDataset, TensorSamples, preload
from .describe import RECIPE_FIELDS, describe_recipe, print_result, result_line
from .domain import DomainClassifier, GradientReversal, domain_loss, grad_reverse
from .evaluate import Evaluation, Predictions, evaluate, instance_oks, predict
from .experiment import (
    PAPER_AP_SOURCE,
    RESULT_COLUMNS,
    TABLE_ROWS,
    ExperimentResult,
    ExperimentSpec,
    FidipData,
    TableRun,
    adult_fingerprint,
    book_adult_model,
    cached_adult_model,
    run_experiment,
    run_table,
    split_validation,
    thin_training_set,
)
from .heatmaps import (
    HeatmapCodec,
    codec_of,
    decode_heatmaps,
    final_predictions,
    flip_back,
    flip_test_average,
    gaussian_targets,
)
from .loss import JointsMSELoss, joints_mse
from .model import PoseResNet, PoseResNetConfig, build_pose_resnet
from .predictions import (
    PredictionsError,
    SavedPredictions,
    list_predictions,
    predictions_for,
    read_predictions,
    write_predictions,
)
from .prestage import pretrain_classifier
from .release import ReleaseError, StartingModel, load_release, starting_model
from .train import FitResult, fit, freeze_modules, set_train_mode, train_adult_model
from .transforms import AugmentConfig, box_to_center_scale, get_affine_transform, transform_preds

__all__ = [
    "PAPER_AP_SOURCE",
    "PAPER_FROZEN",
    "RECIPE_FIELDS",
    "RESULT_COLUMNS",
    "SELECTION",
    "TABLE_ROWS",
    "AugmentConfig",
    "BalancedBatchSampler",
    "CheckpointMismatchError",
    "DomainClassifier",
    "Evaluation",
    "ExperimentResult",
    "ExperimentSpec",
    "FidipData",
    "FitResult",
    "GradientReversal",
    "HeatmapCodec",
    "JointsMSELoss",
    "PoseDataset",
    "PoseResNet",
    "PoseResNetConfig",
    "Predictions",
    "PredictionsError",
    "ReleaseError",
    "SavedPredictions",
    "StartingModel",
    "TableRun",
    "TensorSamples",
    "TrainConfig",
    "adult_fingerprint",
    "book_adult_model",
    "box_to_center_scale",
    "build_pose_resnet",
    "cached_adult_model",
    "codec_of",
    "cpu_config",
    "decode_heatmaps",
    "describe_recipe",
    "domain_loss",
    "evaluate",
    "final_predictions",
    "fit",
    "flip_back",
    "flip_test_average",
    "freeze_modules",
    "gaussian_targets",
    "get_affine_transform",
    "grad_reverse",
    "instance_oks",
    "joints_mse",
    "list_predictions",
    "load_checkpoint",
    "load_model",
    "load_published",
    "load_release",
    "predict",
    "predictions_for",
    "preload",
    "pretrain_classifier",
    "print_result",
    "read_predictions",
    "recipe_config",
    "result_line",
    "run_experiment",
    "run_table",
    "save_checkpoint",
    "set_train_mode",
    "split_validation",
    "starting_model",
    "thin_training_set",
    "train_adult_model",
    "transform_preds",
    "write_predictions",
]
