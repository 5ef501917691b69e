"""PCK@0.05 with SHIFT's joint groups and the released normaliser.

The released evaluation (TLlib's ``accuracy``) works on the whole frame resized and padded to
256×256: a joint is correct when its heatmap argmax lies within 0.05 × 256 of the argmax of the
ground-truth heatmap, and joints whose target falls outside the frame are not counted. A
resize-and-pad keeps the aspect, so that threshold is **0.05 × the frame's long side** in the
original image's pixels: :func:`frame_normaliser`. Our networks see person crops, so their
predictions are mapped back to the image and scored against that same threshold; joints that
are unlabelled or outside the image are not counted.

Two decodings are reported: ``argmax`` (the integer heatmap argmax, as released; the released
code also quantises the ground truth to the grid, which we do not) and ``subpixel`` (the book's
codec: DARK decoding and flip test). Groups are :data:`infantpose.metrics.PCK_GROUPS`: head
(the nose on COCO-17), shoulder, elbow, wrist, hip, knee, ankle, and "all" = the 12 limb joints.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.coco import CocoKeypoints
from ..keypoints import COCO17
from ..metrics import PCKResult, pck
from ..pose2d.dataset import TensorSamples
from ..pose2d.evaluate import Predictions
from ..pose2d.heatmaps import HeatmapCodec, codec_of, final_predictions, flip_test_average

__all__ = ["DECODINGS", "frame_normaliser", "pck_of", "shift_pck"]

#: The decodings :func:`shift_pck` scores.
DECODINGS = ("argmax", "subpixel")


def frame_normaliser(coco: CocoKeypoints, image_ids: np.ndarray) -> np.ndarray:
    """The released normaliser per prediction: the long side of its image (pixels)."""
    return np.array(
        [
            max(coco.image_by_id(int(i))["width"], coco.image_by_id(int(i))["height"])
            for i in image_ids
        ],
        dtype=np.float64,
    )


def pck_of(coco: CocoKeypoints, predictions: Predictions, *, alpha: float = 0.05) -> PCKResult:
    """PCK of ``predictions`` against ``coco``'s keypoints with the frame normaliser; joints
    with ``v = 0`` or outside the image are not counted."""
    records = predictions.annotations_in(coco)
    gt = np.array([r["keypoints"] for r in records], dtype=np.float64).reshape(len(records), -1, 3)
    sizes = np.array([[coco.image_by_id(int(i))["width"], coco.image_by_id(int(i))["height"]]
                      for i in predictions.image_ids], dtype=np.float64)  # fmt: skip
    inside = (gt[..., 0] >= 0) & (gt[..., 1] >= 0)
    inside &= (gt[..., 0] <= sizes[:, None, 0] - 1) & (gt[..., 1] <= sizes[:, None, 1] - 1)
    visible = (gt[..., 2] > 0) & inside
    return pck(predictions.keypoints[..., :2], gt[..., :2], visible, alpha=alpha,
               normalizer=frame_normaliser(coco, predictions.image_ids), layout="coco17")  # fmt: skip


@torch.no_grad()
def shift_pck(
    model: torch.nn.Module,
    coco: CocoKeypoints,
    data: TensorSamples,
    *,
    codec: HeatmapCodec | None = None,
    batch_size: int = 64,
) -> dict[str, PCKResult]:
    """``{"argmax": …, "subpixel": …}``: PCK@0.05 of ``model`` on ``coco`` (GT boxes), ``data``
    its preloaded evaluation crops (:func:`infantpose.pose2d.preload`). One forward pass (and
    one of the mirrored input for the flip test) serves both decodings: ``argmax`` decodes the
    plain heatmaps, ``subpixel`` the codec's (by default the model's own, ``model.codec``)."""
    codec = codec or codec_of(model)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    plain, averaged = [], []
    try:
        for start in range(0, len(data), batch_size):
            x = data.batch(range(start, min(start + batch_size, len(data))))["image"].to(device)
            heatmaps = model(x).float()
            plain.append(heatmaps)
            if codec.flip_test:
                flipped = model(x.flip(-1)).float()
                heatmaps = flip_test_average(
                    heatmaps, flipped, COCO17.flip_pairs, shift=codec.flip_shift
                )
            averaged.append(heatmaps)
    finally:
        model.train(was_training)
    t = data.tensors
    out = {}
    for name, maps, post in (("argmax", plain, None), ("subpixel", averaged, codec.post)):
        coords, maxvals = final_predictions(
            torch.cat(maps), t["center"].numpy(), t["scale"].numpy(), post
        )
        predictions = Predictions(
            image_ids=t["image_id"].numpy(),
            keypoints=np.concatenate([coords, maxvals[..., None]], -1),
            scores=maxvals.mean(1),
            domains=t["domain"].numpy(),
            annotation_ids=t["annotation_id"].numpy(),
        )
        out[name] = pck_of(coco, predictions)
    return out
