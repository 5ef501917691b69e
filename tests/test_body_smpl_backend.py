"""The SMPL/SMIL backend of infantpose.body, on tiny SMPL-format pickles written like the real ones.

The fixture files are Python-2 style pickles (byte strings, old numpy and scipy module paths, a
chumpy ``Ch`` value) of a small procedural body: a cylinder per SMPL joint at SMPL-like joint
positions, in SMPL's frame (y up, facing +z, left at +x). Results are checked against
``smplx`` itself wherever possible.
"""

from __future__ import annotations

import math
import os
import pickle
import struct

import numpy as np
import pytest
import scipy.sparse
import smplx
import torch
import yaml
from smplx.lbs import lbs
from smplx.utils import Struct

from infantpose.body import (
    BODY_JOINTS,
    FOOT_KEYPOINTS,
    BodyPose,
    BodyPoseError,
    load_body_model,
    smpl_backend,
)
from infantpose.body.smpl_backend import (
    SMPLH_FACE_VERTICES,
    SMPLH_FOOT_VERTICES,
    SmilBody,
    SmplBody,
)
from infantpose.body.smpl_file import (
    SMPL_PARENTS,
    SmplFileError,
    SmplFileMissingError,
    load_smpl_file,
)
from infantpose.keypoints import COCO17

KP = {name: i for i, name in enumerate(COCO17.joints)}
J = {name: i for i, name in enumerate(BODY_JOINTS)}
NUM_BETAS = 20
CONFIGS = os.path.join(os.path.dirname(__file__), os.pardir, "configs")

# ---------------------------------------------------------------------------------------------
# A tiny SMPL-format model file
# ---------------------------------------------------------------------------------------------

# SMPL-like rest joints (metres; SMPL's frame, left side at +x, toes towards +z). The pelvis is
# not at the origin, as in SMPL's template, so that the pelvis shift is exercised.
_RIGHT_SIDE = {  # joint: (x, y, z) of the left joint; the right one mirrors x
    "hip": (0.06, -0.31, 0.02),
    "knee": (0.10, -0.68, 0.03),
    "ankle": (0.09, -1.08, -0.01),
    "foot": (0.12, -1.14, 0.11),
    "collar": (0.07, 0.20, 0.01),
    "shoulder": (0.16, 0.23, -0.01),
    "elbow": (0.42, 0.22, -0.03),
    "wrist": (0.67, 0.22, -0.03),
    "hand": (0.76, 0.21, -0.05),
}
_CENTRE = {
    "pelvis": (0.0, -0.22, 0.03),
    "spine1": (0.0, -0.11, 0.0),
    "spine2": (0.0, 0.02, 0.03),
    "spine3": (0.0, 0.08, 0.03),
    "neck": (0.0, 0.30, -0.01),
    "head": (0.0, 0.37, 0.05),
}
# SMPL24 names for joints 22, 23 ("left_hand", "right_hand") follow the same pattern.
_SMPL24_NAMES = [*BODY_JOINTS, "left_hand", "right_hand"]
# The face points of the fixture (vertices added after the cylinders, weighted to the head).
_FACE_POINTS = {
    "nose": (0.0, 0.45, 0.15),
    "left_eye": (0.035, 0.49, 0.13),
    "right_eye": (-0.035, 0.49, 0.13),
    "left_ear": (0.08, 0.47, 0.05),
    "right_ear": (-0.08, 0.47, 0.05),
}
_RING_SIDES = 6
_RINGS = (0.0, 0.5, 1.0)  # along each segment


def _rest_joints() -> np.ndarray:
    joints = []
    for name in _SMPL24_NAMES:
        if name in _CENTRE:
            joints.append(_CENTRE[name])
        else:
            side, part = name.split("_", 1)
            x, y, z = _RIGHT_SIDE[part]
            joints.append((x if side == "left" else -x, y, z))
    return np.array(joints)


