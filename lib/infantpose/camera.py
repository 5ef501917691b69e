"""Pinhole cameras in OpenCV's convention: project, aim, sample around a body, hand to pyrender.

Conventions (the same as the fitter's, so a fitted camera can be rendered and vice versa):

* A :class:`Camera` maps world points (metres, y up, see :mod:`infantpose.body.model`) to the
  camera frame with ``p_cam = R @ p_world + t``; the camera frame is OpenCV's: **x right,
  y down, z forward** (depth = ``p_cam[2]``, positive in front of the camera).
* Pixels: ``u = fx * x / z + cx``, ``v = fy * y / z + cy``, with integer coordinates at pixel
  *centres* (OpenCV's and ``cv2.projectPoints``'s convention): pixel (0, 0) covers
  [-0.5, 0.5]². OpenGL puts pixel centres at +0.5, so :meth:`Camera.pyrender_camera` shifts
  the principal point by half a pixel; a rendered image and :meth:`Camera.project` agree.
* :func:`project_points` is the projection alone, for numpy arrays or (differentiable) torch
  tensors; :func:`project_with_intrinsics` the same from 3×3 matrices ``K``. Every pinhole
  projection of the package goes through it (the fitter's, the lifter's, MINI-RGBD's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .config import ConfigError, check_keys

__all__ = [
    "Camera",
    "CameraRanges",
    "look_at",
    "orbit_rotation",
    "paper_camera",
    "project_points",
    "project_with_intrinsics",
    "sample_camera",
]

# The OpenCV camera frame seen from OpenGL's (x right, y up, z backwards): flip y and z.
_CV_TO_GL = np.diag([1.0, -1.0, -1.0])


def project_points(points_cam: Any, fx: Any, fy: Any, cx: Any, cy: Any, eps: float = 1e-9) -> Any:
    """Pixels ``(..., 2)`` of camera-frame points ``(..., 3)`` (OpenCV frame, see the module docstring).

    Works on numpy arrays and on torch tensors (differentiable; ``fx`` ... may be tensors too).
    Depths are clamped to ``eps`` so that points behind the camera give finite, meaningless
    pixels: test ``points_cam[..., 2] > 0`` where it matters.
    """
    x, y, z = points_cam[..., 0], points_cam[..., 1], points_cam[..., 2]
    if isinstance(points_cam, np.ndarray):
        z = np.maximum(z, eps)
        return np.stack([fx * x / z + cx, fy * y / z + cy], axis=-1)
    import torch

    z = torch.clamp(z, min=eps)
    return torch.stack([fx * x / z + cx, fy * y / z + cy], dim=-1)


def project_with_intrinsics(points_cam: Any, intrinsics: Any, eps: float = 1e-9) -> Any:
    """Pixels ``(..., J, 2)`` of camera-frame points ``(..., J, 3)`` with ``(..., 3, 3)`` or
    ``(3, 3)`` zero-skew intrinsics ``K``: :func:`project_points` with K's entries.

    numpy arrays (K is read as float64) or torch tensors (differentiable)."""
    if isinstance(points_cam, np.ndarray):
        intrinsics = np.asarray(intrinsics, dtype=np.float64)
    K = intrinsics[..., None, :, :]  # one K per pose, shared by its joints
    return project_points(
        points_cam, K[..., 0, 0], K[..., 1, 1], K[..., 0, 2], K[..., 1, 2], eps=eps
    )


def look_at(eye: Any, target: Any, up: Any = (0.0, 1.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """World→camera ``(R, t)`` of a camera at ``eye`` looking at ``target``, ``up`` up in the image.

    The image's y axis points down, so world ``up`` appears towards the top of the image.
    ``up`` must not be parallel to the viewing direction (a ValueError says so).
    """
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    forward = target - eye
    norm = np.linalg.norm(forward)
    if norm < 1e-12:
        raise ValueError("look_at: eye and target are the same point; move the camera back")
    z = forward / norm
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9 * max(np.linalg.norm(up), 1.0):
        raise ValueError(
            f"look_at: up={up.tolist()} is parallel to the viewing direction {z.round(6).tolist()}; "
            "give another up vector (e.g. the body's head direction for a camera straight above)"
        )
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    rotation = np.stack([x, y, z])
    return rotation, -rotation @ eye


def orbit_rotation(azimuth: float, elevation: float, roll: float = 0.0) -> np.ndarray:
    """World→camera rotation of a camera on a sphere around its target, angles in radians.

    ``azimuth`` 0 puts the camera on +z (in front of a body in its zero pose), π/2 on +x (the
    body's left); ``elevation`` is the angle above the horizontal plane (π/2: straight above,
    looking down with the image top towards azimuth + π); ``roll`` turns the image about the
    optical axis (clockwise on screen for positive values). Never degenerate.
    """
    h = np.array([math.sin(azimuth), 0.0, math.cos(azimuth)])  # horizontal, target → camera
    world_up = np.array([0.0, 1.0, 0.0])
    back = math.cos(elevation) * h + math.sin(elevation) * world_up  # target → camera
    up = -math.sin(elevation) * h + math.cos(elevation) * world_up  # ⟂ back, in the same plane
    rotation, _ = look_at(back, np.zeros(3), up)
    c, s = math.cos(roll), math.sin(roll)
    in_plane = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return in_plane @ rotation


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: intrinsics, image size and the world→camera pose (OpenCV frame)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    R: np.ndarray  # (3, 3) world → camera rotation
    t: np.ndarray  # (3,) world → camera translation: p_cam = R @ p_world + t

    def __post_init__(self) -> None:
        R = np.asarray(self.R, dtype=np.float64).reshape(3, 3)
        t = np.asarray(self.t, dtype=np.float64).reshape(3)
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-5) or np.linalg.det(R) < 0:
            raise ValueError(f"Camera.R is not a rotation matrix: {R.round(4).tolist()}")
        if min(self.width, self.height) <= 0 or min(self.fx, self.fy) <= 0:
            raise ValueError(
                f"Camera needs a positive image size and focal length, got {self.width}×{self.height}, "
                f"fx={self.fx}, fy={self.fy}"
            )
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "t", t)

    @property
    def K(self) -> np.ndarray:
        """The 3×3 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)``."""
        return self.width, self.height

    @property
    def center(self) -> np.ndarray:
        """The camera centre in world coordinates."""
        return -self.R.T @ self.t

    def world_to_camera(self, points_world: Any) -> np.ndarray:
        """``(N, 3)`` camera-frame coordinates of world points."""
        return np.asarray(points_world, dtype=np.float64) @ self.R.T + self.t

    def project(self, points_world: Any) -> tuple[np.ndarray, np.ndarray]:
        """Pixels ``(N, 2)`` and depths ``(N,)`` (metres along the optical axis) of world points."""
        cam = self.world_to_camera(points_world)
        return project_points(cam, self.fx, self.fy, self.cx, self.cy), cam[..., 2]

    def in_image(self, pixels: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
        """Whether each pixel lies in the image, [0, W-1] × [0, H-1] (and in front, if depths given)."""
        u, v = pixels[..., 0], pixels[..., 1]
        inside = (u >= 0) & (u <= self.width - 1) & (v >= 0) & (v <= self.height - 1)
        return inside & (depth > 0) if depth is not None else inside

    def opengl_pose(self) -> np.ndarray:
        """The 4×4 camera→world pose in OpenGL's camera convention (what pyrender's scene wants)."""
        pose = np.eye(4)
        pose[:3, :3] = self.R.T @ _CV_TO_GL
        pose[:3, 3] = self.center
        return pose

    def pyrender_camera(self, znear: float = 0.01, zfar: float = 100.0):
        """A ``pyrender.IntrinsicsCamera`` that renders exactly what :meth:`project` predicts."""
        import pyrender

        # OpenGL samples pixel centres at +0.5, OpenCV at integers: shift by half a pixel.
        return pyrender.IntrinsicsCamera(
            self.fx, self.fy, self.cx + 0.5, self.cy + 0.5, znear=znear, zfar=zfar
        )

    def to_dict(self, digits: int = 8) -> dict[str, Any]:
        """``{fx, fy, cx, cy, width, height, R, t}`` as plain, rounded JSON numbers."""
        return {
            "fx": round(float(self.fx), digits),
            "fy": round(float(self.fy), digits),
            "cx": round(float(self.cx), digits),
            "cy": round(float(self.cy), digits),
            "width": int(self.width),
            "height": int(self.height),
            "R": [[round(float(x), digits) for x in row] for row in self.R],
            "t": [round(float(x), digits) for x in self.t],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "Camera") -> Camera:
        """The camera :meth:`to_dict` wrote; unknown or missing fields are errors."""
        check_keys(data, cls, where)
        missing = [f.name for f in fields(cls) if f.name not in data]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
        return cls(**data)

    @classmethod
    def from_fov(
        cls,
        fov_y_deg: float,
        image_size: tuple[int, int],
        R: Any = np.eye(3),  # noqa: B008 - read only
        t: Any = (0.0, 0.0, 0.0),
    ) -> Camera:
        """Square pixels, principal point at the image centre, vertical field of view in degrees."""
        width, height = image_size
        f = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2)
        return cls(f, f, (width - 1) / 2, (height - 1) / 2, width, height, R, t)


def paper_camera(image_size: tuple[int, int] = (640, 480)) -> Camera:
    """FiDIP's fixed render camera, in the book's frame: f = width / 2, body 0.5 m in front.

    The original OpenDR camera had R = I, t = (0, -0.1, 0.5) m with a fitted SMIL orientation
    that already turned the body upside down for OpenCV's y-down frame. Our bodies are y up, so
    the same view is R = diag(1, -1, -1) (a camera on +z looking at the body's front) with the
    same t: the pelvis 0.5 m away, 0.1 m above the image centre.
    """
    width, height = image_size
    f = width / 2
    return Camera(f, f, width / 2, height / 2, width, height, _CV_TO_GL, (0.0, -0.1, 0.5))


@dataclass(frozen=True)
class CameraRanges:
    """Where random cameras go; angles in degrees, ``(low, high)`` uniform ranges.

    ``fill`` is the fraction of the image the body's projected box fills along its tighter
    side (the larger of box width / image width and box height / image height).
    ``lying_elevation`` replaces ``elevation`` for lying bodies (cameras above them).
    """

    azimuth: tuple[float, float] = (-180.0, 180.0)
    elevation: tuple[float, float] = (-10.0, 40.0)
    lying_elevation: tuple[float, float] = (40.0, 90.0)
    roll: tuple[float, float] = (-10.0, 10.0)
    lying_roll: tuple[float, float] = (-180.0, 180.0)
    fov_y: tuple[float, float] = (35.0, 60.0)
    fill: tuple[float, float] = (0.6, 0.9)
    center_jitter: float = 0.8  # fraction of the free margin the body may move by

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "center_jitter":
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"CameraRanges.center_jitter={value!r}: a fraction in [0, 1]")
                continue
            low, high = (float(v) for v in value)
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(
                    f"CameraRanges.{f.name}={value!r}: a (low, high) range, low ≤ high"
                )
            object.__setattr__(self, f.name, (low, high))
        if not 0.0 < self.fill[0] <= self.fill[1] <= 1.0 or not 0.0 < self.fov_y[0] < 180.0:
            raise ValueError(
                f"CameraRanges: fill {self.fill} must lie in (0, 1] and fov_y {self.fov_y} in "
                "(0, 180) degrees"
            )

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "CameraRanges") -> CameraRanges:
        """Ranges from plain settings; an unknown name is an error (with the closest one)."""
        check_keys(d, cls, where)
        return cls(**d)


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1])) if bounds[1] > bounds[0] else float(bounds[0])


def sample_camera(
    rng: np.random.Generator,
    points_world: Any,
    image_size: tuple[int, int],
    ranges: CameraRanges | None = None,
    *,
    lying: bool = False,
) -> Camera:
    """A random camera that frames ``points_world`` (a body's vertices) inside the image.

    Draws (in this order, so the same ``rng`` state gives the same camera) the field of view,
    azimuth, elevation, roll, fill fraction and box position; then places the camera at the
    distance that makes the projected box fill that fraction, and shifts it sideways so the box
    moves by a random part of the free margin. Deterministic under ``rng``.
    """
    ranges = ranges or CameraRanges()
    points = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
    width, height = image_size
    fov = _uniform(rng, ranges.fov_y)
    azimuth = math.radians(_uniform(rng, ranges.azimuth))
    elevation = math.radians(_uniform(rng, ranges.lying_elevation if lying else ranges.elevation))
    roll = math.radians(_uniform(rng, ranges.lying_roll if lying else ranges.roll))
    fill = _uniform(rng, ranges.fill)
    jitter = rng.uniform(-1.0, 1.0, size=2) * ranges.center_jitter

    f = 0.5 * height / math.tan(math.radians(fov) / 2)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    R = orbit_rotation(azimuth, elevation, roll)
    center = 0.5 * (points.min(axis=0) + points.max(axis=0))
    local = (points - center) @ R.T  # camera-axis coordinates about the body centre
    radius = float(np.linalg.norm(local, axis=1).max())
    step = max(1, len(local) // 2000)  # a subsample is enough to find the distance
    sub = local[::step]

    def fill_at(distance: float) -> float:
        u, v = project_points(sub + np.array([0.0, 0.0, distance]), f, f, 0.0, 0.0).T
        return max((u.max() - u.min()) / width, (v.max() - v.min()) / height)

    # The box shrinks monotonically with distance beyond the body: bisect in log-distance.
    low, high = 1.05 * max(radius, 1e-4), 2.0 * max(radius, 1e-4)
    while fill_at(high) > fill:
        low, high = high, 2.0 * high
    for _ in range(30):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if fill_at(middle) > fill else (low, middle)
    distance = high
    # Centre the box (perspective makes it lopsided), then move it by a random part of the free
    # margin; points nearer than the centre move more, so shrink the move until the box fits, and
    # step back a little if even the centred box does not fit.
    for _ in range(20):
        cam = local + np.array([0.0, 0.0, distance])
        u, v = project_points(cam, f, f, cx, cy).T
        centring = np.array([cx - 0.5 * (u.min() + u.max()), cy - 0.5 * (v.min() + v.max())])
        room = np.array([width - 1 - np.ptp(u), height - 1 - np.ptp(v)]) / 2
        for scale in (1.0, 0.5, 0.25, 0.0):
            shift_px = centring + scale * jitter * np.maximum(room, 0.0)
            offset = np.array([*(shift_px * distance / f), 0.0])
            moved = cam + offset
            u, v = project_points(moved, f, f, cx, cy).T
            if u.min() >= 0 and v.min() >= 0 and u.max() <= width - 1 and v.max() <= height - 1:
                t = np.array([0.0, 0.0, distance]) - R @ center + offset
                return Camera(f, f, cx, cy, width, height, R, t)
        distance *= 1.05
    t = np.array([0.0, 0.0, distance]) - R @ center
    return Camera(f, f, cx, cy, width, height, R, t)
