"""Metrics against pycocotools, scipy and hand-computed values."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from scipy import stats
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.transform import Rotation

from infantpose.keypoints import COCO17, COCO_PERSON_CATEGORY, UDA16
from infantpose.metrics import (
    PCK_GROUPS,
    bootstrap_ci,
    keypoint_ap,
    mean_ci,
    mpjpe,
    oks,
    pa_mpjpe,
    pck,
    pck_group_indices,
    procrustes_align,
)

# --- a tiny COCO keypoint set -------------------------------------------------------


def _person(rng: np.random.Generator, center: tuple[float, float], size: float) -> np.ndarray:
    """A (17, 3) x, y, v person of roughly ``size`` pixels, a few joints unlabelled."""
    xy = np.asarray(center) + rng.uniform(-size / 2, size / 2, size=(17, 2))
    v = np.full(17, 2.0)
    v[rng.choice(17, size=3, replace=False)] = 0
    xy[v == 0] = 0  # COCO stores unlabelled keypoints as 0, 0, 0
    return np.column_stack([xy, v])


def _annotation(ann_id: int, image_id: int, kpts: np.ndarray, area: float) -> dict:
    labelled = kpts[kpts[:, 2] > 0]
    x0, y0 = labelled[:, :2].min(0)
    x1, y1 = labelled[:, :2].max(0)
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "keypoints": [round(float(v), 2) for v in kpts.ravel()],
        "num_keypoints": int((kpts[:, 2] > 0).sum()),
        "area": area,
        "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
        "iscrowd": 0,
    }


@pytest.fixture
def coco_gt() -> dict:
    rng = np.random.default_rng(0)
    people = [  # (image_id, centre, size, area): medium and large people, two in image 2
        (1, (100, 100), 60, 3000.0),
        (2, (80, 120), 150, 20000.0),
        (2, (300, 200), 50, 2500.0),
        (3, (200, 150), 120, 12000.0),
    ]
    annotations = [
        _annotation(i + 1, image_id, _person(rng, center, size), area)
        for i, (image_id, center, size, area) in enumerate(people)
    ]
    return {
        "images": [
            {"id": i, "file_name": f"image_{i:05d}.jpg", "width": 640, "height": 480}
            for i in (1, 2, 3)
        ],
        "annotations": annotations,
        "categories": [COCO_PERSON_CATEGORY],
    }


def _predictions(gt: dict, jitter_px: float = 0.0, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    results = []
    for ann in gt["annotations"]:
        kpts = np.asarray(ann["keypoints"], dtype=float).reshape(17, 3)
        kpts[:, :2] += rng.normal(scale=jitter_px, size=(17, 2))
        kpts[:, 2] = 1.0  # per-keypoint score
        results.append(
            {
                "image_id": ann["image_id"],
                "category_id": 1,
                "keypoints": [float(v) for v in kpts.ravel()],
                "score": 0.9 - 0.1 * ann["id"],
            }
        )
    return results


@pytest.fixture
def coco_files(tmp_path, coco_gt):
    gt_file = tmp_path / "person_keypoints_val.json"
    gt_file.write_text(json.dumps(coco_gt))
    pred_file = tmp_path / "keypoints_val_results.json"
    pred_file.write_text(json.dumps(_predictions(coco_gt, jitter_px=3.0)))
    return gt_file, pred_file


def _pycocotools_directly(gt_file, pred_file) -> COCOeval:
    """The HRNet/mmpose recipe, written out without our code."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(gt_file))
        coco_dt = coco.loadRes(str(pred_file))
        evaluator = COCOeval(coco, coco_dt, "keypoints")
        evaluator.params.useSegm = None
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


# --- keypoint AP --------------------------------------------------------------------


def test_ap_equals_pycocotools_run_directly(coco_files):
    gt_file, pred_file = coco_files
    ours = keypoint_ap(gt_file, pred_file)
    reference = _pycocotools_directly(gt_file, pred_file)
    np.testing.assert_array_equal(ours.stats, reference.stats)
    assert ours.ap == reference.stats[0] and ours.ar_large == reference.stats[9]
    assert 0 < ours.ap < 1


