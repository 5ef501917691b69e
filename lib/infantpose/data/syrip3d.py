"""SyRIP's 3D "weak ground truth": the corrected 3D joints of ``Infant-Postural-Symmetry``.

Published files (``ostadabbas/Infant-Postural-Symmetry``), found anywhere under ``root``:

* ``correct_3D.npy``: (1700, 14, 3) float64, HW-HuP predictions corrected by hand with a
  modified EvoSkeleton tool, in LSP-14 order (R-ankle, R-knee, R-hip, L-hip, L-knee, L-ankle,
  R-wrist, R-elbow, R-shoulder, L-shoulder, L-elbow, L-wrist, neck, head top).
* ``output_imgnames.npy``: the 1700 image names of those rows (``GB/image_XXXXX.jpg``).
* ``img_name700_map.npy`` (optional): 700 rows ``[image_XXXXX.jpg, SyRIP file name]`` tying
  rows to real SyRIP images (``train00xxx.jpg`` of train200, ``test*.jpg`` of validate500).

ZeDO-i drops neck and head top and reorders to :data:`~infantpose.keypoints.SYRIP12`; its
split is the reverse of SHIFT's: the 200 ``train*`` images are its **test** set, the 500
``test*`` images its **train** set (``split``). The units are as stored: bones of 3-5 cm
look small for infants, so the scale is uncertain (``scale`` multiplies on load).

The files are read without pickle (:func:`infantpose.io.read_npy`): object arrays of names are
rebuilt by an unpickler that knows only arrays and strings, so a tampered file is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import FileFormatError, read_npy
from ..keypoints import SYRIP12
from .syrip import DatasetError

__all__ = ["LSP14_JOINTS", "SYRIP3D_FILES", "Syrip3D", "load_syrip3d"]

LSP14_JOINTS = (
    "right_ankle",
    "right_knee",
    "right_hip",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_wrist",
    "right_elbow",
    "right_shoulder",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "neck",
    "head_top",
)
#: The published file names: poses, their image names, the map to real SyRIP images.
SYRIP3D_FILES = ("correct_3D.npy", "output_imgnames.npy", "img_name700_map.npy")
# ZeDO-i's lib/dataset/syrip.py: keep the first 12, then [2,1,0,3,4,5,-3,-2,-1,-4,-5,-6].
_ZEDOI_ORDER = [2, 1, 0, 3, 4, 5, 9, 10, 11, 8, 7, 6]
_URL = "https://github.com/ostadabbas/Infant-Postural-Symmetry"


@dataclass
class Syrip3D:
    """The corrected 3D joints: ``joints_lsp14`` (N, 14, 3), ``poses`` (N, 12, 3) in SYRIP12.

    ``image_names`` (N,) from ``output_imgnames.npy``; ``syrip_names`` the real SyRIP file of
    each row ("" when unmapped); ``split`` ZeDO-i's "train"/"test" ("" when unmapped).
    """

    joints_lsp14: np.ndarray
    poses: np.ndarray
    image_names: np.ndarray
    syrip_names: np.ndarray
    split: np.ndarray
    layout: str = SYRIP12.name

    def __len__(self) -> int:
        return len(self.poses)

    def select(self, split: str) -> np.ndarray:
        """Row indices of ZeDO-i's ``"train"`` (500) or ``"test"`` (200) split."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return np.flatnonzero(self.split == split)


def _find(root: Path, name: str, required: bool) -> Path | None:
    direct = root / name
    if direct.is_file():
        return direct
    found = sorted(root.rglob(name))
    if found:
        return found[0]
    if required:
        raise FileNotFoundError(
            f"SyRIP 3D file {name} is not under {root}; it is published in {_URL} "
            f"(expected files: {', '.join(SYRIP3D_FILES)})"
        )
    return None


def _read(path: Path, *, strings: bool = True) -> np.ndarray:
    try:
        return read_npy(path, strings=strings)
    except FileFormatError as error:
        raise DatasetError(f"SyRIP 3D file {error} (files from {_URL})") from None


def load_syrip3d(root: str | os.PathLike, *, scale: float = 1.0) -> Syrip3D:
    """Read the SyRIP 3D correction files under ``root`` (see the module docstring)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"SyRIP 3D root {root} is not a folder (files from {_URL})")
    pose_path = _find(root, SYRIP3D_FILES[0], True)
    names_path = _find(root, SYRIP3D_FILES[1], True)
    map_path = _find(root, SYRIP3D_FILES[2], False)
    joints = _read(pose_path, strings=False)
    if joints.ndim != 3 or joints.shape[1:] != (14, 3) or joints.dtype.kind not in "fiu":
        raise DatasetError(
            f"{pose_path} has shape {joints.shape} ({joints.dtype}); expected (N, 14, 3) "
            "LSP-14 joint coordinates (the published file is (1700, 14, 3) float64)"
        )
    if not np.isfinite(joints).all():
        row, joint = np.argwhere(~np.isfinite(joints).all(-1))[0]
        raise DatasetError(
            f"{pose_path}: row {row}, joint {joint} ({LSP14_JOINTS[joint]}) is "
            f"{joints[row, joint].tolist()}; the published poses are all finite: download "
            f"the file again from {_URL}"
        )
    names = _read(names_path).astype(str).reshape(-1)
    if len(names) != len(joints):
        raise DatasetError(
            f"{names_path} lists {len(names)} image names but {pose_path} has {len(joints)} "
            "poses; both must come from the same release"
        )
    syrip_names = np.full(len(names), "", dtype=object)
    split = np.full(len(names), "", dtype="<U5")
    if map_path is not None:
        table = _read(map_path).astype(str)
        if table.ndim != 2 or table.shape[1] != 2:
            raise DatasetError(
                f"{map_path} has shape {table.shape}; expected (700, 2) rows "
                "[image_XXXXX.jpg, SyRIP file name]"
            )
        row_of = {Path(n).name: i for i, n in enumerate(names)}
        for image, real in table:
            row = row_of.get(Path(image).name)
            if row is None:
                raise DatasetError(f"{map_path} maps {image!r}, which {names_path} does not list")
            syrip_names[row] = real
            # ZeDO-i's syrip_process.py: train200 images are its test set, validate500 its train.
            split[row] = "test" if Path(real).name.startswith("train") else "train"
    joints = joints.astype(np.float64) * scale
    return Syrip3D(
        joints_lsp14=joints,
        poses=joints[:, :12][:, _ZEDOI_ORDER],
        image_names=names,
        syrip_names=syrip_names.astype(str),
        split=split,
    )
