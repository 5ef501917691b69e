"""ZeDO's optimisation-based 2D-to-3D lifting: IPO (rigid fit) then OIL (rays + denoising).

For every pose and every hypothesis at once (one batch of B × S problems, CPU or CUDA):

1. **Initial pose**: hypothesis s starts from a k-means centre of training poses
   (:func:`initial_poses`; we take the training pose nearest each centre, a valid pose, where
   the release used the raw centres).
2. **IPO**: a rotation (quaternion ``(1, x, y, z)``, axes of ``rot_axes`` trainable, normalised
   by ``|q|^2``) and a depth scale ``s`` (clamped) of ``T0 = depth * ray(root)``, fitted by Adam
   (lr 0.1) to the L1 pixel reprojection error of ``K (R X + s T0)``.
3. **OIL**: each step moves every joint onto its camera ray (full step), re-solves the
   translation in closed form (weighted least squares on the ray equations; only after
   ``translation_from`` of the loop, as ZeDO-i's 950/1000), and takes one probability-flow
   denoising step of the prior at ``t_i`` (``t`` from 0.1 down to 0.01).

Deviations from the release, each a :class:`LiftConfig` field where it is a choice:
after the ray step the pose is re-centred on its root and the offset moved into the
translation, so the network always sees root-relative poses; ``score_factor`` (1.0 as
released, 0.5 is the ODE); ``step_rule="exponential"`` (:meth:`SubVPSDE.exponential_step`)
for the fast schedule; missing 2D joints (NaN, or confidence ≤ 0) are masked out of every
term instead of crashing, and poses with fewer than 2 visible joints come back NaN with
``valid = False``; ``size_to_prior`` (off as released) fixes the one thing the 2D cannot
tell, the size: scaling a pose and its translation together about the camera centre leaves
every projection unchanged, so the loop's output is rescaled to the prior's typical bone
length (the denoising steps shrink poses, as a posterior mean does).

One device (``device``): the 2D points, intrinsics, start poses, the prior and every step's
tensors are there (:func:`lift_tensors`); numpy goes in and comes out at the ends only, and
the start poses' k-means (scikit-learn) runs once before the loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch

from ..camera import project_with_intrinsics
from ..checked import CheckedConfig
from ..env import resolve_device
from ..keypoints import get_layout
from ..progress import progress_bar
from .data import root_of
from .train import ScorePrior

__all__ = [
    "LiftConfig",
    "LiftResult",
    "check_intrinsics",
    "check_keypoints",
    "initial_poses",
    "lift",
    "lift_tensors",
    "solve_translation",
]


#: Start poses of the loop: "cluster" (adult ZeDO: a rotated training pose), "flat" (ZeDO-i's
#: infant start: the 2D rays back-projected to the root's depth).
INITS = ("cluster", "flat")


@dataclass
class LiftConfig(CheckedConfig):
    """Schedule and options of :func:`lift`; :meth:`reference` and :meth:`fast` are presets."""

    ipo_steps: int = 500
    ipo_lr: float = 0.1
    ipo_depth: float = 1.0  # IPO_T: metres along the root ray before scaling
    ipo_scale_range: tuple[float, float] = (0.25, 8.0)
    ipo_joints: tuple[int, ...] | None = None  # None: every joint (the infant configs)
    rot_axes: str = "xyz"
    oil_steps: int = 1000
    t_start: float = 0.1
    t_end: float = 0.01
    step_rule: str = "euler"  # "euler" (released) or "exponential"
    ode_time: float = 1.0  # total dt of the loop: the release steps 1/1000 whatever the span
    score_factor: float = 1.0  # released 1.0; the probability-flow ODE has 0.5
    drift: bool = True
    ray_step: float = 1.0
    translation_from: float = 0.95  # share of OIL with the IPO translation fixed (adult: 0.2)
    hypotheses: int = 1
    init: str = "cluster"  # "cluster" (rotated start pose) or "flat" (ZeDO-i's rays at depth)
    # After the loop, scale each pose and its translation together (about the camera centre,
    # so the 2D projection is unchanged) to the mean bone length of the prior's training poses.
    size_to_prior: bool = False

    _limits: ClassVar[dict[str, str]] = {
        "ipo_steps": "[0, inf)", "ipo_lr": "[0, inf)", "ipo_depth": "(0, inf)",
        "ipo_scale_range": "(0, inf)", "ipo_joints": "[0, inf)", "oil_steps": "[0, inf)",
        "t_start": "(0, 1]", "t_end": "(0, 1]", "ode_time": "(0, inf)", "ray_step": "[0, inf)",
        "translation_from": "[0, 1]", "hypotheses": "[1, inf)",
    }  # fmt: skip

    def __post_init__(self) -> None:
        from ..config import ConfigError

        super().__post_init__()

        for name, allowed in (("step_rule", ("euler", "exponential")), ("init", INITS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"LiftConfig.{name} must be one of {', '.join(map(repr, allowed))}, "
                    f"got {getattr(self, name)!r}"
                )

    @classmethod
    def reference(cls, **overrides: Any) -> LiftConfig:
        """ZeDO-i as released: 500 IPO + 1000 OIL Euler steps."""
        return cls._preset("reference", {}, overrides)

    @classmethod
    def fast(cls, **overrides: Any) -> LiftConfig:
        """100 IPO + 100 OIL steps: 10× fewer network calls than :meth:`reference`.

        The exponential step rule keeps the larger steps stable; ``t_start = 0.05``,
        ``score_factor = 0.5`` (the ODE's) and ``ode_time = 0.5`` were chosen on a validation
        set of 200 sampled infant poses (seed 2), never on a benchmark or chapter test set.
        """
        values = dict(
            ipo_steps=100,
            oil_steps=100,
            step_rule="exponential",
            t_start=0.05,
            score_factor=0.5,
            ode_time=0.5,
        )
        return cls._preset("fast", values, overrides)

    @property
    def network_evaluations(self) -> int:
        """Forward passes of the prior per pose and hypothesis."""
        return self.oil_steps


@dataclass
class LiftResult:
    """Lifted poses: ``poses`` (B, S, J, 3) root-relative metres, per hypothesis."""

    poses: np.ndarray
    translation: np.ndarray  # (B, S, 3) root position in the camera frame
    reprojection_px: np.ndarray  # (B, S) mean pixel error over visible joints
    valid: np.ndarray  # (B,) False where too few 2D joints were visible
    layout: str
    config: LiftConfig
    seconds: float = 0.0
    network_evaluations: int = 0  # per pose (all hypotheses)
    trajectory: list[np.ndarray] = field(default_factory=list)  # (B, S, J, 3) snapshots

    @property
    def mean_pose(self) -> np.ndarray:
        """(B, J, 3) mean over hypotheses."""
        return self.poses.mean(1)

    @property
    def best_pose(self) -> np.ndarray:
        """(B, J, 3) the hypothesis with the smallest reprojection error (no ground truth used)."""
        index = np.nan_to_num(self.reprojection_px, nan=np.inf).argmin(1)
        return self.poses[np.arange(len(self.poses)), index]


def initial_poses(poses: Any, count: int, seed: int = 0) -> np.ndarray:
    """``count`` start poses: the training pose nearest each k-means centre (sklearn)."""
    from sklearn.cluster import KMeans

    poses = np.asarray(poses, dtype=np.float64)
    flat = poses.reshape(len(poses), -1)
    if count >= len(poses):
        return poses[:count].copy()
    if count == 1:
        centers = flat.mean(0, keepdims=True)
    else:
        centers = KMeans(count, n_init=3, random_state=seed).fit(flat).cluster_centers_
    nearest = ((flat[None] - centers[:, None]) ** 2).sum(-1).argmin(1)
    return poses[nearest].copy()


def check_keypoints(
    keypoints_2d: Any, num_joints: int, layout: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(pixels (B, J, 2), visible (B, J))``; NaN/inf or confidence ≤ 0 count as missing."""
    points = np.asarray(keypoints_2d, dtype=np.float64)
    if points.ndim == 2:
        points = points[None]
    if points.ndim != 3 or points.shape[-1] not in (2, 3):
        raise ValueError(
            f"keypoints_2d must be (B, J, 2) pixels or (B, J, 3) with a confidence, got {points.shape}"
        )
    if points.shape[1] != num_joints:
        raise ValueError(
            f"the prior is for layout {layout!r} with {num_joints} joints, but the keypoints have "
            f"{points.shape[1]} joints; convert them with infantpose.keypoints.convert(..., "
            f"dst={layout!r}) or use a prior of their layout"
        )
    visible = np.isfinite(points[..., :2]).all(-1)
    if points.shape[-1] == 3:
        visible &= np.nan_to_num(points[..., 2], nan=0.0) > 0
    return np.where(visible[..., None], points[..., :2], 0.0), visible


def check_intrinsics(intrinsics: Any, batch: int) -> np.ndarray:
    """(B, 3, 3) intrinsics from (3, 3) or (B, 3, 3); degenerate focal lengths are an error."""
    K = np.asarray(intrinsics, dtype=np.float64)
    if K.shape == (3, 3):
        K = np.broadcast_to(K, (batch, 3, 3))
    if K.shape != (batch, 3, 3):
        raise ValueError(f"intrinsics must be (3, 3) or ({batch}, 3, 3), got {K.shape}")
    focal = K[:, [0, 1], [0, 1]]
    bad = ~(np.isfinite(K).all((1, 2)) & (focal > 0).all(1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"intrinsics {i} are degenerate (fx = {K[i, 0, 0]}, fy = {K[i, 1, 1]}, finite: "
            f"{bool(np.isfinite(K[i]).all())}); focal lengths must be finite and positive pixels"
        )
    return np.ascontiguousarray(K)


def _quaternion_matrix(q: torch.Tensor) -> torch.Tensor:
    """pytorch3d's ``quaternion_to_matrix`` (w, x, y, z), normalising by ``|q|^2``."""
    w, x, y, z = q.unbind(-1)
    two_s = 2.0 / (q * q).sum(-1)
    return torch.stack(
        [
            1 - two_s * (y * y + z * z),
            two_s * (x * y - z * w),
            two_s * (x * z + y * w),
            two_s * (x * y + z * w),
            1 - two_s * (x * x + z * z),
            two_s * (y * z - x * w),
            two_s * (x * z - y * w),
            two_s * (y * z + x * w),
            1 - two_s * (x * x + y * y),
        ],
        -1,
    ).view(*q.shape[:-1], 3, 3)


def solve_translation(
    X: torch.Tensor, rays: torch.Tensor, weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form ``T`` putting ``X + T`` on the rays (B, J, 3 with z = 1); ``(T, solvable)``.

    Rows ``(X + T)_x - a (X + T)_z = 0`` and the same for y, weighted by ``weight`` (B, J);
    T is flipped to lie in front of the camera, as in the release.
    """
    a, b = rays[..., 0], rays[..., 1]
    zeros, ones = torch.zeros_like(a), torch.ones_like(a)
    rows = torch.cat(
        [torch.stack([ones, zeros, -a], -1), torch.stack([zeros, ones, -b], -1)], 1
    )  # (B, 2J, 3)
    target = torch.cat([a * X[..., 2] - X[..., 0], b * X[..., 2] - X[..., 1]], 1)
    w = torch.cat([weight, weight], 1)
    normal = torch.einsum("bki,bk,bkj->bij", rows, w, rows)
    rhs = torch.einsum("bki,bk,bk->bi", rows, w, target)
    solvable = weight.gt(0).sum(1) >= 2
    eye = torch.eye(3, dtype=X.dtype, device=X.device)
    T = torch.linalg.solve(normal + 1e-9 * eye, rhs)
    T = torch.where(T[:, 2:3] < 0, -T, T)
    return T, solvable & torch.isfinite(T).all(1)


def lift(
    prior: ScorePrior,
    keypoints_2d: Any,
    intrinsics: Any,
    config: LiftConfig | None = None,
    *,
    init_poses: Any = None,
    layout: str | None = None,
    device: Any = "cpu",
    trajectory_every: int = 0,
    batch_size: int | None = None,
    bone_length: float | None = None,
    progress: bool = True,
) -> LiftResult:
    """Lift 2D keypoints (B, J, 2|3) to root-relative 3D poses with ``prior`` (see the module docstring).

    ``init_poses`` (S, J, 3): start poses, one per hypothesis (default: :func:`initial_poses`
    of the training poses the prior keeps, ``config.hypotheses`` of them). ``layout`` (optional) names the keypoints'
    layout and must match the prior's. ``batch_size`` splits very large inputs into chunks.
    ``progress`` shows a bar over the chunks' solver steps (:mod:`infantpose.progress`).
    """
    config = config or LiftConfig()
    device = resolve_device(device)
    layout_name = get_layout(prior.layout).name
    if layout is not None and get_layout(layout).name != layout_name:
        raise ValueError(
            f"keypoints are in layout {get_layout(layout).name!r} but the prior was trained on "
            f"{layout_name!r}; use a prior of the keypoints' layout"
        )
    num_joints = len(get_layout(layout_name))
    points, visible = check_keypoints(keypoints_2d, num_joints, layout_name)
    K = check_intrinsics(intrinsics, len(points))
    if init_poses is None:
        if prior.pose_sample is None:
            raise ValueError("give init_poses (S, J, 3), e.g. initial_poses(train_poses, S)")
        init_poses = initial_poses(prior.pose_sample, config.hypotheses)
    init = np.asarray(init_poses, dtype=np.float64)
    if init.ndim == 2:
        init = init[None]
    if init.shape[1:] != (num_joints, 3):
        raise ValueError(f"init_poses must be (S, {num_joints}, 3), got {init.shape}")
    target = None
    if config.size_to_prior:
        if bone_length is None:
            if prior.pose_sample is None:
                raise ValueError("size_to_prior needs bone_length= or a prior with training poses")
            bones = get_layout(layout_name).bone_indices
            sample = np.asarray(prior.pose_sample, dtype=np.float64)
            bone_length = float(
                np.linalg.norm(sample[:, bones[:, 0]] - sample[:, bones[:, 1]], axis=-1).mean()
            )
        target = float(bone_length)
    start = time.perf_counter()
    chunk = batch_size or len(points)
    starts = range(0, max(len(points), 1), chunk)
    bar = progress_bar(
        total=len(starts) * config.oil_steps,
        desc=f"lift {len(points)} poses",
        unit="step",
        enabled=progress,
        leave=False,
    )
    parts = [
        _lift_batch(
            prior,
            points[i : i + chunk],
            visible[i : i + chunk],
            K[i : i + chunk],
            init,
            config,
            layout_name,
            device,
            trajectory_every,
            target,
            bar=bar,
        )
        for i in starts
    ]
    bar.close()
    poses = np.concatenate([p[0] for p in parts])
    trans = np.concatenate([p[1] for p in parts])
    reproj = np.concatenate([p[2] for p in parts])
    trajectory = [np.concatenate(snaps) for snaps in zip(*[p[3] for p in parts], strict=True)]
    valid = visible.sum(1) >= 2
    poses[~valid] = np.nan
    trans[~valid] = np.nan
    return LiftResult(
        poses=poses,
        translation=trans,
        reprojection_px=reproj,
        valid=valid,
        layout=layout_name,
        config=replace(config, hypotheses=len(init)),
        seconds=time.perf_counter() - start,
        network_evaluations=config.oil_steps * len(init),
        trajectory=trajectory,
    )


def _rays(uv: torch.Tensor, K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Camera rays of every 2D point, scaled to z = 1 and to unit length."""
    homogeneous = torch.cat([uv, torch.ones_like(uv[..., :1])], -1)
    rays = torch.einsum("bij,bkj->bki", torch.linalg.inv(K), homogeneous)
    rays = rays / rays[..., 2:3]
    return rays, rays / rays.norm(dim=-1, keepdim=True)


def _start_translation(
    rays: torch.Tensor, mask: torch.Tensor, root: list[int], depth: float
) -> torch.Tensor:
    """``T0`` at ``depth`` along the root ray: the 2D root (mean of the root joints) if
    visible, else the visible centroid."""
    root_seen = mask[:, root].prod(1, keepdim=True)
    weight_sum = mask.sum(1, keepdim=True).clamp(min=1)
    centroid = (rays * mask[..., None]).sum(1) / weight_sum
    root_ray = root_seen * rays[:, root].mean(1) + (1 - root_seen) * centroid
    return depth * root_ray / root_ray.norm(dim=-1, keepdim=True)


def _ipo(
    X: torch.Tensor,
    uv: torch.Tensor,
    mask: torch.Tensor,
    K: torch.Tensor,
    T0: torch.Tensor,
    config: LiftConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """IPO: a rotation (about ``config.rot_axes``) and a depth scale of ``T0``, Adam on the L1
    reprojection error of ``config.ipo_joints``. Returns ``(R, T)``."""
    n, joints = X.shape[:2]
    dtype, device = X.dtype, X.device
    ipo_mask = mask.clone()
    if config.ipo_joints is not None:
        keep = torch.zeros(joints, dtype=dtype, device=device)
        keep[torch.as_tensor(config.ipo_joints, dtype=torch.long, device=device)] = 1
        ipo_mask = ipo_mask * keep
    axes = ["xyz".index(a) for a in config.rot_axes]
    q_free = torch.zeros(n, len(axes), dtype=dtype, device=device, requires_grad=True)
    scale = torch.ones(n, 1, dtype=dtype, device=device, requires_grad=True)
    optimiser = torch.optim.Adam([q_free, scale], lr=config.ipo_lr)
    low, high = config.ipo_scale_range

    def rotation() -> torch.Tensor:
        one = torch.ones(n, 1, dtype=dtype, device=device)
        columns = [one] + [torch.zeros_like(one)] * 3
        for k, axis in enumerate(axes):
            columns[axis + 1] = q_free[:, k : k + 1]
        return _quaternion_matrix(torch.cat(columns, 1))

    for _ in range(config.ipo_steps):
        R = rotation()
        placed = X @ R.transpose(1, 2) + scale[:, None] * T0[:, None]
        error = (project_with_intrinsics(placed, K, eps=1e-6) - uv).abs().sum(-1) * ipo_mask
        optimiser.zero_grad(set_to_none=True)
        error.sum().backward()
        optimiser.step()
        with torch.no_grad():
            scale.clamp_(low, high)
    with torch.no_grad():
        return rotation(), scale * T0


def _start_pose(
    X: torch.Tensor,
    R: torch.Tensor,
    T: torch.Tensor,
    unit: torch.Tensor,
    mask: torch.Tensor,
    root: list[int],
    config: LiftConfig,
) -> torch.Tensor:
    """The pose OIL starts from: the initial pose turned by IPO's ``R``, or (``init="flat"``,
    ZeDO-i's infant start) the 2D rays at the root's depth, root-centred, rotated."""
    if config.init == "flat":
        depth = T.norm(dim=-1, keepdim=True)[:, None]
        flat = unit * depth * mask[..., None]
        return (flat - flat[:, root].mean(1, keepdim=True)) @ R.transpose(1, 2)
    return X @ R.transpose(1, 2)


def _oil(
    prior: ScorePrior,
    X: torch.Tensor,
    T: torch.Tensor,
    rays: torch.Tensor,
    unit: torch.Tensor,
    mask: torch.Tensor,
    root: list[int],
    config: LiftConfig,
    *,
    trajectory_every: int,
    shape: tuple[int, int, int],
    bar: Any = None,
) -> tuple[torch.Tensor, torch.Tensor, list[np.ndarray]]:
    """OIL: per step, the translation solved on the rays (after ``translation_from``), the
    pose pulled towards its rays, re-centred on the root, and one reverse-SDE step of the
    prior. Returns ``(X, T, snapshots)``, snapshots ``(batch, hyps, joints, 3)`` every
    ``trajectory_every`` steps (``shape`` is ``(batch, hyps, joints)``)."""
    n, dtype, device = len(X), X.dtype, X.device
    network, sde = prior.network.to(device).eval(), prior.sde
    times = torch.linspace(
        config.t_start, config.t_end, config.oil_steps, dtype=dtype, device=device
    )
    dt = config.ode_time / max(config.oil_steps, 1)
    fixed = round(config.translation_from * config.oil_steps)
    step_fn = sde.exponential_step if config.step_rule == "exponential" else sde.euler_step
    if config.step_rule not in ("euler", "exponential"):
        raise ValueError(f"step_rule must be 'euler' or 'exponential', got {config.step_rule!r}")
    snapshots = []
    for i in range(config.oil_steps):
        if i >= fixed:
            T_new, ok = solve_translation(X, rays, mask)
            T = torch.where(ok[:, None], T_new, T)
        P = X + T[:, None]
        along = (P * unit).sum(-1, keepdim=True) * unit
        X = X + config.ray_step * (along - P) * mask[..., None]
        offset = X[:, root].mean(1)
        X = X - offset[:, None]
        T = T + offset
        t = times[i].expand(n)
        eps = network(X, t)
        X = step_fn(X, t, eps, dt, config.score_factor, config.drift)
        X = X - X[:, root].mean(1, keepdim=True)
        if trajectory_every and (i % trajectory_every == 0 or i == config.oil_steps - 1):
            snapshots.append(X.view(*shape, 3).cpu().numpy().copy())
        if bar is not None:
            bar.update()
    return X, T, snapshots


def _rescale_bones(
    X: torch.Tensor, T: torch.Tensor, layout: str, bone_length: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose and translation scaled together so that the mean bone is ``bone_length``."""
    bones = torch.as_tensor(get_layout(layout).bone_indices, device=X.device)
    length = (X[:, bones[:, 0]] - X[:, bones[:, 1]]).norm(dim=-1).mean(1)
    factor = bone_length / length.clamp(min=1e-6)
    return X * factor[:, None, None], T * factor[:, None]


def lift_tensors(
    prior: ScorePrior,
    uv: torch.Tensor,
    mask: torch.Tensor,
    K: torch.Tensor,
    X: torch.Tensor,
    config: LiftConfig,
    layout: str,
    *,
    trajectory_every: int = 0,
    shape: tuple[int, int, int] | None = None,
    bone_length: float | None = None,
    bar: Any = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[np.ndarray]]:
    """IPO then OIL for ``n`` problems on their device (the prior is moved there): 2D points
    ``uv`` (n, J, 2) in pixels, visibility ``mask`` (n, J), intrinsics ``K`` (n, 3, 3) and
    start poses ``X`` (n, J, 3). Returns ``(X, T, reprojection_px, snapshots)``, tensors on the
    device; ``shape`` ``(batch, hyps, joints)`` arranges the snapshots (default ``(n, 1, J)``)."""
    root = list(root_of(layout))
    shape = shape or (len(X), 1, X.shape[1])
    # Missing points get a dummy ray and zero weight.
    rays, unit = _rays(uv, K)
    T0 = _start_translation(rays, mask, root, config.ipo_depth)
    R, T = _ipo(X, uv, mask, K, T0, config)
    with torch.no_grad():
        X = _start_pose(X, R, T, unit, mask, root, config)
        X, T, snapshots = _oil(
            prior, X, T, rays, unit, mask, root, config,
            trajectory_every=trajectory_every, shape=shape, bar=bar,
        )  # fmt: skip
        if bone_length is not None:
            X, T = _rescale_bones(X, T, layout, bone_length)
        reproj = (project_with_intrinsics(X + T[:, None], K, eps=1e-6) - uv).norm(dim=-1)
        reproj = (reproj * mask).sum(1) / mask.sum(1).clamp(min=1)
    return X, T, reproj, snapshots


def _lift_batch(
    prior: ScorePrior,
    points: np.ndarray,
    visible: np.ndarray,
    K_np: np.ndarray,
    init: np.ndarray,
    config: LiftConfig,
    layout: str,
    device: torch.device,
    trajectory_every: int,
    bone_length: float | None = None,
    *,
    bar: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    dtype = torch.float32
    batch, hyps, joints = len(points), len(init), init.shape[1]
    # Every problem is (pose b, hypothesis s), flattened as b * S + s.
    uv = torch.as_tensor(points, dtype=dtype, device=device).repeat_interleave(hyps, 0)
    mask = torch.as_tensor(visible, dtype=dtype, device=device).repeat_interleave(hyps, 0)
    K = torch.as_tensor(np.array(K_np), dtype=dtype, device=device).repeat_interleave(hyps, 0)
    X = torch.as_tensor(init, dtype=dtype, device=device).repeat(batch, 1, 1)
    X, T, reproj, snapshots = lift_tensors(
        prior, uv, mask, K, X, config, layout, trajectory_every=trajectory_every,
        shape=(batch, hyps, joints), bone_length=bone_length, bar=bar,
    )  # fmt: skip
    return (
        X.view(batch, hyps, joints, 3).double().cpu().numpy(),
        T.view(batch, hyps, 3).double().cpu().numpy(),
        reproj.view(batch, hyps).double().cpu().numpy(),
        snapshots,
    )
