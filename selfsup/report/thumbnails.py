"""Small JPEG thumbnails, base64-encoded for ``data:`` URIs, made within a count and size budget."""

from __future__ import annotations

import base64
import dataclasses
import io
import logging
import os
from collections.abc import Iterable

from PIL import Image

from selfsup.data import ImageDecodeError, load_image

__all__ = ["Thumbnails", "make_thumbnails", "thumbnail_jpeg"]

logger = logging.getLogger(__name__)


def thumbnail_jpeg(path: str | os.PathLike[str], *, size: int = 64, quality: int = 70) -> bytes:
    """Decodes an image and encodes it as a JPEG whose longer side is at most ``size`` pixels.

    Smaller images are kept at their size (never enlarged). Decoding goes through
    :func:`selfsup.data.load_image` (RGB, EXIF orientation applied, large JPEGs decoded at a
    reduced scale first).

    Args:
        path: Image file.
        size: Longest side of the thumbnail in pixels, ``>= 8``.
        quality: JPEG quality in ``[1, 95]``.

    Returns:
        The JPEG file's bytes.

    Raises:
        ValueError: ``size`` or ``quality`` out of range.
        ImageDecodeError: the file cannot be decoded.
    """
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"thumbnail size must be an int >= 8 pixels, got {size!r}")
    if not isinstance(quality, int) or not 1 <= quality <= 95:
        raise ValueError(f"thumbnail quality must be an int in [1, 95], got {quality!r}")
    image = load_image(path, draft_size=size)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


@dataclasses.dataclass
class Thumbnails:
    """Thumbnails made by :func:`make_thumbnails`.

    Attributes:
        images: Key -> base64 text of a JPEG (prefix ``data:image/jpeg;base64,`` for a URI).
        total_bytes: Sum of the base64 lengths, the bytes they add to a page.
        failed: ``(filename, reason)`` of images that could not be decoded.
        limited_by: ``"max_count"`` or ``"max_bytes"`` when a budget stopped the run, else None.
    """

    images: dict[int, str]
    total_bytes: int
    failed: list[tuple[str, str]]
    limited_by: str | None = None


def make_thumbnails(
    root: str | os.PathLike[str],
    wanted: Iterable[tuple[int, str]],
    *,
    size: int = 64,
    quality: int = 70,
    max_count: int = 10_000,
    max_bytes: int = 20_000_000,
) -> Thumbnails:
    """Makes thumbnails in the order given until a budget is spent.

    Args:
        root: Folder the file names are relative to.
        wanted: ``(key, filename)`` pairs, most wanted first.
        size: Longest side in pixels (see :func:`thumbnail_jpeg`).
        quality: JPEG quality.
        max_count: Most thumbnails to make, ``>= 0``.
        max_bytes: Most base64 bytes in all, ``>= 0``; the first thumbnail that would pass it
            ends the run.

    Returns:
        :class:`Thumbnails`; an undecodable image is logged and listed in ``failed``, not made.

    Raises:
        ValueError: a negative budget, or a bad ``size`` or ``quality``.
    """
    if max_count < 0 or max_bytes < 0:
        raise ValueError(
            f"max_count and max_bytes must be >= 0, got max_count={max_count}, "
            f"max_bytes={max_bytes}"
        )
    result = Thumbnails({}, 0, [])
    for key, filename in wanted:
        if len(result.images) >= max_count:
            result.limited_by = "max_count"
            break
        try:
            jpeg = thumbnail_jpeg(os.path.join(root, filename), size=size, quality=quality)
        except ImageDecodeError as error:
            logger.warning("no thumbnail for %r: %s", filename, error.reason)
            result.failed.append((filename, error.reason))
            continue
        text = base64.b64encode(jpeg).decode("ascii")
        if result.total_bytes + len(text) > max_bytes:
            result.limited_by = "max_bytes"
            break
        result.images[key] = text
        result.total_bytes += len(text)
    return result
