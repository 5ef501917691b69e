"""Base-frame tensors for SHIFT: source crops with keypoints and masks, target crops without labels.

Every set is cropped once (the evaluation crop of :mod:`infantpose.pose2d.dataset`: the person
box padded by 1.25 to the input aspect, no augmentation) and kept in memory as tensors; views
are made from these on the fly (:mod:`.views`). The target images used for adaptation are
held as :class:`TargetImages`, which carry no keypoints at all, so no code path of the
adaptation can read a target label.

:func:`target_splits` cuts the target training images into three disjoint parts: a **prior**
split (its *pose labels* train the prior, as SHIFT's ``prior`` split), a labelled
**validation** split (only for the paper's selection protocol, and named so), and the
**adaptation** images (images only). The test split is separate and only evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.coco import CocoKeypoints
from ..images import ImageReadError, read_image
from ..io import path_under
from ..pose2d.dataset import PoseDataset, preload
from ..pose2d.model import PoseResNetConfig
from ..pose2d.transforms import affine_points, crop_image, get_affine_transform

__all__ = [
    "SourceCrops",
    "TargetImages",
    "source_crops",
    "target_images",
    "target_splits",
]


@dataclass
class SourceCrops:
    """Source base-frame crops: ``images`` (N, 3, H, W), ``points`` (N, K, 2) keypoints on the
    heatmap grid, ``weights`` (N, K) labelled-and-inside, ``masks`` (N, 1, h, w) person masks
    on the heatmap grid (None when not read)."""

    images: torch.Tensor
    points: torch.Tensor
    weights: torch.Tensor
    masks: torch.Tensor | None

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class TargetImages:
    """Target base-frame crops and nothing else (no keypoints, no masks)."""

    images: torch.Tensor

    def __len__(self) -> int:
        return len(self.images)


def _dataset(coco: CocoKeypoints, model: PoseResNetConfig, **kwargs) -> PoseDataset:
    return PoseDataset(coco, input_size=model.input_size, heatmap_size=model.heatmap_size,
                       channel_order=model.channel_order, augment=None, **kwargs)  # fmt: skip


def _mask_path(coco: CocoKeypoints, image: dict) -> Path:
    if "mask_file" not in image:
        raise ValueError(
            f"{coco.source}: image {image.get('file_name')!r} has no 'mask_file'; the visibility "
            "loss trains its segmenter on the source set's person masks. Use a set made by "
            "infantpose.synthesis.writer.DatasetWriter (chapter 02's adults write masks/), or run the "
            "'mean-teacher' or 'prior' modes, which need no masks"
        )
    # mask_file is relative to the set's root: <root>/images/<split>/<file> → <root>
    return path_under(
        coco.image_path(image).parents[2],
        image["mask_file"],
        where=f"{coco.source}: image {image.get('file_name')!r}",
        field="mask_file",
    )


def source_crops(
    coco: CocoKeypoints, model: PoseResNetConfig, *, masks: bool = True
) -> SourceCrops:
    """The source set's base-frame crops, keypoints and (with ``masks``) person masks."""
    data = _dataset(coco, model)
    tensors = preload(data).tensors
    stride = data.stride
    w, h = model.input_size
    hw, hh = model.heatmap_size
    points, weights, mask_list = [], [], []
    for sample in data.samples:
        matrix = get_affine_transform(sample["center"], sample["scale"], 0.0, (w, h))
        crop = affine_points(sample["joints"][:, :2], matrix)
        inside = (
            (crop[:, 0] >= 0) & (crop[:, 0] <= w - 1) & (crop[:, 1] >= 0) & (crop[:, 1] <= h - 1)
        )
        points.append(crop / stride)
        weights.append((sample["joints"][:, 2] > 0) & inside)
        if masks:
            path = _mask_path(coco, sample["image"])
            try:
                pixels = read_image(path, mode="L")
            except (ImageReadError, FileNotFoundError, OSError) as error:
                raise ValueError(
                    f"{path}: the person mask of {sample['image']['file_name']!r} cannot be read "
                    f"({error}); remake the source set (delete its folder under the data root)"
                ) from None
            cut = crop_image(pixels[..., None].astype(np.float32) / 255.0, matrix, (w, h))
            cut = cut.reshape(h, w)
            # area-average onto the heatmap grid: the share of each heatmap cell that is person
            mask_list.append(cut.reshape(hh, h // hh, hw, w // hw).mean((1, 3)))
    return SourceCrops(
        images=tensors["image"],
        points=torch.as_tensor(np.array(points), dtype=torch.float32),
        weights=torch.as_tensor(np.array(weights), dtype=torch.float32),
        masks=torch.as_tensor(np.array(mask_list), dtype=torch.float32)[:, None] if masks else None,
    )


def target_images(coco: CocoKeypoints, model: PoseResNetConfig) -> TargetImages:
    """Target base-frame crops, labels dropped (the crop uses the person box only)."""
    if coco.num_images == 0 or coco.num_annotations == 0:
        raise ValueError(
            f"{coco.source or 'the target set'}: the target split is empty (no image or no "
            "person box); adaptation needs target images. Check the split names and sizes in "
            "the profile (standin_train, paths.syrip)"
        )
    data = _dataset(coco, model, require_keypoints=False)
    return TargetImages(images=preload(data).tensors["image"])


def target_splits(
    train: CocoKeypoints, *, prior_fraction: float, validation_fraction: float, seed: int = 0
) -> dict[str, CocoKeypoints]:
    """``{"prior", "validation", "adaptation"}``: disjoint shares of ``train``'s images drawn
    with ``seed``; real images go to the prior and validation splits first (SyRIP's prior is
    its real training images, as released)."""
    if train.num_images < 3:
        raise ValueError(
            f"{train.source}: {train.num_images} target training images; the prior, validation and "
            "adaptation splits need at least 3"
        )
    rng = np.random.default_rng([seed, 1601])
    real = [im["id"] for im in train.images if train.is_synthetic(im) is not True]
    synthetic = [im["id"] for im in train.images if train.is_synthetic(im) is True]
    order = list(rng.permutation(real)) + list(rng.permutation(synthetic))
    n = len(order)
    n_prior = max(1, round(prior_fraction * n))
    n_val = max(1, round(validation_fraction * n))
    if n_prior + n_val >= n:
        raise ValueError(
            f"prior_fraction={prior_fraction} + validation_fraction={validation_fraction} leave no "
            f"adaptation image of {n}; lower them"
        )
    ids = [int(i) for i in order]
    return {
        "prior": train.subset(sorted(ids[:n_prior])),
        "validation": train.subset(sorted(ids[n_prior : n_prior + n_val])),
        "adaptation": train.subset(sorted(ids[n_prior + n_val :])),
    }
