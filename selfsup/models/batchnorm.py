"""Split batch norm: emulates per-GPU batch statistics on one device (MoCo's shuffle BN)."""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["SplitBatchNorm", "batch_norm_2d"]


class SplitBatchNorm(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are computed separately per split of the batch.

    MoCo (He et al., 2020, Sec. 3.3 "Shuffling BN") computes BN statistics per GPU so that the
    query and key encoders cannot cheat through batch statistics. On one device this is
    emulated by cutting the batch into ``num_splits`` contiguous chunks and normalising each
    chunk with its own mean and variance. In eval mode it is a plain ``BatchNorm2d`` (the
    running statistics are the average of the splits' updates), and the state dict has the
    same keys and shapes as ``nn.BatchNorm2d``.

    Args:
        num_features: Number of channels ``C``.
        num_splits: Number of splits (``>= 1``); the training batch size must be a multiple.
        eps: Added to the variance for numerical stability.
        momentum: Running-statistics momentum (``None``: cumulative average), as in
            ``nn.BatchNorm2d``.

    Raises:
        ValueError: ``num_splits < 1``.
    """

    def __init__(
        self,
        num_features: int,
        num_splits: int,
        *,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
    ) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum)
        if isinstance(num_splits, bool) or not isinstance(num_splits, int) or num_splits < 1:
            raise ValueError(f"num_splits must be an int >= 1, got {num_splits!r}")
        self.num_splits = num_splits

    def forward(self, x: Tensor) -> Tensor:
        """Normalises ``x`` of shape ``(B, C, H, W)``; in training ``B % num_splits == 0``."""
        if not self.training:
            return super().forward(x)
        batch, channels, height, width = x.shape
        splits = self.num_splits
        if batch % splits != 0:
            raise ValueError(
                f"batch size {batch} is not divisible by num_splits={splits} (SplitBatchNorm)"
            )
        # Contiguous chunk s of the batch becomes channel group s of one wide sample batch.
        wide = (
            x.reshape(splits, batch // splits, channels, height, width)
            .transpose(0, 1)
            .reshape(batch // splits, splits * channels, height, width)
        )
        factor = 0.0
        running_mean = running_var = None
        tracked = self.num_batches_tracked
        if (
            self.track_running_stats
            and self.running_mean is not None
            and self.running_var is not None
            and tracked is not None
        ):
            tracked.add_(1)
            factor = 1.0 / float(tracked) if self.momentum is None else float(self.momentum)
            running_mean = self.running_mean.repeat(splits)
            running_var = self.running_var.repeat(splits)
        out = F.batch_norm(
            wide,
            running_mean,
            running_var,
            self.weight.repeat(splits) if self.weight is not None else None,
            self.bias.repeat(splits) if self.bias is not None else None,
            True,
            factor,
            self.eps,
        )
        if running_mean is not None and running_var is not None:
            with torch.no_grad():
                cast(Tensor, self.running_mean).copy_(running_mean.view(splits, channels).mean(0))
                cast(Tensor, self.running_var).copy_(running_var.view(splits, channels).mean(0))
        return (
            out.reshape(batch // splits, splits, channels, height, width)
            .transpose(0, 1)
            .reshape(batch, channels, height, width)
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, num_splits={self.num_splits}"


def batch_norm_2d(num_features: int, num_splits: int = 0) -> nn.BatchNorm2d:
    """``SplitBatchNorm(num_features, num_splits)`` if ``num_splits > 0``, else ``BatchNorm2d``.

    Args:
        num_features: Number of channels ``C``.
        num_splits: Number of batch splits; ``0`` gives a plain ``nn.BatchNorm2d``.

    Raises:
        ValueError: ``num_splits < 0``.
    """
    if num_splits < 0:
        raise ValueError(f"num_splits must be >= 0, got {num_splits}")
    if num_splits > 0:
        return SplitBatchNorm(num_features, num_splits)
    return nn.BatchNorm2d(num_features)
