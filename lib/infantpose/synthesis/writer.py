"""The dataset writer: rendered samples as a COCO dataset in SyRIP's layout, atomically.

:class:`DatasetWriter` renders many samples from a body model and a batch of poses into a
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body.model import BodyModel, BodyOutput, BodyPose, select_shape
from ..body.poses import LYING_POSTURES, is_lying
from ..camera import Camera, CameraRanges, paper_camera, sample_camera
from ..data.coco import CocoKeypoints, annotation_record, image_record, make_coco, write_coco
from ..io import atomic_dir
from ..progress import progress_bar
from ..render.appearance import BodyParts, body_parts
from ..render.presets import AppearancePreset, get_preset
from ..render.samples import (
    AppearanceParams,
    RenderedSample,
    RenderError,
    paper_protocol,
    render_sample,
    sample_appearance,
)
from ..render.scene import Renderer

__all__ = ["DatasetWriter", "render_dataset"]


def frontal_ranges(ranges: CameraRanges) -> CameraRanges:
    """The paper's view direction (in front of the body, level, no roll), framed like ``ranges``."""
    zero = (0.0, 0.0)
    return replace(
        ranges, azimuth=zero, elevation=zero, lying_elevation=zero, roll=zero, lying_roll=zero
    )


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


@dataclass(frozen=True)
class _SplitLayout:
    """Where a split's files go (relative to the dataset root) and how its images are named."""

    annotation_file: str
    image_dir: str
    mask_dir: Path
    depth_dir: Path
    file_pattern: str

    @classmethod
    def of(
        cls,
        name: str,
        annotation_file: str | None,
        image_dir: str | None,
        file_pattern: str | None,
    ) -> _SplitLayout:
        """SyRIP's layout unless told otherwise: ``annotations/person_keypoints_<name>.json``,
        ``images/<name>/``, files ``<name>{id:05d}.jpg``; masks and depth mirror the images."""
        annotation_file = annotation_file or f"annotations/person_keypoints_{name}.json"
        image_dir = image_dir or f"images/{name}"
        sub = (
            Path(image_dir).relative_to("images")
            if Path(image_dir).parts[0] == "images"
            else Path(image_dir)
        )
        return cls(
            annotation_file,
            image_dir,
            Path("masks") / sub,
            Path("depth") / sub,
            file_pattern or f"{name}{{id:05d}}.jpg",
        )

    def make_folders(self, root: Path) -> None:
        for folder in (self.image_dir, self.mask_dir, self.depth_dir):
            (root / folder).mkdir(parents=True, exist_ok=True)
        (root / self.annotation_file).parent.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class _CameraPlan:
    """How a split's cameras are chosen, and how many a sample may try."""

    mode: str  # "random", "frontal", "paper" or "given"
    ranges: CameraRanges
    given: Sequence[Camera] | None
    image_size: tuple[int, int]
    tries: int

    @classmethod
    def of(
        cls,
        cameras: str | Sequence[Camera],
        rotations: int | None,
        count: int,
        preset: AppearancePreset,
        image_size: tuple[int, int],
        tries: int,
    ) -> _CameraPlan:
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
        given = None if isinstance(cameras, str) else cameras
        return cls(mode, ranges, given, tuple(image_size), tries)

    @property
    def attempts(self) -> int:
        return 1 if self.mode in ("paper", "given") else max(1, self.tries)

    def camera(self, k: int, rng: np.random.Generator, vertices: np.ndarray, lying: bool) -> Camera:
        """Sample ``k``'s camera: given, FiDIP's fixed one, or drawn from ``rng`` to frame it."""
        if self.mode == "given":
            return self.given[k]
        if self.mode == "paper":
            return paper_camera(self.image_size)
        return sample_camera(rng, vertices, self.image_size, self.ranges, lying=lying)


