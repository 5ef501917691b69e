"""SURREAL: tiny preprocessed runs (JSON + crops) and a tiny original _info.mat + mp4."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from infantpose.config import load_profile
from infantpose.data.surreal import (
    DatasetError,
    load_surreal,
    read_surreal_info,
    read_surreal_video,
    surreal_root,
    surreal_sequences,
)
from infantpose.keypoints import COCO17, SMPL24, UDA16

RNG = np.random.default_rng(1)


def sample(name):
    return {
        "name": name,
        "keypoint2d": RNG.uniform(20, 100, (24, 2)).tolist(),
        "keypoint3d": RNG.uniform(-1, 1, (24, 3)).tolist(),
        "intrinsic_matrix": [[600, 0, 60], [0, 600, 60], [0, 0, 1]],
    }


def write_preprocessed(root: Path, split="train", per_run=5) -> Path:
    for run in range(3):
        samples = [sample(f"seq_{run}_{i}.jpg") for i in range(per_run)]
        (root / split / f"run{run}").mkdir(parents=True)
        (root / split / f"run{run}.json").write_text(json.dumps(samples))
        for s in samples:
            cv2.imwrite(
                str(root / split / f"run{run}" / s["name"]), np.zeros((120, 128, 3), np.uint8)
            )
    return root


def test_preprocessed_train_and_test_follow_tllib(tmp_path):
    root = write_preprocessed(tmp_path)
    everything = load_surreal(root, tllib_split=False)
    assert len(everything) == 15 and everything.keypoints_2d.shape == (15, 24, 2)
    assert everything.image_paths[5] == root / "train" / "run1" / "seq_1_0.jpg"
    train = load_surreal(root)
    order = list(range(15))
    random.Random(42).shuffle(order)
    assert len(train) == 12  # 15 - min(int(0.2 * 15), 3200)
    assert train.image_paths == [everything.image_paths[i] for i in order[3:]]
    np.testing.assert_array_equal(train.keypoints_3d[0], everything.keypoints_3d[order[3]])


def test_conversions_and_to_coco(tmp_path):
    data = load_surreal(write_preprocessed(tmp_path), runs=[0], tllib_split=False)
    uda = data.keypoints_uda16()
    np.testing.assert_array_equal(
        uda[:, UDA16.index("left_shoulder")], data.keypoints_2d[:, SMPL24.index("left_collar")]
    )
    coco = data.keypoints_coco17()
    assert coco.shape == (5, 17, 3) and (coco[:, :5] == 0).all() and (coco[:, 5:, 2] == 2).all()
    np.testing.assert_array_equal(
        coco[:, COCO17.index("right_knee"), :2], data.keypoints_2d[:, SMPL24.index("right_knee")]
    )
    sets = data.to_coco()
    assert (
        sets.num_images == 5 and sets.images[0]["width"] == 128 and sets.images[0]["height"] == 120
    )
    assert sets.image_path(1) == data.image_paths[0]


def test_preprocessed_errors_name_file_and_record(tmp_path):
    root = write_preprocessed(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"val/run0.json.*no folder"):
        load_surreal(root, "val")
    with pytest.raises(ValueError, match="use one of"):
        load_surreal(root, "validation")
    path = root / "train" / "run1.json"
    samples = json.loads(path.read_text())
    samples[2]["keypoint2d"] = samples[2]["keypoint2d"][:16]
    path.write_text(json.dumps(samples))
    with pytest.raises(DatasetError, match=r"run1.json: sample \[2\].*keypoint2d.*\(16, 2\)"):
        load_surreal(root)
    del samples[0]["intrinsic_matrix"]
    path.write_text(json.dumps(samples))
    with pytest.raises(DatasetError, match=r"sample \[0\].*intrinsic_matrix"):
        load_surreal(root)
    path.write_text("[{")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_surreal(root)


def write_original(root: Path, frames=3) -> Path:
    folder = root / "cmu" / "train" / "run0" / "01_01"
    folder.mkdir(parents=True)
    joints2d = RNG.uniform(0, 240, (2, 24, frames))
    savemat(
        folder / "01_01_c0001_info.mat",
        {
            "joints2D": joints2d,
            "joints3D": RNG.uniform(-1, 1, (3, 24, frames)),
            "pose": RNG.normal(size=(72, frames)),
            "shape": RNG.normal(size=(10, frames)),
            "camLoc": np.array([[7.0], [0.0], [1.0]]),
            "zrot": RNG.uniform(size=(frames, 1)),
            "gender": np.zeros((frames, 1), np.uint8),
        },
    )
    writer = cv2.VideoWriter(
        str(folder / "01_01_c0001.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48)
    )
    for t in range(frames):
        writer.write(np.full((48, 64, 3), 40 * t, np.uint8))
    writer.release()
    return folder / "01_01_c0001_info.mat"


def test_original_info_mat_is_frames_first(tmp_path):
    path = write_original(tmp_path)
    assert surreal_sequences(tmp_path) == [path]
    info = read_surreal_info(path)
    raw = __import__("scipy.io").io.loadmat(path)
    assert info["joints2D"].shape == (3, 24, 2) and info["joints3D"].shape == (3, 24, 3)
    np.testing.assert_array_equal(info["joints2D"][1, 5], raw["joints2D"][:, 5, 1])
    assert info["pose"].shape == (3, 72) and info["shape"].shape == (3, 10)
    assert info["camLoc"].tolist() == [7.0, 0.0, 1.0] and info["zrot"].shape == (3,)


def test_original_video(tmp_path):
    path = write_original(tmp_path).with_name("01_01_c0001.mp4")
    video = read_surreal_video(path)
    assert video.shape == (3, 48, 64, 3) and video.dtype == np.uint8
    assert abs(float(video[2].mean()) - 80) < 5


def test_original_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cmu/train does not exist"):
        surreal_sequences(tmp_path)
    bad = tmp_path / "bad_info.mat"
    savemat(bad, {"joints2D": np.zeros((2, 24, 2))})
    with pytest.raises(DatasetError, match=r"no \['joints3D'\]"):
        read_surreal_info(bad)
    savemat(bad, {"joints2D": np.zeros((2, 16, 2)), "joints3D": np.zeros((3, 24, 2))})
    with pytest.raises(DatasetError, match=r"joints2D.*\(2, 16, 2\)"):
        read_surreal_info(bad)


def test_surreal_root_from_profile(tmp_path):
    profile = load_profile("paper")
    with pytest.raises(FileNotFoundError, match=r"paths.surreal.*surreal"):
        surreal_root(profile)
    profile.paths["surreal"] = str(tmp_path)
    assert surreal_root(profile) == tmp_path
