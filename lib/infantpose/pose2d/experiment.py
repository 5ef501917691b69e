"""One row of FiDIP's Tables 1–2, trained and evaluated: the entry point of chapter 03.

:func:`run_experiment` takes an :class:`ExperimentSpec` (which training data, with or without
domain adaptation and pre-stage, which blocks frozen), the data sets (:class:`FidipData`), a seed
and a :class:`~infantpose.pose2d.train.TrainConfig`; it starts from the adult model, trains,
selects the epoch with the best AP on a **validation split carved from the real training
images** (:func:`split_validation`; never the test split) and reports COCO AP on the test split.

:data:`TABLE_ROWS` names the rows of the paper's tables (Table 1: adult-only, fine-tuned, FiDIP;
Table 2: real/synthetic/both, with/without DA, with/without pre-stage, layer3+4 vs layer4).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.coco import CocoKeypoints
from ..env import resolve_device, seed_everything
from ..io import json_digest
from ..sources import code_fingerprint
from ..synthesis.adults import adult_pretraining_set, adult_set
from .config import PAPER_FROZEN, TrainConfig, cpu_config
from .evaluate import Evaluation, evaluate
from .model import PoseResNet
from .prestage import pretrain_classifier
from .runtime import resolve_precision
from .train import fit, resumable_changes, train_adult_model

__all__ = [
    "PAPER_AP_SOURCE",
    "RESULT_COLUMNS",
    "TABLE_ROWS",
    "ExperimentResult",
    "ExperimentSpec",
    "FidipData",
    "TableRun",
    "adult_fingerprint",
    "book_adult_model",
    "cached_adult_model",
    "render_timeout_s",
    "run_experiment",
    "run_table",
    "split_validation",
    "thin_training_set",
]

_TRAIN_DATA = ("none", "real", "synthetic", "real+synthetic")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExperimentSpec:
    """A table row: ``train_data`` in ``none | real | synthetic | real+synthetic``."""

    name: str
    train_data: str = "real+synthetic"
    domain_adaptation: bool = False
    pre_stage: bool = False
    frozen: tuple[str, ...] = PAPER_FROZEN
    description: str = ""
    #: The paper's AP for this row (:data:`PAPER_AP_SOURCE`); None where it has no counterpart.
    paper_ap: float | None = None

    def __post_init__(self) -> None:
        if self.train_data not in _TRAIN_DATA:
            raise ValueError(f"train_data={self.train_data!r}: one of {_TRAIN_DATA}")
        if self.domain_adaptation and self.train_data != "real+synthetic":
            raise ValueError(f"{self.name}: domain adaptation needs train_data='real+synthetic'")
        if self.pre_stage and not self.domain_adaptation:
            raise ValueError(
                f"{self.name}: the pre-stage trains the domain classifier; it needs domain_adaptation"
            )


_LAYER4_ONLY = (*PAPER_FROZEN, "layer3")

#: Where :attr:`ExperimentSpec.paper_ap` comes from.
PAPER_AP_SOURCE = (
    "FiDIP v1 (Huang et al. 2021), Tables 1 and 2: AP on SyRIP Test100, COCO-trained ResNet-50"
)

#: The rows of the paper's Table 1 (first three) and Table 2 analogues, with the paper's AP.
TABLE_ROWS: dict[str, ExperimentSpec] = {
    spec.name: spec
    for spec in (
        ExperimentSpec(
            "adult-only", "none", description="the adult model, no infant training", paper_ap=82.4
        ),
        ExperimentSpec(
            "fine-tuned",
            "real+synthetic",
            description="fine-tuned on real+synthetic, no DA",
            paper_ap=91.8,
        ),
        ExperimentSpec(
            "FiDIP",
            "real+synthetic",
            True,
            True,
            description="DA with pre-stage (the paper's method)",
            paper_ap=92.2,
        ),
        ExperimentSpec("real only", "real", description="fine-tuned on the real infants only"),
        ExperimentSpec(
            "synthetic only",
            "synthetic",
            description="fine-tuned on the synthetic infants only",
            paper_ap=86.3,
        ),
        ExperimentSpec(
            "DA, no pre-stage",
            "real+synthetic",
            True,
            False,
            description="DA, classifier starts untrained",
            paper_ap=91.3,
        ),
        ExperimentSpec(
            "FiDIP, layer4 only",
            "real+synthetic",
            True,
            True,
            _LAYER4_ONLY,
            "DA with layer3 frozen too",
            paper_ap=90.8,
        ),
        ExperimentSpec(
            "fine-tuned, layer4 only",
            "real+synthetic",
            False,
            False,
            _LAYER4_ONLY,
            "no DA, layer3 frozen too",
            paper_ap=90.8,
        ),
    )
}


@dataclass
class FidipData:
    """The four sets of the FiDIP pipeline. ``train``: infant real + synthetic (``is_synthetic``
    on every image); ``test``: real infants; adults for the starting model and the pre-stage."""

    train: CocoKeypoints
    test: CocoKeypoints
    adult_synthetic: CocoKeypoints
    adult_real: CocoKeypoints
    validation_fraction: float = 0.2


def split_validation(
    train: CocoKeypoints, fraction: float, seed: int
) -> tuple[CocoKeypoints, CocoKeypoints]:
    """``(train without validation, validation)``: ``fraction`` of the *real* training images
    (the test domain; at least one), drawn with ``seed``. Synthetic images all stay in train."""
    real = [im["id"] for im in train.images if train.is_synthetic(im) is not True]
    if len(real) < 2:
        raise ValueError(
            f"{train.source}: need ≥ 2 real training images to carve a validation split"
        )
    count = min(len(real) - 1, max(1, round(fraction * len(real))))
    rng = np.random.default_rng([seed, 1234])
    val_ids = set(rng.choice(real, count, replace=False).tolist())
    rest = [i for i in train.image_ids if i not in val_ids]
    return train.subset(rest), train.subset(sorted(val_ids))


def thin_training_set(train: CocoKeypoints, fraction: float, seed: int) -> CocoKeypoints:
    """``fraction`` of the real and of the synthetic images of ``train`` (at least one of
    each domain present), drawn with ``seed``; the whole set when ``fraction`` is 1."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"train_fraction={fraction!r}: a share of the training images in (0, 1]")
    if fraction == 1.0:
        return train
    rng = np.random.default_rng([seed, 4321])
    keep: list[int] = []
    for synthetic in (False, True):
        ids = [im["id"] for im in train.images if bool(train.is_synthetic(im)) is synthetic]
        if ids:
            count = max(1, round(fraction * len(ids)))
            keep += rng.choice(ids, count, replace=False).tolist()
    return train.subset(sorted(keep))


