"""SyRIP loader, on the SyRIP-shaped fixture in tests/data/syrip (two real and one synthetic
training image, two validation images; tests/data/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infantpose.config import load_profile
from infantpose.data.coco import CocoFormatError
from infantpose.data.syrip import (
    SYRIP_SPLITS,
    SYRIP_VARIANTS,
    DatasetError,
    domain_counts,
    load_syrip,
    syrip_annotation_path,
    syrip_root,
)


@pytest.fixture
def syrip_dir(fixtures_dir):
    return fixtures_dir / "syrip"


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_load_train_and_validate(syrip_dir):
    root = syrip_dir
    train = load_syrip(root)
    assert train.num_images == 3 and train.num_annotations == 3
    assert domain_counts(train) == {"real": 2, "synthetic": 1, "unknown": 0}
    assert train.image_path(10001) == root / "images" / "train_infant" / "train10001.jpg"
    assert train.image_path(10001).is_file()
    validate = load_syrip(root, "validate_infant")
    assert sorted(validate.image_ids) == [0, 7]
    assert train.keypoints_array().shape == (3, 17, 3)


def test_variant_reads_its_folder(syrip_dir):
    root = syrip_dir
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


def test_missing_annotation_file_lists_what_is_there(fixture_copy):
    root = fixture_copy("syrip")
    with pytest.raises(FileNotFoundError, match=r"validate500.*has no JSON files"):
        load_syrip(root, "validate_infant", variant="validate500")
    (root / "annotations" / "person_keypoints_validate_infant.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"holds \['person_keypoints_train_infant.json'\]"):
        load_syrip(root, "validate_infant")


def test_missing_image_is_reported(fixture_copy):
    root = fixture_copy("syrip")
    (root / "images" / "train_infant" / "train00002.jpg").unlink()
    with pytest.raises(CocoFormatError, match=r"train00002.jpg does not exist"):
        load_syrip(root)
    assert load_syrip(root, check_images=False).num_images == 3


def test_invalid_record_is_reported_by_read_coco(fixture_copy):
    root = fixture_copy("syrip")
    path = syrip_annotation_path(root, "train_infant")
    data = json.loads(path.read_text())
    data["annotations"][1]["keypoints"] = data["annotations"][1]["keypoints"][:50]
    path.write_text(json.dumps(data))
    with pytest.raises(CocoFormatError, match="keypoints"):
        load_syrip(root)


def test_missing_or_empty_is_synthetic_is_an_error(fixture_copy):
    root = fixture_copy("syrip")
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


def test_id_that_disagrees_with_file_name_warns(fixture_copy):
    root = fixture_copy("syrip")

    def renumber(data):  # test7.jpg becomes image 3: every id stays unique and linked
        data["images"][1]["id"] = 3
        data["annotations"][1]["id"] = data["annotations"][1]["image_id"] = 3

    _edit(syrip_annotation_path(root, "validate_infant"), renumber)
    with pytest.warns(UserWarning, match=r"1 image records.*id=3 with 'test7.jpg'"):
        coco = load_syrip(root, "validate_infant")
    assert coco.image_ids == [0, 3]


def test_syrip_root_from_profile(tmp_path, fixture_copy, monkeypatch):
    profile = load_profile("paper")
    with pytest.raises(FileNotFoundError, match=r"paths.syrip.*AClab/SyRIP"):
        syrip_root(profile)
    root = fixture_copy("syrip")
    profile.paths["syrip"] = str(root)
    assert syrip_root(profile) == root
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path))
    profile.paths["syrip"] = "syrip"
    assert syrip_root(profile) == root
    profile.paths["syrip"] = "elsewhere"
    with pytest.raises(FileNotFoundError, match=r"elsewhere.*not a folder.*AClab"):
        syrip_root(profile)
