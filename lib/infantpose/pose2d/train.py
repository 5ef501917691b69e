"""Training as FiDIP: the adult starting model, the pre-stage, stages I/II, plain fine-tuning.

What runs (FiDIP's code, ostadabbas/Infant-Pose-Estimation, with its bugs not repeated):

* **Adult starting model** (:func:`train_adult_model`): all layers trained on the adult
  synthetic set. It stands in for COCO pretraining, since no weights can be downloaded; with
  real weights use :func:`~infantpose.pose2d.checkpoints.load_published` instead.
* **Pre-stage** (:func:`~infantpose.pose2d.prestage.pretrain_classifier`): only the domain classifier learns, on adult real
  (0) vs adult synthetic (1) crops; the pose net runs in eval mode under ``no_grad`` — the
  reference ran it in train mode, so its BN statistics drifted on adult images.
* **Stages I and II** (:func:`fit` with ``domain_adaptation=True``), alternated every batch:
  one forward; stage I updates the classifier on *detached* features; stage II updates the pose
  net with JointsMSE + BCE through a :class:`~infantpose.pose2d.domain.GradientReversal`
  (λ = ``grl_lambda``) while the classifier's parameters are excluded from autograd, so no
  gradient leaks into it (the reference leaked −λ·∂BCE/∂θ_D into the next classifier step).
* **Plain fine-tuning** (``domain_adaptation=False``): the ablation without the classifier.
* **Freezing by module name** (``frozen``, default ``conv1, bn1, layer1, layer2`` = the paper's
  Res1–Res3): ``requires_grad=False`` and those modules stay in eval mode, so their BatchNorm
  statistics do not move (the reference froze by parameter index and let BN drift). Adding
  ``layer3`` gives the "update layer4 only" ablation.
* Adam (lr 1e-3, no weight decay) for both networks, constant learning rate — the reference's
  scheduler never stepped the pose optimizer. ``optimizer="adamw"`` with ``schedule="cosine"``
  (linear warm-up over ``warmup_fraction`` of the steps, then a cosine anneal to 0, stepped
  every batch) is the CPU recipe's; the classifier keeps a constant rate.
* **Model selection** on a validation set (never the test split), by a rule declared before
  the run (:data:`~infantpose.pose2d.config.SELECTION`): the highest validation AP, ties broken
  by validation mean OKS, then by the later epoch; without a validation set, the last epoch.
* **Codec**: targets, decoding and flip test come from ``config.codec`` (the model config's
  codec) alone, for training, validation and (through ``model.codec``, which :func:`fit` makes
  the config's and every checkpoint saves) every later prediction.
* **Several processes** under ``torchrun`` (:mod:`.distributed`): DDP over the pose network,
  the global batch split over the ranks, rank 0 evaluates and writes.
* **Checkpoints** (``checkpoint_dir/last.pt`` after every epoch, ``best.pt``): model,
  classifier, optimizers, epoch, history and RNG states, with the config. Batches are shuffled
  with a generator seeded by (seed, epoch) and augmentations are drawn per (seed, epoch,
  sample), so a resumed run gives exactly the result of an uninterrupted one on CPU (an epoch
  cut short is redone).

The configuration (:class:`~infantpose.pose2d.config.TrainConfig`, paper defaults, and
:func:`~infantpose.pose2d.config.cpu_config`) lives in :mod:`.config`.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from ..data.coco import CocoKeypoints
from ..env import resolve_device, seed_everything
from ..io import mark_made
from ..progress import progress_bar
from .checkpoints import load_checkpoint, save_checkpoint
from .config import PAPER_FROZEN, SELECTION, TrainConfig, cpu_config
from .dataset import BalancedBatchSampler, PoseDataset, TensorSamples, preload
from .distributed import DistContext, average_gradients, broadcast_buffers, from_env, shard
from .domain import DomainClassifier, domain_loss, grad_reverse
from .evaluate import eval_dataset, evaluate
from .loss import joints_mse
from .model import PoseResNet
from .runtime import autocast_context

__all__ = [
    "PAPER_FROZEN",
    "FitResult",
    "TrainConfig",
    "build_classifier",
    "cpu_config",
    "fit",
    "freeze_modules",
    "set_train_mode",
    "train_adult_model",
    "train_dataset",
    "train_step",
]

log = logging.getLogger(__name__)

# Settings that may differ between an interrupted run and its resumption (``epochs`` only with
# a constant learning rate: an annealed one depends on the run's length).
_RESUMABLE_CHANGES = {"epochs", "log", "num_workers", "device"}


def resumable_changes(config: TrainConfig) -> set[str]:
    """The settings that may change when ``config``'s run is resumed."""
    return _RESUMABLE_CHANGES - (set() if config.resumable_epochs else {"epochs"})


