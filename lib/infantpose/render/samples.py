"""Rendered samples with their labels, and the dataset writer (COCO, SyRIP's layout, atomic).

* :func:`paper_rotations` / :func:`paper_protocol`: FiDIP's 10 global rotations per pose.
* :func:`sample_appearance` draws a sample's look from a preset; :func:`render_sample` renders
  one body and labels it: COCO-17 keypoints projected from the body's 3D keypoints with
  depth-test visibility, mask, box, area, depth, camera and body parameters.
* :class:`DatasetWriter` renders many samples from a body model and a batch of poses into a
  COCO dataset with one or more splits (SyRIP's ``annotations/person_keypoints_<split>.json``
  + ``images/<split>/`` layout), everything into a temporary sibling folder that replaces the
  destination only when every split is complete. :func:`render_dataset` is the one-split form.

Per image the writer stores ``images/<dir>/<file>.jpg``, ``masks/<dir>/<file>.png`` (0/255) and
``depth/<dir>/<file>.png`` (16-bit millimetres, 0 = background); image records carry
``is_synthetic``, ``posture``, ``camera``, ``body``, ``appearance``, ``mask_file`` and
``depth_file`` (relative to the root), annotations ``keypoints_3d`` (camera frame, metres).
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body.model import BodyModel, BodyOutput, BodyPose, select_shape
from ..data.coco import CocoKeypoints, annotation_record, image_record, make_coco, write_coco
from ..io import atomic_dir
from .appearance import BodyAppearance, BodyParts, body_parts, sample_body_appearance, vertex_colors
from .background import sample_background
from .camera import Camera, CameraRanges, paper_camera, sample_camera
from .lighting import LightSetup, sample_lights
from .postprocess import PhotoEffects, apply_photo_effects, sample_photo_effects
from .presets import AppearancePreset, get_preset
from .scene import Renderer, composite, depth_below_surface, keypoint_visibility

__all__ = [
    "AppearanceParams",
    "DatasetWriter",
    "RenderError",
    "RenderedSample",
    "is_lying",
    "paper_protocol",
    "paper_rotations",
    "render_dataset",
    "render_motion",
    "render_poses",
    "render_sample",
    "sample_appearance",
]

#: Visibility margin as a fraction of body height: 1 cm for an infant (0.67 m), 2.7 cm for an
#: adult. It covers pixel rounding and grazing angles on top of each keypoint's depth below its
#: own surface, and stays below the thinnest occluder that matters (an infant's hand, 1.5-2 cm).
VISIBILITY_MARGIN = 0.015
LYING_POSTURES = ("supine", "prone")


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


def frontal_ranges(ranges: CameraRanges) -> CameraRanges:
    """The paper's view direction (in front of the body, level, no roll), framed like ``ranges``."""
    zero = (0.0, 0.0)
    return replace(
        ranges, azimuth=zero, elevation=zero, lying_elevation=zero, roll=zero, lying_roll=zero
    )


def is_lying(joints: Any) -> bool:
    """Whether a body lies (pelvis → neck more horizontal than vertical), from (22, 3) joints."""
    joints = np.asarray(joints, dtype=np.float64)
    axis = joints[12] - joints[0]  # neck - pelvis (BODY_JOINTS order)
    return abs(axis[1]) < math.cos(math.radians(45)) * np.linalg.norm(axis)


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

    For figures, previews and experiments; :class:`DatasetWriter` writes datasets. Sample
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


# --------------------------------------------------------------------------- the writer


def _round(values: Any, digits: int) -> Any:
    array = np.asarray(values, dtype=np.float64)
    return np.round(array, digits).tolist()


def _shape_record(shape: Any, i: int, batch: int) -> Any:
    if shape is None:
        return None
    if isinstance(shape, dict):
        return {k: _shape_record(v, i, batch) for k, v in shape.items()}
    if isinstance(shape, torch.Tensor | np.ndarray):
        value = shape[i] if shape.ndim >= 1 and shape.shape[0] == batch else shape
        return _round(value.detach().cpu() if isinstance(value, torch.Tensor) else value, 6)
    return round(float(shape), 6)


def _shape_key(record: Any) -> str:
    return repr(record)


