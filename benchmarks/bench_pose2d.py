"""Speed of the FiDIP 2D pose pipeline: data overhead of a training step, inference images/s.

(a) A full training step (JPEG decode + augmentation + affine warp + targets + collation +
    forward + backward + Adam step, through the same ``fit`` batching as training) against the
    same step on tensors preloaded once, alternated in one run; overhead = full / preloaded − 1.
    Model: the CPU profile (``cpu_config``: ResNet-18, 96×128 input, 128-channel deconvolutions,
    paper-frozen blocks).
(b) Inference images/s on CPU at 256×192 (w×h 192×256) for ResNet-18 and ResNet-50 with the
    paper's head (3 × 256-channel deconvolutions), batch 16.
(c) On a GPU (when torch sees one): ResNet-50 at 384×288 with channels-last + bf16 autocast,
    inference and training images/s; null otherwise.

(d) bf16 autocast + channels_last against fp32, the same training step on preloaded tensors,
    alternated in one run (images/s of each and their ratio).
(e) ``--accuracy-minutes M``: accuracy per CPU minute. The old CPU recipe (ResNet-18 64×96,
    batch 16, Adam 1e-3 constant, quantised targets, quarter offset, no flip test, fp32) and
    the new one (:func:`~infantpose.pose2d.cpu_config`) each train from random weights for M
    minutes of wall clock on the book's 3000 SURREAL-like pre-training adults (made once under
    the data root, as chapter 03 does); then both are scored on chapter 02's 300 held-out
    adults (AP, mean OKS), each with its own codec. The new recipe's cosine schedule is sized
    to the budget from its measured speed; the old one's constant rate is stopped at the budget.
(f) The cost of anti-aliasing a crop: a 640×480 image (the infants' frames) cropped to the
    96×128 input around a 300-px box (a ≈ 3× shrink), with and without the area pre-filter,
    alternated in one run (ms per crop of each and their ratio).

Data for (a)–(d): random 384×288 JPEGs with 17 keypoints each, written to a temp dir (the size
of the embedded rendered sets). Prints one JSON line. Target (issue 5): overhead ≤ 15 % on CPU;
(issue 12): the new recipe ≥ 3× the old one's held-out AP at equal time.

Run: .venv/bin/python benchmarks/bench_pose2d.py [--threads 2] [--workers 0] [--rounds 3]
     .venv/bin/python benchmarks/bench_pose2d.py --accuracy-minutes 5
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
from infantpose.pose2d import HeatmapCodec, PoseResNet, cpu_config, evaluate, fit, preload
from infantpose.pose2d.train import (
    _batches,
    freeze_modules,
    set_train_mode,
    train_dataset,
    train_step,
)


def write_images(root: Path, count: int, size=(384, 288), seed: int = 0):
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for i in range(1, count + 1):
        pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        pixels = cv2.GaussianBlur(pixels, (9, 9), 3)  # photo-like JPEG size, not pure noise
        joints = np.zeros((17, 3))
        joints[:, 0] = rng.uniform(80, size[0] - 80, 17)
        joints[:, 1] = rng.uniform(40, size[1] - 40, 17)
        joints[:, 2] = 2
        cv2.imwrite(str(root / f"train{i:05d}.jpg"), pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
        images.append(image_record(i, f"train{i:05d}.jpg", *size, is_synthetic=i % 2 == 0))
        annotations.append(annotation_record(i, i, joints, image_size=size))
    return make_coco(images, annotations, image_root=root)


def time_steps(model, batches, optimizer, config, frozen) -> float:
    """Seconds per step, the data iteration included."""
    set_train_mode(model, frozen)
    tic = time.perf_counter()
    steps = 0
    for batch in batches:
        train_step(model, batch, optimizer, config)
        steps += 1
    return (time.perf_counter() - tic) / steps


def inference_rate(depth: int, device: torch.device, size, batch: int, repeats: int, fast: bool):
    torch.manual_seed(0)
    model = (
        PoseResNet(cpu_config(model={"depth": depth, "input_size": size}).model).to(device).eval()
    )
    x = torch.randn(batch, 3, size[1], size[0], device=device)
    if fast:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    context = torch.autocast(device.type, dtype=torch.bfloat16) if fast else torch.no_grad()
    with torch.no_grad(), context:
        model(x)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        tic = time.perf_counter()
        for _ in range(repeats):
            model(x)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return batch * repeats / (time.perf_counter() - tic)


def gpu_figures() -> dict | None:
    if not torch.cuda.is_available():
        return None
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    out = {"device": torch.cuda.get_device_name(0)}
    out["infer_r50_384x288_bf16_cl_img_s"] = round(
        inference_rate(50, device, (288, 384), 64, 20, fast=True), 1
    )
    out["infer_r50_384x288_fp32_img_s"] = round(
        inference_rate(50, device, (288, 384), 64, 20, fast=False), 1
    )
    config = cpu_config(
        model={"depth": 50, "input_size": (288, 384)},
        device="cuda",
        precision="bf16",
        channels_last=True,
        domain_adaptation=False,
    )
    model = PoseResNet(config.model).to(device).to(memory_format=torch.channels_last)
    freeze_modules(model, config.frozen)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-3)
    batch = {
        "image": torch.randn(64, 3, 384, 288, device=device),
        "target": torch.rand(64, 17, 96, 72, device=device),
        "target_weight": torch.ones(64, 17, 1, device=device),
    }
    for _ in range(2):
        train_step(model, batch, optimizer, config)
    torch.cuda.synchronize()
    tic = time.perf_counter()
    for _ in range(10):
        train_step(model, batch, optimizer, config)
    torch.cuda.synchronize()
    out["train_r50_384x288_bf16_cl_img_s"] = round(640 / (time.perf_counter() - tic), 1)
    return out


def precision_speed(coco, args) -> dict:
    """(d): images/s of one training step, bf16 + channels_last vs fp32, alternated."""
    rates = {"fp32": [], "bf16_channels_last": []}
    for round_ in range(args.rounds + 1):
        for name, changes in (
            ("fp32", {"precision": None, "channels_last": False}),
            ("bf16_channels_last", {"precision": "bf16", "channels_last": True}),
        ):
            config = cpu_config(batch_size=args.batch, domain_adaptation=False, frozen=(),
                                max_steps_per_epoch=args.steps, log=False, **changes)  # fmt: skip
            torch.manual_seed(0)
            model = PoseResNet(config.model)
            if config.channels_last:
                model.to(memory_format=torch.channels_last)
            optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
            tensors = preload(train_dataset(coco, config))
            seconds = time_steps(
                model, _batches(tensors, config, 0, args.batch), optimizer, config, ()
            )
            if round_:  # the first round warms the kernels up
                rates[name].append(args.batch / seconds)
    out = {k: round(statistics.median(v), 1) for k, v in rates.items()}
    out["speedup"] = round(out["bf16_channels_last"] / out["fp32"], 2)
    return out


def old_recipe():
    """Chapter 03's CPU settings before issue 12 (the default profile's)."""
    from infantpose.pose2d import TrainConfig
    from infantpose.pose2d.model import PoseResNetConfig
    from infantpose.pose2d.transforms import AugmentConfig

    return TrainConfig(
        model=PoseResNetConfig(depth=18, input_size=(64, 96), deconv_channels=(128, 128, 128)),
        batch_size=16, lr=1e-3, heatmap_sigma=2.0, codec=HeatmapCodec(), augment=AugmentConfig(),
        frozen=(), domain_adaptation=False, log=False, epochs=1000,
    )  # fmt: skip


def accuracy_per_minute(minutes: float) -> dict:
    """(e): held-out adult AP and mean OKS after ``minutes`` of training, old vs new recipe."""
    from infantpose.synthesis.adults import adult_set

    pretrain = adult_set("surreal", 3000, 1, progress=True)
    held_out = adult_set("surreal", 300, 0)
    budget = 60.0 * minutes
    out = {"data": "embedded: 3000 SURREAL-like adults (seed 1) to train, chapter 02's 300 (seed 0) held out",
           "minutes": minutes}  # fmt: skip
    for name, config in (
        ("old", old_recipe()),
        ("new", cpu_config(frozen=(), domain_adaptation=False, log=False)),
    ):
        torch.manual_seed(0)
        model = PoseResNet(config.model)
        data = train_dataset(pretrain, config)
        if name == "new":  # size the anneal to the budget from the measured speed
            probe = config.replace(max_steps_per_epoch=4, epochs=1)
            tic = time.perf_counter()
            fit(PoseResNet(config.model), data, probe)
            rate = 4 * config.batch_size / (time.perf_counter() - tic)
            config = config.replace(epochs=max(1, int(budget * rate / len(data))))
        start = time.perf_counter()

        def stop(epoch, record, start=start):
            if time.perf_counter() - start > budget:
                raise StopIteration

        try:
            fit(model, data, config, on_epoch_end=stop)
        except StopIteration:
            pass
        trained_s = time.perf_counter() - start
        result = evaluate(model, held_out, codec=config.codec)
        out[name] = {
            "recipe": f"{config.model.input_size[0]}x{config.model.input_size[1]}, batch {config.batch_size}, "
            f"{config.optimizer} {config.schedule}, {config.codec.targets}/{config.codec.decoding}, "
            f"flip test {config.codec.flip_test}, {config.precision or 'fp32'}",
            "train_s": round(trained_s, 1),
            "held_out_ap": round(100 * result.ap.ap, 2),
            "held_out_ap50": round(100 * result.ap.ap50, 2),
            "held_out_mean_oks": round(100 * result.mean_oks, 2),
        }
    out["ap_ratio_new_over_old"] = round(
        out["new"]["held_out_ap"] / max(out["old"]["held_out_ap"], 1e-9), 2
    )
    out["target_ratio"] = 3.0
    return out


def antialias_cost(repeats: int = 200) -> dict:
    """(f): ms per crop with and without the area pre-filter, alternated, and their ratio."""
    from infantpose.pose2d.transforms import crop_image, get_affine_transform

    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    matrix = get_affine_transform([320, 240], [1.5, 2.0], 20.0, (96, 128))  # ≈ 300×400 px box
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(3):
        for antialias in (False, True):
            tic = time.perf_counter()
            for _ in range(repeats):
                crop_image(image, matrix, (96, 128), antialias=antialias)
            times[antialias].append((time.perf_counter() - tic) / repeats * 1000)
    plain, filtered = statistics.median(times[False]), statistics.median(times[True])
    return {"plain_ms": round(plain, 3), "antialiased_ms": round(filtered, 3),
            "ratio": round(filtered / plain, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternations full/preloaded")
    parser.add_argument("--steps", type=int, default=3, help="steps per round")
    parser.add_argument("--accuracy-minutes", type=float, default=0.0,
                        help="also (e): train old and new recipes this many minutes each")  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.accuracy_minutes > 0:
        print(json.dumps({"benchmark": "pose2d-accuracy", "threads": args.threads,
                          **accuracy_per_minute(args.accuracy_minutes)}))  # fmt: skip
        return

    with tempfile.TemporaryDirectory() as tmp:
        coco = write_images(Path(tmp), args.images)
        config = cpu_config(
            batch_size=args.batch,
            num_workers=args.workers,
            max_steps_per_epoch=args.steps,
            domain_adaptation=False,
            cache_images=False,  # decode every time: the honest worst case
            log=False,
        )
        torch.manual_seed(0)
        model = PoseResNet(config.model)
        freeze_modules(model, config.frozen)
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-3)
        data = train_dataset(coco, config)
        tic = time.perf_counter()
        tensors = preload(data)
        preload_s = time.perf_counter() - tic
        # warm-up both paths (allocators, oneDNN kernels)
        time_steps(
            model, _batches(tensors, config, 0, args.batch), optimizer, config, config.frozen
        )
        full, pre = [], []
        for r in range(args.rounds):
            full.append(
                time_steps(
                    model,
                    _batches(data, config, r + 1, args.batch),
                    optimizer,
                    config,
                    config.frozen,
                )
            )
            pre.append(
                time_steps(
                    model,
                    _batches(tensors, config, r + 1, args.batch),
                    optimizer,
                    config,
                    config.frozen,
                )
            )
        per_sample_ms = preload_s / len(data) * 1000
        speed = precision_speed(coco, args)
    full_s, pre_s = statistics.median(full), statistics.median(pre)

    cpu = torch.device("cpu")
    result = {
        "benchmark": "pose2d",
        "threads": args.threads,
        "workers": args.workers,
        "train_step": {
            "model": "cpu_config: resnet18, 96x128, deconv 128x3, conv1..layer2 frozen",
            "batch": args.batch,
            "full_s": round(full_s, 4),
            "preloaded_s": round(pre_s, 4),
            "overhead": round(full_s / pre_s - 1, 4),
            "target_overhead": 0.15,
            "sample_ms": round(per_sample_ms, 2),
        },
        "cpu_inference_256x192_img_s": {
            "resnet18": round(inference_rate(18, cpu, (192, 256), 16, 3, fast=False), 1),
            "resnet50": round(inference_rate(50, cpu, (192, 256), 16, 3, fast=False), 1),
        },
        "train_step_bf16_vs_fp32_img_s": speed,
        "crop_640x480_to_96x128": antialias_cost(),
        "gpu": gpu_figures(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