def _segment_ends(joints: np.ndarray) -> np.ndarray:
    """Where each joint's cylinder ends: its (main) child, or a short stub for the leaves."""
    ends = joints.copy()
    for child, parent in enumerate(SMPL_PARENTS):
        if parent >= 0 and parent not in (0, 9):
            ends[parent] = joints[child]
    ends[0], ends[9] = joints[3], joints[12]  # pelvis -> spine1, spine3 -> neck
    stubs = {"left_foot": (0, 0, 0.05), "right_foot": (0, 0, 0.05), "head": (0, 0.15, 0)}
    stubs |= {"left_hand": (0.07, 0, 0), "right_hand": (-0.07, 0, 0)}
    for name, offset in stubs.items():
        ends[_SMPL24_NAMES.index(name)] = joints[_SMPL24_NAMES.index(name)] + offset
    return ends


def _ring(center: np.ndarray, direction: np.ndarray, radius: float) -> np.ndarray:
    d = direction / np.linalg.norm(direction)
    helper = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(d, helper)
    u /= np.linalg.norm(u)
    w = np.cross(d, u)
    angles = np.arange(_RING_SIDES) * 2 * np.pi / _RING_SIDES
    return center + radius * (np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * w)


def smpl_model_dict(num_vertices: int | None = None, seed: int = 0) -> dict:
    """The arrays of a tiny SMPL-format body; ``num_vertices`` pads it with copies of its vertices."""
    rng = np.random.default_rng(seed)
    joints = _rest_joints()
    ends = _segment_ends(joints)
    vertices, weights, faces, rows = [], [], [], []
    for j in range(24):
        parent = SMPL_PARENTS[j]
        for k, t in enumerate(_RINGS):
            start = len(vertices)
            center = joints[j] + t * (ends[j] - joints[j])
            vertices.extend(_ring(center, ends[j] - joints[j], 0.02 + 0.01 * (j % 3)))
            w = np.zeros(24)
            if k == 0 and parent >= 0:
                w[j] = w[parent] = 0.5  # skin blended across the joint
            else:
                w[j] = 1.0
            weights.extend([w] * _RING_SIDES)
            if k == 0:
                rows.append((j, list(range(start, start + _RING_SIDES))))  # joint = ring mean
            else:
                for s in range(_RING_SIDES):
                    a, b = start - _RING_SIDES + s, start - _RING_SIDES + (s + 1) % _RING_SIDES
                    faces.extend([(a, b, start + s), (b, start + (s + 1) % _RING_SIDES, start + s)])
    face_ids = {}
    for name, point in _FACE_POINTS.items():
        face_ids[name] = len(vertices)
        vertices.append(np.array(point))
        weights.append(np.eye(24)[_SMPL24_NAMES.index("head")])
    v_template = np.array(vertices)
    weights = np.array(weights)
    base = len(v_template)
    if num_vertices is not None:  # pad with copies (the SMPL-H vertex ids then exist)
        copies = np.arange(num_vertices - base) % base
        v_template = np.concatenate([v_template, v_template[copies]])
        weights = np.concatenate([weights, weights[copies]])
    count = len(v_template)
    regressor = np.zeros((24, count))
    for j, ids in rows:
        regressor[j, ids] = 1.0 / len(ids)
    kintree = np.array([SMPL_PARENTS, list(range(24))], dtype=np.int64)
    kintree[0, 0] = 2**32 - 1  # what the published files hold for the root's parent
    return {
        "v_template": v_template,
        "f": np.array(faces, dtype=np.uint32),
        "shapedirs": rng.normal(scale=0.01, size=(count, 3, NUM_BETAS)),
        "posedirs": rng.normal(scale=0.001, size=(count, 3, 207)).astype(np.float32),
        "J_regressor": scipy.sparse.csc_matrix(regressor),
        "J": regressor @ v_template,
        "weights": weights,
        "kintree_table": kintree.astype(np.uint32),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
        "_face_ids": face_ids,
    }


