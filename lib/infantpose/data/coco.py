"""Read and write COCO person-keypoint files, SyRIP's extras included.

A COCO keypoint file is one JSON object with three lists: ``images`` (id, file_name,
width, height), ``annotations`` (id, image_id, category_id, 51 keypoint numbers
``x, y, v`` for the 17 COCO joints, num_keypoints, bbox ``[x, y, w, h]``, area) and
``categories`` (the ``person`` entry with keypoint names and a 1-based skeleton).
SyRIP adds per-image fields: ``is_synthetic`` (bool, the domain label of FiDIP),
``posture``, ``original_file_name``, ``is_labeled``.

Decisions, so that notebooks and tests can rely on them:

* Records stay plain ``dict``s, exactly as in the JSON, so fields this module does not
  know (``segmentation``, ``original_file_name``, ``info``, ...) survive read → write.
* ``is_synthetic`` missing means *unknown*: :meth:`CocoKeypoints.is_synthetic` returns
  ``None`` (never ``False``), and ``filter(is_synthetic=...)`` refuses to guess.
* Reading and writing validate with :mod:`infantpose.data.coco_checks` (report, never
  repair; every problem in one :class:`CocoFormatError`); its public names are
  re-exported here.
* :func:`write_coco` validates first and writes atomically: an invalid set never
  reaches disk and an existing file is never half overwritten.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..images import read_image
from ..io import write_json_atomic
from ..keypoints import COCO_PERSON_CATEGORY
from .coco_checks import (
    _REQUIRED,
    _V_MEANING,
    IN_MEMORY,
    KEYPOINT_VALUES,
    KNOWN_POSTURES,
    MAX_PROBLEMS_PER_KIND,
    MAX_PROBLEMS_SHOWN,
    NUM_KEYPOINTS,
    OUTSIDE_IMAGE_TOLERANCE_PX,
    CocoFormatError,
    Problem,
    _check,
    _joint,
    _Report,
    find_problems,
    validate,
)

__all__ = [
    "IN_MEMORY",
    "KEYPOINT_VALUES",
    "KNOWN_POSTURES",
    "MAX_PROBLEMS_PER_KIND",
    "MAX_PROBLEMS_SHOWN",
    "NUM_KEYPOINTS",
    "OUTSIDE_IMAGE_TOLERANCE_PX",
    "CocoFormatError",
    "CocoKeypoints",
    "Problem",
    "annotation_record",
    "bbox_from_keypoints",
    "find_problems",
    "image_record",
    "make_coco",
    "read_coco",
    "validate",
    "write_coco",
]


# --------------------------------------------------------------------------- the data set


@dataclass(repr=False)
class CocoKeypoints:
    """A COCO person-keypoint set: ``images``, ``annotations``, ``categories`` as JSON dicts.

    Records are the dicts of the file, unchanged, so unknown fields survive a round trip.
    ``extra`` holds other top-level keys (``info``, ``licenses``); ``source`` names the
    file in error messages; ``image_root`` is the folder ``file_name`` is relative to.
    Equality compares the content, not ``source`` or ``image_root``.
    """

    images: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    categories: list[dict[str, Any]] = field(
        default_factory=lambda: [copy.deepcopy(COCO_PERSON_CATEGORY)]
    )
    extra: dict[str, Any] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False)
    image_root: Path | None = field(default=None, compare=False)
    _by_id: dict[Any, dict[str, Any]] = field(default_factory=dict, init=False, compare=False)

    def __post_init__(self) -> None:
        if self.image_root is not None:
            self.image_root = Path(self.image_root)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str | None = None,
        image_root: str | os.PathLike | None = None,
        check: bool = True,
    ) -> CocoKeypoints:
        """Wrap a loaded COCO dict (its lists are used, not copied); validate unless ``check=False``."""
        if check:
            validate(data, source)
        extra = {k: v for k, v in data.items() if k not in _REQUIRED}
        return cls(
            images=list(data["images"]),
            annotations=list(data["annotations"]),
            categories=list(data["categories"]),
            extra=extra,
            source=source,
            image_root=Path(image_root) if image_root is not None else None,
        )

    # ---- size and summary

    @property
    def num_images(self) -> int:
        return len(self.images)

    @property
    def num_annotations(self) -> int:
        return len(self.annotations)

    @property
    def image_ids(self) -> list[int]:
        return [image["id"] for image in self.images]

    def __repr__(self) -> str:
        flags = Counter(self.is_synthetic(image) for image in self.images)
        domains = f"{flags[False]} real, {flags[True]} synthetic" + (
            f", {flags[None]} unknown" if flags[None] else ""
        )
        where = f", source={self.source!r}" if self.source else ""
        return f"CocoKeypoints({self.num_images} images ({domains}), {self.num_annotations} annotations{where})"

    # ---- lookups

    def image_by_id(self, image_id: int) -> dict[str, Any]:
        """The image record with this id (KeyError naming the file otherwise)."""
        image = self._by_id.get(image_id)
        if image is None or image.get("id") != image_id:  # new or edited records: rebuild
            self._by_id = {im["id"]: im for im in reversed(self.images)}
            image = self._by_id.get(image_id)
        if image is None:
            raise KeyError(
                f"{self.source or IN_MEMORY}: no image with id {image_id!r} "
                f"({self.num_images} images; ids look like {self.image_ids[:3]})"
            )
        return image

    def image_of(self, annotation: Mapping[str, Any]) -> dict[str, Any]:
        """The image record an annotation belongs to."""
        return self.image_by_id(annotation["image_id"])

    def annotations_by_image(self) -> dict[int, list[dict[str, Any]]]:
        """Image id → its annotations, for every image in file order (``[]`` if none)."""
        grouped: dict[int, list[dict[str, Any]]] = {image["id"]: [] for image in self.images}
        for annotation in self.annotations:
            grouped.setdefault(annotation["image_id"], []).append(annotation)
        return grouped

    def _image(self, image: Mapping[str, Any] | int) -> Mapping[str, Any]:
        return image if isinstance(image, Mapping) else self.image_by_id(image)

    def is_synthetic(self, image: Mapping[str, Any] | int) -> bool | None:
        """SyRIP's domain label of an image (record or id): True, False, or None if unknown."""
        flag = self._image(image).get("is_synthetic")
        return flag if isinstance(flag, bool) else None

    def posture(self, image: Mapping[str, Any] | int) -> str | None:
        """The image's ``posture`` (e.g. ``"supine"``), or None when the file has none."""
        return self._image(image).get("posture")

    def image_path(self, image: Mapping[str, Any] | int) -> Path:
        """Where the image file is: ``image_root / file_name``."""
        if self.image_root is None:
            raise ValueError(
                f"{self.source or IN_MEMORY} has no image_root; pass image_root= to read_coco "
                "(the folder file_name is relative to)"
            )
        return self.image_root / self._image(image)["file_name"]

    def load_image(self, image: Mapping[str, Any] | int) -> np.ndarray:
        """RGB ``uint8`` pixels of an image of the set (read from :meth:`image_path`)."""
        return read_image(self.image_path(image), mode="RGB")

    def statistics(self) -> dict[str, Any]:
        """What a dataset table shows: image counts by domain, the share of keypoints visible,
        hidden and missing, and the median box."""
        v = self.keypoints_array()[..., 2]
        boxes = np.array([a["bbox"] for a in self.annotations]).reshape(-1, 4)
        share = (lambda x: f"{x:.0%}") if v.size else (lambda x: "–")
        return {
            "images": self.num_images,
            "synthetic": sum(bool(im.get("is_synthetic")) for im in self.images),
            "visible (v=2)": share((v == 2).mean() if v.size else 0),
            "hidden (v=1)": share((v == 1).mean() if v.size else 0),
            "missing (v=0)": share((v == 0).mean() if v.size else 0),
            "median box (px)": f"{np.median(boxes[:, 2]):.0f}×{np.median(boxes[:, 3]):.0f}"
            if len(boxes)
            else "–",
        }

    def keypoints_array(self) -> np.ndarray:
        """``(N, 17, 3)`` float array of ``x, y, v``, one row per annotation, in file order."""
        if not self.annotations:
            return np.zeros((0, NUM_KEYPOINTS, 3))
        flat = np.asarray([a["keypoints"] for a in self.annotations], dtype=np.float64)
        return flat.reshape(len(self.annotations), NUM_KEYPOINTS, 3)

    # ---- new sets

    def subset(self, image_ids: Iterable[int]) -> CocoKeypoints:
        """A new, independent set with these images and their annotations (file order kept)."""
        wanted = set(image_ids)
        unknown = wanted - set(self.image_ids)
        if unknown:
            raise KeyError(
                f"{self.source or IN_MEMORY}: subset() got {len(unknown)} image ids that are not "
                f"in the set, e.g. {sorted(unknown)[:5]}"
            )
        return CocoKeypoints(
            images=copy.deepcopy([im for im in self.images if im["id"] in wanted]),
            annotations=copy.deepcopy([a for a in self.annotations if a["image_id"] in wanted]),
            categories=copy.deepcopy(self.categories),
            extra=copy.deepcopy(self.extra),
            source=self.source,
            image_root=self.image_root,
        )

    def offset_ids(self, offset: int) -> CocoKeypoints:
        """A copy whose image and annotation ids (and each annotation's ``image_id``) are shifted
        by ``offset``, so that sets numbered from 1 each can be merged (:meth:`merge`)."""
        shifted = copy.deepcopy(self)
        for image in shifted.images:
            image["id"] += offset
        for annotation in shifted.annotations:
            annotation["id"] += offset
            annotation["image_id"] += offset
        shifted._by_id = {}
        return shifted

    def filter(
        self,
        *,
        is_synthetic: bool | None = None,
        posture: str | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> CocoKeypoints:
        """Images matching every given criterion (plus their annotations), as a new set.

        ``is_synthetic`` refuses to run when some images have no label (unknown is
        neither real nor synthetic); ``posture`` keeps only images with that posture;
        ``where`` is any test on the image record.
        """
        if is_synthetic is not None:
            unknown = [im for im in self.images if self.is_synthetic(im) is None]
            if unknown:
                raise ValueError(
                    f"{self.source or IN_MEMORY}: filter(is_synthetic={is_synthetic}) cannot decide "
                    f"for {len(unknown)} of {self.num_images} images without an is_synthetic field "
                    f"(e.g. id={unknown[0].get('id')!r}); set the field in those image records, or "
                    "select with filter(where=lambda image: ...)"
                )
        keep = [
            image["id"]
            for image in self.images
            if (is_synthetic is None or image["is_synthetic"] == bool(is_synthetic))
            and (posture is None or image.get("posture") == posture)
            and (where is None or where(image))
        ]
        return self.subset(keep)

    @classmethod
    def merge(cls, *sets: CocoKeypoints, source: str | None = None) -> CocoKeypoints:
        """One set made of several, e.g. SyRIP-style real + synthetic training images.

        Image and annotation ids must not clash (SyRIP's real images count from 1, its synthetic
        ones from 10001, so its sets merge as they are); a clash raises naming both sources.
        Sets with different ``image_root`` keep their files: ``file_name`` becomes absolute.
        """
        if not sets:
            raise ValueError("CocoKeypoints.merge needs at least one set")
        roots = {s.image_root for s in sets}
        common = roots.pop() if len(roots) == 1 else None
        images: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        owner: dict[tuple[str, Any], str] = {}
        for part in sets:
            name = part.source or IN_MEMORY
            for kind, records in (("image", part.images), ("annotation", part.annotations)):
                for record in records:
                    key = (kind, record["id"])
                    if key in owner:
                        raise ValueError(
                            f"CocoKeypoints.merge: {kind} id {record['id']} is in both "
                            f"{owner[key]} and {name}; renumber one set's ids first"
                        )
                    owner[key] = name
            for image in part.images:
                image = copy.deepcopy(image)
                if common is None:
                    image["file_name"] = str(part.image_path(image).resolve())
                images.append(image)
            annotations.extend(copy.deepcopy(part.annotations))
        return cls(
            images=images,
            annotations=annotations,
            categories=copy.deepcopy(sets[0].categories),
            extra=copy.deepcopy(sets[0].extra),
            source=source or " + ".join(s.source or IN_MEMORY for s in sets),
            image_root=common if common is not None else Path("/"),
        )

    def recompute_num_keypoints(self) -> CocoKeypoints:
        """A copy whose ``num_keypoints`` equals the count of keypoints with v > 0."""
        fixed = copy.deepcopy(self)
        for annotation in fixed.annotations:
            v = np.asarray(annotation["keypoints"], dtype=np.float64)[2::3]
            annotation["num_keypoints"] = int((v > 0).sum())
        return fixed

    def to_dict(self, *, copy_records: bool = True) -> dict[str, Any]:
        """The JSON object: ``extra`` keys first (info, licenses), then the three lists."""
        data = {
            **self.extra,
            "images": self.images,
            "annotations": self.annotations,
            "categories": self.categories,
        }
        return copy.deepcopy(data) if copy_records else data


# --------------------------------------------------------------------------- read and write


def read_coco(
    path: str | os.PathLike,
    image_root: str | os.PathLike | None = None,
    *,
    check_images: bool = False,
    tolerance_px: float = OUTSIDE_IMAGE_TOLERANCE_PX,
) -> CocoKeypoints:
    """Read and validate a COCO person-keypoint JSON file (SyRIP's included).

    Raises :class:`CocoFormatError` listing every problem (JSON syntax with line and
    column; fields, types and cross-references). With ``check_images=True`` every
    ``file_name`` must exist under ``image_root``.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"COCO keypoint file not found (or not a file): {path}. Check the path (SyRIP keeps its files in "
            "annotations/person_keypoints_{train,validate}_infant.json under the dataset root)"
        )
    data = _load_json(path)
    report = _check(data, source, image_root, check_images, tolerance_px, from_file=True)
    report.raise_if_any()
    return CocoKeypoints.from_dict(data, source=source, image_root=image_root, check=False)


def _load_json(path: Path) -> Any:
    report = _Report(str(path), MAX_PROBLEMS_PER_KIND, MAX_PROBLEMS_SHOWN)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        report.add(
            f"byte {error.start}",
            "(encoding)",
            "the file is not UTF-8 text",
            "COCO files are UTF-8 JSON; check that this is the annotation file and not an image or archive",
        )
        report.raise_if_any()
    try:
        return json.loads(text)
    except RecursionError:
        report.add(
            "(document)",
            "(JSON nesting)",
            "nested thousands of levels deep, deeper than Python can read",
            "a COCO file nests four levels; this one is damaged or not an annotation file",
        )
        report.raise_if_any()
    except json.JSONDecodeError as error:
        if not text.strip():
            message, fix = (
                "the file is empty",
                "the file was probably cut short by an interrupted copy; copy it again",
            )
        else:
            lines = text.splitlines()
            line = lines[error.lineno - 1] if error.lineno <= len(lines) else ""
            near = (
                f"the line reads: {line.strip()[:80]!r}"
                if line.strip()
                else "at the end of the file"
            )
            message = f"invalid JSON: {error.msg}; {near}"
            fix = (
                "repair the JSON at that position (a missing comma or quote, a trailing comma, or a "
                "file cut short by an interrupted copy); `python -m json.tool FILE` points at it too"
            )
        report.add(f"line {error.lineno}, column {error.colno}", "(JSON syntax)", message, fix)
        report.raise_if_any()
    except ValueError as error:  # Python refuses integers of more than 4300 digits
        report.add(
            "(document)",
            "(JSON number)",
            f"a value cannot be read ({' '.join(str(error).split())[:120]})",
            "write plain numbers: no pixel coordinate or id has thousands of digits",
        )
        report.raise_if_any()
    raise AssertionError("unreachable")  # pragma: no cover


def write_coco(
    coco: CocoKeypoints | Mapping[str, Any],
    path: str | os.PathLike,
    *,
    indent: int | None = None,
) -> Path:
    """Validate ``coco`` and write it to ``path`` atomically (compact JSON, like COCO's own files).

    An invalid set raises :class:`CocoFormatError` before anything is written; an
    interrupted write leaves the previous file untouched.
    """
    path = Path(path)
    if isinstance(coco, CocoKeypoints):
        source, data = coco.source or IN_MEMORY, coco.to_dict(copy_records=False)
    else:
        source, data = IN_MEMORY, coco
    report = _check(data, source, None, False, OUTSIDE_IMAGE_TOLERANCE_PX)
    report.raise_if_any(
        header=f"not writing {path}: the COCO set from {source} has problems; nothing was written"
    )
    return write_json_atomic(path, data, indent=indent)


# --------------------------------------------------------------------------- builders


def image_record(
    id: int,
    file_name: str,
    width: int,
    height: int,
    *,
    is_synthetic: bool | None = None,
    posture: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``images`` entry; ``is_synthetic``/``posture`` are written only when given."""
    record: dict[str, Any] = {
        "id": int(id),
        "file_name": str(file_name),
        "width": int(width),
        "height": int(height),
    }
    if is_synthetic is not None:
        record["is_synthetic"] = bool(is_synthetic)
    if posture is not None:
        record["posture"] = str(posture)
    record.update(extra)
    return record


def bbox_from_keypoints(
    keypoints: np.ndarray,
    *,
    margin: float = 0.1,
    image_size: tuple[int, int] | None = None,
) -> list[float]:
    """``[x, y, w, h]`` around the labelled (v > 0) keypoints of a ``(17, 3)`` array.

    Each side grows by ``margin`` × the box's width or height (joints sit inside the
    body, so a tight box cuts off the head and feet); ``image_size=(width, height)``
    clips the result to the image.
    """
    points = np.asarray(keypoints, dtype=np.float64)
    labelled = points[points[:, 2] > 0, :2]
    if len(labelled) == 0:
        raise ValueError("bbox_from_keypoints: no keypoint has v > 0; pass bbox= explicitly")
    (x0, y0), (x1, y1) = labelled.min(axis=0), labelled.max(axis=0)
    pad_x, pad_y = margin * (x1 - x0), margin * (y1 - y0)
    x0, y0, x1, y1 = x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y
    if image_size is not None:
        x0, y0 = max(x0, 0.0), max(y0, 0.0)
        x1, y1 = min(x1, float(image_size[0])), min(y1, float(image_size[1]))
    if x1 <= x0 or y1 <= y0:
        raise ValueError(
            f"bbox_from_keypoints: the labelled keypoints span {x1 - x0:g}×{y1 - y0:g} px, "
            "which is no box (one point, a line, or all outside the image); pass bbox= explicitly"
        )
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def annotation_record(
    id: int,
    image_id: int,
    keypoints: np.ndarray,
    *,
    bbox: Iterable[float] | None = None,
    area: float | None = None,
    category_id: int = 1,
    bbox_margin: float = 0.1,
    image_size: tuple[int, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``annotations`` entry from a ``(17, 3)`` array of ``x, y, v`` in COCO order.

    Joints with v = 0 are written as 0, 0, 0 (the COCO convention). ``bbox`` defaults to
    :func:`bbox_from_keypoints` (``bbox_margin``, clipped to ``image_size``); ``area``
    defaults to the box area; pass the mask area when you have one, as COCO does.
    """
    points = np.array(keypoints, dtype=np.float64)  # a copy: the caller's array is not touched
    if points.shape != (NUM_KEYPOINTS, 3):
        raise ValueError(
            f"annotation_record(id={id}): keypoints have shape {points.shape}; expected (17, 3) "
            "= x, y, v for the 17 COCO keypoints in COCO order (infantpose.keypoints.COCO17)"
        )
    v = points[:, 2]
    bad = [f"{_joint(j)} v = {v[j]:g}" for j in range(NUM_KEYPOINTS) if v[j] not in (0, 1, 2)]
    if bad:
        raise ValueError(f"annotation_record(id={id}): {', '.join(bad)}; {_V_MEANING}")
    points[v == 0] = 0.0
    box = (
        [float(b) for b in bbox]
        if bbox is not None
        else bbox_from_keypoints(points, margin=bbox_margin, image_size=image_size)
    )
    flat: list[float | int] = []
    for x, y, vis in points:
        flat += [float(x), float(y), int(vis)]
    record: dict[str, Any] = {
        "id": int(id),
        "image_id": int(image_id),
        "category_id": int(category_id),
        "keypoints": flat,
        "num_keypoints": int((v > 0).sum()),
        "bbox": box,
        "area": float(area) if area is not None else box[2] * box[3],
        "iscrowd": 0,
    }
    record.update(extra)
    return record


def make_coco(
    images: Iterable[Mapping[str, Any]],
    annotations: Iterable[Mapping[str, Any]],
    *,
    categories: Iterable[Mapping[str, Any]] | None = None,
    image_root: str | os.PathLike | None = None,
    source: str | None = None,
    check: bool = True,
    **top_level: Any,
) -> CocoKeypoints:
    """A :class:`CocoKeypoints` from records (default category: COCO person); validated unless ``check=False``.

    ``top_level`` adds keys such as ``info={...}``.
    """
    coco = CocoKeypoints(
        images=[dict(image) for image in images],
        annotations=[dict(annotation) for annotation in annotations],
        categories=[dict(c) for c in categories]
        if categories is not None
        else [copy.deepcopy(COCO_PERSON_CATEGORY)],
        extra=dict(top_level),
        source=source,
        image_root=Path(image_root) if image_root is not None else None,
    )
    if check:
        validate(coco)
    return coco
