"""Bad inputs by class: what a hostile, careless or unlucky user can hand the package.

Each class states the promise that a later change must keep, then tries a few inputs of that
class (not only the ones an audit found). The classes:

1. nothing of the user's is deleted (folders replaced, ``clean``);
2. a bad ground truth is an error, never a number (``read_coco``, ``keypoint_ap``, datasets);
3. every path a data file or profile names stays under its root;
4. parsers have limits (YAML, JSON, ``.npy``/``.npz``) and say the file and the line;
5. numeric settings are checked where they are declared, with the field's name;
6. command lines print one line and exit 2, whatever went wrong;
7. a writer killed mid-way (SIGKILL included) leaves nothing a later run trips on.
"""

from __future__ import annotations

import copy
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from infantpose.config import ConfigError, load_profile, read_yaml
from infantpose.data.coco import CocoFormatError, read_coco
from infantpose.io import (
    MADE_MARKER,
    FileFormatError,
    atomic_dir,
    is_made,
    path_under,
    read_json,
    read_npy,
    read_npz,
    write_json_atomic,
)
from infantpose.keypoints import COCO_PERSON_CATEGORY
from infantpose.metrics import keypoint_ap

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- small fixtures


def _coco(n: int = 2, size: tuple[int, int] = (64, 48)) -> dict:
    """``n`` images of ``size``, one person each, every record valid."""
    images, annotations = [], []
    for k in range(1, n + 1):
        images.append({"id": k, "file_name": f"im{k:03d}.png", "width": size[0], "height": size[1]})
        xy = np.stack([np.linspace(10, 50, 17), np.linspace(8, 40, 17) + k], 1)
        flat = np.concatenate([xy, np.full((17, 1), 2.0)], 1).round(1).ravel().tolist()
        annotations.append(
            {"id": k, "image_id": k, "category_id": 1, "keypoints": flat, "num_keypoints": 17,
             "bbox": [10, 8, 40, 34], "area": 900.0, "iscrowd": 0}
        )  # fmt: skip
    return {
        "images": images,
        "annotations": annotations,
        "categories": [copy.deepcopy(COCO_PERSON_CATEGORY)],
    }


def _predictions(gt: dict, shift_px: float = 0.0) -> list[dict]:
    out = []
    for ann in gt["annotations"]:
        kpts = np.asarray(ann["keypoints"], float).reshape(17, 3)
        kpts[:, 0] += shift_px
        kpts[:, 2] = 1.0
        out.append(
            {"image_id": ann["image_id"], "category_id": 1, "keypoints": kpts.ravel().tolist(),
             "score": 0.9}
        )  # fmt: skip
    return out


def _write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """Data and runs roots of their own: never the real data root (a run may be using it)."""
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("INFANTPOSE_RUNS", str(tmp_path / "runs"))
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


def _user_folder(path: Path) -> Path:
    """A folder of the user's: hand labels and notes."""
    path.mkdir(parents=True)
    (path / "labels.json").write_text('{"mine": true}')
    (path / "notes.txt").write_text("three hours of work")
    return path


def _intact(path: Path) -> bool:
    return (path / "labels.json").read_text() == '{"mine": true}' and (
        path / "notes.txt"
    ).read_text() == "three hours of work"


# =========================================================================== 1. deletion


def test_atomic_dir_never_deletes_a_folder_it_did_not_make(tmp_path):
    mine = _user_folder(tmp_path / "out")
    with pytest.raises(FileExistsError, match="did not make"), atomic_dir(mine, overwrite=False):
        pass
    assert _intact(mine)
    with pytest.warns(UserWarning, match="moved aside"), atomic_dir(mine) as tmp:
        (tmp / "new.txt").write_text("new")
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("out.replaced-")]
    assert len(aside) == 1 and _intact(aside[0])
    assert is_made(mine) and (mine / "new.txt").exists()
    with atomic_dir(mine, overwrite=False) as tmp:  # ours now: replaced without a word
        (tmp / "newer.txt").write_text("newer")
    assert (mine / "newer.txt").exists() and not (mine / "new.txt").exists()


