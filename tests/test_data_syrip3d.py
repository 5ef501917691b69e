"""SyRIP's 3D files are read without pickle: a tampered file is refused, never executed."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose.data.syrip import DatasetError
from infantpose.data.syrip3d import load_syrip3d


class _Payload:
    """Pickles as a call to ``exec``: what an attacker would put in an object array."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def _write(root, names, table=None, joints=None):
    root.mkdir(parents=True, exist_ok=True)
    count = len(names)
    joints = np.zeros((count, 14, 3)) if joints is None else joints
    np.save(root / "correct_3D.npy", joints)
    np.save(root / "output_imgnames.npy", names, allow_pickle=True)
    if table is not None:
        np.save(root / "img_name700_map.npy", table, allow_pickle=True)


def test_names_saved_as_python_objects_still_load(tmp_path):
    # The published names may be an object array of str: read by a restricted unpickler.
    names = np.array(["GB/image_00000.jpg", "GB/image_00001.jpg"], dtype=object)
    table = np.array([["image_00001.jpg", "train00001.jpg"]], dtype=object)
    _write(tmp_path, names, table)
    data = load_syrip3d(tmp_path)
    assert data.image_names.tolist() == names.tolist()
    assert data.split.tolist() == ["", "test"]


@pytest.mark.parametrize("which", ["names", "map"])
def test_a_tampered_file_is_refused_without_running_its_code(tmp_path, which):
    marker = tmp_path / "owned"
    evil = np.array(["GB/image_00000.jpg", _Payload(marker)], dtype=object)
    names = np.array(["GB/image_00000.jpg", "GB/image_00001.jpg"])
    if which == "names":
        _write(tmp_path / "root", evil)
        refused = "output_imgnames.npy"
    else:
        _write(tmp_path / "root", names, np.array([evil, evil], dtype=object))
        refused = "img_name700_map.npy"
    with pytest.raises(DatasetError, match=rf"{refused}.*refusing.*builtins\.exec"):
        load_syrip3d(tmp_path / "root")
    assert not marker.exists()


def test_objects_other_than_strings_are_refused(tmp_path):
    _write(tmp_path, np.array([1, {"a": 2}], dtype=object))
    with pytest.raises(DatasetError, match=r"output_imgnames\.npy.*int.*strings"):
        load_syrip3d(tmp_path)


def test_truncated_and_non_finite_files_are_refused(tmp_path):
    _write(tmp_path, np.array(["a.jpg", "b.jpg"]))
    poses = tmp_path / "correct_3D.npy"
    poses.write_bytes(poses.read_bytes()[:-40])
    with pytest.raises(DatasetError, match=r"correct_3D\.npy.*truncated"):
        load_syrip3d(tmp_path)
    joints = np.zeros((2, 14, 3))
    joints[1, 13, 2] = np.nan
    _write(tmp_path, np.array(["a.jpg", "b.jpg"]), joints=joints)
    with pytest.raises(DatasetError, match=r"correct_3D\.npy.*row 1, joint 13 \(head_top\)"):
        load_syrip3d(tmp_path)
