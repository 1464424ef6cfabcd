from __future__ import annotations

from selfsup.transforms import BYOLTransform, TiCoTransform

from ._views import config


def test_views_are_byols():
    ours, byol = TiCoTransform().transforms, BYOLTransform().transforms
    assert [config(view) for view in ours] == [config(view) for view in byol]
    assert TiCoTransform(input_size=32).transforms[1].input_size == (32, 32)
