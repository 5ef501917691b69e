"""The anny backend of infantpose.body: shapes, frame, known body facts, batching, gradients, errors."""

from __future__ import annotations

import math

import pytest
import torch

from infantpose.body import (
    ANNY_BONES,
    BODY_JOINTS,
    FOOT_KEYPOINTS,
    POSE_JOINTS,
    AnnyBody,
    BodyPose,
    BodyPoseError,
    anny_backend,
    load_body_model,
)
from infantpose.keypoints import COCO17

KP = {name: i for i, name in enumerate(COCO17.joints)}
J = {name: i for i, name in enumerate(BODY_JOINTS)}


def _rot_y(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _random_pose(batch: int, seed: int = 0, scale: float = 0.3) -> BodyPose:
    g = torch.Generator().manual_seed(seed)
    return BodyPose(
        global_orient=torch.randn(batch, 3, generator=g) * scale,
        body_pose=torch.randn(batch, len(POSE_JOINTS), 3, generator=g) * scale,
        shape={"age": torch.rand(batch, generator=g) * 0.3},
        transl=torch.randn(batch, 3, generator=g) * 0.1,
    )


def test_output_shapes_and_types(anny_body):
    out = anny_body(anny_body.zero_pose(3))
    V = out.vertices.shape[1]
    assert out.vertices.shape == (3, V, 3) and V > 10_000
    assert out.faces.dtype == torch.int64 and out.faces.shape[1] == 3
    assert 0 <= int(out.faces.min()) and int(out.faces.max()) < V
    assert out.joints.shape == (3, len(BODY_JOINTS), 3)
    assert out.keypoints.shape == (3, 17, 3)
    assert out.foot_keypoints.shape == (3, len(FOOT_KEYPOINTS), 3)
    assert out.vertices.dtype == torch.float32 and anny_body.dtype == torch.float32
    assert anny_body.joint_names == BODY_JOINTS and anny_body.pose_joint_names == BODY_JOINTS[1:]
    assert anny_body.keypoint_names == COCO17.joints
    assert len(anny_body.bone_labels) == 104


def test_joint_table_covers_every_body_joint(anny_body):
    assert tuple(ANNY_BONES) == BODY_JOINTS
    bones = [bone for group in ANNY_BONES.values() for bone in group]
    assert set(bones) <= set(anny_body.bone_labels)
    assert len(bones) == len(set(bones)), "an anny bone is driven by two joints"
    # The module docstring documents the same table.
    for joint, group in ANNY_BONES.items():
        assert joint.removeprefix("left_").removeprefix("right_") in anny_backend.__doc__
        assert group[0].split(".")[0] in anny_backend.__doc__


def test_zero_pose_is_y_up_facing_plus_z_left_at_plus_x(anny_body):
    out = anny_body.zero_output()
    joints, kp = out.joints[0], out.keypoints[0]
    assert torch.allclose(joints[J["pelvis"]], torch.zeros(3))
    assert joints[J["head"], 1] > joints[J["pelvis"], 1] > joints[J["left_ankle"], 1]
    ears_z = (kp[KP["left_ear"], 2] + kp[KP["right_ear"], 2]) / 2
    assert kp[KP["nose"], 2] > ears_z + 0.03  # the face looks along +z
    assert kp[KP["left_shoulder"], 0] > 0 > kp[KP["right_shoulder"], 0]
    assert joints[J["left_hip"], 0] > 0 > joints[J["right_hip"], 0]


@pytest.mark.parametrize(
    ("age", "low", "high"),
    [(-1 / 3, 0.45, 0.56), (0.0, 0.60, 0.75), (2 / 3, 1.5, 1.9), (1.0, 1.5, 1.9)],
)
def test_standing_height_by_age(anny_body, age, low, high):
    out = anny_body(anny_body.zero_pose(1, shape={"age": age}))
    y = out.vertices[0, :, 1]
    assert low < float(y.max() - y.min()) < high


def test_default_body_is_an_infant(anny_body):
    assert anny_body.default_shape["age"] == 0.0
    default = anny_body.zero_output()
    explicit = anny_body.zero_output(shape={"age": 0.0})
    torch.testing.assert_close(default.vertices, explicit.vertices)


def test_rest_pose_is_left_right_mirrored(anny_body):
    out = anny_body.zero_output()
    mirror = torch.tensor([-1.0, 1.0, 1.0])
    points = [
        (COCO17.joints, out.keypoints[0]),
        (BODY_JOINTS, out.joints[0]),
        (FOOT_KEYPOINTS, out.foot_keypoints[0]),
    ]
    for names, values in points:
        for i, name in enumerate(names):
            if not name.startswith("left_"):
                continue
            j = names.index("right_" + name[len("left_") :])
            # anny's face is not exactly symmetric (eyes and ears within a few mm).
            atol = 6e-3 if name.endswith(("eye", "ear")) else 1e-3
            torch.testing.assert_close(values[i] * mirror, values[j], atol=atol, rtol=0)


def test_global_orient_rotates_everything_about_the_pelvis(anny_body):
    transl = torch.tensor([[0.1, 0.2, -0.3]])
    rest = anny_body(BodyPose.from_rotations({}, transl=transl))
    turned = anny_body(
        BodyPose.from_rotations({}, global_orient=[0.0, math.pi / 2, 0.0], transl=transl)
    )
    R = _rot_y(math.pi / 2)
    for a, b in [(rest.keypoints, turned.keypoints), (rest.joints, turned.joints)]:
        torch.testing.assert_close(
            b, (a - transl[:, None]) @ R.T + transl[:, None], atol=1e-5, rtol=0
        )
    nose, pelvis = turned.keypoints[0, KP["nose"]], turned.joints[0, 0]
    assert nose[0] - pelvis[0] > 0.05  # facing +z turned 90° about +y faces +x


def test_knee_flexion_moves_that_ankle_backwards_only(anny_body):
    rest = anny_body.zero_output()
    flexed = anny_body(BodyPose.from_rotations({"left_knee": [1.0, 0.0, 0.0]}))
    moved = flexed.keypoints[0] - rest.keypoints[0]
    assert moved[KP["left_ankle"]].norm() > 0.05
    assert moved[KP["left_ankle"], 2] < -0.05  # +x flexes the knee: the ankle goes backwards
    # The COCO knee point lies on the skin, which the flexion bulges by a couple of millimetres.
    assert moved[KP["left_knee"]].norm() < 5e-3
    unmoved = [KP[n] for n in COCO17.joints if n not in ("left_ankle", "left_knee")]
    torch.testing.assert_close(
        flexed.keypoints[0, unmoved], rest.keypoints[0, unmoved], atol=1e-6, rtol=0
    )
    for name in ("right_ankle", "right_knee", "left_knee", "pelvis"):
        torch.testing.assert_close(
            flexed.joints[0, J[name]], rest.joints[0, J[name]], atol=1e-6, rtol=0
        )


def test_hip_flexion_is_negative_x(anny_body):
    rest = anny_body.zero_output()
    flexed = anny_body(BodyPose.from_rotations({"right_hip": [-1.0, 0.0, 0.0]}))
    assert flexed.joints[0, J["right_knee"], 2] - rest.joints[0, J["right_knee"], 2] > 0.05


def test_child_rotations_compose_after_their_parents(anny_body):
    # SMPL's convention: the knee's rotation acts in the frame the hip's rotation left it in,
    # so hip R_x(-a) then knee R_x(+a) leaves the shank as it was at rest, only moved.
    rest = anny_body.zero_output()
    posed = anny_body(
        BodyPose.from_rotations({"left_hip": [-1.2, 0.0, 0.0], "left_knee": [1.2, 0.0, 0.0]})
    )

    def shank(out):
        return out.joints[0, J["left_ankle"]] - out.joints[0, J["left_knee"]]

    def thigh(out):
        return out.joints[0, J["left_knee"]] - out.joints[0, J["left_hip"]]

    torch.testing.assert_close(shank(posed), shank(rest), atol=1e-5, rtol=0)
    assert (thigh(posed) - thigh(rest)).norm() > 0.1


def test_foot_rotation_moves_the_toes_not_the_heel(anny_body):
    rest = anny_body.zero_output()
    posed = anny_body(BodyPose.from_rotations({"left_foot": [0.8, 0.0, 0.0]}))
    moved = (posed.foot_keypoints[0] - rest.foot_keypoints[0]).norm(dim=-1)
    index = {name: i for i, name in enumerate(FOOT_KEYPOINTS)}
    assert moved[index["left_big_toe"]] > 5e-3
    assert moved[index["left_heel"]] < 1e-3 and moved[index["right_big_toe"]] < 1e-6


def test_translation_shifts_everything(anny_body):
    t = torch.tensor([[0.5, -0.25, 2.0]])
    base = anny_body(BodyPose.from_rotations({"left_elbow": [0.0, 0.5, 0.0]}))
    moved = anny_body(BodyPose.from_rotations({"left_elbow": [0.0, 0.5, 0.0]}, transl=t))
    for a, b in [
        (base.vertices, moved.vertices),
        (base.joints, moved.joints),
        (base.keypoints, moved.keypoints),
    ]:
        # float32 round-off: a keypoint is a weighted sum over up to 4,000 vertices.
        torch.testing.assert_close(b, a + t[:, None], atol=1e-4, rtol=0)
    torch.testing.assert_close(moved.joints[:, 0], t)


def test_batch_equals_single_calls(anny_body):
    pose = _random_pose(4)
    batched = anny_body(pose)
    for i in range(4):
        single = anny_body(
            BodyPose(
                global_orient=pose.global_orient[i : i + 1],
                body_pose=pose.body_pose[i : i + 1],
                shape={"age": pose.shape["age"][i : i + 1]},
                transl=pose.transl[i : i + 1],
            )
        )
        for name in ("vertices", "joints", "keypoints", "foot_keypoints"):
            torch.testing.assert_close(
                getattr(batched, name)[i : i + 1], getattr(single, name), atol=1e-5, rtol=0
            )


def test_shape_as_tensor_equals_shape_as_dict(anny_body):
    labels = anny_backend.PHENOTYPE_LABELS
    values = {
        "gender": 0.2,
        "age": 0.1,
        "muscle": 0.7,
        "weight": 0.4,
        "height": 0.9,
        "proportions": 0.3,
    }
    as_dict = anny_body(anny_body.zero_pose(1, shape=values))
    as_tensor = anny_body(anny_body.zero_pose(1, shape=torch.tensor([[values[k] for k in labels]])))
    torch.testing.assert_close(as_dict.vertices, as_tensor.vertices)


def test_flat_body_pose_is_accepted(anny_body):
    pose = _random_pose(2)
    flat = BodyPose(pose.global_orient, pose.body_pose.reshape(2, -1), pose.shape, pose.transl)
    torch.testing.assert_close(anny_body(flat).keypoints, anny_body(pose).keypoints)


def test_gradients_reach_pose_translation_and_shape(anny_body):
    pose = _random_pose(2)
    leaves = {
        "global_orient": pose.global_orient.requires_grad_(),
        "body_pose": pose.body_pose.requires_grad_(),
        "transl": pose.transl.requires_grad_(),
        "age": pose.shape["age"].requires_grad_(),
    }
    out = anny_body(pose)
    (out.keypoints.sum() + out.foot_keypoints.square().sum()).backward()
    for name, leaf in leaves.items():
        assert leaf.grad is not None and torch.isfinite(leaf.grad).all(), name
        assert leaf.grad.abs().sum() > 0, name
    # d(sum of keypoints)/d(transl) counts the keypoints; the foot term adds 2 * sum of foot points.
    expected = 17 + 2 * out.foot_keypoints.detach().sum(dim=1)
    torch.testing.assert_close(leaves["transl"].grad, expected, atol=1e-4, rtol=1e-5)
    # The pelvis's own row of body_pose does not exist; every pose joint moves some keypoint.
    assert (leaves["body_pose"].grad.abs().sum(dim=(0, 2)) > 0).sum() >= 17


def test_gradient_matches_finite_differences():
    body = AnnyBody(dtype=torch.float64)
    pose = _random_pose(1, seed=3).to(dtype=torch.float64)
    direction = torch.randn_like(pose.body_pose, generator=torch.Generator().manual_seed(4))
    x = pose.body_pose.clone().requires_grad_()

    def loss(body_pose: torch.Tensor) -> torch.Tensor:
        out = body(BodyPose(pose.global_orient, body_pose, pose.shape, pose.transl))
        return (out.keypoints**2).sum() + out.joints.sum()

    loss(x).backward()
    analytic = float((x.grad * direction).sum())
    eps = 1e-5
    with torch.no_grad():
        numeric = float(loss(x + eps * direction) - loss(x - eps * direction)) / (2 * eps)
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_from_rotations_fills_the_named_rows():
    pose = BodyPose.from_rotations(
        {"left_knee": [1.0, 0.0, 0.0], "neck": torch.zeros(4, 3) + 0.1}, transl=[0.0, 1.0, 0.0]
    )
    assert pose.batch_size == 4 and pose.body_pose.shape == (4, 21, 3)
    assert torch.equal(
        pose.body_pose[:, POSE_JOINTS.index("left_knee")], torch.tensor([[1.0, 0, 0]] * 4)
    )
    assert float(pose.body_pose.abs().sum()) == pytest.approx(4 * (1.0 + 0.3))
    assert torch.equal(pose.transl, torch.tensor([[0.0, 1.0, 0.0]] * 4))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BodyPose.from_rotations({"left_kne": [0, 0, 0]}), "did you mean 'left_knee'"),
        (lambda: BodyPose.from_rotations({"pelvis": [0, 0, 0]}), "global_orient"),
        (lambda: BodyPose.from_rotations({"neck": [0, 0]}), "3-vector"),
    ],
)
def test_bad_rotations_say_what_to_do(make, message):
    with pytest.raises(BodyPoseError, match=message):
        make()


