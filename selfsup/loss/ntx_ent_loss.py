"""NT-Xent, the contrastive loss of SimCLR, and its memory-bank (MoCo) form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

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
from selfsup.models.modules.memory_bank import MemoryBankModule

__all__ = ["NTXentLoss"]


def _check_memory_bank_size(size: object) -> int | tuple[int, int]:
    """Validates ``memory_bank_size``: an int ``N >= 0`` or a pair ``(N, D)``."""
    allowed = "an int N >= 0 or a pair (N, D) of ints with N >= 0 and D > 0"
    if isinstance(size, int) and not isinstance(size, bool):
        if size < 0:
            raise ValueError(f"memory_bank_size must be {allowed}, got {size!r}")
        return size
    if isinstance(size, Sequence) and not isinstance(size, str):
        values = tuple(size)
        if len(values) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            if values[0] < 0 or values[1] <= 0:
                raise ValueError(f"memory_bank_size must be {allowed}, got {size!r}")
            return (values[0], values[1])
    raise TypeError(f"memory_bank_size must be {allowed}, got {size!r}")


class NTXentLoss(nn.Module):
    """Normalised temperature-scaled cross entropy (SimCLR), optionally with a MoCo memory bank.

    Without a memory bank (``memory_bank_size=0``) this is the SimCLR loss (Chen et al., 2020,
    "A Simple Framework for Contrastive Learning of Visual Representations", Eq. 1): the two
    views form ``2B`` L2-normalised samples; each is classified against its positive (the other
    view of the same image) with the other ``2B - 2`` samples as negatives, and the loss is the
    mean over all ``2B`` anchors (both directions). With ``gather_distributed`` the negatives
    come from the views of all ranks.

    With a memory bank (``memory_bank_size > 0``) it is MoCo's InfoNCE (He et al., 2020,
    "Momentum Contrast for Unsupervised Visual Representation Learning", Eq. 1): each sample of
    ``out0`` (queries) is classified against its positive in ``out1`` (keys) with the bank's
    entries, as they were before this batch, as negatives. The bank is used at every forward;
    afterwards the normalised, detached ``out1`` is enqueued, as in lightly, only when ``out0``
    requires a gradient (so evaluating under ``torch.no_grad()`` leaves the bank untouched).

    Args:
        temperature: Logits are divided by it; must be > 0. Default 0.5 as in lightly (SimCLR
            uses 0.1-1.0, Appendix B.9; MoCo uses 0.07).
        memory_bank_size: ``0`` for SimCLR; ``N`` (the feature dimension is taken from the
            first batch) or ``(N, D)`` for MoCo, e.g. 4096 or 65536 (MoCo Sec. 4.1).
        gather_distributed: Use the samples of all ranks as negatives (no bank), or enqueue
            the keys of all ranks (with a bank).

    Raises:
        ValueError: ``temperature <= 0`` or ``memory_bank_size`` has a negative entry.
        TypeError: ``memory_bank_size`` is neither an int nor an ``(N, D)`` pair.

    Example:
        >>> criterion = NTXentLoss(memory_bank_size=4096)
        >>> loss = criterion(y0, y1)  # y0, y1: (B, D)
    """

    def __init__(
        self,
        temperature: float = 0.5,
        memory_bank_size: int | Sequence[int] = 0,
        gather_distributed: bool = False,
    ) -> None:
        super().__init__()
        self.temperature = check_number("temperature", temperature, low=0.0, low_open=True)
        self.memory_bank_size = _check_memory_bank_size(memory_bank_size)
        self.gather_distributed = check_gather_available(gather_distributed)
        self.memory_bank = MemoryBankModule(
            size=self.memory_bank_size, gather_distributed=self.gather_distributed
        )

    @property
    def uses_memory_bank(self) -> bool:
        """Whether negatives come from the memory bank (``memory_bank_size`` > 0)."""
        return self.memory_bank.num_entries > 0

    def forward(self, out0: Tensor, out1: Tensor) -> Tensor:
        """Computes the loss of one batch.

        Args:
            out0: Embeddings of the first views (queries with a bank), shape ``(B, D)``.
            out1: Embeddings of the second views (keys with a bank), shape ``(B, D)``.

        Returns:
            Scalar loss (0-dim tensor, dtype of ``out0``).

        Raises:
            ValueError: The inputs are not 2-D, their shapes differ, or (without a memory bank)
                the global batch has fewer than 2 samples, leaving no negatives.
        """
        check_embeddings("out0", out0)
        check_embeddings("out1", out1)
        check_same_shape("out0", out0, "out1", out1)
        out0 = F.normalize(out0, dim=1)
        out1 = F.normalize(out1, dim=1)
        if self.uses_memory_bank:
            return self._moco_loss(out0, out1)
        return self._simclr_loss(out0, out1)

    def _moco_loss(self, out0: Tensor, out1: Tensor) -> Tensor:
        _, bank = self.memory_bank(out1, update=out0.requires_grad)
        # the bank is never None here: memory_bank_size > 0
        negatives = cast(Tensor, bank).to(device=out0.device, dtype=out0.dtype)  # (N, D)
        queries = out0 / self.temperature
        positive = (queries * out1).sum(dim=1)  # (B,)
        negative = queries @ negatives.t()  # (B, N)
        # cross entropy with the positive as class 0, without building the (B, 1 + N) logits
        log_normaliser = torch.logaddexp(positive, torch.logsumexp(negative, dim=1))
        return (log_normaliser - positive).mean()

    def _simclr_loss(self, out0: Tensor, out1: Tensor) -> Tensor:
        batch_size = out0.shape[0]
        all0, offset = gather_batch(out0, self.gather_distributed)
        all1, _ = gather_batch(out1, self.gather_distributed)
        total = all0.shape[0]  # M = B * world_size
        if total < 2:
            raise ValueError(
                f"NTXentLoss without a memory bank needs a (global) batch of >= 2 samples to "
                f"have negatives, got out0 of shape {tuple(out0.shape)}"
            )
        anchors = torch.cat([out0, out1], dim=0) / self.temperature  # (2B, D)
        candidates = torch.cat([all0, all1], dim=0)  # (2M, D)
        logits = anchors @ candidates.t()  # (2B, 2M)
        rows = torch.arange(2 * batch_size, device=out0.device)
        local = torch.arange(batch_size, device=out0.device) + offset
        own = torch.cat([local, local + total])  # column of each anchor itself
        positive = torch.cat([local + total, local])  # column of its other view
        # in place is safe: the matmul's backward needs its inputs, not its output
        logits.index_put_((rows, own), logits.new_tensor(float("-inf")))
        return F.cross_entropy(logits, positive)

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, memory_bank_size={self.memory_bank_size}, "
            f"gather_distributed={self.gather_distributed}"
        )
