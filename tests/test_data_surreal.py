"""SURREAL: TLlib's preprocessed runs (the fixture in tests/data/surreal, 3 × 3 crops) and a
tiny original _info.mat + mp4 written here (the .mat/.mp4 pair would cost more to commit
than the three-frame clip this test writes)."""

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


@pytest.fixture
def surreal_dir(fixtures_dir):
    return fixtures_dir / "surreal"


def test_preprocessed_train_and_test_follow_tllib(surreal_dir):
    root = surreal_dir
    everything = load_surreal(root, tllib_split=False)
    assert len(everything) == 9 and everything.keypoints_2d.shape == (9, 24, 2)
    assert everything.image_paths[3] == root / "train" / "run1" / "02_01_c0001_000.jpg"
    assert everything.intrinsics.shape == (9, 3, 3) and everything.keypoints_3d.shape == (9, 24, 3)
    train = load_surreal(root)
    order = list(range(9))
    random.Random(42).shuffle(order)
    assert len(train) == 8  # 9 - min(int(0.2 * 9), 3200)
    assert train.image_paths == [everything.image_paths[i] for i in order[1:]]
    np.testing.assert_array_equal(train.keypoints_3d[0], everything.keypoints_3d[order[1]])


def test_conversions_and_to_coco(surreal_dir):
    data = load_surreal(surreal_dir, runs=[0], tllib_split=False)
    uda = data.keypoints_uda16()
    np.testing.assert_array_equal(
        uda[:, UDA16.index("left_shoulder")], data.keypoints_2d[:, SMPL24.index("left_collar")]
    )
    coco = data.keypoints_coco17()
    assert coco.shape == (3, 17, 3) and (coco[:, :5] == 0).all() and (coco[:, 5:, 2] == 2).all()
    np.testing.assert_array_equal(
        coco[:, COCO17.index("right_knee"), :2], data.keypoints_2d[:, SMPL24.index("right_knee")]
    )
    sets = data.to_coco()
    assert sets.num_images == 3 and (sets.images[0]["width"], sets.images[0]["height"]) == (64, 64)
    assert sets.image_path(1) == data.image_paths[0]


def test_preprocessed_errors_name_file_and_record(fixture_copy):
    root = fixture_copy("surreal")
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


def write_original(root: Path, frames=3, seed=1) -> Path:
    rng = np.random.default_rng(seed)
    folder = root / "cmu" / "train" / "run0" / "01_01"
    folder.mkdir(parents=True)
    joints2d = rng.uniform(0, 240, (2, 24, frames))
    savemat(
        folder / "01_01_c0001_info.mat",
        {
            "joints2D": joints2d,
            "joints3D": rng.uniform(-1, 1, (3, 24, frames)),
            "pose": rng.normal(size=(72, frames)),
            "shape": rng.normal(size=(10, frames)),
            "camLoc": np.array([[7.0], [0.0], [1.0]]),
            "zrot": rng.uniform(size=(frames, 1)),
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
