"""The made-up poses and helpers of chapter 00 (infantpose.worked_examples)."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose.data.coco import validate
from infantpose.keypoints import COCO17, H36M17, MINIRGBD25, get_conversion
from infantpose.metrics import keypoint_ap, mpjpe, oks, pa_mpjpe
from infantpose.worked_examples import (
    WORKED_LENGTHS_PX,
    add_noise,
    conversion_differences,
    expected_oks_gaussian,
    infant_pose_2d,
    infant_pose_3d,
    infant_pose_h36m17,
    mirror,
    noisy_predictions,
    rotation_matrix,
    seed_predictions,
    similarity_transform,
    worked_coco_set,
)

# --- the poses ----------------------------------------------------------------------


def test_infant_pose_2d_has_the_requested_size_and_all_three_visibilities():
    pose = infant_pose_2d((100.0, 50.0), 80.0)
    assert pose.shape == (17, 3)
    extent = pose[:, :2].max(0) - pose[:, :2].min(0)
    assert extent[1] == pytest.approx(0.94 * 80.0)
    np.testing.assert_allclose((pose[:, :2].max(0) + pose[:, :2].min(0)) / 2, [100.0, 50.0])
    assert set(pose[:, 2]) == {0.0, 1.0, 2.0}
    # It faces the camera: its left shoulder is on the image's right.
    assert pose[COCO17.index("left_shoulder"), 0] > pose[COCO17.index("right_shoulder"), 0]


def test_infant_pose_3d_is_infant_sized_and_left_is_plus_x():
    pose = infant_pose_3d()
    assert pose.shape == (len(MINIRGBD25), 3)
    assert 0.55 < pose[:, 1].max() - pose[:, 1].min() < 0.7  # metres, feet to nose
    for joint in ("hip", "knee", "shoulder", "elbow", "wrist"):
        assert pose[MINIRGBD25.index(f"left_{joint}"), 0] > 0
        assert pose[MINIRGBD25.index(f"right_{joint}"), 0] < 0
    assert infant_pose_3d() is not infant_pose_3d()  # callers may modify their copy


def test_zedoi_and_anatomical_h36m17_differ_only_at_ankles_and_shoulders():
    anatomical, zedoi = infant_pose_h36m17(), infant_pose_h36m17("zedoi")
    moved = {H36M17.joints[k] for k in np.flatnonzero(np.abs(anatomical - zedoi).sum(-1) > 0)}
    assert moved == {"left_ankle", "right_ankle", "left_shoulder", "right_shoulder"}


def test_conversion_differences_lists_the_zedoi_quirks():
    table = conversion_differences(
        get_conversion("minirgbd25", "h36m17", "anatomical"),
        get_conversion("minirgbd25", "h36m17", "zedoi"),
    )
    assert table.index.name == "h36m17 joint"
    assert list(table.columns) == ["anatomical", "zedoi"]
    rows = table["zedoi"].to_dict()
    assert rows == {
        "right_ankle": "right_toes",
        "left_ankle": "left_toes",
        "left_shoulder": "left_collar",
        "right_shoulder": "right_collar",
    }


def test_conversion_differences_names_averaged_and_missing_joints():
    table = conversion_differences(
        get_conversion("coco17", "uda16", "anatomical"), get_conversion("coco17", "uda16", "udape")
    )
    rows = table
    assert rows.loc["pelvis", "anatomical"] == "left_hip + right_hip"
    assert rows.loc["neck", "anatomical"] == "—"
    assert "head" not in rows.index  # the nose in both
    with pytest.raises(ValueError, match="same layouts"):
        conversion_differences(
            get_conversion("coco17", "uda16"), get_conversion("coco17", "h36m17")
        )


# --- noise, flips, rigid motions ------------------------------------------------------


def test_add_noise_moves_coordinates_only_with_per_sample_sigma():
    rng = np.random.default_rng(0)
    points = np.zeros((2, 5000, 17, 3))
    points[..., 2] = 2
    noisy = add_noise(points, np.array([[1.0], [3.0]]), rng)
    np.testing.assert_array_equal(noisy[..., 2], 2)
    assert noisy[0, ..., :2].std() == pytest.approx(1.0, rel=0.02)
    assert noisy[1, ..., :2].std() == pytest.approx(3.0, rel=0.02)
    assert (points[..., :2] == 0).all()  # the input is not modified
    assert add_noise(points, 1.0, rng, coords=3)[..., 2].std() > 0.5


def test_rotation_matrix_is_proper_and_turns_the_right_way():
    for axis in "xyz":
        rotation = rotation_matrix(37.0, axis)
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(rotation_matrix(90, "z") @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(rotation_matrix(90, "x") @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(rotation_matrix(90, "y") @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    with pytest.raises(ValueError, match="axis"):
        rotation_matrix(10, "w")


def test_similarity_copy_has_zero_pa_mpjpe_and_mirror_needs_reflection():
    gt = infant_pose_h36m17()
    moved = similarity_transform(gt, angle_deg=40, scale=1.3, translation=(0.2, 0.1, 1.5))
    assert mpjpe(moved, gt) > 0.5
    assert pa_mpjpe(moved, gt) < 1e-12
    mirrored = mirror(gt)
    assert pa_mpjpe(mirrored, gt, allow_reflection=True) < 1e-12
    assert pa_mpjpe(mirrored, gt) > 0.01  # 1 cm: the made-up pose is far from symmetric
    np.testing.assert_array_equal(mirror(mirrored), gt)


# --- OKS and the COCO set --------------------------------------------------------------


def test_expected_oks_matches_monte_carlo_and_limits():
    rng = np.random.default_rng(1)
    gt = infant_pose_2d()
    gt[:, 2] = 2
    area = 60.0**2
    for noise in (1.0, 4.0, 10.0):
        draws = add_noise(np.broadcast_to(gt, (20000, 17, 3)), noise, rng)
        assert oks(draws, gt, area).mean() == pytest.approx(
            expected_oks_gaussian(noise, area), abs=0.005
        )
    assert expected_oks_gaussian(0.0, area) == 1.0
    assert expected_oks_gaussian(1e6, area) < 1e-6
    # A larger person tolerates the same pixel error better; broadcasting over both.
    curve = expected_oks_gaussian(np.array([[2.0], [8.0]]), np.array([40.0**2, 160.0**2]))
    assert curve.shape == (2, 2) and (curve[:, 0] < curve[:, 1]).all()
    # Only visible joints count.
    visible = np.zeros(17, bool)
    visible[0] = True
    assert expected_oks_gaussian(3.0, area, visible=visible) == pytest.approx(
        1 / (1 + 9 / (area * 0.052**2))
    )


def test_worked_coco_set_is_valid_with_medium_and_large_people():
    worked = worked_coco_set(np.random.default_rng(0), 6)
    validate(worked.coco)
    assert worked.sizes == ("medium", "large") * 3
    assert worked.poses.shape == (6, 17, 3)
    side = np.sqrt(worked.areas)
    assert ((side > 32) & (side < 96))[0::2].all() and (side > 96)[1::2].all()
    boxes = worked.bboxes
    assert (boxes[:, :2] >= 0).all() and (boxes[:, :2] + boxes[:, 2:] <= 256).all()
    # COCO stores the unlabelled right ear as 0, 0, 0; the true pose keeps its place.
    ear = COCO17.index("right_ear")
    assert worked.coco.annotations[0]["keypoints"][3 * ear : 3 * ear + 3] == [0.0, 0.0, 0]
    assert worked.poses[0, ear, 0] > 0
    assert set(WORKED_LENGTHS_PX) == {"medium", "large"}


def test_predictions_give_ap_one_without_noise_and_less_with_it():
    rng = np.random.default_rng(0)
    worked = worked_coco_set(rng, 10)
    exact, predicted = noisy_predictions(worked, 0.0, rng)
    np.testing.assert_allclose(predicted, worked.poses[..., :2])
    assert keypoint_ap(worked.coco.to_dict(), exact).ap == 1.0
    noisy, _ = noisy_predictions(worked, 4.0, rng)
    result = keypoint_ap(worked.coco.to_dict(), noisy)
    assert 0 < result.ap < 1
    assert result.ap_medium < result.ap_large  # same pixel noise hurts small people more
    assert all(p["keypoints"][2::3] == [1.0] * 17 for p in noisy)
    # With the oracle score, AP at one threshold ≈ the share of people above it.
    scores = np.array([p["score"] for p in noisy])
    assert result.ap50 == pytest.approx((np.floor(100 * (scores > 0.5).mean()) + 1) / 101, abs=1e-9)
    constant, _ = noisy_predictions(worked, 4.0, rng, score="constant")
    assert {p["score"] for p in constant} == {1.0}
    with pytest.raises(ValueError, match="oracle"):
        noisy_predictions(worked, 1.0, rng, score="best")


def test_seed_predictions_share_the_test_difficulty_across_seeds():
    rng = np.random.default_rng(0)
    gt = infant_pose_h36m17()
    pred = seed_predictions(gt, rng, num_seeds=4, num_samples=300, typical_noise=0.02)
    assert pred.shape == (4, 300, 17, 3)
    errors = mpjpe(pred, np.broadcast_to(gt, pred.shape), reduce="per_sample")
    # The same samples are hard for every seed: per-sample errors correlate across seeds.
    assert np.corrcoef(errors)[np.triu_indices(4, 1)].min() > 0.5
    assert 0.01 < errors.mean() < 0.05
