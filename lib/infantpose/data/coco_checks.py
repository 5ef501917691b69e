"""Validate COCO person-keypoint sets and explain every problem so a student can fix it.

:func:`validate` raises one :class:`CocoFormatError` listing every :class:`Problem`
(file, record, field, what is wrong, the fix); :func:`find_problems` returns them as a
list. :mod:`infantpose.data.coco` reads and writes through these checks and re-exports
the public names, so ``from infantpose.data.coco import validate`` keeps working.

Decisions, so that notebooks and tests can rely on them:

* Validation reports, it never repairs: a wrong ``num_keypoints`` is an error;
  :meth:`~infantpose.data.coco.CocoKeypoints.recompute_num_keypoints` is the explicit fix.
* Boxes and labelled keypoints may reach :data:`OUTSIDE_IMAGE_TOLERANCE_PX` beyond the
  image border (pixel-edge vs pixel-centre conventions and rounding in labeling tools
  differ by about a pixel); ``tolerance_px=`` changes it.
* Every problem is collected before raising, so one :class:`CocoFormatError` lists
  them all (a few of each kind, with counts for the rest).
* An ``area`` is at most the image's (with the same tolerance): OKS divides by it, so a
  ground truth ten times too large scores predictions 40 px off as hits.
* In a file (``from_file=True``: :func:`read_coco`, ``infantpose validate``, a ground-truth
  path given to :func:`infantpose.metrics.keypoint_ap`) a ``file_name`` stays under the image
  folder: no absolute path, no ``..`` (:func:`infantpose.io.path_problem`). In memory a
  merged set's names are absolute by design.
* With ``check_images=True`` each image's size is read from its file's header and must
  equal the record's ``width`` and ``height``.
* Ground truth is checked by these same rules wherever it enters: :func:`read_coco`,
  :class:`~infantpose.data.coco.CocoKeypoints` and :func:`infantpose.metrics.keypoint_ap`.

The format constants (:data:`NUM_KEYPOINTS`, the required fields) live here because
this module defines what a valid file is; ``coco`` imports them from here, never the
other way round.
"""

from __future__ import annotations

import math
import numbers
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..images import ImageReadError, image_size
from ..io import path_problem
from ..keypoints import COCO17


@runtime_checkable
class CocoSet(Protocol):
    """What the checks need of a loaded set (:class:`~infantpose.data.coco.CocoKeypoints` is
    one): where it came from and its records as a COCO dict. The checks know no data model."""

    source: str | None
    image_root: Any

    def to_dict(self, *, copy_records: bool = True) -> dict[str, Any]: ...


NUM_KEYPOINTS = len(COCO17)  # 17
KEYPOINT_VALUES = 3 * NUM_KEYPOINTS  # 51 numbers: x, y, v per joint

#: How far (pixels) boxes and labelled keypoints may reach beyond the image border.
OUTSIDE_IMAGE_TOLERANCE_PX = 1.0

#: Postures used by the SyRIP posture papers (``posture`` itself is free text).
KNOWN_POSTURES = ("supine", "prone", "sitting", "standing")

#: At most this many problems of one kind are shown; the rest are counted.
MAX_PROBLEMS_PER_KIND = 5
#: At most this many problems are shown in one error message.
MAX_PROBLEMS_SHOWN = 40

IN_MEMORY = "in-memory COCO set"

