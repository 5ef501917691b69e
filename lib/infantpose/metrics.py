"""The numbers the book reports: COCO keypoint AP, OKS, PCK, MPJPE and confidence intervals.

* :func:`keypoint_ap` runs pycocotools' ``COCOeval`` exactly as HRNet/mmpose do, so our AP
  is the AP of the papers; :func:`oks` is the same similarity, vectorised, for teaching.
* :func:`pck` is PCK@α as SHIFT reports it, with its joint groups (:data:`PCK_GROUPS`).
* :func:`mpjpe`, :func:`pa_mpjpe` and :func:`procrustes_align` for 3D lifting (ZeDO-i).
* :func:`bootstrap_ci` (percentile bootstrap over samples) and :func:`mean_ci`
  (t-interval over a few seeds).

Keypoints are numpy arrays with joints on the second-to-last axis, as in
:mod:`infantpose.keypoints`. Every entry point refuses non-finite predictions, scores and
thresholds with a ``ValueError`` naming the prediction, the joint and the field: a NaN
would otherwise become a number (pycocotools even counts a NaN similarity as a match).
NaN in 3D or PCK *ground truth* keeps its documented meaning, "joint not labelled".
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .data.coco_checks import validate
from .io import read_json
from .keypoints import COCO17_OKS_SIGMAS, Layout, get_layout

# ---------------------------------------------------------------------------
# COCO keypoint AP and OKS
# ---------------------------------------------------------------------------

#: The ten numbers of ``COCOeval.summarize()`` for keypoints, in ``stats`` order.
COCO_KEYPOINT_STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")

_GT_ANNOTATION_FIELDS = (
    "id",
    "image_id",
    "category_id",
    "keypoints",
    "area",
    "bbox",
    "iscrowd",
    "num_keypoints",
)
_PREDICTION_FIELDS = ("image_id", "category_id", "keypoints", "score")


def _where_not_finite(values: np.ndarray, name: str, where: str, hint: str) -> None:
    """Raise naming the first non-finite entry of ``values`` (``(..., K, D)``)."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    value = values[index]
    position = f"joint {index[-2]}" if values.ndim >= 2 else f"entry {index[0]}"
    if values.ndim > 2:
        batch = index[:-2]
        position = f"prediction {batch[0] if len(batch) == 1 else batch}, {position}"
    raise ValueError(
        f"{where}: `{name}` is not finite ({value}) at {position}; "
        f"{int(bad.any(-1).sum()) if values.ndim >= 2 else int(bad.sum())} joint(s) affected. {hint}"
    )


_PRED_HINT = (
    "A non-finite keypoint has no distance to the truth and cannot be scored: fix the model "
    "output (a diverged run?) or drop that prediction before scoring"
)
_GT_HINT = "Mark an unlabelled joint with NaN (or leave it out with `visible`/`mask`), never ±inf"


