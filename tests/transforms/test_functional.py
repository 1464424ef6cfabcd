from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as tv_functional
from PIL import Image, ImageOps

from selfsup.transforms import functional as F

from ._images import line_spread, mean_abs_laplacian, rgb_array, rgb_image, rgb_tensor

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _line_image(size: int = 41) -> np.ndarray:
    line = np.zeros((size, size), np.uint8)
    line[:, size // 2] = 255
    return line


# --- gaussian_blur -------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.7, 1.0, 1.5, 2.0, 3.0])
def test_gaussian_blur_pil_spread_equals_sigma(sigma):
    # Pillow's GaussianBlur "radius" is the standard deviation: a blurred line has spread sigma.
    out = np.asarray(F.gaussian_blur(Image.fromarray(_line_image()), sigma))
    assert line_spread(out[20]) == pytest.approx(sigma, rel=0.05)


@pytest.mark.parametrize("sigma", [0.7, 1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_gaussian_blur_tensor_spread_equals_sigma(sigma, dtype):
    line = torch.from_numpy(_line_image())[None]
    if dtype.is_floating_point:
        line = line.to(dtype) / 255
    out = F.gaussian_blur(line, sigma)
    assert out.dtype == dtype and out.shape == line.shape
    assert line_spread(out[0, 20].double().numpy()) == pytest.approx(sigma, rel=0.05)


def _reference_blur(planes: np.ndarray, sigma: float) -> np.ndarray:
    """2-D loop over the outer product of the sampled Gaussian, borders extended (float64)."""
    radius = int(np.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    kernel = np.outer(taps, taps)
    channels, height, width = planes.shape
    padded = np.pad(planes, ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    expected = np.zeros(planes.shape)
    for c in range(channels):
        for y in range(height):
            for x in range(width):
                window = padded[c, y : y + 2 * radius + 1, x : x + 2 * radius + 1]
                expected[c, y, x] = (kernel * window).sum()
    return expected


@pytest.mark.parametrize(
    ("shape", "sigma"), [((3, 12, 13), 1.3), ((2, 5, 4), 2.5), ((1, 9, 7), 0.2)]
)
def test_gaussian_blur_tensor_matches_reference_convolution(shape, sigma):
    # (2, 5, 4) with sigma 2.5 has a kernel radius (8) wider than the image.
    image = torch.rand(shape, dtype=torch.float64)
    expected = _reference_blur(image.numpy(), sigma)
    np.testing.assert_allclose(F.gaussian_blur(image, sigma).numpy(), expected, atol=1e-12)
    out32 = F.gaussian_blur(image.float(), sigma)
    assert out32.dtype == torch.float32
    np.testing.assert_allclose(out32.numpy(), expected, atol=1e-6)


def test_gaussian_blur_uint8_tensor_rounds_the_reference_once():
    image = rgb_tensor(10, 11)
    expected = _reference_blur(image.numpy().astype(np.float64), 1.7)
    out = F.gaussian_blur(image, 1.7)
    assert out.dtype == torch.uint8
    assert np.abs(out.numpy().astype(np.float64) - expected).max() <= 0.5 + 1e-4


def test_gaussian_blur_lowers_high_frequency_energy():
    image = rgb_image()
    before = mean_abs_laplacian(np.asarray(image))
    assert mean_abs_laplacian(np.asarray(F.gaussian_blur(image, 1.5))) < 0.5 * before
    tensor = rgb_tensor()
    assert mean_abs_laplacian(F.gaussian_blur(tensor, 1.5).numpy()) < 0.5 * before


def test_gaussian_blur_batched_equals_unbatched_and_keeps_input():
    batch = torch.rand(2, 3, 10, 11)
    copy = batch.clone()
    out = F.gaussian_blur(batch, 0.8)
    torch.testing.assert_close(out[1], F.gaussian_blur(batch[1], 0.8))
    torch.testing.assert_close(batch, copy)


@pytest.mark.parametrize("device", DEVICES)
def test_gaussian_blur_follows_device_and_dtype(device):
    image = torch.rand(3, 9, 9, device=device, dtype=torch.float64)
    out = F.gaussian_blur(image, 1.0)
    assert out.device == image.device and out.dtype == torch.float64


def test_gaussian_blur_zero_sigma_is_a_copy_and_negative_sigma_is_an_error():
    tensor = rgb_tensor()
    assert torch.equal(F.gaussian_blur(tensor, 0.0), tensor)
    with pytest.raises(ValueError, match="sigma"):
        F.gaussian_blur(tensor, -1.0)


# --- solarize --------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0, 100, 128, 256])
def test_solarize_inverts_exactly_the_pixels_at_or_above_threshold(threshold):
    array = rgb_array()
    expected = np.where(array >= threshold, 255 - array, array)
    np.testing.assert_array_equal(
        np.asarray(F.solarize(Image.fromarray(array), threshold)), expected
    )
    tensor = torch.from_numpy(array)
    np.testing.assert_array_equal(
        F.solarize(tensor.permute(2, 0, 1), threshold).permute(1, 2, 0), expected
    )
    floats = tensor.permute(2, 0, 1).float() / 255
    out = F.solarize(floats, threshold).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out * 255, expected, atol=1e-4)


def test_solarize_matches_pillow_and_validates_threshold():
    image = rgb_image()
    assert np.array_equal(
        np.asarray(F.solarize(image, 90)), np.asarray(ImageOps.solarize(image, 90))
    )
    with pytest.raises(ValueError, match="threshold"):
        F.solarize(image, 300)


# --- rotate90 --------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, -1])
def test_rotate90_is_numpy_rot90_for_tensors_and_pil(k):
    batch = torch.arange(2 * 3 * 5 * 7).view(2, 3, 5, 7)
    expected = np.rot90(batch.numpy(), k, axes=(-2, -1))
    np.testing.assert_array_equal(F.rotate90(batch, k).numpy(), expected)
    array = rgb_array(6, 9)
    out = np.asarray(F.rotate90(Image.fromarray(array), k))
    np.testing.assert_array_equal(out, np.rot90(array, k, axes=(0, 1)))


def test_rotate90_rejects_non_integer_turns():
    with pytest.raises(TypeError, match="k"):
        F.rotate90(rgb_tensor(), 1.5)


# --- adjust_hue ------------------------------------------------------------------------------


def _colorsys_hue_shift(rgb: np.ndarray, hue_factor: float) -> np.ndarray:
    """Pixel-by-pixel HSV round trip with the standard library, ``rgb`` (3, H, W) in [0, 1]."""
    out = np.empty_like(rgb, dtype=np.float64)
    for y in range(rgb.shape[1]):
        for x in range(rgb.shape[2]):
            hue, saturation, value = colorsys.rgb_to_hsv(*rgb[:, y, x])
            out[:, y, x] = colorsys.hsv_to_rgb((hue + hue_factor) % 1.0, saturation, value)
    return out


def _hue_test_tensor() -> torch.Tensor:
    """Random float64 colours plus grey pixels and ties between the largest channels."""
    image = torch.rand(3, 6, 7, dtype=torch.float64)
    image[:, 0, 0] = 0.4  # grey: no hue
    image[:, 0, 1] = torch.tensor([0.8, 0.8, 0.1], dtype=torch.float64)  # red = green
    image[:, 0, 2] = torch.tensor([0.2, 0.9, 0.9], dtype=torch.float64)  # green = blue
    image[:, 0, 3] = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)  # pure red
    return image


@pytest.mark.parametrize("hue_factor", [-0.5, -0.37, -0.1, 0.02, 0.25, 0.5])
def test_adjust_hue_float_tensor_matches_colorsys_reference(hue_factor):
    image = _hue_test_tensor()
    expected = _colorsys_hue_shift(image.numpy(), hue_factor)
    out = F.adjust_hue(image, hue_factor)
    assert out.dtype == torch.float64 and out.shape == image.shape
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-9)
    np.testing.assert_allclose(F.adjust_hue(image.float(), hue_factor).numpy(), expected, atol=2e-6)


def test_adjust_hue_uint8_tensor_rounds_the_exact_shift_once():
    image = rgb_tensor(8, 9)
    for hue_factor in (torch.rand(6) - 0.5).tolist():
        expected = 255 * _colorsys_hue_shift(image.double().numpy() / 255, hue_factor)
        out = F.adjust_hue(image, hue_factor)
        assert out.dtype == torch.uint8
        assert np.abs(out.numpy() - expected).max() <= 0.5 + 1e-3


def test_adjust_hue_pil_is_within_half_a_level_of_the_exact_shift_over_random_factors():
    # 112x112 is above the size threshold, so the float path runs; torchvision's float tensor
    # kernel (an explicit RGB -> HSV -> RGB round trip) is the exact reference.
    image = rgb_image(112, 112)
    as_float = tv_functional.to_dtype(rgb_tensor(112, 112), scale=True)
    for hue_factor in (torch.rand(8) - 0.5).tolist():
        exact = (tv_functional.adjust_hue(as_float, hue_factor) * 255).permute(1, 2, 0).numpy()
        out = np.asarray(F.adjust_hue(image, hue_factor)).astype(np.float64)
        assert np.abs(out - exact).max() <= 0.5 + 1e-3
        if abs(hue_factor) > 0.05:
            assert np.abs(out - np.asarray(image)).mean() > 3  # it really changed the colours


def test_adjust_hue_is_at_least_as_close_to_exact_as_torchvisions_pil_kernel():
    image = rgb_image(112, 112)
    as_float = tv_functional.to_dtype(rgb_tensor(112, 112), scale=True)
    exact = (tv_functional.adjust_hue(as_float, 0.3) * 255).permute(1, 2, 0).numpy()
    ours = np.abs(np.asarray(F.adjust_hue(image, 0.3)) - exact)
    theirs = np.abs(np.asarray(tv_functional.adjust_hue(image, 0.3)) - exact)
    assert ours.max() <= theirs.max() and ours.mean() < theirs.mean()


def test_adjust_hue_small_and_non_rgb_pil_images_use_torchvision():
    image = rgb_image(16, 16)
    assert np.array_equal(
        np.asarray(F.adjust_hue(image, 0.2)), np.asarray(tv_functional.adjust_hue(image, 0.2))
    )
    gray = Image.fromarray(rgb_array()[..., 0])
    assert np.array_equal(np.asarray(F.adjust_hue(gray, 0.2)), np.asarray(gray))


def test_adjust_hue_tensor_batches_channels_and_input():
    batch = torch.rand(2, 3, 5, 6)
    copy = batch.clone()
    out = F.adjust_hue(batch, 0.3)
    torch.testing.assert_close(out[1], F.adjust_hue(batch[1], 0.3))
    torch.testing.assert_close(batch, copy)
    gray = torch.rand(1, 5, 6)
    assert torch.equal(F.adjust_hue(gray, 0.3), gray)
    with pytest.raises(ValueError, match="channels"):
        F.adjust_hue(torch.rand(4, 5, 6), 0.3)


def test_adjust_hue_zero_is_identity_and_range_is_checked():
    image = rgb_image(112, 112)
    assert np.array_equal(np.asarray(F.adjust_hue(image, 0.0)), np.asarray(image))
    with pytest.raises(ValueError, match="hue_factor"):
        F.adjust_hue(image, 0.6)


# --- to_float_tensor -------------------------------------------------------------------------


def test_to_float_tensor_pil_and_uint8_tensor_match_reference_normalisation():
    array = rgb_array(7, 9)
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]
    expected = (array.transpose(2, 0, 1) / 255.0 - np.reshape(mean, (3, 1, 1))) / np.reshape(
        std, (3, 1, 1)
    )
    for image in (Image.fromarray(array), torch.from_numpy(array).permute(2, 0, 1)):
        out = F.to_float_tensor(image, mean, std)
        assert out.dtype == torch.float32 and out.shape == (3, 7, 9)
        np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)


