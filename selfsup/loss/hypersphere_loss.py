"""Alignment and uniformity on the hypersphere (Wang & Isola, 2020)."""

from __future__ import annotations

import math

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

__all__ = ["HypersphereLoss"]


def _log_uniformity(x: Tensor, t: float) -> Tensor:
    """``log mean_{i<j} exp(-t ||x_i - x_j||^2)`` of ``x`` ``(N, D)``, N >= 2, via logsumexp."""
    num = x.shape[0]
    squared_norms = x.pow(2).sum(dim=1)
    gram = x @ x.t()
    squared_distances = (squared_norms[:, None] + squared_norms[None, :] - 2 * gram).clamp_min(0)
    rows, cols = torch.triu_indices(num, num, offset=1, device=x.device)
    pairs = squared_distances[rows, cols]
    return torch.logsumexp(-t * pairs, dim=0) - math.log(pairs.numel())


class HypersphereLoss(nn.Module):
    """Alignment + uniformity loss (Wang & Isola, 2020, "Understanding Contrastive
    Representation Learning through Alignment and Uniformity on the Hypersphere", Sec. 4.1).

    With ``x``, ``y`` the L2-normalised views: ``L_align = mean_i ||x_i - y_i||^alpha`` and
    ``L_unif(x) = log mean_{i<j} exp(-t ||x_i - x_j||^2)``; the loss is
    ``L_align + lam * (L_unif(x) + L_unif(y)) / 2``. The uniformity uses a log-sum-exp, so
    large ``t`` does not underflow.

    Args:
        t: Scale of the Gaussian potential in the uniformity term; > 0. Default 1.0 as in
            lightly (the authors' code defaults to t = 2, paper Sec. 4.1.2).
        lam: Weight of the uniformity term; >= 0. Default 1.0 (equal weights, as in the
            authors' example).
        alpha: Exponent of the alignment distance; > 0. Default 2.0 (paper, Sec. 4.1).
        gather_distributed: Compute the uniformity over the global batch of all ranks (the
            alignment is per sample and stays local).

    Raises:
        ValueError: A hyper-parameter is out of range.
    """

    def __init__(
        self,
        t: float = 1.0,
        lam: float = 1.0,
        alpha: float = 2.0,
        *,
        gather_distributed: bool = False,
    ) -> None:
        super().__init__()
        self.t = check_number("t", t, low=0.0, low_open=True)
        self.lam = check_number("lam", lam, low=0.0)
        self.alpha = check_number("alpha", alpha, low=0.0, low_open=True)
        self.gather_distributed = check_gather_available(gather_distributed)

    def forward(self, z_a: Tensor, z_b: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            z_a: Embeddings of the first views, shape ``(B, D)``.
            z_b: Embeddings of the second views, shape ``(B, D)``.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: The inputs are not 2-D, their shapes differ, or the (global) batch has
                fewer than 2 samples (no pairs for the uniformity).
        """
        check_embeddings("z_a", z_a)
        check_embeddings("z_b", z_b)
        check_same_shape("z_a", z_a, "z_b", z_b)
        x = F.normalize(z_a, dim=1)
        y = F.normalize(z_b, dim=1)
        alignment = (x - y).norm(dim=1).pow(self.alpha).mean()
        x_all, _ = gather_batch(x, self.gather_distributed)
        y_all, _ = gather_batch(y, self.gather_distributed)
        if x_all.shape[0] < 2:
            raise ValueError(
                f"HypersphereLoss needs a (global) batch of >= 2 samples for the uniformity "
                f"term, got z_a of shape {tuple(z_a.shape)}"
            )
        uniformity = 0.5 * (_log_uniformity(x_all, self.t) + _log_uniformity(y_all, self.t))
        return alignment + self.lam * uniformity

    def extra_repr(self) -> str:
        return (
            f"t={self.t}, lam={self.lam}, alpha={self.alpha}, "
            f"gather_distributed={self.gather_distributed}"
        )