@dataclass
class FitResult:
    """``history``: one dict per epoch; ``best_epoch``, ``best_ap`` and ``best_oks``: the epoch
    chosen by ``selection`` and its validation AP and mean OKS (NaN without validation); the
    model passed to :func:`fit` holds the selected weights."""

    history: list[dict[str, float]]
    best_epoch: int
    best_ap: float
    classifier: DomainClassifier | None = None
    best_oks: float = float("nan")
    selection: str = SELECTION


def freeze_modules(model: torch.nn.Module, names: tuple[str, ...] | list[str]) -> None:
    """``requires_grad=False`` on every parameter of the named child modules."""
    for name in names:
        module = getattr(model, name, None)
        if not isinstance(module, torch.nn.Module):
            children = [n for n, _ in model.named_children()]
            raise ValueError(f"cannot freeze {name!r}: the model's modules are {children}")
        for p in module.parameters():
            p.requires_grad_(False)


def set_train_mode(model: torch.nn.Module, frozen: tuple[str, ...] | list[str]) -> None:
    """Train mode, except the frozen modules, which stay in eval mode (fixed BN statistics)."""
    model.train()
    for name in frozen:
        getattr(model, name).eval()


def build_classifier(model: PoseResNet, config: TrainConfig) -> DomainClassifier:
    return DomainClassifier(model.config.feature_channels, config.classifier_hidden)


def train_dataset(coco: CocoKeypoints, config: TrainConfig, **kwargs: Any) -> PoseDataset:
    """The augmented training set of ``coco`` for ``config``."""
    return PoseDataset(
        coco,
        input_size=config.model.input_size,
        heatmap_size=config.model.heatmap_size,
        sigma=config.heatmap_sigma,
        unbiased=config.codec.unbiased,
        augment=config.augment,
        channel_order=config.model.channel_order,
        seed=config.seed,
        cache_images=config.cache_images,
        **kwargs,
    )


def _epoch_order(
    data: Dataset, config: TrainConfig, epoch: int, batch_size: int, *, balanced: bool = False
) -> list[list[int]]:
    """The global batches (sample indices) of ``epoch``: shuffled by (seed, epoch); a trailing
    single sample is dropped (BatchNorm cannot train on one)."""
    if balanced:
        sampler = BalancedBatchSampler(
            _domains(data), batch_size, seed=config.seed, drop_last=False
        )
        sampler.set_epoch(epoch)
        order = list(sampler)
    else:
        g = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        perm = torch.randperm(len(data), generator=g).tolist()
        order = [perm[i : i + batch_size] for i in range(0, len(perm), batch_size)]
    order = [b for b in order if len(b) > 1]
    if config.max_steps_per_epoch is not None:
        order = order[: config.max_steps_per_epoch]
    return order


