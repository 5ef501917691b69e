"""Rendered samples: the paper's rotations, labels, determinism, bodies outside the image."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infantpose.camera import paper_camera, sample_camera
from infantpose.render import (
    PRESETS,
    Renderer,
    RenderError,
    get_preset,
    paper_rotations,
    samples,
)

SIZE = (96, 72)


def test_paper_rotations_follow_the_papers_formula(small_poses):
    orient = torch.tensor([0.1, -0.2, 0.3])
    out = paper_rotations(orient)
    assert out.shape == (10, 3)
    for i in range(10):
        step = i * math.pi / 11
        expected = [0.1 + step, -0.2 - step, 0.3 - step]
        np.testing.assert_allclose(out[i].numpy(), expected, atol=1e-6)
    assert paper_rotations(torch.zeros(4, 3), count=3).shape == (4, 3, 3)
    poses, source, rotation = samples.paper_protocol(small_poses(2), count=3)
    assert poses.batch_size == 6 and source.tolist() == [0, 0, 0, 1, 1, 1]
    assert rotation.tolist() == [0, 1, 2, 0, 1, 2]
    assert poses.shape["age"].tolist() == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.1, 0.1])


def test_unknown_preset_names_the_presets():
    with pytest.raises(ValueError, match="synthetic, photo, surreal") as error:
        get_preset("photos")
    assert "did you mean 'photo'" in str(error.value)
    assert get_preset("photo").is_synthetic is False
    assert set(PRESETS) == {"synthetic", "photo", "surreal"}


@pytest.fixture(scope="module")
def infant(anny_body, small_poses):
    with torch.no_grad():
        return anny_body(small_poses(1))


@pytest.mark.parametrize("preset", ["synthetic", "photo", "surreal"])
def test_render_sample_is_labelled_and_deterministic(anny_body, infant, preset):
    def once():
        rng = np.random.default_rng(3)
        appearance = samples.sample_appearance(rng, preset, SIZE)
        cam = sample_camera(rng, infant.vertices[0].numpy(), SIZE, get_preset(preset).cameras)
        with Renderer(*SIZE) as renderer:
            return samples.render_sample(renderer, infant, cam, appearance, preset, rng)

    a, b = once(), once()
    assert a.rgb.shape == (72, 96, 3) and a.rgb.dtype == np.uint8
    assert (a.rgb == b.rgb).all() and (a.keypoints == b.keypoints).all()
    assert a.area == a.mask.sum() > 100
    x, y, w, h = a.bbox
    inside = a.keypoints[a.keypoints[:, 2] > 0]
    assert (inside[:, 0] >= x - 1).all() and (inside[:, 0] <= x + w).all()
    assert (inside[:, 1] >= y - 1).all() and (inside[:, 1] <= y + h).all()
    assert (a.keypoints[:, 2] > 0).sum() >= 15
    assert a.keypoints_3d[:, 2].min() > 0  # camera frame: in front
    assert a.appearance["preset"] == preset


def test_body_outside_the_image_is_an_error(infant):
    rng = np.random.default_rng(0)
    appearance = samples.sample_appearance(rng, "synthetic", SIZE)
    behind = paper_camera(SIZE)
    away = type(behind)(**{**behind.__dict__, "t": np.array([0.0, 0.0, -2.0])})
    with Renderer(*SIZE) as renderer, pytest.raises(RenderError, match="outside"):
        samples.render_sample(renderer, infant, away, appearance, "synthetic", rng)
