"""lift3d lifting: IPO recovers a known rigid placement, OIL improves a lift with a trained
prior, batched hypotheses, NaN masking, clear errors; the MLP baseline and augmentation run."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from infantpose.camera import project_with_intrinsics
from infantpose.lift3d import (
    GuidedAugmentConfig,
    LiftConfig,
    LifterConfig,
    PriorTrainConfig,
    ScoreConfig,
    augment_poses,
    evaluate_lift,
    initial_poses,
    lift,
    solve_translation,
    train_domain_model,
    train_lifter,
    train_prior,
)
from infantpose.lift3d.data import root_relative
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
    return project_with_intrinsics(poses_3d + roots[:, None], K), roots


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
    config = PriorTrainConfig(
        steps=400, batch_size=64, warmup=20, lr=2e-3, ema_rate=0.99, rotate=False
    )
    return train_prior(skeleton(200, seed=1), TINY, config, seed=0)


def untrained():
    return train_prior(skeleton(8), TINY, PriorTrainConfig(steps=1, batch_size=4), seed=0)


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
        adult, infant, TINY, PriorTrainConfig(steps=50, batch_size=32, warmup=5), seed=0
    )
    out = augment_poses(
        model, adult[:10], infant, GuidedAugmentConfig(steps=5, strength=0.05), seed=0
    )
    assert out.shape == (10, 17, 3) and np.isfinite(out).all()
    size = np.linalg.norm(out, axis=-1).mean()
    assert size < 0.7 * np.linalg.norm(adult, axis=-1).mean()
    options = GuidedAugmentConfig(steps=5, strength=0.05, rescale="per_bone", filter_quantile=0.5)
    kept = augment_poses(model, adult[:10], infant, options, seed=0)
    assert kept.ndim == 3 and len(kept) <= 10 and np.isfinite(kept).all()


def test_random_rotations_are_proper():
    R = random_rotations(16, torch.Generator().manual_seed(0)).double()
    eye = torch.eye(3, dtype=torch.float64).expand(16, 3, 3)
    torch.testing.assert_close(R @ R.transpose(1, 2), eye, atol=1e-6, rtol=0)
    torch.testing.assert_close(
        torch.linalg.det(R), torch.ones(16, dtype=torch.float64), atol=1e-6, rtol=0
    )


def pose_set(poses, seed=0, depth=2.0):
    from infantpose.lift3d import PoseSet3D

    keypoints, roots = views(poses, seed=seed, depth=depth)
    return PoseSet3D(
        poses, keypoints, np.broadcast_to(K, (len(poses), 3, 3)).copy(), "h36m17", roots
    )


def test_n_mpjpe_and_bone_ratio_tell_size_from_posture():
    from infantpose.lift3d import bone_ratio, mpjpe_mm, n_mpjpe_mm

    truth = skeleton(20, seed=21)
    big = 3.0 * truth  # the right posture at three times the size
    assert mpjpe_mm(big, truth, "h36m17") > 100
    assert n_mpjpe_mm(big, truth, "h36m17") == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(bone_ratio(big, truth, "h36m17"), 3.0)
    other = skeleton(20, seed=22)  # another posture at the right size: N-MPJPE sees it
    assert n_mpjpe_mm(other, truth, "h36m17") > 10
    scores = evaluate_lift(big, truth, layout="h36m17")
    assert scores["n_mpjpe"] < 1e-6 < scores["mpjpe"] and scores["bone_ratio"] == pytest.approx(3.0)


def test_random_views_are_new_projections_of_the_same_poses():
    from infantpose.lift3d import random_views

    truth = skeleton(64, seed=23)
    cameras = pose_set(skeleton(10, seed=24))
    rng = np.random.default_rng(0)
    keypoints, intrinsics, poses = random_views(truth, cameras, rng, rotate_share=0.5)

    def lengths(p):
        return np.sort(np.linalg.norm(p[:, 1:] - p[:, :1], axis=-1), axis=1)  # mirror swaps sides

    np.testing.assert_allclose(lengths(poses), lengths(truth), atol=1e-9)  # rigid (or mirrored)
    moved = ~np.isclose(poses, truth).all((1, 2))
    assert 0.3 < moved.mean() < 0.7  # about half rotated
    # The 2D is the projection of the returned pose at some root: solving the root recovers it.
    from infantpose.lift3d.lift import solve_translation as solve

    homogeneous = np.concatenate([keypoints, np.ones_like(keypoints[..., :1])], -1)
    rays = np.einsum("bij,bkj->bki", np.linalg.inv(intrinsics), homogeneous)
    T, ok = solve(
        torch.as_tensor(poses), torch.as_tensor(rays), torch.ones(64, 17, dtype=torch.float64)
    )
    assert ok.all()
    np.testing.assert_allclose(
        project_with_intrinsics(poses + T.numpy()[:, None], intrinsics), keypoints, atol=1e-6
    )
    assert (
        T.numpy()[:, 2] > 0.5 * 2.0 * 0.8
    ).all()  # depths from the cameras' roots (2 m) × U(0.8, 1.25)


def test_fit_lifter_fine_tunes_a_copy_and_learns_from_views():
    from infantpose.lift3d import fit_lifter

    train = pose_set(skeleton(300, seed=25, spread=0.1))
    config = LifterConfig(width=64, steps=300, lr=3e-3, dropout=0.0, batch_size=64)
    lifter = fit_lifter(train, config, seed=0)
    assert np.mean(lifter.history[-20:]) < 0.5 * np.mean(lifter.history[:20])
    test = pose_set(skeleton(50, seed=26, spread=0.1), seed=3, depth=2.5)
    pred = lifter.predict(test.keypoints_2d, test.intrinsics)
    mean_pose = np.broadcast_to(train.poses_3d.mean(0), test.poses_3d.shape)
    assert pa_mpjpe(pred, test.poses_3d) < pa_mpjpe(mean_pose, test.poses_3d)
    before = [p.clone() for p in lifter.network.parameters()]
    same = fit_lifter(train, replace(config, steps=0), start=lifter)
    np.testing.assert_allclose(same.predict(test.keypoints_2d, test.intrinsics), pred, atol=1e-6)
    tuned = fit_lifter(train, replace(config, steps=5), start=lifter)
    assert all(torch.equal(a, b) for a, b in zip(before, lifter.network.parameters(), strict=True))
    assert not np.allclose(tuned.predict(test.keypoints_2d, test.intrinsics), pred)


def test_low_noise_share_draws_small_times(monkeypatch):
    from infantpose.lift3d.sde import SubVPSDE

    seen = []
    original = SubVPSDE.perturb

    def spy(self, x0, t, noise):
        seen.append(t.detach().clone())
        return original(self, x0, t, noise)

    monkeypatch.setattr(SubVPSDE, "perturb", spy)
    config = PriorTrainConfig(steps=20, batch_size=200, warmup=1)
    train_prior(skeleton(30), TINY, config, seed=0)
    assert (torch.cat(seen) <= 0.1).float().mean() < 0.15
    seen.clear()
    train_prior(skeleton(30), TINY, replace(config, low_noise_share=0.5, low_noise_max=0.1), seed=0)
    share = (torch.cat(seen) <= 0.1).float().mean()
    assert 0.5 < share < 0.6  # half forced low, plus the ~5 % of the rest that land there
    assert torch.cat(seen).max() > 0.5  # the full range is kept for the rest


def test_per_bone_rescaling_keeps_posture_and_sets_each_bone():
    from infantpose.lift3d.augment import bone_lengths, rescale_bones

    poses = skeleton(8, seed=27)
    ratios = np.linspace(0.2, 0.6, 16)
    out = rescale_bones(poses, "h36m17", ratios)
    np.testing.assert_allclose(bone_lengths(out, "h36m17"), bone_lengths(poses, "h36m17") * ratios)
    bones = np.array([[0, 1], [1, 2], [8, 11]])

    def direction(p):
        v = p[:, bones[:, 1]] - p[:, bones[:, 0]]
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    np.testing.assert_allclose(direction(out), direction(poses), atol=1e-9)


def test_augmentation_filter_and_mixing_ratio():
    from infantpose.lift3d.augment import mix_augmented, nearest_distance_mm

    infant = skeleton(20, seed=28) * 0.4
    near = infant[:5] + 0.001
    far = skeleton(5, seed=29) * 1.5
    distance = nearest_distance_mm(np.concatenate([near, far]), infant, "h36m17")
    assert (distance[:5] < 2).all() and (distance[5:] > 50).all()
    self_distance = nearest_distance_mm(infant, infant, "h36m17", exclude_self=True)
    assert (self_distance > 0).all()
    mixed = mix_augmented(infant, np.concatenate([near, far] * 10), max_share=0.5, seed=0)
    assert len(mixed) == 40 and np.array_equal(mixed[:20], infant)
    assert len(mix_augmented(infant, near, max_share=1.0)) == 25