@pytest.mark.parametrize("kind", ["file", "link to a folder", "folder with a fake marker dir"])
def test_other_things_in_the_way_are_not_deleted(tmp_path, kind):
    target = tmp_path / "out"
    elsewhere = _user_folder(tmp_path / "elsewhere")
    if kind == "file":
        target.write_text("a file of the user's")
    elif kind == "link to a folder":
        (elsewhere / MADE_MARKER).write_text("")  # even a marked target is not followed
        target.symlink_to(elsewhere, target_is_directory=True)
    else:
        _user_folder(target)
        (target / MADE_MARKER).mkdir()  # a marker must be a file
    with pytest.raises(FileExistsError), atomic_dir(target, overwrite=False):
        pass
    assert _intact(elsewhere)
    assert os.path.lexists(target)


def test_extract_frames_refuses_a_folder_of_hand_labels(tmp_path):
    from infantpose.data.video import extract_frames, write_video

    frames = [np.full((32, 48, 3), 40 * i, np.uint8) for i in range(4)]
    clip = write_video(frames, tmp_path / "clip.mp4", 5)
    mine = _user_folder(tmp_path / "frames")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        extract_frames(clip, mine, progress=False)
    assert _intact(mine) and not list(mine.glob("*.jpg"))
    with pytest.warns(UserWarning, match="moved aside"):
        extract_frames(clip, mine, progress=False, overwrite=True)
    aside = next(tmp_path.glob("frames.replaced-*"))
    assert _intact(aside) and len(list(mine.glob("*.jpg"))) == 4
    extract_frames(clip, mine, every_n=2, progress=False)  # its own folder: just replaced
    assert len(list(mine.glob("*.jpg"))) == 2


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / MADE_MARKER).write_text("made by infantpose\n")
    (folder / "x.bin").write_bytes(b"0" * 64)
    return folder


