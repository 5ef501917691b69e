"""COCO person-keypoint files: read, validate, write, build (SyRIP's extras included).

The fixture is SyRIP's ``person_keypoints_train_infant.json`` in tests/data/syrip (published
layout: ``images`` with ``is_synthetic``/``posture``/``original_file_name``, one infant per
image, annotation id = image id, 17 COCO keypoints); bad inputs are that file with one field
changed.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from infantpose.data.coco import (
    MAX_PROBLEMS_PER_KIND,
    CocoFormatError,
    CocoKeypoints,
    annotation_record,
    bbox_from_keypoints,
    find_problems,
    image_record,
    make_coco,
    read_coco,
    validate,
    write_coco,
)
from infantpose.keypoints import COCO_PERSON_CATEGORY

SYRIP = Path(__file__).parent / "data" / "syrip"
SYRIP_TRAIN = SYRIP / "annotations" / "person_keypoints_train_infant.json"

# An infant lying on its back in a 640×480 frame, COCO order, x, y in pixels.
SUPINE_XY = [
    (320, 100), (330, 90), (310, 90), (342, 96), (298, 96),
    (360, 150), (280, 150), (380, 200), (260, 200), (390, 250), (250, 250),
    (345, 260), (295, 260), (355, 330), (285, 330), (360, 400), (280, 400),
]  # fmt: skip


def keypoints_flat(shift=(0, 0), hidden=(), unlabelled=()):
    """51 numbers; joints in ``hidden`` get v = 1, joints in ``unlabelled`` are 0, 0, 0."""
    flat = []
    for j, (x, y) in enumerate(SUPINE_XY):
        if j in unlabelled:
            flat += [0, 0, 0]
        else:
            flat += [x + shift[0], y + shift[1], 1 if j in hidden else 2]
    return flat


def syrip_dict():
    """SyRIP's train_infant file (the fixture): two real photos and one synthetic render.

    A fresh dict at every call; image 1 is :data:`SUPINE_XY` as it is, image 2 is shifted by
    (10, -20) without its left ear, image 10001 by (-30, 40) without either ear; the left
    wrist (9) is occluded (v = 1) in all three.
    """
    return json.loads(SYRIP_TRAIN.read_text(encoding="utf-8"))


def write_json(path: Path, data) -> Path:
    """Pretty-printed like a hand-edited file, so JSON errors have meaningful lines."""
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def syrip_file(tmp_path) -> Path:
    """A copy of the fixture file (some tests write over it), byte for byte."""
    return Path(shutil.copy(SYRIP_TRAIN, tmp_path / SYRIP_TRAIN.name))


def read_error(tmp_path, data, **kwargs) -> CocoFormatError:
    path = write_json(tmp_path / "person_keypoints_train_infant.json", data)
    with pytest.raises(CocoFormatError) as info:
        read_coco(path, **kwargs)
    assert str(path) in str(info.value)
    return info.value


# --------------------------------------------------------------------------- reading


def test_read_syrip_file(syrip_file):
    coco = read_coco(syrip_file)
    assert (coco.num_images, coco.num_annotations) == (3, 3)
    assert coco.image_ids == [1, 2, 10001]
    assert [coco.is_synthetic(im) for im in coco.images] == [False, False, True]
    assert coco.is_synthetic(10001) is True
    assert coco.posture(2) == "sitting"
    assert coco.source == str(syrip_file)
    assert "3 images (2 real, 1 synthetic), 3 annotations" in repr(coco)
    assert coco.categories == [COCO_PERSON_CATEGORY]  # the published person category


def test_keypoints_array_in_annotation_order(syrip_file):
    coco = read_coco(syrip_file)
    kpts = coco.keypoints_array()
    assert kpts.shape == (3, 17, 3)
    assert kpts.dtype == np.float64
    np.testing.assert_array_equal(kpts[0, :, :2], np.array(SUPINE_XY, dtype=float))
    assert kpts[0, 9, 2] == 1  # left_wrist hidden
    np.testing.assert_array_equal(kpts[2, 3], [0, 0, 0])  # left_ear not labelled
    assert make_coco([], []).keypoints_array().shape == (0, 17, 3)


def test_lookups(syrip_file):
    coco = read_coco(syrip_file)
    assert coco.image_of(coco.annotations[2])["file_name"] == "train10001.jpg"
    grouped = coco.annotations_by_image()
    assert list(grouped) == [1, 2, 10001]
    assert [a["id"] for a in grouped[2]] == [2]
    with pytest.raises(KeyError, match="no image with id 7"):
        coco.image_by_id(7)
    # Records added after a lookup are still found (the index rebuilds itself).
    coco.images.append({"id": 7, "file_name": "train00007.jpg", "width": 10, "height": 10})
    assert coco.image_by_id(7)["file_name"] == "train00007.jpg"
    assert coco.annotations_by_image()[7] == []


def test_image_path_needs_image_root(syrip_file, tmp_path):
    assert read_coco(syrip_file, tmp_path).image_path(1) == tmp_path / "train00001.jpg"
    with pytest.raises(ValueError, match="no image_root"):
        read_coco(syrip_file).image_path(1)


def test_missing_is_synthetic_means_unknown(tmp_path):
    data = syrip_dict()
    del data["images"][1]["is_synthetic"]
    coco = read_coco(write_json(tmp_path / "a.json", data))
    assert coco.is_synthetic(2) is None
    assert "1 unknown" in repr(coco)
    with pytest.raises(ValueError, match="1 of 3 images without an is_synthetic field"):
        coco.filter(is_synthetic=False)


def test_filter_and_subset_make_independent_sets(syrip_file):
    coco = read_coco(syrip_file)
    real = coco.filter(is_synthetic=False)
    assert real.image_ids == [1, 2]
    assert [a["image_id"] for a in real.annotations] == [1, 2]
    assert coco.filter(is_synthetic=True).image_ids == [10001]
    assert coco.filter(posture="supine").image_ids == [1, 10001]
    assert coco.filter(posture="supine", is_synthetic=False).image_ids == [1]
    assert coco.filter(where=lambda im: im["file_name"].endswith("2.jpg")).image_ids == [2]
    sub = coco.subset([10001, 1])
    assert sub.image_ids == [1, 10001]  # file order, not argument order
    sub.images[0]["posture"] = "prone"
    assert coco.posture(1) == "supine"
    assert sub.categories == coco.categories and sub.extra == coco.extra
    with pytest.raises(KeyError, match="not in the set"):
        coco.subset([1, 99])


def test_merge_keeps_every_file_reachable_and_refuses_clashing_ids(syrip_file, tmp_path):
    coco = read_coco(syrip_file, image_root=tmp_path / "real")
    real, synthetic = coco.filter(is_synthetic=False), coco.filter(is_synthetic=True)
    same_root = CocoKeypoints.merge(real, synthetic)
    assert same_root.image_ids == [1, 2, 10001] and same_root.image_root == tmp_path / "real"
    assert same_root.images[0]["file_name"] == coco.images[0]["file_name"]  # unchanged
    synthetic.image_root = tmp_path / "elsewhere"
    merged = CocoKeypoints.merge(real, synthetic)
    for part in (real, synthetic):
        for image in part.images:
            assert merged.image_path(image["id"]) == part.image_path(image).resolve()
    assert merged.filter(is_synthetic=True).image_ids == [10001]
    assert len(merged.annotations) == len(coco.annotations)
    with pytest.raises(ValueError, match="image id 1 is in both"):
        CocoKeypoints.merge(real, real)


def test_offset_ids_lets_sets_numbered_alike_merge(syrip_file, tmp_path):
    coco = read_coco(syrip_file, image_root=tmp_path / "real")
    shifted = coco.offset_ids(100_000)
    assert shifted.image_ids == [i + 100_000 for i in coco.image_ids]
    assert coco.image_ids == [1, 2, 10001]  # the original is untouched
    for before, after in zip(coco.annotations, shifted.annotations, strict=True):
        assert after["id"] == before["id"] + 100_000
        assert shifted.image_of(after)["file_name"] == coco.image_of(before)["file_name"]
    merged = CocoKeypoints.merge(coco, shifted)
    assert merged.num_images == 2 * coco.num_images


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_every_field(syrip_file, tmp_path):
    first = read_coco(syrip_file)
    out = write_coco(first, tmp_path / "out" / "copy.json")
    second = read_coco(out)
    assert second == first
    written = json.loads(out.read_text())
    assert written == syrip_dict()  # SyRIP extras, info, licenses and segmentation survive
    assert written["images"][2]["is_synthetic"] is True
    assert written["images"][0]["original_file_name"] == "youtube_017_frame_00420.jpg"
    assert list(written)[:2] == ["info", "licenses"]


def test_written_file_loads_in_pycocotools(syrip_file, tmp_path, capsys):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    path = write_coco(read_coco(syrip_file), tmp_path / "gt.json")
    gt = COCO(str(path))
    results = [
        {"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
        for a in gt.dataset["annotations"]
    ]
    evaluator = COCOeval(gt, gt.loadRes(results), "keypoints")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)  # ground truth scored against itself


# --------------------------------------------------------------------------- bad inputs


def _set(path, value):
    """A mutation that sets ``data[path[0]][path[1]]...[path[-1]] = value``."""

    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value

    return mutate


def _delete(path):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


A0 = "annotations[0] (id=1, image_id=1)"
A1 = "annotations[1] (id=2, image_id=2)"
I1 = "images[1] (id=2, file_name='train00002.jpg')"

BAD_INPUTS = {
    # name: (mutation, record, field, words of the message)
    "missing field": (_delete(["annotations", 1, "bbox"]), A1, "bbox", "is missing"),
    "16 keypoints": (
        _set(["annotations", 0, "keypoints"], lambda kp: kp[:48]),
        A0,
        "keypoints",
        "found 48 numbers = 16 keypoints; this file expects the 17 COCO keypoints in COCO order",
    ),
    "18 keypoints": (
        _set(["annotations", 0, "keypoints"], lambda kp: [*kp, 5, 5, 2]),
        A0,
        "keypoints",
        "found 54 numbers = 18 keypoints; this file expects the 17 COCO keypoints in COCO order",
    ),
    "v = 3": (
        _set(["annotations", 1, "keypoints", 3 * 9 + 2], 3),
        A1,
        "keypoints",
        "left_wrist v = 3 (keypoints[29])",
    ),
    "duplicate image id": (
        _set(["images", 2, "id"], 2),
        "images[2] (id=2, file_name='train10001.jpg')",
        "id",
        "id 2 is also used by images[1]",
    ),
    "duplicate annotation id": (
        _set(["annotations", 1, "id"], 1),
        "annotations[1] (id=1, image_id=2)",
        "id",
        "id 1 is also used by annotations[0]",
    ),
    "bbox outside image": (
        _set(["annotations", 0, "bbox"], [500, 70, 180, 350]),
        A0,
        "bbox",
        "reaches outside the 640×480 image (x from 500 to 680",
    ),
    "bbox with zero width": (
        _set(["annotations", 0, "bbox"], [230, 70, 0, 350]),
        A0,
        "bbox",
        "has width 0 and height 350; both must be > 0",
    ),
    "NaN coordinate": (
        _set(["annotations", 0, "keypoints", 0], math.nan),
        A0,
        "keypoints",
        "coordinates are not finite numbers: nose (nan, 100.0) at keypoints[0:2]",
    ),
    "unknown image": (
        _set(["annotations", 1, "image_id"], 99),
        "annotations[1] (id=2, image_id=99)",
        "image_id",
        "image_id 99 has no entry in images",
    ),
    "unknown category": (
        _set(["annotations", 1, "category_id"], 2),
        A1,
        "category_id",
        "category_id 2 is not in categories (known ids: [1])",
    ),
    "is_synthetic as text": (
        _set(["images", 1, "is_synthetic"], "false"),
        I1,
        "is_synthetic",
        'is "false" (a string); expected true or false',
    ),
    "width as float": (
        _set(["images", 1, "width"], 640.0),
        I1,
        "width",
        "expected a positive integer",
    ),
    "height zero": (_set(["images", 1, "height"], 0), I1, "height", "expected a positive integer"),
    "num_keypoints wrong": (
        _set(["annotations", 1, "num_keypoints"], 17),
        A1,
        "num_keypoints",
        "is 17 but 16 keypoints have v > 0",
    ),
    "area zero": (
        _set(["annotations", 0, "area"], 0),
        A0,
        "area",
        "is 0 while 17 keypoints are labelled",
    ),
    "keypoint outside image": (
        _set(["annotations", 0, "keypoints", 3 * 16], 700),
        A0,
        "keypoints",
        "labelled keypoints lie outside the 640×480 image: right_ankle at (700, 400)",
    ),
    "keypoint names in another order": (
        _set(
            ["categories", 0, "keypoints"], lambda names: [names[0], names[2], names[1], *names[3:]]
        ),
        "categories[0] (id=1, name='person')",
        "keypoints",
        "position 1 is \"right_eye\" (a string) where COCO order has 'left_eye'",
    ),
    "0-based skeleton": (
        _set(["categories", 0, "skeleton"], [[0, 1]]),
        "categories[0] (id=1, name='person')",
        "skeleton",
        "1-based keypoint numbers",
    ),
    "images not a list": (
        _set(["images"], {}),
        "top level",
        "images",
        "is an object with 0 keys, not a list",
    ),
    "categories missing": (_delete(["categories"]), "top level", "categories", "is missing"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_names_file_record_field_and_fix(tmp_path, name):
    mutate, record, field, words = BAD_INPUTS[name]
    data = syrip_dict()
    mutate(data)
    error = read_error(tmp_path, data)
    matching = [p for p in error.problems if p.record == record and p.field == field]
    assert matching, f"no problem for {record} / {field} in:\n{error}"
    problem = matching[0]
    assert words in problem.message
    assert problem.fix and problem.file.endswith("person_keypoints_train_infant.json")
    # The message a student sees carries all of it on one line.
    line = f"{problem.file}: {record}: field '{field}': {problem.message}. Fix: {problem.fix}"
    assert line in str(error)


def test_box_within_tolerance_passes_and_tolerance_is_adjustable(tmp_path):
    data = syrip_dict()
    data["annotations"][0]["bbox"] = [-0.5, 70, 641.0, 350]  # half a pixel over each side
    path = write_json(tmp_path / "a.json", data)
    read_coco(path)
    with pytest.raises(CocoFormatError, match="reaches outside"):
        read_coco(path, tolerance_px=0.0)


def test_corrupt_json_reports_line_and_column(tmp_path):
    text = json.dumps(syrip_dict(), indent=2).splitlines()
    line_no = next(i for i, line in enumerate(text) if '"file_name": "train00002.jpg"' in line)
    text[line_no] = text[line_no].rstrip(",")  # drop the comma after file_name
    path = tmp_path / "person_keypoints_train_infant.json"
    path.write_text("\n".join(text))
    with pytest.raises(CocoFormatError) as info:
        read_coco(path)
    problem = info.value.problems[0]
    assert problem.record == f"line {line_no + 2}, column 7"  # the key after the missing comma
    assert problem.field == "(JSON syntax)"
    assert "Expecting ',' delimiter" in problem.message and "file_name" not in problem.message
    assert str(path) in str(info.value) and "missing comma" in problem.fix


def test_file_cut_short_after_a_newline(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{\n  "images": [\n')
    with pytest.raises(CocoFormatError, match=r"line 3, column 1: .* at the end of the file"):
        read_coco(path)


def test_image_passed_as_annotation_file(tmp_path):
    path = tmp_path / "train00001.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not json")
    with pytest.raises(CocoFormatError, match="not UTF-8 text"):
        read_coco(path)


def test_empty_file_says_so(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("")
    with pytest.raises(CocoFormatError, match="the file is empty"):
        read_coco(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.json"):
        read_coco(tmp_path / "nope.json")


def test_results_file_gets_a_hint(tmp_path):
    results = [{"image_id": 1, "category_id": 1, "keypoints": keypoints_flat(), "score": 0.9}]
    error = read_error(tmp_path, results)
    assert "COCO *results* file" in error.problems[0].fix


def test_several_problems_in_one_error(tmp_path):
    data = syrip_dict()
    for name in ("16 keypoints", "v = 3", "duplicate image id", "unknown category"):
        BAD_INPUTS[name][0](data)
    error = read_error(tmp_path, data)
    found = {(p.record, p.field) for p in error.problems}
    assert {(A0, "keypoints"), (A1, "keypoints"), (A1, "category_id")} <= found
    assert ("images[2] (id=2, file_name='train10001.jpg')", "id") in found
    assert f"({len(error.problems)} problems)" in str(error)


def test_repeated_problem_is_shown_a_few_times_and_counted(tmp_path):
    data = syrip_dict()
    template = data["annotations"][0]
    data["annotations"] = [
        {**template, "id": i, "keypoints": template["keypoints"][:48]} for i in range(30)
    ]
    error = read_error(tmp_path, data)
    assert len(error.problems) == MAX_PROBLEMS_PER_KIND
    assert error.num_hidden == 30 - MAX_PROBLEMS_PER_KIND
    assert f"… and {30 - MAX_PROBLEMS_PER_KIND} more problems" in str(error)


def test_validate_dict_and_find_problems():
    data = syrip_dict()
    validate(data)
    assert find_problems(data) == []
    data["annotations"][0]["keypoints"][2] = 3
    with pytest.raises(CocoFormatError, match="in-memory COCO set: annotations\\[0\\]") as info:
        validate(data)
    assert isinstance(info.value, ValueError)
    assert len(find_problems(data, source="mine.json")) == 1
    assert find_problems(data, source="mine.json")[0].file == "mine.json"


# --------------------------------------------------------------------------- image files


def test_check_images_passes_when_all_exist(syrip_file):
    root = SYRIP / "images" / "train_infant"
    coco = read_coco(syrip_file, root, check_images=True)
    assert coco.image_path(10001).is_file()


def test_check_images_names_the_missing_file(syrip_file, tmp_path):
    root = Path(shutil.copytree(SYRIP / "images" / "train_infant", tmp_path / "images"))
    (root / "train10001.jpg").unlink()
    with pytest.raises(CocoFormatError) as info:
        read_coco(syrip_file, root, check_images=True)
    (problem,) = info.value.problems
    assert problem.record == "images[2] (id=10001, file_name='train10001.jpg')"
    assert problem.field == "file_name"
    assert str(root / "train10001.jpg") in problem.message
    assert str(syrip_file) in str(info.value)


def test_check_images_lists_a_few_and_counts_all(tmp_path):
    data = syrip_dict()
    data["images"] = [
        {
            "id": i,
            "file_name": f"train{i:05d}.jpg",
            "width": 640,
            "height": 480,
            "is_synthetic": False,
        }
        for i in range(1, 9)
    ]
    data["annotations"] = []
    (tmp_path / "images").mkdir()
    error = read_error(tmp_path, data, image_root=tmp_path / "images", check_images=True)
    assert len(error.problems) == MAX_PROBLEMS_PER_KIND + 1
    assert "8 of 8 image files are missing" in error.problems[-1].message


def test_check_images_needs_an_existing_root(syrip_file, tmp_path):
    with pytest.raises(ValueError, match="check_images=True needs image_root"):
        read_coco(syrip_file, check_images=True)
    with pytest.raises(CocoFormatError, match="does not exist"):
        read_coco(syrip_file, tmp_path / "no_such_folder", check_images=True)


# --------------------------------------------------------------------------- writing


def test_write_invalid_set_leaves_existing_file_untouched(syrip_file, tmp_path):
    before = syrip_file.read_bytes()
    coco = read_coco(syrip_file)
    coco.annotations[0]["keypoints"] = coco.annotations[0]["keypoints"][:48]
    with pytest.raises(CocoFormatError, match=re.escape(f"not writing {syrip_file}")) as info:
        write_coco(coco, syrip_file)
    assert "found 48 numbers = 16 keypoints" in str(info.value)
    assert syrip_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [syrip_file.name]


def test_write_invalid_dict_creates_nothing(tmp_path):
    data = syrip_dict()
    data["images"][0]["is_synthetic"] = 1
    with pytest.raises(CocoFormatError, match="is_synthetic"):
        write_coco(data, tmp_path / "new.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("interruption", [OSError("No space left on device"), KeyboardInterrupt()])
def test_interrupted_write_leaves_nothing_behind(syrip_file, tmp_path, monkeypatch, interruption):
    before = syrip_file.read_bytes()
    coco = read_coco(syrip_file)
    coco.images[0]["posture"] = "prone"

    def half_then_fail(self, text, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as f:
            f.write(text[: len(text) // 2])
        raise interruption

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    for target in (syrip_file, tmp_path / "fresh.json"):
        with pytest.raises(type(interruption)):
            write_coco(coco, target)
    monkeypatch.undo()
    assert syrip_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [syrip_file.name]


# --------------------------------------------------------------------------- builders


def test_builders_make_a_valid_set(tmp_path):
    points = np.array([[x, y, 2] for x, y in SUPINE_XY], dtype=float)
    points[3] = [np.nan, np.nan, 0]  # a renderer's joint behind the camera: not labelled
    images = [
        image_record(1, "train00001.jpg", 640, 480, is_synthetic=False, posture="supine"),
        image_record(
            10001, "train10001.jpg", np.int64(640), 480, is_synthetic=True, light="studio"
        ),
    ]
    annotations = [
        annotation_record(1, 1, points, image_size=(640, 480)),
        annotation_record(10001, 10001, points, bbox=[200, 50, 250, 400], area=5000.0),
    ]
    coco = make_coco(images, annotations, info={"description": "rendered"})
    assert (
        "is_synthetic" in images[0]
        and "posture" not in images[1]
        and images[1]["light"] == "studio"
    )
    first = coco.annotations[0]
    assert first["keypoints"][9:12] == [0.0, 0.0, 0]  # v = 0 is written as 0, 0, 0
    assert first["num_keypoints"] == 16
    assert first["area"] == pytest.approx(first["bbox"][2] * first["bbox"][3])
    assert coco.annotations[1]["area"] == 5000.0
    out = write_coco(coco, tmp_path / "built.json")
    assert read_coco(out) == coco
    assert json.loads(out.read_text())["info"] == {"description": "rendered"}


def test_bbox_from_keypoints_hand_computed():
    points = np.zeros((17, 3))
    points[0] = [100, 50, 2]
    points[15] = [200, 250, 1]
    points[16] = [999, 999, 0]  # not labelled: ignored
    assert bbox_from_keypoints(points, margin=0.1) == [90.0, 30.0, 120.0, 240.0]
    assert bbox_from_keypoints(points, margin=0.5, image_size=(220, 400)) == [
        50.0,
        0.0,
        170.0,
        350.0,
    ]
    with pytest.raises(ValueError, match="pass bbox= explicitly"):
        bbox_from_keypoints(np.zeros((17, 3)))


def test_annotation_record_rejects_wrong_layout():
    with pytest.raises(ValueError, match=r"shape \(16, 3\); expected \(17, 3\)"):
        annotation_record(1, 1, np.zeros((16, 3)))
    points = np.ones((17, 3))
    points[5, 2] = 3
    with pytest.raises(ValueError, match="left_shoulder v = 3"):
        annotation_record(1, 1, points)


def test_make_coco_validates_unless_told_not_to():
    bad = [{"id": 1, "file_name": "a.jpg", "width": 640, "height": -1}]
    with pytest.raises(CocoFormatError, match="height"):
        make_coco(bad, [])
    assert make_coco(bad, [], check=False).num_images == 1


def test_recompute_num_keypoints_is_the_explicit_fix(tmp_path):
    data = syrip_dict()
    data["annotations"][1]["num_keypoints"] = 3
    coco = CocoKeypoints.from_dict(data, check=False)
    fixed = coco.recompute_num_keypoints()
    assert [a["num_keypoints"] for a in fixed.annotations] == [17, 16, 15]
    assert coco.annotations[1]["num_keypoints"] == 3  # the original is not changed
    validate(fixed)
