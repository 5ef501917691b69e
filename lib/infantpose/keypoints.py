"""Every joint layout of the book in one place, and the conversions between them.

A :class:`Layout` is an ordered tuple of joint names plus the bones drawn between
them. Left/right flip pairs are derived from the names (``left_*`` ↔ ``right_*``),
so they can never disagree with the order.

Arrays of keypoints always have the joints on the second-to-last axis:
``(..., K, 2)`` for pixels, ``(..., K, 3)`` for COCO ``x, y, v`` or for 3D points.

:func:`convert` moves keypoints between layouts. The default ``"anatomical"`` convention
takes the anatomically closest joint; ``"udape"`` (SHIFT/UDAPE) and ``"zedoi"`` (ZeDO-i)
reproduce the papers' index lists, quirks included. Missing joints come out NaN, or
``0, 0, 0`` in COCO ``x, y, v`` arrays (``visibility=True``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Layout:
    """An ordered set of named joints and the bones between them."""

    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[str, str], ...]
    description: str = ""
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.joints)) != len(self.joints):
            raise ValueError(f"layout {self.name!r} repeats a joint name")
        index = {j: i for i, j in enumerate(self.joints)}
        for a, b in self.bones:
            if a not in index or b not in index:
                raise ValueError(f"layout {self.name!r}: bone ({a}, {b}) names an unknown joint")
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.joints)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Position of ``joint`` in this layout (KeyError naming the layout otherwise)."""
        try:
            return self._index[joint]
        except KeyError:
            raise KeyError(
                f"{joint!r} is not a joint of layout {self.name!r}; joints: {', '.join(self.joints)}"
            ) from None

    def indices(self, joints: list[str] | tuple[str, ...]) -> list[int]:
        return [self.index(j) for j in joints]

    @property
    def bone_indices(self) -> np.ndarray:
        """``(B, 2)`` integer array of joint indices, one row per bone."""
        return np.array([(self._index[a], self._index[b]) for a, b in self.bones], dtype=np.int64)

    @property
    def flip_pairs(self) -> list[tuple[int, int]]:
        """Index pairs ``(left, right)`` swapped by a horizontal flip."""
        pairs = []
        for i, joint in enumerate(self.joints):
            if joint.startswith("left_"):
                mirror = "right_" + joint[len("left_") :]
                if mirror in self._index:
                    pairs.append((i, self._index[mirror]))
        return pairs

    @property
    def flip_permutation(self) -> np.ndarray:
        """Index array ``p`` such that ``kpts[..., p, :]`` swaps left and right."""
        perm = np.arange(len(self.joints))
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def side(self, joint: str) -> str:
        """``"left"``, ``"right"`` or ``"center"`` from the joint name."""
        if joint.startswith("left_"):
            return "left"
        if joint.startswith("right_"):
            return "right"
        return "center"


COCO17 = Layout(
    name="coco17",
    joints=(
        "nose",
        "left_eye",
        "right_eye",
        "left_ear",
        "right_ear",
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
        "left_hip",
        "right_hip",
        "left_knee",
        "right_knee",
        "left_ankle",
        "right_ankle",
    ),
    # The order of the COCO `categories[0].skeleton` (converted from 1-based indices).
    bones=(
        ("left_ankle", "left_knee"),
        ("left_knee", "left_hip"),
        ("right_ankle", "right_knee"),
        ("right_knee", "right_hip"),
        ("left_hip", "right_hip"),
        ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"),
        ("left_shoulder", "right_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("right_shoulder", "right_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_elbow", "right_wrist"),
        ("left_eye", "right_eye"),
        ("nose", "left_eye"),
        ("nose", "right_eye"),
        ("left_eye", "left_ear"),
        ("right_eye", "right_ear"),
        ("left_ear", "left_shoulder"),
        ("right_ear", "right_shoulder"),
    ),
    description="MS-COCO person keypoints; SyRIP uses the same 17 points and order.",
)

#: Per-keypoint OKS sigmas of COCO-17 (pycocotools' defaults, in COCO17 order).
COCO17_OKS_SIGMAS = (
    np.array(
        [
            0.26,
            0.25,
            0.25,
            0.35,
            0.35,
            0.79,
            0.79,
            0.72,
            0.72,
            0.62,
            0.62,
            1.07,
            1.07,
            0.87,
            0.87,
            0.89,
            0.89,
        ]
    )
    / 10.0
)

#: The COCO ``categories`` entry for ``person`` (1-based skeleton, as in the published files).
COCO_PERSON_CATEGORY = {
    "id": 1,
    "name": "person",
    "supercategory": "person",
    "keypoints": list(COCO17.joints),
    "skeleton": [[int(a) + 1, int(b) + 1] for a, b in COCO17.bone_indices],
}


def _bones_from_parents(
    joints: tuple[str, ...], parents: tuple[int, ...]
) -> tuple[tuple[str, str], ...]:
    """``(parent, child)`` name pairs from a kinematic-tree parent list (-1 = root)."""
    return tuple((joints[p], joints[c]) for c, p in enumerate(parents) if p >= 0)


# ---------------------------------------------------------------------------
# SMPL and SMIL (MINI-RGBD)
# ---------------------------------------------------------------------------

_SMPL_JOINTS = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)
# The SMPL kinematic tree (smplx ``kintree_table``); SMIL, the infant model, shares it.
_SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

