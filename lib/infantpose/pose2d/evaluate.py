"""Predict keypoints with ground-truth boxes and score them with COCO AP.

As the reference evaluation (FiDIP's Pose-ResNet code): crops from GT boxes, then the model's
:class:`~infantpose.pose2d.heatmaps.HeatmapCodec` — optional flip test (mirrored heatmaps,
shifted), decoding (quarter offset, DARK or argmax) — and a mapping back to image pixels. The
codec is the one the model was trained with (``model.codec``, part of its config and saved in
its checkpoint: :func:`~infantpose.pose2d.heatmaps.codec_of`) unless one is passed. A result's score is the mean confidence of joints above ``in_vis_threshold``
(0.2) times the box score (1 for GT boxes). AP comes from :func:`infantpose.metrics.keypoint_ap`
(pycocotools). :class:`Predictions` also keeps pooled layer-4 features (for t-SNE) and the
per-annotation keypoints (for overlays); :func:`instance_oks` scores each prediction against its
own annotation (for picking successes and failures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..data.coco import CocoKeypoints
from ..env import resolve_device
from ..keypoints import COCO17
from ..metrics import KeypointAP, keypoint_ap, oks
from .dataset import PoseDataset, TensorSamples
from .heatmaps import HeatmapCodec, codec_of, final_predictions, flip_test_average
from .runtime import autocast_context

__all__ = ["Evaluation", "Predictions", "eval_dataset", "evaluate", "instance_oks", "predict"]


@dataclass
class Predictions:
    """One row per evaluated annotation: keypoints ``(N, K, 3)`` = x, y, confidence in image
    pixels, ``scores`` ``(N,)``, ``image_ids``, ``domains`` (1 synthetic, 0 real, −1 unknown) and
    ``features`` ``(N, C)`` (pooled layer 4) when requested; ``annotation_ids`` the annotation
    each row was predicted for (−1 when the record had no id)."""

    image_ids: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    domains: np.ndarray
    features: np.ndarray | None = None
    annotation_ids: np.ndarray | None = None

    def annotations_in(self, coco: CocoKeypoints) -> list[dict[str, Any]]:
        """The annotation record of ``coco`` each row was predicted for, in row order."""
        if self.annotation_ids is None:
            raise ValueError(
                "these predictions do not record their annotation ids; predict() again"
            )
        by_id = {a.get("id"): a for a in coco.annotations}
        missing = [int(i) for i in self.annotation_ids if int(i) not in by_id]
        if missing:
            raise KeyError(
                f"{coco.source or 'this set'} has no annotation with id {missing[0]} "
                f"({len(missing)} predictions unmatched): score predictions against the set they came from"
            )
        return [by_id[int(i)] for i in self.annotation_ids]

    def results(self) -> list[dict[str, Any]]:
        """COCO results list (``category_id`` 1) for :func:`infantpose.metrics.keypoint_ap`."""
        return [
            {
                "image_id": int(i),
                "category_id": 1,
                "keypoints": [float(v) for v in kp.reshape(-1)],
                "score": float(s),
            }
            for i, kp, s in zip(self.image_ids, self.keypoints, self.scores, strict=True)
        ]


@dataclass
class Evaluation:
    """COCO AP and the predictions behind it; ``mean_oks``: the mean per-instance OKS (it still
    ranks models whose AP sits at the floor)."""

    ap: KeypointAP
    predictions: Predictions
    mean_oks: float = float("nan")


def eval_dataset(model: torch.nn.Module, coco: CocoKeypoints, **kwargs: Any) -> PoseDataset:
    """The deterministic (no augmentation) dataset matching ``model``'s input size and channel order."""
    config = model.config
    return PoseDataset(
        coco,
        input_size=config.input_size,
        heatmap_size=config.heatmap_size,
        channel_order=config.channel_order,
        augment=None,
        **kwargs,
    )


