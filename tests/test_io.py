"""Atomic writes: a file or folder is complete on disk or absent, never half-written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infantpose.io import atomic_dir, atomic_path, write_json_atomic, write_text_atomic


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_json_round_trip_with_numpy_values(tmp_path):
    path = write_json_atomic(tmp_path / "a" / "m.json", {"ap": np.float32(0.5), "k": np.arange(3)})
    assert json.loads(path.read_text()) == {"ap": 0.5, "k": [0, 1, 2]}
    assert _leftovers(path.parent) == []


def test_failed_serialisation_leaves_the_old_file_untouched(tmp_path):
    path = write_text_atomic(tmp_path / "m.json", "old")
    with pytest.raises(TypeError, match="not JSON serialisable"):
        write_json_atomic(path, {"bad": object()})
    assert path.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_exception_inside_atomic_path_keeps_old_content_and_cleans_up(tmp_path):
    path = write_text_atomic(tmp_path / "ckpt.bin", "old")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_atomic_dir_replaces_a_dataset_folder_only_when_complete(tmp_path):
    target = tmp_path / "dataset"
    with atomic_dir(target) as tmp:
        (tmp / "images").mkdir()
        (tmp / "ann.json").write_text("{}")
    assert (target / "ann.json").exists()

    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "ann.json").write_text('{"new": true}')
        raise RuntimeError("render failed mid-dataset")
    assert (target / "ann.json").read_text() == "{}"  # the complete old dataset survives
    assert _leftovers(tmp_path) == []

    with atomic_dir(target) as tmp:
        (tmp / "ann.json").write_text('{"v": 2}')
    assert (target / "ann.json").read_text() == '{"v": 2}'
    assert not (target / "images").exists()
    assert _leftovers(tmp_path) == []


# --- permissions follow the umask; killed writers leave nothing forever -----------------------


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775)]
)
def test_written_files_and_folders_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    import os
    import stat

    previous = os.umask(umask)
    try:
        path = write_json_atomic(tmp_path / "m.json", {"a": 1})
        with atomic_dir(tmp_path / "dataset") as tmp:
            (tmp / "x.txt").write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == file_mode  # was 0600 whatever the umask
    assert stat.S_IMODE((tmp_path / "dataset").stat().st_mode) == dir_mode  # was 0700


def test_folders_of_killed_writers_are_cleaned_up_and_unknown_ones_reported(tmp_path):
    import os

    from infantpose.io import temp_prefix

    dead = tmp_path / f"{temp_prefix(tmp_path / 'dataset', pid=2**31 - 1)}abcd1234.tmp"
    alive = tmp_path / f"{temp_prefix(tmp_path / 'dataset', pid=os.getpid())}efgh5678.tmp"
    foreign = tmp_path / ".dataset.otherhost-1.ijkl9012.tmp"  # another machine's writer
    legacy = tmp_path / ".dataset.mnop3456.tmp"  # written before writers were named
    unrelated = tmp_path / ".datasets.zzzz0000.tmp"
    for folder in (dead, alive, foreign, legacy, unrelated):
        (folder / "images").mkdir(parents=True)
    with pytest.warns(UserWarning, match=r"\.dataset\.mnop3456\.tmp.*remove it by hand"):
        with atomic_dir(tmp_path / "dataset") as tmp:
            (tmp / "x.txt").write_text("x")
    assert not dead.exists()
    assert alive.exists() and foreign.exists() and legacy.exists() and unrelated.exists()
    assert (tmp_path / "dataset" / "x.txt").read_text() == "x"
