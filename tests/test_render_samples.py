"""Rendered samples and the dataset writer: labels, determinism, SyRIP's layout, atomicity."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
import torch

from infantpose.body import BodyPose
from infantpose.data.coco import read_coco
from infantpose.render import (
    PRESETS,
    DatasetWriter,
    Renderer,
    RenderError,
    get_preset,
    paper_camera,
    paper_rotations,
    render_dataset,
    sample_camera,
    synth,
)

SIZE = (96, 72)


def _poses(n: int = 2) -> BodyPose:
    g = torch.Generator().manual_seed(0)
    return BodyPose(
        global_orient=torch.randn(n, 3, generator=g) * 0.2,
        body_pose=torch.randn(n, 21, 3, generator=g) * 0.2,
        shape={"age": torch.tensor([0.0, 0.1, 0.05, 0.0][:n])},
    )


def test_paper_rotations_follow_the_papers_formula():
    orient = torch.tensor([0.1, -0.2, 0.3])
    out = paper_rotations(orient)
    assert out.shape == (10, 3)
    for i in range(10):
        step = i * math.pi / 11
        expected = [0.1 + step, -0.2 - step, 0.3 - step]
        np.testing.assert_allclose(out[i].numpy(), expected, atol=1e-6)
    assert paper_rotations(torch.zeros(4, 3), count=3).shape == (4, 3, 3)
    poses, source, rotation = synth.paper_protocol(_poses(2), count=3)
    assert poses.batch_size == 6 and source.tolist() == [0, 0, 0, 1, 1, 1]
    assert rotation.tolist() == [0, 1, 2, 0, 1, 2]
    assert poses.shape["age"].tolist() == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.1, 0.1])


def test_unknown_preset_names_the_presets():
    with pytest.raises(ValueError, match="synthetic, photo, surreal") as error:
        get_preset("photos")
    assert "did you mean 'photo'" in str(error.value)
    assert get_preset("photo").is_synthetic is False
    assert set(PRESETS) == {"synthetic", "photo", "surreal"}


@pytest.fixture(scope="module")
def infant(anny_body):
    with torch.no_grad():
        return anny_body(_poses(1))


@pytest.mark.parametrize("preset", ["synthetic", "photo", "surreal"])
def test_render_sample_is_labelled_and_deterministic(anny_body, infant, preset):
    def once():
        rng = np.random.default_rng(3)
        appearance = synth.sample_appearance(rng, preset, SIZE)
        cam = sample_camera(rng, infant.vertices[0].numpy(), SIZE, get_preset(preset).cameras)
        with Renderer(*SIZE) as renderer:
            return synth.render_sample(renderer, infant, cam, appearance, preset, rng)

    a, b = once(), once()
    assert a.rgb.shape == (72, 96, 3) and a.rgb.dtype == np.uint8
    assert (a.rgb == b.rgb).all() and (a.keypoints == b.keypoints).all()
    assert a.area == a.mask.sum() > 100
    x, y, w, h = a.bbox
    inside = a.keypoints[a.keypoints[:, 2] > 0]
    assert (inside[:, 0] >= x - 1).all() and (inside[:, 0] <= x + w).all()
    assert (inside[:, 1] >= y - 1).all() and (inside[:, 1] <= y + h).all()
    assert (a.keypoints[:, 2] > 0).sum() >= 15
    assert a.keypoints_3d[:, 2].min() > 0  # camera frame: in front
    assert a.appearance["preset"] == preset


def test_body_outside_the_image_is_an_error(infant):
    rng = np.random.default_rng(0)
    appearance = synth.sample_appearance(rng, "synthetic", SIZE)
    behind = paper_camera(SIZE)
    away = type(behind)(**{**behind.__dict__, "t": np.array([0.0, 0.0, -2.0])})
    with Renderer(*SIZE) as renderer, pytest.raises(RenderError, match="outside"):
        synth.render_sample(renderer, infant, away, appearance, "synthetic", rng)


def _syrip_like(root, anny_body, overwrite=False):
    with DatasetWriter(root, overwrite=overwrite, progress=False) as w:
        w.add_split(
            "train_infant", anny_body, _poses(2), preset="synthetic", seed=1, rotations=2,
            image_size=SIZE, file_pattern="train{id:05d}.jpg", postures="supine",
        )  # fmt: skip
        w.add_split(
            "validate_infant", anny_body, _poses(2), preset="photo", seed=2,
            image_size=SIZE, file_pattern="test{id}.jpg", first_id=0,
        )  # fmt: skip
    return w


def test_writer_syrip_layout_round_trips(tmp_path, anny_body):
    root = tmp_path / "syrip"
    _syrip_like(root, anny_body)
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


def test_writer_is_deterministic(tmp_path, anny_body):
    kwargs = {
        "preset": "photo",
        "seed": 5,
        "rotations": None,
        "image_size": SIZE,
        "progress": False,
    }
    render_dataset(anny_body, _poses(2), tmp_path / "a", **kwargs)
    render_dataset(anny_body, _poses(2), tmp_path / "b", **kwargs)
    for rel in ("annotations/person_keypoints_train.json", "images/train/train00002.jpg",
                "masks/train/train00002.png", "depth/train/train00002.png"):  # fmt: skip
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    data = json.loads((tmp_path / "a/annotations/person_keypoints_train.json").read_text())
    assert data["info"]["preset"] == "photo" and data["images"][0]["is_synthetic"] is False


def test_failure_mid_dataset_leaves_nothing(tmp_path, anny_body, monkeypatch):
    real = synth.render_sample
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected failure at sample 3")
        return real(*args, **kwargs)

    monkeypatch.setattr(synth, "render_sample", flaky)
    root = tmp_path / "set"
    with pytest.raises(RuntimeError, match="injected"):
        render_dataset(anny_body, _poses(2), root, rotations=2, image_size=SIZE, progress=False)
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_destination_needs_overwrite(tmp_path, anny_body):
    root = tmp_path / "set"
    root.mkdir()
    (root / "old.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        render_dataset(anny_body, _poses(1), root, rotations=None, image_size=SIZE, progress=False)
    assert (root / "old.txt").read_text() == "keep me"
    coco = render_dataset(
        anny_body, _poses(1), root, rotations=None, image_size=SIZE, progress=False, overwrite=True
    )
    assert coco.num_images == 1 and not (root / "old.txt").exists()


def test_camera_failures_are_retried_then_named(tmp_path, anny_body, monkeypatch):
    def always_fails(*args, **kwargs):
        raise RenderError("no body pixel in the image")

    monkeypatch.setattr(synth, "render_sample", always_fails)
    with pytest.raises(RenderError, match=r"sample 0 \(train00001.jpg\).*after 5 camera"):
        render_dataset(
            anny_body, _poses(1), tmp_path / "x", rotations=None, image_size=SIZE, progress=False
        )
    assert not (tmp_path / "x").exists()
