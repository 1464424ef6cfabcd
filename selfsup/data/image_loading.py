"""Robust image decoding: any file PIL reads becomes an 8-bit RGB image the right way up.

Self-supervised training folders are rarely clean: palette PNGs with transparency, 16-bit
medical or scientific images, CMYK JPEGs from print workflows, phone photos stored sideways
with an EXIF orientation tag, and files that are empty, truncated or not images at all.
:func:`load_image` turns every readable file into the same thing, an ``RGB`` PIL image, and
raises :class:`ImageDecodeError` (naming the file) for everything else.

Conversion rules, by PIL mode:

- ``RGB``: unchanged. ``1``, ``L``, ``CMYK``, ``YCbCr`` and other colour modes: PIL's
  conversion (CMYK uses ``R = 255 * (1 - C) * (1 - K)``, likewise for G and B).
- Anything with transparency (``RGBA``, ``LA``, ``PA``, ``RGBa``, ``La``, ``P``/``L``/``RGB``
  with a ``transparency`` key): composited over an opaque white background, which is how
  such images look on a page or in a file browser.
- ``I;16`` (16-bit), and ``I`` (32-bit integer, how PIL opens 16-bit PGM and some 16-bit
  TIFFs): read as unsigned 16-bit values, clipped to ``[0, 65535]`` and scaled to 8 bits by
  rounding ``v * 255 / 65535``, so white stays white (never clipped to 255 or shifted).
- ``F`` (32-bit float): values in ``[0, 1]`` when the image's maximum is at most 1, otherwise
  in ``[0, 255]`` (PIL's own convention); clipped to the range, scaled to 8 bits, NaN -> 0.

The EXIF orientation tag is applied with :func:`PIL.ImageOps.exif_transpose`. Decoding never
changes PIL's process-wide switches (``ImageFile.LOAD_TRUNCATED_IMAGES`` stays as it is).
"""

from __future__ import annotations

import io
import os
import warnings
from typing import Final

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageDecodeError",
    "check_image_header",
    "load_image",
    "load_image_tensor",
    "to_rgb",
]

IMAGE_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}
)
"""Lower-case file extensions (with the dot) that are indexed as images."""

_EXIF_ORIENTATION_TAG: Final = 0x0112
_TRANSPOSED_ORIENTATIONS: Final = frozenset({5, 6, 7, 8})
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SIXTEEN_BIT_MODES: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_HEADER_BYTES: Final = 32
_WHITE: Final = (255, 255, 255, 255)


class ImageDecodeError(OSError):
    """A file could not be read as an image.

    Args:
        path: The file that failed.
        reason: Why it failed, e.g. ``"empty file"`` or PIL's error message.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"cannot decode image {os.fspath(path)!r}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


def _sniff_format(header: bytes) -> str | None:
    """Names the image format whose magic bytes start ``header``, or None if none matches."""
    if header.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if header.startswith(b"\x89PNG\r\n\x1a\n"):
        # The IHDR chunk (length, type, 13 data bytes, CRC) must follow the signature.
        return "PNG" if len(header) >= 32 and header[12:16] == b"IHDR" else None
    if header[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+") and len(header) >= 8:
        return "TIFF"
    if header.startswith(b"BM") and len(header) >= 26:
        return "BMP"
    if header.startswith(b"RIFF") and header[8:12] == b"WEBP" and header[12:15] == b"VP8":
        return "WEBP"
    if len(header) >= 3 and header[0:1] == b"P" and header[1:2] in b"1234567":
        return "PPM" if header[2:3].isspace() else None
    if header[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


def check_image_header(path: str | os.PathLike[str]) -> str | None:
    """Cheaply checks that a file starts like an image, without decoding it.

    Reads the first 32 bytes and matches the magic numbers of JPEG, PNG (signature plus
    IHDR chunk), TIFF, BMP, WebP, PPM/PGM/PBM and GIF. A file that matches none of them
    is opened with :func:`PIL.Image.open` (header only), so any other format PIL knows
    still passes; only that rare fallback costs more than one small read.

    Args:
        path: File to check.

    Returns:
        None when the header looks valid, otherwise a short reason such as
        ``"empty file"`` or ``"not an image (unrecognised header)"``.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            header = os.read(fd, _HEADER_BYTES)
        finally:
            os.close(fd)
    except OSError as error:
        return f"unreadable: {error.strerror or error}"
    if not header:
        return "empty file"
    if _sniff_format(header) is not None:
        return None
    try:
        with Image.open(path):
            return None
    except Exception as error:  # PIL raises many exception types for bad files
        return f"not an image ({error})"


