"""Helpers to inspect the configuration of view transforms in tests."""

from __future__ import annotations

from typing import Any

from torchvision.transforms import InterpolationMode

from selfsup.transforms import IMAGENET_NORMALIZE, ViewTransform

BASE = {
    "crop_scale": (0.08, 1.0),
    "interpolation": InterpolationMode.BILINEAR,
    "hf_prob": 0.5,
    "vf_prob": 0.0,
    "rr_prob": 0.0,
    "rr_degrees": None,
    "cj_prob": 0.8,
    "cj_strength": 1.0,
    "random_gray_scale": 0.2,
    "gaussian_blur": 0.5,
    "sigmas": (0.1, 2.0),
    "solarization_prob": 0.0,
    "normalize": IMAGENET_NORMALIZE,
}


def config(view: ViewTransform) -> dict[str, Any]:
    """The public configuration of a view, as plain values."""
    assert isinstance(view, ViewTransform)
    keys = ["input_size", *BASE, "cj_bright", "cj_contrast", "cj_sat", "cj_hue"]
    return {key: getattr(view, key) for key in keys}


def expected(size: int | None, jitter: tuple[float, float, float, float], **changes: Any) -> dict:
    """SimCLR-style defaults with the given size, jitter (bright, contrast, sat, hue) and changes."""
    bright, contrast, sat, hue = jitter
    values = {**BASE, "input_size": None if size is None else (size, size)}
    values.update(cj_bright=bright, cj_contrast=contrast, cj_sat=sat, cj_hue=hue, **changes)
    return values
