from __future__ import annotations

from selfsup.transforms import BarlowTwinsTransform, BYOLTransform

from ._views import config


def test_views_are_byols():
    ours, byol = BarlowTwinsTransform().transforms, BYOLTransform().transforms
    assert [config(view) for view in ours] == [config(view) for view in byol]
    assert isinstance(BarlowTwinsTransform(input_size=32), BYOLTransform)
