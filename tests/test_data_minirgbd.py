"""MINI-RGBD loader, on the fixture in tests/data/minirgbd: sequences 01 and 11, frames 0-2,
in the published layout, joints of a stick-figure infant projected with the real intrinsics."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from infantpose.config import load_profile
from infantpose.data.minirgbd import (
    MINIRGBD_INTRINSICS,
    MINIRGBD_SPLITS,
    DatasetError,
    load_minirgbd,
    minirgbd_conversion,
    minirgbd_root,
)
from infantpose.keypoints import COCO17, MINIRGBD25


@pytest.fixture
def minirgbd_dir(fixtures_dir):
    return fixtures_dir / "minirgbd"


def test_load_arrays_and_paths(minirgbd_dir):
    root = minirgbd_dir
    data = load_minirgbd(root, sequences=["01", 11])
    assert len(data) == 6
    assert data.keypoints_2d.shape == (6, 25, 3) and data.joints_3d.shape == (6, 25, 3)
    assert data.sequences.tolist() == ["01"] * 3 + ["11"] * 3
    assert data.frames.tolist() == [0, 1, 2] * 2
    raw = np.loadtxt(root / "01" / "joints_3D" / "syn_joints_3D_00001.txt")
    np.testing.assert_array_equal(data.joints_3d[1], raw[:, :3])  # the id column dropped
    np.testing.assert_allclose(data.joints_3d[1] - data.joints_3d[0], [[0.01, 0, 0]] * 25)
    np.testing.assert_array_equal(data.intrinsics, MINIRGBD_INTRINSICS)
    np.testing.assert_allclose(data.project(data.joints_3d), data.keypoints_2d[..., :2], atol=1e-4)
    frame = data[4]
    assert (frame.sequence, frame.frame) == ("11", 1)
    assert frame.rgb_path == root / "11" / "rgb" / "syn_00001.png" and frame.rgb_path.is_file()
    assert frame.depth_path.is_file() and frame.mask_path.is_file()
    assert cv2.imread(str(frame.depth_path), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert data.image_ids().tolist()[:2] == [100000, 100001]


def test_splits_frames_and_stride(minirgbd_dir):
    root = minirgbd_dir
    assert MINIRGBD_SPLITS["train"] == tuple(f"{i:02d}" for i in range(1, 11))
    assert MINIRGBD_SPLITS["test"] == ("11", "12")
    assert MINIRGBD_SPLITS["prior"] == ("01", "03", "05", "07", "09")
    assert load_minirgbd(root, ["01"], stride=2).frames.tolist() == [0, 2]
    assert load_minirgbd(root, ["11"], frames=[1, 2, 7]).frames.tolist() == [1, 2]
    with pytest.raises(FileNotFoundError, match=r"12/joints_2Ddep does not exist.*\['01', '11'\]"):
        load_minirgbd(root, "test")
    with pytest.raises(ValueError, match="no sequence"):
        load_minirgbd(root, [13])


def test_three_column_files_are_read_too(fixture_copy):
    root = fixture_copy("minirgbd")
    with_ids = load_minirgbd(root, [1], frames=[0])
    for path in (
        root / "01" / "joints_2Ddep" / "syn_joints_2Ddep_00000.txt",
        root / "01" / "joints_3D" / "syn_joints_3D_00000.txt",
    ):
        np.savetxt(path, np.loadtxt(path)[:, :3], fmt="%.8f")
    without = load_minirgbd(root, [1], frames=[0])
    np.testing.assert_allclose(without.keypoints_2d, with_ids.keypoints_2d, atol=1e-6)
    np.testing.assert_allclose(without.joints_3d, with_ids.joints_3d, atol=1e-8)
    np.testing.assert_allclose(without.keypoints_2d[0, :, 2], without.joints_3d[0, :, 2] * 1000)


def test_coco17_conversion_keeps_the_anatomical_joints(minirgbd_dir):
    data = load_minirgbd(minirgbd_dir, ["01"])
    coco = data.keypoints_coco17()
    assert coco.shape == (3, 17, 3)
    for name, source in (
        ("nose", "nose"),
        ("left_shoulder", "left_shoulder"),
        ("right_ankle", "right_ankle"),
    ):
        np.testing.assert_allclose(
            coco[:, COCO17.index(name), :2], data.keypoints_2d[:, MINIRGBD25.index(source), :2]
        )
    assert (coco[:, 1:5] == 0).all()  # no eyes, no ears
    assert (coco[:, [0, *range(5, 17)], 2] == 2).all()
    conversion = minirgbd_conversion()
    assert conversion.sources[COCO17.index("left_shoulder")] == ("left_shoulder",)  # UpperArm


def test_joints_outside_the_image_are_unlabelled(fixture_copy):
    root = fixture_copy("minirgbd")
    path = root / "11" / "joints_2Ddep" / "syn_joints_2Ddep_00002.txt"
    rows = np.loadtxt(path)
    rows[MINIRGBD25.index("left_wrist"), 0] = 2000.0  # far to the right of the 640-pixel frame
    np.savetxt(path, rows, fmt=["%.6f", "%.6f", "%.6f", "%d"])
    coco = load_minirgbd(root, [11]).keypoints_coco17()
    assert coco[2, COCO17.index("left_wrist")].tolist() == [0, 0, 0]
    assert coco[1, COCO17.index("left_wrist"), 2] == 2  # the frames around it are untouched


def test_to_coco_with_mask_and_keypoint_boxes(minirgbd_dir):
    root = minirgbd_dir
    data = load_minirgbd(root, ["01", "11"], frames=[0])
    coco = data.to_coco()
    assert coco.image_ids == [100000, 1100000]
    assert coco.image_path(1100000) == root / "11" / "rgb" / "syn_00000.png"
    # The fixture's mask is its skeleton drawn 14 px wide: hands at x ≈ 194 and 451, head
    # at y ≈ 88, feet at y ≈ 460, each widened by the 7-pixel half width.
    assert coco.annotations[0]["bbox"] == [187.0, 81.0, 272.0, 387.0]
    mask = cv2.imread(str(data.mask_path(0)), cv2.IMREAD_UNCHANGED)
    assert coco.annotations[0]["area"] == np.count_nonzero(mask) == 15548
    assert coco.is_synthetic(100000) is True
    assert coco.annotations[0]["num_keypoints"] == 13
    boxed = data.to_coco(bbox="keypoints")
    x, y, w, _ = boxed.annotations[0]["bbox"]
    xy = data.keypoints_coco17()[0, [0, *range(5, 17)], :2]
    assert x <= xy[:, 0].min() and x + w >= xy[:, 0].max() and y <= xy[:, 1].min()


def test_bad_files_name_the_file_and_the_fix(fixture_copy, tmp_path):
    root = fixture_copy("minirgbd")
    bad = root / "01" / "joints_2Ddep" / "syn_joints_2Ddep_00001.txt"
    rows = bad.read_text().splitlines()
    bad.write_text("\n".join(rows[:24]))
    with pytest.raises(DatasetError, match=r"syn_joints_2Ddep_00001.txt has 24 rows"):
        load_minirgbd(root, ["01"])
    bad.write_text("\n".join(reversed(rows)))
    with pytest.raises(DatasetError, match="reorder the rows by id"):
        load_minirgbd(root, ["01"])
    bad.write_text("x y\n")
    with pytest.raises(DatasetError, match="not a table of numbers"):
        load_minirgbd(root, ["01"])
    bad.write_text("\n".join(rows))
    assert len(load_minirgbd(root, ["01"])) == 3  # repaired, it loads again
    (root / "01" / "joints_3D" / "syn_joints_3D_00000.txt").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"syn_joints_3D_00000.txt does not exist.*copy it again"
    ):
        load_minirgbd(root, ["01"], frames=[0])
    (root / "01" / "fg_mask" / "mask_00002.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"mask_00002.png.*bbox='keypoints'"):
        load_minirgbd(root, ["01"], frames=[2]).to_coco()
    assert load_minirgbd(root, ["01"], frames=[2]).to_coco(bbox="keypoints").num_images == 1
    cv2.imwrite(str(root / "01" / "fg_mask" / "mask_00001.png"), np.zeros((480, 640), np.uint8))
    with pytest.raises(DatasetError, match=r"mask_00001.png is empty"):
        load_minirgbd(root, ["01"], frames=[1]).to_coco()
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_minirgbd(tmp_path / "missing")


def test_minirgbd_root_from_profile(tmp_path):
    profile = load_profile("paper")
    with pytest.raises(FileNotFoundError, match=r"paths.minirgbd.*fraunhofer"):
        minirgbd_root(profile)
    profile.paths["minirgbd"] = str(tmp_path)
    assert minirgbd_root(profile) == tmp_path
