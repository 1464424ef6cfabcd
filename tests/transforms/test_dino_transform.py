from __future__ import annotations

import pytest
from torchvision.transforms import InterpolationMode

from selfsup.transforms import DINOTransform, DINOViewTransform

from ._views import config, expected

DINO = {"cj_strength": 0.5, "interpolation": InterpolationMode.BICUBIC}


def test_default_views():
    views = DINOTransform().transforms
    assert len(views) == 8
    global_1, global_2, *local = views
    jitter = (0.8, 0.8, 0.4, 0.2)
    assert config(global_1) == expected(
        224, jitter, crop_scale=(0.4, 1.0), gaussian_blur=1.0, **DINO
    )
    assert config(global_2) == expected(
        224, jitter, crop_scale=(0.4, 1.0), gaussian_blur=0.1, solarization_prob=0.2, **DINO
    )
    assert all(view is local[0] for view in local)
    assert config(local[0]) == expected(
        96, jitter, crop_scale=(0.05, 0.4), gaussian_blur=0.5, **DINO
    )
    assert config(DINOViewTransform()) == expected(
        224, jitter, crop_scale=(0.4, 1.0), gaussian_blur=1.0, solarization_prob=0.2, **DINO
    )


def test_arguments_reach_every_view():
    views = DINOTransform(
        n_local_views=2,
        solarization_prob=0.7,
        cj_strength=0.2,
        hf_prob=0.1,
        gaussian_blur=(0.3, 0.2, 0.1),
    ).transforms
    assert len(views) == 4
    assert [v.gaussian_blur for v in views] == [0.3, 0.2, 0.1, 0.1]
    assert [v.solarization_prob for v in views] == [0.0, 0.7, 0.0, 0.0]
    assert all(v.cj_strength == 0.2 and v.hf_prob == 0.1 for v in views)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gaussian_blur": (1.0, 0.1)}, TypeError, "gaussian_blur"),
        ({"n_local_views": -1}, ValueError, "n_local_views"),
        ({"local_crop_scale": (0.5, 0.1)}, ValueError, "local_crop_scale"),
        ({"global_crop_size": 0}, ValueError, "global_crop_size"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DINOTransform(**kwargs)
