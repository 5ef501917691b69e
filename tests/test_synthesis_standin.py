"""The stand-in infant set is laid out like SyRIP, and a rendered clip is one moving body."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose.body import PoseSampler
from infantpose.config import load_profile
from infantpose.data.video import extract_frames
from infantpose.render.samples import render_motion
from infantpose.synthesis.standin import (
    load_clip_truth,
    load_infant_images,
    make_standin_clip,
    make_standin_syrip,
    standin_root,
)


def test_standin_has_syrip_layout_and_says_it_is_rendered(anny_body, tmp_path):
    root = tmp_path / "syrip"
    splits = make_standin_syrip(anny_body, root, train=3, validate=2, image_size=(160, 120))
    assert (root / "annotations" / "person_keypoints_train_infant.json").is_file()
    assert (root / "annotations" / "person_keypoints_validate_infant.json").is_file()
    train, validate = splits["train_infant"], splits["validate_infant"]
    assert [im["file_name"] for im in train.images] == [f"train{i:05d}.jpg" for i in (1, 2, 3)]
    assert [im["file_name"] for im in validate.images] == ["test0.jpg", "test1.jpg"]
    for coco, split in ((train, "train_infant"), (validate, "validate_infant")):
        for image in coco.images:
            assert image["is_synthetic"] is False
            assert image["appearance"]["preset"] == "photo" and image["appearance"]["rendered"]
            assert (root / "images" / split / image["file_name"]).is_file()
    # Different seeds per split: no pose is shared.
    train_poses = {tuple(np.round(im["body"]["body_pose"], 3).ravel()) for im in train.images}
    validate_poses = {tuple(np.round(im["body"]["body_pose"], 3).ravel()) for im in validate.images}
    assert not train_poses & validate_poses


def test_motion_clip_is_one_body_moving_under_one_camera(anny_body):
    sample = PoseSampler(anny_body, postures=["supine"]).sample(2, seed=4)
    first = type(sample.pose)(
        sample.pose.global_orient[:1],
        sample.pose.body_pose[:1],
        {k: v[:1] for k, v in sample.pose.shape.items()},
        sample.pose.transl[:1],
    )
    last = type(sample.pose)(
        sample.pose.global_orient[:1] * 0 + first.global_orient,
        sample.pose.body_pose[1:],
        first.shape,
        sample.pose.transl[1:],
    )
    clip = render_motion(anny_body, first, last, 4, seed=1, image_size=(96, 72))
    assert len(clip) == 4
    assert all(c.camera.to_dict() == clip[0].camera.to_dict() for c in clip)
    moved = np.abs(clip[-1].keypoints[:, :2] - clip[0].keypoints[:, :2]).max()
    step = np.abs(clip[1].keypoints[:, :2] - clip[0].keypoints[:, :2]).max()
    assert moved > 1.0 and step < moved  # it moves, gradually
    with pytest.raises(ValueError, match=r"timing must hold 4 values in \[0, 1\]"):
        render_motion(anny_body, first, last, 4, image_size=(96, 72), timing=[0, 0.5, 1, 2])


def test_standin_clip_is_a_readable_video(anny_body, tmp_path):
    path = make_standin_clip(anny_body, tmp_path / "clip.mp4", frames=6, fps=6, image_size=(96, 72))
    frames = extract_frames(path, progress=False)
    assert len(frames) == 6 and frames[0].image.shape == (72, 96, 3)
    assert abs(frames[-1].timestamp_s - 5 / 6) < 1e-6
    truth = load_clip_truth(path)
    assert sorted(truth) == list(range(6)) and truth[0].shape == (17, 3)
    assert (truth[0][:, 2] > 0).sum() >= 8  # the infant is in view
    # Still at the start and the end (a quarter each), moving in between.
    assert np.allclose(truth[0][:, :2], truth[1][:, :2]) and np.allclose(truth[4], truth[5])
    assert not np.allclose(truth[1][:, :2], truth[4][:, :2])


def test_infant_images_are_the_standin_made_once_or_the_configured_syrip(
    anny_body, tmp_path, monkeypatch
):
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path / "data"))
    sizes = {"train": 2, "validate": 1, "seed": 3, "image_size": (96, 72)}
    sets, data = load_infant_images("smoke", body=anny_body, **sizes)
    assert data == "embedded"
    assert [sets[s].num_images for s in ("train_infant", "validate_infant")] == [2, 1]
    root = standin_root(2, 1, 3, (96, 72))
    made = (root / "synthesis.json").stat().st_mtime_ns
    again, _ = load_infant_images("smoke", body=None, **sizes)  # reused: no body needed
    assert (root / "synthesis.json").stat().st_mtime_ns == made
    assert again["train_infant"].images == sets["train_infant"].images

    # A profile with paths.syrip reads that folder as real SyRIP instead (here: the stand-in).
    profile = load_profile("smoke")
    profile.paths["syrip"] = str(root)
    real, data = load_infant_images(profile, **sizes)
    assert data == "real" and real["validate_infant"].images == sets["validate_infant"].images
