"""2D pose overlays on matplotlib axes, in the book's colour scheme (:mod:`.colors`).

Keypoints are pixels in image coordinates (x right, y down), shaped ``(K, 2)`` or ``(K, 3)``
with the COCO visibility flag ``v`` in the last column:

* ``v = 0``: not labelled, not drawn;
* ``v = 1``: labelled but occluded, drawn as a hollow joint with dashed bones
  (hidden with ``show_invisible=False``);
* ``v = 2``: visible, drawn solid.

Points with a NaN coordinate are skipped, as are bones touching a skipped point. A bone is
dashed when either end is occluded. Predictions that carry a *score* in the third column are
not visibilities: pass ``kpts[:, :2]`` and, if wanted, ``visibility=np.where(score > t, 2, 0)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.patheffects as path_effects
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D

from ..keypoints import COCO17, Layout
from .colors import PALETTE, PREDICTION_COLOR, bone_colors, joint_colors

# A thin light halo keeps coloured lines readable on dark and busy images alike.
_HALO_COLOR = "white"
_HALO_ALPHA = 0.75


def _split_keypoints(
    keypoints: np.ndarray, layout: Layout, visibility: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(K, 2)`` float xy and ``(K,)`` int visibility (0 where a coordinate is NaN)."""
    kpts = np.asarray(keypoints, dtype=float)
    if kpts.ndim != 2 or kpts.shape[1] not in (2, 3) or kpts.shape[0] != len(layout):
        raise ValueError(
            f"keypoints must be shaped (K, 2) or (K, 3) with K={len(layout)} joints of layout "
            f"{layout.name!r}; got {kpts.shape}"
        )
    xy = kpts[:, :2]
    if visibility is not None:
        vis = np.asarray(visibility, dtype=float).reshape(-1)
        if vis.shape[0] != len(layout):
            raise ValueError(f"visibility must have {len(layout)} entries; got {vis.shape[0]}")
    elif kpts.shape[1] == 3:
        vis = kpts[:, 2]
    else:
        vis = np.full(len(layout), 2.0)
    vis = np.where(np.isfinite(vis), vis, 0).round().astype(int)
    vis[~np.isfinite(xy).all(axis=1)] = 0
    return xy, np.clip(vis, 0, 2)


def _halo(linewidth: float) -> list[path_effects.AbstractPathEffect]:
    return [
        path_effects.Stroke(linewidth=linewidth + 1.6, foreground=_HALO_COLOR, alpha=_HALO_ALPHA),
        path_effects.Normal(),
    ]


def _style_axes(ax: Axes, has_image: bool) -> None:
    """Image convention: y down, equal aspect, no axis frame."""
    ax.set_aspect("equal")
    ax.set_axis_off()
    if not has_image:
        ax.margins(0.08)
        ax.autoscale_view()
    if not ax.yaxis_inverted():
        ax.invert_yaxis()


def draw_skeleton_2d(
    ax: Axes,
    keypoints: np.ndarray,
    layout: Layout = COCO17,
    visibility: np.ndarray | None = None,
    *,
    image: np.ndarray | None = None,
    color: str | None = None,
    linewidth: float = 2.0,
    markersize: float = 18.0,
    linestyle: str | tuple = "-",
    label: str | None = None,
    show_invisible: bool = True,
    show_joints: bool = True,
    halo: bool = True,
    alpha: float = 1.0,
    zorder: float = 2.0,
) -> list[Artist]:
    """Draw one skeleton on ``ax`` (optionally over ``image``) and return the artists added.

    ``color`` overrides the book's limb colours with one colour (e.g. a prediction drawn over
    the ground truth); ``markersize`` is the joint marker area in points², as in
    ``ax.scatter``. ``label`` goes on the first bone drawn, for ``ax.legend``. One
    :class:`~matplotlib.lines.Line2D` is added per drawn bone and at most two scatter
    collections for the joints (visible solid, occluded hollow).
    """
    xy, vis = _split_keypoints(keypoints, layout, visibility)
    if not show_invisible:
        vis = np.where(vis == 1, 0, vis)
    if image is not None:
        img = np.asarray(image)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, zorder=0)

    bone_cols = bone_colors(layout) if color is None else [color] * len(layout.bones)
    joint_cols = np.array(joint_colors(layout) if color is None else [color] * len(layout))
    effects = _halo(linewidth) if halo else []
    artists: list[Artist] = []
    for (a, b), bone_color in zip(layout.bone_indices, bone_cols, strict=True):
        if vis[a] == 0 or vis[b] == 0:
            continue
        occluded = vis[a] == 1 or vis[b] == 1
        (line,) = ax.plot(
            xy[[a, b], 0],
            xy[[a, b], 1],
            color=bone_color,
            linewidth=linewidth,
            linestyle=(0, (2.5, 1.5)) if occluded else linestyle,
            solid_capstyle="round",
            dash_capstyle="round",
            alpha=alpha,
            zorder=zorder,
            path_effects=effects,
            label=label if label is not None and not artists else None,
        )
        artists.append(line)

    if show_joints:
        for v, filled in ((2, True), (1, False)):
            keep = vis == v
            if not keep.any():
                continue
            cols = joint_cols[keep]
            artists.append(
                ax.scatter(
                    xy[keep, 0],
                    xy[keep, 1],
                    s=markersize,
                    c=cols if filled else "white",
                    edgecolors="white" if filled else cols,
                    linewidths=0.8 if filled else 1.4,
                    alpha=alpha,
                    zorder=zorder + 0.5,
                )
            )
    if label is not None and not any(isinstance(a, Line2D) for a in artists) and artists:
        artists[0].set_label(label)
    _style_axes(ax, has_image=image is not None)
    return artists


