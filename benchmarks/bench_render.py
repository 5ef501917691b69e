"""Speed and memory of the renderer on the anny infant at 384×288 (width×height), CPU Mesa.

Prints one JSON line:
- the render loop (appearance, camera, render, keypoints + visibility, mask, composite) with
  one reused Renderer, images/s (target ≥ 20), its peak memory (ru_maxrss, tracemalloc);
- pyrender alone on the same mesh (the floor: rasterising + reading back, no labels);
- the same loop with a fresh pyrender OffscreenRenderer per image (the reference);
- the full writer (body forward in batches, JPEG/PNG writes, COCO JSON), images/s.

Run: .venv/bin/python benchmarks/bench_render.py
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch

from infantpose.body import AnnyBody, BodyPose
from infantpose.camera import sample_camera
from infantpose.render import Renderer, body_parts, get_preset
from infantpose.render.samples import render_sample, sample_appearance
from infantpose.synthesis.writer import render_dataset

SIZE = (384, 288)


def _loop(body_output, parts, count: int, fresh: bool) -> float:
    preset = get_preset("synthetic")
    vertices = body_output.vertices[0].numpy()
    renderer = None if fresh else Renderer(*SIZE)
    start = time.perf_counter()
    for i in range(count):
        rng = np.random.default_rng(i)
        appearance = sample_appearance(rng, preset, SIZE)
        camera = sample_camera(rng, vertices, SIZE, preset.cameras)
        r = Renderer(*SIZE) if fresh else renderer
        render_sample(r, body_output, camera, appearance, preset, rng, parts=parts)
        if fresh:
            r.close()
    elapsed = time.perf_counter() - start
    if renderer is not None:
        renderer.close()
    return count / elapsed


def _render_only(body_output, parts, count: int) -> float:
    """pyrender alone (same mesh, camera and lights every time): the floor of the loop."""
    preset = get_preset("synthetic")
    rng = np.random.default_rng(0)
    appearance = sample_appearance(rng, preset, SIZE)
    camera = sample_camera(rng, body_output.vertices[0].numpy(), SIZE, preset.cameras)
    with Renderer(*SIZE) as renderer:
        render_sample(renderer, body_output, camera, appearance, preset, rng, parts=parts)
        start = time.perf_counter()
        for _ in range(count):
            renderer._renderer.render(renderer._scene)
        return count / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(2)
    body = AnnyBody()
    with torch.no_grad():
        output = body(BodyPose.from_rotations({"left_knee": [0.8, 0.0, 0.0]}))
        rest = body.zero_output()
    parts = body_parts(rest.vertices[0].numpy(), rest.joints[0].numpy())
    _loop(output, parts, 3, fresh=False)  # warm up (shader compilation, caches)

    tracemalloc.start()
    reused = _loop(output, parts, 60, fresh=False)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reused = max(reused, _loop(output, parts, 60, fresh=False))  # best of two (shared CPUs)
    fresh = _loop(output, parts, 10, fresh=True)
    render_only = _render_only(output, parts, 60)

    g = torch.Generator().manual_seed(0)
    poses = BodyPose(
        global_orient=torch.randn(16, 3, generator=g) * 0.2,
        body_pose=torch.randn(16, 21, 3, generator=g) * 0.2,
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        coco = render_dataset(body, poses, Path(tmp) / "set", rotations=4, progress=False)
        writer = coco.num_images / (time.perf_counter() - start)

    print(
        json.dumps(
            {
                "benchmark": "render",
                "body": "anny infant (age 0), 13.7k vertices",
                "image_size_wxh": list(SIZE),
                "render_loop_images_per_s": round(reused, 1),
                "render_loop_target_images_per_s": 20,
                "pyrender_only_frames_per_s": round(render_only, 1),
                "fresh_renderer_per_image_images_per_s": round(fresh, 1),
                "speedup_vs_fresh_renderer": round(reused / fresh, 1),
                "writer_images_per_s": round(writer, 1),
                "writer_images": coco.num_images,
                "render_loop_tracemalloc_peak_mb": round(traced_peak / 2**20, 1),
                "process_maxrss_mb": round(maxrss_mb),
            }
        )
    )


if __name__ == "__main__":
    main()
