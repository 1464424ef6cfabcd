"""MMCR: maximum manifold capacity representations."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from selfsup.loss._checks import (
    check_embeddings,
    check_gather_available,
    check_number,
    check_same_shape,
)
from selfsup.loss._gather import gather_batch

__all__ = ["MMCRLoss"]


class MMCRLoss(nn.Module):
    """MMCR loss (Yerxa et al., 2023, "Learning Efficient Coding of Natural Images with Maximum
    Manifold Capacity Representations", Eq. 3 and Sec. 4).

    ``Z = cat(online, momentum)`` along the view axis is ``(B, 2k, D)``; the centroid matrix
    ``C = mean_views(Z)`` is ``(B, D)``. The loss is
    ``-||C||_* + lmda * mean_i ||Z_i||_*`` (``||.||_*`` the nuclear norm, the sum of singular
    values). The embeddings should already be L2-normalised, as in the paper; this loss does
    not normalise them.

    Args:
        lmda: Weight of the per-sample nuclear norms; >= 0. Default 5e-3 (paper, Sec. 4).
        gather_distributed: Take the nuclear norm of the centroid matrix of the global batch.

    Raises:
        ValueError: ``lmda < 0``.
    """

    def __init__(self, lmda: float = 5e-3, *, gather_distributed: bool = False) -> None:
        super().__init__()
        self.lmda = check_number("lmda", lmda, low=0.0)
        self.gather_distributed = check_gather_available(gather_distributed)

    def forward(self, online: Tensor, momentum: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            online: Online-network embeddings, shape ``(B, k, D)`` (``k`` views per sample).
            momentum: Momentum-network embeddings, shape ``(B, k, D)``.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: The inputs are not 3-D or their shapes differ.
        """
        check_embeddings("online", online, ndim=3)
        check_embeddings("momentum", momentum, ndim=3)
        check_same_shape("online", online, "momentum", momentum)
        z = torch.cat([online, momentum], dim=1)  # (B, 2k, D)
        centroids, _ = gather_batch(z.mean(dim=1), self.gather_distributed)  # (M, D)
        centroid_norm = torch.linalg.svdvals(centroids).sum()
        per_sample_norm = torch.linalg.svdvals(z).sum() / z.shape[0]
        return -centroid_norm + self.lmda * per_sample_norm

    def extra_repr(self) -> str:
        return f"lmda={self.lmda}, gather_distributed={self.gather_distributed}"
