"""Batched ops against torchvision's / selfsup's per-image ops applied sample by sample."""

from __future__ import annotations

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import InterpolationMode

from selfsup.transforms import functional as SF
from selfsup.transforms.batched import _resampling as R
from selfsup.transforms.batched import functional as BF


def _batch(batch: int = 4, height: int = 24, width: int = 30) -> torch.Tensor:
    return torch.rand(batch, 3, height, width)


BOXES = torch.tensor(
    [[3, 5, 25, 20], [0, 0, 30, 24], [10, 2, 16, 22], [5, 4, 29, 9]], dtype=torch.float32
)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest", "nearest-exact"])
@pytest.mark.parametrize("size", [(12, 12), (40, 36)])
def test_resized_crop_matches_torchvision_per_sample(mode, size):
    images = _batch()
    out = BF.resized_crop(images, BOXES, size, interpolation=mode)
    assert out.shape == (4, 3, *size)
    for b in range(4):
        x0, y0, x1, y1 = BOXES[b].int().tolist()
        reference = TF.resized_crop(
            images[b],
            y0,
            x0,
            y1 - y0,
            x1 - x0,
            list(size),
            interpolation=InterpolationMode(mode),
            antialias=True,
        )
        torch.testing.assert_close(out[b], reference.clamp(0, 1), atol=2e-6, rtol=0)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_gather_and_matrix_resampling_agree(dtype):
    """CPU gathers taps, accelerators multiply dense matrices: both give the same crops."""
    images = (_batch() * 255).to(dtype)
    for mode in ("bilinear", "bicubic", "nearest"):
        taps = [
            R.axis_taps(BOXES[:, 0], BOXES[:, 2] - BOXES[:, 0], 11, 30, mode, None),
            R.axis_taps(BOXES[:, 1], BOXES[:, 3] - BOXES[:, 1], 13, 24, mode, None),
        ]
        dense = R._resample_dense(images, *taps)
        gathered = R._resample_gather(images, *taps)
        assert dense.shape == gathered.shape == (4, 3, 13, 11)
        torch.testing.assert_close(dense, gathered, atol=1e-4, rtol=1e-5)


def test_float16_matrix_products_stay_within_a_quarter_level():
    """CUDA resamples uint8 batches in float16 products; the error stays below 1/4 of 1/255."""
    images = (_batch() * 255).to(torch.uint8)
    for mode in ("bilinear", "bicubic"):
        taps = [
            R.axis_taps(BOXES[:, 0], BOXES[:, 2] - BOXES[:, 0], 11, 30, mode, None),
            R.axis_taps(BOXES[:, 1], BOXES[:, 3] - BOXES[:, 1], 13, 24, mode, None),
        ]
        half = R._resample_dense(images, *taps, torch.float16)
        full = R._resample_dense(images, *taps)
        assert half.dtype == torch.float32
        error = (half - full).abs().max()
        assert 0 < error < 0.25 / 255, error


def test_resized_crop_of_uint8_equals_crop_of_float():
    images = (_batch() * 255).round().to(torch.uint8)
    out = BF.resized_crop(images, BOXES, 16)
    assert out.dtype == torch.float32
    expected = BF.resized_crop(images.float() / 255, BOXES, 16)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    # Against torchvision's uint8 kernel (fixed-point weights, rounded): within one grey level.
    for b in range(4):
        x0, y0, x1, y1 = BOXES[b].int().tolist()
        ref = TF.resized_crop(images[b], y0, x0, y1 - y0, x1 - x0, [16, 16], antialias=True)
        error = (out[b] * 255 - ref.float()).abs()
        assert error.max() <= 1.0 and error.mean() < 0.35


