"""Pinhole cameras: projection by hand and against OpenCV, look_at, orbits, random framing."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from infantpose.camera import (
    Camera,
    CameraRanges,
    look_at,
    orbit_rotation,
    paper_camera,
    project_points,
    sample_camera,
)


def _camera(R=None, t=(0.0, 0.0, 0.0)) -> Camera:
    R = np.eye(3) if R is None else R
    return Camera(500.0, 400.0, 160.0, 120.0, 320, 240, R, t)


def test_project_by_hand():
    cam = _camera(t=(0.1, -0.2, 2.0))
    pixels, depth = cam.project([[0.0, 0.0, 0.0], [0.5, 0.25, 1.0]])
    # (0.1, -0.2, 2): u = 500·0.1/2 + 160 = 185, v = 400·(-0.2)/2 + 120 = 80
    # (0.6, 0.05, 3): u = 500·0.6/3 + 160 = 260, v = 400·0.05/3 + 120 = 126.67
    np.testing.assert_allclose(pixels, [[185.0, 80.0], [260.0, 120.0 + 20.0 / 3.0]])
    np.testing.assert_allclose(depth, [2.0, 3.0])


def test_project_matches_cv2_project_points():
    rng = np.random.default_rng(0)
    rvec = rng.normal(size=3) * 0.5
    R = cv2.Rodrigues(rvec)[0]
    t = np.array([0.05, -0.1, 3.0])
    cam = _camera(R, t)
    points = rng.normal(size=(50, 3)) * 0.4
    expected, _ = cv2.projectPoints(points, rvec, t, cam.K, None)
    pixels, _ = cam.project(points)
    np.testing.assert_allclose(pixels, expected[:, 0], atol=1e-6)


def test_project_points_is_differentiable_in_torch():
    points = torch.tensor([[0.1, -0.2, 2.0], [0.3, 0.1, 1.5]], requires_grad=True)
    fx = torch.tensor(500.0, requires_grad=True)
    pixels = project_points(points, fx, 400.0, 160.0, 120.0)
    np.testing.assert_allclose(
        pixels.detach().numpy(), project_points(points.detach().numpy(), 500.0, 400.0, 160.0, 120.0)
    )
    pixels.sum().backward()
    # du/dx = fx / z, du/dz = -fx x / z²
    assert points.grad[0, 0].item() == pytest.approx(500.0 / 2.0)
    assert points.grad[0, 2].item() == pytest.approx(-500.0 * 0.1 / 4 - 400.0 * -0.2 / 4)
    assert fx.grad.item() == pytest.approx(0.1 / 2.0 + 0.3 / 1.5)


def test_look_at_puts_target_in_the_center_and_up_at_the_top():
    R, t = look_at(eye=(0.0, 0.5, 2.0), target=(0.0, 0.5, 0.0))
    cam = Camera.from_fov(50.0, (320, 240), R, t)
    (center, above, right), depth = cam.project([[0, 0.5, 0], [0, 0.8, 0], [0.3, 0.5, 0]])
    np.testing.assert_allclose(center, [cam.cx, cam.cy], atol=1e-9)
    assert above[1] < cam.cy  # world up is image up (y down)
    assert right[0] > cam.cx  # seen from +z, world +x is on the right
    np.testing.assert_allclose(depth[0], 2.0)
    np.testing.assert_allclose(cam.center, [0.0, 0.5, 2.0], atol=1e-12)
    with pytest.raises(ValueError, match="parallel"):
        look_at((0, 2, 0), (0, 0, 0))


def test_orbit_rotation_straight_above_is_well_defined():
    R = orbit_rotation(azimuth=0.0, elevation=math.pi / 2)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(R[2], [0.0, -1.0, 0.0], atol=1e-12)  # looking down
    R0 = orbit_rotation(0.0, 0.0)
    np.testing.assert_allclose(R0, np.diag([1.0, -1.0, -1.0]), atol=1e-12)  # frontal view


def test_opengl_pose_is_the_inverse_extrinsic_with_flipped_axes():
    R, t = look_at((1.0, 1.0, 2.0), (0.0, 0.2, 0.0))
    cam = Camera.from_fov(45.0, (64, 48), R, t)
    pose = cam.opengl_pose()
    np.testing.assert_allclose(pose[:3, 3], cam.center)
    # OpenGL's camera looks along its -z axis: that is our +z (forward).
    np.testing.assert_allclose(-pose[:3, 2], R[2], atol=1e-12)


def test_to_dict_round_trip_and_bad_rotation():
    cam = paper_camera((64, 48))
    assert Camera.from_dict(cam.to_dict()).to_dict() == cam.to_dict()
    with pytest.raises(ValueError, match="rotation"):
        Camera(1, 1, 0, 0, 4, 4, np.ones((3, 3)), np.zeros(3))


def test_sampled_camera_frames_the_points_deterministically():
    rng_points = np.random.default_rng(1)
    points = rng_points.normal(size=(200, 3)) * [0.1, 0.3, 0.08]
    ranges = CameraRanges(fill=(0.5, 0.8))
    for seed in range(20):
        cam = sample_camera(
            np.random.default_rng(seed), points, (96, 72), ranges, lying=seed % 2 == 1
        )
        pixels, depth = cam.project(points)
        assert (depth > 0).all()
        assert cam.in_image(pixels).all(), seed
        fill = max(np.ptp(pixels[:, 0]) / 96, np.ptp(pixels[:, 1]) / 72)
        assert 0.35 <= fill <= 0.85  # a close camera may step back a little to fit
    a = sample_camera(np.random.default_rng(7), points, (96, 72))
    b = sample_camera(np.random.default_rng(7), points, (96, 72))
    assert a.to_dict() == b.to_dict()


# --- configs: no silent typo -----------------------------------------------------------------


def test_camera_and_preset_settings_reject_unknown_names_and_bad_values():
    from infantpose.camera import CameraRanges
    from infantpose.config import ConfigError
    from infantpose.render import PRESETS, AppearancePreset

    cam = Camera.from_fov(45.0, (64, 48))
    with pytest.raises(ConfigError, match=r"Camera: unknown field\(s\) `k`"):
        Camera.from_dict({**cam.to_dict(), "k": 1})
    with pytest.raises(ConfigError, match=r"Camera: missing field\(s\) R"):
        Camera.from_dict({k: v for k, v in cam.to_dict().items() if k != "R"})
    assert CameraRanges.from_dict({"fov_y": (40, 50)}).fov_y == (40.0, 50.0)
    with pytest.raises(ConfigError, match=r"`fov` \(did you mean `fov_y`\?\)"):
        CameraRanges.from_dict({"fov": (40, 50)})
    with pytest.raises(ValueError, match=r"azimuth=\(10, -10\)"):
        CameraRanges(azimuth=(10, -10))
    photo = PRESETS["photo"]
    assert AppearancePreset.from_dict(photo.to_dict()) == photo
    assert photo.replace(cameras={"fill": (0.5, 0.6)}).cameras.fill == (0.5, 0.6)
    with pytest.raises(ConfigError, match=r"`outfit` \(did you mean `outfits`\?\)"):
        photo.replace(outfit=("diaper",))
    with pytest.raises(ConfigError, match=r"outfits: .*`diapr` \(did you mean `diaper`\?\)"):
        photo.replace(outfits=("diapr",))
    with pytest.raises(ValueError, match=r"lighting='studio'"):
        photo.replace(lighting="studio")
    with pytest.raises(ValueError, match=r"hair_probability=1.5"):
        photo.replace(hair_probability=1.5)
