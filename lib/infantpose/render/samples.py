"""Rendered samples with their labels: one body, one camera, one look, in memory.

* :func:`paper_rotations` / :func:`paper_protocol`: FiDIP's 10 global rotations per pose.
* :func:`sample_appearance` draws a sample's look from a preset; :func:`render_sample` renders
  one body and labels it: COCO-17 keypoints projected from the body's 3D keypoints with
  depth-test visibility, mask, box, area, depth, camera and body parameters.
* :func:`render_poses` (one image per pose) and :func:`render_motion` (a clip) for figures,
  previews and experiments.

No file format here: :mod:`infantpose.synthesis.writer` writes rendered samples as COCO
datasets in SyRIP's layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..body.model import BodyModel, BodyOutput, BodyPose, select_shape
from ..body.poses import is_lying
from ..camera import Camera, sample_camera
from .appearance import BodyAppearance, BodyParts, body_parts, sample_body_appearance, vertex_colors
from .background import sample_background
from .lighting import LightSetup, sample_lights
from .postprocess import PhotoEffects, apply_photo_effects, sample_photo_effects
from .presets import AppearancePreset, get_preset
from .scene import Renderer, composite, depth_below_surface, keypoint_visibility

__all__ = [
    "AppearanceParams",
    "RenderError",
    "RenderedSample",
    "paper_protocol",
    "paper_rotations",
    "render_motion",
    "render_poses",
    "render_sample",
    "sample_appearance",
]

#: Visibility margin as a fraction of body height: 1 cm for an infant (0.67 m), 2.7 cm for an
#: adult. It covers pixel rounding and grazing angles on top of each keypoint's depth below its
#: own surface, and stays below the thinnest occluder that matters (an infant's hand, 1.5-2 cm).
VISIBILITY_MARGIN = 0.015


class RenderError(ValueError):
    """A sample that cannot be labelled (body outside the image, nothing rendered)."""


# --------------------------------------------------------------------------- the paper's protocol


def paper_rotations(
    global_orient: Any, count: int = 10, step: float = math.pi / 11
) -> torch.Tensor:
    """FiDIP's global rotations: ``(..., count, 3)`` orientations from ``(..., 3)`` ones.

    Exactly the original renderer's recipe (``syn_generation/render/image_generation.py``): for
    i = 0 .. count-1 it **adds** ``+i·step`` to the x and ``-i·step`` to the y and z components of
    the axis-angle vector. This is an addition of axis-angle components, not a composition of
    rotations (the resulting rotations are not evenly spaced); i = 0 is the pose itself.
    """
    orient = torch.as_tensor(global_orient, dtype=torch.get_default_dtype())
    i = torch.arange(count, dtype=orient.dtype, device=orient.device)
    delta = torch.stack([i * step, -i * step, -i * step], dim=-1)  # (count, 3)
    return orient[..., None, :] + delta


def paper_protocol(
    poses: BodyPose, count: int = 10, step: float = math.pi / 11
) -> tuple[BodyPose, np.ndarray, np.ndarray]:
    """Each pose ``count`` times with :func:`paper_rotations` orientations.

    Returns ``(poses, pose_index, rotation_index)``: B·count poses, pose-major (all rotations of
    pose 0 first), and for each the source pose and rotation i.
    """
    batch = poses.batch_size
    index = torch.arange(batch).repeat_interleave(count)
    expanded = poses.select(index)
    expanded.global_orient = paper_rotations(poses.global_orient, count, step).reshape(-1, 3)
    return expanded, index.numpy(), np.tile(np.arange(count), batch)


# --------------------------------------------------------------------------- one sample


@dataclass
class AppearanceParams:
    """Everything random about a sample's look except the camera (drawn by :func:`sample_appearance`)."""

    body: BodyAppearance
    background: np.ndarray  # (H, W, 3) float32 in [0, 1]
    background_record: dict[str, Any]
    lights: LightSetup
    effects: PhotoEffects | None = None

    def to_record(self, preset: AppearancePreset) -> dict[str, Any]:
        return {
            "preset": preset.name,
            "rendered": True,
            "body": self.body.to_record(),
            "background": self.background_record,
            "light": self.lights.to_record(),
            "photo_effects": self.effects.to_record() if self.effects else None,
        }


