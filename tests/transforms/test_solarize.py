from __future__ import annotations

import numpy as np
import pytest
import torch

from selfsup.transforms import RandomSolarization

from ._images import rgb_array, rgb_image, rgb_tensor


def test_probability_zero_returns_the_input_object():
    solarize = RandomSolarization(prob=0.0)
    image = rgb_image()
    assert solarize(image) is image


def test_probability_one_inverts_exactly_the_pixels_at_or_above_threshold():
    solarize = RandomSolarization(prob=1.0, threshold=100)
    array = rgb_array()
    expected = np.where(array >= 100, 255 - array, array)
    assert np.array_equal(np.asarray(solarize(rgb_image())), expected)
    out = solarize(rgb_tensor()).permute(1, 2, 0).numpy()
    assert np.array_equal(out, expected)
    floats = solarize(rgb_tensor().float() / 255)
    np.testing.assert_allclose(floats.permute(1, 2, 0).numpy() * 255, expected, atol=1e-4)


def test_probability_is_respected_and_seeded():
    solarize = RandomSolarization(prob=0.2)
    image = rgb_tensor()
    torch.manual_seed(0)
    applied = [solarize.make_params([image])["apply"] for _ in range(2000)]
    assert np.mean(applied) == pytest.approx(0.2, abs=0.03)
    torch.manual_seed(0)
    again = [solarize.make_params([image])["apply"] for _ in range(2000)]
    assert applied == again


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"prob": 2}, "prob"), ({"threshold": -1}, "threshold")]
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomSolarization(**kwargs)