def _as_postures(postures: Any, count: int) -> list[str | None]:
    if postures is None or isinstance(postures, str):
        return [postures] * count
    postures = list(postures)
    if len(postures) != count:
        raise ValueError(
            f"postures has {len(postures)} entries for {count} poses; give one per pose or one string"
        )
    return postures


class DatasetWriter:
    """Writes a rendered COCO dataset with one or more splits, atomically.

    >>> with DatasetWriter("data/syrip_like", overwrite=True) as w:     # doctest: +SKIP
    ...     w.add_split("train_infant", body, poses, file_pattern="train{id:05d}.jpg")
    ...     w.add_split("validate_infant", body, test_poses, preset="photo",
    ...                 file_pattern="test{id}.jpg", first_id=0)

    Everything goes into a temporary folder next to ``root``; it replaces ``root`` when the
    ``with`` block ends without an error. An error leaves ``root`` as it was (absent, or the old
    dataset) and removes the temporary folder. An existing ``root`` needs ``overwrite=True``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        overwrite: bool = False,
        progress: bool = True,
        renderer: Renderer | None = None,
    ):
        self.root = Path(root)
        if self.root.exists() and not overwrite:
            raise FileExistsError(
                f"{self.root} already exists; pass overwrite=True to replace it (it is only "
                "removed once the new dataset is complete) or choose another folder"
            )
        self.progress = progress
        self.splits: dict[str, CocoKeypoints] = {}
        self._renderer = renderer
        self._own_renderer = renderer is None
        self._context: Any = None
        self._tmp: Path | None = None

    def __enter__(self) -> DatasetWriter:
        self._context = atomic_dir(self.root)
        self._tmp = self._context.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        try:
            if self._own_renderer and self._renderer is not None:
                self._renderer.close()
                self._renderer = None
        finally:
            context, self._context, self._tmp = self._context, None, None
            context.__exit__(exc_type, exc, tb)  # moves into place, or removes the temp folder
        return False

    def _renderer_for(self, size: tuple[int, int]) -> Renderer:
        if self._renderer is not None and (self._renderer.width, self._renderer.height) != size:
            if not self._own_renderer:
                raise ValueError(
                    f"the renderer given is {self._renderer.width}×{self._renderer.height}, "
                    f"the split wants {size[0]}×{size[1]}"
                )
            self._renderer.close()
            self._renderer = None
        if self._renderer is None:
            self._renderer = Renderer(*size)
        return self._renderer

    def add_split(
        self,
        name: str,
        body: BodyModel,
        poses: BodyPose,
        *,
        preset: str | AppearancePreset = "synthetic",
        seed: int = 0,
        rotations: int | None = None,
        rotation_step: float = math.pi / 11,
        cameras: str | Sequence[Camera] = "auto",
        image_size: tuple[int, int] = (384, 288),
        postures: str | Sequence[str | None] | None = None,
        is_synthetic: bool | None = None,
        annotation_file: str | None = None,
        image_dir: str | None = None,
        file_pattern: str | None = None,
        first_id: int = 1,
        batch_size: int = 32,
        camera_tries: int = 5,
    ) -> CocoKeypoints:
        """Render the poses (× ``rotations``) into split ``name``; returns its COCO set.

        Defaults give SyRIP's layout: ``annotations/person_keypoints_<name>.json``,
        ``images/<name>/``, files ``<name>{id:05d}.jpg`` numbered from ``first_id``.
        ``cameras``: ``"random"`` (the preset's ranges), ``"frontal"`` (the paper's view
        direction, framed to fit), ``"paper"`` (FiDIP's fixed camera, body may leave the frame),
        ``"auto"`` (frontal with ``rotations``, random without) or one Camera per sample.
        ``is_synthetic`` defaults to the preset's (False for ``photo``; its records still say
        ``appearance.preset == "photo"``). Same arguments and seed → identical files.
        """
        if self._tmp is None:
            raise RuntimeError(
                "use DatasetWriter as a context manager: `with DatasetWriter(root) as w:`"
            )
        if name in self.splits:
            raise ValueError(f"split {name!r} was already added to {self.root}")
        preset = get_preset(preset)
        is_synthetic = preset.is_synthetic if is_synthetic is None else bool(is_synthetic)
        annotation_file = annotation_file or f"annotations/person_keypoints_{name}.json"
        image_dir = image_dir or f"images/{name}"
        file_pattern = file_pattern or f"{name}{{id:05d}}.jpg"
        sub = (
            Path(image_dir).relative_to("images")
            if Path(image_dir).parts[0] == "images"
            else Path(image_dir)
        )
        mask_dir, depth_dir = Path("masks") / sub, Path("depth") / sub
        for folder in (image_dir, mask_dir, depth_dir, Path(annotation_file).parent):
            (self._tmp / folder).mkdir(parents=True, exist_ok=True)

        pose_postures = _as_postures(postures, poses.batch_size)
        if rotations:
            poses, source, rotation_index = paper_protocol(poses, rotations, rotation_step)
        else:
            source, rotation_index = np.arange(poses.batch_size), None
        count = poses.batch_size
        if not isinstance(cameras, str) and len(cameras) != count:
            raise ValueError(f"cameras has {len(cameras)} entries for {count} samples")
        mode = cameras if isinstance(cameras, str) else "given"
        if mode == "auto":
            mode = "frontal" if rotations else "random"
        if mode not in ("random", "frontal", "paper", "given"):
            raise ValueError(
                f"cameras={cameras!r}; use 'random', 'frontal', 'paper', 'auto' or a list"
            )
        ranges = frontal_ranges(preset.cameras) if mode == "frontal" else preset.cameras
        renderer = self._renderer_for(tuple(image_size))
        split_key = zlib.crc32(name.encode("utf-8"))
        images, annotations = [], []
        parts_cache: dict[str, BodyParts] = {}

        from ..progress import progress_bar

        bar = progress_bar(total=count, desc=f"render {name}", unit="img", enabled=self.progress)
        try:
            for start in range(0, count, batch_size):
                index = torch.arange(start, min(start + batch_size, count))
                batch = poses.select(index).to(device=body.device, dtype=body.dtype)
                with torch.no_grad():
                    output = body(batch)
                # Body parts come from the rest pose of each new shape (patterns stick to the
                # body); bodies of one shape share them.
                keys = [
                    _shape_key(_shape_record(batch.shape, j, len(index))) for j in range(len(index))
                ]
                new = [j for j, key in enumerate(keys) if key not in parts_cache]
                new = [j for n, j in enumerate(new) if keys[j] not in [keys[i] for i in new[:n]]]
                if new:
                    shapes = select_shape(batch.shape, torch.as_tensor(new), len(index))
                    with torch.no_grad():
                        rest = body(body.zero_pose(len(new), shape=shapes))
                    for n, j in enumerate(new):
                        parts_cache[keys[j]] = body_parts(
                            rest.vertices[n].cpu().numpy(), rest.joints[n].cpu().numpy()
                        )
                for j, k in enumerate(index.tolist()):
                    image_id = first_id + k
                    file_name = file_pattern.format(id=image_id)
                    record = {
                        "backend": body.backend,
                        "shape": _shape_record(batch.shape, j, len(index)),
                        "global_orient": _round(batch.global_orient[j].cpu(), 6),
                        "body_pose": _round(batch.body_pose[j].reshape(-1, 3).cpu(), 6),
                        "transl": _round(
                            torch.zeros(3) if batch.transl is None else batch.transl[j].cpu(), 6
                        ),
                    }
                    key = keys[j]
                    posture = pose_postures[int(source[k])]
                    lying = (
                        posture in LYING_POSTURES
                        if posture is not None
                        else is_lying(output.joints[j].cpu().numpy())
                    )
                    rng = np.random.default_rng([seed, split_key, k])
                    appearance = sample_appearance(rng, preset, tuple(image_size), lying=lying)
                    sample = self._render_with_retries(
                        renderer, output, j, appearance, preset, rng, parts_cache[key], record,
                        mode, cameras, ranges, lying, k, camera_tries, name, file_name, image_size,
                    )  # fmt: skip
                    self._write_files(sample, image_dir, mask_dir, depth_dir, file_name, preset)
                    extra = {}
                    if rotation_index is not None:
                        extra = {
                            "source_pose": int(source[k]),
                            "rotation_index": int(rotation_index[k]),
                        }
                    images.append(
                        image_record(
                            image_id,
                            file_name,
                            image_size[0],
                            image_size[1],
                            is_synthetic=is_synthetic,
                            posture=posture,
                            camera=sample.camera.to_dict(),
                            body=sample.body,
                            appearance=sample.appearance,
                            mask_file=str(Path(mask_dir) / Path(file_name).with_suffix(".png")),
                            depth_file=str(Path(depth_dir) / Path(file_name).with_suffix(".png")),
                            **extra,
                        )
                    )
                    annotations.append(
                        annotation_record(
                            image_id,
                            image_id,
                            np.round(sample.keypoints, 2),
                            bbox=sample.bbox,
                            area=sample.area,
                            keypoints_3d=_round(sample.keypoints_3d, 5),
                        )
                    )
                    bar.update(1)
        finally:
            bar.close()
        info = {
            "description": f"rendered by infantpose.render ({preset.name} preset): {preset.description}",
            "preset": preset.name,
            "seed": seed,
            "rotations": rotations,
            "cameras": mode,
            "is_synthetic": is_synthetic,
        }
        coco = make_coco(
            images,
            annotations,
            image_root=self.root / image_dir,
            source=str(self.root / annotation_file),
            info=info,
        )
        write_coco(coco, self._tmp / annotation_file)
        self.splits[name] = coco
        return coco

    def _render_with_retries(
        self, renderer, output, j, appearance, preset, rng, parts, record, mode, cameras,
        ranges, lying, k, tries, split, file_name, image_size,
    ) -> RenderedSample:  # fmt: skip
        vertices = output.vertices[j].cpu().numpy()
        last: RenderError | None = None
        attempts = 1 if mode in ("paper", "given") else max(1, tries)
        for _ in range(attempts):
            if mode == "given":
                camera = cameras[k]
            elif mode == "paper":
                camera = paper_camera(tuple(image_size))
            else:
                camera = sample_camera(rng, vertices, tuple(image_size), ranges, lying=lying)
            try:
                return render_sample(
                    renderer, output, camera, appearance, preset, rng,
                    index=j, parts=parts, body_record=record,
                )  # fmt: skip
            except RenderError as error:
                last = error
        raise RenderError(
            f"split {split!r}, sample {k} ({file_name}): no usable image after {attempts} "
            f"camera(s) ({mode}); last problem: {last}"
        )

    def _write_files(self, sample, image_dir, mask_dir, depth_dir, file_name, preset) -> None:
        import cv2

        stem = Path(file_name).with_suffix(".png")
        tmp = self._tmp
        quality = [cv2.IMWRITE_JPEG_QUALITY, int(preset.file_jpeg_quality)]
        writes = [
            (tmp / image_dir / file_name, sample.rgb[..., ::-1], quality),
            (tmp / mask_dir / stem, sample.mask.astype(np.uint8) * 255, []),
            (tmp / depth_dir / stem, np.clip(np.round(sample.depth * 1000.0), 0, 65535).astype(np.uint16), []),
        ]  # fmt: skip
        for path, array, params in writes:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(path), np.ascontiguousarray(array), params):
                raise OSError(f"could not write {path} (disk full or unwritable folder?)")


def render_dataset(
    body: BodyModel,
    poses: BodyPose,
    root: str | os.PathLike,
    *,
    preset: str | AppearancePreset = "synthetic",
    seed: int = 0,
    rotations: int | None = 10,
    image_size: tuple[int, int] = (384, 288),
    postures: str | Sequence[str | None] | None = None,
    is_synthetic: bool | None = None,
    split: str = "train",
    cameras: str | Sequence[Camera] = "auto",
    annotation_file: str | None = None,
    image_dir: str | None = None,
    file_pattern: str | None = None,
    first_id: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    batch_size: int = 32,
) -> CocoKeypoints:
    """Render one split into ``root`` atomically (see :meth:`DatasetWriter.add_split`).

    ``image_size`` is (width, height). ``rotations=10`` is FiDIP's protocol (10 global rotations
    per pose, framed frontal cameras); ``None`` renders each pose once from a random camera.
    """
    with DatasetWriter(root, overwrite=overwrite, progress=progress) as writer:
        writer.add_split(
            split,
            body,
            poses,
            preset=preset,
            seed=seed,
            rotations=rotations,
            cameras=cameras,
            image_size=image_size,
            postures=postures,
            is_synthetic=is_synthetic,
            annotation_file=annotation_file,
            image_dir=image_dir,
            file_pattern=file_pattern,
            first_id=first_id,
            batch_size=batch_size,
        )
    return writer.splits[split]
