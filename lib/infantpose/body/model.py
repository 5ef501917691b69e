"""One interface for every body model: a pose in, a mesh, joints and COCO keypoints out.

A backend (anny by default, SMIL/SMPL through ``smplx``) subclasses :class:`BodyModel` and
implements :meth:`BodyModel.forward`, mapping a :class:`BodyPose` to a :class:`BodyOutput`.
Everything is batched, differentiable and lives on the model's device (``model.to(device)``).

Frame convention (the same for every backend; backends convert inside):

* World: right-handed, metres, **y up**. A body in its zero pose faces **+z** and its left
  side is at **+x** (SMPL's and OpenGL's convention). anny is z-up facing -y: its backend
  converts.
* ``transl`` (B, 3) is where the pelvis goes: ``output.joints[:, 0] == transl``.
* ``global_orient`` (B, 3) is an axis-angle rotation of the whole body about its pelvis,
  in world axes.
* ``body_pose`` (B, 21, 3) holds one axis-angle per joint of :data:`POSE_JOINTS`, each relative
  to its parent and expressed in the world-aligned axes of the rest pose (SMPL's convention).
  With the body in its zero pose: a positive rotation about +x flexes a knee (the ankle moves
  backwards, to -z) and extends a hip; a hip flexes with a negative one.
* The zero pose is the backend's own rest pose: anny stands with its arms in an A-pose
  (about 45° down), SMPL and SMIL in a T-pose. The same ``body_pose`` is therefore not the
  same posture on both; retarget between them through joint positions, not raw angles.
* ``shape`` is backend-specific: anny phenotypes (a dict such as ``{"age": 0.0}``), SMPL/SMIL
  betas (B, 10 or 20). Each backend documents its own; ``None`` means the backend's default.
"""

from __future__ import annotations

import abc
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import torch

from ..keypoints import COCO17
from .joints import BODY_JOINTS, BODY_PARENTS, FOOT_KEYPOINTS, POSE_JOINTS

__all__ = ["BodyModel", "BodyOutput", "BodyPose", "BodyPoseError", "select_shape"]


class BodyPoseError(ValueError):
    """A pose a body model cannot use; the message says which field is wrong and how to fix it."""