def test_in_memory_inputs_give_the_same_ap_and_are_not_modified(coco_files, coco_gt):
    gt_file, pred_file = coco_files
    predictions = json.loads(pred_file.read_text())
    gt_before, predictions_before = copy.deepcopy(coco_gt), copy.deepcopy(predictions)
    from_memory = keypoint_ap(coco_gt, predictions)
    np.testing.assert_array_equal(from_memory.stats, keypoint_ap(gt_file, pred_file).stats)
    assert coco_gt == gt_before and predictions == predictions_before


def test_perfect_predictions_give_ap_one(coco_gt):
    result = keypoint_ap(coco_gt, _predictions(coco_gt))
    assert result.ap == result.ap50 == result.ap75 == result.ar == 1.0
    assert result.as_dict()["APm"] == result.ap_medium == 1.0


def test_jittered_predictions_score_below_one_and_worse_with_more_jitter(coco_gt):
    small = keypoint_ap(coco_gt, _predictions(coco_gt, jitter_px=2.0)).ap
    large = keypoint_ap(coco_gt, _predictions(coco_gt, jitter_px=8.0)).ap
    assert large < small < 1.0


def test_ap_is_quiet_unless_verbose(coco_gt, capsys):
    result = keypoint_ap(coco_gt, _predictions(coco_gt))
    assert capsys.readouterr().out == ""
    assert "Average Precision" in result.summary
    keypoint_ap(coco_gt, _predictions(coco_gt), verbose=True)
    assert "Average Precision" in capsys.readouterr().out


def test_ap_errors_say_what_to_fix(coco_gt, tmp_path):
    with pytest.raises(ValueError, match=r"predictions .* are empty"):
        keypoint_ap(coco_gt, [])
    stray = _predictions(coco_gt)[:1]
    stray[0]["image_id"] = 99
    with pytest.raises(ValueError, match="image_id=99, which is not in the ground truth"):
        keypoint_ap(coco_gt, stray)
    no_area = copy.deepcopy(coco_gt)
    del no_area["annotations"][0]["area"]
    with pytest.raises(ValueError, match=r"annotation id=1 lacks \['area'\]"):
        keypoint_ap(no_area, _predictions(coco_gt))
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        keypoint_ap(tmp_path / "missing.json", _predictions(coco_gt))


# --- OKS ------------------------------------------------------------------------------


def test_oks_by_hand_on_two_joints():
    gt = np.array([[10.0, 10.0, 2], [20.0, 20.0, 2], [0.0, 0.0, 0]])
    pred = np.array([[11.0, 10.0], [20.0, 24.0], [500.0, 500.0]])  # 3rd joint: not labelled
    sigmas = np.array([0.1, 0.2, 0.3])
    # e = d² / (2σ)² / area / 2 with area 100: 1/0.04/200 = 0.125 and 16/0.16/200 = 0.5
    expected = (np.exp(-0.125) + np.exp(-0.5)) / 2
    assert oks(pred, gt, area=100.0, sigmas=sigmas) == pytest.approx(expected, rel=1e-12)
    assert oks(gt, gt, area=100.0, sigmas=sigmas) == pytest.approx(1.0)
    assert np.isnan(oks(pred, np.zeros((3, 3)), area=100.0, sigmas=sigmas))


def test_oks_matrix_equals_cocoeval_ious(coco_gt):
    predictions = _predictions(coco_gt, jitter_px=4.0)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(coco_gt)
        coco.createIndex()
        evaluator = COCOeval(coco, coco.loadRes(copy.deepcopy(predictions)), "keypoints")
        evaluator.evaluate()
    gts = [a for a in coco_gt["annotations"] if a["image_id"] == 2]
    dts = sorted((p for p in predictions if p["image_id"] == 2), key=lambda p: -p["score"])
    gt_kpts = np.array([a["keypoints"] for a in gts]).reshape(-1, 17, 3)
    dt_kpts = np.array([p["keypoints"] for p in dts]).reshape(-1, 17, 3)
    areas = np.array([a["area"] for a in gts])
    ours = oks(dt_kpts[:, None], gt_kpts[None], areas[None])  # (detections, people)
    np.testing.assert_allclose(ours, evaluator.ious[(2, 1)], rtol=1e-12)


