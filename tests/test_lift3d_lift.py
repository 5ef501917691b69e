"""lift3d lifting: IPO recovers a known rigid placement, OIL improves a lift with a trained
prior, batched hypotheses, NaN masking, clear errors; the MLP baseline and augmentation run."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from infantpose.lift3d import (
    AugmentConfig,
    LiftConfig,
    LifterConfig,
    ScoreConfig,
    TrainConfig,
    augment_poses,
    evaluate_lift,
    initial_poses,
    lift,
    solve_translation,
    train_domain_model,
    train_lifter,
    train_prior,
)
from infantpose.lift3d.data import project, root_relative
from infantpose.lift3d.train import random_rotations
from infantpose.metrics import pa_mpjpe

K = np.array([[500.0, 0.0, 192.0], [0.0, 500.0, 144.0], [0.0, 0.0, 1.0]])
TINY = ScoreConfig(width=64, blocks=1, embed_dim=32, dropout=0.0, groups=8)


def skeleton(count, seed=0, spread=0.03):
    """Root-relative H36M-17-shaped poses: a fixed template with small per-joint noise."""
    rng = np.random.default_rng(seed)
    template = np.random.default_rng(99).normal(0, 0.15, (17, 3))
    template[0] = 0
    out = template + rng.normal(0, spread, (count, 17, 3))
    return root_relative(out, "h36m17")[0]


def views(poses_3d, seed=0, depth=2.0):
    """Keypoints of the poses placed ``depth`` metres in front of K (OpenCV frame)."""
    rng = np.random.default_rng(seed)
    roots = np.column_stack(
        [rng.uniform(-0.2, 0.2, (len(poses_3d), 2)), np.full(len(poses_3d), depth)]
    )
    return project(poses_3d + roots[:, None], K), roots


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks run faster on one thread, and much faster on a shared, busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def prior(one_thread):
    """A tiny prior of the template's poses, in a fixed orientation (no rotation augmentation)."""
    config = TrainConfig(steps=400, batch_size=64, warmup=20, lr=2e-3, ema_rate=0.99, rotate=False)
    return train_prior(skeleton(200, seed=1), TINY, config, seed=0)


def untrained():
    return train_prior(skeleton(8), TINY, TrainConfig(steps=1, batch_size=4), seed=0)


def test_ipo_recovers_rotation_and_depth():
    truth = skeleton(1, seed=5)[0]
    angle = math.radians(25)
    Rz = np.array(
        [[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]]
    )
    placed = truth @ Rz.T
    keypoints, roots = views(placed[None], depth=2.5)
    config = LiftConfig(ipo_steps=400, oil_steps=0, ipo_scale_range=(0.5, 8.0))
    result = lift(untrained(), keypoints, K, config, init_poses=truth[None])
    np.testing.assert_allclose(result.poses[0, 0], placed, atol=5e-3)
    np.testing.assert_allclose(result.translation[0, 0], roots[0], atol=0.02)
    assert result.reprojection_px[0, 0] < 0.5


def test_solve_translation_is_exact_for_consistent_rays():
    X = torch.as_tensor(skeleton(3, seed=2), dtype=torch.float64)
    T = torch.tensor([[0.1, -0.2, 2.0], [0.0, 0.1, 3.0], [-0.3, 0.0, 1.5]], dtype=torch.float64)
    rays = (X + T[:, None]) / (X + T[:, None])[..., 2:3]
    solved, ok = solve_translation(X, rays, torch.ones(3, 17, dtype=torch.float64))
    assert ok.all()
    torch.testing.assert_close(solved, T)


def test_oil_reduces_error_of_ipo_alone(prior):
    truth = skeleton(40, seed=7)
    keypoints, _ = views(truth)
    start = initial_poses(prior.pose_sample, 1)
    base = LiftConfig.fast(ipo_depth=2.0, oil_steps=0)
    rigid = lift(prior, keypoints, K, base, init_poses=start)
    full = lift(prior, keypoints, K, replace(base, oil_steps=60), init_poses=start)
    error_rigid = evaluate_lift(rigid, truth)["pa_mpjpe"]
    error_full = evaluate_lift(full, truth)["pa_mpjpe"]
    assert error_full < 0.8 * error_rigid
    assert full.network_evaluations == 60


