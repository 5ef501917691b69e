"""A trained row's test predictions on disk, so that a later chapter can show them.

Chapters 03 (FiDIP) and 04 (SHIFT) train their models in memory and keep only tables; chapter
06's dataset browser shows their predictions beside the ground truth. :func:`write_predictions`
writes one row's predictions into the chapter's run folder::

    <run_dir>/predictions/<row>.json              the COCO results format (a list of
                                                  {image_id, category_id, keypoints, score},
                                                  plus the annotation_id each was made for)
    <run_dir>/predictions/<row>.provenance.json   what made them: chapter, profile, row, seed,
                                                  selection, data, the test set's digest, and
                                                  the SHA-256 of the results file

Both files are written atomically, results first: a reader goes through the provenance files
(:func:`list_predictions`), so a half-written pair is never read, and the results' hash ties a
provenance record to the exact results it describes. :func:`predictions_for` refuses
predictions made on another test set (another profile's sizes, another seed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.coco import CocoKeypoints
from ..io import (
    FileFormatError,
    json_digest,
    path_problem,
    read_json,
    write_json_atomic,
    write_text_atomic,
)
from .evaluate import Predictions

__all__ = [
    "FORMAT",
    "PREDICTIONS_DIR",
    "PredictionsError",
    "SavedPredictions",
    "list_predictions",
    "predictions_for",
    "read_predictions",
    "set_digest",
    "write_predictions",
]

FORMAT = "infantpose.predictions/1"
PREDICTIONS_DIR = "predictions"
_PROVENANCE = ".provenance.json"


class PredictionsError(ValueError):
    """Saved predictions that cannot be used; the message names the file, the field and the fix."""


def set_digest(coco: CocoKeypoints) -> str:
    """A short hash of a set's images (file names) and annotations (ids, keypoints): predictions
    carry it, so that they are only ever scored against the set they were made on."""
    records = [
        [Path(i["file_name"]).name for i in coco.images],
        [[a.get("id"), a.get("image_id"), a.get("keypoints")] for a in coco.annotations],
    ]
    return json_digest(records)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"row name {name!r} has no letter or digit to name its file by")
    return slug


@dataclass
class SavedPredictions:
    """Predictions read back (:func:`read_predictions`): the row's name, its provenance record
    and the predictions (``domains`` unknown, −1; no features)."""

    name: str
    provenance: dict[str, Any]
    predictions: Predictions
    path: Path

    def describe(self) -> str:
        """One line: row, seed, selection and where it came from."""
        p = self.provenance
        return (
            f"{self.name} (chapter {p.get('chapter')}, profile {p.get('profile')}, seed "
            f"{p.get('seed')}; {p.get('selection')})"
        )


def write_predictions(
    run_dir: str | os.PathLike,
    name: str,
    predictions: Predictions,
    test: CocoKeypoints,
    *,
    seed: int,
    selection: str,
    data: str,
    notes: str = "",
) -> Path:
    """Write row ``name``'s ``predictions`` on ``test`` into ``<run_dir>/predictions/``
    (see the module docstring); returns the provenance file's path."""
    if predictions.annotation_ids is None:
        raise ValueError(
            "these predictions do not record their annotation ids; make them with pose2d.predict"
        )
    if not selection.strip():
        raise ValueError("selection is empty: say how the row's model was chosen")
    folder = Path(run_dir) / PREDICTIONS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    slug = _slug(name)
    results = [
        {**record, "annotation_id": int(a)}
        for record, a in zip(predictions.results(), predictions.annotation_ids, strict=True)
    ]
    text = json.dumps(results, separators=(",", ":"))
    write_text_atomic(folder / f"{slug}.json", text)
    run_dir = Path(run_dir)
    provenance = {
        "format": FORMAT,
        "name": name,
        "chapter": run_dir.name,
        "profile": run_dir.parent.name,
        "seed": int(seed),
        "selection": selection,
        "data": data,
        "test_set": {
            "source": str(test.source or ""),
            "digest": set_digest(test),
            "images": test.num_images,
        },
        "results_file": f"{slug}.json",
        "results_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "count": len(results),
        "notes": notes,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = folder / f"{slug}{_PROVENANCE}"
    write_json_atomic(path, provenance)
    return path


def _fail(path: Path, problem: str, fix: str) -> PredictionsError:
    return PredictionsError(f"{path}: {problem}; {fix}")


def read_predictions(path: str | os.PathLike) -> SavedPredictions:
    """Read a ``<row>.provenance.json`` and the results file it names, checked."""
    path = Path(path)
    rerun = "run the chapter that wrote it again (its last cell writes the predictions)"
    try:
        provenance = read_json(path, "predictions provenance")
    except FileNotFoundError:
        raise _fail(path, "not found", rerun) from None
    except FileFormatError as error:
        raise _fail(path, f"unreadable ({error})", rerun) from None
    if not isinstance(provenance, dict) or provenance.get("format") != FORMAT:
        found = provenance.get("format") if isinstance(provenance, dict) else None
        raise _fail(path, f"field 'format' is {found!r}, not {FORMAT!r}", rerun)
    missing = [
        k for k in ("name", "results_file", "results_sha256", "test_set") if k not in provenance
    ]
    if missing:
        raise _fail(path, f"missing field(s) {missing}", rerun)
    problem = path_problem(provenance["results_file"]) or (
        "a path in another folder" if "/" in str(provenance["results_file"]) else None
    )
    if problem:
        raise _fail(
            path,
            f"field 'results_file' is {provenance['results_file']!r}: {problem}",
            "it names a file beside the provenance record; " + rerun,
        )
    results_path = path.parent / provenance["results_file"]
    try:
        text = results_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise _fail(results_path, "not found (named by its provenance record)", rerun) from None
    if hashlib.sha256(text.encode()).hexdigest() != provenance["results_sha256"]:
        raise _fail(
            results_path,
            "does not match 'results_sha256' in its provenance record (replaced or damaged)",
            rerun,
        )
    try:
        results = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise _fail(results_path, f"unreadable ({type(error).__name__})", rerun) from None
    if not isinstance(results, list):
        raise _fail(results_path, "is not a list of results", rerun)
    for i, r in enumerate(results):
        kp = r.get("keypoints") if isinstance(r, dict) else None
        if not isinstance(kp, list) or len(kp) != 51 or "image_id" not in r:
            raise _fail(results_path, f"result {i} needs 'image_id' and 51 'keypoints'", rerun)
    predictions = Predictions(
        image_ids=np.array([r["image_id"] for r in results], dtype=np.int64),
        keypoints=np.array([r["keypoints"] for r in results], dtype=np.float64).reshape(-1, 17, 3),
        scores=np.array([r.get("score", 1.0) for r in results], dtype=np.float64),
        domains=np.full(len(results), -1, dtype=np.int64),
        annotation_ids=np.array([r.get("annotation_id", -1) for r in results], dtype=np.int64),
    )
    return SavedPredictions(str(provenance["name"]), provenance, predictions, path)


def list_predictions(run_dir: str | os.PathLike) -> list[SavedPredictions]:
    """Every row's predictions under ``<run_dir>/predictions`` (none: an empty list)."""
    folder = Path(run_dir) / PREDICTIONS_DIR
    return [read_predictions(p) for p in sorted(folder.glob(f"*{_PROVENANCE}"))]


def predictions_for(run_dir: str | os.PathLike, test: CocoKeypoints) -> dict[str, SavedPredictions]:
    """The rows' predictions in ``run_dir`` made on ``test``, by row name; predictions made on
    another set raise :class:`PredictionsError` (which run, which set, how to remake them)."""
    out = {}
    digest = set_digest(test)
    for saved in list_predictions(run_dir):
        made_on = saved.provenance["test_set"]
        if made_on.get("digest") != digest:
            raise _fail(
                saved.path,
                f"made on another test set ({made_on.get('source')}, {made_on.get('images')} "
                f"images, digest {made_on.get('digest')}; this one: {test.source}, "
                f"{test.num_images} images, digest {digest})",
                "run that chapter with the same profile sizes and seed as this one",
            )
        out[saved.name] = saved
    return out
