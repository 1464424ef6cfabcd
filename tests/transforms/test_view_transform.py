from __future__ import annotations

import pytest
import torch
import torchvision.transforms.v2.functional as tv_functional
from PIL import Image

from selfsup.transforms import IMAGENET_NORMALIZE, ViewTransform
from selfsup.transforms._threads import single_intra_op_thread

from ._images import mean_abs_laplacian, rgb_array, rgb_image, rgb_tensor

OFF = {
    "crop_scale": (1.0, 1.0),
    "hf_prob": 0.0,
    "cj_prob": 0.0,
    "random_gray_scale": 0.0,
    "gaussian_blur": 0.0,
}


def _reference(image, size: int, normalize=IMAGENET_NORMALIZE) -> torch.Tensor:
    """Plain resize + to tensor + normalise with torchvision v2, the identity view."""
    resized = tv_functional.resize(image, [size, size], antialias=True)
    tensor = tv_functional.to_dtype(tv_functional.to_image(resized), torch.float32, scale=True)
    if normalize is None:
        return tensor
    return tv_functional.normalize(tensor, normalize["mean"], normalize["std"])


@pytest.mark.parametrize(
    "make_input",
    [rgb_image, rgb_tensor, lambda: rgb_tensor().float() / 255],
    ids=["pil", "uint8", "float"],
)
def test_all_switched_off_is_resize_to_tensor_normalise(make_input):
    view = ViewTransform(input_size=16, **OFF)
    image = make_input()
    out = view(image)
    assert out.shape == (3, 16, 16) and out.dtype == torch.float32
    torch.testing.assert_close(out, _reference(image, 16), atol=1e-5, rtol=0)


def test_no_normalisation_gives_values_in_unit_range():
    out = ViewTransform(input_size=16, normalize=None)(rgb_image())
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_float64_input_keeps_its_dtype():
    out = ViewTransform(input_size=8, **OFF)(torch.rand(3, 12, 12, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_grayscale_inputs_give_three_equal_channels():
    view = ViewTransform(input_size=16, normalize=None, **OFF)
    gray = Image.fromarray(rgb_array()[..., 1])
    for image in (gray, torch.from_numpy(rgb_array()[..., 1])[None]):
        out = view(image)
        assert out.shape == (3, 16, 16)
        assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])
    with pytest.raises(ValueError, match="channels"):
        view(torch.zeros(4, 16, 16, dtype=torch.uint8))


def _identity(image, **overrides) -> tuple[torch.Tensor, torch.Tensor]:
    """The view with everything off, and the view with ``overrides`` switched on (no normalise)."""
    plain = ViewTransform(input_size=16, normalize=None, **OFF)
    augmented = ViewTransform(input_size=16, **{**OFF, "normalize": None, **overrides})
    return plain(image), augmented(image)


def test_flips_act_at_probability_one():
    plain, flipped = _identity(rgb_image(), hf_prob=1.0)
    assert torch.equal(flipped, plain.flip(-1))
    plain, flipped = _identity(rgb_image(), vf_prob=1.0)
    assert torch.equal(flipped, plain.flip(-2))


def test_quarter_rotation_acts_at_probability_one():
    image = rgb_image()
    plain = _identity(image)[0]
    turns = set()
    for _ in range(20):
        rotated = ViewTransform(input_size=16, normalize=None, rr_prob=1.0, **OFF)(image)
        matches = [k for k in (1, 2, 3) if torch.equal(rotated, torch.rot90(plain, k, (-2, -1)))]
        assert len(matches) == 1
        turns.add(matches[0])
    assert turns == {1, 2, 3}


def test_free_rotation_acts_at_probability_one():
    plain, rotated = _identity(rgb_image(), rr_prob=1.0, rr_degrees=(30.0, 60.0))
    assert (plain - rotated).abs().mean() > 0.05


def test_grayscale_blur_jitter_and_crop_act_at_probability_one():
    image = rgb_image()
    plain, gray = _identity(image, random_gray_scale=1.0)
    assert torch.equal(gray[0], gray[1]) and not torch.equal(plain[0], plain[1])
    plain, blurred = _identity(image, gaussian_blur=1.0, sigmas=(1.0, 1.5))
    assert mean_abs_laplacian(blurred.numpy()) < 0.7 * mean_abs_laplacian(plain.numpy())
    plain, jittered = _identity(image, cj_prob=1.0)
    assert (plain - jittered).abs().mean() > 0.01
    plain, cropped = _identity(image, crop_scale=(0.1, 0.2))
    assert (plain - cropped).abs().mean() > 0.01


def test_solarization_acts_at_probability_one():
    plain, solarized = _identity(rgb_image(), solarization_prob=1.0)
    levels = (plain * 255).round()
    expected = torch.where(levels >= 128, 255 - levels, levels) / 255
    torch.testing.assert_close(solarized, expected, atol=1e-6, rtol=0)


def test_same_seed_same_view_and_different_seeds_differ():
    view = ViewTransform(input_size=16)
    image = rgb_image()
    torch.manual_seed(7)
    first = view(image)
    torch.manual_seed(7)
    assert torch.equal(first, view(image))
    torch.manual_seed(8)
    assert not torch.equal(first, view(image))


def test_threads_are_single_inside_and_restored_after():
    torch.set_num_threads(2)
    with single_intra_op_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    ViewTransform(input_size=8)(rgb_tensor())
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hf_prob": 2.0}, ValueError, "hf_prob"),
        ({"rr_prob": -1}, ValueError, "rr_prob"),
        ({"random_gray_scale": 1.2}, ValueError, "random_gray_scale"),
        ({"solarization_prob": 3}, ValueError, "solarization_prob"),
        ({"crop_scale": (0.0, 1.0)}, ValueError, "crop_scale"),
        ({"crop_scale": (0.9, 0.5)}, ValueError, "crop_scale"),
        ({"input_size": 0}, ValueError, "input_size"),
        ({"rr_degrees": -5}, ValueError, "rr_degrees"),
        ({"cj_strength": 3.0}, ValueError, r"cj_strength \* cj_hue"),
        ({"cj_bright": -0.1}, ValueError, "cj_bright"),
        ({"sigmas": (3.0, 1.0)}, ValueError, "sigmas"),
        ({"normalize": {"mean": [0.5, 0.5, 0.5]}}, TypeError, "normalize"),
        ({"normalize": {"mean": [0.5] * 3, "std": [0.0] * 3}}, ValueError, "std"),
        ({"interpolation": "bilinear"}, TypeError, "interpolation"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ViewTransform(**kwargs)
