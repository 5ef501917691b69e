"""Photo-like post-processing: parameter bounds, determinism, each effect's documented size, and
that no effect moves the image content (the mask and keypoints drawn for the clean render must
still fit the processed one)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infantpose.render.postprocess import (
    PhotoEffects,
    apply_photo_effects,
    jpeg_roundtrip,
    sample_photo_effects,
)


def _square(size=(48, 64), box=(18, 30, 26, 38), value=230) -> np.ndarray:
    """A bright square on a dark ground, centred (vignetting is centred too), (H, W, 3) uint8."""
    image = np.full((*size, 3), 20, np.uint8)
    y0, y1, x0, x1 = box
    image[y0:y1, x0:x1] = value
    return image


def _centroid(image: np.ndarray) -> np.ndarray:
    weight = image.astype(np.float64).mean(-1) - 20.0
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


def test_sampled_effects_stay_in_their_documented_ranges():
    rng = np.random.default_rng(0)
    draws = [sample_photo_effects(rng) for _ in range(300)]
    for e in draws:
        red, green, blue = e.white_balance
        assert 0.92 <= red <= 1.12 and 0.97 <= green <= 1.03 and 0.88 <= blue <= 1.08
        assert red - 1.0 == pytest.approx(1.0 - blue)  # warm/cool shifts red against blue
        assert 0.05 <= e.vignetting <= 0.35
        assert 0.005 <= e.shot_noise <= 0.03 and 0.002 <= e.read_noise <= 0.012
        assert 60 <= e.jpeg_quality <= 95
        low, high = {"none": (0, 0), "defocus": (0.5, 1.5), "motion": (2.0, 6.0)}[e.blur]
        assert low <= e.blur_size <= high
        json.dumps(e.to_record())
    kinds = [e.blur for e in draws]
    # p = 0.35 / 0.40 / 0.25: 300 draws keep each share within ±0.1 (> 3.5 standard errors)
    for kind, p in (("none", 0.35), ("defocus", 0.4), ("motion", 0.25)):
        assert abs(kinds.count(kind) / len(kinds) - p) < 0.1
    assert {e.jpeg_quality for e in draws} >= {60, 95}  # both ends are reachable
    narrow = sample_photo_effects(np.random.default_rng(1), jpeg_quality=(90, 90))
    assert narrow.jpeg_quality == 90


def test_same_seed_same_effects_and_same_pixels():
    image = _square()
    effects = [sample_photo_effects(np.random.default_rng(7)) for _ in range(2)]
    assert effects[0] == effects[1]
    a = apply_photo_effects(image, effects[0], np.random.default_rng(3))
    b = apply_photo_effects(image, effects[1], np.random.default_rng(3))
    c = apply_photo_effects(image, effects[1], np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert a.shape == image.shape and a.dtype == np.uint8
    assert not np.array_equal(a, c)  # the noise comes from the generator passed in
    assert image.max() == 230 and image.min() == 20  # the input is left alone


def test_no_effects_is_the_identity():
    image = np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    out = apply_photo_effects(image, PhotoEffects(), np.random.default_rng(0))
    np.testing.assert_array_equal(out, image)


def test_white_balance_scales_each_channel():
    image = np.full((8, 8, 3), 100, np.uint8)
    out = apply_photo_effects(image, PhotoEffects(white_balance=(1.1, 1.0, 0.9)), None)
    assert out[0, 0].tolist() == [110, 100, 90]
    bright = apply_photo_effects(image * 2 + 55, PhotoEffects(white_balance=(1.5, 1, 1)), None)
    assert bright[0, 0, 0] == 255  # clipped, not wrapped round


def test_vignetting_darkens_the_corners_by_the_documented_fraction():
    image = np.full((101, 101, 3), 200, np.uint8)
    out = apply_photo_effects(image, PhotoEffects(vignetting=0.3), None).astype(float)
    assert out[50, 50, 0] == 200  # the centre keeps its brightness
    # Corners lie at r² = 2·(50/50.5)² of the half-size: 30 % × r²/2 ≈ 29.4 % lost.
    assert out[0, 0, 0] == pytest.approx(200 * (1 - 0.3 * (50 / 50.5) ** 2), abs=1)
    for corner in (out[0, -1], out[-1, 0], out[-1, -1]):
        assert corner[0] == out[0, 0, 0]  # symmetric
    assert (np.diff(out[50, 50:, 0]) <= 0).all()  # darker outwards


def test_noise_has_the_documented_standard_deviation():
    level = 128
    image = np.full((256, 256, 3), level, np.uint8)
    effects = PhotoEffects(shot_noise=0.03, read_noise=0.01)
    out = apply_photo_effects(image, effects, np.random.default_rng(0)).astype(float)
    expected = np.sqrt(0.03**2 * level / 255 + 0.01**2) * 255
    assert out.std() == pytest.approx(expected, rel=0.05)
    assert abs(out.mean() - level) < 0.2  # zero-mean noise
    dark = apply_photo_effects(np.zeros_like(image), effects, np.random.default_rng(0))
    assert dark.std() < out.std()  # shot noise grows with the signal


@pytest.mark.parametrize(
    "effects",
    [
        PhotoEffects(blur="defocus", blur_size=1.5),
        PhotoEffects(blur="motion", blur_size=5.0, blur_angle=0.0),
        PhotoEffects(blur="motion", blur_size=5.0, blur_angle=np.pi / 2),
        PhotoEffects(blur="motion", blur_size=3.0, blur_angle=0.7),
        PhotoEffects(blur="motion", blur_size=4.0, blur_angle=2.0),
        PhotoEffects(vignetting=0.3, jpeg_quality=70),
    ],
    ids=["defocus", "motion-0", "motion-90", "motion-oblique", "motion-even", "vignetting-jpeg"],
)
def test_effects_keep_the_content_where_it_was(effects):
    # The mask and keypoints of a sample are those of the clean render: an effect that moved
    # the content would misalign them. A symmetric square's centroid must stay put.
    image = _square()
    before = _centroid(image)
    after = _centroid(apply_photo_effects(image, effects, np.random.default_rng(0)))
    np.testing.assert_allclose(after, before, atol=0.25)


def test_blur_spreads_the_edge_and_keeps_the_energy():
    image = _square()
    for effects in (
        PhotoEffects(blur="defocus", blur_size=1.5),
        PhotoEffects(blur="motion", blur_size=5.0),
    ):
        out = apply_photo_effects(image, effects, None)
        assert out[24, 26].mean() < 230 and out[24, 25].mean() > 20  # the edge softens
        assert abs(out.astype(float).mean() - image.astype(float).mean()) < 0.5


def test_jpeg_roundtrip_keeps_shape_and_gets_closer_with_quality():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    image = np.repeat(np.repeat(image[::4, ::4], 4, 0), 4, 1)  # 4×4 blocks, JPEG-friendly
    errors = []
    for quality in (30, 60, 95):
        out = jpeg_roundtrip(image, quality)
        assert out.shape == image.shape and out.dtype == np.uint8
        errors.append(np.abs(out.astype(float) - image).mean())
    assert errors[0] > errors[1] > errors[2]
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 200
    assert jpeg_roundtrip(red, 95)[8, 8].argmax() == 0  # RGB in, RGB out (not BGR)
