"""Colours, 2D overlays and 3D skeleton figures of :mod:`infantpose.viz`."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from PIL import Image

from infantpose import keypoints
from infantpose.keypoints import COCO17, Layout
from infantpose.viz import (
    PALETTE,
    PREDICTION_COLOR,
    UP_AXES,
    add_pose_3d,
    bone_colors,
    bone_limb,
    bone_limbs,
    compare_poses_2d,
    draw_skeleton_2d,
    joint_colors,
    joint_part,
    plot_pose_grid,
    skeleton_figure_3d,
)

#: A small non-COCO layout with SMPL-like names: centre spine, hands, feet, a head.
TOY = Layout(
    name="toy7",
    joints=("pelvis", "spine1", "head_top", "left_hand", "right_hand", "left_foot", "right_foot"),
    bones=(
        ("pelvis", "spine1"),
        ("spine1", "head_top"),
        ("spine1", "left_hand"),
        ("spine1", "right_hand"),
        ("pelvis", "left_foot"),
        ("pelvis", "right_foot"),
    ),
)

#: Every layout the package defines, whichever exist when the tests run.
ALL_LAYOUTS = [v for v in vars(keypoints).values() if isinstance(v, Layout)]

# A standing person facing the camera (image coordinates, pixels).
STANDING_XY = np.array(
    [
        [150, 80],
        [158, 72],
        [142, 72],
        [168, 78],
        [132, 78],
        [185, 125],
        [115, 125],
        [200, 185],
        [98, 185],
        [208, 240],
        [92, 240],
        [172, 240],
        [128, 240],
        [176, 310],
        [124, 310],
        [178, 375],
        [122, 375],
    ],
    dtype=float,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def ax():
    return plt.subplots()[1]


def _mirror(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


def _coco_with_flags() -> tuple[np.ndarray, set[int], set[int]]:
    """COCO pose with left_ear unlabelled, right_wrist occluded and left_ankle NaN."""
    kpts = np.column_stack([STANDING_XY, np.full(17, 2.0)])
    missing = {COCO17.index("left_ear"), COCO17.index("left_ankle")}
    occluded = {COCO17.index("right_wrist")}
    kpts[COCO17.index("left_ear"), 2] = 0
    kpts[COCO17.index("right_wrist"), 2] = 1
    kpts[COCO17.index("left_ankle"), :2] = np.nan
    return kpts, missing, occluded


# --- colours -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", [COCO17, TOY], ids=lambda layout: layout.name)
def test_colours_are_deterministic_valid_hex(layout):
    colors = bone_colors(layout)
    assert colors == bone_colors(Layout(layout.name, layout.joints, layout.bones))
    assert len(colors) == len(layout.bones)
    assert len(joint_colors(layout)) == len(layout)
    assert all(mcolors.is_color_like(c) and c.startswith("#") for c in colors)


@pytest.mark.parametrize("layout", [COCO17, TOY], ids=lambda layout: layout.name)
def test_mirror_bones_share_shade_but_not_colour(layout):
    limbs = dict(zip(layout.bones, bone_limbs(layout), strict=True))
    checked = 0
    for (a, b), limb in limbs.items():
        mirror = (_mirror(a), _mirror(b))
        if mirror == (a, b) or mirror not in limbs:
            continue
        other = limbs[mirror]
        assert {limb.side, other.side} == {"left", "right"}
        assert limb.shade == other.shade
        assert limb.color != other.color
        checked += 1
    assert checked >= 2


def test_hue_families_are_disjoint_and_center_is_grey():
    left, right, center = (set(PALETTE[s].values()) for s in ("left", "right", "center"))
    assert not left & right and not left & center and not right & center
    for c in center:
        r, g, b = mcolors.to_rgb(c)
        assert r == g == b
    assert PREDICTION_COLOR not in left | right | center


@pytest.mark.parametrize(
    ("joint", "part"),
    [
        ("left_wrist", "arm"),
        ("right_collar", "arm"),
        ("left_forearm", "arm"),
        ("left_big_toe", "leg"),
        ("hip", "leg"),
        ("right_ankle", "leg"),
        ("nose", "head"),
        ("head_top", "head"),
        ("neck", "head"),
        ("spine1", "torso"),
        ("pelvis", "torso"),
        ("thorax", "torso"),
    ],
)
def test_joint_part_keywords(joint, part):
    assert joint_part(joint) == part


def test_coco_bone_limbs():
    assert bone_limb(COCO17, ("left_ankle", "left_knee")) == ("left", "leg")
    assert bone_limb(COCO17, ("left_hip", "right_hip")) == ("center", "leg")
    assert bone_limb(COCO17, ("right_shoulder", "right_hip")) == ("right", "torso")
    assert bone_limb(COCO17, ("nose", "left_eye")) == ("left", "head")
    assert bone_limb(COCO17, ("left_ear", "left_shoulder")) == ("left", "torso")
    assert bone_colors(COCO17)[0] == PALETTE["left"]["leg"]
    assert joint_colors(COCO17)[COCO17.index("right_wrist")] == PALETTE["right"]["arm"]


# --- 2D ------------------------------------------------------------------------------------


def _joint_collections(ax):
    filled, hollow = [], []
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            face = coll.get_facecolor()
            (hollow if np.allclose(face[:, :3], 1.0) else filled).append(coll)
    return filled, hollow


def test_draw_skeleton_2d_skips_unlabelled_and_nan(ax):
    kpts, missing, occluded = _coco_with_flags()
    bones = [tuple(b) for b in COCO17.bone_indices]
    drawn = [b for b in bones if not set(b) & missing]
    dashed = [b for b in drawn if set(b) & occluded]

    draw_skeleton_2d(ax, kpts, COCO17, image=np.full((400, 300), 0.5))
    assert len(ax.lines) == len(drawn)
    assert sum(line.get_linestyle() != "-" for line in ax.lines) == len(dashed)
    filled, hollow = _joint_collections(ax)
    assert len(filled[0].get_offsets()) == 17 - len(missing) - len(occluded)
    assert len(hollow[0].get_offsets()) == len(occluded)
    assert len(ax.images) == 1
    assert ax.yaxis_inverted() and not ax.axison


def test_draw_skeleton_2d_hide_invisible_and_visibility_argument(ax):
    kpts, missing, occluded = _coco_with_flags()
    hidden = missing | occluded
    draw_skeleton_2d(ax, kpts[:, :2], COCO17, visibility=kpts[:, 2], show_invisible=False)
    bones = [tuple(b) for b in COCO17.bone_indices]
    assert len(ax.lines) == sum(not set(b) & hidden for b in bones)
    filled, hollow = _joint_collections(ax)
    assert not hollow and len(filled[0].get_offsets()) == 17 - len(hidden)
    assert ax.yaxis_inverted()  # image convention even without an image


def test_draw_skeleton_2d_colour_override_and_label(ax):
    draw_skeleton_2d(ax, STANDING_XY, color="#000000", label="pred")
    assert {line.get_color() for line in ax.lines} == {"#000000"}
    labels = [line.get_label() for line in ax.lines]
    assert labels[0] == "pred" and "pred" not in labels[1:]


def test_draw_skeleton_2d_default_colours_follow_scheme(ax):
    draw_skeleton_2d(ax, STANDING_XY)
    assert [line.get_color() for line in ax.lines] == bone_colors(COCO17)


def test_draw_skeleton_2d_rejects_wrong_shape(ax):
    with pytest.raises(ValueError, match="coco17"):
        draw_skeleton_2d(ax, np.zeros((16, 2)))


def test_draw_skeleton_2d_other_layout(ax):
    xy = np.array([[0, 0], [0, -10], [0, -20], [-8, -12], [8, -12], [-4, 10], [4, 10]], float)
    draw_skeleton_2d(ax, xy, TOY)
    assert len(ax.lines) == len(TOY.bones)


def test_compare_poses_2d_counts_and_legend(ax):
    kpts, missing, _ = _coco_with_flags()
    pred = STANDING_XY + 3.0
    compare_poses_2d(ax, kpts, pred, COCO17)
    bones = [tuple(b) for b in COCO17.bone_indices]
    gt_bones = sum(not set(b) & missing for b in bones)
    errors = 17 - len(missing)
    assert len(ax.lines) == gt_bones + len(bones) + errors
    pred_lines = [line for line in ax.lines if line.get_color() == PREDICTION_COLOR]
    assert len(pred_lines) == len(bones) + errors
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["ground truth", "prediction"]


def test_plot_pose_grid_axes_and_titles():
    poses = np.stack([np.column_stack([STANDING_XY + i, np.full(17, 2)]) for i in range(6)])
    images = [np.zeros((400, 300))] * 5 + [None]
    fig = plot_pose_grid(images, poses, COCO17, titles=[f"#{i}" for i in range(6)], ncols=4)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes] == [f"#{i}" for i in range(6)]
    assert all(len(ax.lines) == len(COCO17.bones) for ax in fig.axes)
    assert len(plot_pose_grid(None, poses[:3], COCO17).axes) == 3
    with pytest.raises(ValueError, match="one of each"):
        plot_pose_grid(images[:2], poses, COCO17)


@pytest.mark.parametrize("layout", ALL_LAYOUTS, ids=lambda layout: layout.name)
def test_every_package_layout_draws_in_2d_and_3d(layout, ax):
    rng = np.random.default_rng(3)
    pose = rng.normal(size=(len(layout), 3))
    limbs = dict(zip(layout.bones, bone_limbs(layout), strict=True))
    for (a, b), limb in limbs.items():
        mirror = limbs.get((_mirror(a), _mirror(b)))
        if mirror is not None:
            assert mirror.shade == limb.shade
    draw_skeleton_2d(ax, pose[:, :2], layout)
    assert len(ax.lines) == len(layout.bones)
    fig = skeleton_figure_3d(pose, layout)
    assert sum(len(t.x) for t in fig.data if t.mode == "lines") == 3 * len(layout.bones)


# --- 3D ------------------------------------------------------------------------------------


def _line_traces(fig):
    return [t for t in fig.data if t.mode == "lines"]


def _xyz(trace) -> np.ndarray:
    return np.column_stack([np.asarray(trace[a], dtype=object) for a in "xyz"])


def test_skeleton_figure_3d_points_equal_input_with_separators():
    pose = np.random.default_rng(0).normal(size=(17, 3))
    fig = skeleton_figure_3d(pose, COCO17, up_axis="z")
    lines = _line_traces(fig)
    assert len(lines) == len(set(bone_colors(COCO17)))
    seen = 0
    for trace in lines:
        pts = _xyz(trace)
        assert all(v is None for v in pts[2::3].ravel())
        ends = np.delete(pts, np.s_[2::3], axis=0).astype(float).reshape(-1, 2, 3)
        for a, b in ends:
            ia = np.argmin(np.linalg.norm(pose - a, axis=1))
            ib = np.argmin(np.linalg.norm(pose - b, axis=1))
            np.testing.assert_allclose([a, b], pose[[ia, ib]], atol=1e-5)
            assert (COCO17.joints[ia], COCO17.joints[ib]) in COCO17.bones
            assert (
                trace.line.color
                == bone_colors(COCO17)[COCO17.bones.index((COCO17.joints[ia], COCO17.joints[ib]))]
            )
        seen += len(ends)
    assert seen == len(COCO17.bones)

    (markers,) = [t for t in fig.data if t.mode == "markers"]
    assert list(markers.text) == list(COCO17.joints)
    np.testing.assert_allclose(np.column_stack([markers.x, markers.y, markers.z]), pose, atol=1e-5)
    assert fig.layout.scene.aspectmode == "data"


@pytest.mark.parametrize(
    ("up_axis", "expected"),
    [
        ("z", lambda p: p),
        ("y", lambda p: np.column_stack([p[:, 0], -p[:, 2], p[:, 1]])),
        ("-y", lambda p: np.column_stack([p[:, 0], p[:, 2], -p[:, 1]])),
        ("-z", lambda p: np.column_stack([p[:, 0], -p[:, 1], -p[:, 2]])),
    ],
)
def test_up_axis_rotations(up_axis, expected):
    pose = np.random.default_rng(1).normal(size=(7, 3))
    fig = skeleton_figure_3d(pose, TOY, up_axis=up_axis)
    (markers,) = [t for t in fig.data if t.mode == "markers"]
    plotted = np.column_stack([markers.x, markers.y, markers.z])
    np.testing.assert_allclose(plotted, expected(pose), atol=1e-5)
    np.testing.assert_allclose(markers.customdata, pose, atol=1e-5)  # hover shows input coords
    rotation = UP_AXES[up_axis][0]
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3))
    assert np.isclose(np.linalg.det(rotation), 1.0)


def test_camera_frame_head_is_up():
    pose = np.zeros((17, 3))
    pose[:, 1] = np.linspace(-0.5, 0.5, 17)  # nose first: smallest y = highest in a camera
    fig = skeleton_figure_3d(pose, COCO17, up_axis="-y")
    (markers,) = [t for t in fig.data if t.mode == "markers"]
    assert np.argmax(markers.z) == COCO17.index("nose")


def test_several_poses_dashes_legend_and_nan():
    rng = np.random.default_rng(2)
    gt, lift = rng.normal(size=(2, 7, 3))
    lift[TOY.index("left_hand")] = np.nan
    fig = skeleton_figure_3d(
        {"ground truth": gt, "lift": lift}, TOY, colors={"lift": PREDICTION_COLOR}
    )
    by_pose = {
        name: [t for t in fig.data if t.legendgroup == name] for name in ("ground truth", "lift")
    }
    dashes = {
        name: {t.line.dash for t in _line_traces(fig) if t.legendgroup == name} for name in by_pose
    }
    assert dashes == {"ground truth": {"solid"}, "lift": {"dash"}}
    assert all(sum(bool(t.showlegend) for t in traces) == 1 for traces in by_pose.values())
    (lift_lines,) = [t for t in _line_traces(fig) if t.legendgroup == "lift"]
    assert lift_lines.line.color == PREDICTION_COLOR
    assert len(lift_lines.x) == 3 * (len(TOY.bones) - 1)  # the NaN hand's bone is gone
    (lift_markers,) = [t for t in by_pose["lift"] if t.mode == "markers"]
    assert "left_hand" not in lift_markers.text

    add_pose_3d(fig, gt + 1, TOY, "third")
    assert {t.line.dash for t in _line_traces(fig) if t.legendgroup == "third"} == {"dot"}


def test_skeleton_figure_3d_errors():
    with pytest.raises(ValueError, match="up_axis"):
        skeleton_figure_3d(np.zeros((17, 3)), COCO17, up_axis="x")
    with pytest.raises(ValueError, match=r"\(17, 3\)"):
        skeleton_figure_3d(np.zeros((17, 2)), COCO17)


def test_torso_aligned_undoes_position_scale_and_roll():
    from infantpose.viz import torso_aligned
    from infantpose.worked_examples import infant_pose_2d

    pose = np.asarray(infant_pose_2d(), dtype=np.float64)
    angle = np.deg2rad(70)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = pose.copy()
    moved[:, :2] = (pose[:, :2] - 50) @ rot.T * 2.5 + 300
    a, b = torso_aligned(pose[None]), torso_aligned(moved[None])
    np.testing.assert_allclose(a, b, atol=1e-9)
    k = {n: i for i, n in enumerate(COCO17.joints)}
    hips = a[0, [k["left_hip"], k["right_hip"]], :2].mean(0)
    shoulders = a[0, [k["left_shoulder"], k["right_shoulder"]], :2].mean(0)
    np.testing.assert_allclose(hips, 0, atol=1e-12)
    np.testing.assert_allclose(shoulders, [0, 1], atol=1e-12)
    missing = pose.copy()
    missing[k["left_hip"], 2] = 0
    assert np.isnan(torso_aligned(missing[None])[0, 0, 0])


def test_pose_distribution_has_one_panel_per_set():
    from infantpose.viz import plot_pose_distribution
    from infantpose.worked_examples import infant_pose_2d

    pose = np.asarray(infant_pose_2d(), dtype=np.float64)
    fig = plot_pose_distribution({"a": pose[None].repeat(3, 0), "b": pose[None]})
    assert len(fig.axes) == 2 and "3 poses" in fig.axes[0].get_title()
    plt.close(fig)


def test_plot_prediction_grid_crops_to_the_box_and_frames_failures(tmp_path):
    from infantpose.data.coco import annotation_record, image_record, make_coco
    from infantpose.pose2d import Predictions
    from infantpose.viz import plot_prediction_grid

    images, annotations = [], []
    for i in (1, 2):
        Image.fromarray(np.full((400, 300, 3), 40 * i, np.uint8)).save(tmp_path / f"im{i}.png")
        images.append(image_record(i, f"im{i}.png", 300, 400))
        joints = np.column_stack([STANDING_XY * 0.5 + 100, np.full(17, 2)])
        annotations.append(annotation_record(10 + i, i, joints, image_size=(300, 400)))
    coco = make_coco(images, annotations, image_root=tmp_path)
    keypoints = np.stack([np.asarray(a["keypoints"], float).reshape(17, 3) for a in annotations])
    predictions = Predictions(
        np.array([1, 2]), keypoints, np.ones(2), np.zeros(2), annotation_ids=np.array([11, 12])
    )
    fig = plot_prediction_grid(
        coco, predictions, [1, 0], scores=[0.9, 0.3], failure_below=0.5, title="overlays"
    )
    first, second = fig.axes
    assert first.get_title() == "failure · OKS 0.30" and second.get_title() == "OKS 0.90"
    assert first.spines["left"].get_visible() and not second.axison
    w, h = annotations[1]["bbox"][2:]
    shown = first.images[0].get_array().shape
    assert shown[0] <= np.ceil(1.3 * h) + 1 and shown[1] <= np.ceil(1.3 * w) + 1
    with pytest.raises(ValueError, match="at least one row"):
        plot_prediction_grid(coco, predictions, [])


def test_input_rgb_undoes_the_networks_normalisation():
    import torch

    from infantpose.pose2d.dataset import IMAGENET_MEAN, IMAGENET_STD
    from infantpose.viz import input_rgb

    rgb = np.random.default_rng(0).uniform(0, 1, size=(5, 7, 3))
    normalised = ((rgb - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    batch = torch.from_numpy(np.stack([normalised, -normalised])).float()
    np.testing.assert_allclose(input_rgb(batch), rgb, atol=1e-6)  # the first image
    np.testing.assert_allclose(input_rgb(normalised), rgb, atol=1e-6)
    assert input_rgb(batch * 100).max() == 1.0  # clipped to [0, 1]
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        input_rgb(np.zeros((5, 7, 3)))
