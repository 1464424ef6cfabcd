"""TiCo: transformation invariance and covariance contrast."""

from __future__ import annotations

from typing import Any

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

__all__ = ["TiCoLoss"]


class TiCoLoss(nn.Module):
    """TiCo loss (Zhu et al., 2022, "TiCo: Transformation Invariance and Covariance Contrast
    for Self-Supervised Visual Representation Learning", Algorithm 1).

    With ``z_a``, ``z_b`` L2-normalised per sample and ``B = z_a^T z_a / N`` (detached), the
    running covariance is ``C = beta * C_prev + (1 - beta) * B`` (``C_prev`` starts at zero)
    and the loss ``1 - mean_i <z_a_i, z_b_i> + rho * mean_i z_a_i^T C z_a_i``. ``C`` is kept
    in the buffer ``C`` (``(D, D)``, created on the first batch, saved in ``state_dict``) and
    replaced by the new value after each forward with ``update_covariance_matrix=True``.

    Args:
        beta: EMA coefficient of the covariance, in [0, 1]. Default 0.9 (paper, Sec. 4.1).
        rho: Weight of the covariance contrast term; >= 0. Default 8.0 (paper, Sec. 4.1).
        gather_distributed: Use the global batch of all ranks for both terms and for ``C``.

    Raises:
        ValueError: ``beta`` outside [0, 1] or ``rho < 0``.
    """

    C: Tensor

    def __init__(
        self, beta: float = 0.9, rho: float = 8.0, gather_distributed: bool = False
    ) -> None:
        super().__init__()
        self.beta = check_number("beta", beta, low=0.0, high=1.0)
        self.rho = check_number("rho", rho, low=0.0)
        self.gather_distributed = check_gather_available(gather_distributed)
        self.register_buffer("C", None)

    def forward(self, z_a: Tensor, z_b: Tensor, update_covariance_matrix: bool = True) -> Tensor:
        """Computes the loss and (by default) stores the updated covariance.

        Args:
            z_a: Embeddings of the online branch, shape ``(B, D)``.
            z_b: Embeddings of the momentum branch, shape ``(B, D)``.
            update_covariance_matrix: Replace the stored ``C`` by this batch's update.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: The inputs are not 2-D, their shapes differ, the (global) batch has
                fewer than 2 samples, or ``D`` differs from the stored covariance.
        """
        check_embeddings("z_a", z_a)
        check_embeddings("z_b", z_b)
        check_same_shape("z_a", z_a, "z_b", z_b)
        z_a, _ = gather_batch(z_a, self.gather_distributed)
        z_b, _ = gather_batch(z_b, self.gather_distributed)
        num, dim = z_a.shape
        if num < 2:
            raise ValueError(
                f"TiCoLoss needs a (global) batch of >= 2 samples, got z_a of shape "
                f"{tuple(z_a.shape)}"
            )
        if self.C is not None and self.C.shape != (dim, dim):
            raise ValueError(
                f"z_a has {dim} features but the stored covariance C has shape "
                f"{tuple(self.C.shape)}"
            )
        z_a = F.normalize(z_a, dim=1)
        z_b = F.normalize(z_b, dim=1)
        batch_covariance = (z_a.t() @ z_a).detach() / num
        if self.C is None:
            covariance = (1 - self.beta) * batch_covariance
        else:
            previous = self.C.to(device=z_a.device, dtype=z_a.dtype)
            covariance = self.beta * previous + (1 - self.beta) * batch_covariance
        invariance = 1.0 - (z_a * z_b).sum(dim=1).mean()
        contrast = ((z_a @ covariance) * z_a).sum(dim=1).mean()
        if update_covariance_matrix:
            self.C = covariance.detach()
        return invariance + self.rho * contrast

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        incoming = state_dict.get(prefix + "C")
        if isinstance(incoming, Tensor) and self.C is None:
            # the covariance is created lazily: take its shape from the checkpoint
            self.C = torch.empty_like(incoming)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, rho={self.rho}, gather_distributed={self.gather_distributed}"
