"""Decoupled contrastive learning: InfoNCE without the positive in the denominator."""

from __future__ import annotations

from collections.abc import Callable

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

__all__ = ["DCLLoss", "DCLWLoss", "negative_mises_fisher_weights"]


def negative_mises_fisher_weights(out0: Tensor, out1: Tensor, sigma: float = 0.5) -> Tensor:
    """DCLW's von Mises-Fisher weights ``w_i = 2 - N * softmax_i(<u_i, v_i> / sigma)``.

    Yeh et al., 2022, "Decoupled Contrastive Learning", Sec. 3.3: positive pairs that are
    already similar get a smaller weight. The softmax runs over the ``N`` samples given.

    Args:
        out0: L2-normalised embeddings of the first views, shape ``(N, D)``.
        out1: L2-normalised embeddings of the second views, shape ``(N, D)``.
        sigma: Scale of the similarities; > 0. Default 0.5 (paper, Sec. 3.3).

    Returns:
        Detached weights of shape ``(N,)``, mean 1.
    """
    similarity = (out0.detach() * out1.detach()).sum(dim=1) / sigma
    return 2 - out0.shape[0] * F.softmax(similarity, dim=0)


class DCLLoss(nn.Module):
    """Decoupled contrastive loss (Yeh et al., 2022, "Decoupled Contrastive Learning", Eq. 6).

    For each L2-normalised anchor ``u_i`` with positive ``v_i``:
    ``-w_i <u_i, v_i> / t + log sum_{x in negatives} exp(<u_i, x> / t)``, where the negatives
    are all samples of both views except ``u_i`` and ``v_i`` (the positive is removed from
    the denominator, unlike :class:`~selfsup.loss.NTXentLoss`). The loss is the mean over the
    anchors of both views (symmetric).

    Args:
        temperature: Temperature ``t``; > 0. Default 0.1 (paper, Sec. 4).
        weight_fn: Optional ``w(out0, out1) -> (B,)`` weighting of the positive term, called
            with the normalised local embeddings; None for no weighting (``w = 1``).
        gather_distributed: Use the samples of all ranks as negatives.

    Raises:
        ValueError: ``temperature <= 0``.
        TypeError: ``weight_fn`` is neither None nor callable.
    """

    def __init__(
        self,
        temperature: float = 0.1,
        weight_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
        gather_distributed: bool = False,
    ) -> None:
        super().__init__()
        self.temperature = check_number("temperature", temperature, low=0.0, low_open=True)
        if weight_fn is not None and not callable(weight_fn):
            raise TypeError(f"weight_fn must be None or callable, got {weight_fn!r}")
        self.weight_fn = weight_fn
        self.gather_distributed = check_gather_available(gather_distributed)

    def forward(self, out0: Tensor, out1: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            out0: Embeddings of the first views, shape ``(B, D)``.
            out1: Embeddings of the second views, shape ``(B, D)``.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: The inputs are not 2-D, their shapes differ, or the (global) batch has
                fewer than 2 samples (no negatives).
        """
        check_embeddings("out0", out0)
        check_embeddings("out1", out1)
        check_same_shape("out0", out0, "out1", out1)
        out0 = F.normalize(out0, dim=1)
        out1 = F.normalize(out1, dim=1)
        all0, offset = gather_batch(out0, self.gather_distributed)
        all1, _ = gather_batch(out1, self.gather_distributed)
        if all0.shape[0] < 2:
            raise ValueError(
                f"DCLLoss needs a (global) batch of >= 2 samples to have negatives, got out0 "
                f"of shape {tuple(out0.shape)}"
            )
        loss0 = self._one_direction(out0, out1, all0, all1, offset)
        loss1 = self._one_direction(out1, out0, all1, all0, offset)
        return 0.5 * (loss0 + loss1)

    def _positive_weights(
        self, out0: Tensor, out1: Tensor, all0: Tensor, all1: Tensor, offset: int
    ) -> Tensor | None:
        """Weights ``(B,)`` of the positive terms, or None for no weighting."""
        if self.weight_fn is None:
            return None
        weights = self.weight_fn(out0, out1)
        if not isinstance(weights, Tensor) or weights.shape != out0.shape[:1]:
            raise ValueError(
                f"weight_fn must return a tensor of shape ({out0.shape[0]},), got "
                f"{getattr(weights, 'shape', weights)!r}"
            )
        return weights

    def _one_direction(
        self, out0: Tensor, out1: Tensor, all0: Tensor, all1: Tensor, offset: int
    ) -> Tensor:
        """Mean loss of the anchors ``out0`` (B, D) against ``all0``/``all1`` (M, D)."""
        batch_size = out0.shape[0]
        anchors = out0 / self.temperature
        logits = torch.cat([anchors @ all0.t(), anchors @ all1.t()], dim=1)  # (B, 2M)
        rows = torch.arange(batch_size, device=out0.device)
        own = rows + offset
        positive_column = own + all0.shape[0]
        positive = logits[rows, positive_column]
        weights = self._positive_weights(out0, out1, all0, all1, offset)
        if weights is not None:
            positive = positive * weights
        excluded = torch.zeros_like(logits, dtype=torch.bool)
        excluded[rows, own] = True
        excluded[rows, positive_column] = True
        negative = torch.logsumexp(logits.masked_fill(excluded, float("-inf")), dim=1)
        return (negative - positive).mean()

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, gather_distributed={self.gather_distributed}"


class DCLWLoss(DCLLoss):
    """DCL with von Mises-Fisher weighting of the positives (Yeh et al., 2022, Sec. 3.3).

    :class:`DCLLoss` with ``w = negative_mises_fisher_weights``. With ``gather_distributed``
    the softmax of the weights runs over the global batch, so the result equals one process
    on the concatenated batch.

    Args:
        temperature: Temperature; > 0. Default 0.1 (paper, Sec. 4).
        sigma: Scale of the similarities in the weights; > 0. Default 0.5 (paper, Sec. 3.3).
        gather_distributed: Use the samples of all ranks as negatives and for the weights.

    Raises:
        ValueError: ``temperature <= 0`` or ``sigma <= 0``.
    """

    def __init__(
        self, temperature: float = 0.1, sigma: float = 0.5, gather_distributed: bool = False
    ) -> None:
        super().__init__(temperature=temperature, gather_distributed=gather_distributed)
        self.sigma = check_number("sigma", sigma, low=0.0, low_open=True)

    def _positive_weights(
        self, out0: Tensor, out1: Tensor, all0: Tensor, all1: Tensor, offset: int
    ) -> Tensor:
        weights = negative_mises_fisher_weights(all0, all1, sigma=self.sigma)
        return weights[offset : offset + out0.shape[0]]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, sigma={self.sigma}"