@dataclass
class _Split:
    """What every sample of one split shares while it is written."""

    name: str
    preset: AppearancePreset
    layout: _SplitLayout
    cameras: _CameraPlan
    renderer: Renderer
    seed: int
    is_synthetic: bool
    postures: list[str | None]  # one per source pose
    source: np.ndarray  # the source pose of each sample
    rotation_index: np.ndarray | None  # FiDIP's rotation i of each sample, or None
    first_id: int

    @property
    def key(self) -> int:
        return zlib.crc32(self.name.encode("utf-8"))


def _body_record(backend: str, batch: BodyPose, j: int, size: int) -> dict[str, Any]:
    """The body parameters an image record carries (rounded, as JSON numbers)."""
    return {
        "backend": backend,
        "shape": _shape_record(batch.shape, j, size),
        "global_orient": _round(batch.global_orient[j].cpu(), 6),
        "body_pose": _round(batch.body_pose[j].reshape(-1, 3).cpu(), 6),
        "transl": _round(torch.zeros(3) if batch.transl is None else batch.transl[j].cpu(), 6),
    }


def _parts_of_new_shapes(
    body: BodyModel, batch: BodyPose, size: int, cache: dict[str, BodyParts]
) -> list[str]:
    """The shape key of each body of ``batch``; body parts of new shapes go into ``cache``.

    Body parts come from the rest pose of each new shape (patterns stick to the body); bodies
    of one shape share them.
    """
    keys = [_shape_key(_shape_record(batch.shape, j, size)) for j in range(size)]
    new = [j for j, key in enumerate(keys) if key not in cache]
    new = [j for n, j in enumerate(new) if keys[j] not in [keys[i] for i in new[:n]]]
    if new:
        shapes = select_shape(batch.shape, torch.as_tensor(new), size)
        with torch.no_grad():
            rest = body(body.zero_pose(len(new), shape=shapes))
        for n, j in enumerate(new):
            cache[keys[j]] = body_parts(
                rest.vertices[n].cpu().numpy(), rest.joints[n].cpu().numpy()
            )
    return keys


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
        layout = _SplitLayout.of(name, annotation_file, image_dir, file_pattern)
        layout.make_folders(self._tmp)
        pose_postures = _as_postures(postures, poses.batch_size)
        if rotations:
            poses, source, rotation_index = paper_protocol(poses, rotations, rotation_step)
        else:
            source, rotation_index = np.arange(poses.batch_size), None
        count = poses.batch_size
        split = _Split(
            name=name,
            preset=preset,
            layout=layout,
            cameras=_CameraPlan.of(cameras, rotations, count, preset, image_size, camera_tries),
            renderer=self._renderer_for(tuple(image_size)),
            seed=seed,
            is_synthetic=preset.is_synthetic if is_synthetic is None else bool(is_synthetic),
            postures=pose_postures,
            source=source,
            rotation_index=rotation_index,
            first_id=first_id,
        )
        images, annotations = [], []
        parts_cache: dict[str, BodyParts] = {}
        bar = progress_bar(total=count, desc=f"render {name}", unit="img", enabled=self.progress)
        try:
            for start in range(0, count, batch_size):
                index = torch.arange(start, min(start + batch_size, count))
                batch = poses.select(index).to(device=body.device, dtype=body.dtype)
                with torch.no_grad():
                    output = body(batch)
                keys = _parts_of_new_shapes(body, batch, len(index), parts_cache)
                for j, k in enumerate(index.tolist()):
                    record = _body_record(body.backend, batch, j, len(index))
                    image, annotation = self._add_sample(
                        split, output, j, k, parts_cache[keys[j]], record
                    )
                    images.append(image)
                    annotations.append(annotation)
                    bar.update(1)
        finally:
            bar.close()
        info = {
            "description": f"rendered by infantpose.render ({preset.name} preset): {preset.description}",
            "preset": preset.name,
            "seed": seed,
            "rotations": rotations,
            "cameras": split.cameras.mode,
            "is_synthetic": split.is_synthetic,
        }
        coco = make_coco(
            images,
            annotations,
            image_root=self.root / layout.image_dir,
            source=str(self.root / layout.annotation_file),
            info=info,
        )
        write_coco(coco, self._tmp / layout.annotation_file)
        self.splits[name] = coco
        return coco

    def _add_sample(
        self,
        split: _Split,
        output: BodyOutput,
        j: int,
        k: int,
        parts: BodyParts,
        record: dict[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Render sample ``k`` (body ``j`` of ``output``), write its files; its COCO records."""
        image_id = split.first_id + k
        file_name = split.layout.file_pattern.format(id=image_id)
        posture = split.postures[int(split.source[k])]
        lying = (
            posture in LYING_POSTURES
            if posture is not None
            else is_lying(output.joints[j].cpu().numpy())
        )
        rng = np.random.default_rng([split.seed, split.key, k])
        image_size = split.cameras.image_size
        appearance = sample_appearance(rng, split.preset, image_size, lying=lying)
        sample = self._render_with_retries(
            split, output, j=j, k=k, appearance=appearance, rng=rng, parts=parts, record=record,
            lying=lying, file_name=file_name,
        )  # fmt: skip
        self._write_files(sample, split, file_name)
        layout = split.layout
        extra = {}
        if split.rotation_index is not None:
            extra = {
                "source_pose": int(split.source[k]),
                "rotation_index": int(split.rotation_index[k]),
            }
        image = image_record(
            image_id,
            file_name,
            image_size[0],
            image_size[1],
            is_synthetic=split.is_synthetic,
            posture=posture,
            camera=sample.camera.to_dict(),
            body=sample.body,
            appearance=sample.appearance,
            mask_file=str(Path(layout.mask_dir) / Path(file_name).with_suffix(".png")),
            depth_file=str(Path(layout.depth_dir) / Path(file_name).with_suffix(".png")),
            **extra,
        )
        annotation = annotation_record(
            image_id,
            image_id,
            np.round(sample.keypoints, 2),
            bbox=sample.bbox,
            area=sample.area,
            keypoints_3d=_round(sample.keypoints_3d, 5),
        )
        return image, annotation

    def _render_with_retries(
        self,
        split: _Split,
        output: BodyOutput,
        *,
        j: int,
        k: int,
        appearance: AppearanceParams,
        rng: np.random.Generator,
        parts: BodyParts,
        record: dict[str, Any],
        lying: bool,
        file_name: str,
    ) -> RenderedSample:
        """Sample ``k`` from the split's cameras, drawing another when the body leaves the image."""
        vertices = output.vertices[j].cpu().numpy()
        last: RenderError | None = None
        plan = split.cameras
        for _ in range(plan.attempts):
            camera = plan.camera(k, rng, vertices, lying)
            try:
                return render_sample(
                    split.renderer, output, camera, appearance, split.preset, rng,
                    index=j, parts=parts, body_record=record,
                )  # fmt: skip
            except RenderError as error:
                last = error
        raise RenderError(
            f"split {split.name!r}, sample {k} ({file_name}): no usable image after "
            f"{plan.attempts} camera(s) ({plan.mode}); last problem: {last}"
        )

    def _write_files(self, sample: RenderedSample, split: _Split, file_name: str) -> None:
        import cv2

        stem = Path(file_name).with_suffix(".png")
        tmp, layout = self._tmp, split.layout
        quality = [cv2.IMWRITE_JPEG_QUALITY, int(split.preset.file_jpeg_quality)]
        writes = [
            (tmp / layout.image_dir / file_name, sample.rgb[..., ::-1], quality),
            (tmp / layout.mask_dir / stem, sample.mask.astype(np.uint8) * 255, []),
            (tmp / layout.depth_dir / stem, np.clip(np.round(sample.depth * 1000.0), 0, 65535).astype(np.uint16), []),
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
