"""The named body joints every body model of the book is posed by, and where they sit in each backend.

Our body joints are SMPL's 24 without the two hand joints: the 22 joints of SMPL-X's body
(pelvis + its 21-joint ``body_pose``), named as in :data:`infantpose.keypoints.SMPL24`.
The pelvis is the root: its rotation is a pose's ``global_orient``, so a pose's ``body_pose``
covers the other 21 (:data:`POSE_JOINTS`), in this order.

Backends map each joint to their own skeleton here, so the mapping is data a test can read:

* SMPL / SMIL (``smplx``): the joint of the same name, ``SMPL24.index(name)``.
* anny: :data:`ANNY_BONES` (the table is repeated with its reasons in
  :mod:`infantpose.body.anny_backend`).
"""

from __future__ import annotations

from ..keypoints import SMPL24, Layout

#: Our body joints: pelvis (the root) and the 21 joints a ``body_pose`` rotates.
BODY_JOINTS: tuple[str, ...] = SMPL24.joints[:22]

#: The joints of a ``body_pose``, in its order (every body joint but the pelvis).
POSE_JOINTS: tuple[str, ...] = BODY_JOINTS[1:]

#: Parent of each body joint in :data:`BODY_JOINTS` order (-1 for the pelvis); SMPL's tree.
_SMPL_PARENT = {child: parent for parent, child in SMPL24.bones}
BODY_PARENTS: tuple[int, ...] = tuple(
    BODY_JOINTS.index(_SMPL_PARENT[j]) if j in _SMPL_PARENT else -1 for j in BODY_JOINTS
)

#: The body joints as a drawable layout (bones from the kinematic tree).
BODY22 = Layout(
    name="body22",
    joints=BODY_JOINTS,
    bones=tuple(
        (BODY_JOINTS[p], j) for j, p in zip(BODY_JOINTS, BODY_PARENTS, strict=True) if p >= 0
    ),
    description="The book's body joints: SMPL-24 without the hands (SMPL-X body order).",
)

#: The six foot points anny's COCO regressor gives after the 17 COCO keypoints (COCO-WholeBody order).
FOOT_KEYPOINTS: tuple[str, ...] = (
    "left_big_toe",
    "right_big_toe",
    "left_small_toe",
    "right_small_toe",
    "left_heel",
    "right_heel",
)

#: anny bones that carry each body joint: the joint's rotation is applied to every bone listed
#: and the joint's position is the mean of their heads. Bones not listed keep their rest pose.
ANNY_BONES: dict[str, tuple[str, ...]] = {
    "pelvis": ("root",),
    "left_hip": ("upperleg01.L",),
    "right_hip": ("upperleg01.R",),
    "spine1": ("spine04",),
    "left_knee": ("lowerleg01.L",),
    "right_knee": ("lowerleg01.R",),
    "spine2": ("spine02",),
    "left_ankle": ("foot.L",),
    "right_ankle": ("foot.R",),
    "spine3": ("spine01",),
    "left_foot": tuple(f"toe{i}-1.L" for i in range(1, 6)),
    "right_foot": tuple(f"toe{i}-1.R" for i in range(1, 6)),
    "neck": ("neck01",),
    "left_collar": ("clavicle.L",),
    "right_collar": ("clavicle.R",),
    "head": ("head",),
    "left_shoulder": ("upperarm01.L",),
    "right_shoulder": ("upperarm01.R",),
    "left_elbow": ("lowerarm01.L",),
    "right_elbow": ("lowerarm01.R",),
    "left_wrist": ("wrist.L",),
    "right_wrist": ("wrist.R",),
}