def _select(train: CocoKeypoints, which: str) -> CocoKeypoints:
    if which == "real":
        return train.filter(is_synthetic=False)
    if which == "synthetic":
        return train.filter(is_synthetic=True)
    return train


#: The scalar fields of an :class:`ExperimentResult`, the columns of chapter 03's results table.
RESULT_COLUMNS = (
    "name", "seed", "ap", "ap50", "ap75", "mean_oks", "val_ap", "val_mean_oks", "best_epoch",
    "seconds",
)  # fmt: skip


@dataclass
class ExperimentResult:
    """One table row trained with one seed: test scores (fractions), the chosen epoch's
    validation scores, the training histories, the model and its test predictions."""

    name: str
    seed: int
    ap: float  # test COCO AP
    ap50: float
    ap75: float
    mean_oks: float  # mean per-instance OKS on the test split (it ranks models whose AP is ~0)
    val_ap: float  # of the chosen epoch
    val_mean_oks: float
    best_epoch: int  # -1 when nothing was trained
    history: list[dict[str, float]]
    pre_history: list[dict[str, float]]
    model: PoseResNet
    evaluation: Evaluation  # test predictions, with pooled features
    config: dict[str, Any]
    spec: dict[str, Any]
    seconds: float

    def table_row(self, *columns: str) -> dict[str, Any]:
        """The scalar fields as one row of a results table (default: :data:`RESULT_COLUMNS`)."""
        return {column: getattr(self, column) for column in columns or RESULT_COLUMNS}


