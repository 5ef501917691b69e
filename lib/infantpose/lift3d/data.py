"""3D pose sets for lifting: library poses on anny bodies, seen by cameras, in metres.

A :class:`PoseSet3D` holds root-relative 3D poses **in the camera frame** (OpenCV axes,
metres), the 2D keypoints of the same poses (pixels) and the intrinsics that made them. This
is the data ZeDO trains and tests on: the prior learns camera-frame poses, so the set keeps
the viewpoint distribution of its cameras.

:func:`sample_pose_set` poses adult or infant anny bodies (ages from
:func:`infantpose.body.poses.sample_shapes`) with :class:`~infantpose.body.PoseSampler`,
converts the 22 body joints to Human3.6M-17 (``keypoints.convert`` through SMPL-24, the two
hand joints NaN-padded since Human3.6M-17 does not use them) or SyRIP-12, and views each body
with a random camera: ``"render"`` draws one like the book's renders (appearance preset
ranges, cameras above lying bodies), ``"minirgbd"`` uses MINI-RGBD's fixed intrinsics.

Roots: Human3.6M-17 is centred on the pelvis (joint 0), SyRIP-12 on the hip midpoint, as in
ZeDO-i (:func:`root_of`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..body.model import BodyModel
from ..camera import project_with_intrinsics, sample_camera
from ..io import atomic_path, read_npz
from ..keypoints import H36M17, SMPL24, Layout, convert, get_layout

__all__ = [
    "IMAGE_SIZES",
    "PoseSet3D",
    "body_joints_to_layout",
    "load_pose_set",
    "minirgbd_pose_set",
    "noisy_keypoints",
    "root_of",
    "root_relative",
    "sample_pose_set",
]

#: Image sizes (width, height) of the camera kinds of :func:`sample_pose_set`.
IMAGE_SIZES = {"render": (384, 288), "minirgbd": (640, 480)}


def root_of(layout: str | Layout) -> tuple[int, ...]:
    """Joint indices whose mean is the root: the pelvis, or the mid-hip when there is none."""
    layout = get_layout(layout)
    if "pelvis" in layout.joints:
        return (layout.index("pelvis"),)
    return (layout.index("left_hip"), layout.index("right_hip"))


def root_relative(points: np.ndarray, layout: str | Layout) -> tuple[np.ndarray, np.ndarray]:
    """``(points - root, root)`` for ``(..., J, 3)`` points; ``root`` is ``(..., 3)``."""
    root = points[..., list(root_of(layout)), :].mean(-2)
    return points - root[..., None, :], root


def body_joints_to_layout(joints: Any, layout: str | Layout) -> np.ndarray:
    """(..., 22, 3) body joints (SMPL-X body order) as (..., J, 3) joints of ``layout``.

    SMPL-24 minus its two hand joints is our body order, so we pad the hands with NaN and use
    the registered SMPL-24 conversions; SyRIP-12 takes its joints by name from Human3.6M-17.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[-2] != 22:
        raise ValueError(f"expected (..., 22, 3) body joints, got shape {joints.shape}")
    pad = np.full((*joints.shape[:-2], 2, joints.shape[-1]), np.nan)
    h36m = convert(np.concatenate([joints, pad], axis=-2), SMPL24, H36M17)
    layout = get_layout(layout)
    if layout.name == H36M17.name:
        return h36m
    if all(j in H36M17.joints for j in layout.joints):
        return h36m[..., H36M17.indices(layout.joints), :]
    raise ValueError(f"no conversion from body joints to layout {layout.name!r}")


