from __future__ import annotations

import pytest

from selfsup.transforms import Jigsaw, PIRLTransform, ViewTransform

from ._images import rgb_image
from ._views import config, expected


def test_defaults_and_output():
    image_view, jigsaw = PIRLTransform().transforms
    assert isinstance(image_view, ViewTransform) and isinstance(jigsaw, Jigsaw)
    assert config(image_view) == expected(
        64,
        (0.8, 0.8, 0.8, 0.2),
        hf_prob=0.0,
        cj_prob=0.0,
        random_gray_scale=0.0,
        gaussian_blur=0.0,
    )
    assert (jigsaw.n_grid, jigsaw.img_size, jigsaw.crop_size) == (3, 64, 21)
    assert config(jigsaw.patch_transform) == expected(None, (0.4, 0.4, 0.4, 0.4), gaussian_blur=0.0)
    view, patches = PIRLTransform()(rgb_image())
    assert view.shape == (3, 64, 64) and patches.shape == (9, 3, 21, 21)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="input_size"):
        PIRLTransform(input_size=2, n_grid=3)