def _batches(
    data: Dataset,
    config: TrainConfig,
    epoch: int,
    batch_size: int,
    *,
    balanced: bool = False,
    context: DistContext | None = None,
):
    """The batches of ``epoch`` this process trains on: its part of each global batch."""
    for d in getattr(data, "datasets", [data]):
        if hasattr(d, "set_epoch"):
            d.set_epoch(epoch)
    order = _epoch_order(data, config, epoch, batch_size, balanced=balanced)
    if context is not None and context.active:
        order = [part for part in (shard(b, context) for b in order) if len(part) > 1]
    if isinstance(data, TensorSamples):
        for b in order:
            yield data.batch(b)
        return
    loader = DataLoader(
        data,
        batch_sampler=order,
        num_workers=config.num_workers,
        persistent_workers=False,
    )
    yield from loader


def _domains(data: Dataset) -> np.ndarray:
    if isinstance(data, ConcatDataset):
        return np.concatenate([_domains(d) for d in data.datasets])
    return np.asarray(data.domains)


def train_step(
    model: PoseResNet,
    batch: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    *,
    classifier: DomainClassifier | None = None,
    classifier_optimizer: torch.optim.Optimizer | None = None,
    scaler: torch.amp.GradScaler | None = None,
    context: DistContext | None = None,
) -> dict[str, torch.Tensor]:
    """One batch: the pose step, preceded by the classifier step when ``classifier`` is given.
    ``model`` may be the DDP wrapper of the pose network (``context``: its ranks). The batch
    is moved to the model's device; the losses come back detached, on that device (no host
    sync in the step: the caller reads them when it needs the numbers)."""
    device = next(model.parameters()).device
    x = batch["image"].to(device, non_blocking=True)
    if config.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    target = batch["target"].to(device, non_blocking=True)
    weight = batch["target_weight"].to(device, non_blocking=True)
    scaler = scaler or torch.amp.GradScaler(device.type, enabled=False)
    out: dict[str, torch.Tensor] = {}
    with autocast_context(device, config.precision):
        heatmaps, features = model(x, return_features=True)
    if classifier is not None:
        domain = batch["domain"].to(device, non_blocking=True)
        # Stage I: the classifier learns on detached features.
        classifier_optimizer.zero_grad(set_to_none=True)
        with autocast_context(device, config.precision):
            logits = classifier(features.detach())
            loss_d = domain_loss(logits, domain)
        scaler.scale(loss_d).backward()
        average_gradients(classifier, context or DistContext())
        scaler.step(classifier_optimizer)
        out["loss_domain"] = loss_d.detach()
        out["domain_acc"] = ((logits.detach() > 0).float() == domain).float().mean()
    # Stage II: pose loss plus the reversed domain loss; the classifier's weights are
    # excluded from autograd so nothing accumulates in their .grad.
    with autocast_context(device, config.precision):
        loss = joints_mse(heatmaps, target, weight)
        out["loss_pose"] = loss.detach()
        if classifier is not None:
            for p in classifier.parameters():
                p.requires_grad_(False)
            try:
                reversed_logits = classifier(grad_reverse(features, config.grl_lambda))
            finally:
                for p in classifier.parameters():
                    p.requires_grad_(True)
            loss = loss + domain_loss(reversed_logits, domain)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return out


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`_rng_state`'s states. They may come back on the GPU (a checkpoint is
    loaded onto the training device) and generators take CPU byte tensors. A run resumed on
    fewer GPUs than it was saved with restores the first ones (the GPUs this process sees)."""
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        saved = list(state["cuda"])[: torch.cuda.device_count()]
        for index, cuda_state in enumerate(saved):
            torch.cuda.set_rng_state(cuda_state.cpu(), index)


def _check_resumable(saved: dict[str, Any], config: TrainConfig, path: Path) -> None:
    now = config.to_dict()
    with contextlib.suppress(ValueError):  # written before a field moved: in today's shape
        saved = TrainConfig.from_dict(saved, f"{path}: config").to_dict()
    free = resumable_changes(config)
    diff = sorted(k for k in now if k not in free and saved.get(k) != now[k])
    if diff:
        raise ValueError(
            f"{path} was written with a different config ({', '.join(diff)} differ); resume with "
            "the same config, use another checkpoint_dir, or pass resume=False to start over"
        )


def _optimizer(params, lr: float, weight_decay: float, kind: str = "adam") -> torch.optim.Optimizer:
    trainable = [p for p in params if p.requires_grad]
    if kind == "adamw":
        return torch.optim.AdamW(trainable, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(trainable, lr=lr, weight_decay=weight_decay)


def learning_rate_factor(step: int, total: int, config: TrainConfig) -> float:
    """The multiplier of ``config.lr`` at optimiser ``step`` of ``total``: 1 with a constant
    schedule; else a linear warm-up over ``warmup_fraction`` of the steps, then a cosine
    anneal to 0 at the last step."""
    if config.schedule == "constant" or total <= 0:
        return 1.0
    warm = round(config.warmup_fraction * total)
    if step < warm:
        return (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _selection_key(val_ap: float, val_oks: float, epoch: int) -> tuple[float, float, int]:
    """The order :data:`~infantpose.pose2d.config.SELECTION` declares (NaN ranks lowest)."""
    ap = -1.0 if val_ap != val_ap else val_ap
    oks = -1.0 if val_oks != val_oks else val_oks
    return (ap, oks, epoch)


@dataclass
class _Training:
    """What one :func:`fit` run trains with: the model (and its DDP wrapper), the domain
    classifier, their optimisers, the schedule and the fp16 scaler."""

    model: PoseResNet
    classifier: DomainClassifier | None
    optimizer: torch.optim.Optimizer
    classifier_optimizer: torch.optim.Optimizer | None
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    steps_per_epoch: int
    trained: torch.nn.Module | None = None  # the model, wrapped for DDP under torchrun

    def state(self) -> dict[str, Any]:
        """The optimiser side of a ``last.pt`` checkpoint."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "classifier": None if self.classifier is None else self.classifier.state_dict(),
            "classifier_optimizer": None
            if self.classifier_optimizer is None
            else self.classifier_optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.classifier is not None:
            self.classifier.load_state_dict(state["classifier"])
            self.classifier_optimizer.load_state_dict(state["classifier_optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        if state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])


def _prepare_model(model: PoseResNet, config: TrainConfig, device: torch.device) -> None:
    """On the device, in the config's memory format, frozen as asked, with its codec."""
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    for p in model.parameters():  # a model frozen differently before starts from a clean slate
        p.requires_grad_(True)
    freeze_modules(model, config.frozen)
    model.codec = config.codec


def _training(
    model: PoseResNet,
    data: Dataset,
    config: TrainConfig,
    classifier: DomainClassifier | None,
    device: torch.device,
) -> _Training:
    """The domain classifier (stages I/II only), the optimisers, the schedule and the scaler."""
    if config.domain_adaptation:
        domains = _domains(data)
        if (domains < 0).any():
            raise ValueError(
                f"domain adaptation needs is_synthetic on every image; {(domains < 0).sum()} "
                "samples have none. Set the field in the annotation file or domain_adaptation=False"
            )
        classifier = classifier or build_classifier(model, config)
        classifier.to(device)
    else:
        classifier = None
    optimizer = _optimizer(model.parameters(), config.lr, config.weight_decay, config.optimizer)
    classifier_optimizer = (
        _optimizer(
            classifier.parameters(), config.classifier_lr, config.weight_decay, config.optimizer
        )
        if classifier is not None
        else None
    )
    steps_per_epoch = len(
        _epoch_order(data, config, 0, config.batch_size, balanced=config.balanced_batches)
    )
    total_steps = steps_per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, total_steps, config)
    )
    scaler = torch.amp.GradScaler(
        device.type, enabled=config.precision == "fp16" and device.type == "cuda"
    )
    return _Training(
        model, classifier, optimizer, classifier_optimizer, scheduler, scaler, steps_per_epoch
    )


