"""Layouts and conversions: graph structure, flips, the papers' index lists, round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose import keypoints as kp
from infantpose.keypoints import (
    COCO17,
    CONVERSIONS,
    H36M17,
    LAYOUTS,
    MINIRGBD25,
    MINIRGBD25_FILE_NAMES,
    SMPL24,
    SYRIP12,
    UDA16,
    Conversion,
    convert,
    get_conversion,
    get_layout,
)

ALL_LAYOUTS = list(LAYOUTS.values())


def _components(layout: kp.Layout) -> list[set[str]]:
    """Connected components of the bone graph (union-find on joint names)."""
    parent = {j: j for j in layout.joints}

    def find(j: str) -> str:
        while parent[j] != j:
            j = parent[j]
        return j

    for a, b in layout.bones:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for j in layout.joints:
        groups.setdefault(find(j), set()).add(j)
    return list(groups.values())


def _mirror(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[len("left_") :]
    if name.startswith("right_"):
        return "left_" + name[len("right_") :]
    return name


# --- layouts ------------------------------------------------------------------


def test_registry_holds_every_layout_under_its_name():
    assert set(LAYOUTS) == {"coco17", "smpl24", "minirgbd25", "h36m17", "uda16", "syrip12"}
    assert [len(LAYOUTS[n]) for n in ("coco17", "smpl24", "minirgbd25", "h36m17", "uda16")] == [
        17,
        24,
        25,
        17,
        16,
    ]
    assert get_layout("COCO17") is COCO17
    assert get_layout(H36M17) is H36M17


@pytest.mark.parametrize("layout", [SMPL24, MINIRGBD25, H36M17], ids=lambda layout: layout.name)
def test_kinematic_layouts_are_trees(layout):
    assert len(_components(layout)) == 1
    assert len(layout.bones) == len(layout) - 1


@pytest.mark.parametrize("layout", [COCO17, SYRIP12], ids=lambda layout: layout.name)
def test_layouts_with_a_torso_cycle_are_connected(layout):
    assert len(_components(layout)) == 1


def test_uda16_draws_a_tree_and_leaves_pelvis_and_thorax_out():
    components = sorted(_components(UDA16), key=len)
    assert components[:2] == [{"pelvis"}, {"thorax"}] or components[:2] == [{"thorax"}, {"pelvis"}]
    assert len(components) == 3 and len(components[2]) == 14
    assert len(UDA16.bones) == 13  # SHIFT's Pose-NDF bones


def test_smpl24_bones_are_the_smpl_kinematic_tree():
    parents = {child: parent for parent, child in SMPL24.bones}
    assert parents["left_collar"] == parents["right_collar"] == parents["neck"] == "spine3"
    assert parents["left_shoulder"] == "left_collar"
    assert parents["head"] == "neck"
    assert "pelvis" not in parents


@pytest.mark.parametrize("layout", ALL_LAYOUTS, ids=lambda layout: layout.name)
def test_flip_permutation_is_an_involution_mapping_left_to_right(layout):
    perm = layout.flip_permutation
    np.testing.assert_array_equal(perm[perm], np.arange(len(layout)))
    for i, joint in enumerate(layout.joints):
        assert layout.joints[perm[i]] == _mirror(joint)


def test_minirgbd_names_follow_the_file_semantics():
    assert len(MINIRGBD25_FILE_NAMES) == len(MINIRGBD25) == 25
    ours = dict(zip(MINIRGBD25_FILE_NAMES, MINIRGBD25.joints, strict=True))
    assert ours["global"] == "pelvis"
    assert ours["leftThigh"] == "left_hip"
    assert ours["leftCalf"] == "left_knee"
    assert ours["leftFoot"] == "left_ankle"
    assert ours["leftToes"] == "left_toes"
    assert ours["leftShoulder"] == "left_collar"  # the file's shoulder is the collar
    assert ours["leftUpperArm"] == "left_shoulder"
    assert ours["leftForeArm"] == "left_elbow"
    assert ours["leftHand"] == "left_wrist"
    assert ours["rightFingers"] == "right_fingers"
    assert ours["noseVertex"] == "nose"
    # SMIL shares SMPL's tree: same spine names and the same bones for the 24 joints.
    assert ours["spine"] == "spine1" and ours["spine2"] == "spine3"
    np.testing.assert_array_equal(MINIRGBD25.bone_indices[:23], SMPL24.bone_indices)


# --- conversions reproduce the papers' index lists ---------------------------------

# The lists exactly as printed in the SHIFT/UDAPE and ZeDO-i code.
REFERENCE_INDEX_LISTS = [
    ("smpl24", "uda16", "udape", (7, 4, 1, 2, 5, 8, 0, 9, 12, 15, 20, 18, 13, 14, 19, 21)),
    ("minirgbd25", "uda16", "udape", (7, 4, 1, 2, 5, 8, 6, 9, 12, 15, 20, 18, 16, 17, 19, 21)),
    ("coco17", "uda16", "udape", (15, 13, 11, 12, 14, 16, 0, 0, 0, 0, 9, 7, 5, 6, 8, 10)),
    (
        "minirgbd25",
        "h36m17",
        "zedoi",
        (0, 2, 5, 11, 1, 4, 10, 3, 9, 12, 15, 13, 18, 20, 14, 19, 21),
    ),
]


@pytest.mark.parametrize(("src", "dst", "convention", "reference"), REFERENCE_INDEX_LISTS)
def test_paper_conventions_reproduce_the_reference_index_lists(src, dst, convention, reference):
    conversion = get_conversion(src, dst, convention)
    assert conversion.index_list == list(reference)
    points = np.random.default_rng(0).normal(size=(len(get_layout(src)), 3))
    np.testing.assert_array_equal(convert(points, src, dst, convention), points[list(reference)])


def test_coco_to_syrip12_is_zedoi_two_step_reorder():
    coco = np.random.default_rng(1).normal(size=(17, 2))
    lsp12 = coco[[-1, -3, -5, -6, -4, -2, -7, -9, -11, -12, -10, -8]]
    zedoi = lsp12[[2, 1, 0, 3, 4, 5, -3, -2, -1, -4, -5, -6]]
    np.testing.assert_array_equal(convert(coco, COCO17, SYRIP12, "zedoi"), zedoi)
    np.testing.assert_array_equal(convert(coco, COCO17, SYRIP12), zedoi)
    # ... and it is a true anatomical reorder: every joint keeps its name.
    assert [COCO17.joints[i] for i in get_conversion("coco17", "syrip12").index_list] == list(
        SYRIP12.joints
    )


def _differing_joints(a: Conversion, b: Conversion) -> set[str]:
    return {j for j, x, y in zip(a.dst.joints, a.sources, b.sources, strict=True) if x != y}


def test_zedoi_and_anatomical_minirgbd_differ_exactly_at_ankles_and_shoulders():
    zedoi = get_conversion("minirgbd25", "h36m17", "zedoi")
    anatomical = get_conversion("minirgbd25", "h36m17")
    assert _differing_joints(zedoi, anatomical) == {
        "left_ankle",
        "right_ankle",
        "left_shoulder",
        "right_shoulder",
    }

    def file_name(conversion, joint):
        return MINIRGBD25_FILE_NAMES[conversion.source_indices[H36M17.index(joint)][0]]

    assert file_name(zedoi, "left_ankle") == "leftToes"
    assert file_name(anatomical, "left_ankle") == "leftFoot"
    assert file_name(zedoi, "right_shoulder") == "rightShoulder"
    assert file_name(anatomical, "right_shoulder") == "rightUpperArm"


@pytest.mark.parametrize(
    ("src", "differences"),
    [
        ("smpl24", {"left_shoulder", "right_shoulder"}),  # SURREAL uses the collars
        ("minirgbd25", {"pelvis"}),  # SHIFT's MINI-RGBD pelvis slot holds spine1 (file name)
        ("coco17", {"pelvis", "thorax", "neck"}),  # SyRIP fills them with the nose
    ],
)
def test_udape_and_anatomical_uda16_differ_only_at_documented_joints(src, differences):
    udape = get_conversion(src, "uda16", "udape")
    anatomical = get_conversion(src, "uda16")
    assert _differing_joints(udape, anatomical) == differences


@pytest.mark.parametrize("key", sorted(CONVERSIONS), ids="-".join)
def test_conversions_commute_with_left_right_flip(key):
    # A left/right mix-up in any mapping breaks this.
    conversion = CONVERSIONS[key]
    points = np.random.default_rng(2).normal(size=(3, len(conversion.src), 2))
    flipped_first = conversion(points[..., conversion.src.flip_permutation, :])
    flipped_after = conversion(points)[..., conversion.dst.flip_permutation, :]
    # allclose: a mean of 4 joints sums them in a different order once flipped.
    np.testing.assert_allclose(flipped_first, flipped_after, rtol=1e-12, atol=1e-15)


def test_smpl_to_coco_leaves_the_face_missing():
    coco = convert(np.random.default_rng(3).normal(size=(24, 3)), "smpl24", "coco17")
    face = COCO17.indices(["nose", "left_eye", "right_eye", "left_ear", "right_ear"])
    assert np.isnan(coco[face]).all()
    assert np.isfinite(np.delete(coco, face, axis=0)).all()
    assert get_conversion("smpl24", "coco17").missing == tuple(COCO17.joints[i] for i in face)


def test_missing_joints_are_zero_with_visibility():
    coco = np.random.default_rng(4).uniform(1, 100, size=(17, 3))
    coco[:, 2] = 2
    uda = convert(coco, "coco17", "uda16", visibility=True)
    np.testing.assert_array_equal(uda[UDA16.index("neck")], [0.0, 0.0, 0.0])
    assert np.isnan(convert(coco, "coco17", "uda16")[UDA16.index("neck")]).all()


def test_coco_to_h36m_matches_mmpose_convert_keypoint_definition():
    coco = np.random.default_rng(5).uniform(0, 200, size=(4, 17, 2))
    # mmpose's demo/body3d_pose_lifter_demo.py, written out independently.
    expected = np.zeros((4, 17, 2))
    expected[:, 0] = (coco[:, 11] + coco[:, 12]) / 2
    expected[:, 8] = (coco[:, 5] + coco[:, 6]) / 2
    expected[:, 7] = (expected[:, 0] + expected[:, 8]) / 2
    expected[:, 10] = (coco[:, 1] + coco[:, 2]) / 2
    expected[:, [1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16]] = coco[
        :, [12, 14, 16, 11, 13, 15, 0, 5, 7, 9, 6, 8, 10]
    ]
    np.testing.assert_allclose(convert(coco, "coco17", "h36m17"), expected, rtol=1e-12)


def test_averaged_joint_takes_the_smaller_visibility():
    coco = np.zeros((17, 3))
    coco[COCO17.index("left_hip")] = [10, 20, 2]
    coco[COCO17.index("right_hip")] = [30, 40, 1]
    pelvis = convert(coco, "coco17", "h36m17", visibility=True)[H36M17.index("pelvis")]
    np.testing.assert_array_equal(pelvis, [20, 30, 1])


@pytest.mark.parametrize("convention", ["anatomical", "udape"])
def test_coco_uda16_round_trip_restores_limbs_and_nose(convention):
    coco = np.random.default_rng(6).normal(size=(5, 17, 2))
    there = get_conversion("coco17", "uda16", convention)
    back = there.inverse()(there(coco))
    kept = [j for j in COCO17.joints if "eye" not in j and "ear" not in j]
    np.testing.assert_array_equal(back[:, COCO17.indices(kept)], coco[:, COCO17.indices(kept)])
    assert np.isnan(back[:, COCO17.indices(["left_eye", "right_ear"])]).all()


def test_minirgbd_h36m_round_trip_restores_the_mapped_joints():
    mini = np.random.default_rng(7).normal(size=(25, 3))
    conversion = get_conversion("minirgbd25", "h36m17")
    back = conversion.inverse()(conversion(mini))
    used = sorted({i for group in conversion.source_indices for i in group})
    np.testing.assert_array_equal(back[used], mini[used])
    assert np.isnan(np.delete(back, used, axis=0)).all()


def test_batch_dimensions_are_kept():
    points = np.random.default_rng(8).normal(size=(2, 3, 24, 3))
    out = convert(points, "smpl24", "h36m17")
    assert out.shape == (2, 3, 17, 3)
    np.testing.assert_array_equal(out[1, 2], convert(points[1, 2], "smpl24", "h36m17"))


def test_integer_input_comes_back_as_float():
    out = convert(np.ones((17, 3), dtype=np.int64), "coco17", "uda16")
    assert out.dtype == np.float64


def test_torch_tensors_stay_tensors_with_gradients():
    torch = pytest.importorskip("torch")
    points = torch.randn(2, 17, 3, dtype=torch.float64, requires_grad=True)
    out = convert(points, "coco17", "uda16", visibility=True)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 16, 3)
    expected = convert(points.detach().numpy(), "coco17", "uda16", visibility=True)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    out.sum().backward()
    assert points.grad is not None
    nan_out = convert(torch.zeros(17, 2, dtype=torch.int64), "coco17", "uda16")
    assert nan_out.dtype == torch.float32 and torch.isnan(nan_out[UDA16.index("neck")]).all()


# --- readable errors ------------------------------------------------------------


def test_unknown_layout_suggests_the_closest_name():
    with pytest.raises(KeyError, match="Did you mean 'coco17'"):
        get_layout("coco")


def test_unknown_joint_names_the_layout():
    with pytest.raises(KeyError, match="'left_toe' is not a joint of layout 'minirgbd25'"):
        MINIRGBD25.index("left_toe")


def test_missing_conversion_lists_what_exists():
    with pytest.raises(KeyError, match="no conversion registered from 'coco17' to 'smpl24'"):
        get_conversion("coco17", "smpl24")
    with pytest.raises(KeyError, match="available conventions: anatomical, udape"):
        get_conversion("coco17", "uda16", "zedoi")


def test_wrong_joint_count_says_the_expected_shape():
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, D\) in coco17 order, got shape \(16, 2\)"):
        convert(np.zeros((16, 2)), "coco17", "uda16")


def test_mappings_must_list_every_target_joint():
    with pytest.raises(ValueError, match="unlisted target joints"):
        Conversion.from_mapping(COCO17, SYRIP12, {"right_hip": "right_hip"}, "partial")
    with pytest.raises(KeyError, match="'left_hipp' is not a joint"):
        Conversion.from_mapping(COCO17, SYRIP12, {j: "left_hipp" for j in SYRIP12.joints}, "typo")


def test_index_list_refuses_averaged_conversions():
    with pytest.raises(ValueError, match="pelvis, spine, thorax, head are missing or averaged"):
        _ = get_conversion("coco17", "h36m17").index_list


def test_registering_a_conversion_twice_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        kp.register_conversion(get_conversion("coco17", "syrip12", "zedoi"))


def test_hflip_swaps_sides_and_twice_is_identity():
    from infantpose.keypoints import hflip_keypoints
    from infantpose.worked_examples import infant_pose_2d

    pose = infant_pose_2d()
    flipped = hflip_keypoints(pose, 256)
    left, right = COCO17.index("left_wrist"), COCO17.index("right_wrist")
    assert flipped[left, 0] == pytest.approx(255 - pose[right, 0])
    assert flipped[left, 2] == pose[right, 2]  # visibility travels with the joint
    # The flipped infant's left shoulder is still on the image's right.
    assert flipped[COCO17.index("left_shoulder"), 0] > flipped[COCO17.index("right_shoulder"), 0]
    np.testing.assert_allclose(hflip_keypoints(flipped, 256), pose)


def test_hflip_with_a_data_sets_flip_pairs_is_the_layouts_flip():
    from infantpose.keypoints import hflip_keypoints

    joints = np.random.default_rng(1).uniform(0, 50, (17, 3))
    once = hflip_keypoints(joints, 64, COCO17.flip_pairs)
    np.testing.assert_allclose(once[2, 0], 63 - joints[1, 0])  # left_eye → right_eye slot
    np.testing.assert_array_equal(once, hflip_keypoints(joints, 64, "coco17"))
    np.testing.assert_allclose(hflip_keypoints(once, 64, COCO17.flip_pairs), joints)


def test_mirror_poses_is_the_same_in_numpy_and_torch_and_twice_is_identity():
    import torch

    from infantpose.keypoints import H36M17, mirror_poses

    poses = np.random.default_rng(2).normal(size=(4, 17, 3))
    mirrored = mirror_poses(poses, "h36m17")
    left, right = H36M17.index("left_knee"), H36M17.index("right_knee")
    np.testing.assert_array_equal(mirrored[:, left], poses[:, right] * [-1.0, 1.0, 1.0])
    np.testing.assert_array_equal(mirror_poses(mirrored, H36M17), poses)
    np.testing.assert_array_equal(mirror_poses(torch.as_tensor(poses), H36M17).numpy(), mirrored)
