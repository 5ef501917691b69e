"""Pose libraries of infant and adult postures, joint limits, and a seeded sampler.

A posture is written the way a clinician would describe it, in **anatomical angles**
(degrees) per body joint, relative to a **T-pose** (standing, arms straight out to the sides,
palms down). Every joint has three coordinates; which ones mean what, their signs and their
limits are in :data:`JOINT_DOFS`:

==================  =====================================  ======================================
joints              coordinates (positive direction)       rotation (world-aligned rest axes)
==================  =====================================  ======================================
spine1..3, neck,    flexion (bend forward), lateral (bend  ``Rx(flex) Rz(-lateral) Ry(twist)``
head                to the left), twist (turn to the left)
hips                flexion (thigh forward), abduction     ``Rx(-flex) Rz(s abd) Ry(-s rot)``
                    (leg out), internal rotation
knees               flexion (heel back)                    ``Rx(flex)``
ankles              dorsiflexion (toes up), inversion      ``Rx(-dorsi) Rz(-s inv)``
feet                toe extension (toes up)                ``Rx(-ext)``
collars             elevation (shrug), protraction         ``Rz(s elev) Ry(-s prot)``
shoulders           elevation (0 arm down, 90 level, 180   twist about the arm, after the shortest
                    up), plane (0 sideways, 90 forward,    rotation taking the T-pose arm to the
                    negative behind), twist                direction ``(s sin e cos p, -cos e, sin e sin p)``
elbows              flexion                                ``Ry(-s flex)``
wrists              flexion (hand down), deviation         ``Rz(-s flex) Ry(-s dev)``
==================  =====================================  ======================================

``s`` is +1 on the left (+x) and -1 on the right. The frame is the body's: y up, facing +z.
A rotation is applied to the joint's whole subtree, children first (``R = A B C`` applies
``C`` first), as in :mod:`infantpose.body.model`.

**Library.** :data:`POSE_LIBRARY` holds a few variants per posture, e.g. supine "frog" (hips
flexed, abducted and externally rotated, elbows flexed beside the head: the posture of young
infants), prone "forearm support", sitting "tripod"; adults stand, walk, reach, sit and bend,
and (asked for by name, :data:`ADULT_FLOOR_POSTURES`) lie, sit on the floor, kneel and crawl.
The sampler perturbs a variant with Gaussian noise per coordinate, mirrors it left/right at
random, clips every coordinate to :data:`JOINT_DOFS`' limits, and turns the body about the
vertical (lying bodies also roll a little), deterministically under a seed.

**Backends.** Library angles are T-pose relative; a backend whose rest pose is not a T-pose
(anny rests in an A-pose with bent elbows) gets them through :func:`rest_corrections`, computed
from its own rest joints, so the same library poses anny and SMPL/SMIL bodies alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .joints import BODY_JOINTS, BODY_PARENTS, POSE_JOINTS
from .model import BodyModel, BodyPose

__all__ = [
    "ADULT_FLOOR_POSTURES",
    "ADULT_POSTURES",
    "DEFAULT_POSTURES",
    "INFANT_POSTURES",
    "JOINT_DOFS",
    "LYING_POSTURES",
    "POSE_LIBRARY",
    "JointDof",
    "PoseSample",
    "PoseSampler",
    "PoseTemplate",
    "anatomical_to_rotmats",
    "clip_to_limits",
    "is_lying",
    "mirror_angles",
    "rest_corrections",
    "rotmats_to_body_pose",
    "sample_shapes",
]

INFANT_POSTURES: tuple[str, ...] = (
    "supine",
    "prone",
    "side_lying",
    "sitting",
    "crawling",
    "supported_standing",
)
#: The upright adult postures: SURREAL-like motion-capture people, and the default adult sample.
ADULT_POSTURES: tuple[str, ...] = ("standing", "walking", "reaching", "sitting", "bending")
#: Adults on the floor, as COCO has them and infants always are: asked for by name (``postures=``),
#: so that every adult set made without them stays what it was.
ADULT_FLOOR_POSTURES: tuple[str, ...] = ("lying", "floor_sitting", "kneeling", "all_fours")
#: What :class:`PoseSampler` draws from when no ``postures`` are given.
DEFAULT_POSTURES: dict[str, tuple[str, ...]] = {"infant": INFANT_POSTURES, "adult": ADULT_POSTURES}


@dataclass(frozen=True)
class JointDof:
    """The three anatomical coordinates of one joint kind, with limits in degrees."""

    kind: str
    names: tuple[str, str, str]
    low: tuple[float, float, float]
    high: tuple[float, float, float]


_SPINE = JointDof("spine", ("flexion", "lateral", "twist"), (-15, -15, -15), (35, 15, 15))
_DOF_BY_JOINT: dict[str, JointDof] = {
    "spine1": _SPINE,
    "spine2": _SPINE,
    "spine3": _SPINE,
    "neck": JointDof("spine", ("flexion", "lateral", "twist"), (-45, -25, -45), (40, 25, 45)),
    "head": JointDof("spine", ("flexion", "lateral", "twist"), (-30, -20, -35), (30, 20, 35)),
    "hip": JointDof("hip", ("flexion", "abduction", "rotation"), (-25, -25, -45), (140, 75, 45)),
    "knee": JointDof("knee", ("flexion", "-", "-"), (0, 0, 0), (155, 0, 0)),
    "ankle": JointDof("ankle", ("dorsiflexion", "inversion", "-"), (-50, -20, 0), (35, 20, 0)),
    "foot": JointDof("foot", ("extension", "-", "-"), (-20, 0, 0), (45, 0, 0)),
    "collar": JointDof("collar", ("elevation", "protraction", "-"), (-10, -15, 0), (25, 25, 0)),
    "shoulder": JointDof(
        "shoulder", ("elevation", "plane", "twist"), (0, -90, -70), (175, 135, 80)
    ),
    "elbow": JointDof("elbow", ("flexion", "-", "-"), (0, 0, 0), (150, 0, 0)),
    "wrist": JointDof("wrist", ("flexion", "deviation", "-"), (-60, -25, 0), (60, 25, 0)),
}


def _dof(joint: str) -> JointDof:
    return _DOF_BY_JOINT.get(joint) or _DOF_BY_JOINT[joint.split("_", 1)[1]]


#: The anatomical coordinates and limits of every joint of :data:`POSE_JOINTS`, in order.
JOINT_DOFS: tuple[JointDof, ...] = tuple(_dof(j) for j in POSE_JOINTS)
_LOW = np.array([d.low for d in JOINT_DOFS], dtype=np.float64)
_HIGH = np.array([d.high for d in JOINT_DOFS], dtype=np.float64)
_SIDE = np.array(
    [1.0 if j.startswith("left_") else -1.0 if j.startswith("right_") else 0.0 for j in POSE_JOINTS]
)
_MIRROR = [
    POSE_JOINTS.index(j.replace("left_", "right_"))
    if j.startswith("left_")
    else POSE_JOINTS.index(j.replace("right_", "left_"))
    if j.startswith("right_")
    else i
    for i, j in enumerate(POSE_JOINTS)
]

# Base orientations of the whole body (axis-angle, radians): the body's front faces +z upright.
_HALF_PI = math.pi / 2
_GLOBAL_BASES: dict[str, tuple[float, float, float]] = {
    "upright": (0.0, 0.0, 0.0),
    "supine": (-_HALF_PI, 0.0, 0.0),  # front faces up (+y), head towards -z
    "prone": (_HALF_PI, 0.0, 0.0),  # front faces down
    "side_left": (0.0, 0.0, -_HALF_PI),  # lying on the left side: the left (+x) faces down
    "side_right": (0.0, 0.0, _HALF_PI),
}


@dataclass(frozen=True)
class PoseTemplate:
    """One library pose: anatomical angles (degrees) for the joints it bends; others stay at 0.

    Keys are joint names, or a name without ``left_``/``right_`` for both sides alike
    (``"hip"``); a sided key overrides the shared one. ``noise_deg`` scales the sampler's noise.
    """

    posture: str
    variant: str
    angles: Mapping[str, tuple[float, float, float]]
    base: str = "upright"
    noise_deg: float = 10.0
    tilt_deg: float = 8.0

    def array(self) -> np.ndarray:
        """(21, 3) anatomical angles in degrees, in :data:`POSE_JOINTS` order."""
        out = np.zeros((len(POSE_JOINTS), 3))
        for i, joint in enumerate(POSE_JOINTS):
            shared = joint.split("_", 1)[1] if joint.startswith(("left_", "right_")) else None
            value = self.angles.get(joint, self.angles.get(shared) if shared else None)
            if value is not None:
                out[i] = value
        unknown = [
            k for k in self.angles if k not in POSE_JOINTS and f"left_{k}" not in POSE_JOINTS
        ]
        if unknown:
            raise KeyError(f"pose template {self.posture}/{self.variant}: unknown joints {unknown}")
        return out


def _t(posture: str, variant: str, base: str = "upright", **angles: Any) -> PoseTemplate:
    noise = angles.pop("noise_deg", 10.0)
    return PoseTemplate(posture, variant, angles, base=base, noise_deg=noise)


#: The pose library: ``{"infant": (...), "adult": (...)}`` of :class:`PoseTemplate`.
POSE_LIBRARY: dict[str, tuple[PoseTemplate, ...]] = {
    "infant": (
        # Supine: young infants lie with hips flexed, abducted and externally rotated ("frog"),
        # knees bent, arms flexed beside the head ("W") or waving in front of the body.
        _t("supine", "frog", "supine", hip=(75, 45, -25), knee=(95, 0, 0), ankle=(10, 0, 0),
           shoulder=(85, 0, 70), elbow=(110, 0, 0), neck=(5, 0, 0)),
        _t("supine", "kicking", "supine", left_hip=(60, 15, -5), right_hip=(35, 10, 0),
           left_knee=(70, 0, 0), right_knee=(35, 0, 0), shoulder=(70, 60, 0), elbow=(75, 0, 0),
           neck=(10, 0, 20)),
        _t("supine", "reaching up", "supine", hip=(85, 25, -15), knee=(75, 0, 0),
           shoulder=(100, 85, 0), elbow=(25, 0, 0), neck=(15, 0, 0)),
        # Prone: head lifted on forearm support, or flat with the head turned.
        _t("prone", "forearm support", "prone", spine3=(-10, 0, 0), spine2=(-10, 0, 0),
           neck=(-40, 0, 0), head=(-15, 0, 0), shoulder=(85, 85, 0), elbow=(95, 0, 0),
           hip=(5, 20, -10), knee=(30, 0, 0), ankle=(-30, 0, 0)),
        _t("prone", "flat", "prone", neck=(-15, 0, 40), head=(0, 5, 20),
           shoulder=(80, 10, 10), elbow=(100, 0, 0), hip=(15, 35, -20), knee=(60, 0, 0),
           ankle=(-30, 0, 0)),
        # Side-lying: curled, limbs in front of the body.
        _t("side_lying", "curled", "side_left", spine1=(10, 0, 0), spine2=(10, 0, 0),
           spine3=(5, 0, 0), neck=(20, 0, 0), hip=(80, 10, 0), knee=(95, 0, 0),
           shoulder=(80, 80, 0), elbow=(90, 0, 0)),
        _t("side_lying", "open", "side_right", left_hip=(40, 5, 0), right_hip=(70, 5, 0),
           knee=(60, 0, 0), left_shoulder=(60, 60, 0), right_shoulder=(90, 90, 0),
           elbow=(60, 0, 0), neck=(5, 0, 0)),
        # Sitting: tripod (hands on the floor in front), ring sitting, upright play.
        _t("sitting", "tripod", spine1=(15, 0, 0), spine2=(15, 0, 0), spine3=(10, 0, 0),
           neck=(-15, 0, 0), hip=(85, 30, -20), knee=(40, 0, 0), shoulder=(45, 85, 0),
           elbow=(10, 0, 0)),
        _t("sitting", "ring", spine1=(10, 0, 0), spine2=(5, 0, 0), hip=(90, 35, -30),
           knee=(75, 0, 0), shoulder=(30, 45, 0), elbow=(60, 0, 0)),
        _t("sitting", "upright play", spine1=(5, 0, 0), hip=(90, 25, -10), knee=(25, 0, 0),
           shoulder=(65, 80, 0), elbow=(65, 0, 0), neck=(15, 0, 0)),
        # Crawling: hands and knees, trunk level, head up; and mid-step.
        _t("crawling", "hands and knees", "prone", hip=(90, 10, 0), knee=(90, 0, 0),
           ankle=(-35, 0, 0), shoulder=(90, 90, 0), elbow=(5, 0, 0), neck=(-40, 0, 0),
           head=(-10, 0, 0)),
        _t("crawling", "step", "prone", left_hip=(110, 10, 0), right_hip=(70, 10, 0),
           knee=(95, 0, 0), ankle=(-35, 0, 0), left_shoulder=(75, 90, 0),
           right_shoulder=(105, 90, 0), elbow=(10, 0, 0), neck=(-35, 0, 0)),
        # Supported standing: held under the arms, or holding on to furniture.
        _t("supported_standing", "held", hip=(15, 10, -10), knee=(15, 0, 0),
           shoulder=(145, 30, 0), elbow=(25, 0, 0), neck=(5, 0, 0)),
        _t("supported_standing", "holding on", spine1=(10, 0, 0), hip=(20, 15, -10),
           knee=(20, 0, 0), shoulder=(85, 85, 0), elbow=(35, 0, 0), neck=(-5, 0, 0)),
    ),
    "adult": (
        _t("standing", "relaxed", shoulder=(10, 0, 0), elbow=(10, 0, 0), knee=(5, 0, 0),
           noise_deg=6.0),
        _t("standing", "arms crossed", shoulder=(30, 60, 40), elbow=(110, 0, 0),
           noise_deg=6.0),
        _t("walking", "stride", left_hip=(25, 0, 0), right_hip=(-15, 0, 0),
           left_knee=(10, 0, 0), right_knee=(40, 0, 0), left_shoulder=(15, -60, 0),
           right_shoulder=(20, 70, 0), elbow=(20, 0, 0), noise_deg=6.0),
        _t("walking", "mid-swing", left_hip=(5, 0, 0), right_hip=(20, 0, 0),
           left_knee=(5, 0, 0), right_knee=(60, 0, 0), shoulder=(10, 0, 0), elbow=(15, 0, 0),
           noise_deg=6.0),
        _t("reaching", "forward", spine1=(10, 0, 10), spine2=(5, 0, 5), left_shoulder=(110, 75, 0),
           left_elbow=(10, 0, 0), right_shoulder=(15, 0, 0), right_elbow=(20, 0, 0),
           noise_deg=8.0),
        _t("reaching", "overhead", left_shoulder=(160, 30, 0), right_shoulder=(150, 40, 0),
           elbow=(15, 0, 0), neck=(-15, 0, 0), noise_deg=8.0),
        _t("sitting", "chair", spine1=(5, 0, 0), hip=(90, 5, 0), knee=(90, 0, 0),
           shoulder=(20, 60, 0), elbow=(70, 0, 0), noise_deg=8.0),
        _t("bending", "forward", spine1=(30, 0, 0), spine2=(25, 0, 0), spine3=(20, 0, 0),
           hip=(40, 5, 0), knee=(10, 0, 0), shoulder=(70, 90, 0), elbow=(10, 0, 0),
           neck=(-20, 0, 0), noise_deg=8.0),
        _t("bending", "squat", spine1=(20, 0, 0), spine2=(10, 0, 0), hip=(110, 20, -10),
           knee=(120, 0, 0), ankle=(25, 0, 0), shoulder=(50, 80, 0), elbow=(30, 0, 0),
           noise_deg=8.0),
        # On the floor (ADULT_FLOOR_POSTURES): lying in every orientation, sitting, kneeling,
        # on all fours, the postures COCO's people share with infants.
        _t("lying", "supine flat", "supine", shoulder=(25, 0, 0), elbow=(15, 0, 0),
           knee=(5, 0, 0)),
        _t("lying", "supine knees up", "supine", hip=(65, 10, 0), knee=(100, 0, 0),
           ankle=(15, 0, 0), shoulder=(35, 70, 0), elbow=(60, 0, 0)),
        _t("lying", "supine arms overhead", "supine", shoulder=(165, 20, 0), elbow=(20, 0, 0),
           left_hip=(20, 10, 0), left_knee=(30, 0, 0)),
        _t("lying", "prone", "prone", shoulder=(150, 30, 0), elbow=(70, 0, 0), neck=(-10, 0, 35),
           hip=(5, 10, 0), knee=(10, 0, 0)),
        _t("lying", "prone on forearms", "prone", spine3=(-15, 0, 0), spine2=(-10, 0, 0),
           neck=(-35, 0, 0), shoulder=(80, 85, 0), elbow=(90, 0, 0), knee=(20, 0, 0)),
        _t("lying", "side curled", "side_left", spine1=(10, 0, 0), spine2=(10, 0, 0),
           neck=(15, 0, 0), hip=(70, 10, 0), knee=(85, 0, 0), shoulder=(75, 85, 0),
           elbow=(70, 0, 0)),
        _t("lying", "side open", "side_right", left_hip=(30, 10, 0), right_hip=(60, 5, 0),
           knee=(50, 0, 0), left_shoulder=(50, 70, 0), right_shoulder=(100, 90, 0),
           elbow=(40, 0, 0)),
        _t("floor_sitting", "cross-legged", spine1=(10, 0, 0), hip=(90, 45, -40),
           knee=(130, 0, 0), shoulder=(25, 70, 0), elbow=(70, 0, 0)),
        _t("floor_sitting", "legs forward", spine1=(10, 0, 0), hip=(90, 10, 0), knee=(10, 0, 0),
           shoulder=(35, 85, 0), elbow=(20, 0, 0), neck=(10, 0, 0)),
        _t("floor_sitting", "leaning back", spine1=(-5, 0, 0), hip=(70, 15, 0), knee=(80, 0, 0),
           shoulder=(30, -40, 0), elbow=(5, 0, 0), neck=(-10, 0, 0)),
        _t("kneeling", "upright", hip=(5, 5, 0), knee=(95, 0, 0), ankle=(-30, 0, 0),
           shoulder=(20, 40, 0), elbow=(40, 0, 0)),
        _t("kneeling", "on heels", spine1=(10, 0, 0), hip=(70, 10, 0), knee=(150, 0, 0),
           ankle=(-40, 0, 0), shoulder=(40, 85, 0), elbow=(50, 0, 0)),
        _t("all_fours", "hands and knees", "prone", hip=(90, 10, 0), knee=(90, 0, 0),
           ankle=(-35, 0, 0), shoulder=(90, 90, 0), elbow=(5, 0, 0), neck=(-35, 0, 0)),
        _t("all_fours", "crawling step", "prone", left_hip=(110, 10, 0), right_hip=(70, 10, 0),
           knee=(95, 0, 0), ankle=(-35, 0, 0), left_shoulder=(75, 90, 0),
           right_shoulder=(105, 90, 0), elbow=(10, 0, 0), neck=(-30, 0, 0)),
    ),
}  # fmt: skip


# --------------------------------------------------------------------------- angles -> rotations


def _axis_rot(axis: int, angle: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation about x (0), y (1) or z (2) by ``angle`` radians."""
    c, s = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    if axis == 0:
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == 1:
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    else:
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def _shortest_rotation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) shortest rotation taking unit vectors ``a`` to ``b`` (not antiparallel)."""
    v = torch.cross(a, b, dim=-1)
    c = (a * b).sum(-1, keepdim=True)[..., None]
    zero = torch.zeros_like(v[..., 0])
    vx = torch.stack(
        [
            torch.stack([zero, -v[..., 2], v[..., 1]], -1),
            torch.stack([v[..., 2], zero, -v[..., 0]], -1),
            torch.stack([-v[..., 1], v[..., 0], zero], -1),
        ],
        dim=-2,
    )
    eye = torch.eye(3, dtype=a.dtype, device=a.device).expand_as(vx)
    return eye + vx + vx @ vx / (1.0 + c).clamp_min(1e-6)


def _axis_angle_matrix(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    import roma

    return roma.rotvec_to_rotmat(axis * angle[..., None])


def anatomical_to_rotmats(angles: Any) -> torch.Tensor:
    """(B, 21, 3, 3) T-pose-relative joint rotations from (B, 21, 3) anatomical angles in degrees."""
    a = torch.as_tensor(np.asarray(angles, dtype=np.float64)).deg2rad()
    if a.dim() != 3 or a.shape[1:] != (len(POSE_JOINTS), 3):
        raise ValueError(f"anatomical angles have shape {tuple(a.shape)}; expected (B, 21, 3)")
    side = torch.as_tensor(_SIDE, dtype=a.dtype)
    out = torch.eye(3, dtype=a.dtype).expand(a.shape[0], len(POSE_JOINTS), 3, 3).clone()
    for i, dof in enumerate(JOINT_DOFS):
        x, y, z = a[:, i, 0], a[:, i, 1], a[:, i, 2]
        s = side[i]
        if dof.kind == "spine":
            r = _axis_rot(0, x) @ _axis_rot(2, -y) @ _axis_rot(1, z)
        elif dof.kind == "hip":
            r = _axis_rot(0, -x) @ _axis_rot(2, s * y) @ _axis_rot(1, -s * z)
        elif dof.kind == "knee":
            r = _axis_rot(0, x)
        elif dof.kind == "ankle":
            r = _axis_rot(0, -x) @ _axis_rot(2, -s * y)
        elif dof.kind == "foot":
            r = _axis_rot(0, -x)
        elif dof.kind == "collar":
            r = _axis_rot(2, s * x) @ _axis_rot(1, -s * y)
        elif dof.kind == "shoulder":
            direction = torch.stack(
                [s * torch.sin(x) * torch.cos(y), -torch.cos(x), torch.sin(x) * torch.sin(y)], -1
            )
            tpose = torch.zeros_like(direction)
            tpose[:, 0] = s
            r = _axis_angle_matrix(direction, -s * z) @ _shortest_rotation(tpose, direction)
        elif dof.kind == "elbow":
            r = _axis_rot(1, -s * x)
        elif dof.kind == "wrist":
            r = _axis_rot(2, -s * x) @ _axis_rot(1, -s * y)
        else:  # pragma: no cover - JOINT_DOFS is fixed
            raise AssertionError(dof.kind)
        out[:, i] = r
    return out


#: The postures in which a body lies on its back or front (seen from above).
LYING_POSTURES = ("supine", "prone")


def is_lying(joints: Any) -> bool:
    """Whether a body lies (pelvis → neck more horizontal than vertical), from (22, 3) joints."""
    joints = np.asarray(joints, dtype=np.float64)
    axis = joints[BODY_JOINTS.index("neck")] - joints[BODY_JOINTS.index("pelvis")]
    return abs(axis[1]) < math.cos(math.radians(45)) * np.linalg.norm(axis)


def clip_to_limits(angles: np.ndarray) -> np.ndarray:
    """Anatomical angles (B, 21, 3) clipped into :data:`JOINT_DOFS`' limits."""
    return np.clip(angles, _LOW, _HIGH)


