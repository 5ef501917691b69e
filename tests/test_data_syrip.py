"""SyRIP loader: a tiny SyRIP tree in the published layout (two real, one synthetic, two test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from infantpose.config import load_profile
from infantpose.data.coco import CocoFormatError, annotation_record, image_record
from infantpose.data.syrip import (
    SYRIP_SPLITS,
    SYRIP_VARIANTS,
    DatasetError,
    domain_counts,
    load_syrip,
    syrip_annotation_path,
    syrip_root,
)
from infantpose.keypoints import COCO_PERSON_CATEGORY

SUPINE_XY = [
    (32, 10), (33, 9), (31, 9), (34, 9.6), (29.8, 9.6),
    (36, 15), (28, 15), (38, 20), (26, 20), (39, 25), (25, 25),
    (34.5, 26), (29.5, 26), (35.5, 33), (28.5, 33), (36, 40), (28, 40),
]  # fmt: skip


def _images_and_annotations(names: dict[int, tuple[str, bool | None]]):
    images, annotations = [], []
    for image_id, (file_name, synthetic) in names.items():
        images.append(image_record(image_id, file_name, 64, 48, is_synthetic=synthetic))
        points = [(x, y, 2) for x, y in SUPINE_XY]
        annotations.append(annotation_record(image_id, image_id, points, image_size=(64, 48)))
    return {"images": images, "annotations": annotations, "categories": [COCO_PERSON_CATEGORY]}


TRAIN = {
    1: ("train00001.jpg", False),
    2: ("train00002.jpg", False),
    10001: ("train10001.jpg", True),
}
VALIDATE = {0: ("test0.jpg", False), 7: ("test7.jpg", False)}


def write_syrip(root: Path, train=TRAIN, validate=VALIDATE) -> Path:
    """Write annotations/*.json, the 200R_1000S variant and tiny JPEGs under images/<split>/."""
    for split, names in (("train_infant", train), ("validate_infant", validate)):
        data = _images_and_annotations(names)
        for path in (
            syrip_annotation_path(root, split),
            syrip_annotation_path(root, split, "200R_1000S"),
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data))
        folder = root / "images" / split
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, _ in names.values():
            Image.new("RGB", (64, 48), (200, 150, 120)).save(folder / file_name)
    return root


def test_load_train_and_validate(tmp_path):
    root = write_syrip(tmp_path / "syrip")
    train = load_syrip(root)
    assert train.num_images == 3 and train.num_annotations == 3
    assert domain_counts(train) == {"real": 2, "synthetic": 1, "unknown": 0}
    assert train.image_path(10001) == root / "images" / "train_infant" / "train10001.jpg"
    assert train.image_path(10001).is_file()
    validate = load_syrip(root, "validate_infant")
    assert sorted(validate.image_ids) == [0, 7]
    assert train.keypoints_array().shape == (3, 17, 3)


def test_variant_reads_its_folder(tmp_path):
    root = write_syrip(tmp_path)
    coco = load_syrip(root, "validate_infant", variant="200R_1000S")
    assert Path(coco.source) == root / "annotations" / "200R_1000S" / (
        "person_keypoints_validate_infant.json"
    )
    assert coco.image_root == root / "images" / "validate_infant"


def test_split_and_variant_names():
    assert SYRIP_SPLITS == ("train_infant", "validate_infant")
    assert "validate500" in SYRIP_VARIANTS and "200R_1000S" in SYRIP_VARIANTS
    with pytest.raises(ValueError, match=r"train_pre_infant.*use one of"):
        syrip_annotation_path("x", "train_pre_infant")
    with pytest.raises(ValueError, match="variant '500R'"):
        syrip_annotation_path("x", "train_infant", "500R")


def test_wrong_root_lists_expected_layout(tmp_path):
    (tmp_path / "SyRIP" / "annotations").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"no images/ folder.*annotations/person_keypoints"):
        load_syrip(tmp_path / "SyRIP")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_syrip(tmp_path / "nowhere")


def test_missing_annotation_file_lists_what_is_there(tmp_path):
    root = write_syrip(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"validate500.*has no JSON files"):
        load_syrip(root, "validate_infant", variant="validate500")
    (root / "annotations" / "person_keypoints_validate_infant.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"holds \['person_keypoints_train_infant.json'\]"):
        load_syrip(root, "validate_infant")


def test_missing_image_is_reported(tmp_path):
    root = write_syrip(tmp_path)
    (root / "images" / "train_infant" / "train00002.jpg").unlink()
    with pytest.raises(CocoFormatError, match=r"train00002.jpg does not exist"):
        load_syrip(root)
    assert load_syrip(root, check_images=False).num_images == 3


def test_invalid_record_is_reported_by_read_coco(tmp_path):
    root = write_syrip(tmp_path)
    path = syrip_annotation_path(root, "train_infant")
    data = json.loads(path.read_text())
    data["annotations"][1]["keypoints"] = data["annotations"][1]["keypoints"][:50]
    path.write_text(json.dumps(data))
    with pytest.raises(CocoFormatError, match="keypoints"):
        load_syrip(root)


def test_missing_or_empty_is_synthetic_is_an_error(tmp_path):
    root = write_syrip(tmp_path)
    path = syrip_annotation_path(root, "train_infant")
    data = json.loads(path.read_text())
    del data["images"][0]["is_synthetic"]
    del data["images"][1]["is_synthetic"]
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError, match=r"2 of 3 image records.*id=1.*id=2.*collation"):
        load_syrip(root)
    assert load_syrip(root, require_is_synthetic=False).is_synthetic(1) is None
    # '' (what FiDIP substitutes) is already rejected by read_coco's type check.
    data["images"][1]["is_synthetic"] = ""
    path.write_text(json.dumps(data))
    with pytest.raises(CocoFormatError, match="is_synthetic"):
        load_syrip(root)


def test_id_that_disagrees_with_file_name_warns(tmp_path):
    root = write_syrip(tmp_path, validate={3: ("test4.jpg", False)})
    with pytest.warns(UserWarning, match=r"id=3 with 'test4.jpg'"):
        coco = load_syrip(root, "validate_infant")
    assert coco.image_ids == [3]


def test_syrip_root_from_profile(tmp_path, monkeypatch):
    profile = load_profile("paper")
    with pytest.raises(FileNotFoundError, match=r"paths.syrip.*AClab/SyRIP"):
        syrip_root(profile)
    root = write_syrip(tmp_path / "syrip")
    profile.paths["syrip"] = str(root)
    assert syrip_root(profile) == root
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path))
    profile.paths["syrip"] = "syrip"
    assert syrip_root(profile) == root
    profile.paths["syrip"] = "elsewhere"
    with pytest.raises(FileNotFoundError, match=r"elsewhere.*not a folder.*AClab"):
        syrip_root(profile)
