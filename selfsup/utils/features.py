"""One pass of an encoder over a loader of ``([images], targets, filenames)`` batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor
from tqdm import tqdm

__all__ = ["FeatureRows", "extract_features"]


class FeatureRows:
    """Feature rows appended batch by batch into one float32 buffer on the CPU.

    With ``capacity`` set to the number of rows to come, the buffer is allocated once, at the
    first batch (when the dimension is known), and never copied: memory holds the `(N, D)`
    result and nothing else, instead of every batch plus their concatenation. Beyond
    ``capacity`` it grows by doubling.

    Args:
        capacity: Rows to reserve; 0 reserves the first batch's rows.

    Raises:
        ValueError: ``capacity`` is negative.
    """

    def __init__(self, capacity: int = 0) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise ValueError(f"capacity must be an int >= 0, got {capacity!r}")
        self._capacity = capacity
        self._buffer: Tensor | None = None
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def append(self, rows: Tensor) -> None:
        """Copies a batch of features into the buffer.

        Args:
            rows: `(B, D)` features, any float dtype and device; stored as float32 on the CPU.

        Raises:
            ValueError: ``rows`` is not 2-D or its `D` differs from earlier batches.
        """
        if rows.ndim != 2:
            raise ValueError(f"rows must have shape (B, D), got {tuple(rows.shape)}")
        needed = self._rows + rows.shape[0]
        if self._buffer is None:
            self._buffer = torch.empty(max(self._capacity, needed), rows.shape[1])
        elif rows.shape[1] != self._buffer.shape[1]:
            raise ValueError(
                f"rows have dimension {rows.shape[1]}, earlier batches {self._buffer.shape[1]}"
            )
        elif needed > self._buffer.shape[0]:
            grown = torch.empty(max(needed, 2 * self._buffer.shape[0]), self._buffer.shape[1])
            grown[: self._rows] = self._buffer[: self._rows]
            self._buffer = grown
        self._buffer[self._rows : needed] = rows.detach()
        self._rows = needed

    def tensor(self) -> Tensor:
        """The rows appended so far.

        Returns:
            `(N, D)` float32 view of the buffer (no copy); `(0, 0)` when nothing was appended.
        """
        if self._buffer is None:
            return torch.zeros(0, 0)
        return self._buffer[: self._rows]


def _expected_rows(loader: Iterable) -> int:
    """Samples a DataLoader will yield (``len`` of its sampler); 0 when unknown."""
    sampler = getattr(loader, "sampler", None)
    try:
        return len(sampler) if sampler is not None else 0
    except TypeError:
        return 0


@torch.no_grad()
def extract_features(
    encode: Callable[[Tensor], Tensor],
    loader: Iterable,
    device: torch.device | str = "cpu",
    desc: str | None = None,
) -> tuple[Tensor, Tensor, list[str]]:
    """Encodes the first view of every batch, skipping batches left empty by undecodable files.

    Memory stays flat over the pass: images are held one batch at a time and the features go
    into one :class:`FeatureRows` buffer sized from the loader's sampler.

    Args:
        encode: Maps images `(B, C, H, W)` to features `(B, ...)` (flattened to `(B, D)`).
        loader: Batches ``([images (B, C, H, W), ...], targets (B,), filenames)`` as
            ``selfsup.data.MultiViewCollate`` makes them.
        device: Where the images go before ``encode``.
        desc: Label of a progress bar; None shows none.

    Returns:
        ``(features (N, D) float32 on the CPU, targets (N,) int64, filenames)``; empty tensors
        when no batch held an image.
    """
    features = FeatureRows(_expected_rows(loader))
    batches = loader if desc is None else tqdm(loader, desc=desc, unit="batch", leave=False)
    targets, filenames = [], []
    for views, batch_targets, names in batches:
        if not names:
            continue
        features.append(encode(views[0].to(device)).flatten(1).float())
        targets.append(torch.as_tensor(batch_targets, dtype=torch.long))
        filenames.extend(names)
    if not filenames:
        return torch.zeros(0, 0), torch.zeros(0, dtype=torch.long), []
    return features.tensor(), torch.cat(targets), filenames
