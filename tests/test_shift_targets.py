"""SHIFT's target splits: MINI-RGBD's sequences and SyRIP's real/synthetic cut, as released."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from infantpose import shift
from infantpose.config import load_profile
from infantpose.data.coco import annotation_record, image_record, make_coco
from infantpose.data.minirgbd import MINIRGBD_INTRINSICS


def _write_minirgbd(root: Path, frames=(0, 1, 2, 3)) -> Path:
    """Twelve sequences in MINI-RGBD's published layout, small 2D/3D joints files and masks."""
    rng = np.random.default_rng(5)
    for sequence in (f"{i:02d}" for i in range(1, 13)):
        folder = root / sequence
        for sub in ("rgb", "fg_mask", "joints_2Ddep", "joints_3D"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for frame in frames:
            stem = f"{frame:05d}"
            joints = np.column_stack(
                [rng.uniform(-0.15, 0.15, 25), rng.uniform(-0.15, 0.15, 25), np.full(25, 0.8)]
            )
            uvw = joints @ MINIRGBD_INTRINSICS.T
            rows = np.column_stack([uvw[:, :2] / uvw[:, 2:], joints[:, 2] * 1000])
            np.savetxt(folder / "joints_2Ddep" / f"syn_joints_2Ddep_{stem}.txt", rows)
            np.savetxt(folder / "joints_3D" / f"syn_joints_3D_{stem}.txt", joints)
            cv2.imwrite(str(folder / "rgb" / f"syn_{stem}.png"), np.zeros((480, 640, 3), np.uint8))
            mask = np.zeros((480, 640), np.uint8)
            mask[120:360, 160:480] = 255
            cv2.imwrite(str(folder / "fg_mask" / f"mask_{stem}.png"), mask)
    return root


def _sequences(coco) -> set[str]:
    return {im["file_name"].split("/")[0] for im in coco.images}


def test_minirgbd_target_follows_shifts_sequences(tmp_path):
    target = shift.minirgbd_target(_write_minirgbd(tmp_path), stride=2)
    assert _sequences(target.splits["prior"]) == {"01", "03", "05", "07", "09"}
    assert _sequences(target.splits["adaptation"]) == {f"{i:02d}" for i in range(1, 10)}
    assert _sequences(target.splits["validation"]) == {"10"}
    assert _sequences(target.test) == {"11", "12"}
    assert target.sizes() == {"prior": 10, "validation": 2, "adaptation": 18, "test": 4}
    # the evaluation images are disjoint from every image a training role reads
    test_ids = {im["id"] for im in target.test.images}
    for split in target.splits.values():
        assert test_ids.isdisjoint(im["id"] for im in split.images)
    assert target.data == "real" and target.name == "MINI-RGBD"
    assert target.test.annotations[0]["bbox"] == pytest.approx([160, 120, 320, 240], abs=1)


def test_target_data_picks_minirgbd_from_the_profile(tmp_path):
    profile = load_profile("paper")
    profile.paths["minirgbd"] = str(_write_minirgbd(tmp_path, frames=(0,)))
    target = shift.target_data(profile, standin_train=0, standin_validate=0, minirgbd_stride=1)
    assert target.name == "MINI-RGBD" and target.sizes()["test"] == 2


def test_an_empty_minirgbd_split_names_the_root(tmp_path):
    _write_minirgbd(tmp_path, frames=(0,))
    for folder in (tmp_path / "10" / "joints_2Ddep").iterdir():
        folder.unlink()
    with pytest.raises(
        ValueError, match=r"sequences \['10'\] hold no labelled frame.*paths.minirgbd"
    ):
        shift.minirgbd_target(tmp_path)


def _syrip_like(n_real: int, n_synthetic: int):
    images, annotations = [], []
    rng = np.random.default_rng(3)
    for i in range(n_real + n_synthetic):
        synthetic = i >= n_real
        name = f"train{10001 + i if synthetic else i + 1:05d}.jpg"
        images.append(image_record(i + 1, name, 640, 480, is_synthetic=synthetic))
        points = np.column_stack(
            [rng.uniform(200, 400, 17), rng.uniform(150, 300, 17), np.full(17, 2)]
        )
        annotations.append(annotation_record(i + 1, i + 1, points))
    return make_coco(images, annotations, source="SyRIP-like")


def test_syrip_target_puts_real_images_in_the_prior_and_holds_out_synthetic_validation():
    train, test = _syrip_like(20, 100), _syrip_like(5, 0)
    target = shift.syrip_target(train, test, validation_fraction=0.1, seed=1)
    assert all(train.is_synthetic(im) is False for im in target.splits["prior"].images)
    assert target.sizes() == {"prior": 20, "validation": 10, "adaptation": 90, "test": 5}
    for role in ("validation", "adaptation"):
        assert all(train.is_synthetic(im) is True for im in target.splits[role].images)
    val = {im["id"] for im in target.splits["validation"].images}
    assert val.isdisjoint(im["id"] for im in target.splits["adaptation"].images)
    again = shift.syrip_target(train, test, validation_fraction=0.1, seed=2)
    assert val != {im["id"] for im in again.splits["validation"].images}


def test_syrip_target_without_real_images_says_which_file_to_use():
    with pytest.raises(ValueError, match=r"0 real and 10 synthetic.*200R_1000S"):
        shift.syrip_target(_syrip_like(0, 10), _syrip_like(2, 0), validation_fraction=0.1)


def test_paper_numbers_sit_beside_the_rows_they_belong_to():
    assert set(shift.PAPER_PCK["SyRIP"]) <= set(shift.ROWS)
    assert shift.paper_pck("SyRIP")["mean teacher"] == "34.2 (UDAPE)"
    # the paper's "Avg." is the mean of its six limb groups, except MINI-RGBD's source-only row
    for target, table in shift.PAPER_PCK.items():
        for row, values in table.items():
            limbs = np.mean(
                [values[g] for g in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
            )
            if (target, row) != ("MINI-RGBD", "source-only"):
                assert values["all"] == pytest.approx(limbs, abs=0.6), (target, row)
    with pytest.raises(KeyError, match="groups"):
        shift.paper_pck("SyRIP", "neck")
