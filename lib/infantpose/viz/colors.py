"""The one colour scheme for skeletons, used by every figure of the book.

The colour of a bone (or joint) follows from its *side* and its *body part*, both read from the
joint names, so every :class:`~infantpose.keypoints.Layout` gets consistent colours without a
per-layout table:

* **Side** picks the hue family: ``left_*`` limbs are blue, ``right_*`` limbs are orange, and
  the centre line (and bones that cross it, such as hip–hip) is neutral grey. A bone is
  left (right) when one of its joints is left (right) and none is on the other side.
* **Body part** picks the shade inside the family. A joint belongs to the first part whose
  keyword starts one of the words of its name (``left_big_toe`` → ``toe`` → leg):

  ======  =====================================================================
  part    keywords
  ======  =====================================================================
  head    head, neck, nose, eye, ear, mouth, lip, chin, jaw, face
  arm     shoulder, collar, clavicle, elbow, arm, forearm, wrist, hand, finger, thumb
  leg     hip, thigh, knee, shin, calf, ankle, heel, foot, toe
  torso   anything else (pelvis, spine, thorax, chest, …)
  ======  =====================================================================

  A bone whose two joints share a part gets that part; a bone joining two parts
  (shoulder–hip, ear–shoulder, pelvis–hip) counts as torso.

Mirror bones therefore always share a shade and differ only in hue, and the same limb has the
same colour in COCO-17, SMPL-24 or any other layout. The hues are Okabe–Ito colours (blue
``#0072B2``/sky blue ``#56B4E9`` and vermillion ``#D55E00``/orange ``#E69F00``), which stay
distinguishable under the common colour-vision deficiencies; the extra shades are lighter or
darker versions of them. :data:`PREDICTION_COLOR` (Okabe–Ito reddish purple) is kept out of
the skeleton palette for drawing a second pose, e.g. a prediction over the ground truth.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..keypoints import Layout

#: Body parts in shade order: the shade index of a limb is its part's position here.
PARTS = ("leg", "arm", "torso", "head")
#: Sides in hue-family order.
SIDES = ("left", "right", "center")

#: ``PALETTE[side][part]`` is the hex colour of a limb.
PALETTE: dict[str, dict[str, str]] = {
    "left": {"leg": "#0072B2", "arm": "#56B4E9", "torso": "#3D8EC9", "head": "#9DCFF0"},
    "right": {"leg": "#D55E00", "arm": "#E69F00", "torso": "#DF7F1A", "head": "#F3C36B"},
    "center": {"leg": "#4D4D4D", "arm": "#5F5F5F", "torso": "#454545", "head": "#8A8A8A"},
}

#: A colour outside the skeleton palette, for a second pose drawn in one colour.
PREDICTION_COLOR = "#CC79A7"

# Checked in this order; a word of the joint name must start with the keyword.
_PART_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("head", ("head", "neck", "nose", "eye", "ear", "mouth", "lip", "chin", "jaw", "face")),
    (
        "arm",
        (
            "shoulder",
            "collar",
            "clavicle",
            "elbow",
            "arm",
            "forearm",
            "wrist",
            "hand",
            "finger",
            "thumb",
        ),
    ),
    ("leg", ("hip", "thigh", "knee", "shin", "calf", "ankle", "heel", "foot", "toe")),
)


class Limb(NamedTuple):
    """Side and body part of a bone or joint; together they fix its colour."""

    side: str
    part: str

    @property
    def shade(self) -> int:
        """Shade index inside the hue family (equal for mirror limbs)."""
        return PARTS.index(self.part)

    @property
    def color(self) -> str:
        return PALETTE[self.side][self.part]


def joint_part(joint: str) -> str:
    """Body part (``"head"``, ``"arm"``, ``"leg"`` or ``"torso"``) of a joint name."""
    words = re.findall(r"[a-z]+", joint.lower())
    for part, keywords in _PART_KEYWORDS:
        if any(word.startswith(keyword) for word in words for keyword in keywords):
            return part
    return "torso"


def bone_limb(layout: Layout, bone: tuple[str, str]) -> Limb:
    """Side and part of one bone, given by its two joint names."""
    a, b = bone
    sides = {layout.side(a), layout.side(b)} - {"center"}
    side = sides.pop() if len(sides) == 1 else "center"
    part_a, part_b = joint_part(a), joint_part(b)
    return Limb(side, part_a if part_a == part_b else "torso")


def bone_limbs(layout: Layout) -> list[Limb]:
    """One :class:`Limb` per bone of ``layout``, in bone order."""
    return [bone_limb(layout, bone) for bone in layout.bones]


def joint_limbs(layout: Layout) -> list[Limb]:
    """One :class:`Limb` per joint of ``layout``, in joint order."""
    return [Limb(layout.side(j), joint_part(j)) for j in layout.joints]


def bone_colors(layout: Layout) -> list[str]:
    """Hex colour of every bone of ``layout``, in bone order."""
    return [limb.color for limb in bone_limbs(layout)]


def joint_colors(layout: Layout) -> list[str]:
    """Hex colour of every joint of ``layout``, in joint order."""
    return [limb.color for limb in joint_limbs(layout)]
