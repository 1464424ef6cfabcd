import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from selfsup.transforms import SimCLRTransform
from selfsup.utils.debug import plot_augmented_images, std_of_l2_normalized


def _reference_std(z: np.ndarray) -> float:
    normalized = z / np.linalg.norm(z, axis=1, keepdims=True)
    return float(np.mean(np.std(normalized, axis=0, ddof=1)))


def test_std_of_l2_normalized_matches_numpy():
    z = torch.randn(32, 16, dtype=torch.float64)
    assert std_of_l2_normalized(z).item() == pytest.approx(_reference_std(z.numpy()), rel=1e-10)


def test_std_of_l2_normalized_collapsed_and_spread():
    collapsed = torch.ones(64, 128) + 1e-6 * torch.randn(64, 128)
    assert std_of_l2_normalized(collapsed).item() < 1e-5
    spread = torch.randn(4096, 128)
    assert std_of_l2_normalized(spread).item() == pytest.approx(1 / 128**0.5, rel=0.02)


@pytest.mark.parametrize("shape", [(8,), (1, 4), (2, 3, 4)])
def test_std_of_l2_normalized_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="z"):
        std_of_l2_normalized(torch.randn(*shape))


class _TwoViews:
    """Two views: the image itself and its left-right flip, both normalised."""

    def __init__(self):
        self.normalize = v2.Normalize(mean=[0.5, 0.4, 0.3], std=[0.2, 0.25, 0.3])

    def __call__(self, image):
        x = v2.functional.to_dtype(v2.functional.pil_to_tensor(image), torch.float32, scale=True)
        return [self.normalize(x), self.normalize(x.flip(-1))]


def _image(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))


def test_plot_augmented_images_grid_and_unnormalised_views():
    images = [_image(0), _image(1), _image(2)]
    figure = plot_augmented_images(images, _TwoViews())
    axes = np.array(figure.axes).reshape(3, 3)
    for row, image in enumerate(images):
        expected = np.asarray(image, dtype=np.float32) / 255
        shown = axes[row, 1].get_images()[0].get_array()
        np.testing.assert_allclose(shown, expected, atol=1e-5)
        flipped = axes[row, 2].get_images()[0].get_array()
        np.testing.assert_allclose(flipped, expected[:, ::-1], atol=1e-5)
        assert axes[row, 0].get_title() == "original"


def test_plot_augmented_images_uses_collate_transform_and_max_views():
    class _Collate:
        transform = _TwoViews()

    figure = plot_augmented_images([_image(0)], _Collate(), max_views=1)
    assert len(figure.axes) == 2


def test_plot_augmented_images_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        plot_augmented_images([], _TwoViews())


def test_plot_augmented_images_rejects_views_instead_of_images():
    with pytest.raises(TypeError, match=r"images\[0\] is a list"):
        plot_augmented_images([[torch.zeros(3, 4, 4)]], _TwoViews())


@pytest.mark.parametrize("input_size", [16, 128])
def test_plot_augmented_images_unnormalises_selfsup_views(input_size):
    # A grey image whose views are the whole image, resized: shown grey, at the image's level
    # (the uint8 path below 10,000 pixels and the float path above it normalise alike).
    image = Image.new("RGB", (input_size * 2, input_size * 2), (100, 100, 100))
    transform = SimCLRTransform(
        input_size=input_size,
        min_scale=1.0,
        hf_prob=0.0,
        cj_prob=0.0,
        random_gray_scale=0.0,
        gaussian_blur=0.0,
    )
    figure = plot_augmented_images([image], transform)
    for axes in figure.axes[1:]:
        shown = axes.get_images()[0].get_array()
        np.testing.assert_allclose(shown, np.full(shown.shape, 100 / 255), atol=1e-5)