def _with(**changes):
    pose = BodyPose.zeros(2)
    for key, value in changes.items():
        setattr(pose, key, value)
    return pose


def _nan_knee():
    pose = BodyPose.zeros(2)
    pose.body_pose[1, POSE_JOINTS.index("right_knee"), 0] = float("nan")
    return pose


@pytest.mark.parametrize(
    ("pose", "message"),
    [
        (_with(body_pose=torch.zeros(2, 23, 3)), r"body_pose\[:, :21\]"),
        (_with(body_pose=torch.zeros(2, 22, 3)), "pelvis"),
        (_with(body_pose=torch.zeros(3, 21, 3)), r"expected \(2, 21, 3\)"),
        (_with(global_orient=torch.zeros(3)), r"global_orient has shape \(3,\)"),
        (_with(transl=torch.zeros(2, 2)), "pelvis positions"),
        (_with(body_pose=[[0.0] * 3] * 21), "torch tensor"),
        (_nan_knee(), "'right_knee' \\(batch item 1\\)"),
        (_with(shape={"agee": 0.0}), "did you mean 'age'"),
        (_with(shape={"age": 1.5}), r"outside \[-0.3333, 1\].*clamp"),
        (_with(shape={"weight": float("nan")}), "'weight'"),
        (_with(shape=torch.zeros(2, 5)), r"\(B, 6\)"),
        (_with(shape=torch.zeros(3, 6)), "3 bodies for 2 poses"),
        (_with(shape=[0.5] * 6), "dict"),
        ("not a pose", "BodyPose"),
    ],
)
def test_bad_poses_say_what_and_how_to_fix(anny_body, pose, message):
    with pytest.raises(BodyPoseError, match=message):
        anny_body(pose)


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ValueError, match="available: anny"):
        load_body_model("smil-from-nowhere")