def sample_appearance(
    rng: np.random.Generator,
    preset: str | AppearancePreset,
    image_size: tuple[int, int],
    *,
    lying: bool = False,
) -> AppearanceParams:
    """A sample's random look under ``preset``: body colours, background, lights, photo effects.

    A ``lying`` body is seen from above: its background is never a ``room`` (a wall above a
    floor) when the preset has other kinds.
    """
    preset = get_preset(preset)
    kinds = preset.backgrounds
    if lying and len(kinds) > 1:
        kinds = tuple(kind for kind in kinds if kind != "room") or kinds
    body = sample_body_appearance(
        rng,
        outfits=preset.outfits,
        outfit_weights=preset.outfit_weights,
        patterns=preset.patterns,
        palette=preset.palette,
        hair_probability=preset.hair_probability,
        pattern_scale=preset.pattern_scale,
    )
    background, record = sample_background(
        rng, image_size, kinds, preset.natural_background_probability
    )
    lights = sample_lights(rng, preset.lighting)
    effects = sample_photo_effects(rng, preset.jpeg_quality) if preset.photo_effects else None
    return AppearanceParams(body, background, record, lights, effects)


@dataclass
class RenderedSample:
    """One rendered, labelled image."""

    rgb: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool
    depth: np.ndarray  # (H, W) float32 metres, 0 = background
    keypoints: np.ndarray  # (17, 3) x, y, v (COCO order; pixels, OpenCV convention)
    keypoints_3d: np.ndarray  # (17, 3) camera frame, metres
    bbox: list[float]  # [x, y, w, h] of the mask
    area: float  # mask pixel count
    camera: Camera
    body: dict[str, Any]  # backend, shape, global_orient, body_pose, transl
    appearance: dict[str, Any]  # preset, body colours, background, light, photo effects
    extra: dict[str, Any] = field(default_factory=dict)


def _bbox(mask: np.ndarray) -> list[float]:
    rows, cols = np.any(mask, axis=1), np.any(mask, axis=0)
    y0, y1 = np.flatnonzero(rows)[[0, -1]]
    x0, x1 = np.flatnonzero(cols)[[0, -1]]
    return [float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1)]  # as pycocotools


def render_sample(
    renderer: Renderer,
    body_output: BodyOutput,
    camera: Camera,
    appearance: AppearanceParams,
    preset: str | AppearancePreset,
    rng: np.random.Generator,
    *,
    index: int = 0,
    parts: BodyParts | None = None,
    body_record: dict[str, Any] | None = None,
    tolerance: float | None = None,
) -> RenderedSample:
    """Render body ``index`` of ``body_output`` and label it.

    ``parts`` (from the rest pose, so patterns stick to the body) defaults to parts computed on
    the posed body. ``tolerance`` (metres), the margin of the visibility test on top of each
    keypoint's depth below its own surface, defaults to 1.5 % of the body's height. ``rng`` draws the photo noise. Raises :class:`RenderError` when no body pixel or no
    keypoint lands in the image.
    """
    preset = get_preset(preset)
    vertices = body_output.vertices[index].detach().cpu().numpy()
    joints = body_output.joints[index].detach().cpu().numpy()
    keypoints_world = body_output.keypoints[index].detach().cpu().numpy()
    faces = body_output.faces.detach().cpu().numpy()
    if parts is None:
        parts = body_parts(vertices, joints)
    colors = vertex_colors(appearance.body, parts)
    result = renderer.render(vertices, faces, colors, camera, appearance.lights)
    area = int(result.mask.sum())
    if area == 0:
        raise RenderError(
            "no body pixel in the image: the body is outside the camera's view or behind it "
            f"(camera centre {camera.center.round(3).tolist()}); sample another camera"
        )
    margin = VISIBILITY_MARGIN * parts.height if tolerance is None else tolerance
    # anny's face points lie on the skin, its joint points inside the limbs: each keypoint is
    # visible when nothing lies in front of its own surface (by more than the margin).
    tol = depth_below_surface(keypoints_world, vertices, faces, camera, margin) + margin
    pixels, _ = camera.project(keypoints_world)
    v = keypoint_visibility(keypoints_world, camera, result.depth, tol)
    if not (v > 0).any():
        raise RenderError(
            f"none of the 17 keypoints is in the {camera.width}×{camera.height} image "
            f"({area} body pixels are); sample another camera"
        )
    rgb = composite(result, appearance.background)
    if appearance.effects is not None:
        rgb = apply_photo_effects(rgb, appearance.effects, rng)
    keypoints = np.concatenate([pixels, v[:, None].astype(np.float64)], axis=1)
    keypoints[v == 0] = 0.0
    return RenderedSample(
        rgb=rgb,
        mask=result.mask,
        depth=result.depth,
        keypoints=keypoints,
        keypoints_3d=camera.world_to_camera(keypoints_world),
        bbox=_bbox(result.mask),
        area=float(area),
        camera=camera,
        body=body_record or {},
        appearance=appearance.to_record(preset),
    )


