"""What the three pose explorers of chapter 06 share.

* :class:`MissingInput`: a dataset or model an explorer needs is not there. Its message says
  what is missing, which chapter makes it and which config key points to it; a widget shows
  it in place of its view (:func:`message_html`), never a traceback.
* :func:`add_slider_frames`: the static form of an explorer, for the book without a kernel:
  plotly's own ``layout.sliders`` over ``frames`` of precomputed states, so the page needs
  nothing but plotly.js.
* :func:`skeleton_traces_2d` / :func:`skeleton_traces_3d`: a pose as a fixed list of traces in
  the book's limb colours (one trace per colour, then the joints), so that every frame of a
  figure updates the same traces.
* :func:`live_or_note`: the live widget where a kernel serves one, a short note in the book's
  run (papermill has no frontend to draw it).
* :func:`image_uri`: a small JPEG data URI for plotly's ``Image`` trace (a page carries
  thumbnails, not the full frames).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..keypoints import Layout
from .colors import bone_limbs, joint_colors
from .skeleton3d import UP_AXES, add_pose_3d

__all__ = [
    "MissingInput",
    "add_slider_frames",
    "figure_widget",
    "image_uri",
    "live_or_note",
    "message_html",
    "skeleton_traces_2d",
    "skeleton_traces_3d",
]


class MissingInput(LookupError):
    """An explorer's input is missing: ``what`` is missing, ``made_by`` says which chapter makes
    it (or which config key points to it), ``detail`` the underlying reason."""

    def __init__(self, what: str, made_by: str, detail: str = "") -> None:
        self.what, self.made_by, self.detail = what, made_by, detail
        super().__init__(f"{what} is missing. {made_by}" + (f" ({detail})" if detail else ""))


#: What stands in the book's run where a live explorer would.
LIVE_NOTE = (
    "The live explorer is built only where a kernel serves it: open this chapter in JupyterLab "
    "(`make lab`) to use it; the figure above is its static form."
)


def live_or_note(make: Callable[[], Any], live: bool, static: str | None = None) -> Any:
    """``make()`` (a widget) when ``live``; else ``static`` HTML, or :data:`LIVE_NOTE`.

    The book's papermill run has no frontend: a widget built there renders nothing in the page
    (its state is stripped at build), and an ``Output`` widget updated while its cell runs has
    left papermill waiting forever for a reply the kernel had already sent (seen twice with
    chapter 06's dataset browser). The static figures carry the book; the widgets are built
    where someone can use them.
    """
    if live:
        return make()
    from IPython.display import HTML, Markdown

    return HTML(static) if static is not None else Markdown(f"*{LIVE_NOTE}*")


def message_html(error: BaseException) -> str:
    """A readable HTML note for an error shown inside a widget (no traceback)."""
    if isinstance(error, MissingInput):
        body = f"<b>{html.escape(error.what)} is missing.</b><br>{html.escape(error.made_by)}" + (
            f"<br><small>{html.escape(error.detail)}</small>" if error.detail else ""
        )
    else:
        body = f"<b>{type(error).__name__}</b>: {html.escape(str(error))}"
    return (
        "<div class='infantpose-explorer-message' style='border-left: 4px solid #D55E00; "
        f"padding: 4px 8px; background: #FFF6EE'>{body}</div>"
    )


def figure_widget(fig: go.Figure) -> go.Figure:
    """``fig`` as a live ``FigureWidget`` when plotly's widget (``anywidget``) is installed,
    else ``fig`` itself (then a view redraws it whole)."""
    try:
        import anywidget  # noqa: F401
    except ImportError:
        return fig
    return go.FigureWidget(fig)


def skeleton_traces_3d(
    pose: np.ndarray, layout: Layout, name: str, *, up_axis: str = "y", **kwargs: Any
) -> list[go.Scatter3d]:
    """:func:`~infantpose.viz.skeleton3d.add_pose_3d`'s traces of one pose, as a list."""
    return list(add_pose_3d(go.Figure(), pose, layout, name, up_axis=up_axis, **kwargs).data)


def to_plot_frame(points: np.ndarray, up_axis: str = "y") -> np.ndarray:
    """Points in the input frame turned into plotly's z-up frame (see :mod:`.skeleton3d`)."""
    return np.asarray(points, dtype=float) @ UP_AXES[up_axis][0].T


def skeleton_traces_2d(
    uv: np.ndarray,
    layout: Layout,
    name: str,
    *,
    visible: np.ndarray | None = None,
    color: str | None = None,
    dash: str = "solid",
    width: float = 2.5,
    marker_size: float = 6.0,
    show_legend: bool = True,
) -> list[go.Scatter]:
    """One line trace per limb colour (or one, with ``color``), then the joints; a bone is drawn
    only when both its joints are ``visible``. The number of traces depends only on the layout
    and ``color``, never on the pose, so frames can update them."""
    uv = np.asarray(uv, dtype=float)
    shown = np.ones(len(uv), bool) if visible is None else np.asarray(visible, bool)
    shown &= np.isfinite(uv).all(1)
    limbs = bone_limbs(layout)
    colors = list(dict.fromkeys(color or limb.color for limb in limbs))
    traces: list[go.Scatter] = []
    for i, c in enumerate(colors):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for (a, b), limb in zip(layout.bone_indices, limbs, strict=True):
            if (color or limb.color) == c and shown[a] and shown[b]:
                xs += [float(uv[a, 0]), float(uv[b, 0]), None]
                ys += [float(uv[a, 1]), float(uv[b, 1]), None]
        traces.append(
            go.Scatter(
                x=xs, y=ys, mode="lines", line={"color": c, "width": width, "dash": dash},
                name=name, legendgroup=name, showlegend=show_legend and i == 0, hoverinfo="skip",
            )
        )  # fmt: skip
    traces.append(
        go.Scatter(
            x=[float(x) if s else None for x, s in zip(uv[:, 0], shown, strict=True)],
            y=[float(y) if s else None for y, s in zip(uv[:, 1], shown, strict=True)],
            mode="markers",
            marker={"size": marker_size, "color": color or joint_colors(layout),
                    "line": {"color": "white", "width": 0.8}},
            text=list(layout.joints), hovertemplate="%{text}: (%{x:.0f}, %{y:.0f}) px<extra>"
            + name + "</extra>", name=name, legendgroup=name, showlegend=False,
        )
    )  # fmt: skip
    return traces


def add_slider_frames(
    fig: go.Figure,
    states: Sequence[Sequence[Any]],
    labels: Sequence[str],
    *,
    prefix: str = "",
    titles: Sequence[str] | None = None,
    traces: Sequence[int] | None = None,
) -> go.Figure:
    """Give ``fig`` one frame per state and a slider over them (plotly's own, no kernel needed).

    ``states[k]`` lists the traces of state ``k`` in the order of ``fig.data`` (or of
    ``traces``, the indices they replace); ``titles[k]`` replaces the figure title. The figure
    shows state 0 until the slider moves.
    """
    if len(states) != len(labels):
        raise ValueError(f"{len(states)} states but {len(labels)} labels: give one label per state")
    indices = list(range(len(fig.data))) if traces is None else list(traces)
    frames = []
    for k, (state, label) in enumerate(zip(states, labels, strict=True)):
        if len(state) != len(indices):
            raise ValueError(
                f"state {k} ({label!r}) has {len(state)} traces; the figure updates {len(indices)}"
            )
        layout = {"title": {"text": titles[k]}} if titles else {}
        frames.append(go.Frame(data=list(state), traces=indices, name=str(k), layout=layout))
    fig.frames = frames
    steps = [
        {
            "label": label,
            "method": "animate",
            "args": [
                [str(k)],
                {
                    "mode": "immediate",
                    "frame": {"duration": 0, "redraw": True},
                    "transition": {"duration": 0},
                },
            ],
        }
        for k, label in enumerate(labels)
    ]
    fig.update_layout(
        sliders=[
            {
                "active": 0,
                "steps": steps,
                "currentvalue": {"prefix": prefix, "font": {"size": 12}},
                "pad": {"t": 30, "b": 10},
                "len": 0.9,
                "x": 0.05,  # room for the first and last labels
            }
        ]
    )
    if titles:
        fig.update_layout(title={"text": titles[0]})
    return fig


def image_uri(image: np.ndarray, max_side: int = 256, quality: int = 80) -> tuple[str, float]:
    """A JPEG data URI of ``image`` (H, W, 3) uint8 shrunk to ``max_side``, and the scale used."""
    from PIL import Image

    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    picture = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    if scale < 1.0:
        picture = picture.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode(), scale
