"""Pose-ResNet building blocks: transforms, heatmaps, loss, gradient reversal, model, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infantpose.keypoints import COCO17
from infantpose.pose2d import (
    CheckpointMismatchError,
    DomainClassifier,
    GradientReversal,
    PoseResNet,
    PoseResNetConfig,
    build_pose_resnet,
    decode_heatmaps,
    domain_loss,
    final_predictions,
    flip_back,
    flip_test_average,
    gaussian_targets,
    grad_reverse,
    joints_mse,
    load_published,
)
from infantpose.pose2d.transforms import (
    AugmentConfig,
    affine_points,
    box_to_center_scale,
    clip_box,
    crop_image,
    get_affine_transform,
    sample_augmentation,
    transform_preds,
)

PAIRS = COCO17.flip_pairs


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: on a shared 2-core machine, two threads spin against other
    processes and run these tiny models several times slower."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


# ----------------------------------------------------------------------------- transforms


def test_box_to_center_scale_pads_to_aspect_and_125():
    center, scale = box_to_center_scale([10, 20, 100, 50], aspect_ratio=0.75)
    np.testing.assert_allclose(center, [60, 45])
    # w > 0.75·h → h = w / 0.75; then ×1.25 and /200
    np.testing.assert_allclose(scale, np.array([100, 100 / 0.75]) / 200 * 1.25, rtol=1e-6)


@pytest.mark.parametrize("rotation", [0.0, 30.0, -75.0])
def test_affine_then_inverse_is_identity(rotation):
    center, scale = np.array([150.0, 90.0]), np.array([0.8, 1.1])
    forward = get_affine_transform(center, scale, rotation, (48, 64))
    inverse = get_affine_transform(center, scale, rotation, (48, 64), inv=True)
    points = np.random.default_rng(0).uniform(0, 200, (17, 2))
    np.testing.assert_allclose(
        affine_points(affine_points(points, forward), inverse), points, atol=1e-9
    )
    # the box centre lands in the middle of the crop
    np.testing.assert_allclose(affine_points(center, forward), [24, 32], atol=1e-9)


def test_transform_preds_maps_heatmap_to_image():
    center, scale = np.array([100.0, 80.0]), np.array([0.6, 0.8])
    to_heatmap = get_affine_transform(center, scale, 0.0, (12, 16))
    points = np.array([[90.0, 70.0], [120.0, 100.0]])
    back = transform_preds(affine_points(points, to_heatmap), center, scale, (12, 16))
    np.testing.assert_allclose(back, points, atol=1e-9)


def test_crop_numpy_fallback_matches_cv2():
    from infantpose.pose2d import transforms

    image = np.random.default_rng(2).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    matrix = get_affine_transform([25, 20], [0.2, 0.25], 20.0, (32, 32))
    with_cv2 = crop_image(image, matrix, (32, 32)).astype(int)
    saved, transforms.cv2 = transforms.cv2, None
    try:
        fallback = crop_image(image, matrix, (32, 32)).astype(int)
    finally:
        transforms.cv2 = saved
    assert np.abs(with_cv2 - fallback)[2:-2, 2:-2].max() <= 2  # cv2 rounds its weights to 1/32


def test_crop_antialiasing_removes_moire_of_a_shrunk_crop():
    stripes = np.zeros((400, 400, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: any k-fold shrink should give flat grey
    matrix = get_affine_transform([200, 200], [1.0, 1.0], 0.0, (32, 32))  # 200 px → 32: 6.25×
    smooth = crop_image(stripes, matrix, (32, 32)).astype(float)[4:-4, 4:-4]
    aliased = crop_image(stripes, matrix, (32, 32), antialias=False).astype(float)[4:-4, 4:-4]
    assert aliased.std() > 30  # bilinear samples land on single stripes: moiré
    # two halvings average every stripe pair; the 1.56× left to the warp adds nothing
    assert abs(smooth.mean() - 127.5) < 3 and smooth.std() < min(3, aliased.std() / 10)


def test_crop_antialiasing_keeps_points_where_the_affine_puts_them():
    ys, xs = np.mgrid[0:480, 0:640]
    center = np.array([371.3, 208.6])
    blob = 255 * np.exp(-((xs - center[0]) ** 2 + (ys - center[1]) ** 2) / (2 * 10.0**2))
    image = np.repeat(blob[..., None], 3, axis=2).astype(np.float32)
    matrix = get_affine_transform([350, 220], [1.6, 2.1], 30.0, (96, 128))  # shrinks ≈ 3.3×
    expected = affine_points(center, matrix)
    for antialias in (True, False):
        crop = crop_image(image, matrix, (96, 128), antialias=antialias)[..., 0].astype(np.float64)
        cy, cx = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]]
        found = np.array([(crop * cx).sum(), (crop * cy).sum()]) / crop.sum()
        np.testing.assert_allclose(found, expected, atol=0.1)


def test_clip_box_and_augmentation_ranges():
    assert clip_box([-10, -10, 30, 30], 100, 100) == [0.0, 0.0, 19.0, 19.0]
    assert clip_box([200, 0, 10, 10], 100, 100) is None
    rng = np.random.default_rng(0)
    draws = [sample_augmentation(rng, AugmentConfig()) for _ in range(500)]
    assert all(0.7 <= d.scale <= 1.3 and -80 <= d.rotation <= 80 for d in draws)
    assert 0.3 < np.mean([d.rotation == 0 for d in draws]) < 0.5  # rotated with p = 0.6
    assert 0.4 < np.mean([d.flip for d in draws]) < 0.6


# ----------------------------------------------------------------------------- heatmaps


@pytest.mark.parametrize("unbiased", [False, True])
def test_heatmap_encode_decode_round_trip(unbiased):
    rng = np.random.default_rng(3)
    joints = np.concatenate([rng.uniform(8, 56, (17, 2)), np.full((17, 1), 2.0)], 1)
    target, weight = gaussian_targets(joints, (16, 16), stride=4, sigma=2, unbiased=unbiased)
    assert target.shape == (17, 16, 16) and weight.tolist() == [1.0] * 17
    coords, maxvals = decode_heatmaps(target[None], "dark" if unbiased else "quarter")
    error = np.abs(coords[0] * 4 - joints[:, :2])
    # quantised target: ≤ half a heatmap pixel + quarter offset; DARK: sub-pixel
    assert error.max() <= (0.35 if unbiased else 0.75) * 4
    assert np.all(maxvals > 0.5)


def test_quantised_target_matches_reference_window():
    target, _ = gaussian_targets(np.array([[21.0, 10.0, 2]]), (16, 16), stride=4, sigma=1)
    # int(21/4 + 0.5) = 5, int(10/4 + .5) = 3; window ±3 px, peak 1
    assert target[0, 3, 5] == pytest.approx(1.0)
    assert target[0, 3, 8] > 0 and target[0, 3, 9] == 0


def test_target_weights_from_visibility_and_outside():
    joints = np.array([[10.0, 10.0, 0], [10.0, 10.0, 1], [500.0, 500.0, 2]])
    target, weight = gaussian_targets(joints, (16, 16), stride=4, sigma=2)
    assert weight.tolist() == [0.0, 1.0, 0.0]
    assert target[0].max() == 0 and target[2].max() == 0


def test_decode_zeroes_non_positive_maps():
    coords, maxvals = decode_heatmaps(-np.ones((1, 2, 8, 8)))
    assert np.all(coords == 0) and np.all(maxvals <= 0)


def test_flip_back_twice_and_flip_test_shift():
    hm = torch.rand(2, 17, 8, 6)
    torch.testing.assert_close(flip_back(flip_back(hm, PAIRS), PAIRS), hm)
    # a symmetric net's flipped heatmap, flipped back and shifted, equals the original moved 1 px
    one = torch.zeros(1, 17, 8, 8)
    one[0, 0, 4, 3] = 1
    flipped = flip_back(one, PAIRS)  # what the net would output on the mirrored image
    averaged = flip_test_average(one, flipped, PAIRS, shift=True)
    assert averaged[0, 0, 4, 4] == 0.5 and averaged[0, 0, 4, 3] == 0.5
    assert flip_test_average(one, flipped, PAIRS, shift=False)[0, 0, 4, 3] == 1.0


def test_final_predictions_back_in_image_pixels():
    joints = np.array([[100.0, 60.0, 2]] + [[90.0, 80.0, 2]] * 16)
    center, scale = np.array([96.0, 72.0]), np.array([0.48, 0.64])
    to_crop = get_affine_transform(center, scale, 0.0, (64, 64))
    crop_joints = joints.copy()
    crop_joints[:, :2] = affine_points(joints[:, :2], to_crop)
    target, _ = gaussian_targets(crop_joints, (16, 16), stride=4, sigma=2, unbiased=True)
    preds, _ = final_predictions(target[None], center[None], scale[None], post="dark")
    assert np.abs(preds[0] - joints[:, :2]).max() < 0.35 * 4 * 96 / 64


# ----------------------------------------------------------------------------- loss, domain


def test_joints_mse_matches_reference_formula():
    pred, gt = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    w = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    reference = torch.stack(
        [
            0.5 * ((pred[:, j] * w[:, j, None, None] - gt[:, j] * w[:, j, None, None]) ** 2).mean()
            for j in range(3)
        ]
    ).mean()
    torch.testing.assert_close(joints_mse(pred, gt, w[..., None]), reference)


def test_gradient_reversal_against_autograd():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    y = grad_reverse(x, 0.3)
    torch.testing.assert_close(y, x)
    (y * torch.arange(12.0, dtype=torch.float64).reshape(3, 4)).sum().backward()
    torch.testing.assert_close(x.grad, -0.3 * torch.arange(12.0, dtype=torch.float64).reshape(3, 4))
    # through a real downstream loss: the gradient is −λ × autograd's gradient without the layer
    torch.manual_seed(0)
    classifier = DomainClassifier(4, (8, 4)).double()
    features = torch.randn(6, 4, 2, 2, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0.0, 1.0] * 3, dtype=torch.float64)
    (plain,) = torch.autograd.grad(domain_loss(classifier(features), labels), features)
    (reversed_,) = torch.autograd.grad(
        domain_loss(classifier(grad_reverse(features, 5e-4)), labels), features
    )
    torch.testing.assert_close(reversed_, -5e-4 * plain)
    assert "lambd=0.5" in repr(GradientReversal(0.5))


def test_domain_classifier_any_input_size_and_bce_convention():
    torch.manual_seed(0)
    classifier = DomainClassifier(64, (32, 16))
    for h, w in ((4, 3), (12, 9)):
        assert classifier(torch.randn(5, 64, h, w)).shape == (5,)
    logits = torch.tensor([10.0, -10.0])
    assert domain_loss(logits, torch.tensor([1.0, 0.0])) < 1e-3  # synthetic = 1
    paper = DomainClassifier(8, (4, 4), pool="flatten", in_features=8 * 3 * 2)
    assert paper(torch.randn(2, 8, 3, 2)).shape == (2,)
    with pytest.raises(ValueError, match="pool='avg'"):
        paper(torch.randn(2, 8, 4, 3))


# ----------------------------------------------------------------------------- model


@pytest.mark.parametrize("depth,channels", [(18, 512), (50, 2048), (101, 2048)])
def test_pose_resnet_shapes(depth, channels):
    model = build_pose_resnet(depth=depth, input_size=(64, 96), deconv_channels=(32, 32, 32))
    model.eval()
    with torch.no_grad():
        heatmaps, features = model(torch.randn(1, 3, 96, 64), return_features=True)
    assert heatmaps.shape == (1, 17, 24, 16) == (1, 17, *model.config.heatmap_size[::-1])
    assert features.shape == (1, channels, 3, 2)


def test_head_init_as_reference():
    model = build_pose_resnet(depth=18, input_size=(64, 64))
    assert model.final_layer.weight.std().item() == pytest.approx(0.001, rel=0.2)
    assert model.final_layer.bias.abs().max() == 0
    assert model.deconv_layers[1].weight.eq(1).all() and model.deconv_layers[1].bias.eq(0).all()
    with pytest.raises(ValueError, match="multiples of 32"):
        PoseResNetConfig(input_size=(100, 64))


# ----------------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return build_pose_resnet(
        depth=18, input_size=(64, 64), deconv_channels=(16, 16, 16), num_joints=17
    )


def test_load_microsoft_layout_is_bgr(small_model):
    state = {
        "module." + k: v for k, v in small_model.state_dict().items() if "num_batches" not in k
    }
    model = load_published({"state_dict": state}, input_size=(64, 64))
    assert model.config.channel_order == "BGR" and model.config.depth == 18
    assert model.config.deconv_channels == (16, 16, 16)
    torch.testing.assert_close(model.final_layer.weight, small_model.final_layer.weight)


def test_load_mmpose_layout_is_rgb(small_model):
    state = {}
    for k, v in small_model.state_dict().items():
        head = k.startswith(("deconv_layers", "final_layer"))
        state[("keypoint_head." if head else "backbone.") + k] = v
    model = load_published(state, input_size=(64, 64))
    assert model.config.channel_order == "RGB"
    torch.testing.assert_close(model.conv1.weight, small_model.conv1.weight)


def test_checkpoint_mismatch_lists_problems(small_model):
    state = dict(small_model.state_dict())
    state.pop("layer1.0.conv1.weight")
    state["extra.weight"] = torch.zeros(1)
    state["final_layer.bias"] = torch.zeros(5)
    config = PoseResNetConfig(depth=18, input_size=(64, 64), deconv_channels=(16, 16, 16))
    with pytest.raises(CheckpointMismatchError) as error:
        load_published(state, config=config)
    message = str(error.value)
    assert "layer1.0.conv1.weight" in message and "extra.weight" in message
    assert "final_layer.bias: checkpoint (5,) vs model (17,)" in message
    with pytest.raises(CheckpointMismatchError, match="unknown checkpoint layout"):
        load_published({"foo": torch.zeros(1)})
    assert isinstance(small_model, PoseResNet)