def test_resized_crop_folds_flips_into_the_resampling():
    images = _batch()
    flip_x = torch.tensor([True, False, True, False])
    flip_y = torch.tensor([False, False, True, True])
    fused = BF.resized_crop(images, BOXES, 10, interpolation="bicubic", hflip=flip_x, vflip=flip_y)
    plain = BF.resized_crop(images, BOXES, 10, interpolation="bicubic")
    torch.testing.assert_close(fused, BF.vflip(BF.hflip(plain, flip_x), flip_y), atol=1e-6, rtol=0)


def test_resized_crop_rejects_bad_arguments():
    images = _batch()
    with pytest.raises(ValueError, match=r"boxes must have shape \(4, 4\)"):
        BF.resized_crop(images, BOXES[:2], 8)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        BF.resized_crop(images, BOXES, 8, interpolation="lanczos")
    with pytest.raises(ValueError, match="size must be a positive int"):
        BF.resized_crop(images, BOXES, 0)
    with pytest.raises(TypeError, match="uint8 or floating point"):
        BF.resized_crop(images.to(torch.int32), BOXES, 8)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        BF.resized_crop(images[0], BOXES, 8)


def test_flips_match_torchvision():
    images = _batch()
    mask = torch.tensor([True, False, False, True])
    h, v = BF.hflip(images, mask), BF.vflip(images, mask)
    for b in range(4):
        expected_h = TF.horizontal_flip(images[b]) if mask[b] else images[b]
        expected_v = TF.vertical_flip(images[b]) if mask[b] else images[b]
        assert torch.equal(h[b], expected_h) and torch.equal(v[b], expected_v)
    assert torch.equal(BF.hflip(images), images.flip(-1))


def test_rot90_is_exact_per_sample():
    images = torch.randint(0, 256, (5, 3, 9, 9), dtype=torch.uint8)
    k = torch.tensor([0, 1, 2, 3, 5])
    out = BF.rot90(images, k)
    for b in range(5):
        assert torch.equal(out[b], SF.rotate90(images[b], int(k[b])))
    with pytest.raises(ValueError, match="square"):
        BF.rot90(torch.rand(2, 3, 4, 5), 1)


@pytest.mark.parametrize("shape", [(16, 16), (12, 20)])
def test_rotate_matches_torchvision(shape):
    images = torch.rand(3, 3, *shape)
    degrees = torch.tensor([30.0, -70.0, 135.0])
    bilinear = BF.rotate(images, degrees, interpolation="bilinear")
    nearest = BF.rotate(images, degrees)
    for b in range(3):
        angle = float(degrees[b])
        ref_bilinear = TF.rotate(images[b], angle, interpolation=InterpolationMode.BILINEAR)
        torch.testing.assert_close(bilinear[b], ref_bilinear, atol=1e-5, rtol=0)
        ref_nearest = TF.rotate(images[b], angle, interpolation=InterpolationMode.NEAREST)
        # Nearest may pick the other pixel where a sample point falls exactly between two.
        assert (nearest[b] != ref_nearest).float().mean() < 0.02


@pytest.mark.parametrize(
    ("ours", "theirs", "factors"),
    [
        (BF.adjust_brightness, TF.adjust_brightness, [0.0, 0.4, 1.0, 1.8]),
        (BF.adjust_contrast, TF.adjust_contrast, [0.0, 0.4, 1.0, 1.8]),
        (BF.adjust_saturation, TF.adjust_saturation, [0.0, 0.4, 1.0, 1.8]),
        (BF.adjust_hue, TF.adjust_hue, [-0.5, -0.13, 0.0, 0.37]),
    ],
)
def test_color_ops_match_torchvision(ours, theirs, factors):
    images = _batch()
    images[0, :, :4, :4] = 0.5  # gray pixels (zero chroma)
    images[1, :, :4, :4] = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)  # pure red
    before = images.clone()
    out = ours(images, torch.tensor(factors))
    assert torch.equal(images, before), "the input must not be modified"
    for b, factor in enumerate(factors):
        torch.testing.assert_close(out[b], theirs(images[b], factor), atol=2e-6, rtol=0)


