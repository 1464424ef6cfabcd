"""SimSiam's symmetrised negative cosine similarity with stop-gradient."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import check_same_shape

__all__ = ["SymNegCosineSimilarityLoss"]


def _unpack(name: str, pair: object) -> tuple[Tensor, Tensor]:
    if (
        isinstance(pair, Tensor)
        or not isinstance(pair, Sequence)
        or len(pair) != 2
        or not all(isinstance(t, Tensor) for t in pair)
    ):
        raise TypeError(f"{name} must be a pair (z, p) of tensors of shape (B, D), got {pair!r}")
    z, p = pair
    check_same_shape(f"{name}[0] (z)", z, f"{name}[1] (p)", p)
    return z, p


class SymNegCosineSimilarityLoss(nn.Module):
    """Symmetrised SimSiam loss ``D(p0, sg(z1)) / 2 + D(p1, sg(z0)) / 2``.

    ``D`` is the mean negative cosine similarity and ``sg`` the stop-gradient (Chen & He,
    2021, "Exploring Simple Siamese Representation Learning", Eq. 3-4): gradients reach the
    predictions ``p`` but never the projections ``z``.

    Example:
        >>> criterion = SymNegCosineSimilarityLoss()
        >>> loss = criterion((z0, p0), (z1, p1))
    """

    def forward(self, out0: Sequence[Tensor], out1: Sequence[Tensor]) -> Tensor:
        """Computes the loss.

        Args:
            out0: ``(z0, p0)`` of the first views: projection and prediction, each ``(B, D)``.
            out1: ``(z1, p1)`` of the second views, same shapes.

        Returns:
            Scalar loss in ``[-1, 1]`` (0-dim tensor).

        Raises:
            TypeError: An argument is not a pair of tensors.
            ValueError: The four tensors do not all have the same shape.
        """
        z0, p0 = _unpack("out0", out0)
        z1, p1 = _unpack("out1", out1)
        check_same_shape("out0", p0, "out1", p1)
        loss0 = F.cosine_similarity(p0, z1.detach(), dim=-1).mean()
        loss1 = F.cosine_similarity(p1, z0.detach(), dim=-1).mean()
        return -0.5 * (loss0 + loss1)
