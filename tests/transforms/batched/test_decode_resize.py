"""DecodeResize: the worker-side transform of the batched path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image

from selfsup.transforms.batched import DecodeResize, SimCLRBatchTransform

from .._images import rgb_array


def _reference(array: np.ndarray, size: int) -> torch.Tensor:
    """torchvision: shorter side to ``size`` (antialiased bilinear), then centre crop, in float."""
    image = torch.from_numpy(array).permute(2, 0, 1).float()
    resized = TF.resize(image, size, antialias=True)
    return TF.center_crop(resized, [size, size])


@pytest.mark.parametrize(("height", "width"), [(60, 90), (90, 60), (40, 40), (16, 24)])
def test_shorter_side_resize_and_centre_crop(height, width):
    array = rgb_array(height, width)
    out = DecodeResize(20)(Image.fromarray(array))
    assert out.shape == (3, 20, 20) and out.dtype == torch.uint8 and out.is_contiguous()
    error = (out.float() - _reference(array, 20)).abs()
    # Pillow's resize of the centre box vs torchvision's resize then integer-offset crop: the
    # same filter, sub-pixel different placement and 8-bit rounding.
    assert error.mean() < 1.0, error.mean()


def test_image_of_the_output_size_is_unchanged():
    array = rgb_array(20, 20)
    out = DecodeResize(20)(Image.fromarray(array))
    assert torch.equal(out, torch.from_numpy(array).permute(2, 0, 1))


def test_other_modes_become_rgb():
    gray = Image.fromarray(rgb_array(30, 30)[..., 0])
    out = DecodeResize(10)(gray)
    assert out.shape == (3, 10, 10) and torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])
    rgba = Image.new("RGBA", (30, 30), (255, 0, 0, 0))  # fully transparent: white after compositing
    assert torch.equal(DecodeResize(10)(rgba), torch.full((3, 10, 10), 255, dtype=torch.uint8))


def test_jpeg_path_uses_draft_decoding_and_stays_close(tmp_path):
    array = rgb_array(400, 320)
    path = tmp_path / "big.jpg"
    Image.fromarray(array).save(path, quality=95)
    out = DecodeResize(64)(path)
    assert out.shape == (3, 64, 64)
    with Image.open(path) as image:
        full = DecodeResize(64)(image.convert("RGB"))
    assert (out.float() - full.float()).abs().mean() < 4.0
    assert DecodeResize(64)(str(path)).shape == (3, 64, 64)


def test_collated_items_feed_the_batched_transforms():
    items = [DecodeResize(24)(Image.fromarray(rgb_array(30, 40, seed))) for seed in range(4)]
    views = SimCLRBatchTransform(input_size=16)(torch.stack(items))
    assert [tuple(v.shape) for v in views] == [(4, 3, 16, 16)] * 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="size must be an integer >= 1, got 0"):
        DecodeResize(0)
    with pytest.raises(TypeError, match="size must be an integer"):
        DecodeResize(2.5)
    with pytest.raises(
        TypeError, match="expected a PIL image, a uint8 tensor or a file path, got ndarray"
    ):
        DecodeResize(8)(rgb_array(10, 10))