# --- PCK --------------------------------------------------------------------------------


def test_pck_by_hand_with_per_sample_normalizer():
    gt = np.zeros((2, 3, 2))
    pred = np.zeros((2, 3, 2))
    pred[0, :, 0] = [5, 15, 10]  # thresholds 0.1 × 100 = 10 px: hit, miss, miss (not < 10)
    pred[1, :, 1] = [15, 25, 0]  # threshold 0.1 × 200 = 20 px: hit, miss, not visible
    visible = np.array([[True, True, True], [True, True, False]])
    result = pck(pred, gt, visible, alpha=0.1, normalizer=np.array([100.0, 200.0]))
    np.testing.assert_array_equal(result.per_joint, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(result.correct, [[True, False, False], [True, False, False]])
    assert result.groups == {} and np.isnan(result.avg)
    by_pixels = pck(pred, gt, visible, threshold_px=np.array([10.0, 20.0]))
    np.testing.assert_array_equal(by_pixels.per_joint, result.per_joint)


def test_pck_shift_threshold_is_12_8_px_on_a_256_frame():
    gt = np.zeros((2, 16, 2))
    pred = gt.copy()
    pred[0, :, 0] = 12.79
    pred[1, :, 0] = 12.8
    result = pck(pred, gt, alpha=0.05, normalizer=256)
    np.testing.assert_array_equal(result.correct[0], True)
    np.testing.assert_array_equal(result.correct[1], False)


def test_pck_groups_on_uda16_follow_shift():
    rng = np.random.default_rng(0)
    gt = rng.uniform(0, 256, size=(40, 16, 2))
    pred = gt + rng.normal(scale=12, size=gt.shape)
    result = pck(pred, gt, alpha=0.05, normalizer=256, layout="uda16")
    # SHIFT's group indices for the 16-joint layout, from its dataset code.
    shift_groups = {
        "head": (9,),
        "shoulder": (12, 13),
        "elbow": (11, 14),
        "wrist": (10, 15),
        "hip": (2, 3),
        "knee": (1, 4),
        "ankle": (0, 5),
        "all": (12, 13, 11, 14, 10, 15, 2, 3, 1, 4, 0, 5),
    }
    assert {g: tuple(i) for g, i in pck_group_indices(UDA16).items()} == shift_groups
    for group, indices in shift_groups.items():
        assert result.groups[group] == pytest.approx(result.per_joint[list(indices)].mean())
    limbs = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    limb_mean = np.mean([result.groups[g] for g in limbs])
    assert result.avg == pytest.approx(limb_mean)
    assert result.avg == pytest.approx(result.groups["all"])
    assert 0.2 < result.avg < 0.9  # the jitter makes some joints miss, not all
    assert result.joint("head") == result.per_joint[9]


def test_pck_head_is_the_nose_on_coco17():
    assert pck_group_indices(COCO17)["head"] == [COCO17.index("nose")]
    assert len(PCK_GROUPS["all"]) == 12 and "head" not in PCK_GROUPS["all"]


def test_pck_needs_exactly_one_threshold():
    points = np.zeros((1, 16, 2))
    with pytest.raises(ValueError, match="exactly one of"):
        pck(points, points)
    with pytest.raises(ValueError, match="exactly one of"):
        pck(points, points, normalizer=256, threshold_px=12.8)
    with pytest.raises(ValueError, match="layout 'coco17' has 17 joints, data has 16"):
        pck(points, points, normalizer=256, layout="coco17")


# --- MPJPE and PA-MPJPE ---------------------------------------------------------


def _reference_mpjpe(pred, gt):
    return np.mean([np.linalg.norm(p - g, axis=1).mean() for p, g in zip(pred, gt, strict=True)])


def _reference_pa_mpjpe(pred, gt, allow_reflection):
    """Per sample: scipy finds the rotation, the optimal scale follows in closed form."""
    errors = []
    for p, g in zip(pred, gt, strict=True):
        p0, g0 = p - p.mean(0), g - g.mean(0)
        if allow_reflection:
            rotation, _ = orthogonal_procrustes(p0, g0)  # any orthogonal matrix
            rotated = p0 @ rotation
        else:
            rotated = Rotation.align_vectors(g0, p0)[0].apply(p0)  # proper rotations only
        scale = (rotated * g0).sum() / (p0**2).sum()
        errors.append(np.linalg.norm(scale * rotated - g0, axis=1).mean())
    return np.mean(errors)


@pytest.fixture
def poses():
    rng = np.random.default_rng(0)
    gt = rng.normal(scale=200, size=(6, 17, 3))  # mm
    pred = gt + rng.normal(scale=30, size=gt.shape)
    return pred, gt


def test_mpjpe_equals_reference(poses):
    pred, gt = poses
    assert mpjpe(pred, gt) == pytest.approx(_reference_mpjpe(pred, gt), rel=1e-12)
    centered = _reference_mpjpe(pred - pred[:, :1], gt - gt[:, :1])
    assert mpjpe(pred, gt, root=0) == pytest.approx(centered, rel=1e-12)
    mid_hip = _reference_mpjpe(
        pred - pred[:, [1, 4]].mean(1, keepdims=True), gt - gt[:, [1, 4]].mean(1, keepdims=True)
    )
    assert mpjpe(pred, gt, root=(1, 4)) == pytest.approx(mid_hip, rel=1e-12)


def test_mpjpe_reductions_and_missing_joints(poses):
    pred, gt = poses
    assert mpjpe(pred, gt, reduce="per_sample").shape == (6,)
    per_joint = mpjpe(pred, gt, reduce="per_joint")
    assert per_joint.shape == (17,)
    assert per_joint.mean() == pytest.approx(mpjpe(pred, gt))
    with_nan = gt.copy()
    with_nan[:, 3] = np.nan
    kept = [k for k in range(17) if k != 3]
    expected = _reference_mpjpe(pred[:, kept], gt[:, kept])
    assert mpjpe(pred, with_nan) == pytest.approx(expected, rel=1e-12)
    mask = np.ones((6, 17), dtype=bool)
    mask[:, 3] = False
    assert mpjpe(pred, gt, mask=mask) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(mpjpe(pred, with_nan, reduce="per_joint")[3])
    with pytest.raises(ValueError, match="reduce must be"):
        mpjpe(pred, gt, reduce="median")


@pytest.mark.parametrize("allow_reflection", [False, True])
def test_pa_mpjpe_equals_scipy_reference(poses, allow_reflection):
    pred, gt = poses
    ours = pa_mpjpe(pred, gt, allow_reflection=allow_reflection)
    assert ours == pytest.approx(_reference_pa_mpjpe(pred, gt, allow_reflection), rel=1e-9)
    assert ours < mpjpe(pred, gt)


def test_similarity_transform_vanishes_under_procrustes(poses):
    _, gt = poses
    rotation = Rotation.random(6, random_state=1).as_matrix()
    moved = 0.7 * np.einsum("nij,nkj->nki", rotation, gt) + np.array([100.0, -50.0, 3000.0])
    assert mpjpe(moved, gt) > 100
    assert pa_mpjpe(moved, gt) == pytest.approx(0, abs=1e-9)
    np.testing.assert_allclose(procrustes_align(moved, gt), gt, atol=1e-9)


def test_mirror_image_aligns_only_with_reflection_allowed(poses):
    _, gt = poses
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert pa_mpjpe(mirrored, gt) > 10
    assert pa_mpjpe(mirrored, gt, allow_reflection=True) == pytest.approx(0, abs=1e-9)


def test_procrustes_ignores_masked_joints(poses):
    _, gt = poses
    pred = gt.copy()
    pred[:, 5] += 1e4  # a wild joint
    mask = np.ones((6, 17), dtype=bool)
    mask[:, 5] = False
    assert pa_mpjpe(pred, gt, mask=mask) == pytest.approx(0, abs=1e-9)
    assert pa_mpjpe(pred, gt) > 100


# --- confidence intervals ------------------------------------------------------------


def test_bootstrap_ci_contains_the_mean_and_narrows_with_more_data():
    rng = np.random.default_rng(0)
    values = rng.normal(50, 10, size=2000)
    small = bootstrap_ci(values[:20], n_resamples=2000)
    large = bootstrap_ci(values, n_resamples=2000)
    for ci in (small, large):
        assert ci.low < ci.estimate < ci.high
        assert ci.confidence == 0.95 and ci.method == "percentile bootstrap"
    assert large.half_width < small.half_width / 5
    # Close to the normal-theory interval for a mean of many samples.
    normal_half = 1.959964 * values.std(ddof=1) / np.sqrt(len(values))
    assert large.half_width == pytest.approx(normal_half, rel=0.1)


def test_bootstrap_ci_is_reproducible_by_seed():
    values = np.random.default_rng(1).exponential(size=50)
    assert bootstrap_ci(values, seed=3, n_resamples=500) == bootstrap_ci(
        values, seed=3, n_resamples=500
    )
    assert bootstrap_ci(values, seed=3, n_resamples=500) != bootstrap_ci(
        values, seed=4, n_resamples=500
    )
    # A statistic without an axis argument is called per resample, on the same resamples.
    vectorised = bootstrap_ci(values, np.median, n_resamples=500)
    looped = bootstrap_ci(values, lambda x: float(np.median(x)), n_resamples=500)
    assert (looped.low, looped.high) == (vectorised.low, vectorised.high)


def test_mean_ci_is_the_t_interval_over_seeds():
    ci = mean_ci([1.0, 2.0, 3.0])
    # mean 2, s = 1, t(0.975, df=2) = 4.302653
    assert ci.estimate == 2.0
    assert ci.half_width == pytest.approx(4.302652729911275 / np.sqrt(3), rel=1e-9)
    low, high = stats.t.interval(0.95, 2, loc=2.0, scale=stats.sem([1.0, 2.0, 3.0]))
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)
    assert "t over 3 runs" in str(ci)