def _as_tensor(value: Any, dtype: torch.dtype | None, device: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(dtype=dtype or value.dtype, device=device or value.device)
    return torch.as_tensor(value, dtype=dtype or torch.get_default_dtype(), device=device)


@dataclass
class BodyPose:
    """A batch of B poses: what every :class:`BodyModel` takes (conventions in the module docstring).

    ``transl`` ``None`` means zeros (pelvis at the origin); ``shape`` ``None`` means the
    backend's default body. ``body_pose`` may also be given flat, (B, 63).
    """

    global_orient: torch.Tensor  # (B, 3) axis-angle, about the pelvis, world axes
    body_pose: torch.Tensor  # (B, 21, 3) axis-angle per POSE_JOINTS, relative to the parent
    shape: Any = None  # backend-specific, see the backend
    transl: torch.Tensor | None = None  # (B, 3) pelvis position in metres

    @property
    def batch_size(self) -> int:
        return int(self.global_orient.shape[0])

    @classmethod
    def zeros(
        cls,
        batch_size: int = 1,
        shape: Any = None,
        dtype: torch.dtype = torch.float32,
        device: Any = None,
    ) -> BodyPose:
        """B bodies in the rest pose with the pelvis at the origin."""
        return cls(
            global_orient=torch.zeros(batch_size, 3, dtype=dtype, device=device),
            body_pose=torch.zeros(batch_size, len(POSE_JOINTS), 3, dtype=dtype, device=device),
            shape=shape,
            transl=torch.zeros(batch_size, 3, dtype=dtype, device=device),
        )

    @classmethod
    def from_rotations(
        cls,
        rotations: Mapping[str, Any],
        batch_size: int = 1,
        global_orient: Any = None,
        transl: Any = None,
        shape: Any = None,
        dtype: torch.dtype = torch.float32,
        device: Any = None,
    ) -> BodyPose:
        """A pose from named joint rotations, e.g. ``{"left_knee": [1.2, 0, 0]}``; others stay at rest.

        Each value is an axis-angle, (3,) or (B, 3). Gradients flow back to tensor values.
        """
        given: dict[str, torch.Tensor] = {}
        for name, value in rotations.items():
            _pose_joint_index(name)  # a clear error for an unknown joint
            given[name] = _as_tensor(value, dtype, device)
        for name, value in (("global_orient", global_orient), ("transl", transl)):
            if value is not None:
                given[name] = _as_tensor(value, dtype, device)
        for name, value in given.items():
            if value.shape[-1:] != (3,) or value.dim() > 2:
                raise BodyPoseError(
                    f"{name} has shape {tuple(value.shape)}; give a 3-vector, (3,) or (B, 3)"
                )
            if value.dim() == 2 and value.shape[0] != 1:
                if batch_size not in (1, value.shape[0]):
                    raise BodyPoseError(
                        f"{name} has {value.shape[0]} rows but the batch has {batch_size} poses"
                    )
                batch_size = int(value.shape[0])

        def batched(name: str) -> torch.Tensor:  # a fresh (B, 3) tensor, safe to edit in place
            if name in given:
                return given[name].expand(batch_size, 3).clone()
            return torch.zeros(batch_size, 3, dtype=dtype, device=device)

        return cls(
            global_orient=batched("global_orient"),
            body_pose=torch.stack([batched(name) for name in POSE_JOINTS], dim=1),
            shape=shape,
            transl=batched("transl"),
        )

    def select(self, index: Any) -> BodyPose:
        """The poses at ``index`` (a (K,) index tensor or list; repeats allowed), shapes included."""
        index = torch.as_tensor(index, dtype=torch.long)
        batch = self.batch_size
        return BodyPose(
            global_orient=self.global_orient[index],
            body_pose=self.body_pose.reshape(batch, -1, 3)[index],
            shape=select_shape(self.shape, index, batch),
            transl=None if self.transl is None else self.transl[index],
        )

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> BodyPose:
        """The same pose with its tensors moved (``shape`` tensors too, dicts of them included)."""

        def move(value: Any) -> Any:
            if isinstance(value, torch.Tensor):
                return value.to(device=device, dtype=dtype if value.is_floating_point() else None)
            if isinstance(value, Mapping):
                return {k: move(v) for k, v in value.items()}
            return value

        return replace(self, **{f.name: move(getattr(self, f.name)) for f in fields(self)})


def select_shape(shape: Any, index: torch.Tensor, batch: int) -> Any:
    """Rows ``index`` of a batch of ``batch`` shapes: ``None``, a dict of floats or (B,) tensors,
    or a (B, k) tensor (numpy arrays too); a value shared by the batch is kept as it is."""
    if shape is None:
        return None
    if isinstance(shape, Mapping):
        return {k: select_shape(v, index, batch) for k, v in shape.items()}
    if isinstance(shape, torch.Tensor) and shape.dim() >= 1 and shape.shape[0] == batch:
        return shape[index]
    if isinstance(shape, np.ndarray) and shape.ndim >= 1 and shape.shape[0] == batch:
        return torch.as_tensor(shape[index.cpu().numpy()])
    return shape  # a float (or broadcastable value) shared by the batch


def _pose_joint_index(name: str) -> int:
    if name in POSE_JOINTS:
        return POSE_JOINTS.index(name)
    if name == BODY_JOINTS[0]:
        raise BodyPoseError(
            "the pelvis is the root: pass its rotation as `global_orient`, not in `body_pose`"
        )
    close = difflib.get_close_matches(name, POSE_JOINTS, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise BodyPoseError(
        f"unknown body joint {name!r}; {hint}pose joints are: {', '.join(POSE_JOINTS)}"
    )


@dataclass
class BodyOutput:
    """What a :class:`BodyModel` returns for B poses; all in world coordinates, metres."""

    vertices: torch.Tensor  # (B, V, 3)
    faces: torch.Tensor  # (F, 3) int64 triangles, shared by the batch
    joints: torch.Tensor  # (B, 22, 3) in BODY_JOINTS order
    keypoints: torch.Tensor  # (B, 17, 3) COCO-17, 3D
    # (B, 6, 3) big toe, small toe, heel per side (FOOT_KEYPOINTS order); None if the backend has none.
    foot_keypoints: torch.Tensor | None = None

    @property
    def batch_size(self) -> int:
        return int(self.vertices.shape[0])


class BodyModel(torch.nn.Module, abc.ABC):
    """A differentiable body: ``model(pose) -> BodyOutput``; move it with ``model.to(device)``.

    Subclasses implement :meth:`forward` and register ``faces`` as a buffer; the checks every
    backend needs are here (:meth:`check_pose`).
    """

    #: The joints of ``BodyOutput.joints`` (pelvis first) and their parents.
    joint_names: tuple[str, ...] = BODY_JOINTS
    joint_parents: tuple[int, ...] = BODY_PARENTS
    #: The joints of ``BodyPose.body_pose``, in order.
    pose_joint_names: tuple[str, ...] = POSE_JOINTS
    keypoint_names: tuple[str, ...] = COCO17.joints
    foot_keypoint_names: tuple[str, ...] = FOOT_KEYPOINTS
    #: Short name of the backend (``"anny"``, ``"smpl"``, ...).
    backend: str = ""
    #: Length of the unconstrained shape vector of :meth:`shape_from_vector`.
    shape_size: int = 0

    faces: torch.Tensor

    @abc.abstractmethod
    def forward(self, pose: BodyPose) -> BodyOutput:
        """Pose B bodies (see the module docstring for the conventions)."""

    @property
    @abc.abstractmethod
    def device(self) -> torch.device: ...

    @property
    @abc.abstractmethod
    def dtype(self) -> torch.dtype: ...

    def skeleton(self, pose: BodyPose) -> tuple[torch.Tensor, torch.Tensor]:
        """``(joints, keypoints)`` of :meth:`forward` without the mesh: (B, 22, 3), (B, 17, 3).

        Fitting needs only these; backends override it with a faster path when they have one.
        """
        out = self(pose)
        return out.joints, out.keypoints

    def shape_from_vector(self, z: torch.Tensor) -> Any:
        """The ``BodyPose.shape`` of unconstrained (B, :attr:`shape_size`) vectors.

        Zeros give the backend's default body, and each backend scales ``z`` so that
        ``z ~ N(0, 1)`` stays a plausible body: a fitter optimises ``z`` with an L2 prior.
        """
        raise NotImplementedError(f"{type(self).__name__} has no shape vector")

    def zero_pose(self, batch_size: int = 1, shape: Any = None) -> BodyPose:
        """B rest poses on this model's device and dtype."""
        return BodyPose.zeros(batch_size, shape=shape, dtype=self.dtype, device=self.device)

    def zero_output(self, shape: Any = None) -> BodyOutput:
        """The rest-pose body (no gradient)."""
        with torch.no_grad():
            return self(self.zero_pose(1, shape=shape))

    def joint_index(self, name: str) -> int:
        """Position of ``name`` in ``BodyOutput.joints``."""
        if name not in self.joint_names:
            close = difflib.get_close_matches(name, self.joint_names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise KeyError(
                f"unknown body joint {name!r}; {hint}joints: {', '.join(self.joint_names)}"
            )
        return self.joint_names.index(name)

    def check_pose(self, pose: BodyPose) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(global_orient, body_pose, transl)`` as (B,3), (B,21,3), (B,3) on this model's
        device and dtype, or a :class:`BodyPoseError` saying what is wrong and how to fix it."""
        if not isinstance(pose, BodyPose):
            raise BodyPoseError(
                f"expected an infantpose.body.BodyPose, got {type(pose).__name__}; "
                "build one with BodyPose(global_orient=..., body_pose=...), "
                "BodyPose.zeros(B) or BodyPose.from_rotations({...})"
            )
        num = len(self.pose_joint_names)
        tensors = {}
        for name in ("global_orient", "body_pose", "transl"):
            value = getattr(pose, name)
            if value is None and name == "transl":
                value = torch.zeros_like(tensors["global_orient"])
            if not isinstance(value, torch.Tensor):
                raise BodyPoseError(
                    f"pose.{name} is a {type(value).__name__}; give a torch tensor "
                    "(torch.as_tensor(x, dtype=torch.float32))"
                )
            if not value.is_floating_point():
                raise BodyPoseError(f"pose.{name} has dtype {value.dtype}; give a float tensor")
            tensors[name] = value.to(device=self.device, dtype=self.dtype)
        go, bp, tr = tensors["global_orient"], tensors["body_pose"], tensors["transl"]
        if go.dim() != 2 or go.shape[1] != 3:
            raise BodyPoseError(
                f"pose.global_orient has shape {tuple(go.shape)}; expected (B, 3) axis-angle "
                "(add a batch axis with x[None] for one body)"
            )
        batch = go.shape[0]
        if bp.dim() == 2 and bp.shape == (batch, num * 3):
            bp = bp.reshape(batch, num, 3)
        if bp.shape != (batch, num, 3):
            hint = ""
            if bp.dim() == 3 and bp.shape[1] == 23:
                hint = " An SMPL body_pose has 23 joints: drop the two hand joints with body_pose[:, :21]."
            elif bp.dim() == 3 and bp.shape[1] == num + 1:
                hint = " It looks like it includes the pelvis: pass that as global_orient and body_pose[:, 1:]."
            raise BodyPoseError(
                f"pose.body_pose has shape {tuple(bp.shape)}; expected ({batch}, {num}, 3): one "
                f"axis-angle per joint of model.pose_joint_names for each of the {batch} poses "
                f"of global_orient.{hint}"
            )
        if tr.shape != (batch, 3):
            raise BodyPoseError(
                f"pose.transl has shape {tuple(tr.shape)}; expected ({batch}, 3) pelvis positions in metres"
            )
        finite = torch.isfinite(torch.cat([go, bp.reshape(batch, -1), tr], dim=1))
        if not bool(finite.all()):
            bad = (~finite).nonzero()[0].tolist()
            column = bad[1]
            where = (
                "global_orient"
                if column < 3
                else f"body_pose joint {self.pose_joint_names[(column - 3) // 3]!r}"
                if column < 3 + 3 * num
                else "transl"
            )
            raise BodyPoseError(
                f"the pose has a NaN or infinite value in {where} (batch item {bad[0]}); "
                "check the optimiser or sampler that produced it"
            )
        return go, bp, tr
