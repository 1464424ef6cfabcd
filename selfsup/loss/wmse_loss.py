"""W-MSE: mean squared error between whitened embeddings."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import (
    check_embeddings,
    check_gather_available,
    check_int,
    check_number,
)
from selfsup.loss._gather import gather_batch

__all__ = ["WMSELoss", "whiten"]


def whiten(x: Tensor, eps: float = 0.0) -> Tensor:
    """Cholesky whitening of each group of samples (W-MSE, Ermolov et al., 2021, Sec. 3.2).

    For a group ``X`` of shape ``(N, D)``: ``Sigma = (X - mu)^T (X - mu) / (N - 1)``,
    shrunk to ``(1 - eps) Sigma + eps I``, factorised ``Sigma = L L^T``; the result is
    ``(X - mu) L^{-T}``, whose sample covariance is the identity. Computed in float32 at
    least (Cholesky has no half-precision kernel), returned in the input dtype.

    Args:
        x: Groups of samples, shape ``(G, N, D)`` with ``N > D``.
        eps: Shrinkage towards the identity, in [0, 1].

    Returns:
        Whitened groups, shape ``(G, N, D)``.
    """
    dtype = x.dtype
    work = x if dtype in (torch.float32, torch.float64) else x.float()
    num, dim = work.shape[-2:]
    centered = work - work.mean(dim=-2, keepdim=True)
    covariance = centered.transpose(-1, -2) @ centered / (num - 1)
    if eps > 0:
        eye = torch.eye(dim, device=work.device, dtype=work.dtype)
        covariance = (1 - eps) * covariance + eps * eye
    cholesky = torch.linalg.cholesky(covariance)
    # (L^{-1} X_c^T)^T = X_c L^{-T}
    whitened = torch.linalg.solve_triangular(cholesky, centered.transpose(-1, -2), upper=False)
    return whitened.transpose(-1, -2).to(dtype)


class WMSELoss(nn.Module):
    """W-MSE loss (Ermolov et al., 2021, "Whitening for Self-Supervised Representation
    Learning", Algorithm 1).

    ``input`` holds ``num_pos`` views of ``B`` images, view-major. ``w_iter`` times, the batch
    is shuffled (``torch.randperm``) and cut into sub-batches of ``w_size`` samples; each view
    of each sub-batch is whitened separately (:func:`whiten`). The loss is the normalised MSE
    ``2 - 2 cos(w_i, w_j)`` averaged over samples, over the ``num_pos * (num_pos - 1) / 2``
    pairs of views and over the iterations.

    Args:
        embedding_dim: Feature dimension ``D``. Default 64 (paper, Sec. 4, CIFAR/STL).
        num_pos: Views per image; >= 2. Default 2 (paper uses 2 or 4).
        w_iter: Whitening iterations per batch; >= 1. Default 1 (paper, Sec. 4).
        w_size: Samples per whitening sub-batch; must divide ``B`` and be >= 2 * D (lightly's
            stability rule; the paper uses 128 for D = 64). None whitens the whole batch.
        eps: Shrinkage of the covariance towards the identity, in [0, 1). Default 0.
        gather_distributed: Whiten over the global batch of all ranks. The shuffling draws
            from each rank's torch generator, so seed all ranks alike for identical losses.

    Raises:
        ValueError: A hyper-parameter is out of range, e.g. ``w_size < 2 * embedding_dim``.
    """

    def __init__(
        self,
        embedding_dim: int = 64,
        num_pos: int = 2,
        w_iter: int = 1,
        w_size: int | None = None,
        *,
        eps: float = 0.0,
        gather_distributed: bool = False,
    ) -> None:
        super().__init__()
        self.embedding_dim = check_int("embedding_dim", embedding_dim, low=1)
        self.num_pos = check_int("num_pos", num_pos, low=2)
        self.w_iter = check_int("w_iter", w_iter, low=1)
        if w_size is not None:
            check_int("w_size", w_size, low=1)
            if w_size < 2 * embedding_dim:
                raise ValueError(
                    f"w_size must be >= 2 * embedding_dim = {2 * embedding_dim} for a stable "
                    f"whitening, got w_size={w_size}"
                )
        self.w_size = w_size
        self.eps = check_number("eps", eps, low=0.0, high=1.0, high_open=True)
        self.gather_distributed = check_gather_available(gather_distributed)

    def forward(self, input: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            input: Embeddings of shape ``(num_pos * B, D)``: rows ``v * B .. v * B + B - 1``
                are view ``v`` of the ``B`` images.

        Returns:
            Scalar loss in ``[0, 4]`` (0-dim tensor).

        Raises:
            ValueError: ``input`` is not 2-D, ``D != embedding_dim``, the rows are not a
                multiple of ``num_pos``, ``w_size`` does not divide ``B``, or the whitening
                sub-batch has fewer than ``2 * D`` samples.
        """
        check_embeddings("input", input)
        if input.shape[1] != self.embedding_dim:
            raise ValueError(
                f"input must have embedding_dim={self.embedding_dim} features, got shape "
                f"{tuple(input.shape)}"
            )
        if input.shape[0] % self.num_pos != 0:
            raise ValueError(
                f"input must have num_pos * B rows (num_pos={self.num_pos}), got shape "
                f"{tuple(input.shape)}"
            )
        views = input.reshape(self.num_pos, -1, self.embedding_dim)  # (V, B, D)
        views = gather_batch(views.transpose(0, 1), self.gather_distributed)[0].transpose(0, 1)
        batch_size = views.shape[1]
        w_size = batch_size if self.w_size is None else self.w_size
        if batch_size % w_size != 0 or w_size < 2 * self.embedding_dim:
            raise ValueError(
                f"the (global) batch of B={batch_size} images per view must split into "
                f"whitening sub-batches of w_size={w_size} samples with w_size >= 2 * "
                f"embedding_dim = {2 * self.embedding_dim}"
            )
        num_groups = batch_size // w_size
        rows, cols = torch.triu_indices(self.num_pos, self.num_pos, offset=1)
        loss = input.new_zeros(())
        for _ in range(self.w_iter):
            order = torch.randperm(batch_size, device=input.device)
            groups = views[:, order].reshape(self.num_pos * num_groups, w_size, -1)
            whitened = whiten(groups, self.eps).reshape(self.num_pos, batch_size, -1)
            normalized = F.normalize(whitened, dim=-1)
            cosine = (normalized[rows] * normalized[cols]).sum(dim=-1)  # (pairs, B)
            loss = loss + (2 - 2 * cosine.mean(dim=1)).sum()
        return loss / (self.w_iter * rows.numel())

    def extra_repr(self) -> str:
        return (
            f"embedding_dim={self.embedding_dim}, num_pos={self.num_pos}, "
            f"w_iter={self.w_iter}, w_size={self.w_size}, eps={self.eps}, "
            f"gather_distributed={self.gather_distributed}"
        )
