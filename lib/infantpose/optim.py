"""Batched L-BFGS: many independent small problems solved at once, each with its own steps.

Fitting a body to each of B images is B separate problems. ``torch.optim.LBFGS`` on the sum
of their losses treats them as one: one step length and one curvature model shared by all,
so an image that converges slowly holds back the step of every other. :func:`batched_lbfgs`
runs the L-BFGS two-loop recursion and an Armijo backtracking line search **per problem**,
vectorised over the batch: the same iterates as B separate runs, at the cost of one batched
forward/backward per trial step.

Every parameter tensor has the problems along its first axis; ``loss_fn()`` returns the
(B,) losses of the current values (it must not mix problems).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = ["LbfgsReport", "batched_lbfgs"]


@dataclass
class LbfgsReport:
    """What happened: iterations run, loss evaluations, and each problem's final loss."""

    iterations: int
    evaluations: int
    loss: torch.Tensor  # (B,)
    converged: torch.Tensor  # (B,) bool


def batched_lbfgs(
    params: Sequence[torch.Tensor],
    loss_fn: Callable[[], torch.Tensor],
    max_iterations: int = 50,
    history: int = 10,
    tolerance_change: float = 1e-9,
    tolerance_grad: float = 1e-9,
    max_backtracks: int = 12,
    armijo: float = 1e-4,
) -> LbfgsReport:
    """Minimise each problem's loss over ``params`` (leaf tensors, first axis = problem).

    The parameters are updated in place. A problem stops when its loss changes by less than
    ``tolerance_change`` (relative) or its gradient's largest entry is below ``tolerance_grad``.
    """
    params = list(params)
    batch = params[0].shape[0]
    if any(p.shape[0] != batch for p in params):
        raise ValueError("batched_lbfgs: every parameter needs the same first (batch) dimension")
    sizes = [p[0].numel() for p in params]

    def flat() -> torch.Tensor:
        return torch.cat([p.detach().reshape(batch, -1) for p in params], dim=1)

    def assign(x: torch.Tensor) -> None:
        with torch.no_grad():
            for p, chunk in zip(params, torch.split(x, sizes, dim=1), strict=True):
                p.copy_(chunk.reshape(p.shape))

    def evaluate(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assign(x)
        for p in params:
            p.grad = None
        with torch.enable_grad():
            losses = loss_fn()
            if losses.shape != (batch,):
                raise ValueError(
                    f"batched_lbfgs: loss_fn returned shape {tuple(losses.shape)}, expected ({batch},)"
                )
            losses.sum().backward()
        grad = torch.cat(
            [
                (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(batch, -1)
                for p in params
            ],
            dim=1,
        )
        return losses.detach(), grad

    x = flat()
    loss, grad = evaluate(x)
    evaluations = 1
    dim = x.shape[1]
    s_hist = x.new_zeros(history, batch, dim)
    y_hist = x.new_zeros(history, batch, dim)
    rho = x.new_zeros(history, batch)  # 0 marks an empty or skipped pair
    done = grad.abs().amax(1) <= tolerance_grad
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported below
        if bool(done.all()):
            break
        # Two-loop recursion, newest pair first; empty pairs have rho = 0 and do nothing.
        q = grad.clone()
        alphas = []
        for i in range(history - 1, -1, -1):
            alpha = rho[i] * (s_hist[i] * q).sum(1)
            q = q - alpha[:, None] * y_hist[i]
            alphas.append(alpha)
        newest = history - 1
        yy = (y_hist[newest] * y_hist[newest]).sum(1)
        sy = (s_hist[newest] * y_hist[newest]).sum(1)
        has_pair = rho[newest] > 0
        gamma = torch.where(has_pair, sy / yy.clamp_min(1e-30), torch.ones_like(sy))
        r = q * gamma[:, None]
        for i, alpha in zip(range(history), reversed(alphas), strict=True):
            beta = rho[i] * (y_hist[i] * r).sum(1)
            r = r + (alpha - beta)[:, None] * s_hist[i]
        direction = -r
        slope = (direction * grad).sum(1)
        # Not a descent direction (curvature went bad): fall back to steepest descent.
        bad = slope >= 0
        if bool(bad.any()):
            direction[bad] = -grad[bad]
            slope = (direction * grad).sum(1)
            rho[:, bad] = 0.0
        # First step without curvature: scale like torch's LBFGS, min(1, 1/|g|_1).
        step = torch.where(
            has_pair & ~bad,
            torch.ones_like(slope),
            (1.0 / grad.abs().sum(1).clamp_min(1e-12)).clamp(max=1.0),
        )
        step = torch.where(done, torch.zeros_like(step), step)

        # Armijo backtracking, per problem, all trials evaluated as one batch.
        pending = ~done
        new_x, new_loss, new_grad = x.clone(), loss.clone(), grad.clone()
        for _ in range(max_backtracks):
            trial = x + step[:, None] * direction
            trial_loss, trial_grad = evaluate(trial)
            evaluations += 1
            ok = pending & torch.isfinite(trial_loss) & (trial_loss <= loss + armijo * step * slope)
            new_x[ok], new_loss[ok], new_grad[ok] = trial[ok], trial_loss[ok], trial_grad[ok]
            pending = pending & ~ok
            if not bool(pending.any()):
                break
            step = torch.where(pending, step * 0.5, step)
        stalled = pending  # no acceptable step: stop this problem where it is
        s = new_x - x
        y = new_grad - grad
        sy = (s * y).sum(1)
        keep = (sy > 1e-10) & ~stalled & ~done
        s_hist = torch.roll(s_hist, -1, dims=0)
        y_hist = torch.roll(y_hist, -1, dims=0)
        rho = torch.roll(rho, -1, dims=0)
        s_hist[-1] = torch.where(keep[:, None], s, torch.zeros_like(s))
        y_hist[-1] = torch.where(keep[:, None], y, torch.zeros_like(y))
        rho[-1] = torch.where(keep, 1.0 / sy.clamp_min(1e-30), torch.zeros_like(sy))
        change = (loss - new_loss).abs() <= tolerance_change * (loss.abs() + 1.0)
        x, loss, grad = new_x, new_loss, new_grad
        done = done | stalled | (change & ~pending) | (grad.abs().amax(1) <= tolerance_grad)
    assign(x)
    return LbfgsReport(iterations=iterations, evaluations=evaluations, loss=loss, converged=done)
