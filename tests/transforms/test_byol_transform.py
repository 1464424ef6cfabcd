from __future__ import annotations

import pytest
import torch

from selfsup.transforms import BYOLTransform, BYOLView1Transform, BYOLView2Transform

from ._images import rgb_image
from ._views import config, expected

BYOL_JITTER = (0.4, 0.4, 0.2, 0.1)


def test_default_views_are_asymmetric():
    view_1, view_2 = BYOLTransform().transforms
    assert config(view_1) == expected(224, BYOL_JITTER, gaussian_blur=1.0, solarization_prob=0.0)
    assert config(view_2) == expected(224, BYOL_JITTER, gaussian_blur=0.1, solarization_prob=0.2)
    assert config(BYOLView1Transform()) == config(view_1)
    assert config(BYOLView2Transform()) == config(view_2)


def test_flat_arguments_configure_both_views():
    view_1, view_2 = BYOLTransform(
        input_size=32, gaussian_blur=(0.3, 0.4), solarization_prob=(0.5, 0.6), cj_strength=0.5
    ).transforms
    assert (view_1.input_size, view_1.gaussian_blur, view_1.solarization_prob) == (
        (32, 32),
        0.3,
        0.5,
    )
    assert (view_2.input_size, view_2.gaussian_blur, view_2.solarization_prob) == (
        (32, 32),
        0.4,
        0.6,
    )
    assert view_1.cj_strength == view_2.cj_strength == 0.5


def test_given_view_transforms_replace_the_built_ones():
    def first(image):
        return torch.zeros(3, 2, 2)

    transform = BYOLTransform(
        view_1_transform=first, view_2_transform=BYOLView2Transform(input_size=8)
    )
    views = transform(rgb_image())
    assert torch.equal(views[0], torch.zeros(3, 2, 2)) and views[1].shape == (3, 8, 8)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gaussian_blur": 0.5}, TypeError, "gaussian_blur"),
        ({"solarization_prob": (0.1, 1.1)}, ValueError, r"solarization_prob\[1\]"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BYOLTransform(**kwargs)
