"""MINI-RGBD loader: two tiny sequences in the published layout, joints from a projected body."""

from __future__ import annotations

from pathlib import Path

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

RNG = np.random.default_rng(0)
# An infant ~0.8 m in front of the camera, joints spread over ±15 cm.
BODY_3D = np.column_stack(
    [RNG.uniform(-0.15, 0.15, 25), RNG.uniform(-0.15, 0.15, 25), 0.8 + RNG.uniform(-0.05, 0.05, 25)]
)


def project(points):
    uvw = points @ MINIRGBD_INTRINSICS.T
    return uvw[:, :2] / uvw[:, 2:]


def write_frame(root: Path, sequence: str, frame: int, joints_3d: np.ndarray, ids=True):
    folder = root / sequence
    for sub in ("rgb", "depth", "fg_mask", "joints_2Ddep", "joints_3D"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    stem = f"{frame:05d}"
    uv = project(joints_3d)
    rows_2d = np.column_stack([uv, joints_3d[:, 2] * 1000])
    if ids:
        rows_2d = np.column_stack([rows_2d, np.arange(25)])
    np.savetxt(folder / "joints_2Ddep" / f"syn_joints_2Ddep_{stem}.txt", rows_2d, fmt="%.6f")
    np.savetxt(folder / "joints_3D" / f"syn_joints_3D_{stem}.txt", joints_3d, fmt="%.8f")
    cv2.imwrite(str(folder / "rgb" / f"syn_{stem}.png"), np.zeros((480, 640, 3), np.uint8))
    depth = np.full((480, 640), 800, np.uint16)
    cv2.imwrite(str(folder / "depth" / f"syn_{stem}_depth.png"), depth)
    mask = np.zeros((480, 640), np.uint8)
    mask[100:300, 200:400] = 255
    cv2.imwrite(str(folder / "fg_mask" / f"mask_{stem}.png"), mask)


def write_minirgbd(root: Path, sequences=("01", "11"), frames=(0, 1, 2)) -> Path:
    for sequence in sequences:
        for frame in frames:
            write_frame(root, sequence, frame, BODY_3D + np.array([0.01 * frame, 0, 0]))
    return root


def test_load_arrays_and_paths(tmp_path):
    root = write_minirgbd(tmp_path)
    data = load_minirgbd(root, sequences=["01", 11])
    assert len(data) == 6
    assert data.keypoints_2d.shape == (6, 25, 3) and data.joints_3d.shape == (6, 25, 3)
    assert data.sequences.tolist() == ["01"] * 3 + ["11"] * 3
    np.testing.assert_allclose(data.joints_3d[1], BODY_3D + np.array([0.01, 0, 0]), atol=1e-7)
    np.testing.assert_allclose(data.project(data.joints_3d), data.keypoints_2d[..., :2], atol=1e-4)
    frame = data[4]
    assert (frame.sequence, frame.frame) == ("11", 1)
    assert frame.rgb_path == root / "11" / "rgb" / "syn_00001.png" and frame.rgb_path.is_file()
    assert frame.depth_path.is_file() and frame.mask_path.is_file()
    assert cv2.imread(str(frame.depth_path), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert data.image_ids().tolist()[:2] == [100000, 100001]


def test_splits_frames_and_stride(tmp_path):
    root = write_minirgbd(tmp_path)
    assert MINIRGBD_SPLITS["train"] == tuple(f"{i:02d}" for i in range(1, 11))
    assert MINIRGBD_SPLITS["test"] == ("11", "12")
    assert MINIRGBD_SPLITS["prior"] == ("01", "03", "05", "07", "09")
    assert load_minirgbd(root, ["01"], stride=2).frames.tolist() == [0, 2]
    assert load_minirgbd(root, ["11"], frames=[1, 2, 7]).frames.tolist() == [1, 2]
    with pytest.raises(FileNotFoundError, match=r"12/joints_2Ddep does not exist.*\['01', '11'\]"):
        load_minirgbd(root, "test")
    with pytest.raises(ValueError, match="no sequence"):
        load_minirgbd(root, [13])


def test_three_column_files_are_read_too(tmp_path):
    write_frame(tmp_path, "02", 5, BODY_3D, ids=False)
    data = load_minirgbd(tmp_path, [2])
    np.testing.assert_allclose(data.keypoints_2d[0, :, 2], BODY_3D[:, 2] * 1000, atol=1e-5)


def test_coco17_conversion_keeps_the_anatomical_joints(tmp_path):
    data = load_minirgbd(write_minirgbd(tmp_path), ["01"])
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


def test_joints_outside_the_image_are_unlabelled(tmp_path):
    body = BODY_3D.copy()
    body[MINIRGBD25.index("left_wrist")] = [2.0, 0.0, 0.8]  # far to the right of the frame
    write_frame(tmp_path, "03", 0, body)
    coco = load_minirgbd(tmp_path, [3]).keypoints_coco17()
    assert coco[0, COCO17.index("left_wrist")].tolist() == [0, 0, 0]


def test_to_coco_with_mask_and_keypoint_boxes(tmp_path):
    root = write_minirgbd(tmp_path)
    data = load_minirgbd(root, ["01", "11"], frames=[0])
    coco = data.to_coco()
    assert coco.image_ids == [100000, 1100000]
    assert coco.image_path(1100000) == root / "11" / "rgb" / "syn_00000.png"
    assert coco.annotations[0]["bbox"] == [200.0, 100.0, 200.0, 200.0]
    assert coco.annotations[0]["area"] == 200 * 200
    assert coco.is_synthetic(100000) is True
    assert coco.annotations[0]["num_keypoints"] == 13
    boxed = data.to_coco(bbox="keypoints")
    x, y, w, _ = boxed.annotations[0]["bbox"]
    xy = data.keypoints_coco17()[0, [0, *range(5, 17)], :2]
    assert x <= xy[:, 0].min() and x + w >= xy[:, 0].max() and y <= xy[:, 1].min()


def test_bad_files_name_the_file_and_the_fix(tmp_path):
    root = write_minirgbd(tmp_path, ["01"], [0, 1])
    bad = root / "01" / "joints_2Ddep" / "syn_joints_2Ddep_00001.txt"
    bad.write_text("\n".join(["1 2 3 0"] * 24))
    with pytest.raises(DatasetError, match=r"syn_joints_2Ddep_00001.txt has 24 rows"):
        load_minirgbd(root, ["01"])
    bad.write_text("\n".join([f"1 2 3 {24 - j}" for j in range(25)]))
    with pytest.raises(DatasetError, match="reorder the rows by id"):
        load_minirgbd(root, ["01"])
    bad.write_text("x y\n")
    with pytest.raises(DatasetError, match="not a table of numbers"):
        load_minirgbd(root, ["01"])
    (root / "01" / "joints_3D" / "syn_joints_3D_00000.txt").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"syn_joints_3D_00000.txt does not exist.*copy it again"
    ):
        load_minirgbd(root, ["01"], frames=[0])
    (root / "01" / "fg_mask" / "mask_00001.png").unlink()
    write_frame(root, "01", 0, BODY_3D)
    (root / "01" / "fg_mask" / "mask_00000.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"mask_00000.png.*bbox='keypoints'"):
        load_minirgbd(root, ["01"], frames=[0]).to_coco()
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_minirgbd(tmp_path / "missing")


def test_minirgbd_root_from_profile(tmp_path):
    profile = load_profile("paper")
    with pytest.raises(FileNotFoundError, match=r"paths.minirgbd.*fraunhofer"):
        minirgbd_root(profile)
    profile.paths["minirgbd"] = str(tmp_path)
    assert minirgbd_root(profile) == tmp_path