@dataclass
class PoseSet3D:
    """Root-relative camera-frame 3D poses with their 2D keypoints and intrinsics.

    ``poses_3d`` (N, J, 3) metres, root at the origin; ``keypoints_2d`` (N, J, 2) pixels
    (NaN = missing); ``intrinsics`` (N, 3, 3); ``root`` (N, 3) the root's camera-frame
    position, so ``poses_3d + root[:, None]`` projects to ``keypoints_2d``.
    """

    poses_3d: np.ndarray
    keypoints_2d: np.ndarray
    intrinsics: np.ndarray
    layout: str
    root: np.ndarray
    population: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="<U8"))
    image_size: tuple[int, int] = (384, 288)

    def __post_init__(self) -> None:
        n, j = self.poses_3d.shape[:2]
        layout = get_layout(self.layout)
        self.layout = layout.name
        if j != len(layout):
            raise ValueError(f"poses_3d has {j} joints, layout {layout.name} has {len(layout)}")
        if self.keypoints_2d.shape != (n, j, 2) or self.intrinsics.shape != (n, 3, 3):
            raise ValueError(
                f"keypoints_2d {self.keypoints_2d.shape} / intrinsics {self.intrinsics.shape} "
                f"do not match {n} poses of {j} joints: expected ({n}, {j}, 2) and ({n}, 3, 3)"
            )
        if len(self.population) != n:
            self.population = np.full(n, "", dtype="<U8")

    def __len__(self) -> int:
        return len(self.poses_3d)

    def subset(self, index: Any) -> PoseSet3D:
        """The poses at ``index`` (slice, index array or boolean mask)."""
        return PoseSet3D(
            self.poses_3d[index],
            self.keypoints_2d[index],
            self.intrinsics[index],
            self.layout,
            self.root[index],
            self.population[index],
            self.image_size,
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write an ``.npz`` atomically (complete or absent)."""
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(
                    f,
                    poses_3d=self.poses_3d,
                    keypoints_2d=self.keypoints_2d,
                    intrinsics=self.intrinsics,
                    layout=np.array(self.layout),
                    root=self.root,
                    population=self.population,
                    image_size=np.array(self.image_size),
                )
        return path


def load_pose_set(path: str | os.PathLike) -> PoseSet3D:
    """Read a :meth:`PoseSet3D.save` file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pose set {path} does not exist; make it with sample_pose_set")
    data = read_npz(path)  # never pickle; a truncated file is an error naming it
    missing = {"poses_3d", "keypoints_2d", "intrinsics", "layout", "root"} - set(data)
    if missing:
        raise ValueError(f"{path} is not a PoseSet3D file: it lacks {sorted(missing)}")
    return PoseSet3D(
        data["poses_3d"],
        data["keypoints_2d"],
        data["intrinsics"],
        str(data["layout"]),
        data["root"],
        data["population"] if "population" in data else np.zeros(0, "<U8"),
        tuple(int(v) for v in data["image_size"]) if "image_size" in data else (384, 288),
    )


def _cameras(
    joints_world: np.ndarray,
    camera: str,
    rng: np.random.Generator,
    preset: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per body: (R, t, K) of a random camera framing its joints."""
    from dataclasses import replace

    from ..body.poses import is_lying
    from ..data.minirgbd import MINIRGBD_INTRINSICS
    from ..render.presets import get_preset

    if camera not in IMAGE_SIZES:
        raise ValueError(f"unknown camera kind {camera!r}; use one of {', '.join(IMAGE_SIZES)}")
    size = IMAGE_SIZES[camera]
    ranges = get_preset(preset).cameras
    if camera == "minirgbd":
        fov = float(np.degrees(2 * np.arctan(0.5 * size[1] / MINIRGBD_INTRINSICS[1, 1])))
        ranges = replace(ranges, fov_y=(fov, fov))
    rotations, translations, intrinsics = [], [], []
    for joints in joints_world:
        cam = sample_camera(rng, joints, size, ranges, lying=is_lying(joints))
        K = cam.K if camera == "render" else MINIRGBD_INTRINSICS
        rotations.append(cam.R)
        translations.append(cam.t)
        intrinsics.append(K)
    return np.stack(rotations), np.stack(translations), np.stack(intrinsics)


def sample_pose_set(
    body: BodyModel,
    population: str,
    count: int,
    seed: int = 0,
    *,
    layout: str | Layout = "h36m17",
    camera: str = "render",
    preset: str | None = None,
    batch_size: int = 1000,
) -> PoseSet3D:
    """``count`` library poses of ``population`` ("infant"/"adult") on anny bodies of that age.

    Deterministic under ``seed``. ``camera``: ``"render"`` (our renders' random intrinsics,
    384×288) or ``"minirgbd"`` (MINI-RGBD's fixed K, 640×480); camera placement follows the
    appearance ``preset`` (default ``"photo"`` for infants, ``"surreal"`` for adults).
    """
    import torch

    from ..body import PoseSampler

    layout = get_layout(layout)
    preset = preset or ("surreal" if population == "adult" else "photo")
    rng = np.random.default_rng(seed)
    sampler = PoseSampler(body, population=population)
    chunks = []
    for start in range(0, count, batch_size):
        sample = sampler.sample(min(batch_size, count - start), seed=rng)
        with torch.no_grad():
            joints, _ = body.skeleton(sample.pose)
        chunks.append(joints.double().cpu().numpy())
    world = np.concatenate(chunks) if chunks else np.zeros((0, 22, 3))
    R, t, K = _cameras(world, camera, rng, preset)
    cam = np.einsum("nij,nkj->nki", R, world) + t[:, None, :]
    points = body_joints_to_layout(cam, layout)
    keypoints = project_with_intrinsics(points, K)
    poses, root = root_relative(points, layout)
    return PoseSet3D(
        poses,
        keypoints,
        K,
        layout.name,
        root,
        np.full(count, population, "<U8"),
        IMAGE_SIZES[camera],
    )


def noisy_keypoints(
    keypoints_2d: np.ndarray, sigma_px: float, missing: float = 0.0, seed: int = 0
) -> np.ndarray:
    """A copy of (N, J, 2) keypoints with Gaussian pixel noise and a share ``missing`` set NaN.

    Stands in for detector output when no predictions (e.g. the FiDIP chapter's) are at hand.
    """
    rng = np.random.default_rng(seed)
    out = np.asarray(keypoints_2d, dtype=np.float64) + rng.normal(
        0, sigma_px, np.shape(keypoints_2d)
    )
    out[rng.random(out.shape[:-1]) < missing] = np.nan
    return out


def minirgbd_pose_set(
    dataset: Any, layout: str | Layout = "h36m17", convention: str = "anatomical"
) -> PoseSet3D:
    """A :class:`PoseSet3D` from a :class:`~infantpose.data.minirgbd.MiniRgbd` (its joints_3D).

    ``convention="zedoi"`` reproduces ZeDO-i's joint choice (toes as ankles, collars as
    shoulders) to compare with the paper; the 2D keypoints are the 3D joints projected with
    the dataset's fixed K (the published 2D files project the same joints).
    """
    layout = get_layout(layout)
    joints = np.asarray(dataset.joints_3d, dtype=np.float64)
    h36m = convert(joints, "minirgbd25", H36M17, convention)
    points = h36m if layout.name == H36M17.name else h36m[..., H36M17.indices(layout.joints), :]
    K = np.broadcast_to(np.asarray(dataset.intrinsics, dtype=np.float64), (len(points), 3, 3))
    keypoints = project_with_intrinsics(points, K)
    poses, root = root_relative(points, layout)
    return PoseSet3D(
        poses,
        keypoints,
        K.copy(),
        layout.name,
        root,
        np.full(len(points), "infant", "<U8"),
        (640, 480),
    )
