"""Sinkhorn-Knopp normalisation of a (samples x prototypes) matrix, shared by SwaV and MSN."""

from __future__ import annotations

import torch
from torch import Tensor

from selfsup.loss._checks import check_int
from selfsup.loss._gather import all_reduce_sum
from selfsup.utils import dist

__all__ = ["sinkhorn_knopp"]


@torch.no_grad()
def sinkhorn_knopp(scores: Tensor, iterations: int = 3, gather_distributed: bool = False) -> Tensor:
    """Equal-partition soft assignment of samples to prototypes.

    The distributed Sinkhorn-Knopp of SwaV (Caron et al., 2020, "Unsupervised Learning of
    Visual Features by Contrasting Cluster Assignments", Sec. 3.1 and Algorithm 1) and MSN:
    ``Q = scores^T`` is divided by its total, then ``iterations`` times its rows (prototypes)
    are scaled to sum ``1 / K`` and its columns (samples) to ``1 / N``; finally the columns are
    scaled to sum to 1. With ``gather_distributed`` the sums run over the samples of all ranks,
    so every rank gets its rows of the single-process result on the concatenated batch.

    Args:
        scores: Non-negative scores, shape ``(B, K)`` (e.g. ``exp(logits / epsilon)`` or
            probabilities). Not modified.
        iterations: Number of row/column normalisation rounds (>= 0).
        gather_distributed: Normalise over the samples of all ranks.

    Returns:
        Codes of shape ``(B, K)``, same dtype and device as ``scores``, without gradient; each
        row sums to 1 when ``iterations >= 1``.

    Raises:
        ValueError: ``scores`` is not 2-D or ``iterations < 0``.
    """
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (B, K), got {tuple(scores.shape)}")
    check_int("iterations", iterations, low=0)
    distributed = gather_distributed and dist.world_size() > 1
    q = scores.detach().t().clone()  # (K, B)
    num_prototypes = q.shape[0]
    num_samples = q.shape[1] * (dist.world_size() if distributed else 1)
    q /= all_reduce_sum(q.sum(), distributed)
    for _ in range(iterations):
        q /= all_reduce_sum(q.sum(dim=1, keepdim=True), distributed)
        q /= num_prototypes
        q /= q.sum(dim=0, keepdim=True)
        q /= num_samples
    q *= num_samples
    return q.t()
