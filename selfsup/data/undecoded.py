"""Placeholder returned for an image that passed indexing but fails to decode.

A JPEG whose body is truncated has a valid header, so it is only found out when a
DataLoader worker decodes it. Raising there would end the epoch; returning another file's
image would silently mislabel data. Instead :class:`~selfsup.data.ImageDataset` returns
``(UndecodedImage(...), target, filename)`` for that index, and every selfsup collate
function drops such items with a warning naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["UndecodedImage", "is_undecoded"]


@dataclass(frozen=True)
class UndecodedImage:
    """Stands in for the image of a file that could not be decoded.

    Attributes:
        filename: The file's name relative to the dataset root.
        reason: The decoder's error message.
    """

    filename: str
    reason: str


def is_undecoded(item: Any) -> bool:
    """Whether a dataset item ``(image, target, filename)`` carries an :class:`UndecodedImage`.

    Args:
        item: One dataset item, or just its image.

    Returns:
        True for an :class:`UndecodedImage` or a tuple/list whose first element is one.
    """
    if isinstance(item, UndecodedImage):
        return True
    return isinstance(item, (tuple, list)) and bool(item) and isinstance(item[0], UndecodedImage)
