"""The lifting explorer: pick an image or a 2D pose, lift it with a ZeDO-style prior, and
watch the 3D hypotheses converge over the iterations beside the ground truth.

A :class:`LiftCase` is one 2D pose (Human3.6M-17 pixels) with its intrinsics and, when known,
its true root-relative 3D pose: :func:`cases_from_coco` makes them from rendered images (their
records carry the body and the camera, so the truth is exact), :func:`cases_from_pose_set`
from a :class:`~infantpose.lift3d.PoseSet3D`. :func:`run_lift` lifts one case with several
hypotheses and keeps the loop's snapshots (:class:`LiftTrace`); :func:`lift_figure` draws one
snapshot (3D scene + MPJPE against the step), :func:`lift_static` puts every snapshot behind a
plotly slider (the book's static view), :class:`LiftExplorer` is the live view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..body.model import BodyModel, BodyPose
from ..camera import Camera, project_with_intrinsics
from ..data.coco import CocoKeypoints
from ..keypoints import get_layout
from ..lift3d.data import PoseSet3D, body_joints_to_layout, root_relative
from ..lift3d.lift import LiftConfig, lift
from ..lift3d.metrics import mpjpe_mm
from ..lift3d.train import ScorePrior
from .explorer_base import (
    MissingInput,
    add_slider_frames,
    figure_widget,
    message_html,
    skeleton_traces_3d,
)

__all__ = [
    "HYPOTHESIS_COLORS",
    "LiftCase",
    "LiftExplorer",
    "LiftTrace",
    "cases_from_coco",
    "cases_from_pose_set",
    "lift_figure",
    "lift_static",
    "run_lift",
]

#: Colours of the hypotheses (Okabe–Ito, outside the skeleton palette where it can be).
HYPOTHESIS_COLORS = (
    "#CC79A7",
    "#009E73",
    "#000000",
    "#F0E442",
    "#7F3C8D",
    "#11A579",
    "#999999",
    "#882255",
)


@dataclass
class LiftCase:
    """One 2D pose to lift: ``keypoints_2d`` (J, 2) pixels, ``intrinsics`` (3, 3), ``truth``
    (J, 3) root-relative metres in the camera frame (None when unknown)."""

    label: str
    keypoints_2d: np.ndarray
    intrinsics: np.ndarray
    layout: str
    truth: np.ndarray | None = None


def cases_from_pose_set(poses: PoseSet3D, count: int, label: str = "pose") -> list[LiftCase]:
    """The first ``count`` poses of a pose set as cases."""
    return [
        LiftCase(
            f"{label} {i}",
            poses.keypoints_2d[i],
            poses.intrinsics[i],
            poses.layout,
            poses.poses_3d[i],
        )
        for i in range(min(count, len(poses)))
    ]


def _body_pose(record: dict[str, Any], body: BodyModel) -> BodyPose:
    def tensor(values: Any) -> torch.Tensor:
        return torch.as_tensor(
            np.asarray(values, dtype=np.float64), dtype=body.dtype, device=body.device
        )

    shape = record.get("shape")
    if isinstance(shape, dict):
        shape = {k: float(v) for k, v in shape.items()}
    elif shape is not None:
        shape = tensor(shape)[None]
    return BodyPose(
        global_orient=tensor(record["global_orient"])[None],
        body_pose=tensor(record["body_pose"]).reshape(1, -1, 3),
        shape=shape,
        transl=tensor(record["transl"])[None],
    )


def cases_from_coco(
    body: BodyModel, coco: CocoKeypoints, count: int, layout: str = "h36m17"
) -> list[LiftCase]:
    """Cases from rendered images whose records carry ``body`` and ``camera`` (the book's
    renders): the body is posed again, seen by the image's camera, converted to ``layout``.
    A real dataset has no such records: a :class:`MissingInput` says so."""
    images = [
        im
        for im in coco.images
        if isinstance(im.get("body"), dict) and isinstance(im.get("camera"), dict)
    ]
    if not images:
        raise MissingInput(
            f"3D ground truth for {coco.source or 'this set'}",
            "Only the book's rendered sets keep each image's body and camera; lift a pose set "
            "instead (cases_from_pose_set), or a real set's 2D keypoints without a truth.",
        )
    cases = []
    for image in images[:count]:
        if image["body"].get("backend") not in (None, body.backend):
            raise MissingInput(
                f"the {image['body']['backend']} body of {image['file_name']}",
                f"These images were rendered with {image['body']['backend']}; load that body model.",
            )
        camera = Camera.from_dict(image["camera"], where=f"{image['file_name']}: camera")
        with torch.no_grad():
            joints, _ = body.skeleton(_body_pose(image["body"], body))
        world = joints[0].double().cpu().numpy()
        points = body_joints_to_layout(camera.world_to_camera(world)[None], layout)
        keypoints = project_with_intrinsics(points, camera.K)[0]
        poses, _ = root_relative(points, layout)
        label = f"{image['file_name']} ({image.get('posture') or 'posture unknown'})"
        cases.append(LiftCase(label, keypoints, camera.K, get_layout(layout).name, poses[0]))
    return cases


@dataclass
class LiftTrace:
    """What :func:`run_lift` kept: snapshots (T, S, J, 3) at ``steps`` (T,), the final poses
    (S, J, 3) after the optional resize, and MPJPE (T + 1, S) in mm (the last row: final)."""

    case: LiftCase
    steps: np.ndarray
    trajectory: np.ndarray
    final: np.ndarray
    mpjpe: np.ndarray | None
    reprojection_px: np.ndarray
    seconds: float


def run_lift(prior: ScorePrior, case: LiftCase, config: LiftConfig, *, hypotheses: int = 4,
             every: int = 10, device: Any = "cpu") -> LiftTrace:  # fmt: skip
    """Lift ``case`` with ``hypotheses`` start poses, a snapshot every ``every`` loop steps."""
    config = config.replace(hypotheses=int(hypotheses))
    result = lift(prior, case.keypoints_2d[None], case.intrinsics[None], config,
                  layout=case.layout, device=device, trajectory_every=every, progress=False)  # fmt: skip
    trajectory = (
        np.stack([snap[0] for snap in result.trajectory]) if result.trajectory else result.poses[:1]
    )
    # lift3d snapshots the OIL loop (after IPO's rigid fit) every ``every`` steps and at its last
    steps = np.array(
        [i for i in range(config.oil_steps) if i % every == 0 or i == config.oil_steps - 1]
    )
    steps = steps[: len(trajectory)]
    final = result.poses[0]
    mpjpe = None
    if case.truth is not None:
        poses = np.concatenate([trajectory, final[None]])
        truth = np.broadcast_to(case.truth, poses.shape)
        joints = poses.shape[-2]
        flat = mpjpe_mm(poses.reshape(-1, joints, 3), truth.reshape(-1, joints, 3), case.layout,
                        reduce="per_sample")  # fmt: skip
        mpjpe = np.asarray(flat).reshape(poses.shape[:2])
    return LiftTrace(
        case, steps, trajectory, final, mpjpe, result.reprojection_px[0], result.seconds
    )


def _frame_traces(trace: LiftTrace, k: int) -> list[Any]:
    """The traces of snapshot ``k`` (``len(steps)``: the final poses)."""
    layout = get_layout(trace.case.layout)
    poses = trace.final if k >= len(trace.steps) else trace.trajectory[k]
    traces: list[Any] = []
    if trace.case.truth is not None:
        traces += skeleton_traces_3d(
            trace.case.truth, layout, "ground truth", up_axis="-y", marker_size=3
        )
    for s, pose in enumerate(poses):
        color = HYPOTHESIS_COLORS[s % len(HYPOTHESIS_COLORS)]
        traces += skeleton_traces_3d(pose, layout, f"hypothesis {s + 1}", up_axis="-y", color=color,
                                     dash="dot", line_width=4, marker_size=2)  # fmt: skip
    if trace.mpjpe is not None:
        x = float(trace.steps[k]) if k < len(trace.steps) else float(trace.steps[-1] + 1)
        traces.append(go.Scatter(x=[x, x], y=[0, float(np.nanmax(trace.mpjpe)) * 1.05], mode="lines",
                                 line={"color": "#D55E00", "width": 2}, name="this step", showlegend=False))  # fmt: skip
    return traces


def _title(trace: LiftTrace, k: int) -> str:
    where = f"OIL step {int(trace.steps[k])}" if k < len(trace.steps) else "final (after resize)"
    error = ""
    if trace.mpjpe is not None:
        row = trace.mpjpe[min(k, len(trace.mpjpe) - 1)]
        error = " · MPJPE " + ", ".join(f"{v:.0f}" for v in row) + " mm"
    return f"{trace.case.label}: {where}{error}"


def lift_figure(trace: LiftTrace, k: int | None = None, height: int = 460) -> go.Figure:
    """Snapshot ``k`` (default: the final poses) in 3D, and MPJPE against the loop step."""
    k = len(trace.steps) if k is None else int(k)
    fig = make_subplots(
        rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "xy"}]], column_widths=[0.6, 0.4],
        subplot_titles=("3D, camera frame (drag to orbit)", "MPJPE to the ground truth"),
    )  # fmt: skip
    frame = _frame_traces(trace, k)
    for t in frame[:-1] if trace.mpjpe is not None else frame:
        fig.add_trace(t, row=1, col=1)
    if trace.mpjpe is not None:
        fig.add_trace(frame[-1], row=1, col=2)
        steps = np.append(trace.steps, trace.steps[-1] + 1)
        for s in range(trace.mpjpe.shape[1]):
            fig.add_trace(go.Scatter(x=steps, y=trace.mpjpe[:, s], mode="lines+markers",
                                     marker={"size": 4}, showlegend=False,
                                     line={"color": HYPOTHESIS_COLORS[s % len(HYPOTHESIS_COLORS)]},
                                     name=f"hypothesis {s + 1}"), row=1, col=2)  # fmt: skip
        fig.update_xaxes(
            title_text="OIL step (after IPO's rigid fit; last point: final)", row=1, col=2
        )
        fig.update_yaxes(title_text="MPJPE (mm)", rangemode="tozero", row=1, col=2)
    fig.update_layout(
        height=height, margin={"l": 0, "r": 10, "t": 60, "b": 0}, template="none", paper_bgcolor="white",
        title={"text": _title(trace, k), "font": {"size": 13}},
        legend={"x": 0.0, "y": 0.0, "bgcolor": "rgba(255,255,255,0.7)"},
        scene={"aspectmode": "data", "camera": {"eye": {"x": 0.6, "y": -1.8, "z": 0.5}},
               **{f"{a}axis": {"showticklabels": False, "title": {"text": ""}} for a in "xyz"}},
    )  # fmt: skip
    return fig


def lift_static(trace: LiftTrace) -> go.Figure:
    """The book's static lifting explorer: a slider over the loop's snapshots and the final poses."""
    count = len(trace.steps) + 1
    fig = lift_figure(trace, 0)
    frames = [_frame_traces(trace, k) for k in range(count)]
    labels = [str(int(s)) for s in trace.steps] + ["final"]
    return add_slider_frames(fig, frames, labels, prefix="OIL step: ",
                             titles=[_title(trace, k) for k in range(count)],
                             traces=list(range(len(frames[0]))))  # fmt: skip


class LiftExplorer:
    """The live lifting explorer: pick a case, set the number of hypotheses, lift, then move
    the step slider through the loop. ``status`` says the step and each hypothesis's MPJPE."""

    def __init__(self, prior: ScorePrior | None, cases: Sequence[LiftCase], config: LiftConfig,
                 *, every: int = 10, missing: str | None = None) -> None:  # fmt: skip
        import ipywidgets as w

        self.message = w.HTML()
        if prior is None or not cases:
            error = MissingInput(
                "The lifting prior" if prior is None else "A 2D pose to lift",
                missing or "Train or load one first (lift3d.cached_prior, chapter 05 explains it).",
            )
            self.message.value = message_html(error)
            self.box = w.VBox([self.message])
            return
        self.prior, self.cases, self.config, self.every = prior, list(cases), config, every
        self.case = w.Dropdown(
            options=[(c.label, i) for i, c in enumerate(self.cases)], description="pose"
        )
        self.hypotheses = w.IntSlider(value=4, min=1, max=len(HYPOTHESIS_COLORS), description="hypotheses",
                                      continuous_update=False)  # fmt: skip
        self.step = w.IntSlider(
            value=0, min=0, max=0, description="snapshot", continuous_update=False
        )
        self.status = w.HTML()
        self.output = w.Output()
        self.case.observe(lambda _: self.run(), names="value")
        self.hypotheses.observe(lambda _: self.run(), names="value")
        self.step.observe(lambda _: self.show(), names="value")
        self.box = w.VBox([w.HBox([self.case, self.hypotheses]), w.HBox([self.step, self.status]),
                           self.output, self.message])  # fmt: skip
        self.figure: go.Figure | None = None
        self.run()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    def run(self) -> None:
        """Lift the chosen case and show its final poses."""
        try:
            self.trace = run_lift(self.prior, self.cases[self.case.value], self.config,
                                  hypotheses=self.hypotheses.value, every=self.every)  # fmt: skip
        except (ValueError, RuntimeError) as error:
            self.message.value = message_html(error)
            return
        self.message.value = ""
        self.figure = None  # a new trace: draw a new figure
        self.output.clear_output()
        last = len(self.trace.steps)
        self.step.max = last
        if self.step.value != last:
            self.step.value = last  # calls show()
        else:
            self.show()

    def show(self) -> None:
        """Draw the snapshot at the step slider."""
        from IPython import get_ipython
        from IPython.display import display

        k = self.step.value
        self.status.value = _title(self.trace, k)
        fig = lift_figure(self.trace, k)
        shown = self.output.outputs and isinstance(self.figure, go.FigureWidget)
        if shown and len(self.figure.data) == len(fig.data):
            with self.figure.batch_update():  # the view in the page follows
                for target, source in zip(self.figure.data, fig.data, strict=True):
                    target.update(
                        x=source.x, y=source.y, **({"z": source.z} if hasattr(source, "z") else {})
                    )
                self.figure.layout.title.text = fig.layout.title.text
            return
        self.figure = figure_widget(fig)
        if get_ipython() is None:
            return
        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)
