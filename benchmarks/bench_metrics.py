"""Speed of the measuring core on the sizes later chapters evaluate.

Prints one JSON line. Ratios compare against a reference run in the same process:
- PA-MPJPE, batched (one SVD call for all poses) vs a per-pose loop (scipy
  orthogonal Procrustes), on 10,000 H36M-17 poses — the lifting chapter's scale;
- COCO AP through pycocotools on 1,000 images (the SyRIP test sets have 100–500).

Run: .venv/bin/python benchmarks/bench_metrics.py
"""

from __future__ import annotations

import json
import time

import numpy as np
from scipy.linalg import orthogonal_procrustes

from infantpose.data.coco import annotation_record, image_record, make_coco
from infantpose.metrics import keypoint_ap, pa_mpjpe


def _per_pose_pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    errors = []
    for p, g in zip(pred, gt, strict=True):
        p0, g0 = p - p.mean(0), g - g.mean(0)
        rotation, scale = orthogonal_procrustes(p0, g0)
        if np.linalg.det(rotation) < 0:  # no reflections, as the package
            u, s, vt = np.linalg.svd(p0.T @ g0)
            d = np.diag([1.0, 1.0, -1.0])
            rotation, scale = u @ d @ vt, (s * np.diag(d)).sum()
        aligned = scale / (p0**2).sum() * p0 @ rotation + g.mean(0)
        errors.append(np.linalg.norm(aligned - g, axis=-1).mean())
    return float(np.mean(errors))


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(10_000, 17, 3))
    pred = gt + rng.normal(scale=0.05, size=gt.shape)

    t_batched, batched = _timed(lambda: pa_mpjpe(pred, gt))
    t_loop, loop = _timed(lambda: _per_pose_pa_mpjpe(pred, gt), repeat=1)
    assert abs(batched - loop) < 1e-9, (batched, loop)

    images, annotations = [], []
    for i in range(1000):
        kpts = np.c_[rng.uniform(20, 300, size=(17, 2)), np.full(17, 2)]
        images.append(image_record(i + 1, f"test{i}.jpg", 320, 320, is_synthetic=False))
        annotations.append(annotation_record(i + 1, i + 1, kpts, image_size=(320, 320)))
    gt_coco = make_coco(images, annotations).to_dict()
    predictions = []
    for a in annotations:
        shift = np.array([*rng.normal(scale=3, size=2), 0.0])  # move x, y; keep v
        moved = np.asarray(a["keypoints"]).reshape(17, 3) + shift
        predictions.append(
            {
                "image_id": a["image_id"],
                "category_id": 1,
                "keypoints": moved.ravel().tolist(),
                "score": 1.0,
            }
        )
    t_ap, ap = _timed(lambda: keypoint_ap(gt_coco, predictions), repeat=1)

    print(
        json.dumps(
            {
                "benchmark": "metrics",
                "pa_mpjpe_poses": len(gt),
                "pa_mpjpe_batched_s": round(t_batched, 4),
                "pa_mpjpe_per_pose_loop_s": round(t_loop, 4),
                "pa_mpjpe_speedup_vs_loop": round(t_loop / t_batched, 1),
                "pa_mpjpe_poses_per_s": round(len(gt) / t_batched),
                "coco_ap_images": len(images),
                "coco_ap_s": round(t_ap, 3),
                "coco_ap": round(ap.ap, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
