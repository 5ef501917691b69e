"""The chapter's table: adult zero-shot (as is, and started at infant size), infant from
scratch, fine-tune, control branch, + augmentation, and a learned lifter (from scratch, and
pre-trained on adults then fine-tuned), at several infant training-set sizes and seeds.

:func:`make_datasets` samples the pose sets once (adult training poses, an infant pool whose
first ``n`` poses are the training set of size ``n``, an infant **validation** set for every
choice, and a separate infant **test** set that only reports); :func:`run_lifting_experiment`
trains and evaluates every method and returns one row per (method, size, seed), on the test
set or (``on="validation"``) the validation set; :func:`compare_lift_configs` lifts the
validation set with several lifting settings, to choose one. :class:`ExperimentProfile` holds
the sizes: ``default()`` fits a laptop CPU (width 256, a few hundred to a few thousand steps),
``paper()`` ZeDO-i's network (1024 × 2) and schedule.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from ..body.model import BodyModel
from ..checked import CheckedConfig
from .augment import (
    GuidedAugmentConfig,
    augment_poses,
    mean_bone_length,
    mix_augmented,
    train_domain_model,
)
from .baselines import LifterConfig, MlpLifter, fit_lifter
from .control import control_branch
from .data import PoseSet3D, sample_pose_set
from .lift import LiftConfig, initial_poses, lift
from .metrics import evaluate_lift
from .score import ScoreConfig
from .train import PriorTrainConfig, ScorePrior, finetune, train_prior

__all__ = [
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

#: The table's rows, in order.
METHODS = (
    "adult_zero_shot",
    "adult_scaled",
    "infant_scratch",
    "finetune",
    "finetune_mean",
    "control",
    "augmented",
    "mlp_lifter",
    "lifter_finetune",
)

#: Where :data:`PAPER_MPJPE` comes from.
PAPER_MPJPE_SOURCE = (
    "ZeDO-i's public repository (ipl-uw/ZeDO-Release), issue #3 'SyRIP MPJPE results': the "
    "released SyRIP checkpoint ZeDO-i_aug.pth (from scratch + augmentation, 1 hypothesis, "
    "ground-truth 2D) measured by its maintainer, who says it is the paper's number"
)

#: ZeDO-i's MPJPE (mm) on SyRIP beside the table row it belongs to (:data:`METHODS` → value;
#: :data:`PAPER_MPJPE_SOURCE`). The other rows have no released counterpart; the abstract's
#: 43.6 mm names no variant, so it sits beside none.
PAPER_MPJPE: dict[str, float] = {"augmented": 45.1}


def method_names(mean_of: int) -> dict[str, str]:
    """:data:`METHODS` → the row name the chapter prints (``mean_of``: start poses averaged by
    the "fine-tune, mean of" row, :attr:`ExperimentProfile.mean_of`)."""
    return {
        "adult_zero_shot": "adult zero-shot",
        "adult_scaled": "adult zero-shot, infant size",
        "infant_scratch": "infant from scratch",
        "finetune": "fine-tune",
        "finetune_mean": f"fine-tune, mean of {mean_of}",
        "control": "control branch",
        "augmented": "+ augmentation",
        "mlp_lifter": "MLP lifter",
        "lifter_finetune": "MLP lifter, adult pre-trained",
    }


@dataclass
class ExperimentProfile(CheckedConfig):
    """Sizes of the lifting experiment (one :class:`ScoreConfig` for every prior)."""

    score: ScoreConfig = field(
        default_factory=lambda: ScoreConfig(width=256, blocks=2, embed_dim=128, dropout=0.1)
    )
    adult_train: PriorTrainConfig = field(
        default_factory=lambda: PriorTrainConfig(steps=1500, batch_size=128, warmup=150)
    )
    infant_train: PriorTrainConfig = field(
        default_factory=lambda: PriorTrainConfig(
            steps=400, batch_size=128, warmup=50, ema_rate=0.99
        )
    )
    adapt_lr: float = 1e-4  # fine-tune and control branch start from a trained prior
    augment: GuidedAugmentConfig = field(default_factory=GuidedAugmentConfig)
    augmented_poses: int = 500
    # The lifter from scratch (on adults, or on the infants alone) gets the adult prior's
    # steps; fine-tuned on the infants, the adapted priors' steps (lr chosen on validation).
    lifter: LifterConfig = field(default_factory=lambda: LifterConfig(steps=1500, batch_size=128))
    lifter_adapt: LifterConfig = field(
        default_factory=lambda: LifterConfig(steps=400, batch_size=128, lr=1e-3)
    )
    # The fast schedule, with each pose rescaled to the prior's bone length after the loop:
    # validation MPJPE 55.6 -> 51.3 mm (fine-tuned prior, 1000 infants, seed 0).
    lift: LiftConfig = field(default_factory=lambda: LiftConfig.fast(size_to_prior=True))
    adult_poses: int = 3000
    test_poses: int = 200
    validation_poses: int = 200
    # finetune_mean: the fine-tuned prior lifting from this many start poses, reporting their
    # mean pose (no ground truth needed); validation MPJPE 50.8 -> 45.8 mm with 4.
    mean_of: int = 4
    # adult_scaled: adult start poses times this; None = validation / adult mean bone length.
    infant_size_ratio: float | None = None
    sizes: tuple[int, ...] = (50, 200, 1000)
    seeds: tuple[int, ...] = (0, 1, 2)
    camera: str = "render"
    layout: str = "h36m17"

    # Nested configs that from_dict builds (with checked names) from mappings.
    _nested: ClassVar[dict[str, type]] = {
        "score": ScoreConfig,
        "adult_train": PriorTrainConfig,
        "infant_train": PriorTrainConfig,
        "augment": GuidedAugmentConfig,
        "lifter": LifterConfig,
        "lifter_adapt": LifterConfig,
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
            adult_train=PriorTrainConfig(steps=30, batch_size=32, warmup=5),
            infant_train=PriorTrainConfig(steps=20, batch_size=32, warmup=5),
            augment=GuidedAugmentConfig(steps=5),
            augmented_poses=50,
            lifter=LifterConfig(width=32, steps=20, batch_size=32),
            lifter_adapt=LifterConfig(width=32, steps=10, batch_size=32),
            lift=LiftConfig.fast(ipo_steps=10, oil_steps=10, size_to_prior=True),
            adult_poses=200,
            test_poses=20,
            validation_poses=20,
            sizes=(20,),
            seeds=(0,),
            mean_of=2,
        )
        return cls._preset("smoke", values, overrides)

    @classmethod
    def paper(cls, **overrides: Any) -> ExperimentProfile:
        """ZeDO-i's network and schedules (a GPU's worth of work)."""
        values = dict(
            score=ScoreConfig(width=1024, blocks=2, embed_dim=512, dropout=0.25),
            adult_train=PriorTrainConfig.paper(steps=20000),
            infant_train=PriorTrainConfig.paper(steps=4500),
            lifter=LifterConfig(width=1024, dropout=0.5, steps=20000),
            lifter_adapt=LifterConfig(width=1024, dropout=0.5, steps=4500, lr=3e-4),
            lift=LiftConfig.reference(size_to_prior=True),
            adult_poses=50000,
            test_poses=1000,
        )
        return cls._preset("paper", values, overrides)


@dataclass
class ExperimentData:
    """Adult training poses, the infant pool (training sets are its prefixes), the infant
    validation set (every choice is made on it) and the infant test set (reports only)."""

    adult: PoseSet3D
    infant_pool: PoseSet3D
    test: PoseSet3D
    validation: PoseSet3D | None = None


def _training_sets(
    body: BodyModel, profile: ExperimentProfile, seed: int
) -> tuple[PoseSet3D, PoseSet3D]:
    """The adult training poses and the infant pool, as :func:`make_datasets` samples them."""
    common = dict(layout=profile.layout, camera=profile.camera)
    return (
        sample_pose_set(body, "adult", profile.adult_poses, seed=1000 + seed, **common),
        sample_pose_set(body, "infant", max(profile.sizes), seed=2000 + seed, **common),
    )


def make_datasets(body: BodyModel, profile: ExperimentProfile, seed: int = 0) -> ExperimentData:
    """Sample the four pose sets with disjoint seeds (no evaluation pose is a training pose)."""
    common = dict(layout=profile.layout, camera=profile.camera)
    adult, infant_pool = _training_sets(body, profile, seed)
    return ExperimentData(
        adult=adult,
        infant_pool=infant_pool,
        test=sample_pose_set(body, "infant", profile.test_poses, seed=3000 + seed, **common),
        validation=sample_pose_set(
            body, "infant", profile.validation_poses, seed=4000 + seed, **common
        ),
    )


def infant_size_ratio(data: ExperimentData, profile: ExperimentProfile) -> float:
    """One population constant: infant / adult mean bone length (validation infants, adults).

    Bone lengths do not depend on posture, so this is the size of the bodies, not a fit to
    any pose that is lifted; ``profile.infant_size_ratio`` overrides it.
    """
    if profile.infant_size_ratio is not None:
        return float(profile.infant_size_ratio)
    if data.validation is None:
        raise ValueError("infant_size_ratio needs data.validation (make_datasets makes it)")
    layout = data.adult.layout
    return mean_bone_length(data.validation.poses_3d, layout) / mean_bone_length(
        data.adult.poses_3d, layout
    )


def _adapt(config: PriorTrainConfig, lr: float) -> PriorTrainConfig:
    return replace(config, lr=lr)


def finetuned_infant_prior(
    body: BodyModel, profile: ExperimentProfile, *, seed: int = 0, device: Any = "cpu"
) -> ScorePrior:
    """The table's "fine-tune" prior on ``profile``'s whole infant pool: an adult prior trained
    on the adult poses, then every weight trained further on the infants at ``adapt_lr``.
    Chapter 06's lifting explorer caches it (:func:`~infantpose.lift3d.cache.cached_prior`);
    only the two training sets are sampled, not the evaluation sets."""
    adults, infants = _training_sets(body, profile, seed)
    adult = train_prior(
        adults.poses_3d, profile.score, profile.adult_train, seed=seed, device=device
    )
    adapt = _adapt(profile.infant_train, profile.adapt_lr)
    return finetune(adult, infants.poses_3d, adapt, seed=seed, device=device)


_SCORES = ("mpjpe", "n_mpjpe", "pa_mpjpe", "bone_ratio")


def _scores_row(scores: dict) -> dict:
    return {k: scores[k] for k in _SCORES}


@dataclass
class LiftingRow:
    """One row of the chapter's table: ``method`` trained on ``size`` infant poses (0 for the
    adult-only rows) with ``seed``; errors in millimetres on the set lifted."""

    method: str
    size: int
    seed: int
    mpjpe: float
    n_mpjpe: float
    pa_mpjpe: float
    bone_ratio: float
    train_seconds: float
    lift_seconds: float
    augmented_share: float = math.nan  # ``augmented`` only: generated share of its training set

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON values (``augmented_share`` only where there is one)."""
        row = asdict(self)
        if math.isnan(self.augmented_share):
            del row["augmented_share"]
        return row


