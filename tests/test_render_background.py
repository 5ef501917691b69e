"""Backgrounds: every procedural kind and the natural photos give (H, W, 3) float32 images in
[0, 1], the same for the same seed, and a record that says where they came from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infantpose.render.background import (
    NATURAL_PHOTOS,
    PROCEDURAL_KINDS,
    natural_photo_paths,
    procedural_background,
    sample_background,
)

SIZE = (48, 32)  # width, height: not square, so a swapped axis shows


@pytest.mark.parametrize("kind", PROCEDURAL_KINDS)
def test_procedural_kind_shape_range_and_determinism(kind):
    image = procedural_background(np.random.default_rng(0), SIZE, kind)
    assert image.shape == (32, 48, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert image.std() > 0.005  # a scene, not a flat fill
    np.testing.assert_array_equal(
        image, procedural_background(np.random.default_rng(0), SIZE, kind)
    )
    other = procedural_background(np.random.default_rng(1), SIZE, kind)
    assert not np.array_equal(image, other)


def test_gradient_runs_between_two_colours_from_corner_to_corner():
    # Every pixel mixes the two end colours; the ends (s = 0 and 1) fall on corners of the
    # image, so no pixel lies outside the corners' range in any channel.
    image = procedural_background(np.random.default_rng(3), (64, 64), "gradient")
    corners = image[[0, 0, -1, -1], [0, -1, 0, -1]]
    np.testing.assert_allclose(image.min((0, 1)), corners.min(0), atol=1e-5)
    np.testing.assert_allclose(image.max((0, 1)), corners.max(0), atol=1e-5)


def test_unknown_kind_names_the_kinds():
    with pytest.raises(ValueError, match=r"unknown background kind 'beach'.*floor, blanket"):
        procedural_background(np.random.default_rng(0), SIZE, "beach")


def test_sample_background_keeps_to_the_kinds_it_is_given():
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(12):
        image, record = sample_background(rng, SIZE, kinds=("floor", "crib"))
        assert record["source"] == "procedural" and record["kind"] in ("floor", "crib")
        assert image.shape == (32, 48, 3)
        seen.add(record["kind"])
    assert seen == {"floor", "crib"}
    a = sample_background(np.random.default_rng(9), SIZE)
    b = sample_background(np.random.default_rng(9), SIZE)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


def test_natural_photos_crop_inside_the_photo_and_credit_it():
    photos = natural_photo_paths()
    if not photos:
        pytest.skip("scikit-learn's sample images are not installed")
    assert set(photos) <= set(NATURAL_PHOTOS)
    from infantpose.images import read_image

    for seed in range(6):
        image, record = sample_background(np.random.default_rng(seed), SIZE, natural_probability=1)
        assert record["kind"] == "photo" and image.shape == (32, 48, 3)
        assert image.dtype == np.float32 and 0.0 <= image.min() and image.max() <= 1.0
        name = record["source"].split(":", 1)[1]
        assert record["licence"] == NATURAL_PHOTOS[name][2] and record["author"]
        height, width = read_image(photos[name], mode="RGB").shape[:2]
        x0, y0, w, h = record["crop"]
        assert 0 <= x0 and 0 <= y0 and x0 + w <= width and y0 + h <= height
        assert w / h == pytest.approx(48 / 32, rel=0.02)  # the output's aspect, not stretched
        assert all(0.85 * 0.7 - 1e-3 <= g <= 1.15 * 1.1 + 1e-3 for g in record["gains"])
        json.dumps(record)
