from __future__ import annotations

from selfsup.transforms import MultiCropTransform, SwaVTransform, SwaVViewTransform

from ._views import config, expected


def test_defaults():
    transform = SwaVTransform()
    assert isinstance(transform, MultiCropTransform)
    assert len(transform) == 8
    assert transform.crop_sizes == [224, 96] and transform.crop_counts == [2, 6]
    crops = [view.transforms[0] for view in transform.transforms]
    assert [c.size for c in crops] == [(224, 224)] * 2 + [(96, 96)] * 6
    assert [c.scale for c in crops] == [(0.14, 1.0)] * 2 + [(0.05, 0.14)] * 6
    view = transform.transforms[0].transforms[1]
    assert isinstance(view, SwaVViewTransform)
    assert config(view) == expected(None, (0.8, 0.8, 0.8, 0.2))
