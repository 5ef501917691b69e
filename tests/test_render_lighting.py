"""Light set-ups: determinism, unit directions in the camera frame (x right, y down, z forward),
and each style's documented ranges."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infantpose.render.lighting import LIGHTING_STYLES, LightSetup, sample_lights


@pytest.mark.parametrize("style", LIGHTING_STYLES)
def test_same_seed_same_lights_and_unit_directions(style):
    first = sample_lights(np.random.default_rng(5), style)
    assert first == sample_lights(np.random.default_rng(5), style)
    assert first.style == style and isinstance(first, LightSetup)
    for light in first.lights:
        assert np.linalg.norm(light.direction) == pytest.approx(1.0)
        assert all(0.0 < c <= 1.0 for c in light.color)
    record = json.loads(json.dumps(first.to_record()))
    assert record["style"] == style and len(record["lights"]) == len(first.lights)


def test_simple_is_flat_with_a_headlight():
    for seed in range(20):
        setup = sample_lights(np.random.default_rng(seed), "simple")
        (light,) = setup.lights
        np.testing.assert_allclose(light.direction, (0.0, 0.0, 1.0), atol=1e-12)  # from the camera
        assert 0.8 <= light.intensity <= 1.2 and setup.ambient == (0.75, 0.75, 0.75)


def test_surreal_draws_one_to_three_tinted_lights():
    counts = set()
    for seed in range(60):
        setup = sample_lights(np.random.default_rng(seed), "surreal")
        counts.add(len(setup.lights))
        level = setup.ambient[0]
        assert 0.15 <= level <= 0.7 and setup.ambient == (level, level, level)
        for light in setup.lights:
            assert 0.8 <= light.intensity <= 3.5
            assert max(light.color) == pytest.approx(1.0)  # a tint, never a dimmer
            assert min(light.color) >= 0.85 / 1.15 - 1e-9
    assert counts == {1, 2, 3}


def test_photo_has_a_key_from_above_and_a_weaker_fill_from_the_other_side():
    sides = set()
    for seed in range(40):
        setup = sample_lights(np.random.default_rng(seed), "photo")
        key, fill = setup.lights
        assert key.direction[1] > 0  # the key stands above: it shines downwards (+y)
        assert key.direction[2] > 0 and fill.direction[2] > 0  # both from the camera's side
        assert np.sign(key.direction[0]) == -np.sign(fill.direction[0])
        assert 2.2 <= key.intensity <= 3.4 and 0.6 <= fill.intensity <= 1.2
        assert key.color[0] == 1.0 and key.color[2] <= key.color[1] <= 1.0  # warm
        assert 0.2 <= setup.ambient[0] <= 0.35
        sides.add(np.sign(key.direction[0]))
    assert sides == {-1.0, 1.0}


def test_unknown_style_names_the_styles():
    with pytest.raises(
        ValueError, match=r"unknown lighting style 'studio'.*simple, surreal, photo"
    ):
        sample_lights(np.random.default_rng(0), "studio")
