"""The offscreen renderer against known geometry, visibility, and the anny body's keypoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh

from infantpose.body import BodyPose
from infantpose.camera import Camera, look_at, orbit_rotation
from infantpose.keypoints import COCO17
from infantpose.render import Renderer, body_parts, composite, keypoint_visibility
from infantpose.render.scene import depth_below_surface

W, H = 96, 72
KP = {name: i for i, name in enumerate(COCO17.joints)}


@pytest.fixture(scope="module")
def renderer():
    with Renderer(W, H) as r:
        yield r


def _frontal_camera(distance: float, fov: float = 50.0) -> Camera:
    R, t = look_at((0.0, 0.0, distance), (0.0, 0.0, 0.0))
    return Camera.from_fov(fov, (W, H), R, t)


def test_box_depth_mask_and_corners_match_the_projection(renderer):
    box = trimesh.creation.box(extents=(0.4, 0.3, 0.2))  # front face at z = +0.1
    cam = _frontal_camera(2.0)
    colors = np.full((len(box.vertices), 3), 0.5)
    result = renderer.render(box.vertices, box.faces, colors, cam)
    assert result.rgb.shape == (H, W, 3) and result.rgb.dtype == np.uint8
    assert result.depth.dtype == np.float32
    front = result.depth[result.mask]
    np.testing.assert_allclose(front, 1.9, atol=1e-3)  # camera at z=2, front face at z=0.1
    assert result.depth[0, 0] == 0 and not result.mask[0, 0]
    # The mask spans exactly the projected front face (pixel centres at integers).
    corners, _ = cam.project([[-0.2, -0.15, 0.1], [0.2, 0.15, 0.1]])
    (u0, v1), (u1, v0) = corners  # world +y is image up
    cols = np.flatnonzero(result.mask.any(axis=0))
    rows = np.flatnonzero(result.mask.any(axis=1))
    assert cols[0] == math.ceil(u0) and cols[-1] == math.floor(u1)
    assert rows[0] == math.ceil(v0) and rows[-1] == math.floor(v1)


def test_reusing_the_renderer_only_rewrites_vertices(renderer):
    box = trimesh.creation.box(extents=(0.4, 0.3, 0.2))
    cam = _frontal_camera(2.0)
    colors = np.full((len(box.vertices), 3), 0.5)
    renderer.render(box.vertices, box.faces, colors, cam)
    rebuilds = renderer.rebuilds
    moved = renderer.render(box.vertices + np.array([0.0, 0.0, 0.5]), box.faces, colors, cam)
    assert renderer.rebuilds == rebuilds
    np.testing.assert_allclose(moved.depth[moved.mask], 1.4, atol=1e-3)


def test_colours_come_out_as_given_under_flat_light(renderer):
    from infantpose.render import LightSetup

    plane = trimesh.creation.box(extents=(2.0, 2.0, 0.01))
    cam = _frontal_camera(1.0)
    colors = np.tile([[0.8, 0.4, 0.2]], (len(plane.vertices), 1))
    flat = LightSetup("flat", (), ambient=(1.0, 1.0, 1.0))  # ambient only: colour × 1
    result = renderer.render(plane.vertices, plane.faces, colors, cam, flat)
    np.testing.assert_allclose(result.rgb[H // 2, W // 2], [204, 102, 51], atol=2)
    background = np.zeros((H, W, 3), np.uint8)
    assert (composite(result, background) == result.rgb).all()  # fully covered


def test_visibility_front_behind_and_outside(renderer):
    box = trimesh.creation.box(extents=(0.4, 0.3, 0.2))
    cam = _frontal_camera(2.0)
    result = renderer.render(box.vertices, box.faces, np.full((8, 3), 0.5), cam)
    points = [[0.0, 0.0, 0.1], [0.0, 0.0, -0.3], [3.0, 0.0, 0.0], [0.5, 0.0, 0.0]]
    v = keypoint_visibility(points, cam, result.depth, tol=0.01)
    assert v.tolist() == [2, 1, 0, 2]  # front face, behind the box, outside, beside it


def test_depth_below_surface_of_a_point_inside_a_box():
    box = trimesh.creation.box(extents=(0.4, 0.3, 0.2))
    cam = _frontal_camera(2.0)
    offsets = depth_below_surface(
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.1]], box.vertices, box.faces, cam, 0.3
    )
    np.testing.assert_allclose(offsets, [0.1, 0.0], atol=1e-6)


@pytest.fixture(scope="module")
def infant(anny_body):
    pose = BodyPose.from_rotations({"left_shoulder": [0.0, 0.0, -0.3]})
    with torch.no_grad():
        out = anny_body(pose)
        rest = anny_body.zero_output()
    parts = body_parts(rest.vertices[0].numpy(), rest.joints[0].numpy())
    return out, parts


def _view(out, azimuth: float) -> Camera:
    vertices = out.vertices[0].numpy()
    center = 0.5 * (vertices.min(0) + vertices.max(0))
    R = orbit_rotation(azimuth, 0.0)
    t = np.array([0.0, 0.0, 1.6]) - R @ center
    return Camera.from_fov(45.0, (W, H), R, t)


def _labels(renderer, out, parts, cam):
    from infantpose.render import BodyAppearance, vertex_colors
    from infantpose.render.samples import VISIBILITY_MARGIN

    colors = vertex_colors(BodyAppearance(skin_tone=(230, 180, 150)), parts)
    vertices, faces = out.vertices[0].numpy(), out.faces.numpy()
    result = renderer.render(vertices, faces, colors, cam)
    keypoints = out.keypoints[0].numpy()
    margin = VISIBILITY_MARGIN * parts.height
    tol = depth_below_surface(keypoints, vertices, faces, cam, margin) + margin
    return result, keypoints, keypoint_visibility(keypoints, cam, result.depth, tol)


def test_anny_keypoints_fall_on_the_mask_and_are_visible_from_the_front(renderer, infant):
    out, parts = infant
    cam = _view(out, 0.0)
    result, keypoints, v = _labels(renderer, out, parts, cam)
    pixels, _ = cam.project(keypoints)
    cols, rows = np.round(pixels).astype(int).T
    assert (v > 0).all()
    assert result.mask[rows, cols].mean() >= 0.9  # ears may sit on the silhouette
    assert (v == 2).sum() >= 14
    assert v[KP["nose"]] == 2


def test_anny_nose_is_hidden_from_behind(renderer, infant):
    out, parts = infant
    _, _, v = _labels(renderer, out, parts, _view(out, math.pi))
    assert v[KP["nose"]] == 1 and v[KP["left_eye"]] == 1 and v[KP["right_eye"]] == 1
    assert v[KP["left_hip"]] == 2 and v[KP["right_hip"]] == 2  # the back of the hips is in view


def test_body_parts_label_the_anny_infant(infant):
    _, parts = infant
    J = {
        name: i for i, name in enumerate(__import__("infantpose.body", fromlist=["x"]).BODY_JOINTS)
    }
    vertices = parts.rest_vertices
    top = vertices[:, 1].argmax()
    assert parts.labels[top] == J["head"]
    assert parts.labels[vertices[:, 0].argmax()] == J["left_wrist"]  # the left hand, at +x
    assert parts.labels[vertices[:, 1].argmin()] in (J["left_ankle"], J["right_ankle"], J["left_foot"], J["right_foot"])  # fmt: skip
    assert parts.regions["diaper"].sum() > 0 and parts.regions["hair"].sum() > 0
    assert not (parts.regions["hair"] & ~parts.regions["head"]).any()
    assert 0.6 < parts.height < 0.75


def test_pyrender_bounds_work_under_numpy_2():
    # pyrender 0.1.45 builds Mesh.bounds from np.infty, which numpy 2 removed.
    import trimesh

    from infantpose.render.scene import _import_pyrender

    pyrender = _import_pyrender()
    mesh = pyrender.Mesh.from_trimesh(trimesh.creation.box(extents=(1.0, 2.0, 4.0)))
    np.testing.assert_allclose(mesh.bounds, [[-0.5, -1.0, -2.0], [0.5, 1.0, 2.0]])
    scene = pyrender.Scene()
    scene.add(mesh)
    np.testing.assert_allclose(scene.centroid, [0.0, 0.0, 0.0], atol=1e-12)