def test_color_ops_take_one_number_for_the_batch_and_reject_bad_shapes():
    images = _batch()
    torch.testing.assert_close(
        BF.adjust_hue(images, 0.25), BF.adjust_hue(images, torch.full((4,), 0.25))
    )
    with pytest.raises(ValueError, match=r"factors must be a number or have shape \(4,\)"):
        BF.adjust_brightness(images, torch.ones(3))
    with pytest.raises(ValueError, match="3 channels"):
        BF.adjust_saturation(images[:, :1], 0.5)
    with pytest.raises(TypeError, match="floating point"):
        BF.adjust_contrast((images * 255).to(torch.uint8), 0.5)


def test_grayscale_matches_torchvision_on_selected_samples():
    images = _batch()
    mask = torch.tensor([True, False, True, False])
    out = BF.rgb_to_grayscale(images, mask)
    for b in range(4):
        expected = TF.rgb_to_grayscale(images[b], num_output_channels=3) if mask[b] else images[b]
        torch.testing.assert_close(out[b], expected, atol=1e-6, rtol=0)


def test_blur_equals_the_per_sample_blur_for_each_sigma():
    images = _batch(5, 20, 26)
    sigmas = torch.tensor([0.1, 0.6, 1.3, 2.0, 0.0])
    out = BF.gaussian_blur(images, sigmas)
    for b in range(5):
        expected = SF.gaussian_blur(images[b], float(sigmas[b]))
        torch.testing.assert_close(out[b], expected, atol=1e-6, rtol=0)
    assert torch.equal(out[4], images[4])


def test_blur_kernel_of_each_sample_is_the_per_sample_kernel():
    # A centred impulse blurs into the kernel's outer product: compare kernels directly, with a
    # bank radius (9) wider than any sample's own (ceil(3 * sigma)).
    impulse = torch.zeros(3, 1, 21, 21)
    impulse[:, :, 10, 10] = 1.0
    sigmas = torch.tensor([0.3, 1.0, 2.9])
    out = BF.gaussian_blur(impulse, sigmas, radius=9)
    for b in range(3):
        expected = SF.gaussian_blur(impulse[b], float(sigmas[b]))
        torch.testing.assert_close(out[b], expected, atol=1e-7, rtol=0)
        radius = int(torch.ceil(3 * sigmas[b]))
        assert out[b, 0, 10, 10 + radius] > 0 and out[b, 0, 10, 10 + radius + 1] == 0


def test_solarize_inverts_exactly_the_pixels_the_uint8_per_sample_op_inverts():
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    images[:, :, 0, :2] = torch.tensor([127, 128], dtype=torch.uint8)  # both sides of 128
    mask = torch.tensor([True, True, False, True])
    out = BF.solarize(BF.to_float(images), mask, threshold=128 / 255)
    for b in range(4):
        expected = SF.solarize(images[b], 128) if mask[b] else images[b]
        # 1 - v / 255 and (255 - v) / 255 differ in the last bit only; neighbours 1 / 255 apart.
        torch.testing.assert_close(out[b], BF.to_float(expected), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="threshold"):
        BF.solarize(BF.to_float(images), threshold=2.0)


def test_normalize_and_to_float():
    images = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    floats = BF.to_float(images)
    assert floats.dtype == torch.float32 and torch.allclose(floats * 255, images.float())
    out = BF.normalize(floats, [0.1, 0.2, 0.3], [0.5, 0.25, 2.0])
    for c, (m, s) in enumerate(zip([0.1, 0.2, 0.3], [0.5, 0.25, 2.0], strict=True)):
        torch.testing.assert_close(out[:, c], (floats[:, c] - m) / s)
    with pytest.raises(ValueError, match="mean and std"):
        BF.normalize(floats, [0.1, 0.2], [0.5, 0.25])
    with pytest.raises(TypeError, match="uint8 or floating point"):
        BF.to_float(images.to(torch.int16))
