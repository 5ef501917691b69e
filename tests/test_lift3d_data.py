"""lift3d data: pose sets from anny bodies, .npz round trip, SyRIP 3D correction files and
MINI-RGBD joints_3D (the fixture in tests/data/minirgbd) in their published formats."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose.camera import project_with_intrinsics
from infantpose.data.minirgbd import MINIRGBD_INTRINSICS, load_minirgbd
from infantpose.data.syrip import DatasetError
from infantpose.data.syrip3d import LSP14_JOINTS, load_syrip3d
from infantpose.keypoints import H36M17, SYRIP12
from infantpose.lift3d import (
    PoseSet3D,
    body_joints_to_layout,
    load_pose_set,
    minirgbd_pose_set,
    root_of,
    sample_pose_set,
)


def test_root_of_layouts():
    assert root_of("h36m17") == (0,)
    assert root_of("syrip12") == (SYRIP12.index("left_hip"), SYRIP12.index("right_hip"))


def test_body_joints_to_layouts():
    joints = np.random.default_rng(0).normal(size=(2, 22, 3))
    h36m = body_joints_to_layout(joints, "h36m17")
    assert h36m.shape == (2, 17, 3) and np.isfinite(h36m).all()
    np.testing.assert_array_equal(h36m[:, 0], joints[:, 0])  # pelvis
    syrip = body_joints_to_layout(joints, "syrip12")
    np.testing.assert_array_equal(syrip, h36m[:, H36M17.indices(SYRIP12.joints)])
    with pytest.raises(ValueError, match="22, 3"):
        body_joints_to_layout(joints[:, :17], "h36m17")


@pytest.mark.parametrize("camera", ["render", "minirgbd"])
def test_sample_pose_set_is_metric_root_relative_and_projects(anny_body, camera, tmp_path):
    infants = sample_pose_set(anny_body, "infant", 6, seed=3, camera=camera)
    adults = sample_pose_set(anny_body, "adult", 6, seed=3, camera=camera, layout="syrip12")
    assert infants.poses_3d.shape == (6, 17, 3) and adults.poses_3d.shape == (6, 12, 3)
    np.testing.assert_allclose(infants.poses_3d[:, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(
        adults.poses_3d[:, list(root_of("syrip12"))].mean(1), 0.0, atol=1e-12
    )
    # Infants are small (< 0.8 m across), adults big; both in front of the camera.
    assert np.ptp(infants.poses_3d, axis=1).max() < 0.8 < np.ptp(adults.poses_3d, axis=1).max()
    assert (infants.root[:, 2] > 0).all() and (adults.root[:, 2] > infants.root[:, 2].min()).all()
    pixels = project_with_intrinsics(infants.poses_3d + infants.root[:, None], infants.intrinsics)
    np.testing.assert_allclose(pixels, infants.keypoints_2d, atol=1e-6)
    width, height = infants.image_size
    assert (infants.keypoints_2d[..., 0] > -1).all() and (
        infants.keypoints_2d[..., 0] < width
    ).all()
    assert (infants.keypoints_2d[..., 1] > -1).all() and (
        infants.keypoints_2d[..., 1] < height
    ).all()
    if camera == "minirgbd":
        np.testing.assert_allclose(infants.intrinsics[0], MINIRGBD_INTRINSICS)
    again = sample_pose_set(anny_body, "infant", 6, seed=3, camera=camera)
    np.testing.assert_array_equal(again.poses_3d, infants.poses_3d)
    loaded = load_pose_set(infants.save(tmp_path / "set.npz"))
    np.testing.assert_array_equal(loaded.keypoints_2d, infants.keypoints_2d)
    assert loaded.layout == "h36m17" and loaded.image_size == infants.image_size
    assert list(loaded.population) == ["infant"] * 6


def test_pose_set_checks_shapes(tmp_path):
    with pytest.raises(ValueError, match="layout syrip12 has 12"):
        PoseSet3D(
            np.zeros((2, 17, 3)),
            np.zeros((2, 17, 2)),
            np.zeros((2, 3, 3)),
            "syrip12",
            np.zeros((2, 3)),
        )
    np.savez(tmp_path / "bad.npz", poses_3d=np.zeros(3))
    with pytest.raises(ValueError, match="not a PoseSet3D"):
        load_pose_set(tmp_path / "bad.npz")


def write_syrip3d(root, count=5, mapped=True):
    """The three published files: correct_3D.npy, output_imgnames.npy, img_name700_map.npy."""
    rng = np.random.default_rng(0)
    (root / "data" / "SyRIP_3d_pred").mkdir(parents=True)
    (root / "data" / "survey_data").mkdir(parents=True)
    joints = rng.normal(0, 0.05, (count, 14, 3))
    np.save(root / "data" / "correct_3D.npy", joints)
    names = np.array([f"GB/image_{i:05d}.jpg" for i in range(count)])
    np.save(root / "data" / "SyRIP_3d_pred" / "output_imgnames.npy", names)
    if mapped:
        table = np.array(
            [["image_00001.jpg", "train00001.jpg"], ["image_00003.jpg", "test0042.jpg"]]
        )
        np.save(root / "data" / "survey_data" / "img_name700_map.npy", table)
    return joints


def test_load_syrip3d_orders_joints_and_split(tmp_path):
    joints = write_syrip3d(tmp_path)
    data = load_syrip3d(tmp_path, scale=2.0)
    assert len(data) == 5 and data.layout == "syrip12"
    # SYRIP12 slot by slot comes from the LSP-14 joint of the same name.
    for slot, name in enumerate(SYRIP12.joints):
        np.testing.assert_array_equal(
            data.poses[:, slot], 2.0 * joints[:, LSP14_JOINTS.index(name)]
        )
    assert list(data.split) == ["", "test", "", "train", ""]  # ZeDO-i: train200 images are its test
    assert data.syrip_names[1] == "train00001.jpg"
    assert data.select("test").tolist() == [1] and data.select("train").tolist() == [3]


def test_load_syrip3d_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"correct_3D.npy.*Infant-Postural-Symmetry"):
        load_syrip3d(tmp_path)
    write_syrip3d(tmp_path, mapped=False)
    assert (load_syrip3d(tmp_path).split == "").all()
    np.save(tmp_path / "data" / "correct_3D.npy", np.zeros((5, 17, 3)))
    with pytest.raises(DatasetError, match=r"\(N, 14, 3\)"):
        load_syrip3d(tmp_path)
    np.save(tmp_path / "data" / "correct_3D.npy", np.zeros((4, 14, 3)))
    with pytest.raises(DatasetError, match="4 poses"):
        load_syrip3d(tmp_path)


@pytest.mark.parametrize("convention", ["anatomical", "zedoi"])
def test_minirgbd_joints_to_h36m(fixtures_dir, convention):
    dataset = load_minirgbd(fixtures_dir / "minirgbd", sequences=["01"])
    pose_set = minirgbd_pose_set(dataset, convention=convention)
    assert pose_set.poses_3d.shape == (3, 17, 3)
    np.testing.assert_allclose(pose_set.poses_3d[:, 0], 0.0)
    np.testing.assert_allclose(pose_set.root, dataset.joints_3d[:, 0])  # pelvis = "global"
    ankle = H36M17.index("left_ankle")
    source = 10 if convention == "zedoi" else 7  # ZeDO-i takes leftToes, we take leftFoot
    np.testing.assert_allclose(
        pose_set.poses_3d[:, ankle], dataset.joints_3d[:, source] - dataset.joints_3d[:, 0]
    )
    np.testing.assert_allclose(
        pose_set.keypoints_2d[:, 0], dataset.keypoints_2d[:, 0, :2], atol=1e-4
    )
    small = minirgbd_pose_set(dataset, layout="syrip12")
    assert small.poses_3d.shape == (3, 12, 3)


def test_noisy_keypoints():
    from infantpose.lift3d import noisy_keypoints

    clean = np.zeros((200, 17, 2))
    noisy = noisy_keypoints(clean, 2.0, missing=0.1, seed=0)
    seen = np.isfinite(noisy).all(-1)
    assert 0.05 < 1 - seen.mean() < 0.15
    assert np.nanstd(noisy) == pytest.approx(2.0, rel=0.05)
    assert (clean == 0).all()


def test_experiment_reuses_a_given_adult_prior(anny_body):
    from infantpose import lift3d

    settings = lift3d.ExperimentProfile.smoke(adult_poses=40, test_poses=6, sizes=(8,))
    data = lift3d.make_datasets(anny_body, settings)
    rows, models = lift3d.run_lifting_experiment(data, settings, methods=("adult_zero_shot",))
    given = models["adult_zero_shot/0"]
    again, reused = lift3d.run_lifting_experiment(
        data, settings, methods=("adult_zero_shot",), adult_priors={0: given}
    )
    assert reused["adult_zero_shot/0"] is given
    assert again[0].mpjpe == rows[0].mpjpe


def test_experiment_runs_every_method_and_evaluates_on_the_set_asked(anny_body):
    from infantpose import lift3d

    settings = lift3d.ExperimentProfile.smoke(
        adult_poses=40, test_poses=6, validation_poses=5, sizes=(8,), augmented_poses=10
    )
    data = lift3d.make_datasets(anny_body, settings)
    assert len(data.validation) == 5 and len(data.test) == 6
    assert not np.allclose(data.validation.poses_3d[:5], data.test.poses_3d[:5])
    rows, models = lift3d.run_lifting_experiment(data, settings, on="validation")
    assert [r.method for r in rows] == list(lift3d.METHODS)
    for row in rows:
        assert np.isfinite([row.mpjpe, row.n_mpjpe, row.pa_mpjpe, row.bone_ratio]).all(), row.method
    assert models["info"]["evaluated_on"] == "validation" and models["info"]["poses"] == 5
    ratio = models["info"]["infant_size_ratio"]
    assert 0.2 < ratio < 0.6  # infants' bones are a fraction of adults'
    by = {r.method: r for r in rows}
    assert 0 < by["augmented"].augmented_share <= 1
    # The infant-size start brings the adult prior's bones to infant length.
    assert abs(by["adult_scaled"].bone_ratio - 1) < abs(by["adult_zero_shot"].bone_ratio - 1)
    with pytest.raises(ValueError, match="on must be"):
        lift3d.run_lifting_experiment(data, settings, on="train")
    configs = {"as set": settings.lift, "flat start": settings.lift.replace(init="flat")}
    compared = lift3d.compare_lift_configs(
        {"adult": models["adult_zero_shot/0"]}, data.validation, configs
    )
    assert [(r.prior, r.config) for r in compared] == [
        ("adult", "as set"),
        ("adult", "flat start"),
    ]


def test_lift3d_paper_numbers_sit_beside_rows_of_the_table():
    from infantpose.lift3d import METHODS, PAPER_MPJPE, PAPER_MPJPE_SOURCE, method_names

    assert PAPER_MPJPE and set(PAPER_MPJPE) <= set(METHODS)
    assert "ZeDO-Release" in PAPER_MPJPE_SOURCE  # a public source, by name
    names = method_names(mean_of=4)
    assert list(names) == list(METHODS) and names["finetune_mean"] == "fine-tune, mean of 4"
