"""COCO 2017 person keypoints: a tiny val2017 in the published layout.

Three images: one with a person and a crowd region, one with a person without labelled
keypoints, one without people (COCO lists those too).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from infantpose.config import load_profile
from infantpose.data.coco import CocoFormatError, annotation_record, image_record
from infantpose.data.coco2017 import (
    COCO_SPLITS,
    coco_annotation_path,
    coco_root,
    load_coco_keypoints,
)
from infantpose.keypoints import COCO_PERSON_CATEGORY

STANDING_XY = [
    (50, 10), (52, 8), (48, 8), (54, 9), (46, 9),
    (58, 20), (42, 20), (60, 32), (40, 32), (61, 42), (39, 42),
    (55, 45), (45, 45), (56, 60), (44, 60), (56, 75), (44, 75),
]  # fmt: skip


def write_coco2017(root: Path, split: str = "val2017") -> Path:
    images = [
        image_record(139, "000000000139.jpg", 100, 80),
        image_record(285, "000000000285.jpg", 100, 80),
        image_record(632, "000000000632.jpg", 100, 80),
    ]
    person = annotation_record(1, 139, [(x, y, 2) for x, y in STANDING_XY], image_size=(100, 80))
    nothing = annotation_record(2, 285, [(0, 0, 0)] * 17, bbox=[10, 10, 30, 40])
    crowd = annotation_record(3, 139, [(0, 0, 0)] * 17, bbox=[70, 5, 20, 20], iscrowd=1)
    crowd["segmentation"] = {"counts": [0, 400], "size": [80, 100]}
    data = {
        "info": {"description": "COCO 2017 Dataset"},
        "licenses": [],
        "images": images,
        "annotations": [person, nothing, crowd],
        "categories": [COCO_PERSON_CATEGORY],
    }
    path = coco_annotation_path(root, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    (root / split).mkdir()
    for image in images:
        Image.new("RGB", (100, 80)).save(root / split / image["file_name"])
    return root


def test_reads_everything_by_default(tmp_path):
    root = write_coco2017(tmp_path)
    coco = load_coco_keypoints(root)
    assert coco.num_images == 3 and coco.num_annotations == 3
    assert coco.image_path(139) == root / "val2017" / "000000000139.jpg"
    assert coco.extra["info"]["description"] == "COCO 2017 Dataset"
    assert "segmentation" in coco.annotations[2]


def test_min_keypoints_keeps_single_labelled_persons(tmp_path):
    coco = load_coco_keypoints(write_coco2017(tmp_path), min_keypoints=1)
    assert [a["id"] for a in coco.annotations] == [1]
    assert coco.image_ids == [139]
    assert load_coco_keypoints(tmp_path, min_keypoints=18).num_images == 0


def test_max_images_in_file_order(tmp_path):
    root = write_coco2017(tmp_path)
    coco = load_coco_keypoints(root, max_images=2)
    assert coco.image_ids == [139, 285]
    assert sorted(a["id"] for a in coco.annotations) == [1, 2, 3]
    assert load_coco_keypoints(root, max_images=0).num_images == 0


def test_missing_image_is_reported_only_for_kept_images(tmp_path):
    root = write_coco2017(tmp_path)
    (root / "val2017" / "000000000632.jpg").unlink()
    with pytest.raises(CocoFormatError, match=r"000000000632.jpg does not exist"):
        load_coco_keypoints(root)
    assert load_coco_keypoints(root, max_images=2).num_images == 2
    assert load_coco_keypoints(root, check_images=False).num_images == 3


def test_missing_files_name_the_fix(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"person_keypoints_val2017.json.*annotations_trainval"
    ):
        load_coco_keypoints(tmp_path)
    with pytest.raises(ValueError, match="use one of"):
        load_coco_keypoints(tmp_path, "test2017")
    assert COCO_SPLITS == ("train2017", "val2017")
    root = write_coco2017(tmp_path / "coco")
    for file in (root / "val2017").iterdir():
        file.unlink()
    (root / "val2017").rmdir()
    with pytest.raises(FileNotFoundError, match=r"val2017 does not exist.*check_images=False"):
        load_coco_keypoints(root)


def test_coco_root_from_profile(tmp_path):
    profile = load_profile("paper")
    with pytest.raises(FileNotFoundError, match=r"paths.coco.*cocodataset.org"):
        coco_root(profile)
    profile.paths["coco"] = str(tmp_path)
    assert coco_root(profile) == tmp_path
