"""Diverse subset selection: farthest-point sampling and the features it runs on."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose.data.selection import (
    appearance_features,
    farthest_point_sampling,
    min_pairwise_distance,
    pose_features,
    select_diverse,
)

SQUARE_CORNERS = [(0, 0), (10, 0), (0, 10), (10, 10)]


def square_with_interior(seed=0):
    rng = np.random.default_rng(seed)
    interior = rng.uniform(2, 8, size=(30, 2))
    return np.vstack([interior[:15], SQUARE_CORNERS, interior[15:]]), [15, 16, 17, 18]


def test_fps_picks_the_corners_of_a_square_first():
    points, corners = square_with_interior()
    chosen = farthest_point_sampling(points, 4)
    assert sorted(chosen.tolist()) == corners
    assert chosen.dtype == np.int64


def test_fps_greedy_order_on_a_line():
    line = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    # Start: 10 (farthest from the mean 3.2); then 0 (farthest from 10); distances to the
    # nearest chosen point are then 1, 2, 3 → 3; then 1 and 2 both have 1 → the lower index.
    assert farthest_point_sampling(line, 5).tolist() == [4, 0, 3, 1, 2]
    assert farthest_point_sampling(line, 2, first=2).tolist() == [2, 4]


def test_fps_never_repeats_even_with_duplicate_rows():
    points = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 3)
    chosen = farthest_point_sampling(points, 8)
    assert sorted(chosen.tolist()) == list(range(8))


def test_fps_errors_and_edge_cases():
    points = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"k=4.*N=3"):
        farthest_point_sampling(points, 4)
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        farthest_point_sampling(np.zeros(3), 1)
    with pytest.raises(ValueError, match="NaN"):
        farthest_point_sampling(np.array([[np.nan, 0.0]]), 1)
    with pytest.raises(IndexError, match="first=7"):
        farthest_point_sampling(points, 1, first=7)
    assert farthest_point_sampling(points, 0).tolist() == []


def test_fps_is_deterministic_and_seed_only_matters_for_a_random_start():
    x = np.random.default_rng(1).normal(size=(50, 5))
    a = farthest_point_sampling(x, 10)
    assert a.tolist() == farthest_point_sampling(x.copy(), 10, seed=123).tolist()
    r1 = farthest_point_sampling(x, 10, seed=3, first="random")
    assert r1.tolist() == farthest_point_sampling(x, 10, seed=3, first="random").tolist()


def test_diverse_subset_beats_random_on_clustered_data():
    rng = np.random.default_rng(0)
    centers = rng.uniform(-20, 20, size=(6, 3))
    # 6 clusters of very different sizes: random subsets over-sample the big ones.
    sizes = [200, 100, 20, 10, 5, 5]
    x = np.vstack(
        [c + rng.normal(scale=0.3, size=(n, 3)) for c, n in zip(centers, sizes, strict=True)]
    )
    chosen = select_diverse(x, 6)
    assert len(set(chosen.tolist())) == 6
    fps_gap = min_pairwise_distance(x, chosen)
    random_gaps = [
        min_pairwise_distance(x, rng.choice(len(x), 6, replace=False)) for _ in range(50)
    ]
    assert fps_gap > max(random_gaps)
    # One pick per cluster.
    labels = np.repeat(np.arange(6), sizes)
    assert sorted(labels[chosen].tolist()) == list(range(6))


def test_select_diverse_standardises_columns():
    x = np.random.default_rng(2).normal(size=(40, 3))
    stretched = x * [1.0, 1000.0, 0.001]  # units should not decide what is diverse
    assert select_diverse(stretched, 6).tolist() == select_diverse(x, 6).tolist()
    assert farthest_point_sampling(stretched, 6).tolist() != select_diverse(x, 6).tolist()
    constant = np.hstack([x, np.full((40, 1), 7.0)])
    assert select_diverse(constant, 6).tolist() == select_diverse(x, 6).tolist()


def _pose(scale=1.0, shift=(0.0, 0.0)):
    xy = np.array(
        [
            (0, -60), (5, -65), (-5, -65), (10, -62), (-10, -62),
            (20, -40), (-20, -40), (30, -10), (-30, -10), (35, 15), (-35, 15),
            (12, 0), (-12, 0), (14, 40), (-14, 40), (15, 80), (-15, 80),
        ],
        dtype=np.float64,
    )  # fmt: skip
    pose = np.zeros((17, 3))
    pose[:, :2] = xy * scale + np.asarray(shift)
    pose[:, 2] = 2
    return pose


def test_pose_features_ignore_position_and_scale():
    a = pose_features(_pose()[None])
    b = pose_features(_pose(scale=3.0, shift=(200, 100))[None])
    assert a.shape == (1, 51)
    assert np.allclose(a, b)
    # Torso length 40 → the left shoulder at (20, -40) becomes (0.5, -1.0).
    assert np.allclose(a[0, 10:12], [0.5, -1.0])
    assert np.allclose(a[0, 34:], 1.0)


def test_pose_features_handle_missing_joints():
    pose = _pose()
    pose[[11, 12, 15], :] = 0  # both hips and the left ankle unlabelled
    f = pose_features(pose[None])[0]
    assert np.isfinite(f).all()
    assert f[30:32].tolist() == [0.0, 0.0]  # left ankle xy
    assert f[34 + 15] == 0.0 and f[34 + 0] == 1.0
    assert np.allclose(pose_features(np.zeros((2, 17, 3))), 0.0)
    with pytest.raises(ValueError, match=r"\(N, 17, 3\)"):
        pose_features(np.zeros((2, 16, 3)))


def test_appearance_features_separate_scenes():
    red = np.zeros((20, 30, 3), np.uint8)
    red[..., 0] = 200
    blue = np.zeros((20, 30, 3), np.uint8)
    blue[..., 2] = 200
    feats = appearance_features([red, red.copy(), blue])
    assert feats.shape == (3, 3 * 8 + 64)
    assert np.allclose(feats[:, :8].sum(axis=1), 1.0)
    assert np.allclose(feats[0], feats[1])
    assert not np.allclose(feats[0], feats[2])
    assert sorted(select_diverse(feats, 2).tolist()) in ([0, 2], [1, 2])
