"""Render bodies into labelled images: pixels, masks, depth and depth-tested keypoints.

>>> from infantpose.body import load_body_model, BodyPose          # doctest: +SKIP
>>> from infantpose.render import render_poses
>>> samples = render_poses(load_body_model(), poses, preset="synthetic")

The renderer knows no file format: :mod:`infantpose.synthesis` writes its samples as datasets.

Modules, one job each (the pinhole camera they all use is :mod:`infantpose.camera`):

* :mod:`~infantpose.render.appearance`: body-part labels, skin, diapers, clothes, patterns.
* :mod:`~infantpose.render.background`: procedural and natural-photo backgrounds.
* :mod:`~infantpose.render.lighting`: flat, SURREAL-like and photo-like lights.
* :mod:`~infantpose.render.postprocess`: sensor noise, blur, white balance, vignetting, JPEG.
* :mod:`~infantpose.render.presets`: the ``synthetic``, ``photo`` and ``surreal`` presets.
* :mod:`~infantpose.render.scene`: the reusable offscreen :class:`Renderer` and visibility.
* :mod:`~infantpose.render.samples`: labelled samples, the 10-rotation protocol, clips.

Importing this package is cheap: pyrender (and OpenGL) load when a :class:`Renderer` is made,
torch when :mod:`~infantpose.render.samples` is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from .appearance import BodyAppearance, BodyParts, body_parts, sample_body_appearance, vertex_colors
from .background import NATURAL_PHOTOS, PROCEDURAL_KINDS, procedural_background, sample_background
from .lighting import Light, LightSetup, sample_lights
from .postprocess import PhotoEffects, apply_photo_effects, sample_photo_effects
from .presets import PRESETS, AppearancePreset, get_preset
from .scene import Renderer, RenderResult, composite, keypoint_visibility

_LAZY = {
    name: "samples"
    for name in (
        "AppearanceParams",
        "RenderError",
        "RenderedSample",
        "paper_protocol",
        "paper_rotations",
        "render_motion",
        "render_poses",
        "render_sample",
        "sample_appearance",
    )
}

__all__ = [
    "NATURAL_PHOTOS",
    "PRESETS",
    "PROCEDURAL_KINDS",
    "AppearancePreset",
    "BodyAppearance",
    "BodyParts",
    "Light",
    "LightSetup",
    "PhotoEffects",
    "RenderResult",
    "Renderer",
    "apply_photo_effects",
    "body_parts",
    "composite",
    "get_preset",
    "keypoint_visibility",
    "procedural_background",
    "sample_background",
    "sample_body_appearance",
    "sample_lights",
    "sample_photo_effects",
    "vertex_colors",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'infantpose.render' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