SMPL24 = Layout(
    name="smpl24",
    joints=_SMPL_JOINTS,
    bones=_bones_from_parents(_SMPL_JOINTS, _SMPL_PARENTS),
    description="The 24 SMPL joints (smplx names); SURREAL's keypoint2d/keypoint3d use this order.",
)

#: The joint names of MINI-RGBD's ``joints_2Ddep``/``joints_3D`` files, in file order.
MINIRGBD25_FILE_NAMES = (
    "global",
    "leftThigh",
    "rightThigh",
    "spine",
    "leftCalf",
    "rightCalf",
    "spine1",
    "leftFoot",
    "rightFoot",
    "spine2",
    "leftToes",
    "rightToes",
    "neck",
    "leftShoulder",
    "rightShoulder",
    "head",
    "leftUpperArm",
    "rightUpperArm",
    "leftForeArm",
    "rightForeArm",
    "leftHand",
    "rightHand",
    "leftFingers",
    "rightFingers",
    "noseVertex",
)

# SMIL is SMPL's topology, so we name its joints like SMPL24 where they are the same joint.
# Traps when reading the files: the file's "spine"/"spine1"/"spine2" are our spine1/2/3,
# its "leftShoulder" is the collar and its "leftUpperArm" is the shoulder joint.
_MINIRGBD_JOINTS = (
    "pelvis",  # global
    "left_hip",  # leftThigh
    "right_hip",
    "spine1",  # spine
    "left_knee",  # leftCalf
    "right_knee",
    "spine2",  # spine1
    "left_ankle",  # leftFoot
    "right_ankle",
    "spine3",  # spine2
    "left_toes",  # leftToes (SMPL's left_foot)
    "right_toes",
    "neck",
    "left_collar",  # leftShoulder
    "right_collar",
    "head",
    "left_shoulder",  # leftUpperArm
    "right_shoulder",
    "left_elbow",  # leftForeArm
    "right_elbow",
    "left_wrist",  # leftHand
    "right_wrist",
    "left_fingers",  # leftFingers (SMPL's left_hand)
    "right_fingers",
    "nose",  # noseVertex: a mesh vertex, not a joint of the kinematic tree
)

MINIRGBD25 = Layout(
    name="minirgbd25",
    joints=_MINIRGBD_JOINTS,
    # SMPL's tree plus the nose vertex hung on the head.
    bones=_bones_from_parents(_MINIRGBD_JOINTS, (*_SMPL_PARENTS, 15)),
    description="MINI-RGBD (Hesse et al.): 24 SMIL joints + the nose vertex, in file order.",
)

# ---------------------------------------------------------------------------
# Human3.6M, the SHIFT/UDAPE 16-joint layout and the ZeDO-i SyRIP 12-joint layout
# ---------------------------------------------------------------------------

