"""Interactive 3D skeletons with plotly, in the book's colour scheme (:mod:`.colors`).

Plotly's default camera has **z up**, so the input frame is rotated (a proper rotation, no
mirror) to put the body's up direction on plotly's z axis; ``up_axis`` names that direction
in the input frame:

* ``"z"``: z is up already (e.g. a world frame on a z-up floor): plotted as ``(x, y, z)``.
* ``"y"``: y is up (SMPL / OpenGL / most body-model frames): plotted as ``(x, -z, y)``.
* ``"-y"``: y points *down*, as in camera frames (OpenCV: x right, y down, z forward from
  the camera): plotted as ``(x, z, -y)``, so depth runs along plotly's y.
* ``"-z"``: z points down: plotted as ``(x, -y, -z)``.

Axis titles name the input coordinate shown on each plotly axis, and hover text gives the
joint name with its input coordinates, so nothing is hidden by the rotation.

A pose costs one line trace per limb colour (bones joined with ``None`` separators) plus one
marker trace, so a figure stays a few kilobytes of data however many bones the layout has.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from ..keypoints import COCO17, Layout
from .colors import bone_limbs, joint_colors

#: Rotation taking input coordinates to plotly's z-up frame, and the axis titles it implies.
UP_AXES: dict[str, tuple[np.ndarray, tuple[str, str, str]]] = {
    "z": (np.eye(3), ("x", "y", "z")),
    "y": (np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float), ("x", "−z", "y")),
    "-y": (np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=float), ("x", "z", "−y")),
    "-z": (np.array([[1, 0, 0], [0, -1, 0], [0, 0, -1]], dtype=float), ("x", "−y", "−z")),
}

_AXIS_STYLE = {
    "backgroundcolor": "white",
    "gridcolor": "#E5E5E5",
    "zerolinecolor": "#BDBDBD",
    "showbackground": True,
}

#: Dash styles given to the 1st, 2nd, … pose of a figure.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def _to_plot_frame(pose: np.ndarray, layout: Layout, up_axis: str) -> np.ndarray:
    pose = np.asarray(pose, dtype=float)
    if pose.shape != (len(layout), 3):
        raise ValueError(
            f"a 3D pose must be shaped ({len(layout)}, 3) for layout {layout.name!r}; "
            f"got {pose.shape}"
        )
    if up_axis not in UP_AXES:
        raise ValueError(f"up_axis must be one of {', '.join(UP_AXES)}; got {up_axis!r}")
    return pose @ UP_AXES[up_axis][0].T


def _compact(points: np.ndarray) -> np.ndarray:
    """Round to 6 significant digits of the pose's extent: shorter JSON, no visible change."""
    finite = np.abs(points[np.isfinite(points)])
    scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return np.round(points, 5 - int(np.floor(np.log10(scale))))


