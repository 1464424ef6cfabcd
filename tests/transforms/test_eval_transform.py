import numpy as np
import pytest
import torch
from PIL import Image

from selfsup.transforms.eval_transform import EvalTransform


def test_resize_center_crop_normalise_matches_manual_computation():
    pixels = np.random.default_rng(0).integers(0, 256, (20, 40, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    out = EvalTransform(input_size=20, normalize={"mean": [0.5] * 3, "std": [0.25] * 3})(image)
    assert out.shape == (3, 20, 20) and out.dtype == torch.float32
    expected = (pixels[:, 10:30].astype(np.float32) / 255 - 0.5) / 0.25
    np.testing.assert_allclose(out.permute(1, 2, 0).numpy(), expected, atol=1e-5)


def test_deterministic_and_gray_becomes_three_channels():
    image = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), mode="L")
    transform = EvalTransform(input_size=4, normalize=None)
    first, second = transform(image), transform(image)
    assert first.shape == (3, 4, 4)
    torch.testing.assert_close(first, second)
    gray = transform(torch.zeros(1, 8, 8, dtype=torch.uint8))
    assert gray.shape == (3, 4, 4)


@pytest.mark.parametrize("size", [0, -3, 2.5])
def test_rejects_bad_size(size):
    with pytest.raises(ValueError, match="input_size"):
        EvalTransform(input_size=size)
