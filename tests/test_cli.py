"""``python -m infantpose``: status, validate, clean; one-line errors, exit codes, safety."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from infantpose.cli import main
from infantpose.data.coco import COCO_PERSON_CATEGORY
from infantpose.synthesis.cache import engine_fingerprint

ROOT = Path(__file__).resolve().parents[1]


def _coco(is_synthetic=(False, True)) -> dict:
    images, annotations = [], []
    for k, synthetic in enumerate(is_synthetic, start=1):
        image = {"id": k, "file_name": f"train{k:05d}.jpg", "width": 64, "height": 48}
        if synthetic is not None:
            image["is_synthetic"] = synthetic
        images.append(image)
        xy = np.stack([np.linspace(10, 50, 17), np.linspace(8, 40, 17)], 1)
        flat = np.concatenate([xy, np.full((17, 1), 2)], 1).round(1).ravel().tolist()
        annotations.append(
            {"id": k, "image_id": k, "category_id": 1, "keypoints": flat, "num_keypoints": 17,
             "bbox": [10, 8, 40, 32], "area": 900.0, "iscrowd": 0}
        )  # fmt: skip
    return {
        "images": images,
        "annotations": annotations,
        "categories": [copy.deepcopy(COCO_PERSON_CATEGORY)],
    }


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=1) if not isinstance(data, str) else data)
    return path


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """Data and runs roots of their own: never the real data root (a run may be using it)."""
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("INFANTPOSE_RUNS", str(tmp_path / "runs"))
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


# ------------------------------------------------------------------ validate


def test_validate_a_good_file_exits_0(tmp_path, capsys):
    path = _write(tmp_path / "ok.json", _coco())
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.strip().endswith("valid")


def test_validate_not_json_is_one_line_and_exit_1(tmp_path, capsys):
    path = _write(tmp_path / "bad.json", '{"images": [,]}')
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert str(path) in out[0] and "invalid JSON" in out[0] and "Fix:" in out[0]


def test_validate_missing_image_folder_and_missing_images(tmp_path, capsys):
    path = _write(tmp_path / "ok.json", _coco())
    assert main(["validate", str(path), "--images", str(tmp_path / "nope")]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "image folder does not exist" in out[0] and "Fix:" in out[0]
    (tmp_path / "images").mkdir()
    assert main(["validate", str(path), "--images", str(tmp_path / "images")]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and all("train0000" in line and "Fix:" in line for line in out)


def test_validate_wrong_is_synthetic_type_names_record_field_and_fix(tmp_path, capsys):
    data = _coco()
    data["images"][1]["is_synthetic"] = "yes"
    path = _write(tmp_path / "syrip.json", data)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "images[1]" in out[0] and "is_synthetic" in out[0] and "Fix:" in out[0]


def test_validate_syrip_requires_is_synthetic_on_every_image(tmp_path, capsys):
    plain = _write(tmp_path / "coco.json", _coco(is_synthetic=(None, None)))
    assert main(["validate", str(plain)]) == 0  # plain COCO: the field is optional
    capsys.readouterr()
    assert main(["validate", str(plain), "--syrip"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "is_synthetic" in out[0] and "id=1" in out[0]
    # A file that labels some images only is SyRIP-like with holes: checked without --syrip.
    mixed = _write(tmp_path / "mixed.json", _coco(is_synthetic=(False, None)))
    assert main(["validate", str(mixed)]) == 1
    assert "id=2" in capsys.readouterr().out


def test_validate_a_missing_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "(fix: " in err[0]


# ------------------------------------------------------------------ status


def _made(root: Path, name: str, engine: str) -> Path:
    folder = root / "synthetic" / name
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "a.jpg").write_bytes(b"x" * 2048)
    stamp = {"count": 8, "preset": "surreal", "seed": 0, "engine": engine}
    (folder / "synthesis.json").write_text(json.dumps(stamp))
    return folder


def test_status_reports_datasets_and_whether_a_rerun_reuses_them(roots, capsys):
    _made(roots, "adults_surreal_n8_s0_anny", engine_fingerprint())
    _made(roots, "adults_photo_n8_s0_anny", "0" * 16)
    assert main(["status", "--profile", "smoke", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["profile"]["name"] == "smoke"
    assert report["data_root"] == str(roots)
    rows = {row["name"]: row for row in report["datasets"]}
    current = rows["synthetic/adults_surreal_n8_s0_anny"]
    assert current["reused"].startswith("yes") and current["made_with"]["count"] == 8
    assert current["bytes"] >= 2048
    assert rows["synthetic/adults_photo_n8_s0_anny"]["reused"].startswith("no")
    assert "device" in report and report["models"] == []
    assert main(["status", "--profile", "smoke"]) == 0
    text = capsys.readouterr().out
    assert "made datasets (2," in text and "syrip" in text


def test_status_names_the_key_of_a_missing_configured_path(roots, tmp_path, capsys):
    profile = (ROOT / "configs" / "smoke.yaml").read_text()
    profile += "paths:\n  syrip: /no/such/SyRIP\n"
    path = _write(tmp_path / "mine.yaml", profile)
    assert main(["status", "--profile", str(path)]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.strip().startswith("syrip"))
    assert "/no/such/SyRIP" in line and "missing" in line and "paths.syrip" in line


def test_status_with_a_broken_profile_is_one_line(roots, tmp_path, capsys):
    profile = (ROOT / "configs" / "smoke.yaml").read_text() + "paths:\n  syirp: x\n"
    path = _write(tmp_path / "typo.yaml", profile)
    assert main(["status", "--profile", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "syirp" in err[0] and "did you mean `syrip`" in err[0]


# ------------------------------------------------------------------ clean


def test_clean_caches_removes_made_data_only(roots, capsys):
    made = _made(roots, "adults_surreal_n8_s0_anny", engine_fingerprint())
    model = roots / "cache" / "pose2d" / "adult_18_abc"
    model.mkdir(parents=True)
    (model / "last.pt").write_bytes(b"0" * 100)
    anny = roots / "cache" / "anny"
    anny.mkdir()
    real = roots / "syrip"
    real.mkdir()
    assert main(["clean", "--caches", "--dry-run"]) == 0
    assert made.exists() and model.exists()
    assert "would remove" in capsys.readouterr().out
    assert main(["clean", "--caches"]) == 0
    assert not made.exists() and not model.exists()
    assert anny.exists() and real.exists()


def test_clean_refuses_paths_outside_the_data_root(roots, tmp_path, capsys):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert main(["clean", str(outside)]) == 2
    assert main(["clean", str(roots / ".." / "elsewhere")]) == 2
    assert main(["clean", str(roots)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all("not inside the data root" in line for line in err)
    assert outside.exists() and roots.exists()


def test_clean_never_removes_a_configured_dataset(roots, monkeypatch, capsys):
    import infantpose.cli as cli

    kept = roots / "synthetic" / "mine"
    kept.mkdir(parents=True)
    monkeypatch.setattr(cli, "_protected_paths", lambda *_: [kept.resolve()])
    assert main(["clean", "--caches"]) == 2
    assert "configures under `paths:`" in capsys.readouterr().err
    assert kept.exists()


def test_clean_needs_something_to_do(roots, capsys):
    assert main(["clean"]) == 2
    assert "--caches" in capsys.readouterr().err


# ------------------------------------------------------------------ entry points


def test_module_and_console_script_run(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "infantpose", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "status" in out.stdout and "infantpose.book" in out.stdout
    script = Path(sys.executable).parent / "infantpose"
    if not script.exists():
        pytest.skip("console script not installed: pip install -e . --no-deps")
    bad = subprocess.run(
        [str(script), "validate", str(tmp_path / "none.json")], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
