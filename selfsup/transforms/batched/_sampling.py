"""Vectorised random parameter sampling shared by the batched transforms."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["random_resized_crop_boxes"]

#: Aspect ratio range of torchvision's ``RandomResizedCrop`` (and of ``ViewTransform``).
_CROP_RATIO = (3.0 / 4.0, 4.0 / 3.0)
#: Attempts of torchvision's ``RandomResizedCrop`` before its centre-crop fallback.
_CROP_TRIES = 10


def random_resized_crop_boxes(
    batch_size: int,
    height: int,
    width: int,
    scale: tuple[float, float],
    rand: Callable[..., Tensor],
) -> Tensor:
    """Crop boxes ``(B, 4)`` (x0, y0, x1, y1) drawn as torchvision's ``RandomResizedCrop`` draws
    them, all tries of all samples at once.

    Per sample: up to 10 tries of an area fraction uniform in ``scale`` and a log aspect ratio
    uniform in ``[log(3/4), log(4/3)]`` (width and height rounded); the first try that fits
    the ``height`` x ``width`` image is kept, at a uniformly drawn integer position; when none
    fits, the centre crop of the largest in-range aspect ratio (torchvision's fallback).
    ``rand(*shape)`` draws uniform numbers in [0, 1) on the target device.
    """
    area = float(height * width)
    low, high = scale
    log_low, log_high = math.log(_CROP_RATIO[0]), math.log(_CROP_RATIO[1])
    target = area * (low + (high - low) * rand(batch_size, _CROP_TRIES))
    aspect = torch.exp(log_low + (log_high - log_low) * rand(batch_size, _CROP_TRIES))
    crop_w = torch.sqrt(target * aspect).round()
    crop_h = torch.sqrt(target / aspect).round()
    fits = (crop_w > 0) & (crop_w <= width) & (crop_h > 0) & (crop_h <= height)
    first = fits.to(torch.uint8).argmax(dim=1, keepdim=True)
    found = fits.any(dim=1)
    in_ratio = width / height
    if in_ratio < _CROP_RATIO[0]:
        fallback_w, fallback_h = width, round(width / _CROP_RATIO[0])
    elif in_ratio > _CROP_RATIO[1]:
        fallback_w, fallback_h = round(height * _CROP_RATIO[1]), height
    else:
        fallback_w, fallback_h = width, height
    crop_w = torch.where(found, crop_w.gather(1, first).squeeze(1), float(fallback_w))
    crop_h = torch.where(found, crop_h.gather(1, first).squeeze(1), float(fallback_h))
    offsets = rand(batch_size, 2)
    top = torch.where(
        found,
        torch.floor(offsets[:, 0] * (height - crop_h + 1)),
        float((height - fallback_h) // 2),
    )
    left = torch.where(
        found,
        torch.floor(offsets[:, 1] * (width - crop_w + 1)),
        float((width - fallback_w) // 2),
    )
    return torch.stack([left, top, left + crop_w, top + crop_h], dim=1)
