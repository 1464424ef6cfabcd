from __future__ import annotations

from torchvision.transforms import InterpolationMode

from selfsup.transforms import MAETransform

from ._views import config, expected


def test_defaults_crop_and_flip_only():
    (view,) = MAETransform().transforms
    assert config(view) == expected(
        224,
        (0.8, 0.8, 0.8, 0.2),
        crop_scale=(0.2, 1.0),
        interpolation=InterpolationMode.BICUBIC,
        cj_prob=0.0,
        random_gray_scale=0.0,
        gaussian_blur=0.0,
    )