def _segments(points: np.ndarray, bones: list[tuple[int, int]]) -> tuple[list, list, list]:
    """x, y, z lists of the bones' end points, one ``None`` after each bone."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    zs: list[float | None] = []
    for a, b in bones:
        for coords, axis in ((xs, 0), (ys, 1), (zs, 2)):
            coords += [float(points[a, axis]), float(points[b, axis]), None]
    return xs, ys, zs


def add_pose_3d(
    fig: go.Figure,
    pose: np.ndarray,
    layout: Layout = COCO17,
    name: str = "pose",
    *,
    up_axis: str = "y",
    color: str | None = None,
    dash: str | None = None,
    line_width: float = 6.0,
    marker_size: float = 3.5,
    show_joints: bool = True,
) -> go.Figure:
    """Add one ``(K, 3)`` pose to ``fig``: a line trace per limb colour, then the joints.

    ``color`` overrides the limb colours with one colour; ``dash`` defaults to the next of
    :data:`DASHES` after the poses already in ``fig``. All traces of the pose share one legend
    entry (``legendgroup=name``), so a click hides or shows the whole pose. Bones touching a
    NaN joint are left out. Returns ``fig``.
    """
    points = _compact(_to_plot_frame(pose, layout, up_axis))
    raw = _compact(np.asarray(pose, dtype=float))
    valid = np.isfinite(points).all(axis=1)
    if dash is None:
        groups = {t.legendgroup for t in fig.data if t.legendgroup}
        dash = DASHES[len(groups) % len(DASHES)]

    # Bones sharing a colour go into one trace, in first-seen order.
    by_color: dict[str, list[tuple[int, int]]] = {}
    for (a, b), limb in zip(layout.bone_indices, bone_limbs(layout), strict=True):
        if valid[a] and valid[b]:
            by_color.setdefault(color or limb.color, []).append((int(a), int(b)))
    for i, (bone_color, bones) in enumerate(by_color.items()):
        xs, ys, zs = _segments(points, bones)
        fig.add_trace(
            go.Scatter3d(
                x=xs,
                y=ys,
                z=zs,
                mode="lines",
                line={"color": bone_color, "width": line_width, "dash": dash},
                name=name,
                legendgroup=name,
                showlegend=i == 0,
                hoverinfo="skip",
            )
        )
    if show_joints:
        fig.add_trace(
            go.Scatter3d(
                x=points[valid, 0],
                y=points[valid, 1],
                z=points[valid, 2],
                mode="markers",
                marker={
                    "size": marker_size,
                    "color": color
                    or [c for c, ok in zip(joint_colors(layout), valid, strict=True) if ok],
                    "line": {"color": "white", "width": 0.5},
                },
                text=[j for j, ok in zip(layout.joints, valid, strict=True) if ok],
                customdata=raw[valid],
                hovertemplate=(
                    "<b>%{text}</b><br>x=%{customdata[0]:.3g}, y=%{customdata[1]:.3g}, "
                    "z=%{customdata[2]:.3g}<extra>" + name + "</extra>"
                ),
                name=name,
                legendgroup=name,
                showlegend=not by_color,
            )
        )
    return fig


def skeleton_figure_3d(
    poses: Mapping[str, np.ndarray] | np.ndarray,
    layout: Layout = COCO17,
    *,
    up_axis: str = "y",
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
    height: int = 480,
    **pose_kwargs,
) -> go.Figure:
    """A plotly figure of one ``(K, 3)`` pose or several overlaid (``{name: pose}``).

    Every pose is drawn in the limb colours with its own dash style (solid, dash, dot, …)
    unless ``colors`` maps its name to a single colour. The scene keeps true proportions
    (``aspectmode="data"``) and looks at the body from the front-left. ``pose_kwargs`` go to
    :func:`add_pose_3d`.
    """
    if up_axis not in UP_AXES:
        raise ValueError(f"up_axis must be one of {', '.join(UP_AXES)}; got {up_axis!r}")
    if not isinstance(poses, Mapping):
        poses = {"pose": poses}
    fig = go.Figure()
    for i, (name, pose) in enumerate(poses.items()):
        add_pose_3d(
            fig,
            pose,
            layout,
            name,
            up_axis=up_axis,
            color=(colors or {}).get(name),
            dash=DASHES[i % len(DASHES)],
            **pose_kwargs,
        )
    axis_titles = UP_AXES[up_axis][1]
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 0, "r": 0, "t": 40 if title else 0, "b": 0},
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.7)"},
        scene={
            "aspectmode": "data",
            **{
                f"{axis}axis": {"title": {"text": text}, **_AXIS_STYLE}
                for axis, text in zip("xyz", axis_titles, strict=True)
            },
            "camera": {"eye": {"x": 0.6, "y": -1.8, "z": 0.5}, "up": {"x": 0, "y": 0, "z": 1}},
        },
        # A named template would be copied into every figure (~7 kB); set the few styles we use.
        template="none",
        paper_bgcolor="white",
        font={"size": 12},
    )
    return fig
