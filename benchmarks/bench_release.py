"""Where a training step of the released adult model spends the CPU, and what its curve bought.

(a) One training step at batch 32 (forward, JointsMSE, backward, AdamW step), split into the
    trunk (conv1 … layer4) and the head (three deconvolutions + the 1×1 layer), for the release's
    architecture (ResNet-18, 128-channel deconvolutions, 96×128) and the alternatives a pilot
    would weigh: the paper's 256-channel head, ResNet-34, a square 128×128 input, ResNet-50 with
    the paper's head; each in fp32 and with the precision this CPU runs ("auto": bf16 with AMX or
    AVX-512 BF16, else fp32). Variants alternate round by round in one process, and each is also
    given as a ratio to the release's architecture in the same round.
(b) The data pipeline: ms of one training sample (JPEG decode of a 640×480 frame, augmentation,
    affine warp, targets) on the release's own rendered adults when they exist, else on random
    640×480 JPEGs.
(c) Accuracy per CPU-minute: the shipped card's curve (validation AP and mean OKS against the
    cumulative training CPU-minutes), and its held-out numbers.

Prints one JSON line. Run: .venv/bin/python benchmarks/bench_release.py [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from infantpose.data.coco import annotation_record, image_record, make_coco
from infantpose.pose2d import PoseResNet, PoseResNetConfig
from infantpose.pose2d.loss import joints_mse
from infantpose.pose2d.release import RELEASE_CARD, read_card, release_config
from infantpose.pose2d.runtime import autocast_context, resolve_precision
from infantpose.pose2d.train import train_dataset

VARIANTS = {
    "release: R18, head 128, 96x128": dict(depth=18, deconv_channels=(128,) * 3, input_size=(96, 128)),
    "R18, head 256 (paper width)": dict(depth=18, deconv_channels=(256,) * 3, input_size=(96, 128)),
    "R34, head 128": dict(depth=34, deconv_channels=(128,) * 3, input_size=(96, 128)),
    "R18, head 128, 128x128 square": dict(depth=18, deconv_channels=(128,) * 3, input_size=(128, 128)),
    "R50, head 256, 96x128": dict(depth=50, deconv_channels=(256,) * 3, input_size=(96, 128)),
}  # fmt: skip


def step_times(config: dict, precision: str | None, batch: int, steps: int) -> dict[str, float]:
    """ms per image of the trunk's and the head's forward + backward, and of a whole step."""
    model = PoseResNet(PoseResNetConfig(**config)).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    w, h = config["input_size"]
    x = torch.randn(batch, 3, h, w).contiguous(memory_format=torch.channels_last)
    target = torch.rand(batch, 17, h // 4, w // 4)
    weight = torch.ones(batch, 17, 1)
    device = torch.device("cpu")
    trunk = head = total = 0.0
    for i in range(steps + 1):  # the first step warms up and is not counted
        t0 = time.perf_counter()
        with autocast_context(device, precision):
            features = model.features(x)
        f = features.detach().requires_grad_(True)
        t1 = time.perf_counter()
        with autocast_context(device, precision):
            loss = joints_mse(model.head(f), target, weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        features.backward(f.grad)
        optimizer.step()
        t3 = time.perf_counter()
        if i:
            trunk += (t1 - t0) + (t3 - t2)
            head += t2 - t1
            total += t3 - t0
    scale = 1000 / (steps * batch)
    return {"trunk_ms": trunk * scale, "head_ms": head * scale, "step_ms": total * scale}


def data_ms(samples: int) -> dict[str, float]:
    """ms per training sample of the release's data pipeline (one process, no cache)."""
    config = release_config()
    try:
        from infantpose.pose2d.release import RELEASE_DATA
        from infantpose.synthesis.adults import adult_pretraining_set

        coco = adult_pretraining_set(
            "release", RELEASE_DATA.validation, RELEASE_DATA.validation_seed
        )
        source = "the release's validation adults (640×480 renders)"
    except Exception:
        coco, source = _random_set(Path(tempfile.mkdtemp()), 64), "random 640×480 JPEGs"
    data = train_dataset(coco, config)
    data.set_epoch(0)
    n = min(samples, len(data))
    tic = time.perf_counter()
    for i in range(n):
        data[i]
    return {"ms_per_sample": 1000 * (time.perf_counter() - tic) / n, "samples": n, "data": source}


def _random_set(root: Path, count: int):
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for i in range(count):
        name = f"{i:04d}.jpg"
        cv2.imwrite(str(root / name), rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
        xy = rng.uniform([200, 100], [440, 380], (17, 2))
        kps = np.concatenate([xy, np.full((17, 1), 2.0)], 1)
        images.append(image_record(i + 1, name, 640, 480))
        annotations.append(annotation_record(i + 1, i + 1, kps))
    return make_coco(images, annotations, image_root=root)


def card_curve() -> dict | None:
    if not RELEASE_CARD.is_file():
        return None
    card = read_card()
    threads = card["compute"]["machine"].get("torch_threads", 1) * card["compute"]["processes"]
    minutes, curve = 0.0, []
    for h in card["history"]:
        minutes += h["seconds"] * threads / 60
        curve.append({"epoch": h["epoch"] + 1, "cpu_minutes": round(minutes, 1),
                      "val_ap": round(100 * h["val_ap"], 2),
                      "val_mean_oks": round(100 * h["val_mean_oks"], 2)})  # fmt: skip
    best = card["best_epoch"]
    return {
        "curve": curve,
        "val_ap_per_cpu_hour": round(100 * card["validation"]["ap"] / (minutes / 60), 2),
        "best_epoch": best + 1,
        "test": card["test"],
        "zero_shot_infants": card["zero_shot_infants"],
        "cpu_hours": card["compute"]["cpu_hours"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per variant and round")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=int, default=200, help="data-pipeline samples")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    auto = resolve_precision(torch.device("cpu"), "auto")
    precisions = ["fp32"] + ([auto] if auto != "fp32" else [])
    rounds: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        for name, config in VARIANTS.items():
            for precision in precisions:
                rounds.setdefault(f"{name} [{precision}]", []).append(
                    step_times(config, precision, args.batch, args.steps)
                )
    steps = {
        name: {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
        for name, runs in rounds.items()
    }
    for precision in precisions:
        ref = f"release: R18, head 128, 96x128 [{precision}]"
        for name in steps:
            if name.endswith(f"[{precision}]"):
                steps[name]["vs_release"] = round(
                    statistics.median(a["step_ms"] / b["step_ms"]
                                      for a, b in zip(rounds[name], rounds[ref], strict=True)), 2
                )  # fmt: skip
    print(json.dumps({
        "bench": "release", "threads": args.threads, "batch": args.batch, "auto_precision": auto,
        "step_ms_per_image": steps, "data": data_ms(args.samples), "card": card_curve(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