def test_hypotheses_are_batched_and_reported(prior):
    truth = skeleton(10, seed=8)
    keypoints, _ = views(truth)
    config = LiftConfig.fast(ipo_depth=2.0, oil_steps=20, ipo_steps=20, hypotheses=3)
    result = lift(prior, keypoints, K, config, trajectory_every=10)
    assert result.poses.shape == (10, 3, 17, 3)
    scores = evaluate_lift(result, truth)
    assert scores["min_mpjpe"] <= scores["mean_mpjpe"] + 1e-9
    assert {"mean_pose_mpjpe", "selected_mpjpe"} <= set(scores)
    assert len(result.trajectory) == 3 and result.trajectory[0].shape == (10, 3, 17, 3)
    assert result.network_evaluations == 60


def test_missing_joints_are_masked_not_fatal(prior):
    truth = skeleton(4, seed=9)
    keypoints, _ = views(truth)
    keypoints[0, 3] = np.nan  # one missing joint
    keypoints[1, :, :] = np.nan  # nothing visible
    keypoints[2, 0] = np.nan  # the root itself
    confidence = np.ones((4, 17, 1))
    confidence[3, 5] = 0.0  # confidence 0 also means missing
    config = LiftConfig.fast(ipo_depth=2.0, ipo_steps=10, oil_steps=10)
    result = lift(prior, np.concatenate([keypoints, confidence], -1), K, config)
    assert result.valid.tolist() == [True, False, True, True]
    assert np.isfinite(result.poses[[0, 2, 3]]).all()
    assert np.isnan(result.poses[1]).all()
    scores = evaluate_lift(result, truth)
    assert scores["invalid"] == 1 and scores["count"] == 3


def test_clear_errors(prior):
    truth = skeleton(2)
    keypoints, _ = views(truth)
    with pytest.raises(ValueError, match=r"h36m17.*17 joints.*12 joints"):
        lift(prior, keypoints[:, :12], K)
    with pytest.raises(ValueError, match="layout 'syrip12'"):
        lift(prior, keypoints, K, layout="syrip12")
    for bad in (0.0, -500.0, np.nan):
        broken = K.copy()
        broken[0, 0] = bad
        with pytest.raises(ValueError, match="degenerate"):
            lift(prior, keypoints, broken)
    with pytest.raises(ValueError, match=r"\(3, 3\) or \(2, 3, 3\)"):
        lift(prior, keypoints, np.stack([K] * 3))


def test_mlp_lifter_learns_the_template():
    truth = skeleton(500, seed=11, spread=0.1)
    keypoints, _ = views(truth, seed=1)
    config = LifterConfig(width=128, steps=500, lr=3e-3, dropout=0.0)
    lifter = train_lifter(keypoints, K, truth, "h36m17", config, seed=0)
    assert np.mean(lifter.history[-20:]) < 0.5 * np.mean(lifter.history[:20])
    test = skeleton(100, seed=12, spread=0.1)
    test_2d, _ = views(test, seed=2)
    pred = lifter.predict(test_2d, K)
    mean_pose = np.broadcast_to(truth.mean(0), test.shape)
    assert pa_mpjpe(pred, test) < pa_mpjpe(mean_pose, test)


def test_guided_augmentation_makes_infant_sized_poses():
    adult = skeleton(60, seed=13)
    infant = skeleton(20, seed=14) * 0.4
    model = train_domain_model(
        adult, infant, TINY, TrainConfig(steps=50, batch_size=32, warmup=5), seed=0
    )
    out = augment_poses(model, adult[:10], infant, AugmentConfig(steps=5, strength=0.05), seed=0)
    assert out.shape == (10, 17, 3) and np.isfinite(out).all()
    size = np.linalg.norm(out, axis=-1).mean()
    assert size < 0.7 * np.linalg.norm(adult, axis=-1).mean()


def test_random_rotations_are_proper():
    R = random_rotations(16, torch.Generator().manual_seed(0)).double()
    eye = torch.eye(3, dtype=torch.float64).expand(16, 3, 3)
    torch.testing.assert_close(R @ R.transpose(1, 2), eye, atol=1e-6, rtol=0)
    torch.testing.assert_close(
        torch.linalg.det(R), torch.ones(16, dtype=torch.float64), atol=1e-6, rtol=0
    )