def compare_poses_2d(
    ax: Axes,
    gt: np.ndarray,
    pred: np.ndarray,
    layout: Layout = COCO17,
    *,
    image: np.ndarray | None = None,
    gt_visibility: np.ndarray | None = None,
    pred_color: str = PREDICTION_COLOR,
    error_lines: bool = True,
    labels: tuple[str, str] = ("ground truth", "prediction"),
    legend: bool = True,
    linewidth: float = 2.0,
) -> list[Artist]:
    """Ground truth in the limb colours, a prediction dashed in ``pred_color`` on top.

    ``gt`` follows :func:`draw_skeleton_2d` (``v`` from its third column or ``gt_visibility``);
    ``pred`` is ``(K, 2)`` or ``(K, 3)`` and its third column, a score, is ignored. With
    ``error_lines`` a thin line joins each labelled ground-truth joint to its prediction.
    """
    # With our own legend the labels stay off the artists, so ax.legend() cannot repeat them.
    gt_label, pred_label = (None, None) if legend else labels
    artists = draw_skeleton_2d(
        ax, gt, layout, gt_visibility, image=image, linewidth=linewidth, label=gt_label
    )
    pred_xy = np.asarray(pred, dtype=float)[:, :2]
    artists += draw_skeleton_2d(
        ax,
        pred_xy,
        layout,
        color=pred_color,
        linewidth=0.75 * linewidth,
        markersize=8.0,
        linestyle=(0, (3, 1.5)),
        halo=False,
        label=pred_label,
        zorder=3.0,
    )
    gt_xy, gt_vis = _split_keypoints(gt, layout, gt_visibility)
    if error_lines:
        ok = (gt_vis > 0) & np.isfinite(pred_xy).all(axis=1)
        for gxy, pxy in zip(gt_xy[ok], pred_xy[ok], strict=True):
            (line,) = ax.plot(
                [gxy[0], pxy[0]], [gxy[1], pxy[1]], color=pred_color, linewidth=0.8, alpha=0.8
            )
            line.set_zorder(2.8)
            artists.append(line)
    if legend:
        # The ground truth has many colours: its legend key shows a left and a right limb.
        gt_key = tuple(
            Line2D([], [], color=PALETTE[side]["leg"], linewidth=linewidth)
            for side in ("right", "left")
        )
        pred_key = Line2D([], [], color=pred_color, linewidth=linewidth, linestyle="--")
        ax.legend(
            [gt_key, pred_key],
            list(labels),
            handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
            # Below the axes, so that it never hides a joint.
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncols=2,
            fontsize="small",
            frameon=False,
            handlelength=2.5,
        )
    _style_axes(ax, has_image=image is not None)
    return artists


def plot_pose_grid(
    images: Sequence[np.ndarray | None] | None,
    keypoints_list: Sequence[np.ndarray] | np.ndarray,
    layout: Layout = COCO17,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    *,
    panel_size: float = 2.0,
    **draw_kwargs,
) -> Figure:
    """A figure with one panel per pose, each drawn over its image (``None``: no image).

    ``keypoints_list`` is a sequence of ``(K, 2|3)`` arrays or one ``(N, K, 2|3)`` array;
    ``draw_kwargs`` go to :func:`draw_skeleton_2d`. Panels have no axes; only as many panels as
    poses are created.
    """
    n = len(keypoints_list)
    if n == 0:
        raise ValueError("plot_pose_grid needs at least one pose")
    if images is None:
        images = [None] * n
    if len(images) != n or (titles is not None and len(titles) != n):
        raise ValueError(
            f"got {n} poses, {len(images)} images and "
            f"{'no' if titles is None else len(titles)} titles; pass one of each per panel"
        )
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    first_image = next((im for im in images if im is not None), None)
    aspect = 1.0 if first_image is None else np.shape(first_image)[0] / np.shape(first_image)[1]
    title_room = 0.25 if titles is not None else 0.0
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size * ncols, (panel_size * aspect + title_room) * nrows),
        squeeze=False,
        layout="constrained",
    )
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            fig.delaxes(ax)
            continue
        draw_skeleton_2d(ax, keypoints_list[i], layout, image=images[i], **draw_kwargs)
        if titles is not None:
            ax.set_title(titles[i], fontsize="small")
    return fig


