"""COCO 2017 person keypoints, on the val2017 fixture in tests/data/coco (published layout).

Three images: one with a person and a crowd region, one with a person without labelled
keypoints, one without people (COCO lists those too).
"""

from __future__ import annotations

import shutil

import pytest

from infantpose.config import load_profile
from infantpose.data.coco import CocoFormatError
from infantpose.data.coco2017 import (
    COCO_SPLITS,
    coco_annotation_path,
    coco_root,
    load_coco_keypoints,
)


@pytest.fixture
def coco_dir(fixtures_dir):
    return fixtures_dir / "coco"


def test_reads_everything_by_default(coco_dir):
    root = coco_dir
    coco = load_coco_keypoints(root)
    assert coco.num_images == 3 and coco.num_annotations == 3
    assert coco.image_path(139) == root / "val2017" / "000000000139.jpg"
    assert coco.extra["info"]["description"] == "COCO 2017 Dataset"
    assert coco.annotations[2]["segmentation"] == {"counts": [0, 400, 7600], "size": [80, 100]}
    assert coco.images[0]["coco_url"].endswith("val2017/000000000139.jpg")  # kept as read


def test_fixture_loads_in_pycocotools(coco_dir, capsys):
    from pycocotools.coco import COCO

    gt = COCO(str(coco_annotation_path(coco_dir)))
    assert gt.getAnnIds(imgIds=[139]) == [1, 3]
    assert gt.getAnnIds(imgIds=[139], iscrowd=False) == [1]  # the crowd region is kept apart
    assert gt.getAnnIds(imgIds=[632]) == []


def test_min_keypoints_keeps_single_labelled_persons(coco_dir):
    coco = load_coco_keypoints(coco_dir, min_keypoints=1)
    assert [a["id"] for a in coco.annotations] == [1]
    assert coco.image_ids == [139]
    assert load_coco_keypoints(coco_dir, min_keypoints=18).num_images == 0


def test_max_images_in_file_order(coco_dir):
    root = coco_dir
    coco = load_coco_keypoints(root, max_images=2)
    assert coco.image_ids == [139, 285]
    assert sorted(a["id"] for a in coco.annotations) == [1, 2, 3]
    assert load_coco_keypoints(root, max_images=0).num_images == 0


def test_missing_image_is_reported_only_for_kept_images(fixture_copy):
    root = fixture_copy("coco")
    (root / "val2017" / "000000000632.jpg").unlink()
    with pytest.raises(CocoFormatError, match=r"000000000632.jpg does not exist"):
        load_coco_keypoints(root)
    assert load_coco_keypoints(root, max_images=2).num_images == 2
    assert load_coco_keypoints(root, check_images=False).num_images == 3


def test_missing_files_name_the_fix(tmp_path, fixture_copy):
    with pytest.raises(
        FileNotFoundError, match=r"person_keypoints_val2017.json.*annotations_trainval"
    ):
        load_coco_keypoints(tmp_path)
    with pytest.raises(ValueError, match="use one of"):
        load_coco_keypoints(tmp_path, "test2017")
    assert COCO_SPLITS == ("train2017", "val2017")
    root = fixture_copy("coco")
    shutil.rmtree(root / "val2017")
    with pytest.raises(FileNotFoundError, match=r"val2017 does not exist.*check_images=False"):
        load_coco_keypoints(root)


def test_coco_root_from_profile(tmp_path):
    profile = load_profile("paper")
    with pytest.raises(FileNotFoundError, match=r"paths.coco.*cocodataset.org"):
        coco_root(profile)
    profile.paths["coco"] = str(tmp_path)
    assert coco_root(profile) == tmp_path