class FakeCh:
    """Pickles as ``chumpy.ch.Ch`` with its value in ``x``, as chumpy arrays in the SMPL files do."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self._dirty_vars = set()  # chumpy keeps bookkeeping like this beside x


class Py2Pickler(pickle._Pickler):
    """Writes what Python 2 wrote: str and bytes as byte strings (loaded back with latin-1),
    :class:`FakeCh` as ``chumpy.ch.Ch``. (The pure-Python pickler, because its dispatch table
    can be extended.)"""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_string(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_string
    dispatch[bytes] = save_py2_string

    def save_global(self, obj, name=None):
        if obj is FakeCh:
            self.write(pickle.GLOBAL + b"chumpy.ch\nCh\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def write_smpl_pickle(path, data: dict, protocol: int = 2, chumpy_keys=("shapedirs",)) -> None:
    """``data`` as a Python-2 era SMPL pickle: chumpy values, old numpy/scipy module paths."""
    data = {k: (FakeCh(v) if k in chumpy_keys else v) for k, v in data.items() if k[0] != "_"}
    with open(path, "wb") as file:
        Py2Pickler(file, protocol=protocol).dump(data)
    raw = path.read_bytes()
    # Module paths as Python 2 era numpy and scipy wrote them (plain text in GLOBAL opcodes).
    for new, old in (
        (b"numpy._core.", b"numpy.core."),
        (b"scipy.sparse._csc\n", b"scipy.sparse.csc\n"),
    ):
        raw = raw.replace(new, old)
    path.write_bytes(raw)


@pytest.fixture(scope="module")
def model_data():
    return smpl_model_dict()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, model_data):
    path = tmp_path_factory.mktemp("smpl") / "tiny_smpl.pkl"
    write_smpl_pickle(path, model_data)
    return path


@pytest.fixture(scope="module")
def body(model_file, model_data):
    return SmplBody(model_file, face_vertex_ids=model_data["_face_ids"])


@pytest.fixture(scope="module")
def full_file(tmp_path_factory):
    """A 6890-vertex file (the SMPL topology's count), so the SMPL-H vertex ids apply."""
    path = tmp_path_factory.mktemp("smpl") / "full_smpl.pkl"
    write_smpl_pickle(path, smpl_model_dict(6890, seed=1))
    return path


def _random_pose(batch: int, seed: int = 0, scale: float = 0.4, betas: bool = True) -> BodyPose:
    g = torch.Generator().manual_seed(seed)
    return BodyPose(
        global_orient=torch.randn(batch, 3, generator=g) * scale,
        body_pose=torch.randn(batch, 21, 3, generator=g) * scale,
        shape=torch.randn(batch, NUM_BETAS, generator=g) if betas else None,
        transl=torch.randn(batch, 3, generator=g) * 0.2,
    )


def _rot_y(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


# ---------------------------------------------------------------------------------------------
# The file reader
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [1, 2])
def test_reads_python2_pickles_without_chumpy(tmp_path, model_data, protocol):
    path = tmp_path / "model.pkl"
    write_smpl_pickle(path, model_data, protocol=protocol, chumpy_keys=("shapedirs", "weights"))
    raw = path.read_bytes()
    assert b"chumpy.ch\nCh" in raw and b"scipy.sparse.csc\n" in raw and b"numpy.core." in raw
    data = load_smpl_file(path)
    V = len(model_data["v_template"])
    assert data["bs_style"] == "lbs" and data["bs_type"] == "lrotmin"
    for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "J"):
        assert isinstance(data[key], np.ndarray) and data[key].dtype.kind == "f"
    assert data["f"].dtype == np.int64 and data["kintree_table"].dtype == np.int64
    assert data["J_regressor"].shape == (24, V) and data["shapedirs"].shape == (V, 3, NUM_BETAS)
    np.testing.assert_array_equal(data["J_regressor"], model_data["J_regressor"].toarray())
    np.testing.assert_array_equal(data["shapedirs"], model_data["shapedirs"])
    np.testing.assert_array_equal(data["weights"], model_data["weights"])
    np.testing.assert_array_equal(data["posedirs"], model_data["posedirs"])
    np.testing.assert_array_equal(data["kintree_table"][0, 1:], SMPL_PARENTS[1:])


