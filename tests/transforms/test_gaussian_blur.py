from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from selfsup.transforms import GaussianBlur

from ._images import line_spread, mean_abs_laplacian, rgb_image, rgb_tensor


def test_probability_zero_returns_the_input_object():
    blur = GaussianBlur(prob=0.0)
    image, tensor = rgb_image(), rgb_tensor()
    assert blur(image) is image
    assert blur(tensor) is tensor


def test_probability_one_always_blurs_pil_and_tensors():
    blur = GaussianBlur(prob=1.0, sigmas=(1.0, 2.0))
    image = rgb_image()
    before = mean_abs_laplacian(np.asarray(image))
    for _ in range(5):
        assert mean_abs_laplacian(np.asarray(blur(image))) < 0.6 * before
        out = blur(rgb_tensor())
        assert out.dtype == torch.uint8 and out.shape == (3, 32, 32)
        assert mean_abs_laplacian(out.numpy()) < 0.6 * before


@pytest.mark.parametrize("to_input", [Image.fromarray, lambda a: torch.from_numpy(a)[None]])
def test_applied_sigma_is_the_sampled_one_and_within_sigmas(to_input):
    # A radius/sigma mix-up would give a spread three times the sampled sigma.
    line = np.zeros((41, 41), np.uint8)
    line[:, 20] = 255
    blur = GaussianBlur(prob=1.0, sigmas=(1.0, 2.5))
    image = to_input(line)
    for _ in range(8):
        params = blur.make_params([image])
        assert 1.0 <= params["sigma"] <= 2.5
        out = np.asarray(blur.transform(image, params)).reshape(41, 41)
        assert line_spread(out[20]) == pytest.approx(params["sigma"], rel=0.06)


def test_sigma_is_drawn_uniformly_over_the_range():
    blur = GaussianBlur(prob=1.0, sigmas=(0.1, 2.0))
    image = rgb_tensor()
    sigmas = np.array([blur.make_params([image])["sigma"] for _ in range(2000)])
    assert sigmas.min() >= 0.1 and sigmas.max() <= 2.0
    assert sigmas.mean() == pytest.approx(1.05, abs=0.05)
    assert np.histogram(sigmas, bins=4, range=(0.1, 2.0))[0].min() > 400


def test_probability_is_respected():
    blur = GaussianBlur(prob=0.3)
    image = rgb_tensor()
    applied = [blur.make_params([image])["apply"] for _ in range(2000)]
    assert np.mean(applied) == pytest.approx(0.3, abs=0.04)


def test_same_seed_gives_same_result():
    blur = GaussianBlur(prob=0.5)
    torch.manual_seed(3)
    first = [blur(rgb_tensor()) for _ in range(4)]
    torch.manual_seed(3)
    second = [blur(rgb_tensor()) for _ in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prob": 1.5}, "prob"),
        ({"prob": -0.1}, "prob"),
        ({"sigmas": (2.0, 1.0)}, "sigmas"),
        ({"sigmas": (-1.0, 1.0)}, "sigmas"),
        ({"sigmas": 1.0}, "sigmas"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GaussianBlur(**kwargs)


def test_batched_tensor_uses_one_sigma_for_every_image():
    blur = GaussianBlur(prob=1.0)
    batch = torch.rand(2, 3, 12, 12)
    params = blur.make_params([batch])
    out = blur.transform(batch, params)
    torch.testing.assert_close(out[0], blur.transform(batch[0], params))
    torch.testing.assert_close(out[1], blur.transform(batch[1], params))