def test_clean_never_follows_a_link_and_removes_only_marked_folders(roots, capsys):
    from infantpose.cli import main

    precious = _user_folder(roots / "my-labels")  # inside the data root, configured nowhere
    (roots / "synthetic").mkdir()
    (roots / "synthetic" / "link").symlink_to(precious, target_is_directory=True)
    unmarked = _user_folder(roots / "synthetic" / "handmade")
    made = _made(roots / "synthetic" / "made")
    inner = _made(roots / "standin" / "with-link")
    (inner / "escape").symlink_to(precious, target_is_directory=True)
    assert main(["clean", "--caches"]) == 0
    out = capsys.readouterr().out
    assert "keeping" in out and "link" in out and "not made by infantpose" in out
    assert _intact(precious) and _intact(unmarked)
    assert not made.exists() and not inner.exists()
    for path in (roots / "synthetic" / "link", unmarked):  # named on the command line
        assert main(["clean", str(path)]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert _intact(precious) and _intact(unmarked)


def test_clean_keeps_what_any_profile_points_to(roots, tmp_path, monkeypatch, capsys):
    import infantpose.cli as cli

    smoke = (ROOT / "configs" / "smoke.yaml").read_text()
    checkout = tmp_path / "checkout"
    (checkout / "configs").mkdir(parents=True)
    (checkout / "configs" / "mine.yaml").write_text(
        smoke.replace("name: smoke", "name: mine") + "paths:\n  syrip: synthetic/kept-a\n"
    )
    given = tmp_path / "given.yaml"
    given.write_text(smoke + "paths:\n  syrip: synthetic/kept-b\n")
    monkeypatch.setattr(cli, "project_root", lambda *a: checkout)
    a, b = _made(roots / "synthetic" / "kept-a"), _made(roots / "synthetic" / "kept-b")
    assert cli.main(["clean", str(a)]) == 2  # a profile under configs/ that is not built in
    assert "configures under `paths:`" in capsys.readouterr().err
    assert cli.main(["clean", str(b), "--profile", str(given)]) == 2
    assert a.exists() and b.exists()
    (checkout / "configs" / "broken.yaml").write_text("name: [")
    assert cli.main(["clean", "--caches"]) == 2  # cannot tell what it protects: nothing goes
    assert "broken.yaml" in capsys.readouterr().err and a.exists() and b.exists()


# =========================================================================== 2. ground truth


def _gt_cases() -> dict[str, tuple[dict, str]]:
    cases = {}
    big = _coco()
    big["annotations"][0]["area"] = 10 * 64 * 48
    cases["area ten times the image"] = (big, "more than the whole 64×48 image")
    negative = _coco()
    negative["annotations"][1]["area"] = -5.0
    cases["negative area"] = (negative, "must be > 0")
    twins = _coco()
    twins["annotations"][1]["id"] = twins["annotations"][0]["id"]
    cases["duplicate annotation ids"] = (twins, "id 1 is also used")
    twin_images = _coco()
    twin_images["images"][1]["id"] = 1
    twin_images["annotations"][1]["image_id"] = 1
    cases["duplicate image ids"] = (twin_images, "also used by images")
    visibility = _coco()
    visibility["annotations"][0]["keypoints"][2] = 3
    cases["visibility 3"] = (visibility, "visibility out of range")
    category = _coco()
    category["annotations"][0]["category_id"] = 7
    cases["unknown category"] = (category, "not in categories")
    huge = _coco()
    huge["annotations"][0]["keypoints"][0] = 10**400
    cases["an integer no float holds"] = (huge, "keypoints")
    return cases


@pytest.mark.parametrize("case", list(_gt_cases()))
@pytest.mark.parametrize("given_as", ["file", "dict"])
def test_a_bad_ground_truth_is_an_error_never_a_number(tmp_path, case, given_as):
    gt, message = _gt_cases()[case]
    source = _write_json(tmp_path / "gt.json", gt) if given_as == "file" else gt
    with pytest.raises(ValueError, match=message):
        keypoint_ap(source, _predictions(_coco(), shift_px=40.0))
    if given_as == "file":
        with pytest.raises(CocoFormatError, match=message):
            read_coco(source)


def test_predictions_of_another_category_are_refused(tmp_path):
    gt = _coco()
    predictions = _predictions(gt)
    predictions[0]["category_id"] = 2
    with pytest.raises(ValueError, match="category_id=2"):
        keypoint_ap(gt, predictions)


def test_an_image_whose_pixels_differ_from_its_record_is_refused(tmp_path):
    from PIL import Image

    from infantpose.pose2d.dataset import PoseDataset

    gt = _coco(1, size=(64, 48))
    Image.new("RGB", (32, 24)).save(tmp_path / "im001.png")  # half the size the record says
    path = _write_json(tmp_path / "gt.json", gt)
    with pytest.raises(CocoFormatError, match=r"says 64×48 but the file .* is 32×24"):
        read_coco(path, image_root=tmp_path, check_images=True)
    coco = read_coco(path, image_root=tmp_path)  # sizes unchecked: the dataset still refuses
    data = PoseDataset(coco, input_size=(32, 32), heatmap_size=(8, 8))
    with pytest.raises(ValueError, match=r"im001\.png is 32×24 but its record"):
        data[0]


# =========================================================================== 3. paths


@pytest.mark.parametrize(
    "name", ["../../x.png", "/etc/passwd", "images/../../x.png", "C:\\x.png", "..\\x.png", "~/x"]
)
def test_a_path_a_data_file_names_stays_under_its_root(tmp_path, name):
    gt = _coco(1)
    gt["images"][0]["file_name"] = name
    with pytest.raises(CocoFormatError, match="file_name"):
        read_coco(_write_json(tmp_path / "gt.json", gt))
    with pytest.raises(ValueError, match="file_name"):
        keypoint_ap(tmp_path / "gt.json", _predictions(gt))
    with pytest.raises(FileFormatError, match="`mask_file`"):
        path_under(tmp_path, name, where="test", field="mask_file")
    assert path_under(tmp_path, "a/b.png", where="test", field="f") == tmp_path / "a" / "b.png"


def test_saved_predictions_name_only_a_file_beside_them(tmp_path):
    from infantpose.pose2d.predictions import FORMAT, PredictionsError, read_predictions

    outside = tmp_path / "secret.json"
    outside.write_text("[]")
    folder = tmp_path / "run" / "predictions"
    folder.mkdir(parents=True)
    for name in ("../../secret.json", str(outside), "sub/x.json"):
        record = {"format": FORMAT, "name": "row", "results_file": name,
                  "results_sha256": "0", "test_set": {}}  # fmt: skip
        path = _write_json(folder / "row.provenance.json", record)
        with pytest.raises(PredictionsError, match="results_file"):
            read_predictions(path)


@pytest.mark.parametrize("field", ["name", "chapter"])
@pytest.mark.parametrize("value", ["../../escaped", "a/b", "/abs", ".."])
def test_profile_names_cannot_move_the_run_folder(tmp_path, field, value):
    text = (ROOT / "configs" / "smoke.yaml").read_text()
    if field == "name":
        text = text.replace("name: smoke", f"name: {json.dumps(value)}")
    else:
        text = text.replace("  00-measuring-pose:", f"  {json.dumps(value)}:")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="runs root"):
        load_profile(path)


# =========================================================================== 4. parsers