def test_reads_modern_numpy_only_pickles(tmp_path, model_data):
    # What smplx's tools/clean_ch.py or a Python 3 script writes: numpy arrays, any protocol.
    path = tmp_path / "clean.pkl"
    data = {k: v for k, v in model_data.items() if k[0] != "_"}
    with open(path, "wb") as file:
        pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL)
    loaded = load_smpl_file(path)
    np.testing.assert_array_equal(loaded["J_regressor"], model_data["J_regressor"].toarray())
    np.testing.assert_array_equal(loaded["v_template"], model_data["v_template"])


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file") as info:
        load_smpl_file(tmp_path / "nope.pkl")
    assert isinstance(info.value, SmplFileError) and "nope.pkl" in str(info.value)
    with pytest.raises(SmplFileMissingError, match="folder"):
        load_smpl_file(tmp_path)


def test_garbage_truncated_and_zip_files_are_refused(tmp_path, model_file):
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"\x00\x01 this is not a pickle")
    with pytest.raises(SmplFileError, match=r"garbage\.pkl: not a readable"):
        load_smpl_file(garbage)
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(model_file.read_bytes()[:5000])
    with pytest.raises(SmplFileError, match="truncated"):
        load_smpl_file(truncated)
    archive = tmp_path / "smil.zip"
    archive.write_bytes(b"PK\x03\x04" + bytes(40))
    with pytest.raises(SmplFileError, match="zip archive"):
        load_smpl_file(archive)


class _Evil:
    def __init__(self, call, argument):
        self.call, self.argument = call, argument

    def __reduce__(self):
        return (self.call, (self.argument,))


@pytest.mark.parametrize("call", [os.system, eval])
def test_forbidden_globals_are_never_run(tmp_path, model_data, call):
    marker = tmp_path / "pwned"
    argument = f"touch {marker}" if call is os.system else f"open({str(marker)!r}, 'w')"
    path = tmp_path / "evil.pkl"
    data = {k: v for k, v in model_data.items() if k[0] != "_"}
    data["bs_style"] = _Evil(call, argument)
    with open(path, "wb") as file:
        pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(SmplFileError, match="refusing to load") as info:
        load_smpl_file(path)
    name = f"{call.__module__}.{call.__name__}"  # posix.system, builtins.eval
    assert name in str(info.value) and "evil.pkl" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("posedirs"), r"missing 'posedirs'"),
        (lambda d: d.update(posedirs=d["posedirs"][:, :, :200]), r"'posedirs' has shape"),
        (lambda d: d.update(weights=d["weights"][:-1]), r"'weights' has shape"),
        (lambda d: d.update(J_regressor=d["J_regressor"][:22]), r"'J_regressor' has shape"),
        (lambda d: d["kintree_table"].__setitem__((0, 5), 3), r"'kintree_table' has parents"),
        (lambda d: d.update(f=d["f"] + 10_000), r"'f' has vertex indices outside"),
        (lambda d: d.update(v_template="a string"), r"'v_template' is not a numeric array"),
    ],
)
def test_wrong_schema_names_the_file_and_the_key(tmp_path, change, message):
    data = smpl_model_dict()
    change(data)
    path = tmp_path / "bad.pkl"
    write_smpl_pickle(path, data)
    with pytest.raises(SmplFileError, match=message) as info:
        load_smpl_file(path)
    assert "bad.pkl" in str(info.value)


def test_a_chumpy_expression_without_value_is_refused(tmp_path, model_data):
    # A chumpy expression (here a stand-in) stores its operands, not a value.
    expression = FakeCh(None)
    del expression.x
    expression.a = model_data["weights"]
    path = tmp_path / "expression.pkl"
    write_smpl_pickle(path, model_data | {"weights": expression})
    with pytest.raises(SmplFileError, match=r"'weights' is a chumpy chumpy\.ch\.Ch without"):
        load_smpl_file(path)


def test_a_non_dict_pickle_is_refused(tmp_path):
    path = tmp_path / "list.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(SmplFileError, match="holds a list"):
        load_smpl_file(path)


# ---------------------------------------------------------------------------------------------
# The body model
# ---------------------------------------------------------------------------------------------


