"""AI–human co-labelling (AH-CoLT): an AI proposes, a human reviews, a reviser corrects.

The loop of Huang et al.'s AH-CoLT tool, without any widget (the view is
:mod:`infantpose.viz.colabel_widget`):

1. **propose**: an AI labeler proposes the 17 COCO keypoints of an image (a ``proposer``
   callable, or the baseline below);
2. **review**: each proposed keypoint is accepted or rejected;
3. **revise**: each rejected keypoint is clicked again (left click: visible, ``v = 2``; right
   click: occluded, ``v = 1``; or marked missing, ``v = 0``) and the body box is drawn;
4. **finish**: the image's final annotation is written into the COCO file.

An image's status follows ``new → proposed → reviewed → revised → done``: *proposed* while
some keypoint is pending, *reviewed* when every keypoint is decided but a rejected one has
no new position yet, *revised* when every rejected keypoint has one (so an image with every
proposal accepted goes straight to *revised*), *done* after :meth:`LabelingSession.finish`.
Changing a done image re-opens it (its annotation is withdrawn until it is finished again).

**Storage.** Everything lives in one COCO JSON file, written atomically after every single
decision (:func:`infantpose.data.coco.write_coco`): one file means the labels and the
review state can never disagree after a crash, and the file is valid COCO at every moment.

* ``images``: every image of the session; ``is_labeled`` (SyRIP's field) is true once done.
* ``annotations``: one per *done* image only (annotation id = image id), so training code
  can read the file at any time and never sees half-reviewed labels.
* ``colabel`` (top-level, ignored by COCO readers): ``version``, ``image_root``, per image id
  the review state (``status``, ``proposal`` 17×[x, y, v], ``score``, ``proposer``,
  ``decisions`` 17×"pending"/"accepted"/"rejected", ``revised`` 17×[x, y, v] or null,
  ``box`` [x, y, w, h] or null), and ``events``, the list of every decision in order
  (see :func:`replay`).

Reopening the same path resumes exactly where the last completed save stopped. A decision
whose save fails (full disk, Ctrl-C) raises and is undone in memory too, so the session and
the file never disagree. A corrupt or foreign file raises on open and is never overwritten.

**Baseline proposer** (no ``proposer`` given): the mean pose of the images finished so far,
each normalised to its box, scaled into the centre 80% of the new image; before any image is
done, a centred template of an infant lying on its back, scaled to 60% of the image height.
Its ``score`` is 0, so baseline proposals are never mistaken for a model's.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..images import image_size, read_image
from ..io import FileFormatError, read_json
from ..keypoints import COCO17
from .coco import CocoFormatError, CocoKeypoints, annotation_record, image_record, read_coco
from .coco import write_coco as _write_coco
from .coco_checks import NUM_KEYPOINTS

__all__ = [
    "DECISIONS",
    "STATUSES",
    "ColabelStateError",
    "LabelingSession",
    "load_events",
    "recorded_images",
    "replay",
    "replay_recording",
    "scripted_review",
    "template_pose",
]

#: Image statuses in workflow order.
STATUSES = ("new", "proposed", "reviewed", "revised", "done")
#: Review decisions of one keypoint.
DECISIONS = ("pending", "accepted", "rejected")
STATE_KEY = "colabel"
STATE_VERSION = 1

# An infant on its back, COCO order, in a unit box: x, y in [0, 1] (y down).
_TEMPLATE_XY = np.array(
    [
        (0.50, 0.06), (0.54, 0.02), (0.46, 0.02), (0.60, 0.05), (0.40, 0.05),
        (0.70, 0.20), (0.30, 0.20), (0.82, 0.38), (0.18, 0.38), (0.88, 0.55), (0.12, 0.55),
        (0.62, 0.58), (0.38, 0.58), (0.66, 0.78), (0.34, 0.78), (0.68, 0.98), (0.32, 0.98),
    ]
)  # fmt: skip


class ColabelStateError(ValueError):
    """A labelling-session file whose ``colabel`` block is missing or damaged."""


def write_coco(coco: Any, path: Path) -> Path:
    """The one write of the module (a seam for tests that simulate a failing disk)."""
    return _write_coco(coco, path, indent=1)


def template_pose(width: float, height: float, box: Sequence[float] | None = None) -> np.ndarray:
    """``(17, 3)`` baseline pose: the supine template in ``box`` (default: centred, 60% high)."""
    if box is None:
        h = 0.6 * height
        w = min(0.5 * h, 0.9 * width)
        box = ((width - w) / 2, (height - h) / 2, w, h)
    x, y, w, h = box
    pose = np.zeros((NUM_KEYPOINTS, 3))
    pose[:, 0] = x + _TEMPLATE_XY[:, 0] * w
    pose[:, 1] = y + _TEMPLATE_XY[:, 1] * h
    pose[:, 2] = 2
    return pose


def _joint_index(k: int | str) -> int:
    if isinstance(k, str):
        return COCO17.index(k)
    k = int(k)
    if not 0 <= k < NUM_KEYPOINTS:
        raise IndexError(f"keypoint index {k} is outside 0..16 (COCO-17 order)")
    return k


def _new_state() -> dict[str, Any]:
    return {
        "status": "new",
        "proposal": None,
        "score": None,
        "proposer": None,
        "decisions": ["pending"] * NUM_KEYPOINTS,
        "revised": [None] * NUM_KEYPOINTS,
        "box": None,
        "done": False,
    }


class LabelingSession:
    """One AH-CoLT labelling session, saved in a COCO JSON file after every decision.

    ``path`` is the session file: when it exists the session resumes from it (``images``
    may add images that are not in it yet, matched by ``file_name``); when it does not,
    ``images`` (image records as from :func:`~infantpose.data.coco.image_record`, or image
    files whose size is read from the header) start a new one. ``image_root`` is the folder
    ``file_name`` is relative to (default: the file's folder; stored in the file).
    ``proposer(image_rgb) -> (17, 3)`` or ``((17, 3), score)`` is the AI labeler; ``None``
    uses the baseline described in the module docstring.

    Images are addressed by their position ``i`` in :attr:`images`; keypoints by COCO-17
    index or name.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        images: Iterable[Mapping[str, Any] | str | os.PathLike] | None = None,
        proposer: Callable[[np.ndarray], Any] | None = None,
        *,
        image_root: str | os.PathLike | None = None,
    ) -> None:
        self.path = Path(path)
        self.proposer = proposer
        self.events: list[dict[str, Any]] = []
        if self.path.exists():
            self._load()
            if image_root is not None:
                self.image_root = Path(image_root)
            added = self._add_images(images or [])
            if added:
                self._save()
        else:
            if images is None:
                raise FileNotFoundError(
                    f"no labelling session at {self.path}; pass images=[...] (image records or "
                    "files) to start one there, or check the path to resume an existing one"
                )
            self.image_root = Path(image_root) if image_root is not None else self.path.parent
            self.coco = CocoKeypoints(images=[], annotations=[], source=str(self.path))
            self.state: dict[int, dict[str, Any]] = {}
            self._add_images(images)
            if not self.coco.images:
                raise ValueError(f"LabelingSession({self.path}): images is empty")
            self._save()

    # ------------------------------------------------------------------ loading and saving

    def _load(self) -> None:
        try:
            coco = read_coco(self.path)
        except CocoFormatError as error:
            raise CocoFormatError(
                error.source,
                error.problems,
                error.num_hidden,
                header=f"the labelling session file {self.path} is damaged and was not touched "
                "(restore it from a backup, or pass another path to start a new session); "
                f"{error.source} is not a valid COCO person-keypoint file",
            ) from None
        block = coco.extra.get(STATE_KEY)
        fix = (
            "open a file written by LabelingSession, or start a new session at another path "
            "(pass images=read_coco(...).images to review an existing set)"
        )
        if not isinstance(block, dict):
            raise ColabelStateError(
                f"{self.path}: no '{STATE_KEY}' block, so this COCO file is not a labelling "
                f"session; {fix}. The file was not touched"
            )
        if block.get("version") != STATE_VERSION:
            raise ColabelStateError(
                f"{self.path}: '{STATE_KEY}.version' is {block.get('version')!r}, this code "
                f"reads version {STATE_VERSION}; the file was not touched"
            )
        try:
            raw = block["images"]
            state = {int(k): dict(v) for k, v in raw.items()}
            for image in coco.images:
                st = state[image["id"]]
                if len(st["decisions"]) != NUM_KEYPOINTS or len(st["revised"]) != NUM_KEYPOINTS:
                    raise ValueError(f"image {image['id']}: decisions/revised need 17 entries")
                if any(d not in DECISIONS for d in st["decisions"]):
                    raise ValueError(f"image {image['id']}: unknown decision in {st['decisions']}")
            events = list(block.get("events", []))
            root = block.get("image_root", ".")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ColabelStateError(
                f"{self.path}: the '{STATE_KEY}' block is damaged ({type(error).__name__}: "
                f"{error}); the file was not touched. Restore it from a backup or start a new "
                "session at another path"
            ) from None
        coco.extra.pop(STATE_KEY)
        self.coco = coco
        self.state = state
        self.events = events
        root = Path(root)
        self.image_root = root if root.is_absolute() else self.path.parent / root

    def _document(self) -> dict[str, Any]:
        root = self.image_root
        with contextlib.suppress(ValueError):
            root = Path(os.path.relpath(root, self.path.parent))
        block = {
            "version": STATE_VERSION,
            "image_root": os.fspath(root),
            "images": {str(image_id): st for image_id, st in self.state.items()},
            "events": self.events,
        }
        return {**self.coco.to_dict(copy_records=False), STATE_KEY: block}

    def _save(self) -> None:
        for st in self.state.values():
            st["status"] = _status(st)
        write_coco(self._document(), self.path)

    @contextlib.contextmanager
    def _change(self, event: dict[str, Any]) -> Iterator[None]:
        """Apply a change, record it and save; on any failure undo it in memory as well."""
        snapshot = copy.deepcopy((self.state, self.coco.images, self.coco.annotations))
        n_events = len(self.events)
        try:
            yield
            self.events.append({**event, "t": round(time.time(), 3)})
            self._save()
        except BaseException:
            self.state, self.coco.images, self.coco.annotations = snapshot
            del self.events[n_events:]
            raise

    def _add_images(self, images: Iterable[Mapping[str, Any] | str | os.PathLike]) -> int:
        known = {image["file_name"] for image in self.coco.images}
        next_id = max((image["id"] for image in self.coco.images), default=0) + 1
        added = 0
        for item in images:
            if isinstance(item, Mapping):
                record = dict(item)
                record.setdefault("id", next_id)
            else:
                record = self._record_from_file(Path(item), next_id)
            if record["file_name"] in known:
                continue
            if record["id"] in self.state:
                record["id"] = next_id
            record["is_labeled"] = False
            self.coco.images.append(record)
            self.state[record["id"]] = _new_state()
            known.add(record["file_name"])
            next_id = max(next_id, record["id"]) + 1
            added += 1
        return added

    def _record_from_file(self, file: Path, image_id: int) -> dict[str, Any]:
        if not file.is_file():
            raise FileNotFoundError(f"LabelingSession: image not found: {file}")
        width, height = image_size(file)
        try:
            name = os.path.relpath(file.resolve(), self.image_root.resolve())
            if name.startswith(".."):
                name = os.fspath(file.resolve())
        except ValueError:  # another drive on Windows
            name = os.fspath(file.resolve())
        return image_record(image_id, Path(name).as_posix(), width, height)

    # ------------------------------------------------------------------ lookups

    @property
    def images(self) -> list[dict[str, Any]]:
        """The image records, in session order."""
        return self.coco.images

    def __len__(self) -> int:
        return len(self.coco.images)

    def __repr__(self) -> str:
        p = self.progress()
        return f"LabelingSession({self.path}, {p['done']}/{p['total']} done)"

    def _check_index(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < len(self):
            raise IndexError(f"image index {i} is outside 0..{len(self) - 1}")
        return i

    def image_id(self, i: int) -> int:
        return self.coco.images[self._check_index(i)]["id"]

    def index_of(self, image_id: int) -> int:
        """Position of the image with this id."""
        for i, image in enumerate(self.coco.images):
            if image["id"] == image_id:
                return i
        raise KeyError(f"{self.path}: no image with id {image_id}")

    def image_path(self, i: int) -> Path:
        name = Path(self.coco.images[self._check_index(i)]["file_name"])
        return name if name.is_absolute() else self.image_root / name

    def load_image(self, i: int) -> np.ndarray:
        """RGB pixels of image ``i``."""
        return read_image(self.image_path(i), mode="RGB")

    def _st(self, i: int) -> dict[str, Any]:
        return self.state[self.image_id(i)]

    def status(self, i: int) -> str:
        return _status(self._st(i))

    def decisions(self, i: int) -> list[str]:
        return list(self._st(i)["decisions"])

    def proposal(self, i: int) -> np.ndarray | None:
        """The AI's ``(17, 3)`` proposal, or None before :meth:`propose`."""
        p = self._st(i)["proposal"]
        return None if p is None else np.asarray(p, dtype=np.float64)

    def box(self, i: int) -> list[float] | None:
        box = self._st(i)["box"]
        return None if box is None else list(box)

    def keypoints(self, i: int) -> np.ndarray:
        """Current ``(17, 3)`` keypoints: revised where revised, else the proposal (zeros if none).

        Rejected keypoints without a revision come out as ``0, 0, 0``.
        """
        st = self._st(i)
        out = np.zeros((NUM_KEYPOINTS, 3))
        if st["proposal"] is not None:
            out[:] = st["proposal"]
        for k in range(NUM_KEYPOINTS):
            if st["revised"][k] is not None:
                out[k] = st["revised"][k]
            elif st["decisions"][k] == "rejected":
                out[k] = 0
        return out

    def next_pending(self, after: int | None = None) -> int | None:
        """Index of the first image not done (after ``after``, wrapping round), or None."""
        n = len(self)
        start = 0 if after is None else int(after) + 1
        for j in range(n):
            i = (start + j) % n
            if _status(self._st(i)) != "done":
                return i
        return None

    def progress(self) -> dict[str, int]:
        """Counts per status plus ``total``."""
        counts = dict.fromkeys(STATUSES, 0)
        for st in self.state.values():
            counts[_status(st)] += 1
        counts["total"] = len(self)
        return counts

    def progress_text(self) -> str:
        p = self.progress()
        rest = ", ".join(f"{p[s]} {s}" for s in STATUSES[:-1] if p[s])
        return f"{p['done']}/{p['total']} done" + (f" ({rest})" if rest else "")

    # ------------------------------------------------------------------ decisions

    def propose(
        self,
        i: int,
        keypoints: np.ndarray | None = None,
        score: float | None = None,
        proposer: str | None = None,
    ) -> np.ndarray:
        """Store the AI proposal for image ``i`` (from ``keypoints`` if given) and reset its review.

        Proposals are clipped into the image; a proposer's ``v = 0`` joints stay ``0, 0, 0``.
        ``proposer`` names where given ``keypoints`` came from (default ``"given"``).
        """
        image = self.coco.images[self._check_index(i)]
        if keypoints is not None:
            source = proposer or "given"
            pose = np.asarray(keypoints, dtype=np.float64)
        elif self.proposer is not None:
            source = getattr(self.proposer, "__name__", type(self.proposer).__name__)
            result = self.proposer(self.load_image(i))
            if isinstance(result, tuple) and len(result) == 2:
                result, score = result
            pose = np.asarray(result, dtype=np.float64)
        else:
            pose, source = self._baseline(image)
            score = 0.0
        if pose.shape == (NUM_KEYPOINTS, 2):
            pose = np.concatenate([pose, np.full((NUM_KEYPOINTS, 1), 2.0)], axis=1)
        if pose.shape != (NUM_KEYPOINTS, 3) or not np.isfinite(pose).all():
            raise ValueError(
                f"propose(image {i}): the proposal has shape {pose.shape} or non-finite values; "
                "expected (17, 3) x, y, v in COCO order"
            )
        pose = pose.copy()
        pose[:, 0] = np.clip(pose[:, 0], 0, image["width"])
        pose[:, 1] = np.clip(pose[:, 1], 0, image["height"])
        pose[:, 2] = np.where(pose[:, 2] > 0, np.clip(np.round(pose[:, 2]), 1, 2), 0)
        pose[pose[:, 2] == 0] = 0
        event = {
            "op": "propose",
            "image_id": image["id"],
            "keypoints": pose.round(3).tolist(),
            "score": None if score is None else float(score),
            "proposer": source,
        }
        with self._change(event):
            self._reopen(image)
            st = self._st(i)
            st.update(_new_state())
            st["proposal"] = pose.round(3).tolist()
            st["score"] = None if score is None else float(score)
            st["proposer"] = source
        return pose

    def _baseline(self, image: Mapping[str, Any]) -> tuple[np.ndarray, str]:
        width, height = image["width"], image["height"]
        normalized = []
        for annotation in self.coco.annotations:
            x, y, w, h = annotation["bbox"]
            pts = np.asarray(annotation["keypoints"], dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
            xy = (pts[:, :2] - [x, y]) / [w, h]
            normalized.append(np.where(pts[:, 2:] > 0, xy, np.nan))
        if normalized:
            with warnings.catch_warnings():  # a joint never labelled: all-NaN column
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(np.stack(normalized), axis=0)
            mean = np.where(np.isfinite(mean), mean, _TEMPLATE_XY)
            pose = np.zeros((NUM_KEYPOINTS, 3))
            pose[:, 0] = 0.1 * width + mean[:, 0] * 0.8 * width
            pose[:, 1] = 0.1 * height + mean[:, 1] * 0.8 * height
            pose[:, 2] = 2
            return pose, "baseline-mean-pose"
        return template_pose(width, height), "baseline-template"

    def _reopen(self, image: dict[str, Any]) -> None:
        st = self.state[image["id"]]
        if st.get("done"):
            st["done"] = False
            image["is_labeled"] = False
            self.coco.annotations[:] = [
                a for a in self.coco.annotations if a["image_id"] != image["id"]
            ]

    def _require_proposal(self, i: int) -> dict[str, Any]:
        st = self._st(i)
        if st["proposal"] is None:
            raise ValueError(f"image {i} has no proposal yet; call propose({i}) first")
        return st

    def _decide(self, i: int, k: int | str, decision: str) -> None:
        k = _joint_index(k)
        self._require_proposal(i)
        image = self.coco.images[i]
        op = {"accepted": "accept", "rejected": "reject"}[decision]
        with self._change({"op": op, "image_id": image["id"], "k": k}):
            self._reopen(image)
            st = self._st(i)
            st["decisions"][k] = decision
            st["revised"][k] = None

    def accept(self, i: int, k: int | str) -> None:
        """Accept the proposed keypoint ``k`` (drops a revision of it)."""
        self._decide(i, k, "accepted")

    def reject(self, i: int, k: int | str) -> None:
        """Reject the proposed keypoint ``k``; it needs :meth:`revise` or :meth:`mark_missing`."""
        self._decide(i, k, "rejected")

    def accept_all(self, i: int) -> None:
        """Accept every keypoint that is still pending."""
        self._require_proposal(i)
        image = self.coco.images[self._check_index(i)]
        with self._change({"op": "accept_all", "image_id": image["id"]}):
            self._reopen(image)
            st = self._st(i)
            st["decisions"] = ["accepted" if d == "pending" else d for d in st["decisions"]]

    def revise(self, i: int, k: int | str, x: float, y: float, visible: bool = True) -> None:
        """Place keypoint ``k`` at ``x, y`` (clipped into the image): ``v = 2`` if visible, else 1.

        Left click = visible, right click = occluded. Revising marks the proposal rejected.
        """
        k = _joint_index(k)
        self._require_proposal(i)
        image = self.coco.images[i]
        x = float(np.clip(x, 0, image["width"]))
        y = float(np.clip(y, 0, image["height"]))
        v = 2 if visible else 1
        event = {"op": "revise", "image_id": image["id"], "k": k, "x": x, "y": y, "v": v}
        with self._change(event):
            self._reopen(image)
            st = self._st(i)
            st["decisions"][k] = "rejected"
            st["revised"][k] = [round(x, 3), round(y, 3), v]

    def mark_missing(self, i: int, k: int | str) -> None:
        """Keypoint ``k`` is not in the image at all (out of frame): ``0, 0, 0``."""
        k = _joint_index(k)
        self._require_proposal(i)
        image = self.coco.images[i]
        with self._change({"op": "missing", "image_id": image["id"], "k": k}):
            self._reopen(image)
            st = self._st(i)
            st["decisions"][k] = "rejected"
            st["revised"][k] = [0.0, 0.0, 0]

    def set_box(self, i: int, x: float, y: float, w: float, h: float) -> None:
        """The body box ``[x, y, w, h]`` (negative sizes flip the corner; clipped into the image)."""
        image = self.coco.images[self._check_index(i)]
        x0, x1 = sorted((float(x), float(x) + float(w)))
        y0, y1 = sorted((float(y), float(y) + float(h)))
        x0, y0 = max(x0, 0.0), max(y0, 0.0)
        x1, y1 = min(x1, float(image["width"])), min(y1, float(image["height"]))
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            raise ValueError(
                f"set_box(image {i}): [{x}, {y}, {w}, {h}] has no area inside the "
                f"{image['width']}×{image['height']} image; draw the box over the infant"
            )
        box = [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)]
        with self._change({"op": "box", "image_id": image["id"], "box": box}):
            self._reopen(image)
            self._st(i)["box"] = box

    def finish(self, i: int) -> dict[str, Any]:
        """Write image ``i``'s annotation into the COCO file and mark it done; return the record.

        Needs every keypoint decided and every rejected one revised. Without a drawn box the
        box is the keypoints' box with a 10% margin, clipped to the image.
        """
        i = self._check_index(i)
        st = self._st(i)
        status = _status(st)
        if status not in ("revised", "done"):
            todo = {
                "new": "propose it first",
                "proposed": f"{st['decisions'].count('pending')} keypoints are still pending",
                "reviewed": "rejected keypoints need a new position (revise or mark_missing): "
                + ", ".join(
                    COCO17.joints[k]
                    for k in range(NUM_KEYPOINTS)
                    if st["decisions"][k] == "rejected" and st["revised"][k] is None
                ),
            }[status]
            raise ValueError(f"finish(image {i}): status is {status!r}; {todo}")
        image = self.coco.images[i]
        keypoints = self.keypoints(i)
        size = (image["width"], image["height"])
        if st["box"] is None and not (keypoints[:, 2] > 0).any():
            raise ValueError(
                f"finish(image {i}): no keypoint is labelled and no box is drawn; "
                "draw the body box (set_box) first"
            )
        record = annotation_record(
            image["id"], image["id"], keypoints, bbox=st["box"], image_size=size
        )
        with self._change({"op": "finish", "image_id": image["id"]}):
            self.coco.annotations[:] = [
                a for a in self.coco.annotations if a["image_id"] != image["id"]
            ]
            self.coco.annotations.append(record)
            self.coco.annotations.sort(key=lambda a: a["id"])
            image["is_labeled"] = True
            st["done"] = True
        return record

    def labelled(self) -> CocoKeypoints:
        """The done images and their annotations, as a plain COCO set (no session state)."""
        done = [image["id"] for image in self.coco.images if self.state[image["id"]]["done"]]
        subset = self.coco.subset(done)
        subset.image_root = self.image_root
        return subset


def _status(st: Mapping[str, Any]) -> str:
    if st.get("done"):
        return "done"
    if st["proposal"] is None:
        return "new"
    if "pending" in st["decisions"]:
        return "proposed"
    if any(
        d == "rejected" and r is None for d, r in zip(st["decisions"], st["revised"], strict=True)
    ):
        return "reviewed"
    return "revised"


def replay(session: LabelingSession, events: Iterable[Mapping[str, Any]]) -> LabelingSession:
    """Apply recorded events (``session.events`` of another run, or a JSON list) in order.

    Events address images by ``image_id``; a ``propose`` event re-uses its recorded keypoints,
    so a replay does not need the AI labeler. Lets a notebook re-run a labelling session
    headless (e.g. under papermill). Returns ``session``.
    """
    for n, event in enumerate(events):
        op = event.get("op")
        try:
            i = session.index_of(event["image_id"])
            if op == "propose":
                session.propose(
                    i, event.get("keypoints"), event.get("score"), event.get("proposer")
                )
            elif op in ("accept", "reject", "missing"):
                {
                    "accept": session.accept,
                    "reject": session.reject,
                    "missing": session.mark_missing,
                }[op](i, event["k"])
            elif op == "accept_all":
                session.accept_all(i)
            elif op == "revise":
                session.revise(i, event["k"], event["x"], event["y"], visible=event["v"] == 2)
            elif op == "box":
                session.set_box(i, *event["box"])
            elif op == "finish":
                session.finish(i)
            else:
                raise ValueError(f"unknown op {op!r}")
        except (KeyError, ValueError, IndexError) as error:
            raise ValueError(f"replay: event {n} {dict(event)!r} failed: {error}") from error
    return session


def load_events(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The recorded events of a session file (or of a JSON file holding a list of events)."""
    data = read_json(path, "labelling-session file")  # errors name the file
    if isinstance(data, list):
        return data
    events = data.get(STATE_KEY, {}).get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise FileFormatError(
            f"{path}: not a labelling-session file (no list at {STATE_KEY}.events); a recording "
            "is the JSON file a LabelingSession saves, or a JSON list of events"
        )
    return list(events)


def scripted_review(
    session: LabelingSession, i: int, truth: np.ndarray, *, tolerance_px: float = 8.0
) -> dict[str, int]:
    """Review and revise image ``i`` as a careful human who can see ``truth`` (17, 3) would.

    For rendered images with known labels (the stand-in clip), to record a demonstration
    session or to measure how much a proposer saves: a proposed keypoint is accepted when the
    true joint is visible (``v = 2``) and the proposal lies within ``tolerance_px`` of it;
    otherwise it is rejected and clicked at the true position rounded to whole pixels
    (occluded joints as occluded), or marked missing when the truth says ``v = 0``. Proposes
    first if needed and finishes the image. Returns the counts of each action.
    """
    truth = np.asarray(truth, dtype=np.float64)
    if truth.shape != (NUM_KEYPOINTS, 3):
        raise ValueError(f"scripted_review: truth must be (17, 3) x, y, v, got {truth.shape}")
    if session.proposal(i) is None:
        session.propose(i)
    proposal = session.proposal(i)
    counts = {"accepted": 0, "revised": 0, "missing": 0}
    for k in range(NUM_KEYPOINTS):
        x, y, v = truth[k]
        close = np.hypot(*(proposal[k, :2] - (x, y))) <= tolerance_px
        if v == 2 and proposal[k, 2] > 0 and close:
            session.accept(i, k)
            counts["accepted"] += 1
        elif v > 0:
            session.revise(i, k, round(x), round(y), visible=v == 2)
            counts["revised"] += 1
        else:
            session.mark_missing(i, k)
            counts["missing"] += 1
    session.finish(i)
    return counts


def _read_recording(path: Path) -> tuple[dict[int, str], list[dict]]:
    try:
        data = read_json(path, "labelling-session file")
        names = {int(image["id"]): image["file_name"] for image in data["images"]}
        events = list(data[STATE_KEY]["events"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{path}: not a labelling-session file ({error}); a recording is the JSON file a "
            "LabelingSession saves (images + colabel.events)"
        ) from error
    return names, events


def recorded_images(recording: str | os.PathLike) -> list[str]:
    """The file names of the images of the session file ``recording``, in its order: the
    frames to replay it on. (A diverse subset chosen from pixels can differ between machines
    whose renderers round differently; the recorded frames are the same frames everywhere.)"""
    names, _ = _read_recording(Path(recording))
    return list(names.values())


def replay_recording(session: LabelingSession, recording: str | os.PathLike) -> LabelingSession:
    """Replay the session file ``recording`` into ``session``, matching images by ``file_name``.

    A recording made on other machines or another day numbers its images its own way; file
    names are what both sessions share. Every image the recording touched must be in
    ``session``; otherwise nothing is replayed and the error lists the missing files.
    """
    path = Path(recording)
    names, events = _read_recording(path)
    ids = {image["file_name"]: image["id"] for image in session.images}
    touched = {int(event["image_id"]) for event in events}
    wanted = sorted(names.get(image_id, f"<image id {image_id}>") for image_id in touched)
    missing = [name for name in wanted if name not in ids]
    if missing:
        raise ValueError(
            f"{path}: the recording labels {len(missing)} image(s) this session does not have: "
            f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}. Record a new session "
            "on these images (run the widget live), or give the session the recorded frames "
            "(data.colabel.recorded_images)."
        )
    renumbered = [{**event, "image_id": ids[names[int(event["image_id"])]]} for event in events]
    return replay(session, renumbered)
