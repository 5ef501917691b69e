"""The body explorer: a body model under age, shape and joint-angle sliders, in 3D and in 2D.

:class:`BodyPoser` turns slider values (anny phenotypes, anatomical joint angles in degrees as
:mod:`infantpose.body.poses` defines them) into a posed body: mesh, joints and the 17 COCO
keypoints. :func:`body_figure` draws one state: the mesh (thinned by vertex clustering, so a
page carries about a thousand vertices, not fourteen thousand) with the COCO-17 skeleton in a
3D scene you can orbit, and beside it their projection through a pinhole camera
(:func:`infantpose.camera.project_points`) placed by azimuth and elevation around the body.
:func:`body_explorer_static` puts several states behind one plotly slider (the book's static
view); :class:`BodyExplorer` is the live ipywidgets view.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..body.joints import POSE_JOINTS
from ..body.model import BodyModel, BodyPose
from ..body.poses import JOINT_DOFS, anatomical_to_rotmats, rest_corrections, rotmats_to_body_pose
from ..camera import Camera, orbit_rotation, project_points
from ..keypoints import COCO17
from .explorer_base import (
    add_slider_frames,
    figure_widget,
    message_html,
    skeleton_traces_2d,
    skeleton_traces_3d,
    to_plot_frame,
)

__all__ = [
    "JOINT_SLIDERS",
    "SHAPE_SLIDERS",
    "BodyExplorer",
    "BodyPoser",
    "BodyState",
    "body_explorer_static",
    "body_figure",
    "cluster_mesh",
    "view_camera",
]


def _slider(joint: str, coordinate: int) -> tuple[str, int, float, float]:
    dof = JOINT_DOFS[POSE_JOINTS.index(joint)]
    return joint, coordinate, float(dof.low[coordinate]), float(dof.high[coordinate])


#: The joint-angle sliders: label → (pose joint, anatomical coordinate, low, high), degrees,
#: limits from :data:`infantpose.body.poses.JOINT_DOFS`.
JOINT_SLIDERS: dict[str, tuple[str, int, float, float]] = {
    "spine flexion": _slider("spine2", 0),
    "neck flexion": _slider("neck", 0),
    **{
        f"{side} {label}": _slider(f"{side}_{joint}", 0)
        for joint, label in (
            ("hip", "hip flexion"),
            ("knee", "knee flexion"),
            ("shoulder", "shoulder elevation"),
            ("elbow", "elbow flexion"),
        )
        for side in ("left", "right")
    },
    "left hip abduction": _slider("left_hip", 1),
    "right hip abduction": _slider("right_hip", 1),
}
#: The shape sliders besides age (anny phenotypes in [0, 1]).
SHAPE_SLIDERS = ("weight", "muscle", "height", "proportions")
#: Where the sliders start: a baby with its arms a little out from the body.
DEFAULT_ANGLES = {"left shoulder elevation": 30.0, "right shoulder elevation": 30.0}

_MESH_COLOR = "#E8C4A8"


def cluster_mesh(
    vertices: np.ndarray, faces: np.ndarray, cells: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Vertex clustering: ``(cluster of each vertex (V,), faces of the thinned mesh (F', 3))``.

    The bounding box's longest side is cut into ``cells`` cells; the vertices of a cell merge
    into one (their mean, see :meth:`BodyPoser.thin`), and faces that collapse are dropped.
    Computed once on a rest body, the same clusters thin every pose of that mesh.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    low = vertices.min(0)
    size = float((vertices.max(0) - low).max()) / cells
    cell = np.floor((vertices - low) / max(size, 1e-9)).astype(np.int64)
    _, cluster = np.unique(cell, axis=0, return_inverse=True)
    cluster = cluster.reshape(-1)
    new = cluster[np.asarray(faces, dtype=np.int64)]
    keep = (new[:, 0] != new[:, 1]) & (new[:, 1] != new[:, 2]) & (new[:, 0] != new[:, 2])
    new = new[keep]
    _, first = np.unique(np.sort(new, axis=1), axis=0, return_index=True)
    return cluster, new[np.sort(first)]


@dataclass
class BodyState:
    """One posed body: world coordinates in metres (y up, facing +z)."""

    vertices: np.ndarray  # (V', 3) thinned mesh
    keypoints: np.ndarray  # (17, 3) COCO-17
    age: float
    angles: dict[str, float] = field(default_factory=dict)
    shape: dict[str, float] = field(default_factory=dict)

    @property
    def height_m(self) -> float:
        return float(np.ptp(self.vertices[:, 1]))


class BodyPoser:
    """Slider values → :class:`BodyState` for one body model (anny; SMIL/SMPL pose alike, but
    their shape is betas, so only the joint sliders apply to them)."""

    def __init__(self, body: BodyModel, cells: int = 32) -> None:
        self.body = body
        self.corrections = rest_corrections(body)
        rest = body.zero_output()
        self.faces_full = body.faces.cpu().numpy()
        self.cluster, self.faces = cluster_mesh(
            rest.vertices[0].cpu().numpy(), self.faces_full, cells
        )
        self.clusters = int(self.cluster.max()) + 1
        self._counts = np.bincount(self.cluster, minlength=self.clusters).astype(np.float64)

    def thin(self, vertices: np.ndarray) -> np.ndarray:
        """The thinned mesh's vertices: the mean of each cluster."""
        out = np.zeros((self.clusters, 3))
        np.add.at(out, self.cluster, vertices)
        return out / self._counts[:, None]

    def angles_array(self, angles: Mapping[str, float]) -> np.ndarray:
        """(1, 21, 3) anatomical angles from slider values (unknown labels are an error)."""
        unknown = [k for k in angles if k not in JOINT_SLIDERS]
        if unknown:
            raise KeyError(
                f"unknown joint slider(s) {unknown}; sliders: {', '.join(JOINT_SLIDERS)}"
            )
        array = np.zeros((1, len(POSE_JOINTS), 3))
        for label, value in angles.items():
            joint, coordinate, low, high = JOINT_SLIDERS[label]
            array[0, POSE_JOINTS.index(joint), coordinate] = float(np.clip(value, low, high))
        return array

    def pose(self, age: float = 0.0, angles: Mapping[str, float] | None = None,
             shape: Mapping[str, float] | None = None) -> BodyPose:  # fmt: skip
        """The :class:`BodyPose` of these slider values (upright, pelvis at the origin)."""
        angles = {**DEFAULT_ANGLES, **(angles or {})}
        rotmats = anatomical_to_rotmats(self.angles_array(angles))
        body_pose = rotmats_to_body_pose(rotmats, self.corrections)
        phenotypes = None
        if self.body.backend == "anny":
            phenotypes = {"age": float(age), **{k: float(v) for k, v in (shape or {}).items()}}
        dtype, device = self.body.dtype, self.body.device
        return BodyPose(
            global_orient=torch.zeros(1, 3, dtype=dtype, device=device),
            body_pose=body_pose.to(dtype=dtype, device=device),
            shape=phenotypes,
            transl=torch.zeros(1, 3, dtype=dtype, device=device),
        )

    def state(self, age: float = 0.0, angles: Mapping[str, float] | None = None,
              shape: Mapping[str, float] | None = None) -> BodyState:  # fmt: skip
        """Pose the body and thin its mesh."""
        with torch.no_grad():
            out = self.body(self.pose(age, angles, shape))
        return BodyState(
            vertices=self.thin(out.vertices[0].double().cpu().numpy()),
            keypoints=out.keypoints[0].double().cpu().numpy(),
            age=float(age),
            angles={**DEFAULT_ANGLES, **(angles or {})},
            shape=dict(shape or {}),
        )


