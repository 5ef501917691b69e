"""Data-parallel training under ``torchrun``: PyTorch DDP, gloo on CPU, NCCL on GPU.

:func:`~infantpose.pose2d.train.fit` calls :func:`from_env` and does the rest itself: when
``torchrun`` started it (``WORLD_SIZE`` > 1), the pose network is wrapped in
:class:`~torch.nn.parallel.DistributedDataParallel`, every *global* batch of the epoch — the
same batches a single process would draw, shuffled by (seed, epoch) — is cut into one equal
part per process (:func:`shard`, a distributed sampler over our deterministic batches), the
domain classifier's gradients are averaged by :func:`average_gradients` (it is called twice per
step, once with frozen weights, which DDP's hooks do not allow), and only rank 0 evaluates,
writes checkpoints and logs. So ``batch_size`` is the global batch: a run on N processes sees
the same samples, augmentations and gradients (up to BatchNorm, which normalises each process's
part on its own) as one process.

Launch (one machine, N GPUs or N CPU processes)::

    torchrun --standalone --nproc_per_node=N -m infantpose.pose2d adult --profile paper

Timeouts are explicit. The process group waits :data:`DEFAULT_TIMEOUT_S` in a collective
(NCCL's own default, 10 minutes, is shorter than an evaluation or a checkpoint of a large run
can take). Work that only rank 0 does before training (rendering the adult sets: hours at
paper size) runs in :meth:`DistContext.main_first`, whose wait has a timeout sized to that work
in a CPU (gloo) group of its own; an error on rank 0 reaches every rank at once instead of
leaving them in a barrier. A run resumes on fewer (or more) processes than it started with:
the global batches, optimiser and checkpoints do not depend on the number of processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import torch
import torch.distributed as dist

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DistContext",
    "average_gradients",
    "broadcast_buffers",
    "from_env",
    "shard",
]

#: How long a collective of the process group may wait for the slowest rank (seconds).
DEFAULT_TIMEOUT_S = 1800.0

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """This process's place in the run: ``rank`` of ``world_size`` (1: not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 evaluates, writes checkpoints and metrics, and logs."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def main_first(self, make: Callable[[], T], *, timeout_s: float, what: str) -> T:
        """``make()`` on rank 0 while the other ranks wait, up to ``timeout_s`` seconds, then
        on the other ranks (``make`` is a load-or-make: there it loads what rank 0 made). The
        wait is a broadcast in a gloo group with that timeout, so NCCL's shorter one does not
        apply; if ``make`` fails on rank 0, every rank raises at once."""
        if not self.active:
            return make()
        group = dist.new_group(backend="gloo", timeout=timedelta(seconds=timeout_s))
        failed = torch.zeros(1)
        result, error = None, None
        try:
            if self.is_main:
                try:
                    result = make()
                except Exception as caught:  # tell the waiting ranks before raising it
                    error = caught
                    failed.fill_(1.0)
            try:
                dist.broadcast(failed, 0, group=group)
            except RuntimeError as caught:
                waited = (
                    "the other ranks stopped waiting for rank 0"
                    if self.is_main
                    else f"rank {self.rank} waited for rank 0"
                )
                raise RuntimeError(
                    f"{waited} to make {what}: more than the {timeout_s:.0f} s allowed "
                    f"({str(caught).splitlines()[0]}); raise the timeout (timeout_s) or make "
                    "it before launching the processes"
                ) from None
        finally:
            dist.destroy_process_group(group)
        if error is not None:
            raise error
        if float(failed):
            raise RuntimeError(f"rank 0 failed to make {what}; its error is in its output")
        return result if self.is_main else make()

    def broadcast_scores(self, values: Sequence[float], device: torch.device) -> list[float]:
        """Rank 0's ``values`` on every rank (the validation scores that select the epoch)."""
        if not self.active:
            return [float(v) for v in values]
        tensor = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
        dist.broadcast(tensor, 0)
        return tensor.tolist()


def from_env(
    device: torch.device, batch_size: int, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> DistContext:
    """The context of this process: single when ``WORLD_SIZE`` is unset or 1; under
    ``torchrun``, the process group is initialised once (gloo for CPU, NCCL for CUDA), with
    collectives that wait up to ``timeout_s`` seconds, and on CUDA this process takes GPU
    ``LOCAL_RANK``. ``batch_size`` (global) must divide evenly."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if batch_size % world:
        raise ValueError(
            f"batch_size={batch_size} is the global batch and must be a multiple of the "
            f"{world} processes torchrun started; change batch_size or --nproc_per_node"
        )
    if batch_size // world < 2:
        raise ValueError(
            f"batch_size={batch_size} over {world} processes leaves fewer than 2 images per "
            "process, and BatchNorm cannot train on one; raise batch_size"
        )
    backend = "nccl" if device.type == "cuda" else "gloo"
    available = dist.is_available() and (
        dist.is_nccl_available() if backend == "nccl" else dist.is_gloo_available()
    )
    if not available:
        raise RuntimeError(
            f"torchrun started {world} processes but this PyTorch build has no {backend} "
            f"backend for device {device}; install a build with it, or run one process"
        )
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise RuntimeError(
                f"LOCAL_RANK {local} but this machine has {torch.cuda.device_count()} GPU(s): "
                "set --nproc_per_node to at most the number of GPUs"
            )
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return DistContext(rank=rank, world_size=world, local_rank=local)


def shard(batch: Sequence[int], context: DistContext) -> list[int]:
    """This rank's equal, contiguous part of a global batch. A batch that does not divide (the
    last of an epoch) loses its remainder, so every rank takes the same number of samples."""
    if not context.active:
        return list(batch)
    per = len(batch) // context.world_size
    return list(batch[context.rank * per : (context.rank + 1) * per])


def average_gradients(module: torch.nn.Module, context: DistContext) -> None:
    """Average the ``.grad`` of ``module``'s trainable parameters over the ranks."""
    if not context.active:
        return
    for p in module.parameters():
        if p.requires_grad and p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(context.world_size)


def broadcast_buffers(module: torch.nn.Module, context: DistContext) -> None:
    """Rank 0's BatchNorm statistics on every rank (each rank updated its own on its part of
    the batch), so that evaluation and the selected weights are the same everywhere."""
    if not context.active:
        return
    for buffer in module.buffers():
        dist.broadcast(buffer, 0)