def plot_coco_samples(
    coco,
    count: int = 8,
    *,
    seed: int = 0,
    title: str | None = None,
    ncols: int = 4,
    panel_size: float = 2.4,
) -> Figure:
    """``count`` images of a :class:`~infantpose.data.coco.CocoKeypoints` set (drawn at random,
    shown in file order) with their first annotation and ``file_name · posture`` titles."""
    rng = np.random.default_rng(seed)
    picks = sorted(rng.choice(coco.num_images, min(count, coco.num_images), replace=False))
    images = [coco.images[i] for i in picks]
    by_image = coco.annotations_by_image()
    points = [np.asarray(by_image[im["id"]][0]["keypoints"]).reshape(17, 3) for im in images]
    fig = plot_pose_grid(
        [coco.load_image(im) for im in images],
        points,
        titles=[f"{im['file_name']} · {im.get('posture', '')}" for im in images],
        ncols=ncols,
        panel_size=panel_size,
        markersize=8,
        linewidth=1.2,
    )
    if title:
        fig.suptitle(title)
    return fig


def plot_prediction_grid(
    coco,
    predictions,
    rows: Sequence[int],
    *,
    scores: Sequence[float] | np.ndarray | None = None,
    failure_below: float | None = None,
    ncols: int = 4,
    panel_size: float = 2.4,
    margin: float = 0.15,
    title: str | None = None,
) -> Figure:
    """Predicted poses over their images, ground truth beside, as FiDIP's Fig. 2.

    ``predictions`` is a :class:`~infantpose.pose2d.Predictions` (its
    :meth:`~infantpose.pose2d.Predictions.annotations_in` finds the ground truth in ``coco``); ``rows`` picks which of its rows to draw. Each panel is the
    ground-truth box grown by ``margin`` on every side. With ``scores`` (one per row of
    ``predictions``, e.g. :func:`~infantpose.pose2d.instance_oks`) the titles show them, and
    panels scoring below ``failure_below`` get a red frame and a "failure" title.
    """
    rows = [int(r) for r in rows]
    if not rows:
        raise ValueError("plot_prediction_grid needs at least one row to draw")
    annotations = predictions.annotations_in(coco)
    ncols = max(1, min(ncols, len(rows)))
    nrows = -(-len(rows) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size * ncols, (panel_size + 0.35) * nrows),
        squeeze=False,
        layout="constrained",
    )
    for i, ax in enumerate(axes.flat):
        if i >= len(rows):
            fig.delaxes(ax)
            continue
        row = rows[i]
        annotation = annotations[row]
        image = coco.load_image(annotation["image_id"])
        x, y, w, h = annotation["bbox"]
        x0 = int(max(0, np.floor(x - margin * w)))
        y0 = int(max(0, np.floor(y - margin * h)))
        x1 = int(min(image.shape[1], np.ceil(x + (1 + margin) * w)))
        y1 = int(min(image.shape[0], np.ceil(y + (1 + margin) * h)))
        gt = np.asarray(annotation["keypoints"], dtype=float).reshape(-1, 3)
        gt[:, :2] -= (x0, y0)
        pred = np.asarray(predictions.keypoints[row], dtype=float)[:, :2] - (x0, y0)
        compare_poses_2d(ax, gt, pred, image=image[y0:y1, x0:x1], legend=i == 0, linewidth=1.4)
        if scores is not None:
            score = float(scores[row])
            failed = failure_below is not None and score < failure_below
            ax.set_title(
                f"{'failure · ' if failed else ''}OKS {score:.2f}",
                fontsize="small",
                color="#C00000" if failed else "black",
            )
            if failed:  # the axes are off; turn them back on for the frame alone
                ax.set_axis_on()
                ax.set(xticks=[], yticks=[])
                for spine in ax.spines.values():
                    spine.set(visible=True, color="#C00000", linewidth=2.5)
    if title:
        fig.suptitle(title)
    return fig