def test_unknown_default_phenotype_is_refused():
    with pytest.raises(BodyPoseError, match="did you mean 'age'"):
        AnnyBody(default_shape={"ages": 0.0})


def test_cache_dir_comes_from_argument_env_or_data_root(tmp_path, monkeypatch):
    assert anny_backend.anny_cache_dir(tmp_path / "here") == (tmp_path / "here").resolve()
    monkeypatch.setattr(anny_backend, "_USER_ANNY_CACHE_DIR", None)
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path / "data"))
    assert anny_backend.anny_cache_dir() == (tmp_path / "data" / "cache" / "anny").resolve()
    monkeypatch.setattr(anny_backend, "_USER_ANNY_CACHE_DIR", str(tmp_path / "mine"))
    assert anny_backend.anny_cache_dir() == (tmp_path / "mine").resolve()


def test_models_are_built_once_and_copies_are_private(anny_body):
    shared = anny_backend.build_anny(anny_body.cache_dir)
    assert anny_backend.build_anny(anny_body.cache_dir) is shared
    other = load_body_model(cache_dir=anny_body.cache_dir)
    assert other.anny is not shared and other.anny is not anny_body.anny
    assert other.anny.template_vertices.data_ptr() != shared.template_vertices.data_ptr()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_same_bodies_on_the_gpu(anny_body):
    gpu = AnnyBody(cache_dir=anny_body.cache_dir, device="cuda")
    assert gpu.device.type == "cuda" and gpu.faces.device.type == "cuda"
    pose = _random_pose(3)
    cpu_out = anny_body(pose)
    gpu_pose = pose.to("cuda")
    gpu_pose.body_pose.requires_grad_()
    gpu_out = gpu(gpu_pose)
    gpu_out.keypoints.sum().backward()
    assert gpu_pose.body_pose.grad is not None
    for name in ("vertices", "joints", "keypoints"):
        torch.testing.assert_close(
            getattr(gpu_out, name).cpu(), getattr(cpu_out, name), atol=1e-4, rtol=0
        )