def _loader(data: Dataset, batch_size: int):
    if isinstance(data, TensorSamples):
        for start in range(0, len(data), batch_size):
            yield data.batch(range(start, min(start + batch_size, len(data))))
    else:
        yield from DataLoader(data, batch_size=batch_size, shuffle=False)


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    data: CocoKeypoints | PoseDataset | TensorSamples,
    *,
    codec: HeatmapCodec | None = None,
    features: bool = False,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    precision: str | None = None,
    channels_last: bool = False,
    in_vis_threshold: float = 0.2,
    flip_pairs=tuple(COCO17.flip_pairs),
) -> Predictions:
    """Keypoints of every annotation in ``data`` (a COCO set, a :class:`PoseDataset` without
    augmentation, or its :func:`~infantpose.pose2d.dataset.preload`). ``codec``: the flip test
    and decoding; by default the one the model was trained with (``model.codec``:
    :func:`~infantpose.pose2d.heatmaps.codec_of`)."""
    codec = codec or codec_of(model)
    if isinstance(data, CocoKeypoints):
        data = eval_dataset(model, data)
    if isinstance(data, PoseDataset) and data.augment is not None:
        raise ValueError("predict() needs a dataset without augmentation (augment=None)")
    device = resolve_device(device or next(model.parameters()).device)
    was_training = model.training
    model.eval()
    ids, ann_ids, kps, scores, domains, feats = [], [], [], [], [], []
    try:
        for batch in _loader(data, batch_size):
            x = batch["image"].to(device)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast_context(device, precision):
                heatmaps, f = model(x, return_features=True)
                if codec.flip_test:
                    flipped = model(x.flip(-1))
                    heatmaps = flip_test_average(
                        heatmaps.float(), flipped.float(), flip_pairs, shift=codec.flip_shift
                    )
            preds, maxvals = final_predictions(
                heatmaps.float(), batch["center"].numpy(), batch["scale"].numpy(), codec.post
            )
            kp = np.concatenate([preds, maxvals[..., None]], -1)
            above = maxvals > in_vis_threshold
            kscore = np.where(
                above.any(1), (maxvals * above).sum(1) / np.maximum(above.sum(1), 1), 0.0
            )
            ids.append(np.asarray(batch["image_id"]))
            ann_ids.append(np.asarray(batch["annotation_id"]))
            kps.append(kp)
            scores.append(kscore)
            domains.append(batch["domain"].numpy())
            if features:
                feats.append(f.float().mean(dim=(2, 3)).cpu().numpy())
    finally:
        model.train(was_training)
    return Predictions(
        image_ids=np.concatenate(ids),
        keypoints=np.concatenate(kps),
        scores=np.concatenate(scores),
        domains=np.concatenate(domains),
        features=np.concatenate(feats) if features else None,
        annotation_ids=np.concatenate(ann_ids),
    )


def instance_oks(coco: CocoKeypoints, predictions: Predictions) -> np.ndarray:
    """``(N,)`` OKS of each prediction against the annotation it was made for (COCO-17
    sigmas, the annotation's ``area``; NaN when it has no labelled keypoint)."""
    records = predictions.annotations_in(coco)
    gt = np.array([r["keypoints"] for r in records], dtype=np.float64).reshape(len(records), -1, 3)
    area = np.array([r["area"] for r in records], dtype=np.float64)
    return oks(predictions.keypoints, gt, area)


def evaluate(
    model: torch.nn.Module,
    coco: CocoKeypoints,
    data: PoseDataset | TensorSamples | None = None,
    **kwargs: Any,
) -> Evaluation:
    """COCO keypoint AP of ``model`` on ``coco`` with GT boxes (``data``: a prepared/preloaded
    evaluation set of the same ``coco``, to skip re-cropping); ``kwargs`` go to :func:`predict`."""
    predictions = predict(model, coco if data is None else data, **kwargs)
    ap = keypoint_ap(coco.to_dict(copy_records=False), predictions.results())
    mean_oks = float(np.nanmean(instance_oks(coco, predictions)))
    return Evaluation(ap=ap, predictions=predictions, mean_oks=mean_oks)
