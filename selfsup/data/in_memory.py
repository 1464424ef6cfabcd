"""``InMemoryImageDataset``: a dataset's decoded uint8 images, kept in one tensor.

On the batched augmentation path the DataLoader workers only decode and resize each image
(:class:`~selfsup.transforms.batched.DecodeResize`), and they do it again every epoch. For small
images that decode is a large share of an epoch: about a quarter of the CPU time of SimCLR on
Fashion-MNIST at 16 px. Decoding every image once into memory (3 x 16 x 16 bytes each, 46 MB for
60,000 images) leaves each later epoch only an index into a tensor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from selfsup.data.undecoded import UndecodedImage

__all__ = ["InMemoryImageDataset"]

logger = logging.getLogger(__name__)


def _check_shape(filename: str, shape: torch.Size, first: str, first_shape: torch.Size) -> None:
    """Every in-memory image has the shape of the first one kept."""
    if shape != first_shape:
        raise ValueError(
            f"{filename!r} decodes to shape {tuple(shape)}, {first!r} to {tuple(first_shape)}; "
            f"resize them to one size (transform=DecodeResize(size))"
        )


def _stack_decoded(
    batch: Sequence[tuple[Any, int, str]],
) -> tuple[Tensor | None, list[int], list[str], list[tuple[str, str]]]:
    """Worker-side collate of the decode pass: the batch's decoded images stacked (one shared
    tensor per batch crosses from the worker, not one per image), damaged files listed apart."""
    images, targets, filenames, undecoded = [], [], [], []
    for image, target, filename in batch:
        if isinstance(image, UndecodedImage):
            undecoded.append((filename, image.reason))
            continue
        if not isinstance(image, Tensor) or image.dtype != torch.uint8 or image.dim() != 3:
            raise TypeError(
                f"InMemoryImageDataset holds uint8 images (C, H, W); the dataset gave "
                f"{type(image).__name__} for {filename!r} (use transform=DecodeResize(size))"
            )
        if images:
            _check_shape(filename, image.shape, filenames[0], images[0].shape)
        images.append(image)
        targets.append(int(target))
        filenames.append(str(filename))
    return (torch.stack(images) if images else None), targets, filenames, undecoded


class InMemoryImageDataset(Dataset):
    """Decoded uint8 images ``(N, C, H, W)`` with their targets and filenames, in memory.

    Items are ``(image, target, filename)`` like :class:`~selfsup.data.ImageDataset`'s, so the
    same collate functions and batched transforms take them. Build one from a dataset whose
    items are uint8 tensors of one shape with :meth:`from_dataset`.

    Args:
        images: uint8 tensor ``(N, C, H, W)``.
        targets: int64 tensor ``(N,)``.
        filenames: The N filenames.
        skipped: ``(filename, reason)`` of the files left out because they could not be decoded.

    Raises:
        ValueError: ``images`` is not a 4-D uint8 tensor, or the three lengths differ.
    """

    def __init__(
        self,
        images: Tensor,
        targets: Tensor,
        filenames: Sequence[str],
        skipped: Sequence[tuple[str, str]] = (),
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(
                f"images must be a uint8 tensor (N, C, H, W), got {images.dtype} "
                f"of shape {tuple(images.shape)}"
            )
        if not len(images) == len(targets) == len(filenames):
            raise ValueError(
                f"images, targets and filenames differ in length: "
                f"{len(images)}, {len(targets)}, {len(filenames)}"
            )
        self.images = images
        self.targets = targets
        self.filenames = list(filenames)
        self.skipped = list(skipped)

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, *, batch_size: int = 256, num_workers: int = 0
    ) -> InMemoryImageDataset:
        """Decodes every item of ``dataset`` once and keeps the images.

        Damaged files (items whose image is an :class:`~selfsup.data.UndecodedImage`) are left
        out, logged in one warning and listed in ``skipped``. The pass reads the dataset in order
        and draws nothing from torch's global random generator, so a seeded run that caches its
        images trains as one that does not.

        Args:
            dataset: Items ``(image, target, filename)``, each image a uint8 tensor
                ``(C, H, W)`` of the same shape, e.g.
                ``ImageDataset(folder, transform=DecodeResize(16), decode_to_tensor=True)``.
            batch_size: Images per decode batch.
            num_workers: DataLoader worker processes that decode.

        Raises:
            TypeError: An image is not a 3-D uint8 tensor.
            ValueError: No image could be decoded, or the images differ in shape.
        """
        loader = DataLoader(
            dataset,
            batch_size=batch_size,
            num_workers=num_workers,
            collate_fn=_stack_decoded,
            generator=torch.Generator(),
        )
        batches: list[Tensor] = []
        targets: list[int] = []
        filenames: list[str] = []
        skipped: list[tuple[str, str]] = []
        for batch_images, batch_targets, batch_filenames, batch_skipped in loader:
            if batch_images is not None:
                if batches:
                    _check_shape(
                        batch_filenames[0],
                        batch_images.shape[1:],
                        filenames[0],
                        batches[0].shape[1:],
                    )
                batches.append(batch_images)
            targets += batch_targets
            filenames += batch_filenames
            skipped += batch_skipped
        if not batches:
            raise ValueError(f"none of the {len(dataset)} images could be decoded")
        if skipped:
            logger.warning(
                "left %d undecodable file(s) out of the in-memory images, e.g. %r: %s",
                len(skipped),
                skipped[0][0],
                skipped[0][1],
            )
        return cls(torch.cat(batches), torch.tensor(targets, dtype=torch.long), filenames, skipped)

    @property
    def nbytes(self) -> int:
        """Memory the images take, in bytes."""
        return self.images.numel() * self.images.element_size()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Tensor, int, str]:
        """``(image, target, filename)``: image ``(C, H, W)`` uint8, target an int."""
        return self.images[index], int(self.targets[index]), self.filenames[index]
