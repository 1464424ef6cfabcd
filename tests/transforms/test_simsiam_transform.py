from __future__ import annotations

from selfsup.transforms import SimSiamTransform, SimSiamViewTransform

from ._views import config, expected


def test_defaults():
    transform = SimSiamTransform()
    assert len(transform) == 2
    assert config(transform.transforms[0]) == expected(
        224, (0.4, 0.4, 0.4, 0.1), crop_scale=(0.2, 1.0)
    )
    assert config(SimSiamViewTransform(input_size=32)) == expected(
        32, (0.4, 0.4, 0.4, 0.1), crop_scale=(0.2, 1.0)
    )
