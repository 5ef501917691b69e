"""No code runs from a data file: every loader of a user-supplied file refuses a tampered one.

The loaders: SMPL/SMIL pickles (restricted unpickler, tests/test_body_smpl_backend.py), SyRIP's 3D
``.npy`` files (tests/test_data_syrip3d.py), Pose-ResNet and prior checkpoints (torch
``weights_only``), pose sets (``.npz`` without pickle), profiles (YAML ``safe_load``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import infantpose

PACKAGE = Path(infantpose.__file__).parent


class _Payload:
    """Pickles as ``exec`` of code that creates ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            yield node, name, keywords


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _unsafe_loading(path: Path, where: str) -> list[str]:
    found = []
    text = path.read_text(encoding="utf-8")
    for needle in ("weights_only=False", "allow_pickle=True", "yaml.unsafe_load"):
        if needle in text:
            found.append(f"{where}: {needle}")
    for node, name, keywords in _calls(ast.parse(text)):
        at = f"{where}:{node.lineno}"
        if name.endswith("torch.load") and not _is_true(keywords.get("weights_only")):
            found.append(f"{at}: {name}() without weights_only=True")
        pickle_arg = keywords.get("allow_pickle")
        if name in ("np.load", "numpy.load") and pickle_arg is not None:
            if not (isinstance(pickle_arg, ast.Constant) and pickle_arg.value is False):
                found.append(f"{at}: np.load(allow_pickle=...) not literally False")
        if name in ("yaml.load", "yaml.load_all"):
            found.append(f"{at}: {name}() (use yaml.safe_load)")
        if name in ("pickle.load", "pickle.loads"):
            found.append(f"{at}: {name}() (use a restricted pickle.Unpickler)")
    return found


def test_the_package_never_unpickles_freely():
    """No ``weights_only=False``, no ``allow_pickle=True``, no unsafe YAML, anywhere."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += _unsafe_loading(path, str(path.relative_to(PACKAGE.parent)))
    assert not found, "unsafe loading:\n" + "\n".join(found)


def test_the_scan_catches_what_it_looks_for(tmp_path):
    # The scan must be able to fail: one line per rule it enforces.
    bad = tmp_path / "bad.py"
    bad.write_text(
        "torch.load(p)\n"
        "torch.load(p, weights_only=False)\n"
        "np.load(p, allow_pickle=flag)\n"
        "yaml.load(s)\n"
        "pickle.loads(b)\n"
    )
    found = _unsafe_loading(bad, "bad.py")
    assert [f.split(": ", 1)[1] for f in found] == [
        "weights_only=False",
        "torch.load() without weights_only=True",
        "torch.load() without weights_only=True",
        "np.load(allow_pickle=...) not literally False",
        "yaml.load() (use yaml.safe_load)",
        "pickle.loads() (use a restricted pickle.Unpickler)",
    ]


def _evil_checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"state_dict": {"w": torch.zeros(1)}, "extra": _Payload(marker)}, path)
    return path


def test_a_crafted_pose_resnet_checkpoint_runs_no_code(tmp_path):
    from infantpose.pose2d import checkpoints

    marker = tmp_path / "owned"
    path = _evil_checkpoint(tmp_path / "model.pth", marker)
    for load in (checkpoints.load_checkpoint, checkpoints.load_published, checkpoints.load_model):
        with pytest.raises(
            checkpoints.UntrustedCheckpointError, match=r"model\.pth was refused"
        ) as error:
            load(path)
        assert "\x1b" not in str(error.value)  # no terminal colour codes from torch
        assert not marker.exists()
    (tmp_path / "cut.pth").write_bytes(path.read_bytes()[:40])
    with pytest.raises(checkpoints.UntrustedCheckpointError, match=r"cut\.pth was refused"):
        checkpoints.load_checkpoint(tmp_path / "cut.pth")


def test_a_crafted_prior_checkpoint_runs_no_code(tmp_path):
    from infantpose.lift3d import load_prior

    marker = tmp_path / "owned"
    path = _evil_checkpoint(tmp_path / "prior.pt", marker)
    with pytest.raises(Exception, match=r"prior\.pt"):
        load_prior(path)
    assert not marker.exists()


def test_a_crafted_pose_set_runs_no_code(tmp_path):
    from infantpose.lift3d import load_pose_set

    marker = tmp_path / "owned"
    path = tmp_path / "poses.npz"
    np.savez(path, poses_3d=np.array([_Payload(marker)], dtype=object), keypoints_2d=np.zeros(1))
    with pytest.raises(ValueError):
        load_pose_set(path)
    assert not marker.exists()


def test_a_profile_cannot_construct_python_objects(tmp_path):
    from infantpose.config import ConfigError, load_profile

    marker = tmp_path / "owned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ConfigError, match=r"evil\.yaml: not valid YAML"):
        load_profile(path)
    assert not marker.exists()