def test_output_shapes_and_types(body, model_data):
    out = body(body.zero_pose(3))
    V = len(model_data["v_template"])
    assert out.vertices.shape == (3, V, 3) and out.vertices.dtype == torch.float32
    assert out.faces.dtype == torch.int64 and out.faces.shape == model_data["f"].shape
    assert out.joints.shape == (3, 22, 3) and out.keypoints.shape == (3, 17, 3)
    assert out.foot_keypoints is None  # not the SMPL topology: no foot points
    assert body.dtype == torch.float32 and body.device.type == "cpu"
    assert body.backend == "smpl" and body.shape_size == NUM_BETAS == body.num_betas
    assert "backend=smpl" in repr(body) and "num_betas=20" in repr(body)
    assert list(body.parameters()) == []  # smplx's own pose/shape parameters are not created


def test_transl_puts_the_pelvis_exactly(body):
    pose = _random_pose(4)
    out = body(pose)
    torch.testing.assert_close(out.joints[:, 0], pose.transl, atol=1e-6, rtol=0)
    pose.transl = None  # means the origin
    torch.testing.assert_close(body(pose).joints[:, 0], torch.zeros(4, 3), atol=1e-6, rtol=0)


def test_rest_joints_are_the_regressor_on_the_template(body, model_data):
    transl = torch.tensor([[0.3, -0.1, 0.2]])
    out = body(BodyPose.from_rotations({}, transl=transl))
    regressed = model_data["J_regressor"] @ model_data["v_template"]
    expected = torch.as_tensor(regressed[:22] - regressed[:1], dtype=torch.float32) + transl
    torch.testing.assert_close(out.joints[0], expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(
        out.joints[0],
        torch.as_tensor(_rest_joints()[:22]).float() - torch.tensor(_CENTRE["pelvis"]) + transl,
        atol=1e-6,
        rtol=0,
    )


def test_same_as_smplx_for_random_poses_and_all_twenty_betas(body, model_file):
    # smplx's lbs straight on the file's arrays: every beta, the hands at rest, minus the pelvis.
    data = load_smpl_file(model_file)
    tensors = {
        k: torch.as_tensor(v, dtype=torch.float64)
        for k, v in data.items()
        if k != "bs_style" and k != "bs_type"
    }
    pose = _random_pose(3, seed=4)
    full_pose = torch.cat([pose.global_orient, pose.body_pose.flatten(1), torch.zeros(3, 6)], 1)
    vertices, joints = lbs(
        pose.shape.double(),
        full_pose.double(),
        tensors["v_template"],
        tensors["shapedirs"],
        tensors["posedirs"].reshape(-1, 207).T,
        tensors["J_regressor"],
        torch.as_tensor(SMPL_PARENTS),
        tensors["weights"],
    )
    shift = pose.transl[:, None].double() - joints[:, :1]
    out = body(pose)
    torch.testing.assert_close(out.vertices.double(), vertices + shift, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.joints.double(), (joints + shift)[:, :22], atol=1e-5, rtol=0)
    # float64 keeps the file's values exactly (smplx alone would round them through float32).
    body64 = SmplBody(model_file, dtype=torch.float64, face_vertex_ids=body.face_vertex_ids)
    out64 = body64(pose.to(dtype=torch.float64))
    torch.testing.assert_close(out64.vertices, vertices + shift, atol=1e-10, rtol=0)


def test_same_as_plain_smplx_on_the_smpl_topology(full_file):
    full = SmplBody(full_file, num_betas=10)
    # smplx as anyone would build it (default SMPL-H vertex ids, 10 betas), from our reader.
    reference = smplx.SMPL(
        model_path=str(full_file), data_struct=Struct(**load_smpl_file(full_file))
    )
    pose = _random_pose(2, seed=5, betas=False)
    pose.shape = torch.randn(2, 10)
    ref = reference(
        betas=pose.shape,
        global_orient=pose.global_orient,
        body_pose=torch.cat([pose.body_pose.flatten(1), torch.zeros(2, 6)], 1),
    )
    shift = pose.transl[:, None] - ref.joints[:, :1]
    out = full(pose)
    torch.testing.assert_close(out.vertices, ref.vertices + shift, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.joints, (ref.joints + shift)[:, :22], atol=1e-5, rtol=0)
    # smplx's extra joints: nose, right eye, left eye, right ear, left ear, then the feet.
    extra = ref.joints[:, 24:] + shift
    face = ["nose", "right_eye", "left_eye", "right_ear", "left_ear"]
    torch.testing.assert_close(
        out.keypoints[:, [KP[n] for n in face]], extra[:, :5], atol=1e-5, rtol=0
    )
    feet = [
        "left_big_toe",
        "left_small_toe",
        "left_heel",
        "right_big_toe",
        "right_small_toe",
        "right_heel",
    ]
    index = [FOOT_KEYPOINTS.index(n) for n in feet]
    torch.testing.assert_close(out.foot_keypoints[:, index], extra[:, 5:11], atol=1e-5, rtol=0)


def test_zero_pose_is_y_up_facing_plus_z_left_at_plus_x(body):
    out = body.zero_output()
    joints, kp = out.joints[0], out.keypoints[0]
    assert torch.allclose(joints[J["pelvis"]], torch.zeros(3))
    assert joints[J["head"], 1] > joints[J["pelvis"], 1] > joints[J["left_ankle"], 1]
    ears_z = (kp[KP["left_ear"], 2] + kp[KP["right_ear"], 2]) / 2
    assert kp[KP["nose"], 2] > ears_z + 0.03  # the face looks along +z
    assert joints[J["left_foot"], 2] > joints[J["left_ankle"], 2] + 0.05  # so do the toes
    assert kp[KP["left_shoulder"], 0] > 0 > kp[KP["right_shoulder"], 0]
    assert joints[J["left_hip"], 0] > 0 > joints[J["right_hip"], 0]


def test_global_orient_rotates_everything_about_the_pelvis(body):
    transl = torch.tensor([[0.1, 0.2, -0.3]])
    rest = body(BodyPose.from_rotations({}, transl=transl))
    turned = body(BodyPose.from_rotations({}, global_orient=[0.0, math.pi / 2, 0.0], transl=transl))
    R = _rot_y(math.pi / 2)
    for a, b in [(rest.vertices, turned.vertices), (rest.joints, turned.joints)]:
        torch.testing.assert_close(
            b, (a - transl[:, None]) @ R.T + transl[:, None], atol=1e-5, rtol=0
        )
    nose, pelvis = turned.keypoints[0, KP["nose"]], turned.joints[0, 0]
    assert nose[0] - pelvis[0] > 0.05  # facing +z turned 90° about +y faces +x


def test_knee_flexion_moves_that_ankle_backwards_only(body):
    rest = body.zero_output()
    flexed = body(BodyPose.from_rotations({"left_knee": [1.0, 0.0, 0.0]}))
    moved = flexed.joints[0] - rest.joints[0]
    assert moved[J["left_ankle"], 2] < -0.2  # +x flexes the knee: the ankle goes backwards
    assert moved[J["left_ankle"], 1] > 0.1  # and up
    unmoved = [J[n] for n in BODY_JOINTS if n not in ("left_ankle", "left_foot")]
    torch.testing.assert_close(
        flexed.joints[0, unmoved], rest.joints[0, unmoved], atol=1e-6, rtol=0
    )


def test_hip_flexion_is_negative_x(body):
    rest = body.zero_output()
    flexed = body(BodyPose.from_rotations({"right_hip": [-1.0, 0.0, 0.0]}))
    assert flexed.joints[0, J["right_knee"], 2] - rest.joints[0, J["right_knee"], 2] > 0.1


def test_betas_move_the_mesh_as_shapedirs_say(body, model_data):
    rest = body.zero_output()
    shapedirs = torch.as_tensor(model_data["shapedirs"], dtype=torch.float32)
    pelvis_row = torch.as_tensor(model_data["J_regressor"].toarray()[0], dtype=torch.float32)
    for k in (0, 7, NUM_BETAS - 1):  # the last of the 20 betas counts too
        betas = torch.zeros(1, NUM_BETAS)
        betas[0, k] = 0.7
        out = body(body.zero_pose(1, shape=betas))
        offset = 0.7 * shapedirs[:, :, k]
        expected = offset - pelvis_row @ offset  # our pelvis stays at transl
        torch.testing.assert_close(out.vertices[0] - rest.vertices[0], expected, atol=1e-6, rtol=0)


def test_all_betas_of_the_file_are_kept_and_smplx_is_left_alone(model_file, model_data):
    face = model_data["_face_ids"]
    assert SmplBody(model_file, face_vertex_ids=face).smpl.shapedirs.shape[-1] == NUM_BETAS
    five = SmplBody(model_file, num_betas=5, face_vertex_ids=face)
    assert (
        five.shape_size == 5
        and five(five.zero_pose(1, shape=torch.ones(1, 5))).vertices.shape[0] == 1
    )
    assert smplx.SMPL.SHAPE_SPACE_DIM == 300
    with pytest.raises(ValueError, match="has 20 shape components; pass 1 to 20"):
        SmplBody(model_file, num_betas=21, face_vertex_ids=face)


def test_gradients_flow_to_pose_shape_and_transl(body):
    pose = _random_pose(2, seed=1)
    for name in ("global_orient", "body_pose", "shape", "transl"):
        getattr(pose, name).requires_grad_()
    out = body(pose)
    (out.vertices.square().sum() + out.keypoints.square().sum()).backward()
    for name in ("global_orient", "body_pose", "shape", "transl"):
        grad = getattr(pose, name).grad
        assert grad is not None and bool(torch.isfinite(grad).all()) and bool(grad.abs().sum() > 0)


def test_a_batch_equals_separate_forwards(body):
    pose = _random_pose(3, seed=2)
    batched = body(pose)
    for i in range(3):
        single = body(
            BodyPose(
                global_orient=pose.global_orient[i : i + 1],
                body_pose=pose.body_pose[i : i + 1],
                shape=pose.shape[i : i + 1],
                transl=pose.transl[i : i + 1],
            )
        )
        torch.testing.assert_close(batched.vertices[i : i + 1], single.vertices, atol=1e-6, rtol=0)
        torch.testing.assert_close(
            batched.keypoints[i : i + 1], single.keypoints, atol=1e-6, rtol=0
        )
    one_shape = body(BodyPose(pose.global_orient, pose.body_pose, pose.shape[:1], pose.transl))
    torch.testing.assert_close(one_shape.vertices[0], batched.vertices[0])


def test_coco_keypoints_are_the_documented_joints_and_vertices(body, full_file):
    pose = _random_pose(2, seed=3)
    out = body(pose)
    for name in COCO17.joints:
        if name in SMPLH_FACE_VERTICES:
            expected = out.vertices[:, body.face_vertex_ids[name]]
        else:
            expected = out.joints[:, J[name]]  # the SMPL joint of the same name
        torch.testing.assert_close(out.keypoints[:, KP[name]], expected, atol=0, rtol=0)
    full = SmplBody(full_file)
    assert full.face_vertex_ids == SMPLH_FACE_VERTICES
    out = full(_random_pose(2, seed=3))
    for name, vertex in SMPLH_FACE_VERTICES.items():
        torch.testing.assert_close(
            out.keypoints[:, KP[name]], out.vertices[:, vertex], atol=0, rtol=0
        )
    assert out.foot_keypoints.shape == (2, 6, 3)
    for i, name in enumerate(FOOT_KEYPOINTS):
        vertex = SMPLH_FOOT_VERTICES[name]
        torch.testing.assert_close(
            out.foot_keypoints[:, i], out.vertices[:, vertex], atol=0, rtol=0
        )
    # The module docstring's table lists the same numbers.
    for number in [*SMPLH_FACE_VERTICES.values(), *SMPLH_FOOT_VERTICES.values()]:
        assert str(number) in smpl_backend.__doc__


def test_another_mesh_needs_face_vertex_ids(model_file):
    with pytest.raises(SmplFileError, match=r"not SMPL's 6890, .* pass face_vertex_ids"):
        SmplBody(model_file)
    with pytest.raises(ValueError, match=r"missing \['left_ear'\]"):
        SmplBody(
            model_file, face_vertex_ids={"nose": 1, "left_eye": 2, "right_eye": 3, "right_ear": 4}
        )
    ids = dict.fromkeys(SMPLH_FACE_VERTICES, 0) | {"nose": 10**6}
    with pytest.raises(ValueError, match="are not vertices of"):
        SmplBody(model_file, face_vertex_ids=ids)


def test_wrong_shapes_say_what_is_expected(body):
    pose = body.zero_pose(2)
    pose.shape = torch.zeros(2, 10)
    with pytest.raises(BodyPoseError, match=r"betas of shape \(B, 20\)"):
        body(pose)
    pose.shape = torch.zeros(3, 20)
    with pytest.raises(BodyPoseError, match="3 bodies for 2 poses"):
        body(pose)
    pose.shape = {"age": 0.0}
    with pytest.raises(BodyPoseError, match="take betas"):
        body(pose)
    assert body.shape_from_vector(torch.ones(2, 20)).shape == (2, 20)
    with pytest.raises(BodyPoseError, match=r"expected \(B, 20\)"):
        body.shape_from_vector(torch.ones(2, 10))


def test_load_body_model_builds_both_backends(model_file, model_data):
    face = model_data["_face_ids"]
    smpl = load_body_model("smpl", model_path=model_file, face_vertex_ids=face)
    smil = load_body_model("smil", model_path=model_file, face_vertex_ids=face)
    assert isinstance(smpl, SmplBody) and isinstance(smil, SmilBody)
    assert smil.backend == "smil" and smil.num_betas == 20
    pose = _random_pose(1)
    torch.testing.assert_close(smpl(pose).vertices, smil(pose).vertices)


def _profile(tmp_path, smil_model):
    with open(os.path.join(CONFIGS, "paper.yaml"), encoding="utf-8") as file:
        raw = yaml.safe_load(file)
    raw["paths"]["smil_model"] = smil_model
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_smil_without_a_configured_file_says_where_to_get_it(tmp_path, model_file, model_data):
    for configured, message in [
        (None, "not set in"),
        (str(tmp_path / "gone.pkl"), "gone.pkl: no such"),
    ]:
        with pytest.raises(FileNotFoundError, match=message) as info:
            SmilBody(profile=_profile(tmp_path, configured))
        text = str(info.value)
        assert "paths.smil_model" in text and smpl_backend.SMIL_DOWNLOAD_URL in text
        assert "licence" in text and "smil_web.pkl" in text
    garbage = tmp_path / "smil_web.pkl"
    garbage.write_bytes(b"\x80\x02garbage")
    with pytest.raises(SmplFileError, match="not a readable") as info:
        SmilBody(profile=_profile(tmp_path, str(garbage)))
    assert smpl_backend.SMIL_DOWNLOAD_URL in str(info.value)
    smil = SmilBody(
        profile=_profile(tmp_path, str(model_file)), face_vertex_ids=model_data["_face_ids"]
    )
    assert smil.model_path == model_file and smil.shape_size == 20


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_same_bodies_on_the_gpu(body, model_file, model_data):
    gpu = SmplBody(model_file, face_vertex_ids=model_data["_face_ids"]).to("cuda")
    assert gpu.device.type == "cuda" and gpu.faces.device.type == "cuda"
    pose = _random_pose(3)
    gpu_pose = pose.to("cuda")
    gpu_pose.body_pose.requires_grad_()
    gpu_out = gpu(gpu_pose)
    gpu_out.keypoints.sum().backward()
    assert gpu_pose.body_pose.grad is not None
    cpu_out = body(pose)
    for name in ("vertices", "joints", "keypoints"):
        torch.testing.assert_close(
            getattr(gpu_out, name).cpu(), getattr(cpu_out, name), atol=1e-4, rtol=0
        )
