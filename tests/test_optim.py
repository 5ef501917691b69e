"""Batched L-BFGS: each problem gets its own steps, so batching changes nothing but speed."""

from __future__ import annotations

import pytest
import torch

from infantpose.optim import batched_lbfgs


def _rosenbrock(xy: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    x, y = xy[:, 0], xy[:, 1]
    return (a - x).square() + 100.0 * (y - x.square()).square()


def test_each_problem_reaches_its_own_minimum():
    a = torch.tensor([1.0, -0.5, 2.0, 0.3], dtype=torch.float64)
    xy = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
    report = batched_lbfgs([xy], lambda: _rosenbrock(xy, a), max_iterations=200)
    torch.testing.assert_close(xy.detach(), torch.stack([a, a.square()], 1), atol=1e-5, rtol=0)
    assert bool(report.converged.all()) and report.loss.max() < 1e-10


def test_batched_iterates_equal_separate_runs():
    # Problems of very different difficulty: batched, the easy ones are not held back and the
    # results are those of running each alone.
    a = torch.tensor([1.0, 3.0, -2.0], dtype=torch.float64)
    start = torch.tensor([[0.0, 0.0], [-1.0, 2.0], [0.5, 0.5]], dtype=torch.float64)
    xy = start.clone().requires_grad_(True)
    batched_lbfgs([xy], lambda: _rosenbrock(xy, a), max_iterations=15)
    for i in range(3):
        one = start[i : i + 1].clone().requires_grad_(True)
        batched_lbfgs([one], lambda i=i, one=one: _rosenbrock(one, a[i : i + 1]), max_iterations=15)
        torch.testing.assert_close(xy.detach()[i], one.detach()[0], atol=1e-9, rtol=0)


def test_several_parameter_tensors_and_shapes():
    target = torch.randn(5, 3, 2, generator=torch.Generator().manual_seed(0))
    a = torch.zeros(5, 3, 2, requires_grad=True)
    b = torch.zeros(5, 1, requires_grad=True)
    report = batched_lbfgs(
        [a, b],
        lambda: (a - target).square().sum((1, 2)) + (b[:, 0] - 2.0).square(),
        max_iterations=20,
    )
    torch.testing.assert_close(a.detach(), target, atol=1e-5, rtol=0)
    torch.testing.assert_close(b.detach(), torch.full((5, 1), 2.0), atol=1e-5, rtol=0)
    assert report.evaluations >= report.iterations


def test_bad_loss_shape_and_mismatched_batches_are_errors():
    x = torch.zeros(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match=r"expected \(3,\)"):
        batched_lbfgs([x], lambda: x.square().sum())
    with pytest.raises(ValueError, match="first"):
        batched_lbfgs([x, torch.zeros(2, requires_grad=True)], lambda: x.square().sum(1))