def render_poses(
    body: BodyModel,
    poses: BodyPose,
    *,
    preset: str | AppearancePreset = "synthetic",
    seed: int = 0,
    image_size: tuple[int, int] = (384, 288),
    renderer: Renderer | None = None,
) -> list[RenderedSample]:
    """Render each pose once from a random camera of the preset, in memory (no files).

    For figures, previews and experiments; :class:`~infantpose.synthesis.writer.DatasetWriter`
    writes datasets. Sample
    ``i`` draws from ``numpy.random.default_rng([seed, i])``, so it does not depend on how
    many poses come before it.
    """
    preset = get_preset(preset)
    with torch.no_grad():
        out = body(poses)
    own = renderer is None
    renderer = renderer or Renderer(*image_size)
    samples = []
    try:
        for i in range(out.batch_size):
            rng = np.random.default_rng([seed, i])
            vertices = out.vertices[i].detach().cpu().numpy()
            lying = is_lying(out.joints[i].detach().cpu().numpy())
            appearance = sample_appearance(rng, preset, image_size, lying=lying)
            camera = sample_camera(rng, vertices, image_size, preset.cameras, lying=lying)
            samples.append(render_sample(renderer, out, camera, appearance, preset, rng, index=i))
    finally:
        if own:
            renderer.close()
    return samples


def render_motion(
    body: BodyModel,
    start: BodyPose,
    end: BodyPose,
    frames: int,
    *,
    preset: str | AppearancePreset = "photo",
    seed: int = 0,
    image_size: tuple[int, int] = (384, 288),
    timing: Sequence[float] | None = None,
) -> list[RenderedSample]:
    """A clip: one body moving from pose ``start`` to ``end`` (each a batch of 1), seen by one
    camera under one look; every joint rotation is interpolated by slerp, the shape is
    ``start``'s. Photo effects (sensor noise) are drawn anew per frame, as a camera would.

    ``timing`` gives each frame's position between the poses (``frames`` values in [0, 1]);
    the default moves at constant speed. Repeated values make the body hold still."""
    import roma

    if start.batch_size != 1 or end.batch_size != 1:
        raise ValueError("render_motion: start and end are single poses (batch size 1)")
    if frames < 2:
        raise ValueError(f"render_motion: a clip needs at least 2 frames, got {frames}")
    preset = get_preset(preset)
    if timing is None:
        steps = torch.linspace(0.0, 1.0, frames, dtype=start.global_orient.dtype)
    else:
        steps = torch.as_tensor(
            np.asarray(timing, dtype=np.float64), dtype=start.global_orient.dtype
        )
        if steps.shape != (frames,) or not bool(((steps >= 0) & (steps <= 1)).all()):
            raise ValueError(
                f"render_motion: timing must hold {frames} values in [0, 1], one per frame; "
                f"got shape {tuple(steps.shape)}"
            )

    def slerp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return roma.rotvec_slerp(a.reshape(-1, 3), b.reshape(-1, 3), steps)

    poses = BodyPose(
        global_orient=slerp(start.global_orient, end.global_orient).reshape(frames, 3),
        body_pose=slerp(start.body_pose, end.body_pose).reshape(frames, -1, 3),
        shape=select_shape(start.shape, torch.zeros(frames, dtype=torch.long), 1),
        transl=torch.zeros(frames, 3, dtype=start.global_orient.dtype),
    )
    with torch.no_grad():
        out = body(poses.to(body.device, body.dtype))
    rng = np.random.default_rng(seed)
    middle = frames // 2
    lying = is_lying(out.joints[middle].cpu().numpy())
    appearance = sample_appearance(rng, preset, image_size, lying=lying)
    everything = out.vertices.reshape(-1, 3).cpu().numpy()  # frame the whole motion
    camera = sample_camera(rng, everything, image_size, preset.cameras, lying=lying)
    parts = body_parts(out.vertices[0].cpu().numpy(), out.joints[0].cpu().numpy())
    with Renderer(*image_size) as renderer:
        return [
            render_sample(renderer, out, camera, appearance, preset, rng, index=i, parts=parts)
            for i in range(frames)
        ]
