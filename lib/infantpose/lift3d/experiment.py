"""The chapter's table: adult zero-shot, infant from scratch, fine-tune, control branch,
+ augmentation and a learned lifter, at several infant training-set sizes and seeds.

:func:`make_datasets` samples the pose sets once (adult training poses, an infant pool whose
first ``n`` poses are the training set of size ``n``, and a separate infant test set);
:func:`run_lifting_experiment` trains and evaluates every method and returns one row per
(method, size, seed). :class:`ExperimentProfile` holds the sizes: ``default()`` fits a laptop
CPU (width 256, a few hundred to a few thousand steps), ``paper()`` ZeDO-i's network
(1024 × 2) and schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from .augment import AugmentConfig, augment_poses, train_domain_model
from .baselines import LifterConfig, train_lifter
from .control import control_branch
from .data import PoseSet3D, sample_pose_set
from .keys import CheckedConfig
from .lift import LiftConfig, lift
from .metrics import evaluate_lift
from .score import ScoreConfig
from .train import ScorePrior, TrainConfig, finetune, train_prior

__all__ = ["METHODS", "ExperimentProfile", "make_datasets", "run_lifting_experiment"]

#: The table's rows, in order.
METHODS = ("adult_zero_shot", "infant_scratch", "finetune", "control", "augmented", "mlp_lifter")


@dataclass
class ExperimentProfile(CheckedConfig):
    """Sizes of the lifting experiment (one :class:`ScoreConfig` for every prior)."""

    score: ScoreConfig = field(
        default_factory=lambda: ScoreConfig(width=256, blocks=2, embed_dim=128, dropout=0.1)
    )
    adult_train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=1500, batch_size=128, warmup=150)
    )
    infant_train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=400, batch_size=128, warmup=50, ema_rate=0.99)
    )
    adapt_lr: float = 1e-4  # fine-tune and control branch start from a trained prior
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    augmented_poses: int = 500
    lifter: LifterConfig = field(default_factory=lambda: LifterConfig(steps=400, batch_size=128))
    lift: LiftConfig = field(default_factory=LiftConfig.fast)
    adult_poses: int = 3000
    test_poses: int = 200
    sizes: tuple[int, ...] = (50, 200, 1000)
    seeds: tuple[int, ...] = (0, 1, 2)
    camera: str = "render"
    layout: str = "h36m17"

    # Nested configs that from_dict builds (with checked names) from mappings.
    _nested: ClassVar[dict[str, type]] = {
        "score": ScoreConfig,
        "adult_train": TrainConfig,
        "infant_train": TrainConfig,
        "augment": AugmentConfig,
        "lifter": LifterConfig,
        "lift": LiftConfig,
    }

    @classmethod
    def default(cls, **overrides: Any) -> ExperimentProfile:
        return cls._preset("default", {}, overrides)

    @classmethod
    def smoke(cls, **overrides: Any) -> ExperimentProfile:
        """Seconds: tiny sizes so that every code path runs."""
        values = dict(
            score=ScoreConfig(width=64, blocks=1, embed_dim=32, dropout=0.0, groups=8),
            adult_train=TrainConfig(steps=30, batch_size=32, warmup=5),
            infant_train=TrainConfig(steps=20, batch_size=32, warmup=5),
            augment=AugmentConfig(steps=5),
            augmented_poses=50,
            lifter=LifterConfig(width=32, steps=20, batch_size=32),
            lift=LiftConfig.fast(ipo_steps=10, oil_steps=10),
            adult_poses=200,
            test_poses=20,
            sizes=(20,),
            seeds=(0,),
        )
        return cls._preset("smoke", values, overrides)

    @classmethod
    def paper(cls, **overrides: Any) -> ExperimentProfile:
        """ZeDO-i's network and schedules (a GPU's worth of work)."""
        values = dict(
            score=ScoreConfig(width=1024, blocks=2, embed_dim=512, dropout=0.25),
            adult_train=TrainConfig.paper(steps=20000),
            infant_train=TrainConfig.paper(steps=4500),
            lifter=LifterConfig(width=1024, dropout=0.5, steps=20000),
            lift=LiftConfig.reference(),
            adult_poses=50000,
            test_poses=1000,
        )
        return cls._preset("paper", values, overrides)


@dataclass
class ExperimentData:
    """Adult training poses, the infant pool (training sets are its prefixes), the infant test set."""

    adult: PoseSet3D
    infant_pool: PoseSet3D
    test: PoseSet3D


def make_datasets(body: Any, profile: ExperimentProfile, seed: int = 0) -> ExperimentData:
    """Sample the three pose sets with disjoint seeds (test poses never overlap training)."""
    common = dict(layout=profile.layout, camera=profile.camera)
    return ExperimentData(
        adult=sample_pose_set(body, "adult", profile.adult_poses, seed=1000 + seed, **common),
        infant_pool=sample_pose_set(body, "infant", max(profile.sizes), seed=2000 + seed, **common),
        test=sample_pose_set(body, "infant", profile.test_poses, seed=3000 + seed, **common),
    )


def _adapt(config: TrainConfig, lr: float) -> TrainConfig:
    return replace(config, lr=lr)


def run_lifting_experiment(
    data: ExperimentData,
    profile: ExperimentProfile,
    *,
    methods: Sequence[str] = METHODS,
    device: Any = "cpu",
    keypoints_2d: np.ndarray | None = None,
    progress: Callable[[dict], None] | None = None,
    adult_priors: Mapping[int, ScorePrior] | None = None,
) -> tuple[list[dict], dict[str, Any]]:
    """Train and evaluate every method × size × seed; returns ``(rows, models)``.

    Each row: method, size (infant training poses; 0 for the adult prior), seed, mpjpe,
    pa_mpjpe (mm), train/lift seconds. ``keypoints_2d`` replaces the test set's ground-truth
    2D (e.g. noisy or predicted keypoints). ``models`` keeps the last seed's priors by name
    for figures. ``progress`` is called with each row as it is made.
    ``adult_priors`` (by seed) are adult priors already trained with
    ``profile.score`` and ``profile.adult_train`` on ``data.adult``; they are used instead of
    training the same prior again.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    test = data.test
    inputs = test.keypoints_2d if keypoints_2d is None else keypoints_2d
    rows: list[dict] = []
    models: dict[str, Any] = {}

    def evaluate(method: str, size: int, seed: int, model: Any, train_seconds: float) -> None:
        start = time.perf_counter()
        if method == "mlp_lifter":
            pred = model.predict(inputs, test.intrinsics, device=device)
            scores = evaluate_lift(pred, test.poses_3d, layout=test.layout)
        else:
            result = lift(model, inputs, test.intrinsics, profile.lift, device=device)
            scores = evaluate_lift(result, test.poses_3d)
        row = {
            "method": method,
            "size": size,
            "seed": seed,
            "mpjpe": scores["mpjpe"],
            "pa_mpjpe": scores["pa_mpjpe"],
            "train_seconds": train_seconds,
            "lift_seconds": time.perf_counter() - start,
        }
        rows.append(row)
        models[f"{method}/{size}"] = model
        if progress is not None:
            progress(row)

    need_adult = {"adult_zero_shot", "finetune", "control"} & set(methods)
    for seed in profile.seeds:
        adult: ScorePrior | None = None
        if need_adult:
            adult = (adult_priors or {}).get(seed) or train_prior(
                data.adult.poses_3d, profile.score, profile.adult_train, seed=seed, device=device
            )
            if "adult_zero_shot" in methods:
                evaluate("adult_zero_shot", 0, seed, adult, adult.seconds)
        domain = None
        for size in profile.sizes:
            train = data.infant_pool.subset(slice(0, size))
            poses = train.poses_3d
            if "infant_scratch" in methods:
                prior = train_prior(
                    poses, profile.score, profile.infant_train, seed=seed, device=device
                )
                evaluate("infant_scratch", size, seed, prior, prior.seconds)
            adapt = _adapt(profile.infant_train, profile.adapt_lr)
            if "finetune" in methods:
                prior = finetune(adult, poses, adapt, seed=seed, device=device)
                evaluate("finetune", size, seed, prior, prior.seconds)
            if "control" in methods:
                prior = control_branch(adult, poses, adapt, seed=seed, device=device)
                evaluate("control", size, seed, prior, prior.seconds)
            if "augmented" in methods:
                start = time.perf_counter()
                domain = train_domain_model(
                    data.adult.poses_3d,
                    poses,
                    profile.score,
                    profile.infant_train,
                    seed=seed,
                    device=device,
                )
                rng = np.random.default_rng(seed)
                pick = rng.choice(
                    len(data.adult), min(profile.augmented_poses, len(data.adult)), replace=False
                )
                extra = augment_poses(
                    domain,
                    data.adult.poses_3d[pick],
                    poses,
                    profile.augment,
                    seed=seed,
                    device=device,
                )
                # ZeDO-i trains the infant prior on real + augmented poses together.
                prior = train_prior(
                    np.concatenate([poses, extra]),
                    profile.score,
                    profile.infant_train,
                    seed=seed,
                    device=device,
                )
                prior.pose_sample = poses.astype(np.float32)  # start poses from real infants only
                models[f"augmented_samples/{size}"] = extra
                evaluate("augmented", size, seed, prior, time.perf_counter() - start)
            if "mlp_lifter" in methods:
                lifter = train_lifter(
                    train.keypoints_2d,
                    train.intrinsics,
                    poses,
                    train.layout,
                    profile.lifter,
                    seed=seed,
                    device=device,
                )
                evaluate("mlp_lifter", size, seed, lifter, lifter.seconds)
    info = {"profile": asdict(profile), "test_poses": len(test), "layout": test.layout}
    return rows, {**models, "info": info}
