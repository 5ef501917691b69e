"""Fitting a body to 2D keypoints: priors, recovery of known poses, acceptance, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infantpose.body import POSE_JOINTS, PoseSampler
from infantpose.body.fit import FitConfig, FitInputError, fit_body, project
from infantpose.body.priors import GaussianMixturePrior, bending_energy, fit_pose_prior
from infantpose.keypoints import COCO17

W, H, F = 384, 288, 400.0
K = np.array([[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]])
FAST = FitConfig(camera_iterations=15, stage_iterations=15)


@pytest.fixture(scope="module")
def prior():
    return fit_pose_prior("infant", num_samples=3000)


def _views(anny_body, count: int, seed: int):
    """Keypoints of sampled infant poses seen from random directions, and the 3D truth."""
    import roma

    sample = PoseSampler(anny_body).sample(count, seed=seed)
    with torch.no_grad():
        _, points = anny_body.skeleton(sample.pose)
    rng = np.random.default_rng(seed)
    angles = np.stack(
        [
            rng.uniform(0, math.pi / 3, count),
            rng.uniform(-math.pi, math.pi, count),
            np.zeros(count),
        ],
        1,
    )
    view = roma.rotvec_to_rotmat(torch.tensor(angles[:, [0, 2, 2]], dtype=torch.float32)) @ (
        roma.rotvec_to_rotmat(torch.tensor(angles[:, [2, 1, 2]], dtype=torch.float32))
    )
    rotated = points @ view.transpose(1, 2)
    extent = (rotated.amax(1) - rotated.amin(1))[:, :2].max(-1).values
    transl = torch.zeros(count, 3)
    transl[:, 2] = F * extent / (0.6 * H)
    pixels = project(rotated, transl, torch.full((count, 2), F), torch.tensor([[W / 2, H / 2]]))
    keypoints = np.concatenate([pixels.numpy(), np.full((count, 17, 1), 2.0)], -1)
    return keypoints, points


def test_gmm_energy_is_the_max_mixture_formula():
    rng = np.random.default_rng(0)
    d, k = 4, 3
    means = rng.normal(size=(k, d))
    a = rng.normal(size=(k, d, d))
    cov = a @ a.transpose(0, 2, 1) + np.eye(d)
    weights = np.array([0.5, 0.3, 0.2])
    prior = GaussianMixturePrior(torch.tensor(means), torch.tensor(cov), torch.tensor(weights))
    x = rng.normal(size=(5, d))
    logdet = np.linalg.slogdet(cov)[1]
    expected = np.min(
        [
            0.5 * np.einsum("bi,ij,bj->b", x - means[j], np.linalg.inv(cov[j]), x - means[j])
            - np.log(weights[j])
            + 0.5 * (logdet[j] - logdet.min())
            for j in range(k)
        ],
        axis=0,
    )
    np.testing.assert_allclose(
        prior(torch.tensor(x, dtype=torch.float32)).numpy(), expected, rtol=1e-4
    )


def test_library_prior_prefers_library_poses(prior):
    sample = PoseSampler(None).sample(200, seed=99)  # T-pose-relative, the prior's space
    library = prior(sample.pose.body_pose)
    noise = torch.randn(200, 21, 3, generator=torch.Generator().manual_seed(0)) * 0.6
    assert float(library.median()) < prior.stats.p99 < float(prior(noise).median())
    assert prior.stats.population == "infant" and prior.stats.num_samples == 3000


def test_bending_energy_punishes_hyperextension_only():
    pose = torch.zeros(3, 21, 3)
    knee = POSE_JOINTS.index("left_knee")
    elbow = POSE_JOINTS.index("right_elbow")
    pose[1, knee, 0] = 1.0  # flexed knee
    pose[2, knee, 0] = -1.0  # knee bent backwards
    energy = bending_energy(pose)
    assert energy[1] < energy[0] < energy[2]
    flexed = torch.zeros(1, 21, 3)
    flexed[0, elbow, 1] = 1.0  # the right elbow flexes about +y
    assert bending_energy(flexed) < bending_energy(torch.zeros(1, 21, 3))


def test_fit_recovers_keypoints_of_known_poses(anny_body, prior):
    keypoints, truth = _views(anny_body, 6, seed=5)
    result = fit_body(anny_body, keypoints, (W, H), intrinsics=K, config=FAST, prior=prior)
    assert len(result) == 6
    assert float(np.median(result.median_error)) < 6.0
    assert result.accepted.sum() >= 4
    # The fitted body, posed through the backend, reprojects where the result says.
    with torch.no_grad():
        _, points = anny_body.skeleton(result.pose)
    again = project(points, result.translation, result.focal, result.center).numpy()
    np.testing.assert_allclose(again, result.keypoints_2d, atol=0.05)
    # ... and its 3D shape is close to the truth up to a similarity (the depth is ambiguous).
    from infantpose.metrics import pa_mpjpe

    assert pa_mpjpe(points.numpy(), truth.numpy()) < 0.05
    summary = result.summary()
    assert summary["images"] == 6 and summary["accepted"] == int(result.accepted.sum())


def test_missing_keypoints_and_too_few_are_handled(anny_body, prior):
    keypoints, _ = _views(anny_body, 3, seed=8)
    keypoints[0, COCO17.joints.index("left_wrist")] = (np.nan, np.nan, 0)  # missing: fine
    keypoints[1, 5:] = 0.0  # only the face is left
    keypoints[1, :5, 2] = 2.0
    result = fit_body(anny_body, keypoints, (W, H), intrinsics=K, config=FAST, prior=prior)
    assert not result.accepted[1] and result.reasons[1].startswith("too few keypoints")
    assert np.isnan(result.mean_error[1]) and np.isfinite(result.mean_error[0])
    assert result.reasons[0] == "" or not result.reasons[0].startswith("too few")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda k: k.__setitem__((1, 3, 0), np.nan), "image 1, left_ear: labelled"),
        (lambda k: k.__setitem__((0, 9, 1), np.inf), "image 0, left_wrist"),
        (lambda k: k.__setitem__((0, 2, 2), 3), "visibility v = 3"),
        (lambda k: k.__setitem__((1, slice(None), slice(0, 2)), 5.0), "zero-area box"),
    ],
)
def test_bad_keypoints_name_the_image_and_joint(anny_body, prior, edit, message):
    keypoints = np.tile(np.array([[100.0, 100.0, 2.0]]), (2, 17, 1))
    keypoints[..., 0] += np.arange(17) * 3
    keypoints[..., 1] += np.arange(17) ** 1.5
    edit(keypoints)
    with pytest.raises(FitInputError, match=message):
        fit_body(anny_body, keypoints, (W, H), config=FAST, prior=prior)


def test_wrong_shapes_are_errors(anny_body, prior):
    with pytest.raises(FitInputError, match=r"\(B, 17, 3\)"):
        fit_body(anny_body, np.zeros((2, 16, 3)), (W, H), prior=prior)
    with pytest.raises(FitInputError, match="image_size"):
        fit_body(anny_body, np.zeros((2, 17, 3)), (W, H, 3), prior=prior)


# --- the config: no silent typo --------------------------------------------------------------


def test_fit_config_rejects_unknown_names_and_bad_values():
    from infantpose.config import ConfigError

    config = FitConfig()
    assert FitConfig.from_dict(config.to_dict()) == config
    assert config.replace(stage_iterations=5).stage_iterations == 5
    with pytest.raises(
        ConfigError, match=r"`stage_iteration` \(did you mean `stage_iterations`\?\)"
    ):
        config.replace(stage_iteration=5)
    with pytest.raises(ConfigError, match=r"saved.json: unknown field\(s\) `gmof_roh`"):
        FitConfig.from_dict({**config.to_dict(), "gmof_roh": 10.0}, "saved.json")
    with pytest.raises(ValueError, match=r"population='toddler'; use one of infant, adult"):
        FitConfig(population="toddler")
    with pytest.raises(ValueError, match="one value each per body stage"):
        FitConfig(shape_weights=(1.0,))
    with pytest.raises(ValueError, match=r"gmof_rho=nan"):
        FitConfig(gmof_rho=float("nan"))
    with pytest.raises(ValueError, match=r"stage_iterations=0"):
        FitConfig(stage_iterations=0)