def view_camera(points: np.ndarray, azimuth_deg: float = 30.0, elevation_deg: float = 10.0,
                image_size: tuple[int, int] = (320, 320), fov_deg: float = 45.0) -> Camera:  # fmt: skip
    """A camera on a sphere around ``points`` (azimuth 0: in front of the body, +z) that frames
    them, the body filling about 80 % of the image."""
    points = np.asarray(points, dtype=np.float64)
    center = 0.5 * (points.min(0) + points.max(0))
    radius = float(np.linalg.norm(points - center, axis=1).max())
    width, height = image_size
    f = 0.5 * height / math.tan(math.radians(fov_deg) / 2)
    distance = radius / math.sin(math.radians(fov_deg) / 2) / 0.8
    R = orbit_rotation(math.radians(azimuth_deg), math.radians(elevation_deg))
    eye = center + distance * R[2] * -1.0  # the camera looks along R's third row
    return Camera(f, f, (width - 1) / 2, (height - 1) / 2, width, height, R, -R @ eye)


def _project(camera: Camera, points: np.ndarray) -> np.ndarray:
    cam = camera.world_to_camera(points)
    return project_points(cam, camera.fx, camera.fy, camera.cx, camera.cy)


def _state_traces(poser: BodyPoser, state: BodyState, camera: Camera) -> list[Any]:
    # float32 travels as half the bytes (plotly encodes typed arrays); 0.1 mm is plenty here.
    mesh = to_plot_frame(state.vertices).astype(np.float32)
    traces: list[Any] = [
        go.Mesh3d(
            x=mesh[:, 0], y=mesh[:, 1], z=mesh[:, 2],
            i=poser.faces[:, 0], j=poser.faces[:, 1], k=poser.faces[:, 2],
            color=_MESH_COLOR, opacity=0.45, flatshading=True, name="mesh (thinned)",
            hoverinfo="skip", showlegend=True, lighting={"ambient": 0.6, "diffuse": 0.6},
        )
    ]  # fmt: skip
    traces += skeleton_traces_3d(state.keypoints, COCO17, "COCO-17 keypoints", marker_size=4)
    silhouette = _project(camera, state.vertices).astype(np.float32)
    traces.append(
        go.Scatter(
            x=silhouette[:, 0], y=silhouette[:, 1], mode="markers",
            marker={"size": 2, "color": "#BDBDBD"}, hoverinfo="skip", showlegend=False,
            name="mesh, projected",
        )
    )  # fmt: skip
    traces += skeleton_traces_2d(_project(camera, state.keypoints), COCO17, "2D", show_legend=False)
    return traces