def _yaml_cases() -> dict[str, tuple[bytes, str]]:
    smoke = (ROOT / "configs" / "smoke.yaml").read_bytes()
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        bomb.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return {
        "duplicate key": (smoke + b"device: cuda\n", r"line \d+: key `device` appears twice"),
        "alias bomb": ("\n".join(bomb).encode(), r"line \d+: more than 32 aliases"),
        "deep nesting": (b"x: " + b"[" * 20_000 + b"]" * 20_000, r"line 1: nested more than"),
        "Latin-1 text": (smoke + "description2: \xe9t\xe9\n".encode("latin-1"), "not UTF-8"),
        "5,000-digit integer": (b"x: " + b"9" * 5000 + b"\n", "a value cannot be read"),
        "tab-indented garbage": (b"a:\n\t- b\n", "not valid YAML"),
    }


@pytest.mark.parametrize("case", list(_yaml_cases()))
def test_yaml_profiles_are_parsed_with_limits(tmp_path, case):
    data, message = _yaml_cases()[case]
    path = tmp_path / "p.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match=message) as caught:
        read_yaml(path)
    assert str(path) in str(caught.value)
    with pytest.raises(ConfigError):
        load_profile(path)


def _json_cases() -> dict[str, tuple[bytes, str]]:
    return {
        "20,000-deep list": (b"[" * 20_000 + b"]" * 20_000, "nested"),
        "5,000-digit integer": (b'{"a": ' + b"9" * 5000 + b"}", "cannot be read"),
        "Latin-1 bytes": ('{"a": "\xe9"}'.encode("latin-1"), "not UTF-8"),
        "cut short": (b'{"images": [', "line 1"),
    }


@pytest.mark.parametrize("case", list(_json_cases()))
def test_json_readers_refuse_absurd_files_naming_them(tmp_path, case):
    data, message = _json_cases()[case]
    path = tmp_path / "gt.json"
    path.write_bytes(data)
    with pytest.raises(FileFormatError, match=message) as caught:
        read_json(path)
    assert str(path) in str(caught.value)
    with pytest.raises(CocoFormatError):
        read_coco(path)
    with pytest.raises(ValueError, match=r"gt\.json"):
        keypoint_ap(path, [{"image_id": 1}])


def _npy_header(shape, descr: str) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def test_npy_readers_check_the_header_before_allocating(tmp_path):
    path = tmp_path / "a.npy"
    path.write_bytes(_npy_header((2**40,), "<f8") + b"\0" * 64)  # 8 TB stated, 64 bytes held
    with pytest.raises(FileFormatError, match="holds 64"):
        read_npy(path)
    path.write_bytes(_npy_header((10**9,), "|O") + b"\0" * 200_000)  # 9 GiB of object pointers
    with pytest.raises(FileFormatError, match="object array"):
        read_npy(path)
    # A small header, then a pickle whose own array state asks for ten million entries: refused
    # before numpy allocates them (a 60-byte stream made it allocate 1.4 GB).
    import tracemalloc

    from numpy._core import multiarray

    class Stated:
        def __reduce__(self):
            state = (1, (10**7,), np.dtype(object), False, ["a", "b"])
            return multiarray._reconstruct, (np.ndarray, (0,), b"b"), state

    path.write_bytes(_npy_header((2,), "|O") + pickle.dumps(Stated(), protocol=3))
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="beyond its header"):
            read_npy(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, (
        f"{peak / 2**20:.0f} MB allocated for a {path.stat().st_size}-byte file"
    )


def test_npz_readers_refuse_truncated_and_object_archives(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, x=np.arange(1000.0))
    assert read_npz(path)["x"].shape == (1000,)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(FileFormatError, match=r"a\.npz.*truncated"):
        read_npz(path)
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileFormatError, match=r"member x\.npy"):
        read_npz(path)


# =========================================================================== 5. settings


def _setting_cases():
    from infantpose.lift3d.lift import LiftConfig
    from infantpose.lift3d.train import PriorTrainConfig
    from infantpose.pose2d.config import TrainConfig, cpu_config
    from infantpose.pose2d.transforms import AugmentConfig

    return [
        (TrainConfig, {"heatmap_sigma": 0}, "heatmap_sigma"),
        (TrainConfig, {"lr": math.nan}, "lr"),
        (TrainConfig, {"lr": math.inf}, "lr"),
        (TrainConfig, {"epochs": "3"}, "epochs"),
        (TrainConfig, {"batch_size": 2.5}, "batch_size"),
        (TrainConfig, {"batch_size": True}, "batch_size"),
        (TrainConfig, {"warmup_fraction": -0.1}, "warmup_fraction"),
        (lambda **k: cpu_config(**k), {"model": {"input_size": (0, 0)}}, "input_size"),
        (LiftConfig, {"hypotheses": 0}, "hypotheses"),
        (LiftConfig, {"t_start": math.nan}, "t_start"),
        (LiftConfig.fast, {"oil_steps": 10.5}, "oil_steps"),
        (PriorTrainConfig, {"ema_rate": 2.0}, "ema_rate"),
        (AugmentConfig, {"scale_factor": math.nan}, "scale_factor"),
    ]


