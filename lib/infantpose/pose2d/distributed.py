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
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistContext", "average_gradients", "broadcast_buffers", "from_env", "shard"]


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

    def broadcast_scores(self, values: Sequence[float], device: torch.device) -> list[float]:
        """Rank 0's ``values`` on every rank (the validation scores that select the epoch)."""
        if not self.active:
            return [float(v) for v in values]
        tensor = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
        dist.broadcast(tensor, 0)
        return tensor.tolist()


def from_env(device: torch.device, batch_size: int) -> DistContext:
    """The context of this process: single when ``WORLD_SIZE`` is unset or 1; under
    ``torchrun``, the process group is initialised once (gloo for CPU, NCCL for CUDA) and on
    CUDA this process takes GPU ``LOCAL_RANK``. ``batch_size`` (global) must divide evenly."""
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
        dist.init_process_group(backend)
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
