"""KoLeo: the Kozachenko-Leonenko differential entropy regulariser used by DINOv2."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import check_embeddings, check_gather_available, check_number
from selfsup.loss._gather import gather_batch

__all__ = ["KoLeoLoss"]


class KoLeoLoss(nn.Module):
    """KoLeo regulariser ``-mean_i log(d_i + eps)``, ``d_i`` the distance of sample ``i`` to its
    nearest neighbour in the batch (Sablayrolles et al., 2019, "Spreading vectors for
    similarity search", Eq. 6; used in Oquab et al., 2023, "DINOv2", Sec. 4).

    As in DINOv2's code, the samples are L2-normalised (with ``eps``), the nearest neighbour
    is the other sample of highest cosine similarity (found without gradient) and ``d_i`` is
    ``torch.nn.functional.pairwise_distance(x_i, x_nn(i), p, eps)``.

    Args:
        p: Norm degree of the distance; > 0. Default 2 (DINOv2).
        eps: Small constant for the normalisation, distance and logarithm; > 0.
            Default 1e-8 (DINOv2).
        gather_distributed: Search the nearest neighbours in the global batch of all ranks.

    Raises:
        ValueError: ``p <= 0`` or ``eps <= 0``.
    """

    def __init__(
        self, p: float = 2, eps: float = 1e-8, *, gather_distributed: bool = False
    ) -> None:
        super().__init__()
        self.p = check_number("p", p, low=0.0, low_open=True)
        self.eps = check_number("eps", eps, low=0.0, low_open=True)
        self.gather_distributed = check_gather_available(gather_distributed)

    def forward(self, x: Tensor) -> Tensor:
        """Computes the loss.

        Args:
            x: Embeddings, shape ``(B, D)``.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: ``x`` is not 2-D or the (global) batch has fewer than 2 samples
                (no neighbour).
        """
        check_embeddings("x", x)
        x = F.normalize(x, p=2, dim=1, eps=self.eps)
        x_all, offset = gather_batch(x, self.gather_distributed)
        if x_all.shape[0] < 2:
            raise ValueError(
                f"KoLeoLoss needs a (global) batch of >= 2 samples to find neighbours, got x "
                f"of shape {tuple(x.shape)}"
            )
        rows = torch.arange(x.shape[0], device=x.device)
        with torch.no_grad():
            similarity = x @ x_all.t()  # (B, M)
            similarity[rows, rows + offset] = float("-inf")
            neighbour = similarity.argmax(dim=1)
        distance = F.pairwise_distance(x, x_all[neighbour], p=self.p, eps=self.eps)
        return -torch.log(distance + self.eps).mean()

    def extra_repr(self) -> str:
        return f"p={self.p}, eps={self.eps}, gather_distributed={self.gather_distributed}"
