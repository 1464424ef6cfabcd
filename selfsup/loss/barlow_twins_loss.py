"""Barlow Twins: redundancy reduction through the cross-correlation matrix."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import (
    check_embeddings,
    check_gather_available,
    check_number,
    check_same_shape,
)
from selfsup.loss._gather import gather_batch

__all__ = ["BarlowTwinsLoss"]

_BATCH_NORM_EPS = 1e-5  # nn.BatchNorm1d's default, used by the authors' code


class BarlowTwinsLoss(nn.Module):
    """Barlow Twins loss (Zbontar et al., 2021, "Barlow Twins: Self-Supervised Learning via
    Redundancy Reduction", Eq. 1-2).

    Each view is standardised over the batch (mean 0, biased variance 1, eps 1e-5, as the
    authors' ``BatchNorm1d(affine=False)``); with ``C = z_a^T z_b / N`` the cross-correlation
    ``(D, D)``, the loss is ``sum_i (1 - C_ii)^2 + lambda_param * sum_{i != j} C_ij^2``.
    When ``N < D`` the off-diagonal sum is computed exactly from the two ``(N, N)`` Gram
    matrices (``||A^T B||_F^2 = <A A^T, B B^T>``), avoiding the ``(D, D)`` matrix.

    Args:
        lambda_param: Weight of the redundancy reduction term; must be >= 0. Default 5e-3
            (paper, Sec. 4 "Implementation details").
        gather_distributed: Standardise and correlate over the global batch of all ranks.
            Every rank then computes the same loss, equal to one process on the
            concatenated batch.

    Raises:
        ValueError: ``lambda_param < 0``.
    """

    def __init__(self, lambda_param: float = 5e-3, gather_distributed: bool = False) -> None:
        super().__init__()
        self.lambda_param = check_number("lambda_param", lambda_param, low=0.0)
        self.gather_distributed = check_gather_available(gather_distributed)

    def forward(self, z_a: Tensor, z_b: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            z_a: Projections of the first views, shape ``(B, D)``.
            z_b: Projections of the second views, shape ``(B, D)``.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: The inputs are not 2-D, their shapes differ, or the (global) batch has
                fewer than 2 samples (batch statistics need >= 2).
        """
        check_embeddings("z_a", z_a)
        check_embeddings("z_b", z_b)
        check_same_shape("z_a", z_a, "z_b", z_b)
        z_a, _ = gather_batch(z_a, self.gather_distributed)
        z_b, _ = gather_batch(z_b, self.gather_distributed)
        num, dim = z_a.shape
        if num < 2:
            raise ValueError(
                f"BarlowTwinsLoss needs a (global) batch of >= 2 samples for its batch "
                f"statistics, got z_a of shape {tuple(z_a.shape)}"
            )
        a = F.batch_norm(z_a, None, None, training=True, eps=_BATCH_NORM_EPS)
        b = F.batch_norm(z_b, None, None, training=True, eps=_BATCH_NORM_EPS)
        diagonal = (a * b).sum(dim=0) / num  # C_ii, (D,)
        if num < dim:
            squared_norm = ((a @ a.t()) * (b @ b.t())).sum() / num**2  # ||C||_F^2
        else:
            squared_norm = ((a.t() @ b) / num).pow(2).sum()
        on_diagonal = (diagonal - 1).pow(2).sum()
        off_diagonal = squared_norm - diagonal.pow(2).sum()
        return on_diagonal + self.lambda_param * off_diagonal

    def extra_repr(self) -> str:
        return f"lambda_param={self.lambda_param}, gather_distributed={self.gather_distributed}"
