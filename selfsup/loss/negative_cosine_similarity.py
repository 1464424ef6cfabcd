"""Negative cosine similarity, the prediction loss of SimSiam and BYOL."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import check_number, check_same_shape

__all__ = ["NegativeCosineSimilarity"]


class NegativeCosineSimilarity(nn.Module):
    """Mean negative cosine similarity, ``-mean(cos(x0, x1))``.

    SimSiam (Chen & He, 2021, "Exploring Simple Siamese Representation Learning", Eq. 1) uses
    it between a prediction and a stop-gradient projection; apply ``.detach()`` to the target
    yourself, or use :class:`SymNegCosineSimilarityLoss`. Same arguments as
    ``torch.nn.CosineSimilarity``.

    Args:
        dim: Dimension along which the similarity is computed. Default 1, the feature dim of
            ``(B, D)`` inputs.
        eps: Lower bound on the norms, avoids division by zero; must be > 0.

    Raises:
        ValueError: ``eps <= 0``.
        TypeError: ``dim`` is not an int.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"dim must be an int, got {dim!r}")
        self.dim = dim
        self.eps = check_number("eps", eps, low=0.0, low_open=True)

    def forward(self, x0: Tensor, x1: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            x0: First tensor, e.g. predictions of shape ``(B, D)``.
            x1: Second tensor with the same shape as ``x0``.

        Returns:
            Scalar loss in ``[-1, 1]`` (0-dim tensor).

        Raises:
            ValueError: The shapes differ or ``dim`` is out of range for the inputs.
        """
        check_same_shape("x0", x0, "x1", x1)
        if not -x0.ndim <= self.dim < x0.ndim:
            raise ValueError(
                f"dim={self.dim} is out of range for inputs of shape {tuple(x0.shape)}"
            )
        return -F.cosine_similarity(x0, x1, dim=self.dim, eps=self.eps).mean()

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"