def test_skeleton_path_equals_the_full_forward(anny_body):
    # The mesh-free path (bone transforms applied to precomputed keypoint moments) must give
    # the forward's joints and keypoints, for any pose and shape, with gradients.
    pose = _random_pose(5, seed=3, scale=0.5)
    pose.shape = {"age": torch.tensor([-0.3, 0.0, 0.2, 0.6, 1.0]), "weight": 0.8}
    out = anny_body(pose)
    joints, keypoints = anny_body.skeleton(pose)
    torch.testing.assert_close(joints, out.joints, atol=1e-5, rtol=0)
    torch.testing.assert_close(keypoints, out.keypoints, atol=5e-5, rtol=0)
    body_pose = pose.body_pose.clone().requires_grad_()
    pose.body_pose = body_pose
    anny_body.skeleton(pose)[1].square().sum().backward()
    assert body_pose.grad is not None and bool(body_pose.grad.abs().sum() > 0)


def test_shape_vector_maps_into_the_phenotype_ranges(anny_body):
    zeros = anny_body.shape_from_vector(torch.zeros(1, anny_body.shape_size))
    torch.testing.assert_close(zeros, anny_body.phenotypes(None, 1))
    extreme = anny_body.shape_from_vector(torch.full((2, 6), 50.0) * torch.tensor([[1.0], [-1.0]]))
    low, high = zip(
        *(anny_backend.PHENOTYPE_RANGES[k] for k in anny_backend.PHENOTYPE_LABELS), strict=True
    )
    assert bool((extreme >= torch.tensor(low) - 1e-6).all())
    assert bool((extreme <= torch.tensor(high) + 1e-6).all())
    with pytest.raises(BodyPoseError, match=r"\(B, 6\)"):
        anny_body.shape_from_vector(torch.zeros(3))
