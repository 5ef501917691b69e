"""An ipywidgets view over a :class:`~infantpose.data.colabel.LabelingSession` (AH-CoLT).

The image with the current skeleton (joints in the book's limb colours; ring colour = review
decision: green accepted, black ✕ rejected, white pending), buttons for every decision,
a visibility toggle and a progress line. Clicking needs plotly's ``FigureWidget`` (which needs
the ``anywidget`` package): click a joint to select it, click the image to place the selected
joint, or, with the box tool on, click two corners. Without ``anywidget`` the figure is drawn
statically and the x / y fields with *Place* do what a click would.

Keyboard shortcuts (through ``ipyevents``; hover over the widget first so it has the focus):
:data:`SHORTCUTS`. Plotly reports no right clicks, so the *visible / occluded* toggle (key
``o``) stands in for the left / right click of the original tool.

Every decision goes straight to the session (which saves it); the view keeps only what is
on screen: the image index, the selected joint and the first corner of a box being drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..data.colabel import LabelingSession
from ..keypoints import COCO17
from .colors import joint_colors

__all__ = ["DECISION_COLORS", "SHORTCUTS", "ColabelWidget", "colabel_figure"]

#: Ring colour of a joint marker per review decision (Okabe–Ito bluish green for accepted).
DECISION_COLORS = {"accepted": "#009E73", "rejected": "#000000", "pending": "#FFFFFF"}
_BOX_COLOR = "#CC79A7"

#: Key → action of the widget (the method names are ``on_<action>`` or ``select_<action>``).
SHORTCUTS = {
    "a": "accept",
    "r": "reject",
    "m": "missing",
    "A": "accept_all",
    "f": "finish",
    "n": "next",
    "p": "prev",
    "j": "next joint",
    "k": "previous joint",
    "o": "toggle visible / occluded",
    "b": "toggle the box tool",
}


def _image_or_blank(session: LabelingSession, i: int) -> tuple[np.ndarray, str]:
    record = session.images[i]
    try:
        return session.load_image(i), ""
    except OSError:  # missing or damaged (images.read_image): say which, label on a blank canvas
        blank = np.full((record["height"], record["width"], 3), 200, np.uint8)
        path = session.image_path(i)
        problem = "cannot be decoded (truncated or damaged)" if path.is_file() else "not found"
        return blank, f" (image file {problem}: {path})"


def _skeleton_xy(
    keypoints: np.ndarray,
) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in COCO17.bone_indices:
        if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
            xs += [float(keypoints[a, 0]), float(keypoints[b, 0]), None]
            ys += [float(keypoints[a, 1]), float(keypoints[b, 1]), None]
    return xs, ys


def _joint_style(session: LabelingSession, i: int, selected: int | None) -> dict[str, Any]:
    keypoints = session.keypoints(i)
    decisions = session.decisions(i)
    shown = keypoints[:, 2] > 0
    return {
        "x": [float(x) if s else None for x, s in zip(keypoints[:, 0], shown, strict=True)],
        "y": [float(y) if s else None for y, s in zip(keypoints[:, 1], shown, strict=True)],
        "marker": {
            "color": joint_colors(COCO17),
            "size": [16 if k == selected else 10 for k in range(len(decisions))],
            "symbol": [
                "circle-open" if keypoints[k, 2] == 1 else "circle" for k in range(len(decisions))
            ],
            "line": {"color": [DECISION_COLORS[d] for d in decisions], "width": 2},
        },
        "text": [
            f"{name} ({d}{', occluded' if keypoints[k, 2] == 1 else ''})"
            for k, (name, d) in enumerate(zip(COCO17.joints, decisions, strict=True))
        ],
    }


def _box_shapes(session: LabelingSession, i: int) -> list[dict[str, Any]]:
    box = session.box(i)
    if box is None:
        return []
    x, y, w, h = box
    return [
        {
            "type": "rect",
            "x0": x,
            "y0": y,
            "x1": x + w,
            "y1": y + h,
            "line": {"color": _BOX_COLOR, "width": 2, "dash": "dash"},
        }
    ]


def colabel_figure(
    session: LabelingSession, i: int, selected: int | None = None, *, widget: bool = False
) -> go.Figure:
    """The image ``i`` with its current skeleton and box; traces: image, bones, joints."""
    image, note = _image_or_blank(session, i)
    bx, by = _skeleton_xy(session.keypoints(i))
    cls = go.FigureWidget if widget else go.Figure
    fig = cls(
        data=[
            go.Image(z=image, hoverinfo="x+y", name="image"),
            go.Scatter(
                x=bx, y=by, mode="lines", line={"color": "#454545", "width": 2}, name="bones"
            ),
            go.Scatter(
                mode="markers",
                hoverinfo="text",
                name="joints",
                **_joint_style(session, i, selected),
            ),
        ]
    )
    fig.update_layout(
        title=f"{session.images[i]['file_name']}: {session.status(i)}{note}",
        shapes=_box_shapes(session, i),
        showlegend=False,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        height=520,
        clickmode="event",
        dragmode=False,
    )
    fig.update_xaxes(visible=False, range=[0, image.shape[1]])
    fig.update_yaxes(visible=False, range=[image.shape[0], 0], scaleanchor="x")
    return fig


def _figure_widgets_available() -> bool:
    try:
        import anywidget  # noqa: F401
    except ImportError:
        return False
    return True


class ColabelWidget:
    """Review and revise a :class:`LabelingSession` in a notebook: ``ColabelWidget(session)``.

    Display it with ``display(widget.box)`` (or just ``widget`` as the last line of a cell).
    ``index`` starts at that image (default: the first image that is not done).
    """

    def __init__(self, session: LabelingSession, index: int | None = None) -> None:
        import ipywidgets as w

        self.session = session
        self.index = index if index is not None else (session.next_pending() or 0)
        self.selected: int | None = None
        self.box_corner: tuple[float, float] | None = None
        self.interactive = _figure_widgets_available()

        self.joint = w.Dropdown(
            options=[(name, k) for k, name in enumerate(COCO17.joints)],
            value=None,
            description="joint",
        )
        self.visibility = w.ToggleButtons(
            options=["visible", "occluded"], value="visible", description="click =",
            tooltips=["left click of AH-CoLT: v = 2", "right click of AH-CoLT: v = 1"],
        )  # fmt: skip
        self.box_tool = w.ToggleButton(value=False, description="box tool", icon="square-o")
        self.x = w.FloatText(description="x", layout={"width": "160px"})
        self.y = w.FloatText(description="y", layout={"width": "160px"})
        self.buttons = {
            name: w.Button(description=label, tooltip=tip)
            for name, label, tip in [
                ("accept", "accept", "accept the selected joint"),
                ("reject", "reject", "reject the selected joint"),
                ("accept_all", "accept all", "accept every pending joint"),
                ("missing", "missing", "the selected joint is out of frame (0, 0, 0)"),
                ("place", "place", "place the selected joint at x, y (or a box corner)"),
                ("propose", "re-propose", "ask the AI labeler again (resets the review)"),
                ("finish", "finish", "write this image's annotation"),
                ("prev", "◀ prev", "previous image"),
                ("next", "next ▶", "next image that is not done"),
            ]
        }
        handlers = {
            "accept": self.on_accept,
            "reject": self.on_reject,
            "accept_all": self.on_accept_all,
            "missing": self.on_missing,
            "place": self.on_place,
            "propose": self.on_propose,
            "finish": self.on_finish,
            "prev": self.on_prev,
            "next": self.on_next,
        }
        for name, button in self.buttons.items():
            button.on_click(handlers[name])
        self.joint.observe(self._on_joint_change, names="value")
        self.message = w.HTML()
        self.progress = w.HTML()
        self.output = w.Output()
        self.figure: go.Figure | None = None
        b = self.buttons
        self.box = w.VBox(
            [
                w.HBox([b["prev"], b["next"], self.progress]),
                self.output,
                w.HBox([self.joint, b["accept"], b["reject"], b["missing"], b["accept_all"]]),
                w.HBox([self.visibility, self.box_tool]),
                w.HBox([self.x, self.y, b["place"], b["propose"], b["finish"]]),
                self.message,
                w.HTML(
                    "<small>keys: "
                    + " · ".join(f"<b>{key}</b> {action}" for key, action in SHORTCUTS.items())
                    + "</small>"
                ),
            ]
        )
        self._keys = self._watch_keys()
        self.show(self.index)

    def _watch_keys(self) -> Any:
        """Send key presses over the widget to :meth:`on_key` (needs ``ipyevents``)."""
        try:
            from ipyevents import Event
        except ImportError:  # the buttons still work
            return None
        events = Event(source=self.box, watched_events=["keydown"])
        events.on_dom_event(self.on_key)
        return events

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    # ------------------------------------------------------------------ drawing

    def show(self, i: int) -> None:
        """Go to image ``i`` (asking the AI labeler first if it has no proposal yet)."""
        self.index = int(i)
        self.selected = None
        self.box_corner = None
        self.figure = None  # the joint list's change below must not redraw the old image
        self.joint.value = None
        if self.session.status(self.index) == "new":
            self._call(self.session.propose, self.index)
        self.figure = colabel_figure(self.session, self.index, widget=self.interactive)
        if self.interactive:
            self.figure.data[0].on_click(self._on_image_click)
            self.figure.data[2].on_click(self._on_joint_click)
            self._render()
        self.refresh()

    def _render(self) -> None:
        """Put the figure into the output area (only inside a kernel: headless, nothing to show)."""
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is None:
            return
        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)

    def refresh(self) -> None:
        """Redraw the skeleton, box and progress from the session."""
        s, i = self.session, self.index
        self.progress.value = f"image {i + 1}/{len(s)} · {s.progress_text()}"
        if self.figure is None:
            return
        bx, by = _skeleton_xy(s.keypoints(i))
        with self.figure.batch_update():
            self.figure.data[1].x, self.figure.data[1].y = bx, by
            self.figure.data[2].update(_joint_style(s, i, self.selected))
            self.figure.layout.shapes = _box_shapes(s, i)
            self.figure.layout.title.text = f"{s.images[i]['file_name']}: {s.status(i)}"
        if not self.interactive:  # a static figure: draw it again
            self._render()

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> bool:
        """Run a session method; show its error instead of raising into the front-end."""
        try:
            method(*args, **kwargs)
        except (ValueError, IndexError, KeyError, OSError) as error:
            self.message.value = f"<span style='color:#D55E00'>{error}</span>"
            return False
        self.message.value = ""
        return True

    def _need_joint(self) -> int | None:
        if self.selected is None:
            self.message.value = "select a joint first (click it, or pick it in the list)"
        return self.selected

    # ------------------------------------------------------------------ handlers

    def _on_joint_change(self, change: dict[str, Any]) -> None:
        self.selected = change["new"]
        self.refresh()

    def _on_joint_click(self, trace: Any, points: Any, state: Any) -> None:
        if points.point_inds:
            self.joint.value = int(points.point_inds[0])

    def _on_image_click(self, trace: Any, points: Any, state: Any) -> None:
        if points.xs:
            self.click(float(points.xs[0]), float(points.ys[0]))

    def click(self, x: float, y: float) -> None:
        """A click on the image: a box corner with the box tool on, else place the selected joint."""
        if self.box_tool.value:
            if self.box_corner is None:
                self.box_corner = (x, y)
                self.message.value = "first corner set; click the opposite corner"
                return
            (x0, y0), self.box_corner = self.box_corner, None
            if self._call(self.session.set_box, self.index, x0, y0, x - x0, y - y0):
                self.box_tool.value = False
        else:
            k = self._need_joint()
            if k is None:
                return
            visible = self.visibility.value == "visible"
            self._call(self.session.revise, self.index, k, x, y, visible=visible)
        self.refresh()

    def on_accept(self, _button: Any = None) -> None:
        if (k := self._need_joint()) is not None:
            self._call(self.session.accept, self.index, k)
            self.refresh()

    def on_reject(self, _button: Any = None) -> None:
        if (k := self._need_joint()) is not None:
            self._call(self.session.reject, self.index, k)
            self.refresh()

    def on_missing(self, _button: Any = None) -> None:
        if (k := self._need_joint()) is not None:
            self._call(self.session.mark_missing, self.index, k)
            self.refresh()

    def on_accept_all(self, _button: Any = None) -> None:
        self._call(self.session.accept_all, self.index)
        self.refresh()

    def on_place(self, _button: Any = None) -> None:
        self.click(float(self.x.value), float(self.y.value))

    def on_propose(self, _button: Any = None) -> None:
        self._call(self.session.propose, self.index)
        self.refresh()

    def on_finish(self, _button: Any = None) -> None:
        if self._call(self.session.finish, self.index):
            self.message.value = f"saved image {self.index + 1} to {self.session.path}"
            self.refresh()

    def on_prev(self, _button: Any = None) -> None:
        self.show((self.index - 1) % len(self.session))

    def on_key(self, event: dict[str, Any]) -> None:
        """A key press (an ipyevents ``keydown`` event): the action of :data:`SHORTCUTS`."""
        action = SHORTCUTS.get(event.get("key", ""))
        if action is None:
            return
        if action in ("next joint", "previous joint"):
            step = 1 if action == "next joint" else -1
            start = self.selected if self.selected is not None else (-1 if step > 0 else 0)
            self.joint.value = (start + step) % len(COCO17.joints)
        elif action.startswith("toggle visible"):
            self.visibility.value = "occluded" if self.visibility.value == "visible" else "visible"
        elif action.startswith("toggle the box"):
            self.box_tool.value = not self.box_tool.value
        else:
            getattr(self, f"on_{action}")()

    def on_next(self, _button: Any = None) -> None:
        nxt = self.session.next_pending(after=self.index)
        self.show(nxt if nxt is not None else (self.index + 1) % len(self.session))
