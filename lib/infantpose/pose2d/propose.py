"""A trained pose network as the AI labeler of co-labelling (AH-CoLT's first step).

SyRIP's labels were proposed by an adult pose model and corrected by people.
:class:`PoseProposer` wraps any :class:`~infantpose.pose2d.model.PoseResNet` into the
``proposer(image_rgb) -> ((17, 3), score)`` that
:class:`~infantpose.data.colabel.LabelingSession` calls. A top-down network needs a person
box and a new frame has none, so it looks twice: first at the whole frame, then at the box
around the keypoints it found with confidence (padded), which brings a small infant up to the
network's input size. Prediction goes through :func:`~infantpose.pose2d.evaluate.predict`,
so the codec (flip test, decoding) is the one the model was trained with.
"""

from __future__ import annotations

import numpy as np
import torch

from .dataset import IMAGENET_MEAN, IMAGENET_STD, TensorSamples
from .evaluate import predict
from .heatmaps import HeatmapCodec, codec_of
from .model import PoseResNet
from .transforms import box_to_center_scale, crop_image, get_affine_transform

__all__ = ["PoseProposer"]


class PoseProposer:
    """``proposer(image_rgb)`` → ``(keypoints (17, 3), score)`` in image pixels; ``v = 2`` for a
    joint whose confidence exceeds ``min_confidence``, else ``0, 0, 0`` (proposed missing).
    ``refine``: look again at the box of the confident keypoints, padded by ``box_margin``."""

    def __init__(
        self,
        model: PoseResNet,
        *,
        codec: HeatmapCodec | None = None,
        min_confidence: float = 0.2,
        refine: bool = True,
        box_margin: float = 0.15,
        device: str | torch.device = "cpu",
    ) -> None:
        self.model = model.to(device).eval()
        self.codec = codec or codec_of(model)
        self.min_confidence = float(min_confidence)
        self.refine, self.box_margin = bool(refine), float(box_margin)
        self.device = device
        self.__name__ = f"pose model (ResNet-{model.config.depth})"

    def _look(self, image_rgb: np.ndarray, box: list[float]) -> np.ndarray:
        config = self.model.config
        aspect = config.input_size[0] / config.input_size[1]
        center, scale = box_to_center_scale(box, aspect)
        matrix = get_affine_transform(center, scale, 0.0, config.input_size)
        crop = crop_image(np.ascontiguousarray(image_rgb), matrix, config.input_size)  # RGB
        if config.channel_order == "BGR":
            crop = crop[..., ::-1]
        pixels = (crop.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        sample = TensorSamples(
            {
                "image": torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None],
                "center": torch.from_numpy(np.asarray([center], dtype=np.float32)),
                "scale": torch.from_numpy(np.asarray([scale], dtype=np.float32)),
                "image_id": torch.tensor([0]),
                "annotation_id": torch.tensor([-1]),
                "domain": torch.tensor([-1.0]),
            }
        )
        return predict(self.model, sample, codec=self.codec, device=self.device).keypoints[0]

    def __call__(self, image_rgb: np.ndarray) -> tuple[np.ndarray, float]:
        height, width = image_rgb.shape[:2]
        keypoints = self._look(image_rgb, [0.0, 0.0, float(width), float(height)])
        confident = keypoints[:, 2] > self.min_confidence
        if self.refine and confident.sum() >= 3:
            (x0, y0), (x1, y1) = keypoints[confident, :2].min(0), keypoints[confident, :2].max(0)
            pad_x, pad_y = self.box_margin * (x1 - x0) + 4, self.box_margin * (y1 - y0) + 4
            box = [x0 - pad_x, y0 - pad_y, x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y]
            keypoints = self._look(image_rgb, box)
            confident = keypoints[:, 2] > self.min_confidence
        score = float(keypoints[confident, 2].mean()) if confident.any() else 0.0
        proposal = np.zeros((len(keypoints), 3))
        proposal[confident, :2] = keypoints[confident, :2]
        proposal[confident, 2] = 2
        return proposal, score
