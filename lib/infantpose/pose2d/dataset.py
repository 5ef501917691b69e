"""Training samples from a COCO keypoint set: one crop per annotation, with heatmap targets.

:class:`PoseDataset` follows the reference data pipeline (microsoft/human-pose-estimation.pytorch, as FiDIP uses it): GT box → centre/scale
(×1.25, input aspect), optional augmentation (scale, rotation with probability, flip with the
COCO-17 pair swap), one bilinear affine warp, ImageNet normalisation, Gaussian targets with
visibility weights. Every sample also carries its domain label (``is_synthetic``: 1, real: 0,
unknown: −1), crop centre/scale, image id and joints in image pixels.

Decisions:

* Augmentation draws come from ``numpy.random.default_rng([seed, epoch, index])``, so a sample
  is the same whichever worker loads it and whether or not a run was resumed
  (:meth:`PoseDataset.set_epoch`).
* ``channel_order="BGR"`` gives what the Microsoft checkpoints were trained on: BGR pixels
  normalised with the *RGB* ImageNet mean/std, exactly as their code did.
* Annotations without any labelled keypoint are skipped (the reference drops them) and listed in
  :attr:`PoseDataset.skipped`, or rejected with ``on_unlabelled="error"``. Boxes partly outside
  the image are clipped; boxes fully outside raise an error naming file and annotation (or are
  skipped with ``on_bad_box="skip"``). An image that does not decode raises :class:`~infantpose.images.ImageReadError`.
* :func:`preload` turns a dataset into stacked tensors (one augmentation draw): the benchmark's
  "no data pipeline" reference and a fast path for repeated evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..data.coco import CocoKeypoints
from ..images import read_image
from ..keypoints import COCO17, hflip_keypoints
from .heatmaps import gaussian_targets
from .transforms import (
    Augmentation,
    AugmentConfig,
    affine_points,
    box_to_center_scale,
    clip_box,
    crop_image,
    get_affine_transform,
    sample_augmentation,
)

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "BalancedBatchSampler",
    "PoseDataset",
    "TensorSamples",
    "preload",
]

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class PoseDataset(Dataset):
    """Crops, heatmap targets and metadata for every usable annotation of ``coco``.

    ``input_size`` and ``heatmap_size`` are ``(width, height)``; ``augment=None`` gives the
    deterministic evaluation crops. ``cache_images`` keeps decoded images in memory.
    """

    def __init__(
        self,
        coco: CocoKeypoints,
        *,
        input_size: Sequence[int] = (192, 256),
        heatmap_size: Sequence[int] | None = None,
        sigma: float = 2.0,
        unbiased: bool = False,
        augment: AugmentConfig | None = None,
        channel_order: str = "RGB",
        seed: int = 0,
        require_keypoints: bool = True,
        on_unlabelled: str = "skip",
        on_bad_box: str = "error",
        cache_images: bool = False,
        box_padding: float = 1.25,
        flip_pairs: Sequence[tuple[int, int]] = tuple(COCO17.flip_pairs),
    ) -> None:
        if on_unlabelled not in ("skip", "error") or on_bad_box not in ("skip", "error"):
            raise ValueError("on_unlabelled and on_bad_box are 'skip' or 'error'")
        if channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order={channel_order!r}: 'RGB' or 'BGR'")
        self.coco = coco
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (
            (self.input_size[0] // 4, self.input_size[1] // 4)
            if heatmap_size is None
            else (int(heatmap_size[0]), int(heatmap_size[1]))
        )
        self.stride = self.input_size[0] / self.heatmap_size[0]
        self.sigma, self.unbiased, self.augment = float(sigma), bool(unbiased), augment
        self.channel_order, self.seed, self.epoch = channel_order, int(seed), 0
        self.flip_pairs = [tuple(p) for p in flip_pairs]
        self.cache_images = cache_images
        self._cache: dict[int, np.ndarray] = {}
        self.skipped: list[str] = []
        self.samples: list[dict[str, Any]] = []
        where = coco.source or "(in-memory COCO set)"
        bad_boxes: list[str] = []
        unlabelled: list[str] = []
        aspect = self.input_size[0] / self.input_size[1]
        for annotation in coco.annotations:
            image = coco.image_of(annotation)
            name = f"annotation id={annotation.get('id')} (image {image.get('file_name')!r})"
            joints = np.asarray(annotation.get("keypoints", [0] * 51), dtype=np.float64).reshape(
                -1, 3
            )
            if require_keypoints and not (joints[:, 2] > 0).any():
                unlabelled.append(name)
                continue
            box = clip_box(annotation["bbox"], image["width"], image["height"])
            if box is None:
                bad_boxes.append(
                    f"{name}: bbox {annotation['bbox']} lies outside the "
                    f"{image['width']}×{image['height']} image"
                )
                continue
            center, scale = box_to_center_scale(box, aspect, padding=box_padding)
            flag = coco.is_synthetic(image)
            self.samples.append(
                {
                    "image": image,
                    "joints": joints,
                    "center": center,
                    "scale": scale,
                    "domain": -1.0 if flag is None else float(flag),
                    "annotation_id": annotation.get("id"),
                }
            )
        if unlabelled and on_unlabelled == "error":
            raise ValueError(
                f"{where}: {len(unlabelled)} annotations have no keypoint with v > 0, so they cannot "
                f"train a pose model: {'; '.join(unlabelled[:5])}. Label them, drop them from the "
                "file, or pass on_unlabelled='skip'"
            )
        if bad_boxes and on_bad_box == "error":
            raise ValueError(
                f"{where}: {len(bad_boxes)} boxes are outside their image: {'; '.join(bad_boxes[:5])}. "
                "Fix the bbox field ([x, y, w, h] in pixels), or pass on_bad_box='skip'"
            )
        self.skipped = [f"{u}: no labelled keypoint" for u in unlabelled] + bad_boxes
        if not self.samples:
            raise ValueError(f"{where}: no usable annotation ({len(self.skipped)} skipped)")

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation draws of ``epoch`` (call before each epoch)."""
        self.epoch = int(epoch)

    @property
    def domains(self) -> np.ndarray:
        """Domain label per sample: 1 synthetic, 0 real, −1 unknown."""
        return np.array([s["domain"] for s in self.samples], dtype=np.float32)

    def load_bgr(self, index: int) -> np.ndarray:
        image = self.samples[index]["image"]
        key = id(image)
        if key in self._cache:
            return self._cache[key]
        path = self.coco.image_path(image)
        pixels = read_image(path, mode="BGR")  # never grey rows
        if pixels.shape[:2] != (image["height"], image["width"]):
            raise ValueError(
                f"{path} is {pixels.shape[1]}×{pixels.shape[0]} but its record in "
                f"{self.coco.source or 'the set'} (image id {image['id']}) says "
                f"{image['width']}×{image['height']}: its keypoints would not match its pixels; "
                "set width and height from the file, or restore the image they were labelled on "
                "(`infantpose validate FILE --images DIR` lists every such image)"
            )
        if self.cache_images:
            self._cache[key] = pixels
        return pixels

    def augmentation(self, index: int) -> Augmentation:
        if self.augment is None:
            return Augmentation()
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return sample_augmentation(rng, self.augment)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        pixels = self.load_bgr(index)
        joints = sample["joints"].copy()
        center, scale = sample["center"].copy(), sample["scale"].copy()
        aug = self.augmentation(index)
        width = pixels.shape[1]
        if aug.flip:
            joints = hflip_keypoints(joints, width, self.flip_pairs)
            center[0] = width - center[0] - 1
        scale = scale * aug.scale
        matrix = get_affine_transform(center, scale, aug.rotation, self.input_size)
        if aug.flip:
            # Fold the mirror x → W − 1 − x into the warp instead of copying the flipped image.
            mirror = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            pixel_matrix = matrix @ mirror
        else:
            pixel_matrix = matrix
        crop = crop_image(pixels, pixel_matrix, self.input_size)
        if self.channel_order == "RGB":
            crop = crop[..., ::-1]
        tensor = (crop.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        crop_joints = joints.copy()
        crop_joints[:, :2] = affine_points(joints[:, :2], matrix)  # joints are already mirrored
        target, weight = gaussian_targets(
            crop_joints, self.heatmap_size, self.stride, self.sigma, unbiased=self.unbiased
        )
        return {
            "image": torch.from_numpy(np.ascontiguousarray(tensor.transpose(2, 0, 1))),
            "target": torch.from_numpy(target),
            "target_weight": torch.from_numpy(weight[:, None]),
            "domain": torch.tensor(sample["domain"], dtype=torch.float32),
            "center": torch.from_numpy(sample["center"].astype(np.float32)),
            "scale": torch.from_numpy(sample["scale"].astype(np.float32)),
            "image_id": int(sample["image"]["id"]),
            "annotation_id": -1
            if sample["annotation_id"] is None
            else int(sample["annotation_id"]),
            "index": index,
        }


class TensorSamples(Dataset):
    """Samples stacked into tensors (the output of :func:`preload`)."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        self.tensors = tensors
        self.length = len(next(iter(tensors.values())))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {k: v[index] for k, v in self.tensors.items()}

    def batch(self, indices: Sequence[int] | torch.Tensor) -> dict[str, torch.Tensor]:
        """A batch by fancy indexing (no per-sample collation)."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        return {k: v[idx] for k, v in self.tensors.items()}

    @property
    def domains(self) -> np.ndarray:
        return self.tensors["domain"].numpy()


def preload(dataset: PoseDataset, *, epoch: int = 0) -> TensorSamples:
    """Every sample of ``dataset`` (augmentation of ``epoch``) computed once and stacked."""
    dataset.set_epoch(epoch)
    items = [dataset[i] for i in range(len(dataset))]
    stacked = {}
    for key in items[0]:
        values = [item[key] for item in items]
        stacked[key] = (
            torch.stack(values) if isinstance(values[0], torch.Tensor) else torch.tensor(values)
        )
    return TensorSamples(stacked)


class BalancedBatchSampler(Sampler[list[int]]):
    """Batches that alternate real and synthetic samples (the FiDIP HEAD ``BalancedBatchSampler``):
    the minority domain is oversampled to the size of the majority each epoch.

    ``domains`` are the per-sample labels (0/1); draws depend on ``seed`` and :meth:`set_epoch`.
    """

    def __init__(
        self, domains: Sequence[float], batch_size: int, *, seed: int = 0, drop_last: bool = True
    ) -> None:
        domains = np.asarray(domains)
        if ((domains != 0) & (domains != 1)).any():
            raise ValueError(
                "BalancedBatchSampler needs every sample labelled real (0) or synthetic (1)"
            )
        self.real = np.flatnonzero(domains == 0)
        self.synthetic = np.flatnonzero(domains == 1)
        if not len(self.real) or not len(self.synthetic):
            raise ValueError("BalancedBatchSampler needs both real and synthetic samples")
        self.batch_size, self.seed, self.drop_last, self.epoch = batch_size, seed, drop_last, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _order(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.epoch, 7])
        n = max(len(self.real), len(self.synthetic))

        def draw(idx: np.ndarray) -> np.ndarray:
            extra = rng.choice(idx, n - len(idx), replace=True) if n > len(idx) else idx[:0]
            return rng.permutation(np.concatenate([idx, extra]))

        order = np.empty(2 * n, dtype=np.int64)
        order[0::2], order[1::2] = draw(self.real), draw(self.synthetic)
        return order

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            if len(batch) < self.batch_size and self.drop_last:
                break
            yield batch.tolist()

    def __len__(self) -> int:
        n = 2 * max(len(self.real), len(self.synthetic))
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