@pytest.mark.parametrize("case", range(13))
def test_a_bad_numeric_setting_fails_at_once_naming_its_field(case):
    make, values, field = _setting_cases()[case]
    with pytest.raises(ConfigError, match=f"`{field}`"):
        make(**values)


def test_extract_frames_settings_that_would_hang_or_mean_nothing(tmp_path):
    from infantpose.data.video import extract_frames

    for bad in ({"fps": math.inf}, {"fps": math.nan}, {"every_n": 2.5}, {"max_frames": 0},
                {"jpeg_quality": 500}):  # fmt: skip
        with pytest.raises(ValueError, match=next(iter(bad))):
            extract_frames(tmp_path / "no.mp4", **bad)  # refused before the file is opened


# =========================================================================== 6. command lines


def _run_cli(args: list, cwd: Path, env_root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "INFANTPOSE_DATA": str(env_root / "data"),
           "INFANTPOSE_RUNS": str(env_root / "runs"), "PYTHONPATH": str(ROOT / "lib")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "infantpose", *args], cwd=cwd, env=env, capture_output=True
    )


def test_command_lines_print_one_line_and_exit_2(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes((ROOT / "configs" / "smoke.yaml").read_bytes() + b"x: \xe9\n")
    deep = tmp_path / "deep.yaml"
    deep.write_bytes(b"x: " + b"[" * 20_000 + b"]" * 20_000)
    digits = tmp_path / "digits.yaml"
    digits.write_bytes(b"x: " + b"9" * 5000)
    odd_name = os.fsencode(tmp_path) + b"/caf\xe9.yaml"
    cases = [
        ["status", "--profile", str(latin)],
        ["status", "--profile", str(deep)],
        ["status", "--profile", str(digits)],
        ["status", "--profile", odd_name],
        ["clean", odd_name],
        ["no-such-command"],
        ["clean", "--caches", "--profile", str(latin)],
    ]
    (tmp_path / "data").mkdir()
    for args in cases:
        result = _run_cli(args, ROOT, tmp_path)
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        assert result.returncode == 2, (args, result.stderr)
        assert len(lines) == 1 and "Traceback" not in lines[0], (args, lines)


def test_an_unexpected_exception_is_one_line_too(roots, monkeypatch, capsys):
    import infantpose.cli as cli

    def boom(args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(cli, "cmd_status", boom)
    assert cli.main(["status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nested too deeply" in err[0]


# =========================================================================== 7. killed writers


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_sigkilled_writer_leaves_nothing_the_next_write_trips_on(tmp_path, kind):
    target = tmp_path / ("m.json" if kind == "file" else "dataset")
    opener = "atomic_path" if kind == "file" else "atomic_dir"
    script = textwrap.dedent(f"""
        import sys, time
        from infantpose.io import {opener}
        with {opener}(sys.argv[1]) as tmp:
            {"tmp.write_text('half')" if kind == "file" else "(tmp / 'half').write_text('x')"}
            print("writing", flush=True)
            time.sleep(60)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, env=env
    )
    try:
        assert writer.stdout.readline().strip() == b"writing"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(timeout=30)
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # left by the kill
    if kind == "file":
        write_json_atomic(target, {"ok": 1})
    else:
        with atomic_dir(target) as tmp:
            (tmp / "whole").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_replaced_folder_parked_by_a_killed_writer_is_put_back(tmp_path):
    from infantpose.io import _host

    target = tmp_path / "dataset"
    with atomic_dir(target) as tmp:
        (tmp / "old").write_text("complete")
    parked = tmp_path / f".dataset.old-{_host()}-{2**31 - 1}"  # killed between the renames
    os.replace(target, parked)
    with pytest.raises(RuntimeError), atomic_dir(target):
        raise RuntimeError("the next write fails too")
    assert (target / "old").read_text() == "complete" and not parked.exists()
