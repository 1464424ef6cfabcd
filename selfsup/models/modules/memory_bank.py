"""FIFO memory banks of past embeddings (extra negatives for MoCo/NTXent, neighbours for NNCLR)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.utils import dist

__all__ = ["MemoryBankModule", "NNMemoryBankModule"]


def _parse_size(size: object) -> tuple[int, int | None]:
    """Returns ``(num_entries, feature_dim or None)`` from an int or a sequence of ints."""
    if isinstance(size, bool) or not isinstance(size, int | Sequence):
        raise TypeError(
            f"size must be an int N or a sequence (N, D) of ints, got {size!r} "
            f"({type(size).__name__})"
        )
    values = (size,) if isinstance(size, int) else tuple(size)
    if len(values) not in (1, 2) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in values
    ):
        raise TypeError(f"size must be an int N or a sequence (N, D) of ints, got {size!r}")
    if any(v < 0 for v in values):
        raise ValueError(f"size entries must be >= 0, got {size!r}")
    if len(values) == 2 and values[0] > 0 and values[1] == 0:
        raise ValueError(f"feature dimension D in size=(N, D) must be > 0, got {size!r}")
    return values[0], (values[1] if len(values) == 2 else None)


class MemoryBankModule(nn.Module):
    """First-in first-out queue of past embeddings, as in MoCo (He et al., 2020, Sec. 3.2).

    The queue is the registered buffer ``bank`` of shape ``(N, D)`` (saved in ``state_dict``,
    moved by ``.to(device)``) with a write pointer ``bank_ptr``. Each :meth:`forward` returns a
    detached copy of the bank as it was *before* the current batch, then enqueues the batch,
    overwriting the oldest entries and wrapping around past the end.

    Args:
        size: ``N`` (number of stored embeddings; the feature dimension ``D`` is taken from the
            first batch and then fixed) or ``(N, D)`` (bank created now with random
            L2-normalised rows, as lightly does). ``N == 0`` disables the bank. Default
            ``65536`` follows MoCo's ImageNet setting and lightly.
        gather_distributed: Enqueue the batches of all ranks (``concat_all_gather``) instead
            of only the local one; keeps the bank contents independent of the number of GPUs.
        feature_dim_first: Return the bank as ``(D, N)`` instead of ``(N, D)``.

    Raises:
        TypeError: ``size`` is not an int or a sequence of one or two ints.
        ValueError: An entry of ``size`` is negative, or ``D == 0`` with ``N > 0``.

    Example:
        >>> bank = MemoryBankModule(size=(4096, 128))
        >>> out, negatives = bank(torch.randn(8, 128))  # negatives: (4096, 128)
    """

    bank: Tensor
    bank_ptr: Tensor

    def __init__(
        self,
        size: int | tuple[int, int] | Sequence[int] = 65536,
        gather_distributed: bool = False,
        feature_dim_first: bool = False,
    ) -> None:
        super().__init__()
        self.num_entries, self.feature_dim = _parse_size(size)
        self.size = (
            (self.num_entries,)
            if self.feature_dim is None
            else (self.num_entries, self.feature_dim)
        )
        self.gather_distributed = bool(gather_distributed)
        self.feature_dim_first = bool(feature_dim_first)
        self.register_buffer("bank_ptr", torch.zeros((), dtype=torch.long))
        if self.num_entries > 0 and self.feature_dim is not None:
            self.register_buffer("bank", self._random_bank(self.feature_dim, None, None))
        else:
            self.register_buffer("bank", torch.empty(0, 0))

    @property
    def is_initialized(self) -> bool:
        """Whether the bank tensor exists (False before the first batch when ``size`` is N)."""
        return self.bank.numel() > 0

    def _random_bank(
        self, dim: int, device: torch.device | None, dtype: torch.dtype | None
    ) -> Tensor:
        bank = torch.randn(self.num_entries, dim, device=device, dtype=dtype)
        return F.normalize(bank, dim=1)

    def _check_output(self, output: Tensor) -> None:
        if output.ndim != 2:
            raise ValueError(
                f"output must have shape (B, D), got {tuple(output.shape)} ({output.ndim} dims)"
            )
        if self.is_initialized and output.shape[1] != self.bank.shape[1]:
            raise ValueError(
                f"output feature dim {output.shape[1]} does not match the memory bank's "
                f"feature dim {self.bank.shape[1]}"
            )

    @torch.no_grad()
    def _enqueue(self, batch: Tensor) -> None:
        if self.gather_distributed:
            batch = dist.concat_all_gather(batch)
        batch = batch.detach().to(self.bank.dtype)
        count = batch.shape[0]
        if count == 0:
            return
        ptr = int(self.bank_ptr)
        end = (ptr + count) % self.num_entries
        if count >= self.num_entries:
            # Later rows overwrite earlier ones: only the last N rows survive, and they are
            # laid out so that the pointer ends where it would after writing all of them.
            last = batch[-self.num_entries :]
            self.bank.copy_(torch.roll(last, shifts=end, dims=0))
        elif ptr + count <= self.num_entries:
            self.bank[ptr : ptr + count] = batch
        else:
            head = self.num_entries - ptr
            self.bank[ptr:] = batch[:head]
            self.bank[: count - head] = batch[head:]
        self.bank_ptr.fill_(end)

    def forward(
        self, output: Tensor, labels: Tensor | None = None, update: bool = True
    ) -> tuple[Tensor, Tensor | None]:
        """Returns the bank before this batch, then enqueues the batch.

        Args:
            output: Embeddings, shape ``(B, D)``, any float dtype.
            labels: Ignored; kept so the signature matches lightly's.
            update: Enqueue ``output.detach()`` after reading the bank.

        Returns:
            ``(output, bank)``: ``output`` unchanged (still attached to the graph) and a
            detached clone of the bank, shape ``(N, D)`` (``(D, N)`` when
            ``feature_dim_first``), or ``None`` when the bank is disabled (``N == 0``).

        Raises:
            ValueError: ``output`` is not 2-D, or its feature dim differs from the bank's.
        """
        if self.num_entries == 0:
            return output, None
        self._check_output(output)
        if not self.is_initialized:
            self.bank = self._random_bank(output.shape[1], output.device, output.dtype)
            self.feature_dim = output.shape[1]
        bank = self.bank.detach().clone()
        if self.feature_dim_first:
            bank = bank.t()
        if update:
            self._enqueue(output)
        return output, bank

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        incoming = state_dict.get(prefix + "bank")
        if (
            isinstance(incoming, Tensor)
            and not self.is_initialized
            and incoming.ndim == 2
            and incoming.shape[0] == self.num_entries
        ):
            # A lazily-sized bank takes its feature dim from the checkpoint.
            self.bank = torch.empty_like(incoming, device=self.bank.device)
            self.feature_dim = incoming.shape[1]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return (
            f"size={self.size}, gather_distributed={self.gather_distributed}, "
            f"feature_dim_first={self.feature_dim_first}"
        )


class NNMemoryBankModule(MemoryBankModule):
    """Memory bank that replaces each embedding by its nearest stored neighbour (NNCLR).

    Dwibedi et al., "With a Little Help from My Friends: Nearest-Neighbor Contrastive Learning
    of Visual Representations", ICCV 2021, Sec. 3. The default size 65536 follows lightly;
    the paper's support set holds 98304 embeddings.

    Args:
        size: ``N`` or ``(N, D)``, as for :class:`MemoryBankModule`; must have ``N > 0``.
        gather_distributed: Enqueue the batches of all ranks.

    Raises:
        ValueError: ``N == 0`` (a nearest-neighbour lookup needs a bank).
    """

    def __init__(
        self,
        size: int | tuple[int, int] | Sequence[int] = 65536,
        gather_distributed: bool = False,
    ) -> None:
        super().__init__(size=size, gather_distributed=gather_distributed)
        if self.num_entries == 0:
            raise ValueError(f"NNMemoryBankModule needs size N > 0, got {size!r}")

    def forward(  # type: ignore[override]
        self, output: Tensor, update: bool = False
    ) -> Tensor:
        """Nearest neighbour (cosine similarity) of each embedding among the stored ones.

        Args:
            output: Embeddings, shape ``(B, D)``.
            update: Enqueue ``output.detach()`` after the lookup.

        Returns:
            Detached bank rows, shape ``(B, D)``: row ``i`` is the stored embedding with the
            highest cosine similarity to ``output[i]`` (looked up before this batch is stored).
        """
        bank = cast(Tensor, super().forward(output, update=update)[1])  # N > 0: never None
        similarity = F.normalize(output.detach(), dim=1) @ F.normalize(bank, dim=1).t().to(
            output.dtype
        )
        nearest = similarity.argmax(dim=1)
        return bank[nearest]
