from __future__ import annotations

from selfsup.transforms import MoCoV1Transform, MoCoV2Transform

from ._views import config, expected


def test_moco_v1_defaults():
    (view, other) = MoCoV1Transform().transforms
    assert view is other
    assert config(view) == expected(
        224, (0.4, 0.4, 0.4, 0.4), crop_scale=(0.2, 1.0), gaussian_blur=0.0
    )


def test_moco_v2_defaults():
    view = MoCoV2Transform().transforms[0]
    assert len(MoCoV2Transform()) == 2
    assert config(view) == expected(224, (0.4, 0.4, 0.4, 0.1), crop_scale=(0.2, 1.0))
