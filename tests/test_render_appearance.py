"""Body appearance: part labels on a stick-figure body, deterministic appearance draws within the
documented palettes, and vertex colours where the outfit says they should be."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose.body.joints import BODY_JOINTS, BODY_PARENTS
from infantpose.render.appearance import (
    OUTFITS,
    PATTERNS,
    SKIN_TONES,
    BodyAppearance,
    body_parts,
    sample_body_appearance,
    vertex_colors,
)

# A rest pose (y up, facing +z, metres, pelvis at the origin) of the 22 body joints.
REST = {
    "pelvis": (0.0, 0.0, 0.0), "left_hip": (0.06, -0.04, 0.0), "right_hip": (-0.06, -0.04, 0.0),
    "spine1": (0.0, 0.06, 0.0), "left_knee": (0.07, -0.2, 0.0), "right_knee": (-0.07, -0.2, 0.0),
    "spine2": (0.0, 0.12, 0.0), "left_ankle": (0.07, -0.35, 0.0),
    "right_ankle": (-0.07, -0.35, 0.0), "spine3": (0.0, 0.18, 0.0),
    "left_foot": (0.07, -0.37, 0.05), "right_foot": (-0.07, -0.37, 0.05), "neck": (0.0, 0.26, 0.0),
    "left_collar": (0.04, 0.23, 0.0), "right_collar": (-0.04, 0.23, 0.0), "head": (0.0, 0.3, 0.0),
    "left_shoulder": (0.09, 0.23, 0.0), "right_shoulder": (-0.09, 0.23, 0.0),
    "left_elbow": (0.18, 0.23, 0.0), "right_elbow": (-0.18, 0.23, 0.0),
    "left_wrist": (0.27, 0.23, 0.0), "right_wrist": (-0.27, 0.23, 0.0),
}  # fmt: skip
JOINTS = np.array([REST[name] for name in BODY_JOINTS])


def _bone_vertices() -> tuple[np.ndarray, np.ndarray]:
    """Vertices at 25/50/75 % along every parent→child bone, and the parent each belongs to."""
    points, owners = [], []
    for child, parent in enumerate(BODY_PARENTS):
        if parent < 0:
            continue
        for t in (0.25, 0.5, 0.75):
            points.append(JOINTS[parent] + t * (JOINTS[child] - JOINTS[parent]))
            owners.append(parent)
    return np.array(points), np.array(owners)


@pytest.fixture(scope="module")
def parts():
    vertices, _ = _bone_vertices()
    head_top = JOINTS[BODY_JOINTS.index("head")] + [0.0, 0.05, 0.0]  # the skull, past the joint
    return body_parts(np.vstack([vertices, head_top]), JOINTS)


def test_every_bone_point_gets_its_parent_joint_label(parts):
    _, owners = _bone_vertices()
    names = [BODY_JOINTS[i] for i in parts.labels[:-1]]
    mismatched = [
        (n, BODY_JOINTS[o]) for n, o in zip(names, owners, strict=True) if n != BODY_JOINTS[o]
    ]
    assert not mismatched
    assert BODY_JOINTS[parts.labels[-1]] == "head"  # a leaf continues its parent bone
    assert parts.regions["head"][-1] and parts.regions["hair"][-1]  # the crown
    # From the skull point (y = 0.35) down to 3/4 of the way from ankle to foot (y = -0.365).
    assert parts.height == pytest.approx(0.35 + 0.365)
    for region in parts.regions.values():
        assert region.shape == parts.labels.shape and region.dtype == bool
    assert parts.mask("left_hip").sum() == 3  # the left thigh's three points


def test_garment_regions_cover_what_their_names_say(parts):
    vertices = parts.rest_vertices
    thigh = parts.mask("left_hip", "right_hip")
    shin = parts.mask("left_knee", "right_knee")
    regions = parts.regions
    assert (regions["trousers"][thigh | shin]).all() and not regions["shorts"][shin].any()
    assert not (regions["top"] & regions["diaper"]).any()  # the waist splits them
    assert not regions["diaper"][shin].any()
    forearms = parts.mask("left_elbow", "right_elbow")
    assert regions["long_sleeves"][forearms].all() and not regions["short_sleeves"][forearms].any()
    assert (vertices[regions["diaper"], 1] < vertices[regions["top"], 1].min()).all()


def test_same_seed_same_appearance_within_the_palettes():
    draws = [sample_body_appearance(np.random.default_rng(s)) for s in range(200)]
    assert draws[3] == sample_body_appearance(np.random.default_rng(3))
    tones = np.array(SKIN_TONES, dtype=float)
    for a in draws:
        assert a.outfit in ("diaper", "onesie", "top_leggings") and a.pattern in PATTERNS
        skin = np.array(a.skin_tone, dtype=float)
        # between two neighbouring tones, tinted by at most 3 % per channel
        assert (skin >= tones.min(0) * 0.97 - 1).all() and (skin <= tones.max(0) * 1.03 + 1).all()
        assert 0.015 <= a.pattern_scale <= 0.05 and a.sleeves in ("none", "short", "long")
        assert all(0 <= c <= 255 for colour in a.colors for c in colour)
    assert {a.outfit for a in draws} == {"diaper", "onesie", "top_leggings"}
    assert 0.35 < np.mean([a.hair_color is not None for a in draws]) < 0.65  # p = 0.5
    only = sample_body_appearance(np.random.default_rng(0), outfit_weights=(0, 1, 0))
    assert only.outfit == "onesie"


def test_unknown_outfit_or_pattern_names_the_choices():
    with pytest.raises(ValueError, match="unknown outfit 'kimono'.*" + ", ".join(OUTFITS)):
        sample_body_appearance(np.random.default_rng(0), outfits=("kimono",))
    with pytest.raises(ValueError, match="unknown pattern 'paisley'"):
        sample_body_appearance(np.random.default_rng(0), patterns=("paisley",))


def test_vertex_colours_put_skin_and_cloth_where_the_outfit_says(parts):
    skin = np.array((200, 150, 120)) / 255
    cloth = np.array((20, 40, 230)) / 255
    for outfit in OUTFITS:
        appearance = BodyAppearance((200, 150, 120), outfit=outfit, colors=((20, 40, 230),))
        colours = vertex_colors(appearance, parts)
        assert colours.shape == (len(parts.labels), 3) and colours.dtype == np.float32
        assert 0.0 <= colours.min() and colours.max() <= 1.0
        head = parts.regions["head"]
        np.testing.assert_allclose(
            colours[head], np.broadcast_to(skin, colours[head].shape), rtol=0.05
        )
        clothed = np.abs(colours - cloth).max(-1) < 0.04
        if outfit == "none":
            assert not clothed.any()
        elif outfit == "diaper":
            assert (clothed == parts.regions["diaper"]).all()
        else:
            assert clothed[parts.regions["top"]].all()  # every outfit but these two has a top


def test_patterns_mix_the_two_colours_and_solid_does_not(parts):
    grid = np.stack(np.meshgrid(*[np.linspace(-0.2, 0.2, 23)] * 3), -1).reshape(-1, 3)
    dense = body_parts(grid, JOINTS)
    dense.regions["top"][:] = True  # the whole cloud is clothing, to see the pattern
    main, second = (250, 250, 250), (10, 10, 10)
    for pattern in PATTERNS:
        a = BodyAppearance((200, 150, 120), "onesie", pattern, (main, second), 0.05, seed=1)
        grey = vertex_colors(a, dense)[dense.regions["top"]].mean(-1)
        dark = (grey < 0.5).mean()
        if pattern == "solid":
            assert dark == 0
        else:
            assert 0.02 < dark < 0.98, pattern
