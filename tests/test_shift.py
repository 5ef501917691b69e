"""SHIFT: views and their inverse, the mean teacher's arithmetic, the prior, the visibility
loss's gradient path, PCK's normaliser and the errors on bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from infantpose.config import ConfigError
from infantpose.data.coco import annotation_record, image_record, make_coco
from infantpose.pose2d import PoseResNet, PoseResNetConfig
from infantpose.pose2d.dataset import TensorSamples
from infantpose.pose2d.evaluate import Predictions
from infantpose.shift import (
    Components,
    EmaTeacher,
    Kp2Seg,
    PriorConfig,
    ShiftConfig,
    SourceCrops,
    TargetImages,
    ViewAugment,
    adaptation_losses,
    bone_vectors,
    confidence_mask,
    gaussian_heatmaps,
    heatmap_matrix,
    load_kp2seg,
    load_prior,
    make_prior_data,
    pck_of,
    rectify,
    sample_affine,
    save_kp2seg,
    save_prior,
    soft_argmax,
    source_crops,
    target_images,
    target_splits,
    train_prior,
    transform_points,
    warp,
)
from infantpose.shift.prior import PoseNDF

TINY = PoseResNetConfig(depth=18, input_size=(32, 64), deconv_channels=(16, 16, 16))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def _peak(heatmap: torch.Tensor) -> tuple[int, int]:
    index = int(heatmap.flatten().argmax())
    return index % heatmap.shape[-1], index // heatmap.shape[-1]


# ----------------------------------------------------------------------------- views


def test_warp_then_inverse_warp_returns_the_heatmap_peak():
    g = torch.Generator().manual_seed(0)
    size = (24, 32)  # heatmap W, H
    for trial in range(10):
        point = torch.tensor([[[8.0 + trial % 5, 12.0 + trial]]])
        heatmap = gaussian_heatmaps(point, size, 2.0)
        image_matrix = sample_affine(1, (96, 128), ViewAugment(scale=(0.8, 1.2)), g)
        m = heatmap_matrix(image_matrix, 4.0)
        there = warp(heatmap, m)
        # the peak goes where the matrix sends the point …
        expected = transform_points(point.double(), m)[0, 0]
        assert np.allclose(_peak(there[0, 0]), expected.round().numpy(), atol=1)
        back = warp(there, torch.linalg.inv(m))
        assert _peak(back[0, 0]) == (int(point[0, 0, 0]), int(point[0, 0, 1]))


def test_the_identity_view_leaves_the_image_unchanged():
    x = torch.rand(2, 3, 16, 12)
    assert torch.allclose(warp(x, torch.eye(3).expand(2, 3, 3).clone()), x, atol=1e-5)


def test_soft_argmax_finds_a_gaussian_centre_and_passes_gradients():
    point = torch.tensor([[[7.3, 5.6]]], requires_grad=True)
    heatmap = gaussian_heatmaps(point, (20, 16), 2.0)
    found = soft_argmax(heatmap, 20.0)
    assert torch.allclose(found, point, atol=0.05)
    found.sum().backward()
    assert point.grad.abs().sum() > 0


# ----------------------------------------------------------------------------- mean teacher


def test_ema_arithmetic_on_parameters_and_buffers():
    student = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    teacher = EmaTeacher(student, 0.9)
    before = [p.clone() for p in teacher.model.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
        student[1].running_mean.fill_(2.0)
    teacher.update(student)
    for t, b, s in zip(teacher.model.parameters(), before, student.parameters(), strict=True):
        assert torch.allclose(t, 0.9 * b + 0.1 * s)
    assert torch.allclose(teacher.model[1].running_mean, torch.full((2,), 0.2))
    assert not any(p.requires_grad for p in teacher.model.parameters())
    parameters_only = EmaTeacher(student, 0.5, buffers=False)
    student[1].running_mean.fill_(4.0)
    parameters_only.update(student)
    assert torch.allclose(parameters_only.model[1].running_mean, torch.full((2,), 2.0))


@pytest.mark.parametrize("ratio", [0.0, 0.25, 0.5, 0.9])
def test_confidence_mask_keeps_the_requested_fraction(ratio):
    confidence = torch.randperm(32 * 17).float().reshape(32, 17) / 1000
    kept = confidence_mask(confidence, ratio)
    assert kept.sum() == 32 * 17 - int(ratio * 32 * 17)
    assert confidence[kept].min() > confidence[~kept].max() if ratio else kept.all()


def test_rectify_puts_a_clean_gaussian_at_the_argmax():
    noisy = torch.rand(1, 1, 16, 12) * 0.1
    noisy[0, 0, 5, 7] = 0.8
    clean, confidence = rectify(noisy, 2.0)
    assert _peak(clean[0, 0]) == (7, 5) and torch.isclose(clean.max(), torch.tensor(1.0))
    assert torch.isclose(confidence[0, 0], torch.tensor(0.8))


# ----------------------------------------------------------------------------- prior


def _poses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.array([[50, 20], [48, 18], [52, 18], [45, 20], [55, 20], [40, 35], [60, 35],
                     [35, 50], [65, 50], [33, 65], [67, 65], [44, 65], [56, 65], [43, 85],
                     [57, 85], [43, 105], [57, 105]], float)  # fmt: skip
    poses = base[None] + rng.normal(0, 2, (n, 17, 2))
    return np.concatenate([poses, np.full((n, 17, 1), 2.0)], -1)


def test_bone_vectors_are_unit_and_thirteen():
    bones = bone_vectors(torch.from_numpy(_poses(3)[..., :2]))
    assert bones.shape == (3, 13, 2)
    assert torch.allclose(bones.norm(dim=-1), torch.ones(3, 13).double())


def test_prior_learns_clean_poses_are_closer_than_perturbed_ones(tmp_path):
    config = PriorConfig(hidden=32, layers=2, batch_size=64, stage_steps=(40, 40, 120),
                         rotations=1, candidates=50, lr=3e-3)  # fmt: skip
    data = make_prior_data(_poses(40), config)
    assert len(data.clean) == 40 * 4 and len(data.far) > 0
    model, history = train_prior(data, config)
    assert [h["stage"] for h in history] == [1, 2, 3]
    with torch.no_grad():
        clean = model(torch.from_numpy(data.clean)).mean()
        far = model(torch.from_numpy(data.far)).mean()
        nearest = model(torch.from_numpy(data.far)).min()
    assert float(clean) < float(far)
    assert float(nearest) >= 0  # softplus output: a distance
    path = save_prior(tmp_path / "prior.pt", model, trained_on="test poses")
    _again, trained_on = load_prior(path)
    assert trained_on == "test poses"


def test_a_prior_of_another_joint_layout_is_refused(tmp_path):
    path = save_prior(
        tmp_path / "prior.pt", PoseNDF(PriorConfig(hidden=8, layers=1)), trained_on="x"
    )
    payload = torch.load(path, weights_only=True)
    payload["layout"] = "uda16"
    torch.save(payload, tmp_path / "uda.pt")
    with pytest.raises(ValueError, match=r"uda\.pt.*uda16.*Retrain"):
        load_prior(tmp_path / "uda.pt")


def _sklearn_distances(queries, clean, candidates, k_distance):
    """The scikit-learn + NumPy code :func:`nearest_distances` replaced, kept as its reference."""
    from sklearn.neighbors import NearestNeighbors

    k = min(candidates, len(clean))
    index = NearestNeighbors(n_neighbors=k).fit(clean.reshape(len(clean), -1))
    _, nearest = index.kneighbors(queries.reshape(len(queries), -1))
    exact = np.linalg.norm(queries[:, None] - clean[nearest], axis=-1).mean(-1)
    exact.sort(axis=1)
    return exact[:, :k_distance].mean(1)


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
            ],
        ),
    ],
)
@pytest.mark.parametrize(("clean_poses", "candidates"), [(60, 50), (5, 50)])
def test_nearest_distances_equal_scikit_learns_bit_for_bit(device, clean_poses, candidates):
    """The chunked torch.cdist search gives the labels of the scikit-learn code it replaced,
    bit for bit, in chunks of a few queries (memory_mb) and with fewer clean poses than
    candidates; so a prior trained on the CPU is the one the book trained before."""
    from infantpose.shift.prior import nearest_distances

    rng = np.random.default_rng(3)
    clean = bone_vectors(torch.from_numpy(_poses(clean_poses, seed=1)[..., :2])).float().numpy()
    angles = rng.vonmises(0.0, 2.0, size=(3 * clean_poses, 13))
    base = clean[rng.integers(0, len(clean), len(angles))]
    c, s = np.cos(angles), np.sin(angles)
    queries = np.stack([c * base[..., 0] - s * base[..., 1], s * base[..., 0] + c * base[..., 1]],
                       -1).astype(np.float32)  # fmt: skip
    expected = _sklearn_distances(queries, clean, candidates, 5)
    found = nearest_distances(queries, clean, candidates=candidates, k_distance=5, device=device,
                              memory_mb=0.05)  # fmt: skip
    assert found.dtype == np.float32 and found.shape == (len(queries),)
    np.testing.assert_array_equal(found, expected)


def test_prior_data_needs_complete_poses():
    poses = _poses(4)
    poses[:, 9, 2] = 0  # no left wrist anywhere
    with pytest.raises(ValueError, match="left_wrist"):
        make_prior_data(poses, PriorConfig(), source="prior split")


# ----------------------------------------------------------------------------- visibility


def _toy_step_inputs(n: int = 4):
    torch.manual_seed(0)
    student = PoseResNet(TINY)
    w, h = TINY.input_size
    hw, hh = TINY.heatmap_size
    source = SourceCrops(
        images=torch.randn(n, 3, h, w),
        points=torch.rand(n, 17, 2) * torch.tensor([hw - 1, hh - 1]),
        weights=torch.ones(n, 17),
        masks=torch.rand(n, 1, hh, hw),
    )
    target = TargetImages(images=torch.randn(n, 3, h, w))
    kp2seg = Kp2Seg((hw, hh), channels=8)
    masks = (torch.rand(n, 1, hh, hw) > 0.5).float()
    return student, source, target, Components(kp2seg=kp2seg, target_masks=masks)


def test_the_visibility_loss_alone_reaches_the_student():
    student, source, target, components = _toy_step_inputs()
    for p in components.kp2seg.parameters():
        p.requires_grad_(False)
    config = ShiftConfig(mode="visibility", batch_size=4, occlude_rate=0.0, precision=None)
    losses = adaptation_losses(student, EmaTeacher(student, 0.9), source, target, components,
                               config, torch.Generator().manual_seed(0))  # fmt: skip
    student.zero_grad()
    losses["seg"].backward()
    grads = [p.grad for p in student.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0
    assert float(student.final_layer.weight.grad.abs().sum()) > 0
    assert all(p.grad is None for p in components.kp2seg.parameters())


def test_the_prior_loss_alone_reaches_the_student():
    student, source, target, components = _toy_step_inputs()
    components.prior = PoseNDF(PriorConfig(hidden=16, layers=2))
    config = ShiftConfig(mode="prior", batch_size=4, occlude_rate=0.0, precision=None)
    losses = adaptation_losses(student, EmaTeacher(student, 0.9), source, target, components,
                               config, torch.Generator().manual_seed(0))  # fmt: skip
    student.zero_grad()
    losses["prior"].backward()
    assert float(student.final_layer.weight.grad.abs().sum()) > 0


def test_a_kp2seg_of_another_input_size_is_refused(tmp_path):
    path = save_kp2seg(tmp_path / "kp2seg.pt", Kp2Seg((24, 32), channels=4))
    assert load_kp2seg(path, (24, 32)).size == (24, 32)
    with pytest.raises(ValueError, match=r"kp2seg\.pt.*24×32.*32×48.*Delete"):
        load_kp2seg(path, (32, 48))


# ----------------------------------------------------------------------------- data


def _coco(root: Path, n: int, *, masks: bool):
    root.mkdir(parents=True, exist_ok=True)
    (root / "images" / "train").mkdir(parents=True)
    (root / "masks" / "train").mkdir(parents=True)
    images, annotations = [], []
    for i in range(1, n + 1):
        cv2.imwrite(
            str(root / "images" / "train" / f"im{i}.jpg"), np.full((80, 60, 3), 90, np.uint8)
        )
        mask = np.zeros((80, 60), np.uint8)
        mask[20:60, 20:40] = 255
        cv2.imwrite(str(root / "masks" / "train" / f"im{i}.png"), mask)
        extra = {"mask_file": f"masks/train/im{i}.png"} if masks else {}
        images.append(image_record(i, f"im{i}.jpg", 60, 80, is_synthetic=False, **extra))
        joints = np.column_stack([np.linspace(22, 38, 17), np.linspace(22, 58, 17), np.full(17, 2)])
        annotations.append(annotation_record(i, i, joints, image_size=(60, 80)))
    return make_coco(
        images, annotations, image_root=root / "images" / "train", source=str(root / "ann.json")
    )


def test_source_crops_carry_masks_on_the_heatmap_grid(tmp_path):
    crops = source_crops(_coco(tmp_path / "s", 3, masks=True), TINY)
    hw, hh = TINY.heatmap_size
    assert crops.masks.shape == (3, 1, hh, hw) and 0 < float(crops.masks.mean()) < 1
    assert crops.points.shape == (3, 17, 2) and crops.weights.all()


def test_a_source_set_without_masks_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"ann\.json.*mask_file.*DatasetWriter"):
        source_crops(_coco(tmp_path / "s", 2, masks=False), TINY)


def test_an_empty_target_split_is_refused(tmp_path):
    coco = _coco(tmp_path / "t", 2, masks=False)
    with pytest.raises(ValueError, match=r"ann\.json.*empty"):
        target_images(coco.subset([]), TINY)


def test_target_splits_are_disjoint(tmp_path):
    coco = _coco(tmp_path / "t", 10, masks=False)
    splits = target_splits(coco, prior_fraction=0.3, validation_fraction=0.2)
    ids = [set(s.image_ids) for s in splits.values()]
    assert sum(map(len, ids)) == 10 and not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert "image" not in TargetImages.__dataclass_fields__ or True


# ----------------------------------------------------------------------------- PCK


def test_pck_uses_the_frame_long_side_and_skips_unlabelled_joints():
    # A 200×100 frame: the released normaliser is 0.05 × 200 = 10 px.
    joints = np.zeros((17, 3))
    joints[:, :2] = [[50.0, 50.0]] * 17
    joints[:, 2] = 2
    joints[16] = [0.0, 0.0, 0]  # right ankle out of frame (COCO writes 0, 0, 0): not counted
    coco = make_coco(
        [image_record(1, "a.jpg", 200, 100)],
        [annotation_record(7, 1, joints, bbox=[0, 0, 200, 100])],
    )
    pred = joints.copy()
    pred[5, 0] += 9.9  # left shoulder: 9.9 px, correct
    pred[6, 0] += 10.0  # right shoulder: 10 px, not strictly below: wrong
    pred[13, :2] += 8.0  # left knee: √128 ≈ 11.3 px: wrong
    predictions = Predictions(image_ids=np.array([1]), keypoints=pred[None], scores=np.ones(1),
                              domains=np.zeros(1), annotation_ids=np.array([7]))  # fmt: skip
    result = pck_of(coco, predictions)
    assert result.groups["shoulder"] == 0.5
    assert result.groups["knee"] == 0.5
    assert np.isnan(result.joint("right_ankle"))
    assert result.groups["ankle"] != result.groups["ankle"]  # NaN: the group mean of 1 and NaN
    # all = the 12 limb joints that are counted: 11 here, 2 wrong
    limb = [result.joint(j) for j in ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
                                       "left_wrist", "right_wrist", "left_hip", "right_hip",
                                       "left_knee", "right_knee", "left_ankle")]  # fmt: skip
    assert sum(limb) == 9


def test_config_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="teacher_ema"):
        ShiftConfig().replace(teacher_emma=0.99)
    with pytest.raises(ConfigError, match="rotation"):
        ShiftConfig().replace(student={"rotaton": 30})
    assert ShiftConfig().replace(student={"rotation": 30}).student.rotation == 30
    with pytest.raises(ValueError, match="mode"):
        ShiftConfig(mode="baseline")


def test_tensor_samples_type_is_what_shift_pck_reads():
    assert TensorSamples({"image": torch.zeros(1)}).length == 1


def test_adapt_runs_end_to_end_keeps_frozen_blocks_and_evaluates_the_teacher():
    from infantpose.shift import adapt

    student, source, target, components = _toy_step_inputs()
    config = ShiftConfig(mode="visibility", batch_size=4, steps=3, evaluations=2, teacher_ema=0.5,
                         precision=None, channels_last=False, frozen=("conv1", "bn1", "layer1"))  # fmt: skip
    seen = []
    result = adapt(student, source, target, config, components=components,
                   evaluate=lambda m: seen.append(m) or {"ok": 1.0})  # fmt: skip
    assert [e["step"] for e in result.evaluations] == [2, 3] and seen[-1] is result.teacher
    assert torch.equal(result.student.layer1[0].conv1.weight, student.layer1[0].conv1.weight)
    assert torch.equal(result.student.bn1.running_mean, student.bn1.running_mean)
    assert not torch.equal(result.student.final_layer.weight, student.final_layer.weight)
    assert len(result.history) == 3 and {"sup", "cons", "seg"} <= set(result.history[0])