def run_experiment(
    spec: ExperimentSpec | str,
    data: FidipData,
    seed: int,
    config: TrainConfig | None = None,
    *,
    adult_model: PoseResNet | dict[str, torch.Tensor] | None = None,
    checkpoint_dir: str | None = None,
    features: bool = True,
    train_fraction: float = 1.0,
) -> ExperimentResult:
    """Train one table row with ``seed`` and evaluate it on ``data.test``.

    ``train_fraction`` < 1 trains on that share of the training images left after the
    validation split (:func:`thin_training_set`, real and synthetic thinned alike), for a
    learning curve against data size whose validation images are the full-size run's.

    ``adult_model`` (a model or its state dict) is the starting point; when None it is trained
    here on ``data.adult_synthetic`` with ``config`` (all layers) — pass it to share it between
    rows. Returns an :class:`ExperimentResult`.
    """
    tic = time.perf_counter()
    spec = TABLE_ROWS[spec] if isinstance(spec, str) else spec
    config = (config or cpu_config()).replace(
        seed=seed, frozen=spec.frozen, domain_adaptation=spec.domain_adaptation
    )
    train, val = split_validation(data.train, data.validation_fraction, seed)
    train = thin_training_set(train, train_fraction, seed)
    log.debug(f"row {spec.name!r}, seed {seed}: {spec.description or spec.train_data}")
    if adult_model is None:
        adult_model, _ = train_adult_model(data.adult_synthetic, config)
    state = adult_model.state_dict() if isinstance(adult_model, torch.nn.Module) else adult_model
    seed_everything(seed)
    model = PoseResNet(config.model)
    model.load_state_dict(state)
    history: list[dict[str, float]] = []
    pre_history: list[dict[str, float]] = []
    best_epoch, val_ap, val_oks = -1, float("nan"), float("nan")
    if spec.train_data != "none":
        classifier = None
        if spec.pre_stage:
            classifier, pre_history = pretrain_classifier(
                model, data.adult_real, data.adult_synthetic, config
            )
        result = fit(
            model,
            _select(train, spec.train_data),
            config,
            val_set=val,
            classifier=classifier,
            checkpoint_dir=checkpoint_dir,
        )
        history, best_epoch = result.history, result.best_epoch
        val_ap, val_oks = result.best_ap, result.best_oks
    else:
        chosen = evaluate(model, val, codec=config.codec, device=config.device)
        val_ap, val_oks = chosen.ap.ap, chosen.mean_oks
    test = evaluate(model, data.test, codec=config.codec, features=features, device=config.device)
    log.debug(
        f"row {spec.name!r}, seed {seed}: test AP {test.ap.ap:.3f}, validation AP {val_ap:.3f}, "
        f"epoch {best_epoch + 1}, {time.perf_counter() - tic:.0f} s"
    )
    return ExperimentResult(
        name=spec.name,
        seed=seed,
        ap=test.ap.ap,
        ap50=test.ap.ap50,
        ap75=test.ap.ap75,
        mean_oks=test.mean_oks,
        val_ap=val_ap,
        val_mean_oks=val_oks,
        best_epoch=best_epoch,
        history=history,
        pre_history=pre_history,
        model=model,
        evaluation=test,
        config=config.to_dict(),
        spec=asdict(spec),
        seconds=time.perf_counter() - tic,
    )


@dataclass
class TableRun:
    """What :func:`run_table` made: one results row and the epoch histories per run, and the
    full :class:`ExperimentResult` (model, test predictions) of the first seed of the rows
    asked to be kept (the others drop their models to keep memory flat)."""

    rows: list[dict[str, Any]]  # RESULT_COLUMNS (+ "fraction") per row × seed
    histories: list[dict[str, Any]]  # one per epoch, with "name" and "seed"
    kept: dict[str, ExperimentResult]


def run_table(
    data: FidipData,
    rows: Sequence[str],
    seeds: Sequence[int],
    config: TrainConfig,
    *,
    adult_model: PoseResNet | dict[str, torch.Tensor],
    keep: Sequence[str] = (),
    train_fraction: float = 1.0,
    features: bool = True,
    report: Callable[[ExperimentResult], None] | None = None,
) -> TableRun:
    """Every row of ``rows`` (:data:`TABLE_ROWS` names) trained with every seed from the same
    ``adult_model``, seed-major, as chapter 03's tables need them. A row that trains nothing
    (adult-only) runs once: the same model gives the same numbers under every seed. ``report``
    is called with each result as it is made; ``train_fraction`` and ``features`` go to
    :func:`run_experiment`."""
    unknown = [name for name in rows if name not in TABLE_ROWS]
    if unknown:
        raise ValueError(f"run_table: unknown rows {unknown}; choose from {', '.join(TABLE_ROWS)}")
    if not seeds:
        raise ValueError("run_table: no seeds; give at least one (the book's tables use ≥ 3)")
    run = TableRun([], [], {})
    for seed in seeds:
        for name in rows:
            if TABLE_ROWS[name].train_data == "none" and seed != seeds[0]:
                continue
            result = run_experiment(name, data, seed, config, adult_model=adult_model,
                                    features=features, train_fraction=train_fraction)  # fmt: skip
            run.rows.append({**result.table_row(), "fraction": train_fraction})
            run.histories += [{"name": name, "seed": seed, **h} for h in result.history]
            if seed == seeds[0] and name in keep:
                run.kept[name] = result
            if report is not None:
                report(result)
    return run


#: Fields that do not change how the adult model trains (it never uses the domain classifier
#: and trains every layer): not in its fingerprint. ``epochs`` is left out only with a constant
#: learning rate, where asking for more epochs continues the same run.
_NOT_ADULT_TRAINING = (
    "log", "num_workers", "device", "domain_adaptation", "grl_lambda", "pre_epochs",
    "pre_batch_size", "classifier_hidden", "classifier_lr", "frozen", "balanced_batches",
)  # fmt: skip


def _not_in_fingerprint(config: TrainConfig) -> set[str]:
    return set(_NOT_ADULT_TRAINING) | ({"epochs"} if config.resumable_epochs else set())


