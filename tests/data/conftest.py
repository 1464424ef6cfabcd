"""Image- and video-file factories shared by the selfsup.data tests (tiny files in tmp_path)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


def _noise_rgb(size: tuple[int, int]) -> Image.Image:
    pixels = torch.randint(0, 256, (size[1], size[0], 3), dtype=torch.uint8).numpy()
    return Image.fromarray(pixels, mode="RGB")


@pytest.fixture
def write_image():
    """Returns ``write(path, color=(r, g, b), size=(8, 8), format=None)`` -> Path."""

    def write(path: Path, color=(10, 20, 30), size=(8, 8), format=None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, color).save(path, format=format)
        return path

    return write


@pytest.fixture
def truncated_jpeg():
    """Returns ``write(path)``: a JPEG whose header is intact but whose body is cut off."""

    def write(path: Path) -> Path:
        buffer = io.BytesIO()
        _noise_rgb((64, 64)).save(buffer, format="JPEG", quality=90)
        data = buffer.getvalue()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[: len(data) // 2])
        return path

    return write


@pytest.fixture
def noise_jpeg():
    """Returns ``write(path, size, exif=None)``: a noisy JPEG (so draft decoding is visible)."""

    def write(path: Path, size: tuple[int, int], exif: Image.Exif | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        image = _noise_rgb(size)
        if exif is None:
            image.save(path, format="JPEG", quality=80)
        else:
            image.save(path, format="JPEG", quality=80, exif=exif)
        return path

    return write


_BLOCK = 8
_FRAME_BITS = 16
_MARK_BITS = 8


def _marked_frame(index: int, mark: int, size: tuple[int, int]):
    """An RGB frame (uint8 array) whose 8x8 blocks spell ``index`` then ``mark`` in binary."""
    width, height = size
    pixels = torch.full((height, width, 3), 128, dtype=torch.uint8)
    bits = [(index >> b) & 1 for b in range(_FRAME_BITS)] + [
        (mark >> b) & 1 for b in range(_MARK_BITS)
    ]
    per_row = width // _BLOCK
    for position, bit in enumerate(bits):
        row, col = divmod(position, per_row)
        pixels[row * _BLOCK : (row + 1) * _BLOCK, col * _BLOCK : (col + 1) * _BLOCK] = 255 * bit
    return pixels.numpy()


@pytest.fixture
def write_video():
    """Returns ``write(path, frames=30, *, mark=0, codec="libx264", gop=10, bframes=0,
    size=(64, 48), rate=30, format=None, rotation=0)`` -> Path.

    Every frame shows its own index and the video's ``mark`` as black/white 8x8 blocks
    (binary), which survive lossy coding; ``read_marks`` reads them back. ``bframes`` > 0
    reorders frames (decode order differs from presentation order). ``rotation`` stores a
    counter-clockwise display rotation in the stream's display matrix.
    """
    import av  # a dev dependency (the ``video`` extra); imported here, only where needed

    def write(
        path: Path,
        frames: int = 30,
        *,
        mark: int = 0,
        codec: str = "libx264",
        gop: int = 10,
        bframes: int = 0,
        size: tuple[int, int] = (64, 48),
        rate: int = 30,
        format: str | None = None,
        rotation: int = 0,
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w", format=format) as container:
            stream = container.add_stream(codec, rate=rate)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.codec_context.gop_size = gop
            if rotation:
                stream.set_display_rotation(rotation)
            if codec == "libx264":
                stream.codec_context.options = {"preset": "ultrafast", "bf": str(bframes)}
            else:
                stream.codec_context.max_b_frames = bframes
            for index in range(frames):
                image = _marked_frame(index, mark, size)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                container.mux(stream.encode(frame))
            container.mux(stream.encode())
        return path

    return write


@pytest.fixture
def read_marks():
    """Returns ``read(image) -> (frame index, mark)`` for frames written by ``write_video``."""

    def read(image: Image.Image) -> tuple[int, int]:
        pixels = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy())
        per_row = image.width // _BLOCK
        values = []
        for position in range(_FRAME_BITS + _MARK_BITS):
            row, col = divmod(position, per_row)
            block = pixels[
                row * _BLOCK + 2 : (row + 1) * _BLOCK - 2, col * _BLOCK + 2 : (col + 1) * _BLOCK - 2
            ]
            values.append(int(block.float().mean() > 127))
        index = sum(bit << b for b, bit in enumerate(values[:_FRAME_BITS]))
        mark = sum(bit << b for b, bit in enumerate(values[_FRAME_BITS:]))
        return index, mark

    return read
