"""Fit a body to COCO-17 2D keypoints, many images at once (SMPLify-X's recipe, batched).

The objective per image, as in SMPLify-X and the FiDIP code (ostadabbas/Infant-Pose-Estimation, its SMPLify-X-based SMIL fitting):

* **data term** ``w_data^2 sum_j c_j^2 GMoF(x_j - Pi(X_j))`` over x and y, with the
  Geman-McClure ``GMoF(r) = rho^2 r^2 / (r^2 + rho^2)``, ``rho = 100 px``,
  ``w_data = 1000 / image height``, and ``c_j`` the keypoint's visibility flag (2 labelled
  and visible, 1 labelled but occluded, 0 missing), used as its confidence as the original
  code did (so an occluded point weighs a quarter of a visible one);
* **pose prior** ``lambda_theta^2 E_GMM(theta)`` (:class:`~infantpose.body.priors.GaussianMixturePrior`,
  fitted on our pose library because the adult CMU mixture is not available);
* **bending prior** ``3.17 lambda_theta sum exp(-flexion)^2`` over elbows and knees;
* **shape prior** ``lambda_beta^2 |z|^2`` on the backend's shape vector.

The camera is a pinhole with the body model's y-up world seen from +z (OpenCV axes: image x
right, y down), fixed rotation, focal length 1800 px unless intrinsics are given, principal
point at the image centre. As in SMPLify, fitting starts from the prior's mean pose at a
depth guessed from the torso (``f * 3D torso length / 2D torso length``), then a **camera
stage** fits the translation and global orientation to shoulders and hips (with a depth
regulariser), then four **body stages** with the reference's SMIL weights
``lambda_theta = 404, 404, 57.4, 4.78`` and ``lambda_beta = 200, 30, 50, 35``, each an L-BFGS
run with strong-Wolfe line search. When the shoulders are close together in the image (a side
view) the fit also starts turned by 180 degrees, and the lower final loss wins.

Two things differ from the original, both because they help a batched fit without a human:
the start is turned in the image plane to the torso's 2D direction and faces the camera or
away from it as the left/right labels say (SMPLify always starts upright facing the camera);
and the camera translation stays free in the body stages (the original fixes it after the
camera stage).

**Acceptance.** The FiDIP authors filtered fits by hand; :class:`FitConfig` documents the
thresholds used instead: a fit is rejected for too few keypoints, a mean reprojection error
above a fraction of the keypoints' box diagonal, an implausible pose (prior energy above the
99th percentile of the library's own poses times a margin), or an extreme shape.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ..camera import project_points
from ..config import check_keys
from ..keypoints import COCO17
from ..optim import batched_lbfgs
from ..progress import progress_bar
from .model import BodyModel, BodyPose
from .poses import POSE_LIBRARY, rest_corrections, rotmats_to_body_pose
from .priors import GaussianMixturePrior, bending_energy, fit_pose_prior

__all__ = ["BodyFitResult", "FitConfig", "FitInputError", "fit_body", "project"]

_K = {name: i for i, name in enumerate(COCO17.joints)}
_TORSO = [_K[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
# Fixed camera rotation: world y up -> image y down, the body's front (+z) faces the camera.
_CAMERA_ROTATION = torch.diag(torch.tensor([1.0, -1.0, -1.0]))


class FitInputError(ValueError):
    """Keypoints the fitter cannot use; the message names the image, the joint and the fix."""


@dataclass
class FitConfig:
    """Weights, schedule and acceptance thresholds of :func:`fit_body` (defaults: the reference's)."""

    focal_length: float = 1800.0  # px, used when no intrinsics are given (SMIL fit's setting)
    gmof_rho: float = 100.0  # px, Geman-McClure scale
    data_weight_scale: float = 1000.0  # data weight = this / image height
    pose_prior_weights: tuple[float, ...] = (404.0, 404.0, 57.4, 4.78)
    shape_weights: tuple[float, ...] = (200.0, 30.0, 50.0, 35.0)
    bending_scale: float = 3.17  # bending weight = this * pose prior weight (not squared)
    depth_weight: float = 100.0  # camera stage: weight^2 * (t_z - guessed depth)^2
    camera_iterations: int = 20  # L-BFGS iterations of the camera stage
    stage_iterations: int = 30  # L-BFGS iterations of each body stage
    fit_shape: bool = True
    shape_from_stage: int = 2  # the shape joins from this body stage on (it costs 2x per step)
    side_view_ratio: float = 0.35  # 2D shoulder width / torso length below this: try 180 deg too
    population: str = "infant"  # which library the pose prior is fitted on
    prior_components: int = 8
    # Acceptance (the paper filtered by hand):
    min_keypoints: int = 8  # labelled keypoints, and both shoulders or both hips
    max_error_ratio: float = 0.04  # mean reprojection error / keypoint-box diagonal
    prior_margin: float = 1.5  # pose energy <= library p99 + margin * (p99 - median)
    max_shape: float = 2.5  # |z| (shape vector, in prior standard deviations)

    def __post_init__(self) -> None:
        self.pose_prior_weights = tuple(float(w) for w in self.pose_prior_weights)
        self.shape_weights = tuple(float(w) for w in self.shape_weights)
        if not self.pose_prior_weights or len(self.pose_prior_weights) != len(self.shape_weights):
            raise ValueError(
                f"FitConfig: pose_prior_weights {self.pose_prior_weights} and shape_weights "
                f"{self.shape_weights} need one value each per body stage (the same count, ≥ 1)"
            )
        if self.population not in POSE_LIBRARY:
            raise ValueError(
                f"FitConfig.population={self.population!r}; use one of {', '.join(POSE_LIBRARY)}"
            )
        for name in ("camera_iterations", "stage_iterations", "min_keypoints", "prior_components"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"FitConfig.{name}={value!r}: a whole number ≥ 1")
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            numbers = [v for v in values if isinstance(v, float | int) and not isinstance(v, bool)]
            if any(not math.isfinite(v) or v < 0 for v in numbers):
                raise ValueError(f"FitConfig.{f.name}={value!r}: weights and thresholds are ≥ 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "FitConfig") -> FitConfig:
        """A config from saved settings; an unknown name is an error (with the closest one)."""
        check_keys(d, cls, where)
        return cls(**d)

    def replace(self, **changes: Any) -> FitConfig:
        """A copy with some fields changed; an unknown name is an error (with the closest one)."""
        check_keys(changes, FitConfig, "FitConfig.replace")
        return FitConfig(**{**self.to_dict(), **changes})


@dataclass
class BodyFitResult:
    """Per-image fits; ``pose`` is in the backend's own convention (``body(result.pose)``)."""

    pose: BodyPose
    library_pose: torch.Tensor  # (B, 21, 3) T-pose-relative axis-angles (the prior's space)
    shape_vector: torch.Tensor  # (B, S)
    translation: torch.Tensor  # (B, 3) camera-frame translation of the pelvis
    focal: torch.Tensor  # (B, 2) fx, fy
    center: torch.Tensor  # (B, 2) cx, cy
    keypoints_2d: np.ndarray  # (B, 17, 2) the fitted body's projected keypoints
    mean_error: np.ndarray  # (B,) px over labelled keypoints
    median_error: np.ndarray  # (B,) px
    error_ratio: np.ndarray  # (B,) mean error / keypoint-box diagonal
    prior_energy: np.ndarray  # (B,)
    loss: np.ndarray  # (B,) final objective
    flipped: np.ndarray  # (B,) the 180-degree start won
    accepted: np.ndarray  # (B,) bool
    reasons: list[str]  # "" when accepted, else why not
    seconds: float = 0.0
    config: FitConfig = field(default_factory=FitConfig)

    def __len__(self) -> int:
        return len(self.accepted)

    def camera_rotation(self) -> torch.Tensor:
        """(3, 3) world-to-camera rotation shared by every fit (OpenCV axes)."""
        return _CAMERA_ROTATION.clone()

    def summary(self) -> dict[str, Any]:
        ok = self.accepted
        reasons: dict[str, int] = {}
        for r in self.reasons:
            if r:
                key = r.split(":")[0]
                reasons[key] = reasons.get(key, 0) + 1
        finite = np.isfinite(self.median_error)
        return {
            "images": len(self),
            "accepted": int(ok.sum()),
            "rejected": reasons,
            "median_error_px": float(np.median(self.median_error[finite]))
            if finite.any()
            else None,
            "seconds": self.seconds,
            "seconds_per_image": self.seconds / max(len(self), 1),
        }


def project(
    points: torch.Tensor, translation: torch.Tensor, focal: torch.Tensor, center: torch.Tensor
) -> torch.Tensor:
    """(B, N, 2) pixels of (B, N, 3) world points seen by the fitter's camera.

    ``p_cam = R0 X + t`` with ``R0 = diag(1, -1, -1)``; ``u = f p_x / p_z + c``.
    """
    cam = points @ _CAMERA_ROTATION.to(points) + translation[:, None, :]
    f, c = focal[:, None, :], center[:, None, :]
    return project_points(cam, f[..., 0], f[..., 1], c[..., 0], c[..., 1], eps=1e-3)


def _gmof(residual_sq: torch.Tensor, rho: float) -> torch.Tensor:
    return rho**2 * residual_sq / (residual_sq + rho**2)


def _check_keypoints(keypoints: Any, image_size: Any) -> tuple[np.ndarray, np.ndarray]:
    points = np.array(keypoints, dtype=np.float64)
    if points.ndim == 2:
        points = points[None]
    if points.ndim != 3 or points.shape[1:] != (17, 3):
        raise FitInputError(
            f"keypoints have shape {points.shape}; expected (B, 17, 3) = x, y, v per COCO-17 "
            "keypoint (convert other layouts with infantpose.keypoints.convert)"
        )
    size = np.array(image_size, dtype=np.float64)
    if size.shape == (2,):
        size = np.broadcast_to(size, (len(points), 2)).copy()
    if size.shape != (len(points), 2) or not (size > 0).all():
        raise FitInputError(
            f"image_size has shape {size.shape} or non-positive values; give (width, height) "
            f"or one per image, shape ({len(points)}, 2)"
        )
    v = points[..., 2]
    bad_v = ~np.isin(v, (0, 1, 2))
    if bad_v.any():
        i, j = np.argwhere(bad_v)[0]
        raise FitInputError(
            f"image {i}, {COCO17.joints[j]}: visibility v = {v[i, j]:g}; COCO uses 0 (missing), "
            "1 (labelled, occluded) or 2 (visible)"
        )
    labelled = v > 0
    bad = labelled & ~np.isfinite(points[..., :2]).all(-1)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise FitInputError(
            f"image {i}, {COCO17.joints[j]}: labelled (v = {v[i, j]:g}) but its position is "
            f"{points[i, j, :2]}; set v = 0 for a missing keypoint or fix the coordinates"
        )
    points[~labelled] = 0.0
    for i in range(len(points)):
        xy = points[i, labelled[i], :2]
        if len(xy) >= 2 and (np.ptp(xy[:, 0]) * np.ptp(xy[:, 1]) <= 0):
            raise FitInputError(
                f"image {i}: the labelled keypoints span a zero-area box "
                f"({np.ptp(xy[:, 0]):g} x {np.ptp(xy[:, 1]):g} px); they are collapsed onto a "
                "point or a line, which no body explains: check the annotation"
            )
    return points, size


def _usable(points: np.ndarray, config: FitConfig) -> tuple[np.ndarray, list[str]]:
    labelled = points[..., 2] > 0
    ok = np.ones(len(points), dtype=bool)
    reasons = [""] * len(points)
    for i in range(len(points)):
        count = int(labelled[i].sum())
        shoulders = labelled[i, _K["left_shoulder"]] and labelled[i, _K["right_shoulder"]]
        hips = labelled[i, _K["left_hip"]] and labelled[i, _K["right_hip"]]
        sho_hip = any(
            labelled[i, _K[f"{s}_shoulder"]] and labelled[i, _K[f"{s}_hip"]]
            for s in ("left", "right")
        )
        if count < config.min_keypoints or not (shoulders or hips) or not sho_hip:
            ok[i] = False
            reasons[i] = (
                f"too few keypoints: {count} labelled; need {config.min_keypoints}, both "
                "shoulders or both hips, and a shoulder with its hip"
            )
    return ok, reasons


def _library_to_body_pose(library_pose: torch.Tensor, corrections: torch.Tensor | None):
    """The backend's ``body_pose`` for T-pose-relative axis-angles (the prior's space)."""
    import roma

    return rotmats_to_body_pose(roma.rotvec_to_rotmat(library_pose), corrections)


class _Problem:
    """The batched objective's data side over the current hypotheses (one row per image and start)."""

    def __init__(
        self,
        body: BodyModel,
        corrections: torch.Tensor | None,
        target: torch.Tensor,
        weight: torch.Tensor,
        data_weight: torch.Tensor,
        focal: torch.Tensor,
        center: torch.Tensor,
        config: FitConfig,
    ) -> None:
        self.body, self.corrections = body, corrections
        self.target, self.weight, self.data_weight = target, weight, data_weight
        self.focal, self.center, self.config = focal, center, config

    def body_pose(self, library_pose: torch.Tensor) -> torch.Tensor:
        return _library_to_body_pose(library_pose, self.corrections)

    def keypoints(self, orient, library_pose, shape_z, transl) -> torch.Tensor:
        shape = self.body.shape_from_vector(shape_z) if shape_z is not None else None
        pose = BodyPose(
            global_orient=orient,
            body_pose=self.body_pose(library_pose),
            shape=shape,
            transl=torch.zeros_like(transl),
        )
        _, points = self.body.skeleton(pose)
        return project(points, transl, self.focal, self.center)

    def data_term(self, projected: torch.Tensor) -> torch.Tensor:
        residual_sq = (projected - self.target).square()
        robust = _gmof(residual_sq, self.config.gmof_rho).sum(-1)
        return self.data_weight.square() * (self.weight.square() * robust).sum(-1)


def _mask(joints: Sequence[int], like: torch.Tensor) -> torch.Tensor:
    mask = torch.zeros(like.shape[-1], dtype=like.dtype, device=like.device)
    mask[list(joints)] = 1.0
    return mask


def _midpoint(points: np.ndarray, names: tuple[str, str]) -> np.ndarray | None:
    """Mean of the labelled ones among ``names`` in one image's (17, 3) keypoints."""
    idx = [_K[n] for n in names if points[_K[n], 2] > 0]
    return points[idx, :2].mean(0) if idx else None


def _initial_orientation(points: np.ndarray, config: FitConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per image: a (3, 3) starting rotation (world axes) and whether it is a side view."""
    import roma

    rotations, side = [], []
    for p in points:
        v = p[:, 2] > 0

        shoulders = _midpoint(p, ("left_shoulder", "right_shoulder"))
        hips = _midpoint(p, ("left_hip", "right_hip"))
        up = (
            (shoulders - hips)
            if shoulders is not None and hips is not None
            else np.array([0, -1.0])
        )
        torso = float(np.linalg.norm(up)) or 1.0
        phi = math.atan2(-up[0], -up[1])  # rotation about the optical axis: body up -> image up
        # Facing: the left shoulder is on the image's right of the up direction when the body
        # faces the camera (cross product of the left-right shoulder vector and up in the image).
        # The hips stand in when a shoulder is missing.
        facing_camera, shoulder_width = True, 0.0
        for joint in ("shoulder", "hip"):
            left, right = _K[f"left_{joint}"], _K[f"right_{joint}"]
            if v[left] and v[right]:
                across = p[left, :2] - p[right, :2]
                shoulder_width = float(np.linalg.norm(across))
                facing_camera = across[0] * up[1] - across[1] * up[0] < 0
                break
        rz = roma.rotvec_to_rotmat(torch.tensor([0.0, 0.0, phi], dtype=torch.float64))
        ry = roma.rotvec_to_rotmat(
            torch.tensor([0.0, 0.0 if facing_camera else math.pi, 0.0], dtype=torch.float64)
        )
        rotations.append((rz @ ry).numpy())
        side.append(shoulder_width < config.side_view_ratio * torso)
    return np.stack(rotations), np.array(side)


@dataclass
class _Hypotheses:
    """The variables of the batched fit, one row per image and start (side views twice)."""

    image_of: list[int]  # the image each row fits
    flip: np.ndarray  # (n,) the row starts turned by 180 degrees
    orient: torch.Tensor  # (n, 3)
    library_pose: torch.Tensor  # (n, 21, 3) T-pose-relative axis-angles (the prior's space)
    shape_z: torch.Tensor | None  # (n, S), None when the shape is not fitted
    transl: torch.Tensor  # (n, 3)

    def __len__(self) -> int:
        return len(self.image_of)


def _intrinsics(
    intrinsics: Any, count: int, size: np.ndarray, config: FitConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Per image ``(focal, center)`` in pixels: from the given matrices, else the config's
    focal length and the image centre."""
    if intrinsics is not None:
        k = np.broadcast_to(np.asarray(intrinsics, dtype=np.float64), (count, 3, 3))
        return k[:, [0, 1], [0, 1]], k[:, [0, 1], [2, 2]]
    return np.full((count, 2), config.focal_length), size / 2.0


def _hypotheses(
    body: BodyModel, points: np.ndarray, usable: np.ndarray, config: FitConfig
) -> tuple[_Hypotheses, np.ndarray]:
    """Every usable image once, side views a second time turned by 180 degrees (zero pose for
    now), and each image's starting rotation (:func:`_initial_orientation`)."""
    count, device, dtype = len(points), body.device, body.dtype
    start_rot, side = _initial_orientation(points, config)
    rows = [i for i in range(count) if usable[i]]
    flipped_rows = [i for i in rows if side[i]]
    image_of = rows + flipped_rows
    flip = np.array([False] * len(rows) + [True] * len(flipped_rows))
    n = len(image_of)
    shape_size = body.shape_size if config.fit_shape else 0
    hypotheses = _Hypotheses(
        image_of=image_of,
        flip=flip,
        orient=torch.zeros(n, 3, dtype=dtype, device=device),
        library_pose=torch.zeros(n, 21, 3, dtype=dtype, device=device),
        shape_z=torch.zeros(n, shape_size, dtype=dtype, device=device) if shape_size else None,
        transl=torch.zeros(n, 3, dtype=dtype, device=device),
    )
    return hypotheses, start_rot


def _start(
    h: _Hypotheses,
    start_rot: np.ndarray,
    prior: GaussianMixturePrior,
    problem: _Problem,
) -> torch.Tensor:
    """Set the start of every row: the prior's mean pose, the 2D torso's orientation (turned
    for flipped rows) and a depth from the torso, ``f * 3D torso length / 2D torso length``
    (as SMPLify-X). Returns the guessed depth the camera stage is held to."""
    import roma

    body, dtype = problem.body, h.orient.dtype
    h.library_pose[:] = prior.mean_pose().to(dtype)
    rot = torch.as_tensor(start_rot[h.image_of], dtype=torch.float64)
    turn = roma.rotvec_to_rotmat(torch.tensor([0.0, math.pi, 0.0], dtype=torch.float64))
    rot[torch.as_tensor(h.flip)] = rot[torch.as_tensor(h.flip)] @ turn
    h.orient[:] = roma.rotmat_to_rotvec(rot).to(dtype)

    target, weight, focal, center = problem.target, problem.weight, problem.focal, problem.center
    with torch.no_grad():
        shape0 = body.shape_from_vector(h.shape_z) if h.shape_z is not None else None
        pose0 = BodyPose(
            h.orient, problem.body_pose(h.library_pose), shape0, torch.zeros_like(h.transl)
        )
        _, points3d = body.skeleton(pose0)
        cam3d = points3d @ _CAMERA_ROTATION.to(points3d)
        lengths3d, lengths2d = [], []
        for s in ("left", "right"):
            a, b = _K[f"{s}_shoulder"], _K[f"{s}_hip"]
            lengths3d.append((cam3d[:, a] - cam3d[:, b]).norm(dim=-1))
            lengths2d.append((target[:, a] - target[:, b]).norm(dim=-1))
            both = (weight[:, a] > 0) & (weight[:, b] > 0)
            lengths3d[-1] = torch.where(both, lengths3d[-1], torch.zeros_like(lengths3d[-1]))
            lengths2d[-1] = torch.where(both, lengths2d[-1], torch.zeros_like(lengths2d[-1]))
        depth = focal.mean(-1) * sum(lengths3d) / sum(lengths2d).clamp_min(1e-3)
        labelled = (weight > 0).to(dtype)
        centroid2d = (target * labelled[..., None]).sum(1) / labelled.sum(1, keepdim=True)
        centroid3d = (cam3d * labelled[..., None]).sum(1) / labelled.sum(1, keepdim=True)
        h.transl[:, 2] = depth - centroid3d[:, 2]
        h.transl[:, :2] = (centroid2d - center) * depth[:, None] / focal - centroid3d[:, :2]
        return h.transl[:, 2].clone()


def _camera_stage(
    h: _Hypotheses, problem: _Problem, guessed_depth: torch.Tensor, config: FitConfig
) -> None:
    """Translation and orientation on the torso, with a depth regulariser."""
    target, weight = problem.target, problem.weight
    h.orient.requires_grad_(True)
    h.transl.requires_grad_(True)

    def camera_loss() -> torch.Tensor:
        projected = problem.keypoints(h.orient, h.library_pose, h.shape_z, h.transl)
        residual = (projected - target).square().sum(-1) * _mask(_TORSO, weight) * (weight > 0)
        depth_reg = config.depth_weight**2 * (h.transl[:, 2] - guessed_depth).square()
        return problem.data_weight.square() * residual.sum(-1) + depth_reg

    batched_lbfgs([h.orient, h.transl], camera_loss, config.camera_iterations)


def _stage_loss(
    h: _Hypotheses,
    problem: _Problem,
    prior: GaussianMixturePrior,
    pose_weight: float,
    shape_weight: float,
    shape: bool,
) -> torch.Tensor:
    """A body stage's objective per row: data, pose prior, bending and (with ``shape``) shape."""
    config = problem.config
    z = h.shape_z if shape else None  # None: the default body, and a cheaper forward
    projected = problem.keypoints(h.orient, h.library_pose, z, h.transl)
    loss = problem.data_term(projected)
    loss = loss + pose_weight**2 * prior(h.library_pose)
    loss = loss + config.bending_scale * pose_weight * bending_energy(h.library_pose)
    if z is not None:
        loss = loss + shape_weight**2 * z.square().sum(-1)
    return loss


def _body_stages(h: _Hypotheses, problem: _Problem, prior: GaussianMixturePrior, bar: Any) -> None:
    """The staged L-BFGS runs with the reference's weights; the shape joins late."""
    config = problem.config
    h.library_pose.requires_grad_(True)
    if h.shape_z is not None:
        h.shape_z.requires_grad_(True)
    stages = zip(config.pose_prior_weights, config.shape_weights, strict=True)
    for stage, (pose_weight, shape_weight) in enumerate(stages):
        with_shape = h.shape_z is not None and stage >= config.shape_from_stage
        params = [h.orient, h.transl, h.library_pose] + ([h.shape_z] if with_shape else [])
        batched_lbfgs(
            params,
            lambda pw=pose_weight, sw=shape_weight, ws=with_shape: _stage_loss(
                h, problem, prior, pw, sw, ws
            ),
            config.stage_iterations,
        )
        bar.update()


def _errors(kp2d: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per image: mean and median reprojection error over labelled keypoints (px), and the
    mean as a share of the labelled keypoints' box diagonal."""
    count = len(points)
    labelled = points[..., 2] > 0
    err = np.linalg.norm(kp2d - points[..., :2], axis=-1)
    mean_err = np.array(
        [err[i, labelled[i]].mean() if labelled[i].any() else np.nan for i in range(count)]
    )
    median_err = np.array(
        [np.median(err[i, labelled[i]]) if labelled[i].any() else np.nan for i in range(count)]
    )
    diag = np.array(
        [
            np.linalg.norm(np.ptp(points[i, labelled[i], :2], axis=0))
            if labelled[i].sum() > 1
            else np.nan
            for i in range(count)
        ]
    )
    return mean_err, median_err, mean_err / diag


def _accept(
    reasons: list[str],
    mean_err: np.ndarray,
    ratio: np.ndarray,
    energy: np.ndarray,
    shape_norm: np.ndarray,
    prior: GaussianMixturePrior,
    config: FitConfig,
) -> np.ndarray:
    """Which fits pass :class:`FitConfig`'s thresholds; ``reasons`` gets why the others fail."""
    stats = prior.stats
    energy_limit = (
        stats.p99 + config.prior_margin * (stats.p99 - stats.median)
        if stats is not None
        else np.inf
    )
    accepted = np.zeros(len(reasons), dtype=bool)
    for i in range(len(reasons)):
        if reasons[i]:
            continue
        if not ratio[i] <= config.max_error_ratio:
            reasons[i] = (
                f"reprojection: mean error {mean_err[i]:.1f} px is {ratio[i]:.3f} of the keypoint "
                f"box diagonal (limit {config.max_error_ratio})"
            )
        elif not energy[i] <= energy_limit:
            reasons[i] = f"implausible pose: prior energy {energy[i]:.0f} > {energy_limit:.0f}"
        elif not shape_norm[i] <= config.max_shape:
            reasons[i] = f"extreme shape: |z| = {shape_norm[i]:.2f} > {config.max_shape}"
        else:
            accepted[i] = True
    return accepted


def _better_start(
    image_of: list[int], final: torch.Tensor, count: int
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Rows → images: each image keeps the start with the lower final loss; images that were
    not fitted get NaN."""
    best: dict[int, int] = {}
    for row, image in enumerate(image_of):
        if image not in best or float(final[row]) < float(final[best[image]]):
            best[image] = row
    pick = torch.as_tensor([best.get(i, -1) for i in range(count)], dtype=torch.long)
    fitted = pick >= 0

    def per_image(rows: torch.Tensor) -> torch.Tensor:
        out = torch.full((count, *rows.shape[1:]), float("nan"), dtype=rows.dtype)
        out[fitted] = rows.detach().cpu()[pick[fitted]]
        return out

    return per_image


def fit_body(
    body: BodyModel,
    keypoints: Any,
    image_size: Any,
    *,
    intrinsics: Any = None,
    config: FitConfig | None = None,
    prior: GaussianMixturePrior | None = None,
    progress: bool = True,
) -> BodyFitResult:
    """Fit ``body`` to each image's COCO-17 keypoints, all images in one batch.

    Args:
        body: any :class:`~infantpose.body.BodyModel` (anny by default, SMIL/SMPL too).
        keypoints: (B, 17, 3) x, y, v in pixels (one image: (17, 3)).
        image_size: (width, height), or one per image (B, 2).
        intrinsics: optional (B, 3, 3) or (3, 3) camera matrices; default: focal length
            ``config.focal_length`` and the image centre.
        config: weights, schedule and thresholds (:class:`FitConfig`).
        prior: the pose prior (default: :func:`fit_pose_prior` for ``config.population``).
        progress: show a bar over the optimisation stages (:mod:`infantpose.progress`).

    Raises:
        FitInputError: malformed keypoints (shape, v outside {0, 1, 2}, NaN or infinite
            labelled points, zero-area keypoint boxes), with the image and joint named.
    """
    config = config or FitConfig()
    start_time = time.perf_counter()
    points, size = _check_keypoints(keypoints, image_size)
    count = len(points)
    usable, reasons = _usable(points, config)
    prior = prior or fit_pose_prior(config.population, num_components=config.prior_components)
    device, dtype = body.device, body.dtype
    prior = prior.to(device)
    corrections = rest_corrections(body)
    identity = torch.eye(3, dtype=corrections.dtype).expand_as(corrections)
    corrections = (
        None if torch.allclose(corrections, identity, atol=1e-6) else corrections.to(device, dtype)
    )
    focal_np, center_np = _intrinsics(intrinsics, count, size, config)

    h, start_rot = _hypotheses(body, points, usable, config)
    n = len(h)
    final, flex = torch.zeros(0), torch.zeros(0)
    projected = torch.zeros(0, 17, 2)
    if n:
        rows = h.image_of

        def as_tensor(values: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(values, dtype=dtype, device=device)

        problem = _Problem(
            body,
            corrections,
            target=as_tensor(points[rows, :, :2]),
            weight=as_tensor(points[rows, :, 2]),
            data_weight=as_tensor(config.data_weight_scale / size[rows, 1]),
            focal=as_tensor(focal_np[rows]),
            center=as_tensor(center_np[rows]),
            config=config,
        )
        guessed_depth = _start(h, start_rot, prior, problem)
        bar = progress_bar(
            total=1 + len(config.pose_prior_weights),
            desc=f"fit {n} bodies",
            unit="stage",
            enabled=progress,
            leave=False,
        )
        _camera_stage(h, problem, guessed_depth, config)
        bar.update()
        _body_stages(h, problem, prior, bar)
        bar.close()
        with torch.no_grad():
            final = _stage_loss(
                h,
                problem,
                prior,
                config.pose_prior_weights[-1],
                config.shape_weights[-1],
                h.shape_z is not None,
            )
            projected = problem.keypoints(h.orient, h.library_pose, h.shape_z, h.transl)
            flex = prior(h.library_pose)

    per_image = _better_start(h.image_of, final, count)
    fitted_library = per_image(h.library_pose).to(device)
    fitted_orient = per_image(h.orient).to(device)
    fitted_transl = per_image(h.transl).to(device)
    fitted_shape = per_image(h.shape_z).to(device) if h.shape_z is not None else None
    kp2d = per_image(projected).numpy().astype(np.float64)
    energy = per_image(flex).numpy().astype(np.float64)
    losses = per_image(final).numpy().astype(np.float64)
    flipped = per_image(torch.as_tensor(h.flip, dtype=torch.float64)).numpy() == 1.0

    mean_err, median_err, ratio = _errors(kp2d, points)
    shape_norm = (
        fitted_shape.norm(dim=-1).cpu().numpy() if fitted_shape is not None else np.zeros(count)
    )
    accepted = _accept(reasons, mean_err, ratio, energy, shape_norm, prior, config)

    shape = (
        body.shape_from_vector(fitted_shape.nan_to_num(0.0)) if fitted_shape is not None else None
    )
    pose = BodyPose(
        global_orient=fitted_orient,
        body_pose=_library_to_body_pose(fitted_library.nan_to_num(0.0), corrections),
        shape=shape,
        transl=torch.zeros(count, 3, dtype=dtype, device=device),
    )
    return BodyFitResult(
        pose=pose,
        library_pose=fitted_library,
        shape_vector=fitted_shape if fitted_shape is not None else torch.zeros(count, 0),
        translation=fitted_transl,
        focal=torch.as_tensor(focal_np, dtype=dtype),
        center=torch.as_tensor(center_np, dtype=dtype),
        keypoints_2d=kp2d,
        mean_error=mean_err,
        median_error=median_err,
        error_ratio=ratio,
        prior_energy=energy,
        loss=losses,
        flipped=flipped,
        accepted=accepted,
        reasons=reasons,
        seconds=time.perf_counter() - start_time,
        config=config,
    )
