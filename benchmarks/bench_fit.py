"""Speed, accuracy and memory of the batched body fit, on keypoints of known poses.

pose -> render -> keypoints -> fit -> error: infant poses from the library are rendered at
384x288 (the `synthetic` preset), their COCO-17 keypoints with depth-test visibility are fitted,
and the fitted body's reprojection is compared with those keypoints. The same images are then
fitted one at a time in the same process (the reference), on a subset to keep the run short.

Prints one JSON line. Targets (issue 3): <= 0.5 s per pose amortised on 2 CPU cores, median
reprojection error <= 4 px.

Run: .venv/bin/python benchmarks/bench_fit.py [--poses 64] [--single 8]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch

from infantpose.body import AnnyBody, PoseSampler
from infantpose.body.fit import FitConfig, fit_body
from infantpose.body.priors import fit_pose_prior
from infantpose.metrics import pa_mpjpe
from infantpose.render import render_poses

SIZE = (384, 288)


def rendered_keypoints(body: AnnyBody, count: int, seed: int):
    """Keypoints (with visibility), intrinsics and 3D keypoints of ``count`` rendered library poses."""
    sample = PoseSampler(body).sample(count, seed=seed)
    rendered = render_poses(body, sample.pose, preset="synthetic", seed=seed, image_size=SIZE)
    with torch.no_grad():
        _, truth = body.skeleton(sample.pose)
    keypoints = np.stack([r.keypoints for r in rendered])
    return keypoints, np.stack([r.camera.K for r in rendered]), truth


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: ``5`` to /proc/self/clear_refs); False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def status_mb(field: str) -> float:
    """A memory figure of /proc/self/status in MB: ``VmHWM`` (peak since the last reset) or
    ``VmRSS`` (now); the process's ru_maxrss where /proc is not there."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--poses", type=int, default=64)
    parser.add_argument("--single", type=int, default=8, help="fitted one at a time too")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    body = AnnyBody()
    start = time.perf_counter()
    prior = fit_pose_prior("infant")
    prior_seconds = time.perf_counter() - start
    keypoints, intrinsics, truth = rendered_keypoints(body, args.poses, seed=7)
    config = FitConfig()
    fit_body(
        body, keypoints[:2], SIZE, intrinsics=intrinsics[:2], config=config, prior=prior
    )  # warm-up

    before_mb = status_mb("VmRSS")
    peak_reset = reset_peak_rss()
    start = time.perf_counter()
    batched = fit_body(body, keypoints, SIZE, intrinsics=intrinsics, config=config, prior=prior)
    batched_seconds = time.perf_counter() - start
    fit_peak_mb = status_mb("VmHWM")

    start = time.perf_counter()
    single = [
        fit_body(
            body,
            keypoints[i : i + 1],
            SIZE,
            intrinsics=intrinsics[i : i + 1],
            config=config,
            prior=prior,
        )
        for i in range(args.single)
    ]
    single_seconds = time.perf_counter() - start

    with torch.no_grad():
        _, fitted = body.skeleton(batched.pose)
    ok = np.isfinite(batched.median_error)
    labelled = keypoints[..., 2] > 0
    errors = np.linalg.norm(batched.keypoints_2d - keypoints[..., :2], axis=-1)[
        labelled & ok[:, None]
    ]
    batched_per_pose = batched_seconds / args.poses
    single_per_pose = single_seconds / args.single
    single_median = float(np.median([r.median_error[0] for r in single]))
    print(
        json.dumps(
            {
                "benchmark": "fit",
                "data": "anny infants from the pose library, rendered 384x288 (synthetic preset), "
                "COCO-17 keypoints with depth-test visibility",
                "poses": args.poses,
                "threads": args.threads,
                "batched_s_per_pose": round(batched_per_pose, 3),
                "target_s_per_pose": 0.5,
                "single_s_per_pose": round(single_per_pose, 3),
                "speedup_batched_vs_single": round(single_per_pose / batched_per_pose, 1),
                "single_images": args.single,
                "median_reprojection_px": round(float(np.median(batched.median_error[ok])), 2),
                "median_reprojection_px_all_keypoints": round(float(np.median(errors)), 2),
                "single_median_reprojection_px": round(single_median, 2),
                "target_median_px": 4.0,
                "accepted": int(batched.accepted.sum()),
                "rejected": batched.summary()["rejected"],
                "pa_mpjpe_mm_3d_keypoints": round(
                    1000 * float(pa_mpjpe(fitted.numpy()[ok], truth.numpy()[ok])), 1
                ),
                "prior_fit_s": round(prior_seconds, 2),
                "fit_peak_rss_mb": round(fit_peak_mb),
                "fit_peak_rss_above_start_mb": round(fit_peak_mb - before_mb)
                if peak_reset
                else None,
                "process_maxrss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
