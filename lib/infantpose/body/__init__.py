"""Body models behind one interface: pose B bodies, get meshes, joints and 3D COCO keypoints.

>>> from infantpose.body import BodyPose, load_body_model
>>> body = load_body_model()                      # anny, an infant by default
>>> out = body(BodyPose.from_rotations({"left_knee": [1.2, 0.0, 0.0]}, shape={"age": 0.0}))
>>> out.vertices.shape, out.joints.shape, out.keypoints.shape
(torch.Size([1, 13718, 3]), torch.Size([1, 22, 3]), torch.Size([1, 17, 3]))

Conventions (frame, joints, axis-angles) are in :mod:`infantpose.body.model`; the anny
backend, its phenotypes and its joint table in :mod:`infantpose.body.anny_backend`.
SMPL and SMIL (``load_body_model("smil")``, licence-gated file) in :mod:`infantpose.body.smpl_backend`.
"""

from __future__ import annotations

import importlib
from typing import Any

from .joints import ANNY_BONES, BODY22, BODY_JOINTS, BODY_PARENTS, FOOT_KEYPOINTS, POSE_JOINTS
from .model import BodyModel, BodyOutput, BodyPose, BodyPoseError
from .poses import POSE_LIBRARY, PoseSample, PoseSampler

__all__ = [
    "ANNY_BONES",
    "BACKENDS",
    "BODY22",
    "BODY_JOINTS",
    "BODY_PARENTS",
    "FOOT_KEYPOINTS",
    "POSE_JOINTS",
    "POSE_LIBRARY",
    "AnnyBody",
    "BodyModel",
    "BodyOutput",
    "BodyPose",
    "BodyPoseError",
    "PoseSample",
    "PoseSampler",
    "load_body_model",
]

#: Backend name -> "module:class"; imported only when asked for.
BACKENDS: dict[str, str] = {
    "anny": "infantpose.body.anny_backend:AnnyBody",
    "smpl": "infantpose.body.smpl_backend:SmplBody",
    "smil": "infantpose.body.smpl_backend:SmilBody",
}


def load_body_model(backend: str = "anny", **kwargs: Any) -> BodyModel:
    """A body model by backend name; ``kwargs`` go to its class (e.g. ``cache_dir``, ``device``)."""
    if backend not in BACKENDS:
        raise ValueError(
            f"unknown body model backend {backend!r}; available: {', '.join(sorted(BACKENDS))}"
        )
    module, name = BACKENDS[backend].split(":")
    return getattr(importlib.import_module(module), name)(**kwargs)


def __getattr__(name: str) -> Any:
    # AnnyBody is imported on first use (anny itself is imported only when a model is built).
    if name == "AnnyBody":
        from .anny_backend import AnnyBody

        return AnnyBody
    raise AttributeError(f"module 'infantpose.body' has no attribute {name!r}")
