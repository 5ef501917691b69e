"""FiDIP's pre-stage: the domain classifier learns alone, on adult real vs adult synthetic crops.

The pose net runs in eval mode under ``no_grad`` (only layer-4 features are computed), so it does
not change at all, its BatchNorm statistics included — the reference ran it in train mode, so
its BN statistics drifted on adult images although its weights were not updated.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset

from ..data.coco import CocoKeypoints
from ..env import resolve_device
from ..progress import progress_bar
from .config import TrainConfig
from .dataset import PoseDataset
from .domain import DomainClassifier, domain_loss
from .model import PoseResNet
from .runtime import autocast_context
from .train import _batches, _optimizer, build_classifier, train_dataset

__all__ = ["pretrain_classifier"]

log = logging.getLogger(__name__)


class _Relabelled(Dataset):
    """A dataset whose samples all get one domain label (the pre-stage's real/synthetic sets)."""

    def __init__(self, data: PoseDataset, domain: float) -> None:
        self.data, self.domain = data, float(domain)

    def __len__(self) -> int:
        return len(self.data)

    def set_epoch(self, epoch: int) -> None:
        self.data.set_epoch(epoch)

    @property
    def domains(self) -> np.ndarray:
        return np.full(len(self.data), self.domain, dtype=np.float32)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {**self.data[index], "domain": torch.tensor(self.domain)}


def pretrain_classifier(
    model: PoseResNet,
    real: CocoKeypoints,
    synthetic: CocoKeypoints,
    config: TrainConfig,
    *,
    classifier: DomainClassifier | None = None,
) -> tuple[DomainClassifier, list[dict[str, float]]]:
    """FiDIP's pre-stage: ``pre_epochs`` of the classifier alone on real (0) vs synthetic (1).

    The pose net is in eval mode and under ``no_grad`` (only layer-4 features are computed),
    so it does not change at all — its BN statistics included.
    """
    device = resolve_device(config.device)
    model.to(device).eval()
    classifier = (classifier or build_classifier(model, config)).to(device)
    optimizer = _optimizer(
        classifier.parameters(), config.classifier_lr, config.weight_decay, config.optimizer
    )
    parts = [
        _Relabelled(train_dataset(coco, config, require_keypoints=False), label)
        for coco, label in ((real, 0.0), (synthetic, 1.0))
    ]
    data = ConcatDataset(parts)
    history = []
    epochs_bar = progress_bar(
        range(config.pre_epochs), desc="pre-stage", unit="epoch", enabled=config.log
    )
    for epoch in epochs_bar:
        classifier.train()
        total, correct, loss_sum, steps = 0, 0.0, 0.0, 0
        for batch in progress_bar(
            _batches(data, config, epoch, config.pre_batch_size, balanced=config.balanced_batches),
            desc=f"pre-stage epoch {epoch + 1}/{config.pre_epochs}",
            unit="step",
            enabled=config.log,
            leave=False,
        ):
            x = batch["image"].to(device)
            domain = batch["domain"].to(device)
            with torch.no_grad(), autocast_context(device, config.precision):
                features = model.features(x)
            logits = classifier(features)
            loss = domain_loss(logits, domain)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += float(loss.detach())
            correct += float(((logits.detach() > 0).float() == domain).sum())
            total += len(domain)
            steps += 1
        record = {
            "epoch": epoch,
            "loss_domain": loss_sum / max(steps, 1),
            "domain_acc": correct / max(total, 1),
        }
        history.append(record)
        if config.log:
            epochs_bar.set_postfix(
                loss_domain=f"{record['loss_domain']:.3g}", domain_acc=f"{record['domain_acc']:.3f}"
            )
            log.info(
                f"pre-stage epoch {epoch + 1}/{config.pre_epochs}  loss_domain {record['loss_domain']:.4g}  domain_acc {record['domain_acc']:.3f}"
            )
    return classifier, history
