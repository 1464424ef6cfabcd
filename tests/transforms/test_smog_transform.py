from __future__ import annotations

import pytest

from selfsup.transforms import SMoGTransform, SMoGViewTransform

from ._views import config, expected

SMOG = {"cj_prob": 1.0, "cj_strength": 0.5}


def test_default_groups():
    views = SMoGTransform().transforms
    assert len(views) == 8
    jitter = (0.8, 0.8, 0.4, 0.2)
    assert config(views[0]) == expected(224, jitter, crop_scale=(0.2, 1.0), **SMOG)
    assert config(views[4]) == expected(
        96, jitter, crop_scale=(0.05, 0.2), gaussian_blur=0.1, solarization_prob=0.2, **SMOG
    )
    assert config(SMoGViewTransform()) == config(views[0])


def test_invalid_arguments():
    with pytest.raises(ValueError, match="same length"):
        SMoGTransform(solarize_probs=(0.0,))
    with pytest.raises(ValueError, match="crop_min_scale"):
        SMoGTransform(crop_min_scales=(0.2, 0.5), crop_max_scales=(1.0, 0.3))
