from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as tv_functional

from selfsup.transforms import RandomColorJitter
from selfsup.transforms import functional as F

from ._images import rgb_image, rgb_tensor


def test_probability_zero_returns_the_input_object():
    jitter = RandomColorJitter(prob=0.0, brightness=0.5, hue=0.2)
    image = rgb_image()
    assert jitter(image) is image


def test_factors_follow_torchvision_ranges():
    jitter = RandomColorJitter(prob=1.0, brightness=0.4, contrast=0.3, saturation=0.2, hue=0.1)
    image = rgb_tensor()
    for _ in range(200):
        params = jitter.make_params([image])
        assert 0.6 <= params["brightness_factor"] <= 1.4
        assert 0.7 <= params["contrast_factor"] <= 1.3
        assert 0.8 <= params["saturation_factor"] <= 1.2
        assert -0.1 <= params["hue_factor"] <= 0.1
        assert sorted(params["fn_idx"].tolist()) == [0, 1, 2, 3]


def test_applies_the_drawn_adjustments_in_the_drawn_order():
    jitter = RandomColorJitter(prob=1.0, brightness=0.4, contrast=0.3, saturation=0.2, hue=0.1)
    tensor = rgb_tensor().float() / 255
    params = jitter.make_params([tensor])
    expected = tensor
    for fn_id in params["fn_idx"].tolist():
        if fn_id == 0:
            expected = tv_functional.adjust_brightness(expected, params["brightness_factor"])
        elif fn_id == 1:
            expected = tv_functional.adjust_contrast(expected, params["contrast_factor"])
        elif fn_id == 2:
            expected = tv_functional.adjust_saturation(expected, params["saturation_factor"])
        else:
            expected = F.adjust_hue(expected, params["hue_factor"])
    torch.testing.assert_close(jitter.transform(tensor, params), expected)


def test_probability_one_changes_pil_colours():
    jitter = RandomColorJitter(prob=1.0, brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2)
    image = rgb_image()
    changes = [
        np.abs(np.asarray(jitter(image), float) - np.asarray(image, float)).mean() for _ in range(5)
    ]
    assert min(changes) > 1


def test_invalid_arguments():
    with pytest.raises(ValueError, match="prob"):
        RandomColorJitter(prob=-0.5)
    with pytest.raises(ValueError, match="hue"):
        RandomColorJitter(hue=0.7)