def training_code_digest() -> str:
    """A hash of the code that decides the adult model's weights: :func:`train_adult_model`'s
    module and everything it imports (the epoch's selection, the keypoint flips, the COCO and
    image readers among them), by the package's one fingerprint rule
    (:func:`~infantpose.sources.code_fingerprint`). A change to any of it is a new model."""
    return code_fingerprint(train_adult_model, length=12)


def adult_fingerprint(
    adult: CocoKeypoints, config: TrainConfig, val_set: CocoKeypoints | None = None
) -> str:
    """A hash of what defines the adult model: every training setting that changes its weights,
    the code that trains it (:func:`training_code_digest`), and the image and annotation
    records of ``adult`` and ``val_set`` (which selects the epoch)."""
    skip = _not_in_fingerprint(config)
    settings = {k: v for k, v in config.to_dict().items() if k not in skip}
    # File names without their folders: a merged set's names are absolute, and moving the data
    # root does not change the model.
    records = [settings, training_code_digest()] + [
        None
        if s is None
        else {
            "images": [{**i, "file_name": Path(i["file_name"]).name} for i in s.images],
            "annotations": s.annotations,
        }
        for s in (adult, val_set)
    ]
    return json_digest(records)


def cached_adult_model(
    adult: CocoKeypoints,
    config: TrainConfig,
    root: str | os.PathLike,
    *,
    val_set: CocoKeypoints | None = None,
) -> tuple[PoseResNet, Any]:
    """:func:`train_adult_model` with its checkpoints in ``root/adult_<depth>_<fingerprint>``:
    trained once per configuration, data and training code, resumed after an interruption,
    loaded on later runs. With a constant learning rate, asking for more ``epochs`` continues
    the same run; with an annealed one, another length is another model.
    """
    # "auto" precision becomes what this machine runs: bf16 and fp32 train different weights.
    config = config.replace(
        precision=resolve_precision(resolve_device(config.device), config.precision)
    )
    folder = Path(root) / f"adult_{config.model.depth}_{adult_fingerprint(adult, config, val_set)}"
    log.debug(f"adult model: {folder} ({'resumed or reused' if folder.exists() else 'new'})")
    # The unused settings take their defaults, so that the checkpoint resumes whatever they were.
    defaults = TrainConfig().to_dict()
    unused = _not_in_fingerprint(config) - resumable_changes(config)
    config = config.replace(**{k: defaults[k] for k in unused})
    return train_adult_model(adult, config, val_set=val_set, checkpoint_dir=folder)


def render_timeout_s(images: int) -> float:
    """How long other ranks wait for rank 0 to render ``images`` adults: 30 minutes plus one
    second per image (the renderer and writer make several images a second on 2 CPU cores,
    so this leaves a wide margin; it only matters if rank 0 hangs, since its errors reach
    the waiting ranks at once)."""
    return 1800.0 + float(images)


def book_adult_model(
    config: TrainConfig,
    *,
    pretrain_adults: int,
    validation_adults: int,
    epochs: int,
    pretrain_set: str = "surreal",
    root: str | os.PathLike | None = None,
    progress: bool = False,
    context: Any = None,
    timeout_s: float | None = None,
) -> tuple[PoseResNet, Any]:
    """The book's adult starting model: trained on ``pretrain_adults`` adults of
    ``pretrain_set`` (:data:`~infantpose.synthesis.adults.ADULT_PRETRAINING_SETS`: ``surreal``,
    upright SURREAL-like people, or ``coco-like``, half of them on the floor or with the photo
    look) rendered with ``config.seed + 1`` on, its epoch chosen on chapter 02's
    ``validation_adults`` SURREAL-like adults (rendered with ``config.seed``, so no image is in
    both), cached under
    ``<data>/cache/pose2d`` (:func:`cached_adult_model`). Chapters 01 and 03 and
    ``python -m infantpose.pose2d adult`` all call this, so they share one model. Under
    ``torchrun`` (``context``) rank 0 makes the data sets while the others wait up to
    ``timeout_s`` (default :func:`render_timeout_s` of the images; NCCL's 10-minute default
    would end a paper-size run), then load them."""
    from ..config import data_root

    def sets():
        return (
            adult_pretraining_set(
                pretrain_set, pretrain_adults, config.seed + 1, progress=progress
            ),
            adult_set("surreal", validation_adults, config.seed),
        )

    if context is not None and context.active:
        wait = timeout_s or render_timeout_s(pretrain_adults + validation_adults)
        pretrain, validation = context.main_first(
            sets, timeout_s=wait, what=f"the {pretrain_adults} + {validation_adults} adult images"
        )
    else:
        pretrain, validation = sets()
    root = Path(root) if root is not None else data_root() / "cache" / "pose2d"
    return cached_adult_model(pretrain, config.replace(epochs=epochs), root, val_set=validation)
