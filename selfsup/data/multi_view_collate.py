"""``MultiViewCollate``: stacks per-item lists of views into per-view batches.

The base of every selfsup collate function. It also implements the one policy they share
for damaged files: an item whose image is an :class:`~selfsup.data.UndecodedImage` (a file
that passed indexing but failed to decode) is dropped from the batch, logged once as a
warning naming the file, and recorded in ``dropped``. All collates are plain picklable
objects, usable as ``collate_fn`` with ``num_workers > 0``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from selfsup.data.undecoded import UndecodedImage

__all__ = ["MultiViewCollate"]

logger = logging.getLogger(__name__)


class MultiViewCollate:
    """Turns items ``(views, target, filename)`` into ``(view_batches, targets, filenames)``.

    Use it as ``collate_fn`` when the dataset's transform already returns a list of views
    (e.g. ``ImageDataset(..., transform=SimCLRTransform())``). View ``i`` of every item is
    stacked into batch ``i``. With ``transform`` given, the items hold plain images and the
    collate makes their views itself (how the lightly-style collate functions work).

    Damaged files: items whose image is an :class:`~selfsup.data.UndecodedImage` are left
    out; each such file is logged once (warning naming it) and appended to ``dropped``.
    ``dropped`` lives in the process that collates: with ``num_workers > 0`` each worker
    keeps its own copy, so count what reached the main process from the returned
    ``filenames`` instead. If every item of a batch is dropped, ``view_batches`` is an
    empty list and ``filenames`` is empty; training loops should skip such a batch.

    Args:
        transform: Optional multi-view transform (image -> list of tensors ``(C, H, W)``),
            e.g. ``SimCLRTransform()``, applied to each item's image; None when the items
            already carry their views.

    Attributes:
        transform: The transform given, or None.
        dropped: ``(filename, reason)`` of every undecodable file this instance dropped,
            once per file.

    Example:
        >>> dataset = ImageDataset("images/", transform=SimCLRTransform(input_size=32))
        >>> loader = DataLoader(dataset, batch_size=256, collate_fn=MultiViewCollate())
        >>> (x0, x1), targets, filenames = next(iter(loader))
    """

    def __init__(self, transform: Callable[[Any], Sequence[Tensor]] | None = None) -> None:
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None, got {transform!r}")
        self.transform = transform
        self.dropped: list[tuple[str, str]] = []

    def _views_of(self, image: Any) -> list[Tensor]:
        views = image if self.transform is None else self.transform(image)
        return [views] if isinstance(views, Tensor) else list(views)

    def _keep_decoded(self, batch: Sequence[tuple[Any, Any, str]]) -> list[tuple[Any, Any, str]]:
        kept = []
        for item in batch:
            image = item[0]
            if isinstance(image, UndecodedImage):
                if all(name != image.filename for name, _ in self.dropped):
                    self.dropped.append((image.filename, image.reason))
                    logger.warning(
                        "dropping undecodable image %r from the batch: %s (%d file(s) dropped)",
                        image.filename,
                        image.reason,
                        len(self.dropped),
                    )
                continue
            kept.append(item)
        return kept

    def __call__(
        self, batch: Sequence[tuple[Any, Any, str]]
    ) -> tuple[list[Tensor], Tensor, list[str]]:
        """Collates one batch.

        Args:
            batch: Items ``(views, target, filename)``; ``views`` is a list of tensors
                ``(C, H, W)`` (a single tensor counts as one view), or, with ``transform``,
                the image to make them from; ``target`` is an int.

        Returns:
            ``(view_batches, targets, filenames)``: one tensor ``(B, C, H, W)`` per view
            (sizes may differ between views, e.g. global and local crops), targets
            ``(B,)`` int64, and the B filenames, B being the number of items kept.

        Raises:
            TypeError: A view is not a tensor (end the transform with ``ToTensor``).
            ValueError: Items have different numbers of views or differently shaped views.
        """
        items = self._keep_decoded(batch)
        filenames = [str(item[2]) for item in items]
        targets = torch.tensor([int(item[1]) for item in items], dtype=torch.long)
        per_item = [self._views_of(item[0]) for item in items]
        if not per_item:
            return [], targets, filenames
        count = len(per_item[0])
        for views, filename in zip(per_item, filenames, strict=True):
            if len(views) != count:
                raise ValueError(
                    f"{filename!r} has {len(views)} views but {filenames[0]!r} has {count}; "
                    f"every item of a batch needs the same number of views"
                )
            for index, view in enumerate(views):
                if not isinstance(view, Tensor):
                    raise TypeError(
                        f"view {index} of {filename!r} is a {type(view).__name__}, not a "
                        f"tensor; the transform must end with a conversion to tensor"
                    )
        batches = []
        for index in range(count):
            shapes = {tuple(views[index].shape) for views in per_item}
            if len(shapes) > 1:
                raise ValueError(
                    f"view {index} has different shapes within the batch: {sorted(shapes)}"
                )
            batches.append(torch.stack([views[index] for views in per_item]))
        return batches, targets, filenames