def _title(state: BodyState, camera_text: str) -> str:
    return (
        f"age {state.age:+.2f} (anny: −⅓ newborn, 0 baby, ⅓ child, ⅔ adult) · height "
        f"{state.height_m:.2f} m · {camera_text}"
    )


def body_figure(poser: BodyPoser, state: BodyState, azimuth_deg: float = 30.0,
                elevation_deg: float = 10.0, height: int = 460) -> go.Figure:  # fmt: skip
    """One state: 3D scene (mesh + COCO-17, drag to orbit) and its 2D projection beside it."""
    camera = view_camera(state.vertices, azimuth_deg, elevation_deg)
    fig = make_subplots(
        rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "xy"}]], column_widths=[0.55, 0.45],
        subplot_titles=("3D: drag to orbit", "2D: the keypoints through a pinhole camera"),
    )  # fmt: skip
    traces = _state_traces(poser, state, camera)
    n3d = 1 + len(skeleton_traces_3d(state.keypoints, COCO17, "x"))
    for k, trace in enumerate(traces):
        fig.add_trace(trace, row=1, col=1 if k < n3d else 2)
    width, image_height = camera.image_size
    fig.update_xaxes(range=[0, width], visible=False, row=1, col=2)
    fig.update_yaxes(range=[image_height, 0], visible=False, scaleanchor="x2", row=1, col=2)
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 60, "b": 0},
        title={"text": _title(state, f"camera at azimuth {azimuth_deg:.0f}°, elevation "
                                     f"{elevation_deg:.0f}°"), "font": {"size": 13}},
        legend={"x": 0.0, "y": 0.0, "bgcolor": "rgba(255,255,255,0.7)"},
        scene={"aspectmode": "data", "camera": {"eye": {"x": 0.9, "y": -1.6, "z": 0.4}},
               **{f"{a}axis": {"visible": False} for a in "xyz"}},
        template="none", paper_bgcolor="white",
    )  # fmt: skip
    return fig


def body_explorer_static(
    poser: BodyPoser,
    states: Sequence[tuple[str, float, Mapping[str, float]]],
    azimuth_deg: float = 30.0,
    elevation_deg: float = 10.0,
) -> go.Figure:
    """The book's static body explorer: one frame per ``(label, age, angles)``, a slider over
    them; the camera frames each body (so sizes compare by the title's height, not the view)."""
    built = [poser.state(age, angles) for _, age, angles in states]
    fig = body_figure(poser, built[0], azimuth_deg, elevation_deg)
    frames = [
        _state_traces(poser, s, view_camera(s.vertices, azimuth_deg, elevation_deg)) for s in built
    ]
    for frame in frames:  # the faces stay those of the first frame
        frame[0] = go.Mesh3d(x=frame[0].x, y=frame[0].y, z=frame[0].z)
    camera_text = f"camera at azimuth {azimuth_deg:.0f}°, elevation {elevation_deg:.0f}°"
    return add_slider_frames(
        fig, frames, [label for label, _, _ in states], prefix="state: ",
        titles=[_title(s, camera_text) for s in built],
    )  # fmt: skip