H36M17 = Layout(
    name="h36m17",
    joints=(
        "pelvis",
        "right_hip",
        "right_knee",
        "right_ankle",
        "left_hip",
        "left_knee",
        "left_ankle",
        "spine",
        "thorax",
        "neck",  # Human3.6M calls it "Neck/Nose": it sits between the throat and the nose
        "head",  # the head top
        "left_shoulder",
        "left_elbow",
        "left_wrist",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
    ),
    bones=(
        ("pelvis", "right_hip"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
        ("pelvis", "left_hip"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("pelvis", "spine"),
        ("spine", "thorax"),
        ("thorax", "neck"),
        ("neck", "head"),
        ("thorax", "left_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("thorax", "right_shoulder"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
    ),
    description="The 17-joint Human3.6M subset used by 3D lifting methods (VideoPose3D, ZeDO).",
)

UDA16 = Layout(
    name="uda16",
    # SHIFT/UDAPE's code names slot 0 "right ankle" (LSP names), but SURREAL, MINI-RGBD and
    # SyRIP all store the subject's LEFT ankle/knee/hip/wrist/elbow/shoulder in slots
    # 0/1/2/10/11/12. We name each slot by what is stored in it.
    joints=(
        "left_ankle",
        "left_knee",
        "left_hip",
        "right_hip",
        "right_knee",
        "right_ankle",
        "pelvis",
        "thorax",
        "neck",
        "head",
        "left_wrist",
        "left_elbow",
        "left_shoulder",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
    ),
    # The 13 bones of SHIFT's skeleton chains, in the order and direction of its Pose-NDF
    # prior (bone vector = first joint − second joint). Pelvis and thorax are not drawn
    # (SyRIP fills them with the nose), so this graph leaves them isolated.
    bones=(
        ("head", "neck"),
        ("neck", "left_hip"),
        ("neck", "right_hip"),
        ("neck", "left_shoulder"),
        ("neck", "right_shoulder"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
    ),
    description="SHIFT/UDAPE 'Body16' order (SURREAL → MINI-RGBD/SyRIP), named by what is stored.",
)

SYRIP12 = Layout(
    name="syrip12",
    joints=(
        "right_hip",
        "right_knee",
        "right_ankle",
        "left_hip",
        "left_knee",
        "left_ankle",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
    ),
    # Limbs plus the torso quadrilateral (a cycle, like COCO's torso): no centre joint exists.
    bones=(
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
        ("left_hip", "right_hip"),
        ("left_shoulder", "right_shoulder"),
        ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"),
    ),
    description="ZeDO-i's SyRIP 3D order: Human3.6M-17 without pelvis, spine, thorax, neck, head.",
)

#: Every layout by name.
LAYOUTS: dict[str, Layout] = {
    layout.name: layout for layout in (COCO17, SMPL24, MINIRGBD25, H36M17, UDA16, SYRIP12)
}


def get_layout(name: str | Layout) -> Layout:
    """The layout called ``name`` (case-insensitive); a :class:`Layout` is returned as is."""
    if isinstance(name, Layout):
        return name
    key = str(name).lower()
    if key in LAYOUTS:
        return LAYOUTS[key]
    hint = difflib.get_close_matches(key, LAYOUTS, n=1)
    did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
    raise KeyError(
        f"unknown keypoint layout {name!r}.{did_you_mean} Known layouts: {', '.join(LAYOUTS)}"
    )


# ---------------------------------------------------------------------------
# Flips: the one home of left-right mirroring, in images and in 3D
# ---------------------------------------------------------------------------


def _flip_permutation(flip: str | Layout | Sequence[tuple[int, int]], count: int) -> np.ndarray:
    if isinstance(flip, str | Layout):
        return get_layout(flip).flip_permutation
    perm = np.arange(count)
    for a, b in flip:
        perm[a], perm[b] = b, a
    return perm


def hflip_keypoints(
    keypoints: Any,
    image_width: float,
    flip: str | Layout | Sequence[tuple[int, int]] = "coco17",
) -> np.ndarray:
    """Keypoints of the horizontally flipped image: ``x → width − 1 − x``, left ↔ right swapped.

    ``keypoints`` is ``(..., K, ≥2)``; ``flip`` the layout, or its ``(left, right)`` index pairs
    (a data set's own ``flip_pairs``). Pixel centres are at integer coordinates, as in HRNet's
    ``fliplr_joints`` and mmpose. Without the swap, the left wrist of the flipped image would
    carry the label of the right one, and a model trained on it would learn to confuse the sides.
    """
    flipped = np.array(keypoints, dtype=np.float64)
    flipped[..., 0] = image_width - 1 - flipped[..., 0]
    return flipped[..., _flip_permutation(flip, flipped.shape[-2]), :]


def mirror_poses(poses: Any, layout: str | Layout) -> Any:
    """``(..., J, 3)`` poses mirrored in the body's x = 0 plane: ``x → −x``, left ↔ right
    swapped, so that a mirrored pose is again a valid pose of ``layout`` (numpy or torch)."""
    mirrored = poses[..., get_layout(layout).flip_permutation, :]
    mirrored[..., 0] = -mirrored[..., 0]
    return mirrored


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------

#: Where a target joint comes from: one source joint, the mean of several, or None (missing).
JointSource = str | tuple[str, ...] | None


def _is_torch(x: Any) -> bool:
    # Checked by module name so that numpy users never pay for importing torch.
    return type(x).__module__.split(".")[0] == "torch"


@dataclass(frozen=True)
class Conversion:
    """How to build each joint of ``dst`` from joints of ``src``.

    ``sources[i]`` lists the ``src`` joints averaged into ``dst.joints[i]``: one name is a
    copy, several are a mean (a pelvis as the mid-hip), none means the joint is missing.
    Calling the conversion on ``(..., K_src, D)`` points (numpy or torch) returns
    ``(..., K_dst, D)`` points; see :meth:`__call__` for how missing joints come out.
    """

    src: Layout
    dst: Layout
    convention: str
    sources: tuple[tuple[str, ...], ...]
    notes: str = ""

    def __post_init__(self) -> None:
        if len(self.sources) != len(self.dst):
            raise ValueError(
                f"conversion {self.name}: {len(self.sources)} sources for {len(self.dst)} joints"
            )
        for group in self.sources:
            self.src.indices(group)  # raises a KeyError naming the layout on a typo

    @classmethod
    def from_mapping(
        cls,
        src: Layout,
        dst: Layout,
        mapping: dict[str, JointSource],
        convention: str,
        notes: str = "",
    ) -> Conversion:
        """Build from ``{dst_joint: src_joint | (src_joint, ...) | None}`` covering every dst joint.

        Every target joint must be listed, missing ones as ``None``, so that no joint is
        dropped silently.
        """
        unknown = [j for j in mapping if j not in dst.joints]
        absent = [j for j in dst.joints if j not in mapping]
        if unknown or absent:
            raise ValueError(
                f"mapping {src.name}→{dst.name} ({convention}): unknown target joints {unknown}, "
                f"unlisted target joints {absent} (list missing ones as None)"
            )
        sources = []
        for joint in dst.joints:
            source = mapping[joint]
            if source is None:
                sources.append(())
            elif isinstance(source, str):
                sources.append((source,))
            else:
                sources.append(tuple(source))
        return cls(src, dst, convention, tuple(sources), notes)

    @property
    def name(self) -> str:
        return f"{self.src.name}→{self.dst.name} ({self.convention})"

    @property
    def source_indices(self) -> tuple[tuple[int, ...], ...]:
        """Per target joint, the indices of the averaged source joints (empty = missing)."""
        return tuple(tuple(self.src.indices(group)) for group in self.sources)

    @property
    def missing(self) -> tuple[str, ...]:
        """Target joints with no source."""
        return tuple(j for j, group in zip(self.dst.joints, self.sources, strict=True) if not group)

    @property
    def index_list(self) -> list[int]:
        """The plain index list ``points[..., index_list, :]`` of a pure reordering.

        This is the form the papers' code uses; it exists only when every target joint is
        a copy of exactly one source joint.
        """
        not_copies = [
            j for j, group in zip(self.dst.joints, self.sources, strict=True) if len(group) != 1
        ]
        if not_copies:
            raise ValueError(
                f"conversion {self.name} is not a plain reordering: {', '.join(not_copies)} "
                "are missing or averaged. Use source_indices instead."
            )
        return [group[0] for group in self.source_indices]

    def __call__(self, points: Any, *, visibility: bool = False) -> Any:
        """Convert ``(..., K_src, D)`` points into ``(..., K_dst, D)`` points.

        With ``visibility=False`` every channel is a coordinate: missing joints are NaN
        and averaged joints are the mean. With ``visibility=True`` the last channel is a
        COCO visibility flag or a confidence, as in ``x, y, v`` arrays: missing joints are
        ``0, 0, 0`` (COCO's "not labelled") and an averaged joint takes the smallest
        visibility of its sources (a mid-hip is only as visible as the less visible hip; with
        an unlabelled source its coordinates mean nothing, and v = 0 says so).
        Integer input comes back as float. Torch tensors stay tensors (device, autograd).
        """
        torch_input = _is_torch(points)
        if torch_input:
            if not points.is_floating_point():
                points = points.float()
        else:
            points = np.asarray(points)
            if not np.issubdtype(points.dtype, np.floating):
                points = points.astype(np.float64)
        if points.ndim < 2 or points.shape[-2] != len(self.src):
            raise ValueError(
                f"conversion {self.name} expects points of shape (..., {len(self.src)}, D) in "
                f"{self.src.name} order, got shape {tuple(points.shape)}"
            )
        if visibility and points.shape[-1] < 2:
            raise ValueError("visibility=True needs at least one coordinate before the v channel")
        columns = [self._joint(points, group, visibility) for group in self.source_indices]
        if torch_input:
            import torch

            return torch.stack(columns, dim=-2)
        return np.stack(columns, axis=-2)

    @staticmethod
    def _joint(points: Any, group: tuple[int, ...], visibility: bool) -> Any:
        torch_input = _is_torch(points)
        template = points[..., 0, :]
        if not group:
            fill = 0.0 if visibility else float("nan")
            return (
                template.new_full(template.shape, fill)
                if torch_input
                else np.full_like(template, fill)
            )
        if len(group) == 1:
            return points[..., group[0], :]
        picked = points[..., list(group), :]
        mean = picked.mean(-2)
        if not visibility:
            return mean
        if torch_input:
            import torch

            return torch.cat([mean[..., :-1], picked[..., -1].amin(-1)[..., None]], dim=-1)
        return np.concatenate([mean[..., :-1], picked[..., -1].min(-1)[..., None]], axis=-1)

    def inverse(self) -> Conversion:
        """The conversion back, ``dst → src``, for joints that were plain copies.

        Each source joint is read from the first target slot that copied it; source joints
        that were dropped or only averaged come back missing.
        """
        mapping: dict[str, JointSource] = dict.fromkeys(self.src.joints)
        for dst_joint, group in zip(self.dst.joints, self.sources, strict=True):
            if len(group) == 1 and mapping[group[0]] is None:
                mapping[group[0]] = dst_joint
        return Conversion.from_mapping(
            self.dst, self.src, mapping, f"inverse of {self.convention}", self.notes
        )


#: Registered conversions by ``(src, dst, convention)``.
CONVERSIONS: dict[tuple[str, str, str], Conversion] = {}

#: The convention every registered pair has; the papers' own orders have their own names.
DEFAULT_CONVENTION = "anatomical"


def register_conversion(conversion: Conversion) -> Conversion:
    """Add ``conversion`` to :data:`CONVERSIONS` (an existing key is an error)."""
    key = (conversion.src.name, conversion.dst.name, conversion.convention)
    if key in CONVERSIONS:
        raise ValueError(f"conversion {conversion.name} is already registered")
    CONVERSIONS[key] = conversion
    return conversion


def _register(
    src: Layout, dst: Layout, convention: str, mapping: dict[str, JointSource], notes: str = ""
) -> Conversion:
    return register_conversion(Conversion.from_mapping(src, dst, mapping, convention, notes))


def get_conversion(
    src: str | Layout, dst: str | Layout, convention: str = DEFAULT_CONVENTION
) -> Conversion:
    """The registered conversion ``src → dst`` in ``convention``."""
    src, dst = get_layout(src), get_layout(dst)
    key = (src.name, dst.name, convention)
    if key in CONVERSIONS:
        return CONVERSIONS[key]
    same_pair = [c for (s, d, c) in CONVERSIONS if (s, d) == (src.name, dst.name)]
    if same_pair:
        raise KeyError(
            f"no {convention!r} conversion {src.name}→{dst.name}; "
            f"available conventions: {', '.join(same_pair)}"
        )
    pairs = sorted({f"{s}→{d}" for (s, d, _) in CONVERSIONS})
    raise KeyError(
        f"no conversion registered from {src.name!r} to {dst.name!r}. "
        f"Registered: {', '.join(pairs)}. Add one with register_conversion(Conversion.from_mapping(...))."
    )


def convert(
    points: Any,
    src: str | Layout,
    dst: str | Layout,
    convention: str = DEFAULT_CONVENTION,
    *,
    visibility: bool = False,
) -> Any:
    """Convert ``(..., K_src, D)`` keypoints from layout ``src`` to layout ``dst``.

    ``convention="anatomical"`` (the default) takes the anatomically closest joint;
    ``"udape"`` and ``"zedoi"`` reproduce the index lists of the SHIFT/UDAPE and ZeDO-i
    code. Missing joints are NaN, or ``0, 0, 0`` with ``visibility=True`` (COCO ``x, y, v``
    arrays); see :meth:`Conversion.__call__`.
    """
    return get_conversion(src, dst, convention)(points, visibility=visibility)


# --- SMPL / SMIL → COCO-17 --------------------------------------------------

_register(
    SMPL24,
    COCO17,
    "anatomical",
    {
        # SMPL's joints have no face points; they would need mesh vertices.
        "nose": None,
        "left_eye": None,
        "right_eye": None,
        "left_ear": None,
        "right_ear": None,
        "left_shoulder": "left_shoulder",  # the shoulder joint, not the collar
        "right_shoulder": "right_shoulder",
        "left_elbow": "left_elbow",
        "right_elbow": "right_elbow",
        "left_wrist": "left_wrist",
        "right_wrist": "right_wrist",
        # SMPL hip joints sit deeper and lower than the hips COCO annotators click.
        "left_hip": "left_hip",
        "right_hip": "right_hip",
        "left_knee": "left_knee",
        "right_knee": "right_knee",
        "left_ankle": "left_ankle",
        "right_ankle": "right_ankle",
    },
)

# --- → UDA16 (SHIFT/UDAPE) --------------------------------------------------

_UDA16_LIMBS = {
    joint: joint for joint in UDA16.joints if joint not in ("pelvis", "thorax", "neck", "head")
}
_UDA16_FROM_SMPL_TREE = {
    **_UDA16_LIMBS,
    "pelvis": "pelvis",
    "thorax": "spine3",
    "neck": "neck",
    "head": "head",
}

_register(SMPL24, UDA16, "anatomical", _UDA16_FROM_SMPL_TREE)
_register(
    SMPL24,
    UDA16,
    "udape",
    {
        **_UDA16_FROM_SMPL_TREE,
        # TLlib's SURREAL list (7,4,1,2,5,8,0,9,12,15,20,18,13,14,19,21) uses the collars.
        "left_shoulder": "left_collar",
        "right_shoulder": "right_collar",
    },
    notes="SURREAL as preprocessed by TLlib and used by UDAPE/SHIFT.",
)

_register(MINIRGBD25, UDA16, "anatomical", _UDA16_FROM_SMPL_TREE)
_register(
    MINIRGBD25,
    UDA16,
    "udape",
    {
        **_UDA16_FROM_SMPL_TREE,
        # SHIFT's list (7,4,1,2,5,8,6,9,12,15,20,18,16,17,19,21) puts the file's "spine1"
        # in the pelvis slot (unused by PCK and the prior). Its shoulders are the anatomical
        # UpperArm joints, unlike SURREAL's collars.
        "pelvis": "spine2",
    },
    notes="SHIFT's MINI-RGBD loader.",
)

_register(
    COCO17,
    UDA16,
    "anatomical",
    {
        **_UDA16_LIMBS,
        "pelvis": ("left_hip", "right_hip"),
        "thorax": ("left_shoulder", "right_shoulder"),
        "neck": None,  # COCO has no neck; the mid-shoulder point is already the thorax
        "head": "nose",  # SHIFT scores the nose as the SyRIP "head"
    },
)
_register(
    COCO17,
    UDA16,
    "udape",
    {
        **_UDA16_LIMBS,
        # SHIFT's SyRIP list (15,13,11,12,14,16,0,0,0,0,9,7,5,6,8,10): pelvis, thorax, neck
        # and head are all the nose (a visibility vector zeroing slots 6-8 exists but is unused).
        "pelvis": "nose",
        "thorax": "nose",
        "neck": "nose",
        "head": "nose",
    },
    notes="SHIFT's SyRIP loader.",
)

# --- → H36M17 ---------------------------------------------------------------

# Torso joints as ZeDO-i picks them from MINI-RGBD; SMPL shares the tree and our names.
_H36M17_FROM_SMPL_TREE = {
    "pelvis": "pelvis",
    "right_hip": "right_hip",
    "right_knee": "right_knee",
    "right_ankle": "right_ankle",
    "left_hip": "left_hip",
    "left_knee": "left_knee",
    "left_ankle": "left_ankle",
    "spine": "spine1",  # the lowest spine joint (MINI-RGBD file: "spine")
    "thorax": "spine3",  # MINI-RGBD file: "spine2"
    "neck": "neck",
    "head": "head",  # the head joint at the skull's centre, not H36M's head top
    "left_shoulder": "left_shoulder",
    "left_elbow": "left_elbow",
    "left_wrist": "left_wrist",
    "right_shoulder": "right_shoulder",
    "right_elbow": "right_elbow",
    "right_wrist": "right_wrist",
}

_register(SMPL24, H36M17, "anatomical", _H36M17_FROM_SMPL_TREE)
_register(MINIRGBD25, H36M17, "anatomical", _H36M17_FROM_SMPL_TREE)
_register(
    MINIRGBD25,
    H36M17,
    "zedoi",
    {
        **_H36M17_FROM_SMPL_TREE,
        # ZeDO-i's list [0,2,5,11,1,4,10,3,9,12,15,13,18,20,14,19,21]: its "ankles" are the
        # toes and its "shoulders" are the collars. Keep it to compare with the paper.
        "right_ankle": "right_toes",
        "left_ankle": "left_toes",
        "left_shoulder": "left_collar",
        "right_shoulder": "right_collar",
    },
    notes="ZeDO-i's mini_process.py.",
)

_register(
    COCO17,
    H36M17,
    "anatomical",
    {
        # The approximations of mmpose's convert_keypoint_definition (COCO → Human3.6M).
        "pelvis": ("left_hip", "right_hip"),
        "right_hip": "right_hip",
        "right_knee": "right_knee",
        "right_ankle": "right_ankle",
        "left_hip": "left_hip",
        "left_knee": "left_knee",
        "left_ankle": "left_ankle",
        # Mean of the four torso corners = the midpoint of pelvis and thorax.
        "spine": ("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
        "thorax": ("left_shoulder", "right_shoulder"),
        "neck": "nose",  # H36M's "Neck/Nose" joint
        "head": ("left_eye", "right_eye"),  # a stand-in for H36M's head top
        "left_shoulder": "left_shoulder",
        "left_elbow": "left_elbow",
        "left_wrist": "left_wrist",
        "right_shoulder": "right_shoulder",
        "right_elbow": "right_elbow",
        "right_wrist": "right_wrist",
    },
    notes="As mmpose's convert_keypoint_definition, except visibility: min instead of mean.",
)

# --- MINI-RGBD-25 → COCO-17 -----------------------------------------------------

# The anatomical shoulder (MINI-RGBD's "UpperArm", not the collar), elbow, wrist, hip ("Thigh"),
# knee ("Calf") and ankle ("Foot"); MINI-RGBD's nose vertex is COCO's nose. Eyes and ears have
# no source (v = 0 after conversion).
_register(
    MINIRGBD25,
    COCO17,
    "anatomical",
    {
        "nose": "nose",
        **dict.fromkeys(("left_eye", "right_eye", "left_ear", "right_ear")),
        **{joint: joint for joint in COCO17.joints[5:]},
    },
    notes="MINI-RGBD's 2D joints as COCO keypoints (infantpose.data.minirgbd).",
)

# --- COCO-17 → SyRIP-12 (ZeDO-i) ---------------------------------------------

# ZeDO-i reorders COCO into LSP-12 with [-1,-3,-5,-6,-4,-2,-7,-9,-11,-12,-10,-8], then
# with [2,1,0,3,4,5,-3,-2,-1,-4,-5,-6]; the composition is this plain, anatomical reorder.
_SYRIP12_FROM_COCO17 = {joint: joint for joint in SYRIP12.joints}
_register(COCO17, SYRIP12, "anatomical", _SYRIP12_FROM_COCO17)
_register(COCO17, SYRIP12, "zedoi", _SYRIP12_FROM_COCO17, notes="ZeDO-i's lib/dataset/syrip.py.")
