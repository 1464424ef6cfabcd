from __future__ import annotations

import pytest

from selfsup.transforms import MSNTransform

from ._views import config, expected


def test_defaults():
    views = MSNTransform().transforms
    assert len(views) == 12
    assert all(view is views[0] for view in views[:2])
    assert all(view is views[2] for view in views[2:])
    jitter = (0.8, 0.8, 0.8, 0.2)
    assert config(views[0]) == expected(224, jitter, crop_scale=(0.3, 1.0))
    assert config(views[2]) == expected(96, jitter, crop_scale=(0.05, 0.3))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="focal_views"):
        MSNTransform(focal_views=-2)
    with pytest.raises(ValueError, match="at least 1"):
        MSNTransform(random_views=0, focal_views=0)
