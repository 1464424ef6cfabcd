"""One pass of an encoder over a loader of ``([images], targets, filenames)`` batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor
from tqdm import tqdm

__all__ = ["extract_features"]


@torch.no_grad()
def extract_features(
    encode: Callable[[Tensor], Tensor],
    loader: Iterable,
    device: torch.device | str = "cpu",
    desc: str | None = None,
) -> tuple[Tensor, Tensor, list[str]]:
    """Encodes the first view of every batch, skipping batches left empty by undecodable files.

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
    batches = loader if desc is None else tqdm(loader, desc=desc, unit="batch", leave=False)
    features, targets, filenames = [], [], []
    for views, batch_targets, names in batches:
        if not names:
            continue
        features.append(encode(views[0].to(device)).flatten(1).float().cpu())
        targets.append(torch.as_tensor(batch_targets, dtype=torch.long))
        filenames.extend(names)
    if not features:
        return torch.zeros(0, 0), torch.zeros(0, dtype=torch.long), []
    return torch.cat(features), torch.cat(targets), filenames