def _scale_to_uint8(values: np.ndarray, maximum: float) -> np.ndarray:
    """Clips ``values`` to ``[0, maximum]`` and scales them to rounded uint8 in [0, 255]."""
    as_float = np.nan_to_num(values.astype(np.float64), nan=0.0)
    scaled = np.clip(as_float, 0.0, maximum) * (255.0 / maximum)
    return np.rint(scaled).astype(np.uint8)


def to_rgb(image: Image.Image) -> Image.Image:
    """Converts a PIL image of any mode to 8-bit ``RGB`` following the module's rules.

    Args:
        image: A loaded PIL image of any mode (``1``, ``L``, ``LA``, ``P``, ``RGBA``, ``CMYK``,
            ``I;16``, ``I``, ``F``, ...).

    Returns:
        An ``RGB`` image of the same size (the input itself when it is already ``RGB``
        without a transparency key). Alpha is composited over white.
    """
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        gray = _scale_to_uint8(np.asarray(image), 65535.0)
        return Image.fromarray(gray, mode="L").convert("RGB")
    if mode == "F":
        values = np.asarray(image, dtype=np.float32)
        finite = values[np.isfinite(values)]
        maximum = 1.0 if finite.size == 0 or float(finite.max()) <= 1.0 else 255.0
        return Image.fromarray(_scale_to_uint8(values, maximum), mode="L").convert("RGB")
    if mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _WHITE)
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "RGB":
        return image
    return image.convert("RGB")


def _draft_request(image: Image.Image, draft_size: int | tuple[int, int]) -> tuple[int, int]:
    """The (width, height) to ask JPEG draft for, in the file's stored orientation."""
    width, height = (draft_size, draft_size) if isinstance(draft_size, int) else draft_size
    orientation = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    if orientation in _TRANSPOSED_ORIENTATIONS:
        return height, width
    return width, height


def load_image(
    path: str | os.PathLike[str], *, draft_size: int | tuple[int, int] | None = None
) -> Image.Image:
    """Decodes an image file into an 8-bit ``RGB`` PIL image, EXIF orientation applied.

    Args:
        path: Image file to read (any format PIL reads; the extension is not trusted).
        draft_size: Optional size hint, an int ``s`` (meaning ``(s, s)``) or ``(width,
            height)`` in displayed orientation. JPEGs much larger than it are decoded at a
            reduced scale (1/2, 1/4 or 1/8, PIL's ``draft`` mode), which is several times
            faster; the result is never smaller than the hint in either side, unless the
            file itself is. Other formats ignore it.

    Returns:
        The decoded ``RGB`` image, values uint8 in [0, 255].

    Raises:
        ImageDecodeError: The file is missing, empty, truncated, not an image, or PIL
            cannot decode it. The message names the file and the cause.
    """
    return _decode_with_pil(path, path, draft_size)


def _decode_with_pil(
    source: str | os.PathLike[str] | io.BytesIO,
    path: str | os.PathLike[str],
    draft_size: int | tuple[int, int] | None,
) -> Image.Image:
    """:func:`load_image` of ``source`` (the file, or its bytes already read); errors name
    ``path``."""
    try:
        with Image.open(source) as image:
            if draft_size is not None and image.format == "JPEG":
                image.draft("RGB", _draft_request(image, draft_size))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            return to_rgb(image)
    except Exception as error:  # corrupt files make PIL raise many exception types
        raise ImageDecodeError(path, str(error) or type(error).__name__) from error