def _resume(
    last: Path, run: _Training, config: TrainConfig, device: torch.device
) -> tuple[list[dict[str, float]], dict[str, Any], int]:
    """``(history, best, start_epoch)`` of the run saved in ``last``, its state loaded."""
    state = load_checkpoint(last, map_location=device)
    _check_resumable(state["config"], config, last)
    run.load(state)
    history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1
    best.setdefault("oks", -math.inf)
    if start_epoch > config.epochs:
        raise ValueError(
            f"{last} holds {start_epoch} epochs, more than the {config.epochs} asked for: ask "
            "for at least as many, use another checkpoint_dir, or pass resume=False"
        )
    _set_rng_state(state["rng"])
    return history, best, start_epoch


def _train_epoch(
    run: _Training,
    data: Dataset,
    config: TrainConfig,
    epoch: int,
    context: DistContext,
    show: bool,
) -> dict[str, float]:
    """One pass over the training set; the mean of each loss over the epoch's steps."""
    run.trained.train()  # the DDP wrapper has a flag of its own
    set_train_mode(run.model, config.frozen)
    if run.classifier is not None:
        run.classifier.train()
    losses: list[dict[str, torch.Tensor]] = []  # read back at the end: no sync per step
    steps_bar = progress_bar(
        _batches(
            data, config, epoch, config.batch_size, balanced=config.balanced_batches,
            context=context,
        ),
        total=run.steps_per_epoch,
        desc=f"epoch {epoch + 1}/{config.epochs}",
        unit="step",
        enabled=show,
        leave=False,
    )  # fmt: skip
    for batch in steps_bar:
        out = train_step(
            run.trained,
            batch,
            run.optimizer,
            config,
            classifier=run.classifier,
            classifier_optimizer=run.classifier_optimizer,
            scaler=run.scaler,
            context=context,
        )
        run.scheduler.step()
        losses.append(out)
        if show and len(losses) % 10 == 1:
            steps_bar.set_postfix(loss=f"{float(out['loss_pose']):.3g}", refresh=False)
    steps_bar.close()
    sums: dict[str, float] = {}
    for out in losses:
        for k, v in out.items():
            sums[k] = sums.get(k, 0.0) + float(v)
    return {k: v / max(len(losses), 1) for k, v in sums.items()}