def mirror_angles(angles: np.ndarray) -> np.ndarray:
    """The left-right mirror image of (B, 21, 3) anatomical angles: sides swap, and the spine's
    lateral bend and twist change sign (sided coordinates are already written per side)."""
    out = np.asarray(angles)[:, _MIRROR].copy()
    spine = np.array([d.kind == "spine" for d in JOINT_DOFS])
    out[:, spine, 1:] *= -1.0
    return out


# --------------------------------------------------------------------------- backends


def rest_corrections(body: BodyModel) -> torch.Tensor:
    """(22, 3, 3) per-joint rotations that bring ``body``'s rest pose to a T-pose.

    Computed from the body's own rest joints: each upper arm is turned to the horizontal
    (shortest rotation) and each forearm straightened along it; every other joint is
    already T-pose-like (identity). For an SMPL/SMIL body these are all close to identity.
    """
    with torch.no_grad():
        joints = body.zero_output().joints[0].to(torch.float64).cpu()
    index = {name: i for i, name in enumerate(BODY_JOINTS)}
    out = torch.eye(3, dtype=torch.float64).repeat(len(BODY_JOINTS), 1, 1)

    def unit(a: str, b: str) -> torch.Tensor:
        v = joints[index[b]] - joints[index[a]]
        return v / v.norm()

    for side, sign in (("left", 1.0), ("right", -1.0)):
        upper = unit(f"{side}_shoulder", f"{side}_elbow")
        fore = unit(f"{side}_elbow", f"{side}_wrist")
        tpose = torch.tensor([sign, 0.0, 0.0], dtype=torch.float64)
        out[index[f"{side}_shoulder"]] = _shortest_rotation(upper, tpose)
        out[index[f"{side}_elbow"]] = _shortest_rotation(fore, upper)
    return out


