from __future__ import annotations

import pytest

from selfsup.transforms import SimCLRTransform, SimCLRViewTransform

from ._images import rgb_image
from ._views import config, expected


def test_defaults_are_simclr_and_lightly():
    transform = SimCLRTransform()
    assert len(transform) == 2 and transform.transforms[0] is transform.transforms[1]
    assert config(transform.transforms[0]) == expected(224, (0.8, 0.8, 0.8, 0.2))


def test_arguments_reach_the_view():
    view = SimCLRViewTransform(
        input_size=40,
        cj_strength=0.5,
        min_scale=0.3,
        vf_prob=0.4,
        rr_prob=0.3,
        rr_degrees=15.0,
        sigmas=(0.2, 1.0),
        normalize=None,
    )
    assert config(view) == expected(
        40,
        (0.8, 0.8, 0.8, 0.2),
        cj_strength=0.5,
        crop_scale=(0.3, 1.0),
        vf_prob=0.4,
        rr_prob=0.3,
        rr_degrees=15.0,
        sigmas=(0.2, 1.0),
        normalize=None,
    )
    assert view(rgb_image()).shape == (3, 40, 40)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_scale": 0.0}, "min_scale"),
        ({"min_scale": 1.5}, "min_scale"),
        ({"cj_prob": 2}, "cj_prob"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SimCLRTransform(**kwargs)
