"""Lights for a render: flat (the paper), SURREAL-like random, or a natural photo set-up.

Directions are given in the **camera frame** (OpenCV: x right, y down, z forward), the way a
photographer thinks of them ("from the upper left"); :class:`Renderer` turns them into world
poses. pyrender's diffuse term is ``albedo / π · intensity · cos``, so an intensity near π lights a
surface facing the light at its full colour.

* ``simple``: FiDIP rendered with no light at all (OpenDR, flat textures). We keep that look:
  strong ambient light plus a weak headlight so the body does not lose all its shape.
* ``surreal``: SURREAL lit with random spherical harmonics; the closest we get with pyrender is
  1-3 directional lights from random directions with random intensities and tints plus a random
  ambient level.
* ``photo``: one warm key light from above and to one side, a weaker cool fill from the other,
  a little ambient (a window or a lamp in a room).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LIGHTING_STYLES", "Light", "LightSetup", "sample_lights"]

LIGHTING_STYLES: tuple[str, ...] = ("simple", "surreal", "photo")


@dataclass(frozen=True)
class Light:
    """A directional light shining along ``direction`` (camera frame, towards the scene)."""

    direction: tuple[float, float, float]
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    intensity: float = 3.0


@dataclass(frozen=True)
class LightSetup:
    """Directional lights and an ambient term (RGB, added as ``albedo · ambient``)."""

    style: str
    lights: tuple[Light, ...] = ()
    ambient: tuple[float, float, float] = (0.3, 0.3, 0.3)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        r = lambda values: [round(float(v), 4) for v in values]  # noqa: E731
        return {
            "style": self.style,
            "ambient": r(self.ambient),
            "lights": [
                {
                    "direction": r(li.direction),
                    "color": r(li.color),
                    "intensity": round(li.intensity, 4),
                }
                for li in self.lights
            ],
        }


def _direction(azimuth: float, elevation: float) -> tuple[float, float, float]:
    """Camera-frame direction a light shines along, from where it stands.

    The light stands at ``azimuth`` (0: behind the camera, positive: to the right) and
    ``elevation`` (positive: above) and shines towards the scene.
    """
    source = np.array(
        [
            math.sin(azimuth) * math.cos(elevation),
            -math.sin(elevation),
            -math.cos(azimuth) * math.cos(elevation),
        ]
    )
    d = -source / np.linalg.norm(source)
    return tuple(float(c) for c in d)  # type: ignore[return-value]


def sample_lights(rng: np.random.Generator, style: str) -> LightSetup:
    """A random :class:`LightSetup` of one of :data:`LIGHTING_STYLES`."""
    if style == "simple":
        return LightSetup(
            style,
            (Light(_direction(0.0, 0.0), intensity=float(rng.uniform(0.8, 1.2))),),
            ambient=(0.75, 0.75, 0.75),
        )
    if style == "surreal":
        lights = []
        for _ in range(int(rng.integers(1, 4))):
            tint = 1.0 + rng.uniform(-0.15, 0.15, size=3)
            lights.append(
                Light(
                    _direction(rng.uniform(-math.pi, math.pi), rng.uniform(-0.3, 1.4)),
                    tuple(float(c) for c in tint / tint.max()),  # type: ignore[arg-type]
                    float(rng.uniform(0.8, 3.5)),
                )
            )
        level = float(rng.uniform(0.15, 0.7))
        return LightSetup(style, tuple(lights), ambient=(level, level, level))
    if style == "photo":
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        warmth = rng.uniform(0.0, 0.2)
        key = Light(
            _direction(side * rng.uniform(0.3, 1.1), rng.uniform(0.4, 1.1)),
            (1.0, 1.0 - 0.4 * warmth, 1.0 - warmth),
            float(rng.uniform(2.2, 3.4)),
        )
        fill = Light(
            _direction(-side * rng.uniform(0.4, 1.2), rng.uniform(0.0, 0.6)),
            (0.95, 0.97, 1.0),
            float(rng.uniform(0.6, 1.2)),
        )
        level = float(rng.uniform(0.2, 0.35))
        return LightSetup(style, (key, fill), ambient=(level, level, level * 1.02))
    raise ValueError(f"unknown lighting style {style!r}; styles: {', '.join(LIGHTING_STYLES)}")
