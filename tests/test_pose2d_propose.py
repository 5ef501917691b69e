"""The pose network as co-labelling's AI labeler: shapes, visibility flags, the second look."""

from __future__ import annotations

import numpy as np
import torch

from infantpose.data.colabel import LabelingSession
from infantpose.pose2d import PoseResNet, PoseResNetConfig
from infantpose.pose2d.heatmaps import HeatmapCodec
from infantpose.pose2d.propose import PoseProposer


class PeakAt(PoseResNet):
    """Heatmaps with one peak per joint at a fixed crop position (``None``: all zero)."""

    def __init__(self, where: tuple[float, float] | None) -> None:
        super().__init__(PoseResNetConfig(depth=18, input_size=(64, 96), deconv_channels=(8, 8, 8)))
        self.where, self.seen = where, []

    def forward(self, x, return_features=False):
        self.seen.append(x.shape)
        w, h = self.config.heatmap_size
        maps = torch.zeros(len(x), 17, h, w)
        if self.where is not None:
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
            cx, cy = self.where[0] * w, self.where[1] * h  # crop centre = heatmap (w/2, h/2)
            maps[:] = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / 8.0)
        return (maps, torch.zeros(len(x), 512, 1, 1)) if return_features else maps


def test_a_confident_model_proposes_every_joint_inside_the_image():
    image = np.zeros((240, 320, 3), np.uint8)
    model = PeakAt((0.5, 0.5))
    proposal, score = PoseProposer(model, codec=HeatmapCodec("unbiased", "dark"))(image)
    assert proposal.shape == (17, 3) and set(proposal[:, 2]) == {2.0}
    assert score > 0.9  # the peak falls between heatmap pixels
    assert (proposal[:, 0] > 0).all() and (proposal[:, 0] < 320).all()
    assert np.abs(proposal[:, :2] - (160, 120)).max() < 1  # the crop centre maps to the frame's
    assert len(model.seen) == 2  # the whole frame, then the box of what it found


def test_an_unsure_model_proposes_nothing_and_looks_once():
    model = PeakAt(None)
    proposal, score = PoseProposer(model)(np.zeros((120, 160, 3), np.uint8))
    assert (proposal == 0).all() and score == 0.0 and len(model.seen) == 1


def test_a_labeling_session_records_the_model_as_proposer(tmp_path):
    import cv2

    frame = tmp_path / "frame.png"
    cv2.imwrite(str(frame), np.zeros((96, 128, 3), np.uint8))
    proposer = PoseProposer(PeakAt((0.5, 0.5)), codec=HeatmapCodec("unbiased", "dark"))
    session = LabelingSession(tmp_path / "s.json", [frame], image_root=tmp_path, proposer=proposer)
    session.propose(0)
    assert session.state[session.images[0]["id"]]["proposer"] == "pose model (ResNet-18)"
    assert (session.proposal(0)[:, 2] == 2).all()