def _check_threshold(value: Any, name: str, where: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if not np.isfinite(array).all() or (array <= 0).any():
        raise ValueError(
            f"{where}: `{name}` must be finite and positive, got {value!r}; "
            "e.g. normalizer=256 with alpha=0.05 (12.8 px) or threshold_px=10"
        )
    return array


@dataclass(frozen=True)
class KeypointAP:
    """COCO keypoint AP/AR (fractions in [0, 1]; the papers print them × 100).

    ``ap`` averages over OKS thresholds 0.50:0.05:0.95, ``ap50``/``ap75`` use one threshold,
    ``ap_medium``/``ap_large`` keep GT of area 32²–96² / above 96² pixels; ``ar*`` are the
    matching recalls (20 detections per image). A value is NaN where pycocotools prints -1
    (no GT in that area range); ``stats`` keeps pycocotools' raw array, -1 included.
    """

    ap: float
    ap50: float
    ap75: float
    ap_medium: float
    ap_large: float
    ar: float
    ar50: float
    ar75: float
    ar_medium: float
    ar_large: float
    stats: np.ndarray = field(repr=False)
    summary: str = field(repr=False, default="")

    def as_dict(self) -> dict[str, float]:
        """``{"AP": ..., "AP50": ..., ...}`` with COCO's column names."""
        values = (self.ap, self.ap50, self.ap75, self.ap_medium, self.ap_large)
        values += (self.ar, self.ar50, self.ar75, self.ar_medium, self.ar_large)
        return dict(zip(COCO_KEYPOINT_STAT_NAMES, values, strict=True))


def _load_json(source: str | os.PathLike, what: str) -> Any:
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    return read_json(path, what)


def _check_gt(gt: dict, origin: str) -> None:
    """What COCOeval itself needs, in its words; :func:`~infantpose.data.coco_checks.validate`
    then checks the rest (a record that these cannot read is left to it)."""
    if not isinstance(gt, dict):
        return
    for key in ("images", "annotations", "categories"):
        if key not in gt:
            raise ValueError(f"COCO ground truth {origin} has no {key!r} list")
    for ann in gt["annotations"]:
        if not isinstance(ann, dict):
            return
        absent = [k for k in _GT_ANNOTATION_FIELDS if k not in ann]
        if absent:
            raise ValueError(
                f"COCO ground truth {origin}: annotation id={ann.get('id')} lacks {absent}. "
                "COCOeval needs them all: 'area' scales OKS, 'num_keypoints' == 0 and "
                "'iscrowd' mark ignored people (see infantpose.io for writing COCO files)."
            )
        for key in ("keypoints", "area"):
            try:
                values = np.asarray(ann[key], dtype=np.float64)
            except (TypeError, ValueError, OverflowError):
                continue  # not numbers at all: validate names the field
            if not np.isfinite(values).all():
                raise ValueError(
                    f"COCO ground truth {origin}: annotation id={ann.get('id')} has a non-finite "
                    f"`{key}` ({values.ravel()[~np.isfinite(values.ravel())][0]}); COCO stores an "
                    "unlabelled keypoint as 0, 0, 0 and every area as a finite number of pixels"
                )


def _check_predictions(predictions: list, gt: dict, origin: str) -> list[dict]:
    if not isinstance(predictions, list):
        raise TypeError(f"predictions {origin} must be a list of result dicts")
    if not predictions:
        raise ValueError(
            f"predictions {origin} are empty: COCO AP is undefined without any detection. "
            "Check that the model produced keypoints for at least one image."
        )
    image_ids = {img["id"] for img in gt["images"]}
    category_ids = {category["id"] for category in gt["categories"]}
    num_values = 3 * len(gt["categories"][0].get("keypoints", [None] * 17))
    checked = []
    for i, pred in enumerate(predictions):
        absent = [k for k in _PREDICTION_FIELDS if k not in pred]
        if absent:
            raise ValueError(f"prediction #{i} {origin} lacks {absent}; needs {_PREDICTION_FIELDS}")
        if pred["category_id"] not in category_ids:
            raise ValueError(
                f"prediction #{i} {origin} has category_id={pred['category_id']!r}, which is "
                f"not a category of the ground truth ({sorted(category_ids)}); pycocotools "
                "would drop it and score AP 0: use the person category's id"
            )
        if pred["image_id"] not in image_ids:
            raise ValueError(
                f"prediction #{i} {origin} is for image_id={pred['image_id']!r}, which is not "
                "in the ground truth's 'images' (mixed-up split or string/int ids?)"
            )
        keypoints = [float(v) for v in np.asarray(pred["keypoints"]).ravel()]
        if len(keypoints) != num_values:
            raise ValueError(
                f"prediction #{i} {origin} has {len(keypoints)} keypoint values; expected "
                f"{num_values} (x, y, score per keypoint)"
            )
        # pycocotools would count a NaN similarity as a match (AP ≈ 1 from garbage).
        triples = np.asarray(keypoints).reshape(-1, 3)
        if not np.isfinite(triples).all():
            joint = int(np.flatnonzero(~np.isfinite(triples).all(1))[0])
            raise ValueError(
                f"prediction #{i} {origin} (image_id={pred['image_id']!r}): field `keypoints` "
                f"holds a non-finite value at joint {joint} ({triples[joint].tolist()}); "
                f"{_PRED_HINT}"
            )
        score = float(pred["score"])
        if not np.isfinite(score):
            raise ValueError(
                f"prediction #{i} {origin} (image_id={pred['image_id']!r}): field `score` is "
                f"{score}; a detection score must be a finite number (it ranks detections)"
            )
        # A copy: COCO.loadRes writes 'area', 'bbox' and 'id' into the dicts it is given.
        checked.append({**pred, "keypoints": keypoints, "score": score})
    return checked


def keypoint_ap(
    gt: str | os.PathLike | dict,
    predictions: str | os.PathLike | list[dict],
    *,
    sigmas: Sequence[float] | np.ndarray | None = None,
    verbose: bool = False,
) -> KeypointAP:
    """COCO keypoint AP of ``predictions`` against ``gt``, computed by pycocotools.

    ``gt`` is a COCO keypoint JSON file or the same content as a dict (it is not modified).
    ``predictions`` is a results JSON file or a list of ``{"image_id", "category_id",
    "keypoints": [x, y, score] * K, "score"}`` dicts. OKS uses each GT annotation's ``area``
    and the COCO-17 sigmas unless ``sigmas`` is given. pycocotools' printout is returned
    in ``.summary`` and printed only if ``verbose``.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if isinstance(gt, dict):
        gt_origin, gt_dict = "(in-memory dict)", copy.deepcopy(gt)  # COCOeval writes into it
    else:
        gt_origin, gt_dict = f"({gt})", _load_json(gt, "COCO ground truth")
    if isinstance(predictions, list):
        pred_origin, pred_list = "(in-memory list)", predictions
    else:
        pred_origin, pred_list = f"({predictions})", _load_json(predictions, "predictions")
    _check_gt(gt_dict, gt_origin)
    # The same checks as read_coco, whether a file, a dict or a set's records come in: areas,
    # ids, visibilities and categories that would score garbage as a number.
    if isinstance(gt, dict):
        validate(gt_dict, "ground truth (in-memory dict)")
    else:
        validate(gt_dict, str(gt), from_file=True)
    pred_list = _check_predictions(pred_list, gt_dict, pred_origin)

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        coco_gt = COCO()
        coco_gt.dataset = gt_dict
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(pred_list)
        evaluator = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        # As HRNet and mmpose set it; a non-None value would switch to box/mask IoU.
        evaluator.params.useSegm = None
        evaluator.params.kpt_oks_sigmas = np.asarray(
            COCO17_OKS_SIGMAS if sigmas is None else sigmas, dtype=np.float64
        )
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    if verbose:
        print(printed.getvalue(), end="")
    stats = np.asarray(evaluator.stats, dtype=np.float64)
    named = [float("nan") if s < 0 else float(s) for s in stats]
    return KeypointAP(*named, stats=stats, summary=printed.getvalue())


def oks(
    pred: np.ndarray,
    gt: np.ndarray,
    area: float | np.ndarray,
    sigmas: np.ndarray | Sequence[float] | None = None,
    visible: np.ndarray | None = None,
) -> np.ndarray:
    """Object keypoint similarity, the COCO definition, vectorised.

    ``OKS = mean over GT-visible joints of exp(-d² / (2 · area · (2σ)²))`` with ``d`` the
    pixel distance. ``pred`` is ``(..., K, 2+)``; ``gt`` is ``(..., K, 3)`` ``x, y, v``
    (visible where ``v > 0``) or ``(..., K, 2)`` with a ``(..., K)`` boolean ``visible``.
    ``area`` broadcasts against the batch shape ``...`` (use ``pred[:, None]`` and
    ``gt[None]`` for an all-pairs matrix). Returns ``(...)``; NaN where no joint is
    visible (COCOeval then falls back to a box distance, which is not taught here).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if visible is None:
        if gt.shape[-1] < 3:
            raise ValueError("oks needs gt as (..., K, 3) x, y, v arrays, or a `visible` mask")
        visible = gt[..., 2] > 0
    _where_not_finite(pred[..., :2], "pred", "oks", _PRED_HINT)
    labelled = np.broadcast_to(np.asarray(visible, dtype=bool), gt.shape[:-1])
    _where_not_finite(np.where(labelled[..., None], gt[..., :2], 0.0), "gt", "oks", _GT_HINT)
    if not np.isfinite(np.asarray(area, dtype=np.float64)).all():
        raise ValueError(f"oks: `area` is not finite ({area!r}); give each person's area in px²")
    sigmas = np.asarray(COCO17_OKS_SIGMAS if sigmas is None else sigmas, dtype=np.float64)
    if sigmas.shape[-1] != gt.shape[-2]:
        raise ValueError(f"{sigmas.shape[-1]} sigmas for {gt.shape[-2]} keypoints")
    squared = ((pred[..., :2] - gt[..., :2]) ** 2).sum(-1)
    area = np.asarray(area, dtype=np.float64)[..., None]
    # np.spacing(1) as in COCOeval.computeOks, so that a zero area does not divide by zero.
    e = squared / (2 * sigmas) ** 2 / (area + np.spacing(1)) / 2
    visible = np.broadcast_to(visible, e.shape)
    count = visible.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(visible, np.exp(-e), 0.0).sum(-1) / np.where(count > 0, count, np.nan)


# ---------------------------------------------------------------------------
# PCK
# ---------------------------------------------------------------------------

#: SHIFT's joint groups by joint name. "all" is the 12 limb joints (head excluded). Layouts
#: without a ``head`` joint (COCO-17, as on SyRIP) use the ``nose`` as the head.
PCK_GROUPS: dict[str, tuple[str, ...]] = {
    "head": ("head",),
    "shoulder": ("left_shoulder", "right_shoulder"),
    "elbow": ("left_elbow", "right_elbow"),
    "wrist": ("left_wrist", "right_wrist"),
    "hip": ("left_hip", "right_hip"),
    "knee": ("left_knee", "right_knee"),
    "ankle": ("left_ankle", "right_ankle"),
}
PCK_GROUPS["all"] = tuple(j for g, joints in PCK_GROUPS.items() if g != "head" for j in joints)

#: The groups whose mean is the papers' "Avg." column.
PCK_LIMB_GROUPS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def pck_group_indices(layout: str | Layout) -> dict[str, list[int]]:
    """:data:`PCK_GROUPS` as joint indices of ``layout``; groups it cannot fill are left out."""
    layout = get_layout(layout)
    groups = {}
    for group, joints in PCK_GROUPS.items():
        if group == "head" and "head" not in layout.joints:
            joints = ("nose",)  # SHIFT scores the COCO nose as the SyRIP head
        if all(j in layout.joints for j in joints):
            groups[group] = layout.indices(joints)
    return groups


@dataclass(frozen=True)
class PCKResult:
    """PCK as fractions in [0, 1] (the papers print × 100).

    ``per_joint[k]`` pools all samples where joint ``k`` is valid (NaN if it never is);
    ``groups`` maps each :data:`PCK_GROUPS` name to the mean of its joints' accuracies (as
    SHIFT does); ``avg`` is the mean of the six limb groups, the papers' "Avg." column.
    ``correct`` and ``valid`` are the ``(..., K)`` masks, e.g. for :func:`bootstrap_ci`.
    """

    per_joint: np.ndarray
    joint_names: tuple[str, ...]
    groups: dict[str, float]
    avg: float
    alpha: float | None
    correct: np.ndarray = field(repr=False)
    valid: np.ndarray = field(repr=False)

    def joint(self, name: str) -> float:
        return float(self.per_joint[self.joint_names.index(name)])

    def per_sample(self, joints: Sequence[int] | None = None) -> np.ndarray:
        """PCK of each sample (shape ``...``) over ``joints`` (indices; default all): its
        correct joints over its valid ones, 0 for a sample with no valid joint among them."""
        index = slice(None) if joints is None else list(joints)
        correct = self.correct[..., index].sum(-1)
        valid = self.valid[..., index].sum(-1)
        return correct / np.maximum(valid, 1)


def pck(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None = None,
    *,
    alpha: float = 0.05,
    normalizer: float | np.ndarray | None = None,
    threshold_px: float | np.ndarray | None = None,
    layout: str | Layout | None = None,
) -> PCKResult:
    """Percentage of correct keypoints: ``‖pred − gt‖ < alpha · normalizer``.

    ``pred`` and ``gt`` are ``(..., K, 2+)`` (only x, y are used). Give either
    ``normalizer`` (a scalar or one value per sample, shape ``...``: SHIFT uses the side
    of the 256×256 frame, i.e. ``normalizer=256, alpha=0.05`` → 12.8 px; a bounding-box
    size is another choice) or an absolute ``threshold_px``. ``visible`` (``(..., K)``
    bool) excludes joints from the count, as SHIFT skips joints outside the image; NaN in
    ``gt`` also excludes a joint. With a ``layout`` the SHIFT groups are computed too.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape[:-1] != gt.shape[:-1]:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} differ in their (..., K) shape")
    if (normalizer is None) == (threshold_px is None):
        raise ValueError("give exactly one of `normalizer` (with alpha) or `threshold_px`")
    _where_not_finite(pred[..., :2], "pred", "pck", _PRED_HINT)
    _where_not_finite(np.where(np.isnan(gt[..., :2]), 0.0, gt[..., :2]), "gt", "pck", _GT_HINT)
    if threshold_px is None:
        threshold = _check_threshold(alpha, "alpha", "pck") * _check_threshold(
            normalizer, "normalizer", "pck"
        )
    else:
        threshold, alpha = _check_threshold(threshold_px, "threshold_px", "pck"), None
    distance = np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1)
    valid = ~np.isnan(gt[..., :2]).any(-1)
    if visible is not None:
        valid &= np.broadcast_to(np.asarray(visible, dtype=bool), valid.shape)
    # Strictly below the threshold, as SHIFT (TLlib) and mmpose count a hit.
    correct = valid & (distance < threshold[..., None])
    num_joints = gt.shape[-2]
    hits = correct.reshape(-1, num_joints).sum(0)
    counts = valid.reshape(-1, num_joints).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_joint = hits / np.where(counts > 0, counts, np.nan)

    groups: dict[str, float] = {}
    if layout is not None:
        layout = get_layout(layout)
        if len(layout) != num_joints:
            raise ValueError(
                f"layout {layout.name!r} has {len(layout)} joints, data has {num_joints}"
            )
        names = layout.joints
        for group, indices in pck_group_indices(layout).items():
            groups[group] = float(np.mean(per_joint[indices]))
    else:
        names = tuple(f"joint_{k}" for k in range(num_joints))
    limb = [groups[g] for g in PCK_LIMB_GROUPS if g in groups]
    avg = float(np.mean(limb)) if len(limb) == len(PCK_LIMB_GROUPS) else float("nan")
    return PCKResult(per_joint, names, groups, avg, alpha, correct, valid)


# ---------------------------------------------------------------------------
# MPJPE and Procrustes
# ---------------------------------------------------------------------------

Reduce = Literal["mean", "per_sample", "per_joint"]


def _valid_mask(
    pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None, where: str = "mpjpe"
) -> np.ndarray:
    if pred.shape != gt.shape or pred.ndim < 2:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} must both be (..., K, D)")
    _where_not_finite(pred, "pred", where, _PRED_HINT)
    _where_not_finite(np.where(np.isnan(gt), 0.0, gt), "gt", where, _GT_HINT)
    valid = ~np.isnan(gt).any(-1)
    if mask is not None:
        valid &= np.broadcast_to(np.asarray(mask, dtype=bool), valid.shape)
    return valid


def _reduce(errors: np.ndarray, valid: np.ndarray, reduce: Reduce) -> float | np.ndarray:
    errors = np.where(valid, errors, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if reduce == "per_joint":
            flat_valid = valid.reshape(-1, valid.shape[-1])
            total = errors.reshape(flat_valid.shape).sum(0)
            return total / np.where(flat_valid.sum(0) > 0, flat_valid.sum(0), np.nan)
        per_sample = errors.sum(-1) / np.where(valid.sum(-1) > 0, valid.sum(-1), np.nan)
    if reduce == "per_sample":
        return per_sample
    if reduce == "mean":
        # Mean over joints, then over samples; samples without a valid joint are skipped,
        # but a NaN prediction still makes the result NaN.
        has_joint = valid.any(-1)
        return float(per_sample[has_joint].mean()) if has_joint.any() else float("nan")
    raise ValueError(f"reduce must be 'mean', 'per_sample' or 'per_joint', got {reduce!r}")


def _center(points: np.ndarray, root: int | Sequence[int]) -> np.ndarray:
    root_indices = [root] if isinstance(root, int | np.integer) else list(root)
    return points - points[..., root_indices, :].mean(-2, keepdims=True)


def mpjpe(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    root: int | Sequence[int] | None = None,
    mask: np.ndarray | None = None,
    reduce: Reduce = "mean",
) -> float | np.ndarray:
    """Mean per-joint position error, in the units of the input (pass mm for mm).

    ``pred``, ``gt``: ``(..., K, 3)``. ``root`` re-centres both on a joint index, or on the
    mean of several (ZeDO-i's SyRIP root is the mid-hip: ``root=(0, 3)``); ``None`` compares
    as given. Joints that are NaN in ``gt`` or False in ``mask`` (``(..., K)``) are left out.
    ``reduce``: ``"mean"`` (joints, then samples → float), ``"per_sample"`` (``...``) or
    ``"per_joint"`` (``(K,)``).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    valid = _valid_mask(pred, gt, mask)
    return _mpjpe(pred, gt, valid, root, reduce)


def _mpjpe(
    pred: np.ndarray,
    gt: np.ndarray,
    valid: np.ndarray,
    root: int | Sequence[int] | None,
    reduce: Reduce,
) -> float | np.ndarray:
    if root is not None:
        pred, gt = _center(pred, root), _center(gt, root)
    return _reduce(np.linalg.norm(pred - gt, axis=-1), valid, reduce)


def procrustes_align(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    allow_reflection: bool = False,
) -> np.ndarray:
    """``pred`` moved by the similarity (scale, rotation, translation) that best fits ``gt``.

    Least squares over the valid joints (not NaN in ``gt``, True in ``mask``), solved per
    sample by SVD (Umeyama 1991). The rotation is proper (det = +1) unless
    ``allow_reflection``, which reproduces ZeDO's ``reflection='best'``. Returns the
    aligned ``(..., K, D)`` prediction, all joints included.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    weight = _valid_mask(pred, gt, mask, "procrustes_align")[..., None].astype(np.float64)
    count = np.maximum(weight.sum(-2, keepdims=True), 1.0)
    pred_w, gt_w = np.where(weight > 0, pred, 0.0), np.where(weight > 0, gt, 0.0)
    pred_mean = (weight * pred_w).sum(-2, keepdims=True) / count
    gt_mean = (weight * gt_w).sum(-2, keepdims=True) / count
    pred_c = weight * (pred_w - pred_mean)
    gt_c = weight * (gt_w - gt_mean)

    covariance = np.swapaxes(pred_c, -1, -2) @ gt_c  # (..., D, D)
    u, singular, vt = np.linalg.svd(covariance)
    signs = np.ones_like(singular)
    if not allow_reflection:
        # Flip the weakest axis when the best orthogonal map is a mirror image.
        signs[..., -1] = np.sign(np.linalg.det(u @ vt))
        signs[signs == 0] = 1.0
    rotation = (u * signs[..., None, :]) @ vt  # acts on row vectors: x @ rotation
    spread = (pred_c**2).sum((-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = (singular * signs).sum(-1) / spread  # NaN for a degenerate (single-point) pred
    return scale[..., None, None] * ((pred - pred_mean) @ rotation) + gt_mean


def pa_mpjpe(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    allow_reflection: bool = False,
    reduce: Reduce = "mean",
) -> float | np.ndarray:
    """MPJPE after :func:`procrustes_align` (protocol 2); arguments as in :func:`mpjpe`."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    valid = _valid_mask(pred, gt, mask, "pa_mpjpe")
    aligned = procrustes_align(pred, gt, mask=mask, allow_reflection=allow_reflection)
    # Not mpjpe(): a degenerate (single-point) prediction aligns to NaN, reported as NaN.
    return _mpjpe(aligned, gt, valid, None, reduce)


# ---------------------------------------------------------------------------
# Confidence intervals
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfidenceInterval:
    """An estimate with its interval; ``method`` says how it was obtained."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def __str__(self) -> str:
        return (
            f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}] "
            f"({self.confidence:.0%} CI, {self.method}, n={self.n})"
        )


def _as_1d(values: Any, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{what} takes a 1-D array of values, got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError(f"{what}: values contain NaN; drop them or choose how to count them")
    if np.isinf(values).any():
        first = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(
            f"{what}: value #{first} is {values[first]}; an infinite error has no mean or "
            "interval: find where it came from (a diverged run?) and drop or fix it"
        )
    return values


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[..., Any] = np.mean,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile-bootstrap interval of ``statistic`` over per-sample ``values``.

    Use it for the uncertainty from the *test set* (e.g. per-image errors of one model):
    samples are drawn with replacement ``n_resamples`` times, and the interval is the
    central ``confidence`` share of the resampled statistics. ``statistic`` is called on
    a 1-D array, or on a 2-D batch with ``axis=-1`` if it accepts ``axis`` (like np.mean).
    """
    values = _as_1d(values, "bootstrap_ci")
    if len(values) < 2:
        raise ValueError("bootstrap_ci needs at least 2 values")
    if not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise ValueError(
            f"bootstrap_ci: n_resamples={n_resamples!r}; give a positive number of "
            "resamples (the book uses 200 for smoke runs, 2000 or more for results)"
        )
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap_ci: confidence={confidence!r}; give a level in (0, 1)")
    rng = np.random.default_rng(seed)
    try:
        vectorised = "axis" in inspect.signature(statistic).parameters
    except (TypeError, ValueError):  # some builtins have no inspectable signature
        vectorised = False
    resampled = np.empty(n_resamples)
    chunk = max(1, 2_000_000 // len(values))  # keeps each index batch near 16 MB
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        samples = values[rng.integers(0, len(values), size=(stop - start, len(values)))]
        if vectorised:
            resampled[start:stop] = statistic(samples, axis=-1)
        else:
            resampled[start:stop] = [statistic(s) for s in samples]
    if not np.isfinite(resampled).all():
        raise ValueError(
            "bootstrap_ci: the statistic returned a non-finite value on "
            f"{int((~np.isfinite(resampled)).sum())} of {n_resamples} resamples; "
            "an interval needs a statistic that is finite on every resample"
        )
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return ConfidenceInterval(
        float(statistic(values)),
        float(low),
        float(high),
        confidence,
        "percentile bootstrap",
        len(values),
    )


def mean_ci(
    values: Sequence[float] | np.ndarray, *, confidence: float = 0.95
) -> ConfidenceInterval:
    """Mean and Student-t interval of a few independent runs (the book's ≥ 3 seeds).

    Use it for the uncertainty from *training* (one metric per seed):
    ``mean ± t(n−1) · s / √n`` with the sample standard deviation ``s``.
    """
    from scipy import stats

    values = _as_1d(values, "mean_ci")
    n = len(values)
    if n < 2:
        raise ValueError("mean_ci needs at least 2 runs (the book reports ≥ 3 seeds)")
    if not 0 < confidence < 1:
        raise ValueError(f"mean_ci: confidence={confidence!r}; give a level in (0, 1)")
    mean = float(values.mean())
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return ConfidenceInterval(mean, mean - half, mean + half, confidence, f"t over {n} runs", n)


def linear_separability(features: np.ndarray, labels: np.ndarray, *, folds: int = 5) -> float:
    """How well a linear classifier tells two groups of feature vectors apart: the mean
    accuracy of a logistic regression under stratified ``folds``-fold cross-validation, on
    standardised features (0.5 is chance for equal groups, 1.0 is a clean split).

    FiDIP's Fig. 5 shows t-SNE maps of real and synthetic features before and after domain
    confusion; t-SNE only draws neighbourhoods, and this number says how separate the domains
    are. NaN when a group has fewer than 2 members (no fold can hold both).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(
            f"linear_separability: features {features.shape} and labels {labels.shape}: "
            "give one row of features per label"
        )
    counts = np.unique(labels, return_counts=True)[1]
    if len(counts) != 2:
        raise ValueError(f"linear_separability: labels hold {len(counts)} groups; give two")
    folds = min(folds, int(counts.min()))
    if folds < 2:
        return float("nan")
    standard = (features - features.mean(0)) / (features.std(0) + 1e-6)
    split = StratifiedKFold(folds, shuffle=True, random_state=0)
    scores = cross_val_score(LogisticRegression(max_iter=2000), standard, labels, cv=split)
    return float(np.mean(scores))
