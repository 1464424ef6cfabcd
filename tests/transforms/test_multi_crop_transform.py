from __future__ import annotations

import pytest
import torch

from selfsup.transforms import MultiCropTransform, ViewTransform

from ._images import rgb_image


def _no_augment() -> ViewTransform:
    return ViewTransform(
        input_size=None, hf_prob=0, cj_prob=0, random_gray_scale=0, gaussian_blur=0
    )


def test_crop_groups_in_order_with_their_sizes():
    transform = MultiCropTransform((16, 8), (2, 3), (0.5, 0.1), (1.0, 0.3), _no_augment())
    views = transform(rgb_image())
    assert [tuple(v.shape) for v in views] == [(3, 16, 16)] * 2 + [(3, 8, 8)] * 3
    assert all(v.dtype == torch.float32 for v in views)


def test_crop_scales_are_used():
    # Full-area crops of a square image are the whole image, resized.
    transform = MultiCropTransform((8,), (2,), (1.0,), (1.0,), _no_augment())
    first, second = transform(rgb_image())
    torch.testing.assert_close(first, second)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (((16, 8), (2,), (0.5, 0.1), (1.0, 0.3)), ValueError, "same length"),
        (((16,), (2,), (0.5,), (0.4,)), ValueError, "crop_min_scales"),
        (((16,), (-1,), (0.5,), (1.0,)), ValueError, "crop_counts"),
        (((16,), (0,), (0.5,), (1.0,)), ValueError, "at least one crop"),
        (((0,), (1,), (0.5,), (1.0,)), ValueError, "crop_sizes"),
    ],
)
def test_invalid_arguments(args, error, match):
    with pytest.raises(error, match=match):
        MultiCropTransform(*args, _no_augment())
