"""VICReg: variance-invariance-covariance regularisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import (
    check_embeddings,
    check_gather_available,
    check_number,
    check_same_shape,
)
from selfsup.loss._gather import gather_batch

__all__ = ["VICRegLoss"]


def _variance_and_covariance(z: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """Variance hinge ``mean_j relu(1 - sqrt(Var(z_j) + eps))`` and covariance term
    ``sum_{i != j} Cov(z)_ij^2 / D`` of one branch ``z`` of shape ``(N, D)``, N >= 2."""
    num, dim = z.shape
    centered = z - z.mean(dim=0)
    variance = centered.pow(2).sum(dim=0) / (num - 1)  # unbiased, = diag(Cov), (D,)
    variance_term = F.relu(1.0 - torch.sqrt(variance + eps)).mean()
    if num < dim:  # ||X^T X||_F = ||X X^T||_F: use the (N, N) Gram matrix
        gram = centered @ centered.t()
    else:
        gram = centered.t() @ centered
    squared_norm = gram.pow(2).sum() / (num - 1) ** 2  # ||Cov||_F^2
    covariance_term = (squared_norm - variance.pow(2).sum()) / dim
    return variance_term, covariance_term


class VICRegLoss(nn.Module):
    """VICReg loss (Bardes et al., 2022, "VICReg: Variance-Invariance-Covariance
    Regularization for Self-Supervised Learning", Eq. 1-6).

    ``lambda_param * s(z_a, z_b) + mu_param * (v(z_a) + v(z_b)) / 2 +
    nu_param * (c(z_a) + c(z_b))`` with ``s`` the mean squared error, ``v`` the mean hinge
    ``relu(1 - sqrt(Var + eps))`` on the per-dimension unbiased standard deviation and ``c``
    the sum of squared off-diagonal covariances divided by ``D``, as in the authors' code.

    Args:
        lambda_param: Weight of the invariance term. Default 25 (paper, Sec. 4.1).
        mu_param: Weight of the variance term. Default 25 (paper, Sec. 4.1).
        nu_param: Weight of the covariance term. Default 1 (paper, Sec. 4.1).
        gather_distributed: Compute the variance and covariance terms over the global batch
            of all ranks (the invariance term is per sample and stays local). The mean of the
            per-rank losses then equals one process on the concatenated batch.
        eps: Added to the variance before the square root. Default 1e-4 (paper, Eq. 1).

    Raises:
        ValueError: A weight is negative or ``eps <= 0``.
    """

    def __init__(
        self,
        lambda_param: float = 25.0,
        mu_param: float = 25.0,
        nu_param: float = 1.0,
        gather_distributed: bool = False,
        eps: float = 1e-4,
    ) -> None:
        super().__init__()
        self.lambda_param = check_number("lambda_param", lambda_param, low=0.0)
        self.mu_param = check_number("mu_param", mu_param, low=0.0)
        self.nu_param = check_number("nu_param", nu_param, low=0.0)
        self.gather_distributed = check_gather_available(gather_distributed)
        self.eps = check_number("eps", eps, low=0.0, low_open=True)

    def forward(self, z_a: Tensor, z_b: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            z_a: Embeddings of the first views, shape ``(B, D)``.
            z_b: Embeddings of the second views, shape ``(B, D)``.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: The inputs are not 2-D, their shapes differ, or the (global) batch has
                fewer than 2 samples (the variance needs >= 2).
        """
        check_embeddings("z_a", z_a)
        check_embeddings("z_b", z_b)
        check_same_shape("z_a", z_a, "z_b", z_b)
        invariance = F.mse_loss(z_a, z_b)
        z_a, _ = gather_batch(z_a, self.gather_distributed)
        z_b, _ = gather_batch(z_b, self.gather_distributed)
        if z_a.shape[0] < 2:
            raise ValueError(
                f"VICRegLoss needs a (global) batch of >= 2 samples for its variance and "
                f"covariance terms, got z_a of shape {tuple(z_a.shape)}"
            )
        variance_a, covariance_a = _variance_and_covariance(z_a, self.eps)
        variance_b, covariance_b = _variance_and_covariance(z_b, self.eps)
        return (
            self.lambda_param * invariance
            + self.mu_param * 0.5 * (variance_a + variance_b)
            + self.nu_param * (covariance_a + covariance_b)
        )

    def extra_repr(self) -> str:
        return (
            f"lambda_param={self.lambda_param}, mu_param={self.mu_param}, "
            f"nu_param={self.nu_param}, gather_distributed={self.gather_distributed}, "
            f"eps={self.eps}"
        )
