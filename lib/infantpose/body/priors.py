"""Pose and shape priors for fitting a body to 2D keypoints (SMPLify-X's, on our own data).

All priors act on **T-pose-relative** axis-angles (B, 21, 3), the space of the pose library
(:mod:`infantpose.body.poses`), so one prior serves every backend.

* :class:`GaussianMixturePrior`: SMPLify's "max-mixture" of Gaussians,
  ``E(theta) = min_k [ 1/2 (theta - mu_k)^T Sigma_k^-1 (theta - mu_k) - log w_k
  + 1/2 (log|Sigma_k| - min_j log|Sigma_j|) ]``.
  SMPLify and the FiDIP code used an 8-component GMM fitted on adult CMU motion capture
  (``gmm_08.pkl``), which is not available to us; :func:`fit_pose_prior` fits the same
  mixture to poses drawn from our pose library instead (infant or adult). It is a prior on
  *our* library's postures, not on real infant motion: say so when you report fits.
* :func:`bending_energy`: SMPLify's elbow/knee term ``sum exp(-flexion)^2``, which grows fast
  when a hinge joint bends backwards.
* The shape prior is ``|z|^2`` on the backend's shape vector (``BodyModel.shape_from_vector``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .joints import POSE_JOINTS

__all__ = ["GaussianMixturePrior", "PriorStats", "bending_energy", "fit_pose_prior"]

# Hinge joints and the axis-angle component (with sign) that measures their flexion in the
# T-pose-relative space: knees flex about +x; the left elbow about -y, the right about +y.
_HINGES = (
    ("left_knee", 0, 1.0),
    ("right_knee", 0, 1.0),
    ("left_elbow", 1, -1.0),
    ("right_elbow", 1, 1.0),
)
_HINGE_INDEX = torch.tensor([POSE_JOINTS.index(j) for j, _, _ in _HINGES])
_HINGE_AXIS = torch.tensor([a for _, a, _ in _HINGES])
_HINGE_SIGN = torch.tensor([s for _, _, s in _HINGES])


def bending_energy(pose: torch.Tensor) -> torch.Tensor:
    """(B,) ``sum over knees and elbows of exp(-flexion)^2`` for (B, 21, 3) axis-angles.

    About 1 per joint when straight, tiny when flexed, large when bent backwards.
    """
    flexion = pose[:, _HINGE_INDEX, _HINGE_AXIS] * _HINGE_SIGN.to(pose)
    return torch.exp(-flexion).square().sum(-1)


@dataclass(frozen=True)
class PriorStats:
    """Energies of the library poses the prior was fitted on: what "typical" means."""

    median: float
    p99: float
    num_samples: int
    population: str


class GaussianMixturePrior(torch.nn.Module):
    """SMPLify's max-mixture GMM prior over flattened (B, 63) or (B, 21, 3) axis-angles."""

    def __init__(
        self,
        means: torch.Tensor,
        covariances: torch.Tensor,
        weights: torch.Tensor,
        stats: PriorStats | None = None,
    ) -> None:
        super().__init__()
        means = torch.as_tensor(means, dtype=torch.float64)
        covariances = torch.as_tensor(covariances, dtype=torch.float64)
        weights = torch.as_tensor(weights, dtype=torch.float64)
        k, d = means.shape
        if covariances.shape != (k, d, d) or weights.shape != (k,):
            raise ValueError(
                f"GMM with means {tuple(means.shape)} needs covariances ({k}, {d}, {d}) and "
                f"weights ({k},); got {tuple(covariances.shape)} and {tuple(weights.shape)}"
            )
        chol = torch.linalg.cholesky(covariances)
        precision_chol = torch.linalg.solve_triangular(
            chol, torch.eye(d, dtype=torch.float64).expand(k, d, d), upper=False
        )  # L^-1, so that (x - mu)^T Sigma^-1 (x - mu) = |L^-1 (x - mu)|^2
        log_det = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        constant = -torch.log(weights) + 0.5 * (log_det - log_det.min())
        self.register_buffer("means", means.float())
        self.register_buffer("precision_chol", precision_chol.float())
        self.register_buffer("constant", constant.float())
        self.register_buffer("weights", weights.float())
        self.stats = stats

    @property
    def num_components(self) -> int:
        return int(self.means.shape[0])

    def mean_pose(self) -> torch.Tensor:
        """(21, 3) the mean of the most probable component: where fitting starts."""
        return self.means[int(self.weights.argmax())].reshape(len(POSE_JOINTS), 3)

    def component_energies(self, pose: torch.Tensor) -> torch.Tensor:
        """(B, K) energy of each pose under each component."""
        x = pose.reshape(pose.shape[0], -1)
        diff = x[:, None, :] - self.means[None]  # (B, K, D)
        z = torch.einsum("kij,bkj->bki", self.precision_chol, diff)
        return 0.5 * z.square().sum(-1) + self.constant

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        """(B,) max-mixture energy (the best component's)."""
        return self.component_energies(pose).min(dim=1).values


_FITTED: dict[tuple, GaussianMixturePrior] = {}


def fit_pose_prior(
    population: str = "infant",
    num_samples: int = 6000,
    num_components: int = 8,
    seed: int = 0,
    reg_covar: float = 1e-3,
) -> GaussianMixturePrior:
    """An ``num_components``-Gaussian prior fitted (scikit-learn EM) on library poses.

    Deterministic under ``seed``; cached per process. Takes about a second.
    """
    key = (population, num_samples, num_components, seed, reg_covar)
    if key in _FITTED:
        return _FITTED[key]
    from sklearn.mixture import GaussianMixture

    from .poses import PoseSampler

    sample = PoseSampler(None, population=population, shapes=False).sample(num_samples, seed)
    x = sample.pose.body_pose.reshape(num_samples, -1).double().numpy()
    gmm = GaussianMixture(
        n_components=num_components,
        covariance_type="full",
        reg_covar=reg_covar,
        random_state=seed,
        max_iter=200,
    ).fit(x)
    prior = GaussianMixturePrior(
        torch.as_tensor(gmm.means_),
        torch.as_tensor(gmm.covariances_),
        torch.as_tensor(gmm.weights_),
    )
    with torch.no_grad():
        energy = prior(torch.as_tensor(x, dtype=torch.float32)).numpy()
    prior.stats = PriorStats(
        median=float(np.median(energy)),
        p99=float(np.quantile(energy, 0.99)),
        num_samples=num_samples,
        population=population,
    )
    _FITTED[key] = prior
    return prior
