"""Pose libraries and sampler: anatomical angles mean what they say, limits hold, seeds repeat."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infantpose.body import BODY_JOINTS, POSE_JOINTS, BodyPose
from infantpose.body.poses import (
    ADULT_FLOOR_POSTURES,
    ADULT_POSTURES,
    INFANT_POSTURES,
    JOINT_DOFS,
    POSE_LIBRARY,
    PoseSampler,
    anatomical_to_rotmats,
    clip_to_limits,
    mirror_angles,
    rest_corrections,
    rotmats_to_body_pose,
)
from infantpose.keypoints import COCO17

J = {name: i for i, name in enumerate(BODY_JOINTS)}
K = {name: i for i, name in enumerate(COCO17.joints)}


def _angles(**joints) -> np.ndarray:
    out = np.zeros((1, len(POSE_JOINTS), 3))
    for joint, value in joints.items():
        out[0, POSE_JOINTS.index(joint)] = value
    return out


def _joints(body, angles: np.ndarray, global_orient=None) -> torch.Tensor:
    corrections = rest_corrections(body)
    body_pose = rotmats_to_body_pose(anatomical_to_rotmats(angles), corrections).float()
    go = torch.zeros(len(angles), 3) if global_orient is None else global_orient
    return body(BodyPose(go, body_pose)).joints


def test_library_covers_the_issue_postures_and_stays_within_limits():
    assert {t.posture for t in POSE_LIBRARY["infant"]} == set(INFANT_POSTURES)
    assert {t.posture for t in POSE_LIBRARY["adult"]} == set(ADULT_POSTURES + ADULT_FLOOR_POSTURES)
    for templates in POSE_LIBRARY.values():
        for template in templates:
            angles = template.array()[None]
            np.testing.assert_array_equal(clip_to_limits(angles), angles, err_msg=template.variant)


def test_anatomical_angles_move_limbs_the_named_way(anny_body):
    rest = _joints(anny_body, _angles())[0]
    # Zero shoulder elevation is an arm hanging down, corrected from anny's A-pose.
    arm = rest[J["left_elbow"]] - rest[J["left_shoulder"]]
    assert arm[1] < -0.99 * arm.norm()
    forearm = rest[J["left_wrist"]] - rest[J["left_elbow"]]
    assert forearm[1] < -0.99 * forearm.norm()
    # Elevation 90 in the frontal plane is a T-pose: the left arm points to +x, the right to -x.
    tpose = _joints(anny_body, _angles(left_shoulder=(90, 0, 0), right_shoulder=(90, 0, 0)))[0]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        v = tpose[J[f"{side}_wrist"]] - tpose[J[f"{side}_shoulder"]]
        assert sign * v[0] > 0.99 * v.norm()
    checks = {
        # joint, angles, (moving joint, axis, sign of its displacement)
        "hip flexion": ("left_hip", (60, 0, 0), "left_knee", 2, +1),
        "hip abduction": ("right_hip", (0, 40, 0), "right_knee", 0, -1),
        "knee flexion": ("left_knee", (60, 0, 0), "left_ankle", 2, -1),
        "spine flexion": ("spine2", (30, 0, 0), "head", 2, +1),
        "spine lateral to the left": ("spine2", (0, 20, 0), "head", 0, +1),
        "shoulder plane forward": ("left_shoulder", (90, 90, 0), "left_wrist", 2, +1),
        "elbow flexion": ("right_elbow", (90, 0, 0), "right_wrist", 2, +1),
        "neck extension": ("neck", (-30, 0, 0), "head", 2, -1),
    }
    for name, (joint, value, moving, axis, sign) in checks.items():
        moved = _joints(anny_body, _angles(**{joint: value}))[0]
        delta = float(moved[J[moving], axis] - rest[J[moving], axis])
        assert sign * delta > 0.01, f"{name}: {moving} moved {delta:+.3f} m along axis {axis}"


def test_external_shoulder_twist_with_bent_elbow_raises_the_hands(anny_body):
    w_arms = _angles(left_shoulder=(85, 0, 70), left_elbow=(110, 0, 0))
    joints = _joints(anny_body, w_arms)[0]
    assert joints[J["left_wrist"], 1] > joints[J["left_shoulder"], 1] + 0.03


def test_rest_corrections_are_identity_off_the_arms(anny_body):
    corrections = rest_corrections(anny_body)
    arms = {J[f"{s}_{j}"] for s in ("left", "right") for j in ("shoulder", "elbow")}
    for j in range(len(BODY_JOINTS)):
        if j not in arms:
            torch.testing.assert_close(corrections[j], torch.eye(3, dtype=torch.float64))
    # anny rests in an A-pose: the shoulder correction is a real rotation (about 40-50 degrees).
    angle = torch.arccos((corrections[J["left_shoulder"]].trace() - 1) / 2).rad2deg()
    assert 30 < float(angle) < 60


def test_mirror_swaps_sides_and_is_an_involution():
    rng = np.random.default_rng(0)
    angles = rng.normal(size=(4, len(POSE_JOINTS), 3)) * 20
    np.testing.assert_allclose(mirror_angles(mirror_angles(angles)), angles)
    mirrored = mirror_angles(angles)
    np.testing.assert_allclose(
        mirrored[:, POSE_JOINTS.index("left_knee")], angles[:, POSE_JOINTS.index("right_knee")]
    )
    spine = POSE_JOINTS.index("spine2")
    np.testing.assert_allclose(mirrored[:, spine, 0], angles[:, spine, 0])
    np.testing.assert_allclose(mirrored[:, spine, 1:], -angles[:, spine, 1:])


def test_mirrored_pose_is_the_mirror_image(anny_body):
    angles = POSE_LIBRARY["infant"][1].array()[None]  # supine "kicking": asymmetric legs
    a = _joints(anny_body, angles)[0]
    b = _joints(anny_body, mirror_angles(angles))[0]
    swap = [
        J[n.replace("left_", "#").replace("right_", "left_").replace("#", "right_")]
        for n in BODY_JOINTS
    ]
    flipped = b[swap] * torch.tensor([-1.0, 1.0, 1.0])
    # anny is nearly symmetric: the mirror pose's joints match the mirrored joints to a few mm.
    assert float((flipped - a).norm(dim=-1).max()) < 0.01


def test_sampler_is_deterministic_and_within_limits(anny_body):
    sampler = PoseSampler(anny_body)
    first, again, other = (
        sampler.sample(64, seed=3),
        sampler.sample(64, seed=3),
        sampler.sample(64, seed=4),
    )
    torch.testing.assert_close(first.pose.body_pose, again.pose.body_pose)
    assert first.posture == again.posture
    assert not torch.allclose(first.pose.body_pose, other.pose.body_pose)
    low = np.array([d.low for d in JOINT_DOFS])
    high = np.array([d.high for d in JOINT_DOFS])
    assert (first.angles >= low).all() and (first.angles <= high).all()
    assert set(first.posture) == set(INFANT_POSTURES)
    age = first.pose.shape["age"]
    assert float(age.min()) >= -1 / 3 and float(age.max()) <= 0.0
    assert first.pose.body_pose.dtype == torch.float32 and bool(first.mirrored.any())


def test_sampled_postures_face_the_right_way(anny_body):
    sampler = PoseSampler(anny_body, noise_scale=0.5)
    sample = sampler.sample(48, seed=0)
    out = anny_body(sample.pose)
    nose, ears = (
        out.keypoints[:, K["nose"]],
        out.keypoints[:, [K["left_ear"], K["right_ear"]]].mean(1),
    )
    face = torch.nn.functional.normalize(nose - ears, dim=-1)
    head_up = out.joints[:, J["head"], 1] - out.joints[:, J["pelvis"], 1]
    for i, posture in enumerate(sample.posture):
        if posture == "supine":
            assert face[i, 1] > 0.5, f"supine body {i} faces {face[i]}"
        elif posture == "prone":
            assert face[i, 1] < 0.3, f"prone body {i} faces {face[i]}"
        elif posture in ("sitting", "supported_standing"):
            assert head_up[i] > 0.15, f"{posture} body {i}: head only {head_up[i]:.2f} m up"
        elif posture == "crawling":
            wrists = out.joints[i, [J["left_wrist"], J["right_wrist"]], 1]
            assert bool((wrists < out.joints[i, J["spine3"], 1] - 0.08).all())


def test_sampler_errors_name_the_choices(anny_body):
    with pytest.raises(ValueError, match="infant, adult"):
        PoseSampler(anny_body, population="toddler")
    with pytest.raises(ValueError, match="crawling"):
        PoseSampler(anny_body, postures=["cartwheel"])
    adults = PoseSampler(anny_body, population="adult", postures=["walking"]).sample(5, seed=1)
    assert set(adults.posture) == {"walking"} and float(adults.pose.shape["age"].min()) >= 0.55


def test_adults_stay_upright_unless_the_floor_postures_are_named(anny_body):
    from infantpose.body.poses import is_lying

    default = PoseSampler(anny_body, population="adult").sample(40, seed=3)
    assert set(default.posture) <= set(ADULT_POSTURES)  # sets made before them are unchanged
    floor = PoseSampler(anny_body, population="adult", postures=ADULT_FLOOR_POSTURES)
    sample = floor.sample(60, seed=3)
    assert set(sample.posture) == set(ADULT_FLOOR_POSTURES)
    joints = anny_body(sample.pose).joints.detach().numpy()
    lying = [is_lying(j) for j, p in zip(joints, sample.posture, strict=True) if p == "lying"]
    upright = [is_lying(j) for j, p in zip(joints, sample.posture, strict=True) if p == "kneeling"]
    assert lying and all(lying)  # lying adults lie, as the infants do
    assert upright and not any(upright)


def test_pose_select_takes_rows_with_their_shapes():
    pose = BodyPose(
        torch.arange(9.0).reshape(3, 3),
        torch.zeros(3, 21, 3),
        {"age": torch.tensor([0.1, 0.2, 0.3]), "weight": 0.5},
        torch.ones(3, 3),
    )
    picked = pose.select([2, 0, 2])
    torch.testing.assert_close(picked.global_orient[:, 0], torch.tensor([6.0, 0.0, 6.0]))
    torch.testing.assert_close(picked.shape["age"], torch.tensor([0.3, 0.1, 0.3]))
    assert picked.shape["weight"] == 0.5 and picked.batch_size == 3
