"""Concatenation of a batch over all ranks, shared by the losses with ``gather_distributed``."""

from __future__ import annotations

import torch
from torch import Tensor

from selfsup.utils import dist

__all__ = ["all_reduce_sum", "gather_batch"]


def gather_batch(x: Tensor, enabled: bool) -> tuple[Tensor, int]:
    """Concatenates ``x`` over all ranks, keeping autograd (see :mod:`selfsup.utils.dist`).

    Args:
        x: Local batch, shape ``(B, ...)``; the same shape on every rank.
        enabled: The loss's ``gather_distributed`` flag.

    Returns:
        ``(x_all, offset)``: the global batch ``(B * world_size, ...)`` (rank 0 first) and the
        row of this rank's first sample in it; ``(x, 0)`` when disabled or not distributed.
    """
    if not enabled or dist.world_size() == 1:
        return x, 0
    return torch.cat(dist.gather(x), dim=0), dist.rank_offset(x.shape[0])


@torch.no_grad()
def all_reduce_sum(x: Tensor, enabled: bool) -> Tensor:
    """Sum of ``x`` over all ranks, without gradients.

    Args:
        x: Local tensor of any shape; the same shape on every rank.
        enabled: Whether to reduce across ranks at all.

    Returns:
        Tensor with the shape of ``x``; ``x`` itself when disabled or not distributed.
    """
    if not enabled or dist.world_size() == 1:
        return x
    return dist.concat_all_gather(x.unsqueeze(0)).sum(dim=0)
