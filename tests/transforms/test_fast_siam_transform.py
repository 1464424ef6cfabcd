from __future__ import annotations

import pytest

from selfsup.transforms import FastSiamTransform, SimSiamViewTransform

from ._views import config


def test_k_plus_one_simsiam_views():
    transform = FastSiamTransform()
    assert len(transform) == 4
    assert all(isinstance(view, SimSiamViewTransform) for view in transform.transforms)
    assert config(transform.transforms[0]) == config(SimSiamViewTransform())
    assert len(FastSiamTransform(K=5, input_size=8)) == 6


def test_invalid_k():
    with pytest.raises(ValueError, match="K"):
        FastSiamTransform(K=0)
