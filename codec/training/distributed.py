"""Process-group set-up for ``torchrun`` (many GPUs or machines) and the single-process case (CPU, one GPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: ``rank`` of ``world_size`` processes, on ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Rank 0 logs, validates and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def pick_device(requested: str, local_rank: int = 0) -> torch.device:
    """``auto`` takes the process's GPU when CUDA is available, else the CPU."""
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError(f"device={requested!r} but CUDA is not available")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def init_distributed(requested_device: str = "auto") -> DistContext:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1), else a single-process context.

    NCCL on GPUs, gloo on the CPU (which is how the tests run two ranks on one machine).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(requested_device, local_rank)
    if world_size <= 1:
        return DistContext(device=device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank=dist.get_rank(), world_size=world_size, local_rank=local_rank, device=device)


def all_reduce_gradients(module: torch.nn.Module, context: DistContext) -> None:
    """Average ``module``'s gradients over ranks (for the discriminators, which DDP does not wrap because each
    step calls them several times before one backward)."""
    if not context.distributed:
        return
    for parameter in module.parameters():
        if parameter.grad is not None:
            dist.all_reduce(parameter.grad)
            parameter.grad.div_(context.world_size)


def broadcast_flag(value: bool, context: DistContext) -> bool:
    """Rank 0's value of a stop flag on every rank (so all ranks leave the loop at the same step)."""
    if not context.distributed:
        return value
    flag = torch.tensor([1.0 if value else 0.0], device=context.device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())


def shutdown(context: DistContext) -> None:
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()