_V_MEANING = "v must be 0 (not labelled), 1 (labelled, not visible) or 2 (labelled and visible)"
_FIELD_HELP = {
    "images": '"images": [...], one record per image with id, file_name, width, height',
    "annotations": '"annotations": [...], one record per infant (an empty list is allowed)',
    "categories": '"categories": [infantpose.keypoints.COCO_PERSON_CATEGORY]',
    "id": '"id": a unique integer (SyRIP uses the number in the file name)',
    "file_name": '"file_name": the image path relative to the image folder, e.g. "train00001.jpg"',
    "width": '"width": the image width in pixels',
    "height": '"height": the image height in pixels',
    "image_id": '"image_id": the id of the image this annotation belongs to',
    "category_id": '"category_id": 1 (person)',
    "keypoints": '"keypoints": 51 numbers, x, y, v for each of the 17 COCO keypoints',
    "num_keypoints": '"num_keypoints": the number of keypoints with v > 0 '
    "(CocoKeypoints.recompute_num_keypoints() fills it)",
    "bbox": '"bbox": [x, y, width, height] of the infant in pixels '
    "(infantpose.data.coco.bbox_from_keypoints computes one)",
    "area": '"area": the body area in pixels² (the mask area, or bbox width × height)',
    "name": '"name": "person"',
}
_REQUIRED = {
    "images": ("id", "file_name", "width", "height"),
    "annotations": ("id", "image_id", "category_id", "keypoints", "num_keypoints", "bbox", "area"),
    "categories": ("id", "name", "keypoints"),
}


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a COCO file: where it is, what is wrong, how to fix it."""

    file: str
    record: str  # e.g. "annotations[3] (id=12, image_id=4)"
    field: str  # e.g. "keypoints"
    message: str  # what is wrong
    fix: str  # what to do about it

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: field '{self.field}': {self.message}. Fix: {self.fix}"


class CocoFormatError(ValueError):
    """A COCO keypoint file (or in-memory set) has problems; ``.problems`` lists them."""

    def __init__(
        self,
        source: str,
        problems: list[Problem],
        num_hidden: int = 0,
        *,
        header: str | None = None,
    ) -> None:
        self.source = source
        self.problems = list(problems)
        self.num_hidden = num_hidden
        total = len(self.problems) + num_hidden
        header = header or f"{source} is not a valid COCO person-keypoint file"
        lines = [f"{header} ({total} problem{'s' if total != 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        if num_hidden:
            lines.append(
                f"  … and {num_hidden} more problems of the kinds above "
                "(same field and fix); fix those and run again to see the rest."
            )
        super().__init__("\n".join(lines))


class _Report:
    """Collects problems; shows a few of each kind and counts the rest."""

    def __init__(self, source: str, max_per_kind: int, max_shown: int) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.num_hidden = 0
        self._per_kind: Counter[tuple[str, str, str]] = Counter()
        self._max_per_kind = max_per_kind
        self._max_shown = max_shown

    def add(self, record: str, field_name: str, message: str, fix: str) -> None:
        # The same field with the same fix is the same mistake repeated in many records.
        kind = (record.split("[")[0], field_name, fix)
        self._per_kind[kind] += 1
        if self._per_kind[kind] > self._max_per_kind or len(self.problems) >= self._max_shown:
            self.num_hidden += 1
            return
        self.problems.append(Problem(self.source, record, field_name, message, fix))

    def raise_if_any(self, header: str | None = None) -> None:
        if self.problems or self.num_hidden:
            raise CocoFormatError(self.source, self.problems, self.num_hidden, header=header)


# --------------------------------------------------------------------------- small helpers


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _is_number(value: Any) -> bool:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return abs(int(value)) < 2**1000  # a 300-digit integer is no pixel (and no float)
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _describe(value: Any) -> str:
    """A value and its JSON type, as a student reading the file would see it."""
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return f"{str(bool(value)).lower()} (a boolean)"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'"{text}" (a string)'
    if _is_number(value):
        return f"{value} (a number)"
    if isinstance(value, Mapping):
        return f"an object with {len(value)} keys"
    if isinstance(value, list | tuple | np.ndarray):
        return f"a list of {len(value)} items"
    return f"a {type(value).__name__}"


def _label(section: str, index: int, record: Any, keys: tuple[str, str]) -> str:
    """``annotations[3] (id=12, image_id=4)``: the record as a student can find it."""
    parts = []
    if isinstance(record, Mapping):
        parts = [
            f"{k}={record[k]!r}"
            for k in keys
            if k in record and not isinstance(record[k], Mapping | list)
        ]
    return f"{section}[{index}]" + (f" ({', '.join(parts)})" if parts else "")


_LABEL_KEYS = {
    "images": ("id", "file_name"),
    "annotations": ("id", "image_id"),
    "categories": ("id", "name"),
}


def _joint(j: int) -> str:
    return COCO17.joints[j]


# --------------------------------------------------------------------------- validation


def find_problems(
    data: Mapping[str, Any] | CocoSet,
    source: str | None = None,
    *,
    image_root: str | os.PathLike | None = None,
    check_images: bool = False,
    tolerance_px: float = OUTSIDE_IMAGE_TOLERANCE_PX,
    from_file: bool = False,
) -> list[Problem]:
    """Every problem :func:`validate` would raise, as a list (a few of each kind)."""
    report = _check(data, source, image_root, check_images, tolerance_px, from_file)
    return report.problems


def validate(
    data: Mapping[str, Any] | CocoSet,
    source: str | None = None,
    *,
    image_root: str | os.PathLike | None = None,
    check_images: bool = False,
    tolerance_px: float = OUTSIDE_IMAGE_TOLERANCE_PX,
    from_file: bool = False,
) -> None:
    """Raise :class:`CocoFormatError` listing every problem of a COCO keypoint set.

    ``data`` is a loaded JSON dict or a :class:`CocoKeypoints`; ``source`` names it in
    messages (a set read from disk knows its file). With ``check_images=True`` every
    ``file_name`` must exist under ``image_root``, with the size its record says.
    ``from_file=True`` (the records come from a file) also keeps every ``file_name`` under
    the image folder.
    """
    _check(data, source, image_root, check_images, tolerance_px, from_file).raise_if_any()


def _check(
    data: Mapping[str, Any] | CocoSet,
    source: str | None,
    image_root: str | os.PathLike | None,
    check_images: bool,
    tolerance_px: float,
    from_file: bool = False,
) -> _Report:
    if isinstance(data, CocoSet):
        source = source or data.source
        image_root = image_root if image_root is not None else data.image_root
        data = data.to_dict(copy_records=False)
    if check_images and image_root is None:
        raise ValueError(
            "check_images=True needs image_root=, the folder the file_name entries are relative "
            "to (for SyRIP: data/syrip/images/train_infant)"
        )
    report = _Report(source or IN_MEMORY, MAX_PROBLEMS_PER_KIND, MAX_PROBLEMS_SHOWN)
    sections = _check_top_level(report, data)
    images = (
        _check_images(report, sections["images"], from_file)
        if sections["images"] is not None
        else None
    )
    category_ids = (
        _check_categories(report, sections["categories"])
        if sections["categories"] is not None
        else None
    )
    if sections["annotations"] is not None:
        for i, annotation in enumerate(sections["annotations"]):
            _check_annotation(report, i, annotation, images, category_ids, tolerance_px)
        _check_unique_ids(report, "annotations", sections["annotations"])
    if check_images and images is not None:
        _check_image_files(report, images, Path(image_root))
    return report


def _check_top_level(report: _Report, data: Any) -> dict[str, list | None]:
    sections: dict[str, list | None] = dict.fromkeys(_REQUIRED)
    if not isinstance(data, Mapping):
        fix = (
            "a COCO keypoint file is one JSON object with the keys images, annotations, categories"
        )
        if isinstance(data, list) and data and isinstance(data[0], Mapping) and "score" in data[0]:
            fix += (
                "; this looks like a COCO *results* file (a list of detections with scores): "
                "load it with pycocotools' COCO.loadRes, not as ground truth"
            )
        report.add("top level", "(document)", f"is {_describe(data)}, not a JSON object", fix)
        return sections
    for key in _REQUIRED:
        if key not in data:
            report.add("top level", key, "is missing", f"add {_FIELD_HELP[key]}")
        elif not isinstance(data[key], list | tuple):
            report.add(
                "top level",
                key,
                f"is {_describe(data[key])}, not a list",
                f"make it {_FIELD_HELP[key]}",
            )
        else:
            sections[key] = list(data[key])
    if sections["categories"] is not None and not sections["categories"]:
        report.add("top level", "categories", "is empty", f"add {_FIELD_HELP['categories']}")
    return sections


def _check_required(report: _Report, section: str, label: str, record: Any) -> bool:
    """Report a record that is not an object or lacks required fields; True if usable."""
    if not isinstance(record, Mapping):
        report.add(
            label,
            "(record)",
            f"is {_describe(record)}, not a JSON object",
            f"write each entry of {section} as an object {{...}}",
        )
        return False
    for key in _REQUIRED[section]:
        if key not in record:
            report.add(label, key, "is missing", f"add {_FIELD_HELP[key]}")
    return True


def _check_int(
    report: _Report, label: str, record: Mapping, key: str, *, positive: bool = False
) -> bool:
    if key not in record:
        return False
    value = record[key]
    if not _is_int(value) or (positive and value <= 0):
        kind = "a positive integer" if positive else "an integer"
        hint = (
            " (write it without a decimal point)"
            if _is_number(value) and float(value).is_integer()
            else ""
        )
        report.add(
            label,
            key,
            f"is {_describe(value)}; expected {kind}",
            f"make it {_FIELD_HELP[key]}{hint}",
        )
        return False
    return True


def _check_unique_ids(report: _Report, section: str, records: list) -> None:
    first_seen: dict[Any, int] = {}
    for i, record in enumerate(records):
        if not isinstance(record, Mapping) or not _is_int(record.get("id")):
            continue
        if record["id"] in first_seen:
            report.add(
                _label(section, i, record, _LABEL_KEYS[section]),
                "id",
                f"id {record['id']} is also used by {section}[{first_seen[record['id']]}]",
                f"give every entry of {section} its own id (duplicates usually come from "
                "concatenating two files; renumber one of them)",
            )
        else:
            first_seen[record["id"]] = i


def _check_images(
    report: _Report, images: list, from_file: bool = False
) -> dict[int, tuple[int, Mapping]]:
    """Check every image record; return the usable ones by id (first one wins)."""
    by_id: dict[int, tuple[int, Mapping]] = {}
    for i, image in enumerate(images):
        label = _label("images", i, image, _LABEL_KEYS["images"])
        if not _check_required(report, "images", label, image):
            continue
        id_ok = _check_int(report, label, image, "id")
        size_ok = _check_int(report, label, image, "width", positive=True)
        size_ok = _check_int(report, label, image, "height", positive=True) and size_ok
        name = image.get("file_name")
        if "file_name" in image and (not isinstance(name, str) or not name.strip()):
            report.add(
                label,
                "file_name",
                f"is {_describe(name)}; expected a non-empty string",
                f"make it {_FIELD_HELP['file_name']}",
            )
        elif "file_name" in image and from_file and path_problem(name):
            report.add(
                label,
                "file_name",
                f"is {_describe(name)}: {path_problem(name)}",
                f"make it {_FIELD_HELP['file_name']}; a file outside the image folder is never read",
            )
        flag = image.get("is_synthetic")
        if "is_synthetic" in image and not isinstance(flag, bool):
            report.add(
                label,
                "is_synthetic",
                f"is {_describe(flag)}; expected true or false",
                "write the JSON booleans true (rendered) or false (real photo), without quotes; "
                "leave the field out when unknown",
            )
        posture = image.get("posture")
        if "posture" in image and posture is not None and not isinstance(posture, str):
            report.add(
                label,
                "posture",
                f"is {_describe(posture)}; expected a string",
                f"write the posture as text, e.g. one of {', '.join(KNOWN_POSTURES)}",
            )
        if id_ok and image["id"] not in by_id:
            by_id[image["id"]] = (i, image if size_ok else {**image, "width": None, "height": None})
    _check_unique_ids(report, "images", images)
    return by_id


def _check_categories(report: _Report, categories: list) -> set[int]:
    ids = set()
    for i, category in enumerate(categories):
        label = _label("categories", i, category, _LABEL_KEYS["categories"])
        if not _check_required(report, "categories", label, category):
            continue
        if _check_int(report, label, category, "id"):
            ids.add(category["id"])
        if "name" in category and not isinstance(category["name"], str):
            report.add(
                label,
                "name",
                f"is {_describe(category['name'])}; expected a string",
                f"make it {_FIELD_HELP['name']}",
            )
        if "keypoints" in category:
            _check_keypoint_names(report, label, category["keypoints"])
        if "skeleton" in category:
            _check_skeleton(report, label, category["skeleton"])
    _check_unique_ids(report, "categories", categories)
    return ids


def _check_keypoint_names(report: _Report, label: str, names: Any) -> None:
    fix = "use the COCO names in COCO order: infantpose.keypoints.COCO_PERSON_CATEGORY['keypoints']"
    if not isinstance(names, list | tuple):
        report.add(
            label, "keypoints", f"is {_describe(names)}; expected a list of 17 keypoint names", fix
        )
    elif len(names) != NUM_KEYPOINTS:
        report.add(
            label,
            "keypoints",
            f"lists {len(names)} keypoint names; this file expects the 17 COCO keypoints in COCO order",
            fix,
        )
    else:
        for j, (found, expected) in enumerate(zip(names, COCO17.joints, strict=True)):
            if found != expected:
                report.add(
                    label,
                    "keypoints",
                    f"position {j} is {_describe(found)} where COCO order has {expected!r}",
                    fix,
                )
                break


def _check_skeleton(report: _Report, label: str, skeleton: Any) -> None:
    ok = isinstance(skeleton, list | tuple) and all(
        isinstance(bone, list | tuple)
        and len(bone) == 2
        and all(_is_int(k) and 1 <= k <= NUM_KEYPOINTS for k in bone)
        for bone in skeleton
    )
    if not ok:
        report.add(
            label,
            "skeleton",
            "is not a list of [a, b] pairs of 1-based keypoint numbers between 1 and 17",
            "copy infantpose.keypoints.COCO_PERSON_CATEGORY['skeleton'] (COCO's skeleton is 1-based)",
        )


def _check_annotation(
    report: _Report,
    i: int,
    annotation: Any,
    images: dict[int, tuple[int, Mapping]] | None,
    category_ids: set[int] | None,
    tolerance_px: float,
) -> None:
    label = _label("annotations", i, annotation, _LABEL_KEYS["annotations"])
    if not _check_required(report, "annotations", label, annotation):
        return
    _check_int(report, label, annotation, "id")
    image = None
    if _check_int(report, label, annotation, "image_id") and images is not None:
        if annotation["image_id"] in images:
            image = images[annotation["image_id"]][1]
        else:
            report.add(
                label,
                "image_id",
                f"image_id {annotation['image_id']} has no entry in images",
                "add the image record to images, or drop this annotation "
                "(image_id must equal the id of an entry in images)",
            )
    if _check_int(report, label, annotation, "category_id") and category_ids is not None:
        if annotation["category_id"] not in category_ids:
            report.add(
                label,
                "category_id",
                f"category_id {annotation['category_id']} is not in categories "
                f"(known ids: {sorted(category_ids)})",
                "use the id of the person category (1 in COCO and SyRIP)",
            )
    width = height = None
    if image is not None:
        width, height = image.get("width"), image.get("height")
    size = (width, height) if _is_int(width) and _is_int(height) else None
    keypoints = None
    if "keypoints" in annotation:
        keypoints = _check_keypoints(report, label, annotation["keypoints"], size, tolerance_px)
    num_labelled = int((keypoints[:, 2] > 0).sum()) if keypoints is not None else None
    if _check_int(report, label, annotation, "num_keypoints") and num_labelled is not None:
        if annotation["num_keypoints"] != num_labelled:
            report.add(
                label,
                "num_keypoints",
                f"is {annotation['num_keypoints']} but {num_labelled} keypoints have v > 0",
                f"set it to {num_labelled}; CocoKeypoints.recompute_num_keypoints() fixes every annotation",
            )
    if "bbox" in annotation:
        _check_bbox(report, label, annotation["bbox"], size, tolerance_px)
    if "area" in annotation:
        _check_area(report, label, annotation, num_labelled, size, tolerance_px)
    crowd = annotation.get("iscrowd", 0)
    if not (_is_int(crowd) and crowd in (0, 1)):
        report.add(
            label,
            "iscrowd",
            f"is {_describe(crowd)}; expected 0 or 1",
            "write 0 (one infant per annotation)",
        )


def _check_keypoints(
    report: _Report,
    label: str,
    values: Any,
    size: tuple[int, int] | None,
    tolerance_px: float,
) -> np.ndarray | None:
    """Check the 51 keypoint numbers; return them as (17, 3) when fully valid."""
    what = "51 numbers: x, y, v for each of the 17 COCO keypoints"
    layout_fix = (
        "convert it to the 17 COCO keypoints in COCO order (nose, left_eye, right_eye, …, "
        "right_ankle; infantpose.keypoints.COCO17) and write 0, 0, 0 for a joint you do not have"
    )
    if not isinstance(values, list | tuple | np.ndarray):
        report.add(label, "keypoints", f"is {_describe(values)}; expected {what}", layout_fix)
        return None
    n = len(values)
    if n != KEYPOINT_VALUES:
        found = (
            f"found {n} numbers = {n // 3} keypoints"
            if n % 3 == 0
            else f"found {n} numbers, not a multiple of 3"
        )
        report.add(
            label,
            "keypoints",
            f"{found}; this file expects the 17 COCO keypoints in COCO order (51 numbers: x, y, v per keypoint)",
            layout_fix,
        )
        return None
    not_numbers = [k for k, value in enumerate(values) if not _is_number(value)]
    if not_numbers:
        k = not_numbers[0]
        more = f" (and {len(not_numbers) - 1} more entries)" if len(not_numbers) > 1 else ""
        report.add(
            label,
            "keypoints",
            f"keypoints[{k}] is {_describe(values[k])}{more}; every entry must be a number",
            f"write {what}",
        )
        return None
    points = np.asarray(values, dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
    ok = True
    not_finite = [j for j in range(NUM_KEYPOINTS) if not np.isfinite(points[j, :2]).all()]
    if not_finite:
        ok = False
        listed = ", ".join(
            f"{_joint(j)} ({points[j, 0]}, {points[j, 1]}) at keypoints[{3 * j}:{3 * j + 2}]"
            for j in not_finite
        )
        report.add(
            label,
            "keypoints",
            f"coordinates are not finite numbers: {listed}",
            "write finite pixel coordinates; for a joint you could not place write 0, 0, 0 (v = 0: not labelled)",
        )
    v = points[:, 2]
    bad_v = [j for j in range(NUM_KEYPOINTS) if v[j] not in (0, 1, 2)]
    if bad_v:
        ok = False
        listed = ", ".join(f"{_joint(j)} v = {v[j]:g} (keypoints[{3 * j + 2}])" for j in bad_v)
        report.add(label, "keypoints", f"visibility out of range: {listed}", _V_MEANING)
    if size is not None and not not_finite:
        width, height = size
        x, y = points[:, 0], points[:, 1]
        outside = (v > 0) & (
            (x < -tolerance_px)
            | (y < -tolerance_px)
            | (x > width + tolerance_px)
            | (y > height + tolerance_px)
        )
        if outside.any():
            listed = ", ".join(
                f"{_joint(j)} at ({x[j]:g}, {y[j]:g})" for j in np.flatnonzero(outside)
            )
            report.add(
                label,
                "keypoints",
                f"labelled keypoints lie outside the {width}×{height} image: {listed}",
                f"labelled keypoints need 0 ≤ x ≤ width and 0 ≤ y ≤ height (± {tolerance_px:g} px); "
                "move the point, or write 0, 0, 0 if the joint is out of frame",
            )
    return points if ok else None


def _check_bbox(
    report: _Report, label: str, bbox: Any, size: tuple[int, int] | None, tolerance_px: float
) -> None:
    fix_format = "write bbox as [x, y, width, height] in pixels (x, y = top-left corner)"
    if (
        not isinstance(bbox, list | tuple | np.ndarray)
        or len(bbox) != 4
        or not all(_is_number(b) for b in bbox)
    ):
        report.add(
            label,
            "bbox",
            f"is {_describe(bbox)}; expected 4 numbers [x, y, width, height]",
            fix_format,
        )
        return
    x, y, w, h = (float(b) for b in bbox)
    if not all(math.isfinite(b) for b in (x, y, w, h)):
        report.add(
            label, "bbox", f"has a value that is not a finite number: {[x, y, w, h]}", fix_format
        )
        return
    if w <= 0 or h <= 0:
        report.add(
            label,
            "bbox",
            f"has width {w:g} and height {h:g}; both must be > 0",
            fix_format
            + "; if the numbers are corners [x1, y1, x2, y2], write [x1, y1, x2 − x1, y2 − y1]",
        )
        return
    if size is not None:
        width, height = size
        t = tolerance_px
        if x < -t or y < -t or x + w > width + t or y + h > height + t:
            report.add(
                label,
                "bbox",
                f"[{x:g}, {y:g}, {w:g}, {h:g}] reaches outside the {width}×{height} image "
                f"(x from {x:g} to {x + w:g}, y from {y:g} to {y + h:g})",
                f"clip it to the image: x, y ≥ 0, x + width ≤ {width}, y + height ≤ {height} "
                f"(± {t:g} px); if the numbers are corners [x1, y1, x2, y2], write [x1, y1, x2 − x1, y2 − y1]",
            )


def _check_area(
    report: _Report,
    label: str,
    annotation: Mapping,
    num_labelled: int | None,
    size: tuple[int, int] | None,
    tolerance_px: float,
) -> None:
    area = annotation["area"]
    if not _is_number(area) or not math.isfinite(float(area)):
        report.add(
            label,
            "area",
            f"is {_describe(area)}; expected a finite number",
            f"make it {_FIELD_HELP['area']}",
        )
    elif area < 0 or (area == 0 and num_labelled):
        why = f" while {num_labelled} keypoints are labelled" if num_labelled else ""
        report.add(
            label,
            "area",
            f"is {area:g}{why}; COCO's OKS divides by the area, so it must be > 0",
            f"set {_FIELD_HELP['area']}",
        )
    elif size is not None and area > (size[0] + 2 * tolerance_px) * (size[1] + 2 * tolerance_px):
        report.add(
            label,
            "area",
            f"is {area:g} px², more than the whole {size[0]}×{size[1]} image "
            f"({size[0] * size[1]} px²); OKS divides by it, so far-off predictions would score "
            "as hits",
            f"set {_FIELD_HELP['area']}; check that it is in pixels of this image, not of a "
            "larger original",
        )


def _check_image_files(report: _Report, images: dict[int, tuple[int, Mapping]], root: Path) -> None:
    where = (
        "it should be the folder that holds the images (for SyRIP: data/syrip/images/train_infant)"
    )
    if not root.is_dir():
        report.add(
            "image_root",
            "file_name",
            f"image folder {root} does not exist",
            f"check image_root; {where}",
        )
        return
    named = [(i, im) for i, im in images.values() if isinstance(im.get("file_name"), str)]
    missing = [(i, im) for i, im in named if not (root / im["file_name"]).is_file()]
    gone = {i for i, _ in missing}
    _check_image_sizes(report, [(i, im) for i, im in named if i not in gone], root)
    fix = f"check image_root ({where}) and that the download or unzip finished; file_name is relative to it"
    for i, image in missing[:MAX_PROBLEMS_PER_KIND]:
        report.add(
            _label("images", i, image, _LABEL_KEYS["images"]),
            "file_name",
            f"image file {root / image['file_name']} does not exist",
            fix,
        )
    if len(missing) > MAX_PROBLEMS_PER_KIND:
        report.add(
            "images",
            "file_name",
            f"{len(missing)} of {len(named)} image files are missing under {root} "
            f"(the first {MAX_PROBLEMS_PER_KIND} are listed above)",
            "restore the missing images, or drop their records with CocoKeypoints.subset(...)",
        )


def _check_image_sizes(report: _Report, named: list[tuple[int, Mapping]], root: Path) -> None:
    """Each image file's size, read from its header (nothing decoded), against its record: a
    320×240 file under a 640×480 record would train on keypoints outside its pixels."""
    wrong = []
    for i, image in named:
        path = root / image["file_name"]
        try:
            found = image_size(path)
        except ImageReadError as error:
            report.add(
                _label("images", i, image, _LABEL_KEYS["images"]),
                "file_name",
                " ".join(str(error).split()),
                "copy or export the image again, or drop its record",
            )
            continue
        if image.get("width") is not None and found != (image["width"], image["height"]):
            wrong.append((i, image, found))
    for i, image, (width, height) in wrong[:MAX_PROBLEMS_PER_KIND]:
        report.add(
            _label("images", i, image, _LABEL_KEYS["images"]),
            "width",
            f"the record says {image['width']}×{image['height']} but the file "
            f"{root / image['file_name']} is {width}×{height}",
            "set width and height to the file's size, or point file_name at the image the "
            "keypoints were labelled on (a resized copy moves every keypoint)",
        )
    if len(wrong) > MAX_PROBLEMS_PER_KIND:
        report.add(
            "images",
            "width",
            f"{len(wrong)} image files differ in size from their records (the first "
            f"{MAX_PROBLEMS_PER_KIND} are listed above)",
            "set width and height from the files, or restore the original images",
        )