def test_intervals_reject_too_few_values():
    with pytest.raises(ValueError, match="at least 2 runs"):
        mean_ci([45.1])
    with pytest.raises(ValueError, match="1-D"):
        bootstrap_ci(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        mean_ci([1.0, np.nan, 2.0])


# --- garbage in: non-finite inputs are errors, never numbers --------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_ap_rejects_non_finite_keypoints_naming_the_prediction(coco_gt, bad):
    # pycocotools counts a NaN similarity as a match: these predictions scored AP ≈ 1.0.
    predictions = _predictions(coco_gt)
    predictions[2]["keypoints"][3 * 5 + 1] = bad  # y of joint 5
    with pytest.raises(ValueError, match=r"prediction #2 .*image_id=2.*`keypoints`.*joint 5"):
        keypoint_ap(coco_gt, predictions)


def test_ap_rejects_a_non_finite_score_and_garbage_ground_truth(coco_gt):
    predictions = _predictions(coco_gt)
    predictions[1]["score"] = float("nan")
    with pytest.raises(ValueError, match=r"prediction #1 .*`score` is nan"):
        keypoint_ap(coco_gt, predictions)
    gt = copy.deepcopy(coco_gt)
    gt["annotations"][0]["keypoints"][0] = float("inf")
    with pytest.raises(ValueError, match=r"annotation id=1 .*`keypoints`"):
        keypoint_ap(gt, _predictions(coco_gt))
    gt = copy.deepcopy(coco_gt)
    gt["annotations"][3]["area"] = float("nan")
    with pytest.raises(ValueError, match=r"annotation id=4 .*`area`"):
        keypoint_ap(gt, _predictions(coco_gt))


def test_ap_rejects_non_finite_values_in_a_results_file(coco_gt, tmp_path):
    predictions = _predictions(coco_gt)
    predictions[0]["keypoints"][0] = float("nan")
    path = tmp_path / "results.json"
    path.write_text(json.dumps(predictions))  # Python writes NaN, which json.load accepts
    with pytest.raises(ValueError, match=r"prediction #0 \(.*results\.json\).*`keypoints`"):
        keypoint_ap(coco_gt, path)


def test_oks_rejects_non_finite_predictions_and_areas():
    gt = np.array([[[10.0, 10.0, 2.0], [20.0, 20.0, 2.0]]] * 3)
    pred = gt[..., :2].copy()
    pred[1, 0, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"oks: `pred` is not finite \(nan\) at prediction 1, joint 0"
    ):
        oks(pred, gt, 100.0, sigmas=[0.1, 0.1])
    with pytest.raises(ValueError, match=r"oks: `area` .* not finite"):
        oks(gt[..., :2], gt, [100.0, np.inf, 100.0], sigmas=[0.1, 0.1])
    hidden = gt.copy()
    hidden[0, 1] = [np.nan, np.nan, 0.0]  # an unlabelled GT joint may hold anything
    assert np.isfinite(oks(gt[..., :2], hidden, 100.0, sigmas=[0.1, 0.1])).all()


def test_pck_rejects_non_finite_predictions_and_thresholds():
    gt = np.zeros((4, 3, 2))
    pred = gt.copy()
    pred[3, 2, 1] = np.inf
    with pytest.raises(
        ValueError, match=r"pck: `pred` is not finite \(inf\) at prediction 3, joint 2"
    ):
        pck(pred, gt, normalizer=100.0)
    with pytest.raises(ValueError, match=r"pck: `gt` is not finite \(-inf\).*NaN"):
        pck(gt, np.where(pred == np.inf, -np.inf, gt), normalizer=100.0)
    with pytest.raises(ValueError, match=r"pck: `normalizer`"):
        pck(gt, gt, normalizer=[1.0, np.nan, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"pck: `threshold_px`"):
        pck(gt, gt, threshold_px=-1.0)
    missing = gt.copy()
    missing[0, 0] = np.nan  # NaN ground truth still means "not labelled"
    assert pck(gt, missing, normalizer=100.0).valid.sum() == 11


@pytest.mark.parametrize("metric", [mpjpe, pa_mpjpe])
def test_3d_errors_reject_non_finite_predictions(poses, metric):
    pred, gt = poses
    pred = pred.copy()
    pred[4, 7, 2] = np.nan
    with pytest.raises(ValueError, match=r"`pred` is not finite \(nan\) at prediction 4, joint 7"):
        metric(pred, gt)
    bad_gt = gt.copy()
    bad_gt[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"`gt` is not finite \(inf\) at prediction 0, joint 0"):
        metric(poses[0], bad_gt)


def test_bootstrap_ci_guards_its_arguments():
    values = np.arange(10.0)
    with pytest.raises(ValueError, match="n_resamples=0"):
        bootstrap_ci(values, n_resamples=0)
    with pytest.raises(ValueError, match=r"inf"):
        bootstrap_ci([1.0, np.inf, 2.0])
    with pytest.raises(ValueError, match=r"confidence=1\.5"):
        bootstrap_ci(values, confidence=1.5)
    with pytest.raises(ValueError, match="statistic returned a non-finite value"):
        bootstrap_ci(values, lambda x: np.nan)
    with pytest.raises(ValueError, match=r"inf"):
        mean_ci([1.0, 2.0, -np.inf])


def test_linear_separability_reads_chance_and_a_clean_split():
    from infantpose.metrics import linear_separability

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 60)
    same = rng.normal(size=(120, 8))
    apart = same + labels[:, None] * 4.0
    assert linear_separability(apart, labels) > 0.95
    assert 0.3 < linear_separability(same, labels) < 0.7
    assert np.isnan(linear_separability(same[:61], labels[:61]))  # one synthetic image: no fold
    with pytest.raises(ValueError, match="two"):
        linear_separability(same, np.arange(120) % 3)


def test_pck_per_sample_over_chosen_joints():
    gt = np.zeros((3, 4, 2))
    pred = np.zeros((3, 4, 2))
    pred[0, 1, 0] = 50  # sample 0: joint 1 misses
    pred[1, :, 0] = 50  # sample 1: every joint misses
    visible = np.array([[True] * 4, [True] * 4, [False, False, True, True]])
    result = pck(pred, gt, visible, threshold_px=10.0)
    np.testing.assert_array_equal(result.per_sample(), [0.75, 0.0, 1.0])
    np.testing.assert_array_equal(result.per_sample([0, 1]), [0.5, 0.0, 0.0])  # none valid: 0
    np.testing.assert_array_equal(result.per_sample([2]), [1.0, 0.0, 1.0])
