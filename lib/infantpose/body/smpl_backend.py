"""SMPL-format bodies (SMPL, and SMIL, the infant model) behind :class:`~infantpose.body.BodyModel`.

:class:`SmplBody` reads a model file with :func:`~infantpose.body.smpl_file.load_smpl_file`
(no chumpy needed) and poses it with ``smplx.SMPL``, the reference implementation.
:class:`SmilBody` is the same with the SMIL file from the profile (``paths.smil_model``).

**Frame.** SMPL's own is the book's (y up, facing +z, left at +x): nothing is converted.
smplx's ``transl`` moves the whole body and leaves the pelvis at the rest mesh's pelvis
(``J_regressor[0] @ v_shaped``, so it moves with the betas); ours is where the pelvis goes, so
the backend shifts the posed body by ``transl - pelvis``.

**Pose.** ``body_pose`` (B, 21, 3) fills SMPL's first 21 body joints (SMPL joints 1..21, the
names of :data:`~infantpose.body.POSE_JOINTS`); the two hand joints (SMPL 22, 23) stay at
rest. ``BodyOutput.joints`` are SMPL joints 0..21.

**Shape** (``BodyPose.shape``): betas, a (B or 1, ``num_betas``) tensor, or ``None`` (zeros,
the file's mean body). Betas are already unit-variance PCA coefficients, so
:meth:`SmplBody.shape_from_vector` returns its input.

**Keypoints.** The twelve COCO-17 body keypoints are the SMPL joints of the same name; the
five face keypoints are mesh vertices, the SMPL-H ids smplx and SMPLify-X use (SMPL, SMPL-H and
SMIL share the topology). The hips are SMPL's hip joints, inside the thigh, not COCO's
surface points: fitters usually down-weight them.

==============  ===================  ==============================
COCO-17         SMPL joint           or vertex (6890-vertex meshes)
==============  ===================  ==============================
nose                                 332
left_eye                             2800
right_eye                            6260
left_ear                             583
right_ear                            4071
shoulders       16, 17 (left, right)
elbows          18, 19
wrists          20, 21
hips            1, 2
knees           4, 5
ankles          7, 8
==============  ===================  ==============================

``foot_keypoints`` (6890-vertex meshes only) are SMPL-H vertices too: big toe 3216 / 6617,
small toe 3226 / 6624, heel 3387 / 6787 (left / right). Another mesh needs ``face_vertex_ids``
and has no foot keypoints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import smplx
import torch
from smplx.utils import Struct

from .joints import BODY_JOINTS, FOOT_KEYPOINTS
from .model import BodyModel, BodyOutput, BodyPose, BodyPoseError
from .smpl_file import NUM_SMPL_JOINTS, SmplFileError, SmplFileMissingError, load_smpl_file

__all__ = [
    "SMIL_DOWNLOAD_URL",
    "SMIL_NUM_BETAS",
    "SMPLH_FACE_VERTICES",
    "SMPLH_FOOT_VERTICES",
    "SMPL_NUM_VERTICES",
    "SmilBody",
    "SmplBody",
    "smil_model_path",
]

#: Vertices of the SMPL topology (SMPL, SMPL-H, SMIL), the one the vertex ids below are for.
SMPL_NUM_VERTICES = 6890
#: COCO face keypoints as SMPL-H vertex ids (smplx ``vertex_ids["smplh"]``, as in SMPLify-X).
SMPLH_FACE_VERTICES: dict[str, int] = {
    "nose": 332,
    "left_eye": 2800,
    "right_eye": 6260,
    "left_ear": 583,
    "right_ear": 4071,
}
#: Foot points as SMPL-H vertex ids, in :data:`~infantpose.body.FOOT_KEYPOINTS` order.
SMPLH_FOOT_VERTICES: dict[str, int] = {
    "left_big_toe": 3216,
    "right_big_toe": 6617,
    "left_small_toe": 3226,
    "right_small_toe": 6624,
    "left_heel": 3387,
    "right_heel": 6787,
}
#: SMIL's shape space: 20 betas.
SMIL_NUM_BETAS = 20
#: Where the SMIL model is published (registration and licence required).
SMIL_DOWNLOAD_URL = (
    "https://www.iosb.fraunhofer.de/en/competences/image-exploitation/"
    "object-recognition/sensor-networks/motion-analysis.html"
)
_SMIL_HINT = (
    "SMIL is licence-gated: register and download smil.zip at the Fraunhofer IOSB "
    f"motion-analysis page ({SMIL_DOWNLOAD_URL}), unpack smil_web.pkl, and set "
    "`paths.smil_model` to its path in configs/paper.yaml (or pass model_path=...)"
)
# smplx's VertexJointSelector names, in the order it appends the vertices after the 24 joints.
_SMPLX_FACE = {
    "nose": "nose",
    "reye": "right_eye",
    "leye": "left_eye",
    "rear": "right_ear",
    "lear": "left_ear",
}
_SMPLX_FEET = {
    "LBigToe": "left_big_toe",
    "LSmallToe": "left_small_toe",
    "LHeel": "left_heel",
    "RBigToe": "right_big_toe",
    "RSmallToe": "right_small_toe",
    "RHeel": "right_heel",
}
_NUM_HAND_JOINTS = NUM_SMPL_JOINTS - len(BODY_JOINTS)


class _SmplxSMPL(smplx.SMPL):
    """``smplx.SMPL`` keeping every shape component of the file.

    smplx 0.1.28 keeps at most 10 betas of a file with fewer than ``SHAPE_SPACE_DIM`` (300)
    components; an instance value equal to the file's count keeps them all, without changing
    ``smplx.SMPL`` for anyone else.
    """

    def __init__(self, shape_space_dim: int, **kwargs: Any) -> None:
        self.SHAPE_SPACE_DIM = shape_space_dim  # read by SMPL.__init__
        super().__init__(**kwargs)


class SmplBody(BodyModel):
    """An SMPL-format body (betas as shape), posed by our 22 body joints; see the module docstring.

    Args:
        model_path: the model file (``.pkl``, SMPL ``basicModel`` schema; chumpy not needed).
        num_betas: how many shape components to use (default: all the file has).
        device: where to put the model; ``.to(device)`` moves it later.
        dtype: float32 (default) or float64.
        face_vertex_ids: vertex id of each COCO face keypoint (``nose``, ``left_eye``,
            ``right_eye``, ``left_ear``, ``right_ear``); default :data:`SMPLH_FACE_VERTICES`,
            required for a mesh that does not have 6890 vertices.
    """

    backend = "smpl"

    def __init__(
        self,
        model_path: str | os.PathLike,
        num_betas: int | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        face_vertex_ids: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.model_path = Path(model_path).expanduser()
        data = load_smpl_file(self.model_path)
        num_vertices = data["v_template"].shape[0]
        available = data["shapedirs"].shape[2]
        if num_betas is None:
            num_betas = available
        if isinstance(num_betas, bool) or not isinstance(num_betas, int):
            raise TypeError(f"num_betas must be an int or None, got {num_betas!r}")
        if not 1 <= num_betas <= available:
            raise ValueError(
                f"num_betas={num_betas}, but {self.model_path} has {available} shape "
                f"components; pass 1 to {available}, or None for all of them"
            )
        face = self._face_vertices(face_vertex_ids, num_vertices)
        feet = num_vertices == SMPL_NUM_VERTICES
        vertex_ids = {key: face[name] for key, name in _SMPLX_FACE.items()}
        if feet:
            vertex_ids |= {key: SMPLH_FOOT_VERTICES[name] for key, name in _SMPLX_FEET.items()}

        self.smpl = _SmplxSMPL(
            shape_space_dim=available,
            model_path=str(self.model_path),
            data_struct=Struct(**data),
            num_betas=num_betas,
            create_betas=False,
            create_global_orient=False,
            create_body_pose=False,
            create_transl=False,
            dtype=dtype,
            vertex_ids=vertex_ids,
            use_hands=False,
            use_feet_keypoints=feet,
        )
        if self.smpl.num_betas != num_betas:
            raise RuntimeError(f"smplx kept {self.smpl.num_betas} betas of {num_betas}")
        # smplx rounds every array through float32; keep the file's values for float64 models.
        exact = {
            "v_template": data["v_template"],
            "shapedirs": data["shapedirs"][:, :, :num_betas],
            "posedirs": data["posedirs"].reshape(-1, data["posedirs"].shape[-1]).T,
            "J_regressor": data["J_regressor"],
            "lbs_weights": data["weights"],
        }
        with torch.no_grad():
            for name, array in exact.items():
                getattr(self.smpl, name).copy_(torch.from_numpy(np.ascontiguousarray(array)))
        self.num_betas = num_betas
        self.shape_size = num_betas
        self.num_vertices = num_vertices
        self.face_vertex_ids: dict[str, int] = face

        # smplx's joints are SMPL's 24, then the face vertices, then the foot vertices (in
        # _SMPLX_FACE and _SMPLX_FEET order): where each of our points is among them.
        extra = [*_SMPLX_FACE.values(), *(_SMPLX_FEET.values() if feet else ())]
        where = {name: NUM_SMPL_JOINTS + i for i, name in enumerate(extra)}
        where |= {name: i for i, name in enumerate(BODY_JOINTS)}
        self.register_buffer(
            "_keypoint_index",
            torch.tensor([where[name] for name in self.keypoint_names]),
            persistent=False,
        )
        self.register_buffer(
            "_foot_index",
            torch.tensor(
                [where[name] for name in FOOT_KEYPOINTS] if feet else [], dtype=torch.long
            ),
            persistent=False,
        )
        self.has_foot_keypoints = feet
        self.register_buffer("faces", self.smpl.faces_tensor.clone(), persistent=False)
        self.to(device)

    def _face_vertices(self, given: Mapping[str, int] | None, num_vertices: int) -> dict[str, int]:
        names = tuple(SMPLH_FACE_VERTICES)
        if given is None:
            if num_vertices != SMPL_NUM_VERTICES:
                raise SmplFileError(
                    f"{self.model_path}: the mesh has {num_vertices} vertices, not SMPL's "
                    f"{SMPL_NUM_VERTICES}, so the SMPL-H face vertex ids do not apply; pass "
                    f"face_vertex_ids={{name: vertex id}} for {', '.join(names)}"
                )
            return dict(SMPLH_FACE_VERTICES)
        missing = [name for name in names if name not in given]
        unknown = sorted(set(given) - set(names))
        if missing or unknown:
            raise ValueError(
                f"face_vertex_ids must name exactly {', '.join(names)}; missing {missing}, "
                f"unknown {unknown}"
            )
        face = {name: int(given[name]) for name in names}
        outside = {name: i for name, i in face.items() if not 0 <= i < num_vertices}
        if outside:
            raise ValueError(
                f"face_vertex_ids {outside} are not vertices of {self.model_path} "
                f"(ids 0 to {num_vertices - 1})"
            )
        return face

    @property
    def device(self) -> torch.device:
        return self.smpl.v_template.device

    @property
    def dtype(self) -> torch.dtype:
        return self.smpl.v_template.dtype

    def betas(self, shape: Any, batch_size: int) -> torch.Tensor:
        """``pose.shape`` as (B, ``num_betas``) betas, checked (``None`` gives zeros)."""
        if shape is None:
            return torch.zeros(batch_size, self.num_betas, device=self.device, dtype=self.dtype)
        if isinstance(shape, Mapping):
            raise BodyPoseError(
                f"pose.shape is a dict; SMPL-format bodies take betas, a (B, {self.num_betas}) "
                "tensor (dict shapes are anny phenotypes), or None for the mean body"
            )
        betas = torch.as_tensor(shape, device=self.device).to(self.dtype)
        if betas.dim() != 2 or betas.shape[1] != self.num_betas:
            raise BodyPoseError(
                f"pose.shape has shape {tuple(betas.shape)}; this {self.backend} body expects "
                f"betas of shape (B, {self.num_betas}) (add a batch axis with x[None] for one "
                f"body; build the model with num_betas=... to use fewer)"
            )
        if betas.shape[0] not in (1, batch_size):
            raise BodyPoseError(
                f"pose.shape gives {betas.shape[0]} bodies for {batch_size} poses; "
                f"give 1 or {batch_size}"
            )
        if not bool(torch.isfinite(betas).all()):
            raise BodyPoseError("pose.shape (betas) has a NaN or infinite value")
        return betas.expand(batch_size, -1)

    def shape_from_vector(self, z: torch.Tensor) -> torch.Tensor:
        """Betas are unit-variance PCA coefficients already: ``z`` itself, checked."""
        z = torch.as_tensor(z, device=self.device).to(self.dtype)
        if z.dim() != 2 or z.shape[1] != self.shape_size:
            raise BodyPoseError(
                f"shape vector has shape {tuple(z.shape)}; expected (B, {self.shape_size})"
            )
        return z

    def forward(self, pose: BodyPose) -> BodyOutput:
        global_orient, body_pose, transl = self.check_pose(pose)
        batch = global_orient.shape[0]
        betas = self.betas(pose.shape, batch)
        hands = body_pose.new_zeros(batch, _NUM_HAND_JOINTS * 3)
        out = self.smpl(
            betas=betas,
            global_orient=global_orient,
            body_pose=torch.cat([body_pose.reshape(batch, -1), hands], dim=1),
        )
        # smplx leaves the pelvis where the rest mesh has it; ours goes to transl.
        shift = transl[:, None] - out.joints[:, :1]
        points = out.joints + shift
        return BodyOutput(
            vertices=out.vertices + shift,
            faces=self.faces,
            joints=points[:, : len(BODY_JOINTS)],
            keypoints=points[:, self._keypoint_index],
            foot_keypoints=points[:, self._foot_index] if self.has_foot_keypoints else None,
        )

    def extra_repr(self) -> str:
        return (
            f"backend={self.backend}, model_path={str(self.model_path)!r}, "
            f"vertices={self.num_vertices}, num_betas={self.num_betas}"
        )


def smil_model_path(profile: str | os.PathLike = "paper") -> Path:
    """The SMIL file ``paths.smil_model`` of ``profile`` points to (relative to the project root),
    or a :class:`SmplFileMissingError` saying how to get it."""
    from ..config import load_profile, project_root

    loaded = load_profile(profile)
    configured = loaded.paths.get("smil_model")
    if not configured:
        raise SmplFileMissingError(
            f"no SMIL model configured: `paths.smil_model` is not set in {loaded.source}. "
            + _SMIL_HINT
        )
    path = Path(configured).expanduser()
    if not path.is_absolute():
        path = project_root() / path
    if not path.is_file():
        raise SmplFileMissingError(
            f"{path}: no such file (`paths.smil_model` in {loaded.source}). " + _SMIL_HINT
        )
    return path


class SmilBody(SmplBody):
    """SMIL, the infant body model (SMPL topology, 20 betas); see the module docstring.

    Args:
        model_path: ``smil_web.pkl``; default: ``paths.smil_model`` of ``profile``.
        num_betas: default 20, all of SMIL's.
        profile: the profile whose ``paths.smil_model`` is used when ``model_path`` is None.
        device, dtype, face_vertex_ids: as for :class:`SmplBody`.
    """

    backend = "smil"

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        num_betas: int | None = SMIL_NUM_BETAS,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        face_vertex_ids: Mapping[str, int] | None = None,
        profile: str | os.PathLike = "paper",
    ) -> None:
        path = smil_model_path(profile) if model_path is None else Path(model_path)
        try:
            super().__init__(path, num_betas, device, dtype, face_vertex_ids)
        except SmplFileError as error:
            raise type(error)(f"{error}\n{_SMIL_HINT}") from None