@dataclass
class ConfigScore:
    """One prior lifting the validation set with one named :class:`LiftConfig`."""

    prior: str
    config: str
    mpjpe: float
    n_mpjpe: float
    pa_mpjpe: float
    bone_ratio: float


def compare_lift_configs(
    priors: Mapping[str, ScorePrior],
    poses: PoseSet3D,
    configs: Mapping[str, LiftConfig],
    *,
    device: Any = "cpu",
    init_poses: Mapping[str, Any] | None = None,
) -> list[ConfigScore]:
    """Lift ``poses`` (the validation set) with every prior × setting; one row each.

    ``init_poses`` by prior name overrides the start poses (as for the infant-size adult start).
    """
    rows = []
    for prior_name, prior in priors.items():
        for config_name, config in configs.items():
            start = (init_poses or {}).get(prior_name)
            result = lift(
                prior, poses.keypoints_2d, poses.intrinsics, config, device=device, init_poses=start
            )
            scores = evaluate_lift(result, poses.poses_3d)
            rows.append(ConfigScore(prior_name, config_name, **_scores_row(scores)))
    return rows


def run_lifting_experiment(
    data: ExperimentData,
    profile: ExperimentProfile,
    *,
    methods: Sequence[str] = METHODS,
    device: Any = "cpu",
    keypoints_2d: np.ndarray | None = None,
    progress: Callable[[LiftingRow], None] | None = None,
    adult_priors: Mapping[int, ScorePrior] | None = None,
    on: str = "test",
) -> tuple[list[LiftingRow], dict[str, Any]]:
    """Train and evaluate every method × size × seed; returns ``(rows, models)``, one
    :class:`LiftingRow` per method × size × seed. ``on``: ``"test"`` (report) or ``"validation"``
    (choose). ``keypoints_2d`` replaces that set's ground-truth 2D (e.g. noisy or predicted
    keypoints). ``models`` keeps the last seed's models by name for figures; ``progress`` is
    called with each row as it is made. ``adult_priors`` (by seed) are adult priors already
    trained with ``profile.score`` and ``profile.adult_train`` on ``data.adult``; they are
    used instead of training the same prior again.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    if on not in ("test", "validation"):
        raise ValueError(f"on must be 'test' or 'validation', got {on!r}")
    target = data.test if on == "test" else data.validation
    if target is None:
        raise ValueError("data has no validation set; make it with make_datasets")
    inputs = target.keypoints_2d if keypoints_2d is None else keypoints_2d
    rows: list[LiftingRow] = []
    models: dict[str, Any] = {}
    ratio = infant_size_ratio(data, profile) if "adult_scaled" in methods else None

    def evaluate(
        method: str,
        size: int,
        seed: int,
        model: Any,
        train_seconds: float,
        augmented_share: float = math.nan,
    ) -> None:
        start = time.perf_counter()
        config = profile.lift
        if isinstance(model, MlpLifter):
            pred = model.predict(inputs, target.intrinsics, device=device)
            scores = evaluate_lift(pred, target.poses_3d, layout=target.layout)
        else:
            init = bone = None
            if method == "adult_scaled":
                # The adult prior told the infants' size: start poses and the final size.
                init = initial_poses(model.pose_sample, profile.lift.hypotheses) * ratio
                bone = ratio * mean_bone_length(model.pose_sample, target.layout)
            if method == "finetune_mean":
                config = replace(config, hypotheses=profile.mean_of)
            result = lift(
                model,
                inputs,
                target.intrinsics,
                config,
                device=device,
                init_poses=init,
                bone_length=bone,
            )
            scores = evaluate_lift(result, target.poses_3d)
            if method == "finetune_mean":
                mean = result.mean_pose
                mean[~result.valid] = np.nan
                scores = evaluate_lift(mean, target.poses_3d, layout=target.layout)
        row = LiftingRow(
            method=method,
            size=size,
            seed=seed,
            **_scores_row(scores),
            train_seconds=train_seconds,
            lift_seconds=time.perf_counter() - start,
            augmented_share=augmented_share,
        )
        rows.append(row)
        models[f"{method}/{size}"] = model
        if progress is not None:
            progress(row)

    need_adult = {
        "adult_zero_shot",
        "adult_scaled",
        "finetune",
        "finetune_mean",
        "control",
    } & set(methods)
    for seed in profile.seeds:
        adult: ScorePrior | None = None
        if need_adult:
            adult = (adult_priors or {}).get(seed) or train_prior(
                data.adult.poses_3d, profile.score, profile.adult_train, seed=seed, device=device
            )
            for method in ("adult_zero_shot", "adult_scaled"):
                if method in methods:
                    evaluate(method, 0, seed, adult, adult.seconds)
        adult_lifter = None
        if "lifter_finetune" in methods:
            adult_lifter = fit_lifter(data.adult, profile.lifter, seed=seed, device=device)
            models["lifter_adult/0"] = adult_lifter
        for size in profile.sizes:
            train = data.infant_pool.subset(slice(0, size))
            poses = train.poses_3d
            if "infant_scratch" in methods:
                prior = train_prior(
                    poses, profile.score, profile.infant_train, seed=seed, device=device
                )
                evaluate("infant_scratch", size, seed, prior, prior.seconds)
            adapt = _adapt(profile.infant_train, profile.adapt_lr)
            if {"finetune", "finetune_mean"} & set(methods):
                prior = finetune(adult, poses, adapt, seed=seed, device=device)
                for method in ("finetune", "finetune_mean"):
                    if method in methods:
                        evaluate(method, size, seed, prior, prior.seconds)
            if "control" in methods:
                prior = control_branch(adult, poses, adapt, seed=seed, device=device)
                evaluate("control", size, seed, prior, prior.seconds)
            if "augmented" in methods:
                start = time.perf_counter()
                prior, extra = _augmented_prior(data, poses, profile, seed, device)
                models[f"augmented_samples/{size}"] = extra
                share = len(extra) / (len(extra) + size)
                evaluate(
                    "augmented",
                    size,
                    seed,
                    prior,
                    time.perf_counter() - start,
                    augmented_share=share,
                )
            if "mlp_lifter" in methods:
                lifter = fit_lifter(train, profile.lifter, seed=seed, device=device)
                evaluate("mlp_lifter", size, seed, lifter, lifter.seconds)
            if "lifter_finetune" in methods:
                lifter = fit_lifter(
                    train, profile.lifter_adapt, seed=seed, device=device, start=adult_lifter
                )
                evaluate(
                    "lifter_finetune", size, seed, lifter, adult_lifter.seconds + lifter.seconds
                )
    info = {
        "profile": asdict(profile),
        "evaluated_on": on,
        "poses": len(target),
        "layout": target.layout,
        "infant_size_ratio": ratio,
    }
    return rows, {**models, "info": info}


def _augmented_prior(
    data: ExperimentData, poses: np.ndarray, profile: ExperimentProfile, seed: int, device: Any
) -> tuple[ScorePrior, np.ndarray]:
    """ZeDO-i's "+ aug." row: a prior trained on real + augmented infants (:mod:`.augment`)."""
    config = profile.augment
    domain_train = profile.infant_train
    if config.train_steps is not None:
        domain_train = replace(domain_train, steps=config.train_steps)
    domain = train_domain_model(
        data.adult.poses_3d, poses, profile.score, domain_train, seed=seed, device=device
    )
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(data.adult), min(profile.augmented_poses, len(data.adult)), replace=False)
    extra = augment_poses(
        domain, data.adult.poses_3d[pick], poses, config, seed=seed, device=device
    )
    mixed = mix_augmented(poses, extra, config.max_share, seed=seed)
    prior = train_prior(mixed, profile.score, profile.infant_train, seed=seed, device=device)
    prior.pose_sample = poses.astype(np.float32)  # start poses from real infants only
    return prior, mixed[len(poses) :]
