from __future__ import annotations

from selfsup.transforms import VICRegTransform, VICRegViewTransform

from ._views import config, expected


def test_defaults():
    transform = VICRegTransform()
    assert len(transform) == 2
    assert config(transform.transforms[0]) == expected(
        224, (0.8, 0.8, 0.4, 0.2), cj_strength=0.5, solarization_prob=0.1
    )
    assert VICRegViewTransform(solarize_prob=0.3).solarization_prob == 0.3
