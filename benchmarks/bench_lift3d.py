"""Speed and accuracy of ZeDO-style lifting: reference schedule vs the fast one, CPU and GPU.

Infant poses from the pose library on anny bodies (``sample_pose_set``), a small prior trained
here on 1000 of them (width 256 × 2 blocks), and 200 other infant poses lifted from their exact
2D projections with the reference schedule (500 IPO + 1000 OIL Euler steps, ZeDO-i as
released) and the fast one (100 IPO + 100 OIL exponential steps). Then a batch of 10,000 poses
with the fast schedule on the CPU, and on CUDA when there is one (null otherwise). Also the
wall time of the chapter's building blocks at its default sizes: one adult prior training, one
fine-tune, one lift of 200 poses.

Prints one JSON line. Goals (issue 6): >= 10x fewer network evaluations at <= 5 % worse MPJPE;
>= 10k poses/s on a GPU at ~100 steps.

Run: .venv/bin/python benchmarks/bench_lift3d.py [--threads 1] [--big 10000]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from infantpose.body import AnnyBody
from infantpose.lift3d import (
    ExperimentProfile,
    LiftConfig,
    evaluate_lift,
    finetune,
    lift,
    sample_pose_set,
    train_prior,
)


def run(prior, data, config, device="cpu", batch_size=None) -> dict:
    if device != "cpu":
        lift(prior, data.keypoints_2d[:64], data.intrinsics[:64], config, device=device)  # warm-up
        torch.cuda.synchronize()
    result = lift(
        prior, data.keypoints_2d, data.intrinsics, config, device=device, batch_size=batch_size
    )
    scores = evaluate_lift(result, data.poses_3d)
    return {
        "poses": len(data),
        "ipo_steps": config.ipo_steps,
        "oil_steps": config.oil_steps,
        "network_evaluations_per_pose": result.network_evaluations,
        "seconds": round(result.seconds, 3),
        "poses_per_s": round(len(data) / result.seconds, 1),
        "mpjpe_mm": round(scores["mpjpe"], 2),
        "pa_mpjpe_mm": round(scores["pa_mpjpe"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1, help="1 is fastest on a shared machine")
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument(
        "--cpu-big-limit",
        type=float,
        default=120.0,
        help="skip the CPU big batch if the estimate is above",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    body = AnnyBody()
    profile = ExperimentProfile.default()
    train = sample_pose_set(body, "infant", 1000, seed=11)
    test = sample_pose_set(body, "infant", args.test, seed=12)
    prior = train_prior(train.poses_3d, profile.score, profile.adult_train, seed=0)

    reference = run(prior, test, LiftConfig.reference())
    fast = run(prior, test, LiftConfig.fast())
    out = {
        "benchmark": "lift3d",
        "threads": args.threads,
        "prior": {
            "width": profile.score.width,
            "blocks": profile.score.blocks,
            "train_poses": len(train),
            "train_steps": profile.adult_train.steps,
            "train_seconds": round(prior.seconds, 2),
        },
        "reference": reference,
        "fast": fast,
        "evaluation_ratio": reference["network_evaluations_per_pose"]
        / fast["network_evaluations_per_pose"],
        "mpjpe_ratio": round(fast["mpjpe_mm"] / reference["mpjpe_mm"], 4),
    }
    out["goal_met"] = out["evaluation_ratio"] >= 10 and out["mpjpe_ratio"] <= 1.05

    big = sample_pose_set(body, "infant", args.big, seed=13)
    estimate = fast["seconds"] * args.big / args.test
    out["cpu_big"] = (
        run(prior, big, LiftConfig.fast(), batch_size=2000)
        if estimate < args.cpu_big_limit
        else None
    )
    out["gpu_big"] = (
        {
            **run(prior, big, LiftConfig.fast(), device="cuda"),
            "device": torch.cuda.get_device_name(),
        }
        if torch.cuda.is_available()
        else None
    )

    # The chapter's blocks at its default sizes: adult prior, fine-tune, lift of 200 poses.
    adult = sample_pose_set(body, "adult", profile.adult_poses, seed=14)
    start = time.perf_counter()
    adult_prior = train_prior(adult.poses_3d, profile.score, profile.adult_train, seed=0)
    adult_seconds = time.perf_counter() - start
    tuned = finetune(adult_prior, train.poses_3d[:200], profile.infant_train, seed=0)
    start = time.perf_counter()
    lift(tuned, test.keypoints_2d[:200], test.intrinsics[:200], profile.lift)
    out["default_profile_seconds"] = {
        "adult_prior": round(adult_seconds, 2),
        "finetune": round(tuned.seconds, 2),
        "lift_200": round(time.perf_counter() - start, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
