"""SwaV: swapped prediction of Sinkhorn-Knopp cluster codes between crops."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import check_gather_available, check_int, check_number, check_views
from selfsup.loss.sinkhorn import sinkhorn_knopp
from selfsup.utils import dist

__all__ = ["SwaVLoss", "sinkhorn"]


@torch.no_grad()
def sinkhorn(
    out: Tensor,
    iterations: int = 3,
    epsilon: float = 0.05,
    gather_distributed: bool = False,
) -> Tensor:
    """SwaV codes from prototype scores (Caron et al., 2020, Sec. 3.1, Eq. 3).

    Computes ``exp(out / epsilon)`` and runs :func:`~selfsup.loss.sinkhorn.sinkhorn_knopp`.
    The global maximum of ``out`` is subtracted before the exponential; this rescales the
    matrix by one constant, which the first normalisation removes, and avoids overflow for
    large scores.

    Args:
        out: Scores of features against the prototypes, shape ``(B, K)``.
        iterations: Sinkhorn iterations. Default 3 (paper, Sec. 4.1).
        epsilon: Entropic regularisation (temperature of the exponential); must be > 0.
            Default 0.05 (paper, Sec. 4.1).
        gather_distributed: Normalise over the samples of all ranks.

    Returns:
        Codes of shape ``(B, K)`` (rows sum to 1 when ``iterations >= 1``), no gradient.
    """
    check_number("epsilon", epsilon, low=0.0, low_open=True)
    scores = out.detach() / epsilon
    shift = scores.max()
    if gather_distributed and dist.world_size() > 1:
        shift = dist.concat_all_gather(shift.reshape(1)).max()
    return sinkhorn_knopp(
        torch.exp(scores - shift), iterations=iterations, gather_distributed=gather_distributed
    )


class SwaVLoss(nn.Module):
    """SwaV loss (Caron et al., 2020, "Unsupervised Learning of Visual Features by Contrasting
    Cluster Assignments", Eq. 1-2, with multi-crop, Sec. 3.2).

    For each high-resolution crop ``i`` the codes ``q_i`` come from Sinkhorn-Knopp on its
    (detached) prototype scores, optionally extended by a queue of earlier scores. Every other
    crop ``v`` (high or low resolution) predicts them: ``-mean_b sum_k q_i log softmax(z_v /
    temperature)``. The loss averages over the ``n_crops - 1`` predicting crops and over the
    high-resolution crops.

    Args:
        temperature: Temperature of the softmax over prototypes; > 0. Default 0.1 (paper,
            Sec. 4.1).
        sinkhorn_iterations: Sinkhorn iterations (>= 0). Default 3 (paper, Sec. 4.1).
        sinkhorn_epsilon: Entropic regularisation of the codes; > 0. Default 0.05 (paper,
            Sec. 4.1).
        sinkhorn_gather_distributed: Compute the codes over the samples of all ranks (as the
            authors' distributed Sinkhorn).

    Raises:
        ValueError: A temperature/epsilon <= 0 or ``sinkhorn_iterations < 0``.
    """

    def __init__(
        self,
        temperature: float = 0.1,
        sinkhorn_iterations: int = 3,
        sinkhorn_epsilon: float = 0.05,
        sinkhorn_gather_distributed: bool = False,
    ) -> None:
        super().__init__()
        self.temperature = check_number("temperature", temperature, low=0.0, low_open=True)
        self.sinkhorn_iterations = check_int("sinkhorn_iterations", sinkhorn_iterations, low=0)
        self.sinkhorn_epsilon = check_number(
            "sinkhorn_epsilon", sinkhorn_epsilon, low=0.0, low_open=True
        )
        self.sinkhorn_gather_distributed = check_gather_available(
            sinkhorn_gather_distributed, "sinkhorn_gather_distributed"
        )

    def subloss(self, z: Tensor, q: Tensor) -> Tensor:
        """Cross entropy of the predictions ``z`` against the codes ``q``.

        Args:
            z: Prototype scores of the predicting crop, shape ``(B, K)``.
            q: Codes of the target crop, shape ``(B, K)``.

        Returns:
            Scalar ``-mean_b sum_k q log softmax(z / temperature)``.
        """
        return -(q * F.log_softmax(z / self.temperature, dim=1)).sum(dim=1).mean()

    def forward(
        self,
        high_resolution_outputs: Sequence[Tensor],
        low_resolution_outputs: Sequence[Tensor],
        queue_outputs: Sequence[Tensor] | None = None,
    ) -> Tensor:
        """Computes the loss.

        Args:
            high_resolution_outputs: Prototype scores of each high-resolution crop, each
                ``(B, K)``.
            low_resolution_outputs: Prototype scores of each low-resolution crop, each
                ``(B, K)``; may be empty.
            queue_outputs: Optional prototype scores of queued features, one ``(Q, K)`` tensor
                per high-resolution crop; they take part in Sinkhorn only.

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: No high-resolution crop, fewer than 2 crops in total, crops of
                different shapes, or a queue that does not match the crops.
        """
        high = check_views("high_resolution_outputs", high_resolution_outputs)
        low = check_views("low_resolution_outputs", low_resolution_outputs, min_views=0)
        crops = high + low
        if len(crops) < 2:
            raise ValueError(
                f"SwaVLoss needs at least 2 crops in total, got {len(high)} high- and "
                f"{len(low)} low-resolution crops"
            )
        if low and low[0].shape != high[0].shape:
            raise ValueError(
                f"low_resolution_outputs must have the shape (B, K) of the high-resolution "
                f"ones, {tuple(high[0].shape)}, got {tuple(low[0].shape)}"
            )
        queue = self._check_queue(queue_outputs, high)
        batch_size = high[0].shape[0]
        codes = []
        for index, scores in enumerate(high):
            if queue is not None:
                scores = torch.cat([scores.detach(), queue[index].detach()], dim=0)
            q = sinkhorn(
                scores,
                iterations=self.sinkhorn_iterations,
                epsilon=self.sinkhorn_epsilon,
                gather_distributed=self.sinkhorn_gather_distributed,
            )
            codes.append(q[:batch_size])
        log_probs = F.log_softmax(torch.stack(crops) / self.temperature, dim=-1)  # (C, B, K)
        # cross entropy summed over the batch for every (code crop, predicting crop): (H, C)
        pair_losses = -torch.einsum("hbk,cbk->hc", torch.stack(codes), log_probs)
        same_crop = torch.eye(len(high), len(crops), dtype=torch.bool, device=log_probs.device)
        total = pair_losses.masked_fill(same_crop, 0.0).sum()
        return total / (batch_size * (len(crops) - 1) * len(high))

    @staticmethod
    def _check_queue(
        queue_outputs: Sequence[Tensor] | None, high: list[Tensor]
    ) -> list[Tensor] | None:
        if queue_outputs is None:
            return None
        queue = check_views("queue_outputs", queue_outputs)
        if len(queue) != len(high) or queue[0].shape[1] != high[0].shape[1]:
            raise ValueError(
                f"queue_outputs must hold one (Q, K={high[0].shape[1]}) tensor per "
                f"high-resolution crop ({len(high)}), got {len(queue)} of shape "
                f"{tuple(queue[0].shape)}"
            )
        return queue

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, sinkhorn_iterations={self.sinkhorn_iterations}, "
            f"sinkhorn_epsilon={self.sinkhorn_epsilon}, "
            f"sinkhorn_gather_distributed={self.sinkhorn_gather_distributed}"
        )