def rotmats_to_body_pose(
    rotmats: torch.Tensor, corrections: torch.Tensor | None = None
) -> torch.Tensor:
    """(B, 21, 3) axis-angle ``body_pose`` for a backend from T-pose-relative (B, 21, 3, 3) rotations.

    With ``K_j`` the backend's rest correction of joint ``j`` and ``T_p`` the product of the
    corrections from the root down to ``j``'s parent, the backend's local rotation is
    ``T_p^-1 R_j T_p K_j``: it reproduces the library's world orientation of every bone.
    """
    import roma

    if corrections is None:
        local = rotmats
    else:
        k = corrections.to(rotmats)
        chain = [torch.eye(3, dtype=rotmats.dtype)] * len(BODY_JOINTS)
        for j in range(1, len(BODY_JOINTS)):  # parents come before children
            chain[j] = chain[BODY_PARENTS[j]] @ k[j]
        parent_chain = torch.stack([chain[BODY_PARENTS[j]] for j in range(1, len(BODY_JOINTS))])
        local = parent_chain.transpose(-1, -2) @ rotmats @ parent_chain @ k[1:]
    return roma.rotmat_to_rotvec(local)


# --------------------------------------------------------------------------- sampling


def sample_shapes(population: str, count: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """anny phenotypes for ``count`` bodies: infants from newborn to anny's "baby" (age -1/3 ..
    0, 0.51 to 0.67 m: the first year), adults from young to older (0.55 .. 0.95), varied build."""
    if population == "infant":
        age = rng.uniform(-1.0 / 3.0, 0.0, count)
        spread = 0.2
    elif population == "adult":
        age = rng.uniform(0.55, 0.95, count)
        spread = 0.3
    else:
        raise ValueError(f"unknown population {population!r}; use 'infant' or 'adult'")
    out = {"age": age, "gender": rng.uniform(0.0, 1.0, count)}
    for label in ("muscle", "weight", "height", "proportions"):
        out[label] = np.clip(rng.normal(0.5, spread / 2, count), 0.5 - spread, 0.5 + spread)
    return out


@dataclass
class PoseSample:
    """What :meth:`PoseSampler.sample` returns: poses for the body and where they came from."""

    pose: BodyPose
    posture: list[str]
    variant: list[str]
    angles: np.ndarray  # (B, 21, 3) anatomical angles in degrees, after noise and clipping
    mirrored: np.ndarray  # (B,) bool
    global_rotmat: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 3, 3)))

    def __len__(self) -> int:
        return self.pose.batch_size