def test_to_float_tensor_scales_without_normalisation_and_keeps_float_input():
    gray = Image.fromarray(rgb_array()[..., 0])
    out = F.to_float_tensor(gray)
    assert out.shape == (1, 32, 32)
    np.testing.assert_allclose(out[0].numpy(), np.asarray(gray) / 255.0, atol=1e-7)
    floats = torch.rand(3, 4, 5, dtype=torch.float64)
    assert F.to_float_tensor(floats) is floats
    normalised = F.to_float_tensor(floats, [0.5], [0.25])
    assert normalised.dtype == torch.float64
    torch.testing.assert_close(normalised, (floats - 0.5) / 0.25)


def test_to_float_tensor_errors():
    with pytest.raises(ValueError, match="mean and std"):
        F.to_float_tensor(rgb_tensor(), mean=[0.5, 0.5, 0.5])
    with pytest.raises(TypeError, match="8-bit"):
        F.to_float_tensor(Image.new("I", (4, 4)))
    with pytest.raises(TypeError, match="uint8 or floating"):
        F.to_float_tensor(torch.zeros(3, 4, 4, dtype=torch.int32))


# --- crop_grid -------------------------------------------------------------------------------


def test_crop_grid_takes_the_crop_inside_each_cell():
    tensor = torch.arange(3 * 30 * 33).view(3, 30, 33)
    offsets = torch.tensor([[0, 0], [1, 2], [2, 3], [3, 0], [0, 3], [1, 1], [2, 2], [3, 3], [0, 1]])
    crops = F.crop_grid(tensor, 3, 7, offsets)
    pil_crops = F.crop_grid(Image.fromarray(rgb_array(30, 33)), 3, 7, offsets)
    for index, (dy, dx) in enumerate(offsets.tolist()):
        row, col = divmod(index, 3)
        top, left = 10 * row + dy, 11 * col + dx
        assert torch.equal(crops[index], tensor[:, top : top + 7, left : left + 7])
        expected = rgb_array(30, 33)[top : top + 7, left : left + 7]
        assert np.array_equal(np.asarray(pil_crops[index]), expected)


def test_crop_grid_rejects_crops_outside_their_cell():
    with pytest.raises(ValueError, match="crop_size"):
        F.crop_grid(rgb_tensor(30, 30), 3, 11, torch.zeros(9, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="outside"):
        F.crop_grid(rgb_tensor(30, 30), 3, 8, torch.full((9, 2), 3))
