"""Synthetic datasets are reused only when made with the same parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infantpose.data.coco import annotation_record, image_record, make_coco, write_coco
from infantpose.synthesis.cache import dataset_root, load_or_make


def _maker(calls: list):
    def make(root):
        calls.append(root)
        points = np.zeros((17, 3))
        points[:, 0] = np.arange(17) * 3 + 10
        points[:, 1] = np.arange(17) * 2 + 10
        points[:, 2] = 2
        coco = make_coco(
            [image_record(1, "a.jpg", 100, 100, is_synthetic=True)],
            [annotation_record(1, 1, points)],
        )
        write_coco(coco, root / "ann.json")

    return make


def test_load_or_make_reuses_only_matching_parameters(tmp_path):
    calls: list = []
    root = tmp_path / "set"
    first = load_or_make(root, "ann.json", "images", {"count": 3, "seed": 0}, _maker(calls))
    again = load_or_make(root, "ann.json", "images", {"seed": 0, "count": 3}, _maker(calls))
    assert len(calls) == 1 and first.num_images == again.num_images == 1
    assert first.image_path(1) == root / "images" / "a.jpg"
    load_or_make(root, "ann.json", "images", {"count": 4, "seed": 0}, _maker(calls))
    assert len(calls) == 2  # a changed parameter makes the set again
    stamp = json.loads((root / "synthesis.json").read_text())
    stamp["engine"] = "older code"
    (root / "synthesis.json").write_text(json.dumps(stamp))
    load_or_make(root, "ann.json", "images", {"count": 4, "seed": 0}, _maker(calls))
    assert len(calls) == 3  # the engine's code changed since
    (root / "synthesis.json").write_text("{not json")
    load_or_make(root, "ann.json", "images", {"count": 4, "seed": 0}, _maker(calls))
    assert len(calls) == 4  # an unreadable stamp too


def test_dataset_root_is_under_the_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path))
    assert dataset_root("x") == tmp_path.resolve() / "synthetic" / "x"


def test_coco_statistics_and_images(tmp_path):
    from PIL import Image

    calls: list = []
    root = tmp_path / "set"
    coco = load_or_make(root, "ann.json", "images", {"n": 1}, _maker(calls))
    (root / "images").mkdir()
    Image.fromarray(np.full((100, 100, 3), (10, 200, 30), dtype=np.uint8)).save(
        root / "images" / "a.jpg", quality=100
    )
    pixels = coco.load_image(1)
    assert pixels.shape == (100, 100, 3) and abs(int(pixels[50, 50, 1]) - 200) < 4
    stats = coco.statistics()
    assert stats["images"] == 1 and stats["synthetic"] == 1
    assert stats["visible (v=2)"] == "100%" and stats["hidden (v=1)"] == "0%"
    box = coco.annotations[0]["bbox"]
    assert stats["median box (px)"] == f"{box[2]:.0f}×{box[3]:.0f}"

    import matplotlib.pyplot as plt

    from infantpose.viz import plot_coco_samples

    fig = plot_coco_samples(coco, 3, title="t")
    assert len(fig.axes) == 1 and "a.jpg" in fig.axes[0].get_title()
    plt.close(fig)


def test_load_made_reads_a_made_set_or_says_which_chapter_makes_it(tmp_path, monkeypatch):
    from infantpose.data.coco import image_record, make_coco, write_coco
    from infantpose.synthesis.adults import adults_root
    from infantpose.synthesis.cache import load_made
    from infantpose.synthesis.infants import infants_root

    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path))
    root = adults_root("surreal", 5, 1)
    assert root == tmp_path / "synthetic" / "adults_surreal_n5_s1_anny"
    assert infants_root(6, 2, 0).name == "infants_fidip_n6_r2_s0_anny"
    with pytest.raises(FileNotFoundError, match=r"chapter 02 makes it.*02-smil-synthesis"):
        load_made(root, "the SURREAL-like adults", "train_adult")
    coco = make_coco([image_record(1, "a.jpg", 8, 8)], [])
    write_coco(coco, root / "annotations" / "person_keypoints_train_adult.json")
    (root / "synthesis.json").write_text("{}")
    made = load_made(root, "the SURREAL-like adults", "train_adult")
    assert made.image_path(1) == root / "images" / "train_adult" / "a.jpg"


def test_adult_sets_with_floor_postures_or_other_frames_get_their_own_folder(monkeypatch, tmp_path):
    from infantpose.synthesis import adults

    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path))
    seen = []
    monkeypatch.setattr(adults, "load_or_make", lambda root, *a: seen.append((root, a[2])))
    adults.adult_set("surreal", 5, 1)
    adults.adult_set("surreal", 5, 1, postures="floor", image_size=(640, 480))
    (plain, plain_parameters), (floor, floor_parameters) = seen
    assert plain.name == "adults_surreal_n5_s1_anny" and "postures" not in plain_parameters
    assert floor.name == "adults_surreal_n5_s1_anny_floor_640x480"
    assert floor_parameters["postures"] == "floor"
    with pytest.raises(ValueError, match="upright, floor, all"):
        adults.adult_set("surreal", 5, 1, postures="sideways")


def test_coco_like_pretraining_set_merges_its_parts_with_distinct_ids(monkeypatch, tmp_path):
    from infantpose.synthesis import adults

    calls = []

    def fake_adult_set(preset, count, seed, *, postures, image_size, progress):
        calls.append((preset, count, seed, postures, tuple(image_size)))
        folder = tmp_path / f"{preset}_{postures}_{seed}"
        points = np.column_stack([np.arange(17) + 10.0, np.arange(17) * 2 + 10.0, np.full(17, 2)])
        images = [image_record(i, f"adult{i:05d}.jpg", 64, 64) for i in range(1, count + 1)]
        annotations = [annotation_record(i, i, points) for i in range(1, count + 1)]
        return make_coco(images, annotations, image_root=folder, source=str(folder))

    monkeypatch.setattr(adults, "adult_set", fake_adult_set)
    made = adults.adult_pretraining_set("coco-like", 10, 1)
    assert calls == [  # 2.5 rounds to 2 twice: the first part takes what is left
        ("surreal", 6, 1, "upright", (384, 288)),
        ("surreal", 2, 1001, "floor", (640, 480)),
        ("photo", 2, 2001, "all", (640, 480)),
    ]
    assert made.num_images == 10 and len(set(made.image_ids)) == 10
    assert {a["image_id"] for a in made.annotations} == set(made.image_ids)
    calls.clear()
    assert adults.adult_pretraining_set("surreal", 10, 1).num_images == 10
    assert calls == [("surreal", 10, 1, "upright", (384, 288))]
    with pytest.raises(ValueError, match="surreal, coco-like"):
        adults.adult_pretraining_set("coco", 10, 1)