class PoseSampler:
    """Seeded sampler of natural postures from :data:`POSE_LIBRARY` for one body model.

    Args:
        body: the body model the poses are for (its rest pose is corrected to the library's
            T-pose, see :func:`rest_corrections`); ``None`` gives T-pose-relative poses (SMPL).
        population: ``"infant"`` or ``"adult"``.
        postures: draw from these postures (default: :data:`DEFAULT_POSTURES`, every infant
            posture; the upright adult ones, :data:`ADULT_FLOOR_POSTURES` by name).
        noise_scale: multiplies each template's per-coordinate noise (0 gives the templates).
        mirror: mirror half of the poses left-right.
        shapes: sample anny phenotypes too (only for anny bodies; otherwise shape stays None).
    """

    def __init__(
        self,
        body: BodyModel | None = None,
        population: str = "infant",
        postures: Sequence[str] | None = None,
        noise_scale: float = 1.0,
        mirror: bool = True,
        shapes: bool = True,
    ) -> None:
        if population not in POSE_LIBRARY:
            raise ValueError(
                f"unknown population {population!r}; available: {', '.join(POSE_LIBRARY)}"
            )
        templates = POSE_LIBRARY[population]
        known = sorted({t.posture for t in templates})
        if postures is None:
            postures = DEFAULT_POSTURES[population]
        else:
            unknown = [p for p in postures if p not in known]
            if unknown:
                raise ValueError(
                    f"unknown {population} postures {unknown}; available: {', '.join(known)}"
                )
        templates = tuple(t for t in templates if t.posture in postures)
        self.population = population
        self.templates = templates
        self.postures = tuple(dict.fromkeys(t.posture for t in templates))
        self.noise_scale = float(noise_scale)
        self.mirror = mirror
        self.body = body
        self.shapes = shapes and body is not None and body.backend == "anny"
        self.corrections = rest_corrections(body) if body is not None else None

    def sample(self, count: int, seed: int | np.random.Generator = 0) -> PoseSample:
        """``count`` poses: a posture uniformly, then one of its variants, then noise."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        by_posture = {p: [t for t in self.templates if t.posture == p] for p in self.postures}
        chosen = []
        for posture in rng.choice(len(self.postures), size=count):
            options = by_posture[self.postures[posture]]
            chosen.append(options[rng.integers(len(options))])
        base = np.stack([t.array() for t in chosen]) if count else np.zeros((0, 21, 3))
        noise = np.array([t.noise_deg for t in chosen]).reshape(-1, 1, 1) * self.noise_scale
        angles = base + rng.normal(size=base.shape) * noise
        mirrored = rng.random(count) < 0.5 if self.mirror else np.zeros(count, dtype=bool)
        if mirrored.any():
            angles[mirrored] = mirror_angles(angles[mirrored])
        angles = clip_to_limits(angles)

        import roma

        yaw = rng.uniform(-math.pi, math.pi, count)
        tilt = rng.normal(size=(count, 2)) * np.deg2rad([t.tilt_deg for t in chosen])[:, None]
        bases = torch.tensor([_GLOBAL_BASES[t.base] for t in chosen], dtype=torch.float64)
        base_rot = roma.rotvec_to_rotmat(bases.reshape(-1, 3)).reshape(count, 3, 3)
        tilt_rot = _axis_rot(0, torch.as_tensor(tilt[:, 0])) @ _axis_rot(
            2, torch.as_tensor(tilt[:, 1])
        )
        global_rot = _axis_rot(1, torch.as_tensor(yaw)) @ tilt_rot @ base_rot

        rotmats = anatomical_to_rotmats(angles)
        body_pose = rotmats_to_body_pose(rotmats, self.corrections)
        dtype = self.body.dtype if self.body is not None else torch.float32
        device = self.body.device if self.body is not None else None
        shape = None
        if self.shapes:
            phenotypes = sample_shapes(self.population, count, rng)
            shape = {
                k: torch.as_tensor(v, dtype=dtype, device=device) for k, v in phenotypes.items()
            }
        pose = BodyPose(
            global_orient=roma.rotmat_to_rotvec(global_rot).to(dtype=dtype, device=device),
            body_pose=body_pose.to(dtype=dtype, device=device),
            shape=shape,
            transl=torch.zeros(count, 3, dtype=dtype, device=device),
        )
        return PoseSample(
            pose=pose,
            posture=[t.posture for t in chosen],
            variant=[t.variant for t in chosen],
            angles=angles,
            mirrored=mirrored,
            global_rotmat=global_rot.numpy(),
        )