#: JPEG start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic).
_SOF_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_frame(data: bytes) -> tuple[int, int, int, bool] | None:
    """``(width, height, components, has_exif)`` from a JPEG's segments up to its start of
    frame, or None when ``data`` is not a JPEG whose markers lead to one (the caller then lets
    PIL decide)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    position = 2
    has_exif = False
    while position + 9 < len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xE1 and data[position + 4 : position + 10] == b"Exif\x00\x00":
            has_exif = True
        if marker in _SOF_MARKERS:
            height = int.from_bytes(data[position + 5 : position + 7], "big")
            width = int.from_bytes(data[position + 7 : position + 9], "big")
            return width, height, data[position + 9], has_exif
        position += 2 + length
    return None


def _decode_jpeg_fast(data: bytes) -> Tensor | None:
    """libjpeg-turbo through simplejpeg (extra ``fastjpeg``) with its fast integer IDCT (chroma
    upsampling stays the smooth one): ``(3, H, W)`` uint8 (a channels-last view); None where
    simplejpeg is not installed or rejects the data."""
    try:
        import simplejpeg
    except ImportError:
        return None
    try:
        pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=True)
    except ValueError:
        return None
    return torch.from_numpy(pixels).permute(2, 0, 1)


def _decode_jpeg_tensor(data: bytes) -> Tensor | None:
    """libjpeg-turbo through torchvision: ``(3, H, W)`` uint8, EXIF orientation applied; None
    where torchvision's decoder is missing or rejects the data (PIL then decodes the file)."""
    try:
        from torchvision.io import ImageReadMode, decode_jpeg
    except ImportError:
        return None
    with warnings.catch_warnings():
        # torchvision 0.29 marks its image decoders deprecated (in favour of TorchCodec); they
        # are the fastest decoder in the pinned release, and PIL takes over once they are gone.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            encoded = torch.frombuffer(bytearray(data), dtype=torch.uint8)
            return decode_jpeg(encoded, mode=ImageReadMode.RGB, apply_exif_orientation=True)
        except RuntimeError:
            return None


def load_image_tensor(
    path: str | os.PathLike[str], *, draft_size: int | tuple[int, int] | None = None
) -> Tensor:
    """Decodes an image file into a uint8 tensor ``(3, H, W)``, as :func:`load_image` does.

    The fast path of the batched augmentation's DataLoader workers. JPEGs with 1 or 3 colour
    components that draft mode would not shrink (shorter side under twice the smaller side of
    ``draft_size``) are decoded straight into a tensor by libjpeg-turbo, without a PIL image:
    with simplejpeg (extra ``fastjpeg``) and libjpeg-turbo's fast integer IDCT (about 0.75x
    the time of torchvision's decoder; pixels within about 1 level of PIL's on average, up to
    about 10 at sharp edges), for files without EXIF data; else
    with torchvision's decoder (EXIF orientation applied; about 1.4x faster than
    :func:`load_image` plus the array conversion, pixels within a few levels of PIL's). Every
    other file (PNG, CMYK JPEGs, JPEGs large enough for draft
    mode, JPEGs torchvision rejects, ...) goes through :func:`load_image` and its conversion
    rules, as does everything when torchvision's image decoder is unavailable.

    Args:
        path: Image file to read.
        draft_size: As for :func:`load_image`.

    Returns:
        ``(3, H, W)`` uint8 tensor in [0, 255]; it may be a channels-last view (``permute`` of
        an ``(H, W, 3)`` array).

    Raises:
        ImageDecodeError: The file is missing, empty, truncated or not a readable image.
    """
    try:
        with open(path, "rb") as handle:
            header = handle.read(3)
            # Only JPEGs are read here; PIL reads every other file itself (one read per file).
            data = header + handle.read() if header == b"\xff\xd8\xff" else None
    except OSError as error:
        raise ImageDecodeError(path, str(error)) from error
    frame = None if data is None else _jpeg_frame(data)
    if frame is not None and frame[2] in (1, 3):
        width, height, _, has_exif = frame
        smaller = draft_size if isinstance(draft_size, int) else min(draft_size or (0, 0))
        if draft_size is None or min(width, height) < 2 * smaller:
            # simplejpeg does not read EXIF orientation: files with EXIF go to torchvision.
            decoded = None if has_exif else _decode_jpeg_fast(data)
            if decoded is None:
                decoded = _decode_jpeg_tensor(data)
            if decoded is not None:
                return decoded
    source = path if data is None else io.BytesIO(data)
    image = _decode_with_pil(source, path, draft_size)
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)
