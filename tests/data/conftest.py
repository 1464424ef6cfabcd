"""Image-file factories shared by the selfsup.data tests (tiny images written to tmp_path)."""

from __future__ import annotations

import io
from pathlib import Path

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