def _save_epoch(
    last: Path,
    run: _Training,
    config: TrainConfig,
    epoch: int,
    history: list[dict[str, float]],
    best: dict[str, Any],
) -> None:
    """``last.pt`` (everything a resumed run needs) and, when this epoch is the best, ``best.pt``."""
    payload = {
        "kind": "pose2d.fit",
        "config": config.to_dict(),
        "epoch": epoch,
        **run.state(),
        "history": history,
        "best": best,
        "rng": _rng_state(),
    }
    if best["epoch"] == epoch:
        save_checkpoint(
            last.parent / "best.pt",
            {"kind": "pose2d.model", "config": config.to_dict(), "epoch": epoch,
             "model": best["model"]},
        )  # fmt: skip
    save_checkpoint(last, payload)


def fit(
    model: PoseResNet,
    train_set: CocoKeypoints | PoseDataset | TensorSamples,
    config: TrainConfig,
    *,
    val_set: CocoKeypoints | None = None,
    classifier: DomainClassifier | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
) -> FitResult:
    """Train ``model`` on ``train_set`` (stages I/II when ``config.domain_adaptation``).

    ``classifier`` is the (pre-trained) domain classifier; a fresh one is built when domain
    adaptation is on and none is given. After the call ``model`` holds the epoch chosen by
    :data:`~infantpose.pose2d.config.SELECTION` on ``val_set`` (or the last epoch without one)
    and ``model.codec`` is ``config.codec``. ``on_epoch_end(epoch, record)`` may raise to stop
    the run (the checkpoint of that epoch is already written). Under ``torchrun`` every process
    calls this with the same arguments (:mod:`.distributed`).
    """
    device = resolve_device(config.device)
    context = from_env(device, config.batch_size)
    _prepare_model(model, config, device)
    data = train_dataset(train_set, config) if isinstance(train_set, CocoKeypoints) else train_set
    run = _training(model, data, config, classifier, device)
    val_data = None
    if val_set is not None and context.is_main:
        val_data = preload(eval_dataset(model, val_set, cache_images=True))  # cropped once

    history: list[dict[str, float]] = []
    best: dict[str, Any] = {"epoch": -1, "ap": -math.inf, "oks": -math.inf, "model": None}
    start_epoch = 0
    last = Path(checkpoint_dir) / "last.pt" if checkpoint_dir is not None else None
    if last is not None and context.is_main and not last.parent.exists():
        last.parent.mkdir(parents=True)  # ours: `infantpose clean` may remove it
        mark_made(last.parent, "Pose-ResNet checkpoints")
    if last is not None and resume and last.exists():
        history, best, start_epoch = _resume(last, run, config, device)

    run.trained = model
    if context.active:
        run.trained = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[context.local_rank] if device.type == "cuda" else None
        )
    show = config.log and context.is_main
    epochs_bar = progress_bar(
        total=config.epochs, initial=start_epoch, desc="train", unit="epoch", enabled=show
    )
    for epoch in range(start_epoch, config.epochs):
        tic = time.perf_counter()
        record = {"epoch": epoch, **_train_epoch(run, data, config, epoch, context, show)}
        record["lr"] = run.optimizer.param_groups[0]["lr"]
        broadcast_buffers(model, context)
        if val_set is not None:
            scores = [math.nan, math.nan]
            if context.is_main:
                result = evaluate(
                    model,
                    val_set,
                    val_data,
                    codec=config.codec,
                    device=device,
                    precision=config.precision,
                    channels_last=config.channels_last,
                )
                scores = [result.ap.ap, result.mean_oks]
            record["val_ap"], record["val_mean_oks"] = context.broadcast_scores(scores, device)
        record["seconds"] = time.perf_counter() - tic
        history.append(record)
        key = _selection_key(
            record.get("val_ap", math.nan), record.get("val_mean_oks", math.nan), epoch
        )
        if best["model"] is None or key >= _selection_key(best["ap"], best["oks"], best["epoch"]):
            best = {
                "epoch": epoch,
                "ap": key[0],
                "oks": key[1],
                "model": copy.deepcopy(model.state_dict()),
            }
        if show:
            epochs_bar.update()
            epochs_bar.set_postfix(
                loss=f"{record.get('loss_pose', math.nan):.3g}",
                val_ap=f"{record.get('val_ap', math.nan):.3f}",
            )
            log.info(
                f"epoch {epoch + 1}/{config.epochs}  "
                + "  ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "epoch")
            )
        if last is not None and context.is_main:
            _save_epoch(last, run, config, epoch, history, best)
        context.barrier()  # no rank reads a checkpoint before rank 0 has written it
        if on_epoch_end is not None:
            on_epoch_end(epoch, record)
    epochs_bar.close()
    if best["model"] is not None:
        model.load_state_dict(best["model"])
    validated = val_set is not None
    return FitResult(
        history,
        int(best["epoch"]),
        float(best["ap"]) if validated else math.nan,
        run.classifier,
        best_oks=float(best["oks"]) if validated else math.nan,
    )


def train_adult_model(
    adult: CocoKeypoints,
    config: TrainConfig,
    *,
    val_set: CocoKeypoints | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
) -> tuple[PoseResNet, FitResult]:
    """The adult starting model: a fresh Pose-ResNet (seeded by ``config.seed``) trained with all
    layers on ``adult`` (no domain adaptation) — the stand-in for COCO pretraining."""
    config = config.replace(frozen=(), domain_adaptation=False)
    seed_everything(config.seed)
    model = PoseResNet(config.model)
    result = fit(
        model, adult, config, val_set=val_set, checkpoint_dir=checkpoint_dir, resume=resume
    )
    return model, result
