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

``--select`` instead reruns the validation study behind the chapter's training defaults
(issue 14), on the chapter's default data (seed 0) and its **validation** infants only, never
the test set: low-noise oversampling of the prior's training times for every prior row, the
guided-augmentation variants, and the fine-tuned lifter's learning rate. One seed (the chapter
then reports its choices over three); prints one JSON line of rows.

Run: .venv/bin/python benchmarks/bench_lift3d.py [--threads 1] [--big 10000] [--select]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from infantpose.body import AnnyBody
from infantpose.lift3d import (
    ExperimentProfile,
    GuidedAugmentConfig,
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


def select(
    sizes: tuple[int, ...] = (50, 1000),
    augment_sizes: tuple[int, ...] = (50, 200),
    studies: tuple[str, ...] = ("low_noise_share", "augment", "lifter_adapt_lr"),
) -> dict:
    """The validation study (see the module docstring): rows of validation MPJPE per variant."""
    from dataclasses import replace

    from infantpose.lift3d import make_datasets, run_lifting_experiment

    body = AnnyBody()
    base = ExperimentProfile.default(seeds=(0,), sizes=sizes)
    data = make_datasets(body, base, seed=0)
    out: dict = {"benchmark": "lift3d-select", "evaluated_on": "validation", "seed": 0, "rows": []}

    def record(study: str, variant: str, profile: ExperimentProfile, methods) -> None:
        rows, _ = run_lifting_experiment(data, profile, methods=methods, on="validation")
        for row in rows:
            out["rows"].append({"study": study, "variant": variant, **row.to_dict()})
            print(study, variant, row.method, row.size, round(row.mpjpe, 1), flush=True)

    priors = ("adult_zero_shot", "infant_scratch", "finetune", "control", "augmented")
    for share in (0.0, 0.5) if "low_noise_share" in studies else ():
        profile = replace(
            base,
            adult_train=replace(base.adult_train, low_noise_share=share),
            infant_train=replace(base.infant_train, low_noise_share=share),
        )
        record("low_noise_share", str(share), profile, priors)
    variants = {
        "first design (t=0.08, w=2, uniform size)": GuidedAugmentConfig(
            strength=0.08, guidance=2.0
        ),
        "stronger edit (t=0.3, w=2)": GuidedAugmentConfig(strength=0.3, guidance=2.0),
        "infant proportions (per bone, t=0.08, w=2)": GuidedAugmentConfig(
            strength=0.08, guidance=2.0, rescale="per_bone"
        ),
        "t=0.08, w=0.5": GuidedAugmentConfig(strength=0.08, guidance=0.5),
        "weaker edit (t=0.03, w=0.5)": GuidedAugmentConfig(strength=0.03, guidance=0.5),
        "weaker edit (t=0.015, w=0.5): the default": GuidedAugmentConfig(),
        "default + filter (q=0.9)": GuidedAugmentConfig(filter_quantile=0.9),
        "default + at most 50 % augmented": GuidedAugmentConfig(max_share=0.5),
        "default + conditional model 1500 steps": GuidedAugmentConfig(train_steps=1500),
    }
    if "augment" in studies:
        for name, config in variants.items():
            profile = replace(base, sizes=augment_sizes, augment=config)
            record("augment", name, profile, ("augmented",))
        scratch = replace(base, sizes=augment_sizes)
        record("augment", "baseline: infant from scratch", scratch, ("infant_scratch",))
    for lr in (1e-4, 3e-4, 1e-3) if "lifter_adapt_lr" in studies else ():
        profile = replace(base, lifter_adapt=replace(base.lifter_adapt, lr=lr))
        record("lifter_adapt_lr", str(lr), profile, ("lifter_finetune",))
    return out


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
    parser.add_argument("--select", action="store_true", help="the validation study only")
    parser.add_argument(
        "--studies",
        nargs="+",
        default=["low_noise_share", "augment", "lifter_adapt_lr"],
        help="with --select: which studies to run",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.select:
        print(json.dumps(select(studies=tuple(args.studies))))
        return

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