class BodyExplorer:
    """The live body explorer: ``display(BodyExplorer(poser).box)`` in a notebook.

    Sliders for age, the :data:`SHAPE_SLIDERS` and the :data:`JOINT_SLIDERS`, and the 2D
    camera's azimuth and elevation; the 3D scene orbits with the mouse. ``status`` (an HTML
    line) says the body's height and where the nose and the ankles project.
    """

    def __init__(self, poser: BodyPoser | BodyModel, age: float = 0.0) -> None:
        import ipywidgets as w

        try:
            self.poser = poser if isinstance(poser, BodyPoser) else BodyPoser(poser)
        except Exception as error:
            self.poser = None
            self.message = w.HTML(message_html(error))
            self.box = w.VBox([self.message])
            return
        style = {"description_width": "150px"}
        layout = {"width": "420px"}
        self.age = w.FloatSlider(value=age, min=-1 / 3, max=1.0, step=0.01, description="age",
                                 style=style, layout=layout, continuous_update=False)  # fmt: skip
        shape_available = self.poser.body.backend == "anny"
        self.shape = {
            name: w.FloatSlider(
                value=0.5,
                min=0.0,
                max=1.0,
                step=0.05,
                description=name,
                style=style,
                layout=layout,
                continuous_update=False,
                disabled=not shape_available,
            )
            for name in SHAPE_SLIDERS
        }
        self.age.disabled = not shape_available
        self.joints = {
            label: w.FloatSlider(
                value=DEFAULT_ANGLES.get(label, 0.0),
                min=low,
                max=high,
                step=5.0,
                description=f"{label} (°)",
                style=style,
                layout=layout,
                continuous_update=False,
            )
            for label, (_, _, low, high) in JOINT_SLIDERS.items()
        }
        self.azimuth = w.FloatSlider(value=30.0, min=-180.0, max=180.0, step=5.0,
                                     description="2D camera azimuth (°)", style=style, layout=layout,
                                     continuous_update=False)  # fmt: skip
        self.elevation = w.FloatSlider(value=10.0, min=-60.0, max=89.0, step=5.0,
                                       description="2D camera elevation (°)", style=style,
                                       layout=layout, continuous_update=False)  # fmt: skip
        self.status = w.HTML()
        self.message = w.HTML()
        self.output = w.Output()
        self.state = self.poser.state(age)
        self.figure = figure_widget(body_figure(self.poser, self.state))
        for slider in [self.age, *self.shape.values(), *self.joints.values(), self.azimuth,
                       self.elevation]:  # fmt: skip
            slider.observe(self._changed, names="value")
        controls = w.VBox(
            [self.age, *self.shape.values(), self.azimuth, self.elevation],
            layout={"width": "440px"},
        )
        joints = w.VBox(list(self.joints.values()), layout={"width": "440px"})
        self.box = w.VBox([self.status, self.output, w.HBox([controls, joints]), self.message])
        self._show()
        self._describe()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    def values(self) -> tuple[float, dict[str, float], dict[str, float]]:
        """``(age, shape, angles)`` as the sliders stand."""
        shape = {k: s.value for k, s in self.shape.items()} if not self.age.disabled else {}
        return self.age.value, shape, {k: s.value for k, s in self.joints.items()}

    def _show(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is None:
            return
        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)

    def _describe(self) -> None:
        camera = view_camera(self.state.vertices, self.azimuth.value, self.elevation.value)
        uv = _project(camera, self.state.keypoints)
        ankles = [COCO17.index("left_ankle"), COCO17.index("right_ankle")]
        self.status.value = (
            f"age {self.state.age:+.2f} · height {self.state.height_m:.3f} m · nose at "
            f"({uv[0, 0]:.1f}, {uv[0, 1]:.1f}) px · ankles at "
            + ", ".join(f"({uv[a, 0]:.1f}, {uv[a, 1]:.1f})" for a in ankles)
            + " px"
        )

    def update(self) -> None:
        """Pose the body from the sliders and redraw (the sliders call this)."""
        age, shape, angles = self.values()
        try:
            self.state = self.poser.state(age, angles, shape)
        except (ValueError, KeyError) as error:
            self.message.value = message_html(error)
            return
        self.message.value = ""
        fig = body_figure(self.poser, self.state, self.azimuth.value, self.elevation.value)
        if isinstance(self.figure, go.FigureWidget):
            with self.figure.batch_update():
                for target, source in zip(self.figure.data, fig.data, strict=True):
                    if isinstance(source, go.Mesh3d):
                        target.update(x=source.x, y=source.y, z=source.z)
                    else:
                        target.update(
                            x=source.x,
                            y=source.y,
                            **({"z": source.z} if hasattr(source, "z") else {}),
                        )
                self.figure.layout.title.text = fig.layout.title.text
        else:
            self.figure = fig
            self._show()
        self._describe()

    def _changed(self, _change: dict[str, Any]) -> None:
        self.update()
