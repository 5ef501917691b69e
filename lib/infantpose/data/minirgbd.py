"""MINI-RGBD (Hesse et al., ECCVW 2018): synthetic SMIL infant sequences with 2D and 3D joints.

Layout (``MINI-RGBD_web`` from Fraunhofer IOSB; 12 sequences × 1000 frames, 640×480)::

    <root>/                                   paths.minirgbd in configs/*.yaml
      01/ … 12/
        rgb/syn_00000.png …
        depth/syn_00000_depth.png …           16-bit
        fg_mask/mask_00000.png …
        joints_2Ddep/syn_joints_2Ddep_00000.txt   25 rows: x y depth [id]; x, y in pixels
        joints_3D/syn_joints_3D_00000.txt         25 rows: x y z [id]; metres, camera frame
        smil_params/ smil_shape_betas.txt tpose/  (not read here)

Rows are the 25 joints of :data:`infantpose.keypoints.MINIRGBD25` in file order (24 SMIL
joints + the nose vertex). A fourth column, when present, is the joint id and must follow
the row order. Frames are indexed by the ``joints_2Ddep`` files: a frame without one is
not a labelled frame.

The data are rendered, so there are no occlusion labels: :meth:`MiniRgbd.to_coco` marks
every joint inside the image as visible (v = 2), joints outside it as not labelled (v = 0).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..camera import project_with_intrinsics
from ..config import Profile
from ..keypoints import COCO17, MINIRGBD25, Conversion, get_conversion
from .coco import CocoKeypoints, annotation_record, bbox_from_keypoints, image_record, make_coco
from .syrip import DatasetError, configured_root

__all__ = [
    "MINIRGBD_IMAGE_SIZE",
    "MINIRGBD_INTRINSICS",
    "MINIRGBD_SEQUENCES",
    "MINIRGBD_SPLITS",
    "MINIRGBD_URL",
    "MiniRgbd",
    "MiniRgbdFrame",
    "load_minirgbd",
    "minirgbd_root",
]

MINIRGBD_URL = (
    "https://www.iosb.fraunhofer.de/en/competences/image-exploitation/object-recognition/"
    "sensor-networks/motion-analysis.html"
)
MINIRGBD_SEQUENCES = tuple(f"{i:02d}" for i in range(1, 13))
MINIRGBD_IMAGE_SIZE = (640, 480)  # width, height

#: Pinhole intrinsics of every MINI-RGBD frame: fx = 588.67905803875317,
#: fy = 590.25690113005601, cx = 322.22048191353628, cy = 237.46785983766890. Source: the
#: constants in the SHIFT and ZeDO-i MINI-RGBD preprocessors (two repositories agree).
MINIRGBD_INTRINSICS = np.array(
    [
        [588.67905803875317, 0.0, 322.22048191353628],
        [0.0, 590.25690113005601, 237.46785983766890],
        [0.0, 0.0, 1.0],
    ]
)

#: Sequence splits of SHIFT (``lib/minirgbd_preprocess.py``); ZeDO-i uses the same
#: train/test. ``prior`` trains SHIFT's infant pose prior.
MINIRGBD_SPLITS: dict[str, tuple[str, ...]] = {
    "train": MINIRGBD_SEQUENCES[:10],
    "test": MINIRGBD_SEQUENCES[10:],
    "prior": ("01", "03", "05", "07", "09"),
    "all": MINIRGBD_SEQUENCES,
}

_FRAME = re.compile(r"^syn_joints_2Ddep_(\d+)\.txt$")
_EXPECTED = "01/ … 12/, each with rgb/, depth/, fg_mask/, joints_2Ddep/, joints_3D/"

def minirgbd_conversion() -> Conversion:
    """MINIRGBD25 → COCO17 (anatomical), as registered in :mod:`infantpose.keypoints`."""
    return get_conversion(MINIRGBD25, COCO17)


def minirgbd_root(profile: str | os.PathLike | Profile = "paper") -> Path:
    """The MINI-RGBD root of a profile (``paths.minirgbd``); the error says where to get it."""
    return configured_root(
        profile, "minirgbd", "MINI-RGBD", f"{MINIRGBD_URL} (MINI-RGBD_web)", _EXPECTED
    )


@dataclass(frozen=True)
class MiniRgbdFrame:
    """One labelled frame: 2D keypoints ``(25, 3)`` = x, y, depth; 3D joints ``(25, 3)`` in metres."""

    sequence: str
    frame: int
    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    rgb_path: Path
    depth_path: Path
    mask_path: Path


@dataclass
class MiniRgbd:
    """Frames of MINI-RGBD as arrays: ``keypoints_2d`` ``(N, 25, 3)``, ``joints_3d`` ``(N, 25, 3)``."""

    root: Path
    sequences: np.ndarray  # (N,) sequence names, "01" … "12"
    frames: np.ndarray  # (N,) frame numbers
    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    intrinsics: np.ndarray = field(default_factory=MINIRGBD_INTRINSICS.copy)

    def __len__(self) -> int:
        return len(self.frames)

    def _stem(self, i: int) -> tuple[Path, str]:
        return self.root / str(self.sequences[i]), f"{int(self.frames[i]):05d}"

    def rgb_path(self, i: int) -> Path:
        folder, number = self._stem(i)
        return folder / "rgb" / f"syn_{number}.png"

    def depth_path(self, i: int) -> Path:
        folder, number = self._stem(i)
        return folder / "depth" / f"syn_{number}_depth.png"

    def mask_path(self, i: int) -> Path:
        folder, number = self._stem(i)
        return folder / "fg_mask" / f"mask_{number}.png"

    def __getitem__(self, i: int) -> MiniRgbdFrame:
        return MiniRgbdFrame(
            str(self.sequences[i]),
            int(self.frames[i]),
            self.keypoints_2d[i],
            self.joints_3d[i],
            self.rgb_path(i),
            self.depth_path(i),
            self.mask_path(i),
        )

    def image_ids(self) -> np.ndarray:
        """COCO image ids: sequence × 100000 + frame (``01``/frame 42 → 100042)."""
        return self.sequences.astype(np.int64) * 100_000 + self.frames

    def project(self, points_3d: np.ndarray) -> np.ndarray:
        """Pixel coordinates ``(..., 2)`` of camera-frame points ``(..., 3)`` with the intrinsics."""
        return project_with_intrinsics(np.asarray(points_3d, dtype=np.float64), self.intrinsics)

    def keypoints_coco17(self) -> np.ndarray:
        """``(N, 17, 3)`` COCO ``x, y, v``: v = 2 inside the image, 0 outside or without a source."""
        width, height = MINIRGBD_IMAGE_SIZE
        xy = self.keypoints_2d[..., :2]
        inside = (
            (xy[..., 0] >= 0) & (xy[..., 0] < width) & (xy[..., 1] >= 0) & (xy[..., 1] < height)
        )
        xyv = np.concatenate([xy, np.where(inside, 2.0, 0.0)[..., None]], axis=-1)
        coco = minirgbd_conversion()(xyv, visibility=True)
        coco[coco[..., 2] == 0] = 0.0
        return coco

    def to_coco(self, *, bbox: str = "mask", bbox_margin: float = 0.1) -> CocoKeypoints:
        """A validated COCO set (``image_root`` = root, ``file_name`` = ``01/rgb/syn_00042.png``).

        ``bbox="mask"`` takes the box and area from ``fg_mask`` (the rendered silhouette);
        ``bbox="keypoints"`` from the labelled keypoints (+ ``bbox_margin`` per side).
        """
        if bbox not in ("mask", "keypoints"):
            raise ValueError(f"bbox={bbox!r}; use 'mask' or 'keypoints'")
        width, height = MINIRGBD_IMAGE_SIZE
        points, ids = self.keypoints_coco17(), self.image_ids()
        images, annotations = [], []
        for i in range(len(self)):
            file_name = self.rgb_path(i).relative_to(self.root).as_posix()
            images.append(image_record(int(ids[i]), file_name, width, height, is_synthetic=True))
            if bbox == "mask":
                box, area = _mask_box(self.mask_path(i))
            else:
                box = bbox_from_keypoints(points[i], margin=bbox_margin, image_size=(width, height))
                area = box[2] * box[3]
            annotations.append(
                annotation_record(int(ids[i]), int(ids[i]), points[i], bbox=box, area=area)
            )
        return make_coco(images, annotations, image_root=self.root, source=f"MINI-RGBD {self.root}")


def _mask_box(path: Path) -> tuple[list[float], float]:
    from ..images import read_image

    if not path.is_file():
        raise FileNotFoundError(
            f"MINI-RGBD mask {path} does not exist; restore fg_mask/ from MINI-RGBD_web, or "
            "use to_coco(bbox='keypoints')"
        )
    mask = read_image(path, mode="unchanged")
    if mask.ndim == 3:
        mask = mask.max(axis=-1)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise DatasetError(f"MINI-RGBD mask {path} is empty; use to_coco(bbox='keypoints')")
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], float(len(xs))


def _read_joints(path: Path, what: str) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(
            f"MINI-RGBD {what} file {path} does not exist, but the frame has a joints_2Ddep file; "
            "the sequence was copied incompletely: copy it again from MINI-RGBD_web"
        )
    try:
        rows = np.loadtxt(path, ndmin=2, dtype=np.float64)
    except ValueError as error:
        raise DatasetError(
            f"MINI-RGBD {what} file {path} is not a table of numbers ({error})"
        ) from None
    if rows.shape[0] != len(MINIRGBD25) or rows.shape[1] not in (3, 4):
        raise DatasetError(
            f"MINI-RGBD {what} file {path} has {rows.shape[0]} rows × {rows.shape[1]} columns; "
            f"expected {len(MINIRGBD25)} rows (one per joint) of 3 numbers plus an optional joint "
            "id. The file is damaged or is not a MINI-RGBD joint file: copy it again"
        )
    if rows.shape[1] == 4:
        ids, rows_order = rows[:, 3], np.arange(len(MINIRGBD25))
        if not (np.array_equal(ids, rows_order) or np.array_equal(ids, rows_order + 1)):
            raise DatasetError(
                f"MINI-RGBD {what} file {path}: the 4th column (joint id) is {ids.astype(int).tolist()}, "
                "not the row order 0…24; reorder the rows by id"
            )
    return rows[:, :3]


def _resolve_sequences(sequences: str | Iterable[str | int] | None) -> tuple[str, ...]:
    if sequences is None:
        return MINIRGBD_SEQUENCES
    if isinstance(sequences, str):
        if sequences in MINIRGBD_SPLITS:
            return MINIRGBD_SPLITS[sequences]
        sequences = [sequences]
    names = tuple(f"{int(s):02d}" for s in sequences)
    unknown = [s for s in names if s not in MINIRGBD_SEQUENCES]
    if unknown:
        raise ValueError(
            f"MINI-RGBD has no sequence {unknown}; use 1…12, '01'…'12' or a split "
            f"({', '.join(MINIRGBD_SPLITS)})"
        )
    return names


def load_minirgbd(
    root: str | os.PathLike,
    sequences: str | Sequence[str | int] | None = None,
    frames: Iterable[int] | None = None,
    stride: int = 1,
) -> MiniRgbd:
    """Read the 2D and 3D joints of MINI-RGBD frames (images are referenced by path, not read).

    ``sequences``: None (all 12), a split name of :data:`MINIRGBD_SPLITS`, or sequence
    numbers. ``frames``: frame numbers to keep (default: every labelled frame); ``stride``
    keeps every ``stride``-th of them per sequence.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"MINI-RGBD root {root} is not a folder; it should hold {_EXPECTED} "
            f"(MINI-RGBD_web from {MINIRGBD_URL})"
        )
    if stride < 1:
        raise ValueError(f"stride must be ≥ 1, got {stride}")
    wanted = None if frames is None else {int(f) for f in frames}
    names, numbers, points_2d, points_3d = [], [], [], []
    for sequence in _resolve_sequences(sequences):
        folder = root / sequence / "joints_2Ddep"
        if not folder.is_dir():
            found = sorted(p.name for p in root.iterdir())[:12]
            raise FileNotFoundError(
                f"MINI-RGBD sequence folder {folder} does not exist ({root} holds {found}). The "
                f"root should hold {_EXPECTED}; if you unpacked a zip, it may be one folder down"
            )
        found_frames = sorted(
            int(m.group(1)) for p in folder.iterdir() if (m := _FRAME.match(p.name))
        )
        if wanted is not None:
            found_frames = [f for f in found_frames if f in wanted]
        for number in found_frames[::stride]:
            stem = f"{number:05d}"
            points_2d.append(_read_joints(folder / f"syn_joints_2Ddep_{stem}.txt", "joints_2Ddep"))
            points_3d.append(
                _read_joints(
                    root / sequence / "joints_3D" / f"syn_joints_3D_{stem}.txt", "joints_3D"
                )
            )
            names.append(sequence)
            numbers.append(number)
    empty = np.zeros((0, len(MINIRGBD25), 3))
    return MiniRgbd(
        root=root,
        sequences=np.array(names, dtype="<U2"),
        frames=np.array(numbers, dtype=np.int64),
        keypoints_2d=np.stack(points_2d) if points_2d else empty,
        joints_3d=np.stack(points_3d) if points_3d else empty.copy(),
    )
