"""Helpers for multi-process (``torch.distributed``) training.

Every helper degrades to the single-process answer when no process group is initialised, and
then never calls into ``torch.distributed``: ``world_size() == 1``, ``rank() == 0``,
``gather(x) == (x,)``.

Gradient convention of :func:`gather`. Each rank ``r`` holds a local batch ``x_r`` and
computes a loss ``L_r`` on its local anchors against the gathered batch
``X = cat(x_0, ..., x_{W-1})``. DDP then averages parameter gradients over the ``W`` ranks.
For this to equal one process on the concatenated batch with loss ``L = mean_r L_r``, rank
``r`` must receive ``d(sum_s L_s) / d x_r``, i.e. its slice of the gradients that *all* ranks
sent back into ``X``. :class:`GatherLayer` therefore all-reduces (sums) the incoming gradients
and returns this rank's slice (lightly-ai/lightly#1528 and #1977 were bugs exactly here).
"""

from __future__ import annotations

import torch
import torch.distributed as torch_dist
from torch import Tensor

__all__ = [
    "GatherLayer",
    "concat_all_gather",
    "eye_rank",
    "gather",
    "is_distributed",
    "rank",
    "rank_offset",
    "world_size",
]


def is_distributed() -> bool:
    """Whether a ``torch.distributed`` process group is available and initialised."""
    return torch_dist.is_available() and torch_dist.is_initialized()


def world_size() -> int:
    """Number of processes in the default group; 1 when not distributed."""
    return torch_dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """Rank of this process in the default group; 0 when not distributed."""
    return torch_dist.get_rank() if is_distributed() else 0


def rank_offset(n: int) -> int:
    """Row offset of this rank's samples in a gathered batch of ``n`` samples per rank.

    Args:
        n: Local batch size (the same on every rank).

    Returns:
        ``n * rank()``.
    """
    return n * rank()


class GatherLayer(torch.autograd.Function):
    """``all_gather`` that keeps autograd.

    Forward returns one tensor per rank (each with the local shape). Backward sums the
    gradients arriving at every rank's copy of the gathered tensors (all-reduce, SUM) and
    returns the slice that belongs to this rank; see the module docstring for why this makes
    DDP's gradient averaging equal to one process on the concatenated batch.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> tuple[Tensor, ...]:
        """Gathers ``x`` (same shape on every rank) from all ranks.

        Args:
            ctx: Autograd context.
            x: Local tensor, shape ``(B, ...)``.

        Returns:
            ``world_size()`` tensors of shape ``(B, ...)``, ordered by rank.
        """
        x = x.contiguous()
        outputs = [torch.empty_like(x) for _ in range(torch_dist.get_world_size())]
        torch_dist.all_gather(outputs, x)
        return tuple(outputs)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, *grads: Tensor) -> Tensor:
        """Sums the gradients of all ranks and returns this rank's slice, shape ``(B, ...)``."""
        stacked = torch.stack([g.contiguous() for g in grads])
        torch_dist.all_reduce(stacked, op=torch_dist.ReduceOp.SUM)
        return stacked[torch_dist.get_rank()]


def gather(x: Tensor) -> tuple[Tensor, ...]:
    """Gathers ``x`` from all ranks, differentiably.

    Args:
        x: Local tensor, shape ``(B, ...)``; the same shape on every rank.

    Returns:
        One tensor per rank, each ``(B, ...)``, ordered by rank; ``(x,)`` when not distributed.
    """
    if not is_distributed():
        return (x,)
    return GatherLayer.apply(x)


@torch.no_grad()
def concat_all_gather(x: Tensor) -> Tensor:
    """Gathers ``x`` from all ranks and concatenates along dim 0, without gradients.

    Args:
        x: Local tensor, shape ``(B, ...)``; the same shape on every rank.

    Returns:
        Detached tensor of shape ``(B * world_size(), ...)``, rank 0's rows first;
        ``x.detach()`` when not distributed.
    """
    if not is_distributed():
        return x.detach()
    x = x.contiguous()
    outputs = [torch.empty_like(x) for _ in range(torch_dist.get_world_size())]
    torch_dist.all_gather(outputs, x)
    return torch.cat(outputs, dim=0)


def eye_rank(n: int, device: torch.device | str | None = None) -> Tensor:
    """Identity block of this rank inside a ``(n, n * world_size())`` boolean matrix.

    Row ``i`` is True only at column ``rank_offset(n) + i``: it marks, for each local sample,
    its own position in a gathered batch (e.g. the positives in a contrastive loss). Equals
    ``torch.eye(n, dtype=torch.bool)`` when not distributed.

    Args:
        n: Local batch size.
        device: Device of the result.

    Returns:
        Boolean tensor of shape ``(n, n * world_size())``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rows = torch.arange(n, device=device)
    mask = torch.zeros((n, n * world_size()), dtype=torch.bool, device=device)
    mask[rows, rows + rank_offset(n)] = True
    return mask
