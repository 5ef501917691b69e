"""Speed of SHIFT on CPU: an adaptation step against a supervised step, and the prior's training.

(a) One SHIFT adaptation step (mode ``all``: source batch B in a student view, target batch B
    through the teacher view, warps, mask, occlusion, the student on both, consistency, prior
    and visibility losses, Adam, EMA) against one supervised step of
    :func:`infantpose.pose2d.train.train_step` on 2B preloaded crops (the same number of images
    through the student), alternated in one run; prints both in ms and their ratio, and the
    share of the adaptation step spent outside the student's forward/backward.
    Model: the CPU profile (ResNet-18, 96×128, 128-channel deconvolutions), every block trained.
(b) Prior training throughput: poses/s of one 2D Pose-NDF step at the released size (hidden
    512 × 5 layers, batch 1024) and at the book's CPU size (256 × 3, batch 512).

Random tensors stand in for images (the step's cost does not depend on their content).
Prints one JSON line.

Run: .venv/bin/python benchmarks/bench_shift.py [--threads 2] [--rounds 3] [--batch 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from infantpose.pose2d import PoseResNet, cpu_config
from infantpose.pose2d.train import train_step
from infantpose.shift import (
    Components,
    EmaTeacher,
    Kp2Seg,
    PoseNDF,
    PriorConfig,
    ShiftConfig,
    SourceCrops,
    TargetImages,
    adaptation_losses,
)


def _timed(fn, repeats: int) -> float:
    tic = time.perf_counter()
    for _ in range(repeats):
        fn()
    return 1000 * (time.perf_counter() - tic) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = cpu_config(frozen=())
    b = args.batch
    w, h = config.model.input_size
    hw, hh = config.model.heatmap_size
    model = PoseResNet(config.model).to(memory_format=torch.channels_last)
    source = SourceCrops(torch.randn(64, 3, h, w), torch.rand(64, 17, 2) * torch.tensor([hw - 1, hh - 1]),
                         torch.ones(64, 17), torch.rand(64, 1, hh, hw))  # fmt: skip
    target = TargetImages(torch.randn(64, 3, h, w))
    components = Components(PoseNDF(PriorConfig(hidden=256, layers=3)), Kp2Seg((hw, hh)),
                            (torch.rand(64, 1, hh, hw) > 0.5).float())  # fmt: skip
    for module in (components.prior, components.kp2seg):
        module.requires_grad_(False)
    shift_config = ShiftConfig(mode="all", batch_size=b, precision=config.precision)
    teacher = EmaTeacher(model, 0.99)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(0)

    def adaptation_step() -> None:
        losses = adaptation_losses(
            model, teacher, source, target, components, shift_config, generator
        )
        optimiser.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimiser.step()
        teacher.update(model)

    batch = {"image": torch.randn(2 * b, 3, h, w), "target": torch.rand(2 * b, 17, hh, hw),
             "target_weight": torch.ones(2 * b, 17, 1)}  # fmt: skip

    def supervised_step() -> None:
        train_step(model, batch, optimiser, config)

    def student_only() -> None:  # the student's share of an adaptation step
        y = model(batch["image"].contiguous(memory_format=torch.channels_last))
        optimiser.zero_grad(set_to_none=True)
        y.square().mean().backward()

    model.train()
    adaptation_step(), supervised_step()  # warm-up
    adaptation, supervised, student = [], [], []
    for _ in range(args.rounds):
        adaptation.append(_timed(adaptation_step, args.repeats))
        supervised.append(_timed(supervised_step, args.repeats))
        student.append(_timed(student_only, args.repeats))
    a, s, f = (statistics.median(v) for v in (adaptation, supervised, student))

    prior_rates = {}
    for label, prior_config in (("released_512x5_b1024", PriorConfig()),
                                ("cpu_256x3_b512", PriorConfig(hidden=256, layers=3, batch_size=512))):  # fmt: skip
        prior = PoseNDF(prior_config)
        opt = torch.optim.Adam(prior.parameters(), lr=3e-4)
        x = torch.nn.functional.normalize(torch.randn(prior_config.batch_size, 13, 2), dim=-1)
        y = torch.rand(prior_config.batch_size)

        def prior_step(prior=prior, opt=opt, x=x, y=y) -> None:
            loss = torch.nn.functional.mse_loss(prior(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        prior_step()
        ms = statistics.median(_timed(prior_step, args.repeats * 3) for _ in range(args.rounds))
        prior_rates[label] = {
            "ms_per_step": round(ms, 2),
            "poses_per_s": round(1000 * prior_config.batch_size / ms),
        }

    print(json.dumps({
        "benchmark": "shift",
        "threads": args.threads,
        "batch": {"source": b, "target": b, "supervised": 2 * b},
        "input_wh": [w, h],
        "precision": config.precision,
        "adaptation_step_ms": round(a, 1),
        "supervised_step_ms": round(s, 1),
        "adaptation_over_supervised": round(a / s, 2),
        "outside_student_share": round(max(0.0, a - f) / a, 2),
        "prior_training": prior_rates,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
