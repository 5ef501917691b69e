"""The dataset writer: SyRIP's layout, determinism, atomicity, camera retries."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from infantpose.data.coco import read_coco
from infantpose.render import RenderError
from infantpose.synthesis import writer
from infantpose.synthesis.writer import DatasetWriter, render_dataset

SIZE = (96, 72)


def _syrip_like(root, anny_body, small_poses, overwrite=False):
    with DatasetWriter(root, overwrite=overwrite, progress=False) as w:
        w.add_split(
            "train_infant", anny_body, small_poses(2), preset="synthetic", seed=1, rotations=2,
            image_size=SIZE, file_pattern="train{id:05d}.jpg", postures="supine",
        )  # fmt: skip
        w.add_split(
            "validate_infant", anny_body, small_poses(2), preset="photo", seed=2,
            image_size=SIZE, file_pattern="test{id}.jpg", first_id=0,
        )  # fmt: skip
    return w


def test_writer_syrip_layout_round_trips(tmp_path, anny_body, small_poses):
    root = tmp_path / "syrip"
    _syrip_like(root, anny_body, small_poses)
    train = read_coco(
        root / "annotations/person_keypoints_train_infant.json",
        image_root=root / "images/train_infant",
        check_images=True,
    )
    test = read_coco(
        root / "annotations/person_keypoints_validate_infant.json",
        image_root=root / "images/validate_infant",
        check_images=True,
    )
    assert [im["file_name"] for im in train.images] == [f"train0000{i}.jpg" for i in range(1, 5)]
    assert [im["file_name"] for im in test.images] == ["test0.jpg", "test1.jpg"]
    assert all(train.is_synthetic(im) for im in train.images)
    assert not any(test.is_synthetic(im) for im in test.images)
    image = train.images[1]
    assert image["posture"] == "supine" and image["rotation_index"] == 1
    assert set(image["camera"]) >= {"fx", "fy", "cx", "cy", "R", "t"}
    assert set(image["body"]) == {"backend", "shape", "global_orient", "body_pose", "transl"}
    assert image["body"]["backend"] == "anny" and len(image["body"]["body_pose"]) == 21
    assert test.images[0]["appearance"]["preset"] == "photo"
    assert test.images[0]["appearance"]["photo_effects"]["jpeg_quality"] >= 60
    annotation = train.annotations[0]
    assert len(annotation["keypoints_3d"]) == 17 and annotation["area"] > 0
    mask = cv2.imread(str(root / image["mask_file"]), cv2.IMREAD_UNCHANGED)
    depth = cv2.imread(str(root / image["depth_file"]), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (72, 96) and set(np.unique(mask)) <= {0, 255}
    assert depth.dtype == np.uint16 and ((depth > 0) == (mask > 0)).mean() > 0.99
    assert train.annotations[1]["area"] == (mask > 0).sum()
    assert not list(tmp_path.glob(".syrip*"))  # no temporary folder left


def test_writer_is_deterministic(tmp_path, anny_body, small_poses):
    kwargs = {
        "preset": "photo",
        "seed": 5,
        "rotations": None,
        "image_size": SIZE,
        "progress": False,
    }
    render_dataset(anny_body, small_poses(2), tmp_path / "a", **kwargs)
    render_dataset(anny_body, small_poses(2), tmp_path / "b", **kwargs)
    for rel in ("annotations/person_keypoints_train.json", "images/train/train00002.jpg",
                "masks/train/train00002.png", "depth/train/train00002.png"):  # fmt: skip
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    data = json.loads((tmp_path / "a/annotations/person_keypoints_train.json").read_text())
    assert data["info"]["preset"] == "photo" and data["images"][0]["is_synthetic"] is False


def test_failure_mid_dataset_leaves_nothing(tmp_path, anny_body, monkeypatch, small_poses):
    real = writer.render_sample
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected failure at sample 3")
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "render_sample", flaky)
    root = tmp_path / "set"
    with pytest.raises(RuntimeError, match="injected"):
        render_dataset(
            anny_body, small_poses(2), root, rotations=2, image_size=SIZE, progress=False
        )
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_destination_needs_overwrite(tmp_path, anny_body, small_poses):
    root = tmp_path / "set"
    root.mkdir()
    (root / "old.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        render_dataset(
            anny_body, small_poses(1), root, rotations=None, image_size=SIZE, progress=False
        )
    assert (root / "old.txt").read_text() == "keep me"
    coco = render_dataset(
        anny_body,
        small_poses(1),
        root,
        rotations=None,
        image_size=SIZE,
        progress=False,
        overwrite=True,
    )
    assert coco.num_images == 1 and not (root / "old.txt").exists()


def test_camera_failures_are_retried_then_named(tmp_path, anny_body, monkeypatch, small_poses):
    def always_fails(*args, **kwargs):
        raise RenderError("no body pixel in the image")

    monkeypatch.setattr(writer, "render_sample", always_fails)
    with pytest.raises(RenderError, match=r"sample 0 \(train00001.jpg\).*after 5 camera"):
        render_dataset(
            anny_body,
            small_poses(1),
            tmp_path / "x",
            rotations=None,
            image_size=SIZE,
            progress=False,
        )
    assert not (tmp_path / "x").exists()
