import math

import numpy as np
import pytest
import torch

from selfsup.report.invariance_augmentations import (
    AUGMENTATION_FAMILIES,
    BlurAugmentation,
    ColorJitterAugmentation,
    GrayscaleAugmentation,
    HorizontalFlipAugmentation,
    InvarianceAugmentation,
    ResizedCropAugmentation,
    Rotate90Augmentation,
    SolarizeAugmentation,
    VerticalFlipAugmentation,
)


def _images(n=4, size=10, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_default_families_and_their_documented_strengths():
    assert list(AUGMENTATION_FAMILIES) == [
        "crop",
        "hflip",
        "vflip",
        "rot90",
        "color_jitter",
        "grayscale",
        "blur",
        "solarize",
    ]
    assert AUGMENTATION_FAMILIES["crop"].scale == (0.2, 0.6)
    jitter = AUGMENTATION_FAMILIES["color_jitter"]
    assert (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue) == (
        0.4,
        0.4,
        0.4,
        0.1,
    )
    assert AUGMENTATION_FAMILIES["blur"].sigma == (1.0, 2.0)
    assert AUGMENTATION_FAMILIES["rot90"].turns == (1, 2, 3)
    random = {name for name, aug in AUGMENTATION_FAMILIES.items() if aug.random}
    assert random == {"crop", "rot90", "color_jitter", "blur"}
    with pytest.raises(TypeError):
        AUGMENTATION_FAMILIES["zoom"] = HorizontalFlipAugmentation()
    with pytest.raises(TypeError, match="abstract"):
        InvarianceAugmentation()


def test_every_family_keeps_shape_dtype_and_leaves_the_input_alone():
    images = _images(size=8).double()
    before = images.clone()
    for name, augmentation in AUGMENTATION_FAMILIES.items():
        out = augmentation(images, _generator())
        assert out.shape == images.shape and out.dtype == images.dtype, name
        assert 0 <= out.min() and out.max() <= 1, name
        assert augmentation.describe() in repr(augmentation)
    assert torch.equal(images, before)


def test_parameters_are_reproducible_from_the_generator():
    images = _images()
    for name, augmentation in AUGMENTATION_FAMILIES.items():
        first = augmentation(images, _generator(3))
        assert torch.equal(first, augmentation(images, _generator(3))), name


def test_crop_boxes_follow_scale_and_ratio_and_are_resized_back():
    images = _images(n=200, size=40)
    crop = ResizedCropAugmentation()
    params = crop.make_params(images, _generator())
    area = (params["height"] * params["width"]).double() / 40**2
    # Sides are rounded to whole pixels, which moves the area by a little.
    assert area.min() >= 0.2 - 0.03 and area.max() <= 0.6 + 0.03
    ratio = params["width"].double() / params["height"]
    assert ratio.min() >= 3 / 4 - 0.06 and ratio.max() <= 4 / 3 + 0.06
    assert (params["top"] + params["height"] <= 40).all()
    assert (params["left"] + params["width"] <= 40).all()
    assert (params["top"] >= 0).all() and (params["left"] >= 0).all()
    index = 7
    top, left, h, w = (params[k][index].item() for k in ("top", "left", "height", "width"))
    patch = images[index : index + 1, :, top : top + h, left : left + w]
    expected = torch.nn.functional.interpolate(
        patch, size=(40, 40), mode="bilinear", antialias=True, align_corners=False
    )
    sliced = {key: value[index : index + 1] for key, value in params.items()}
    out = crop.transform(images[index : index + 1], sliced)
    assert torch.allclose(out, expected.clamp(0, 1), atol=1e-5)


def test_full_crop_is_the_identity():
    images = _images()
    crop = ResizedCropAugmentation(scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert torch.allclose(crop(images, _generator()), images, atol=1e-6)


def test_flips_rotations_grayscale_and_solarize_match_numpy():
    images = _images(n=60, size=6)
    arrays = images.numpy()
    assert np.array_equal(HorizontalFlipAugmentation()(images).numpy(), arrays[..., ::-1])
    assert np.array_equal(VerticalFlipAugmentation()(images).numpy(), arrays[..., ::-1, :])
    rotate = Rotate90Augmentation()
    params = rotate.make_params(images, _generator())
    assert set(params["k"].tolist()) == {1, 2, 3}
    rotated = rotate.transform(images, params).numpy()
    for index, k in enumerate(params["k"].tolist()):
        assert np.array_equal(rotated[index], np.rot90(arrays[index], k, axes=(1, 2)))
    gray = 0.299 * arrays[:, 0] + 0.587 * arrays[:, 1] + 0.114 * arrays[:, 2]
    out = GrayscaleAugmentation()(images).numpy()
    for channel in range(3):
        np.testing.assert_allclose(out[:, channel], gray, atol=1e-6)
    solarized = SolarizeAugmentation(threshold=100)(images).numpy()
    np.testing.assert_allclose(solarized, np.where(arrays >= 100 / 255, 1 - arrays, arrays))


def test_color_jitter_factors_and_order():
    images = _images(n=50)
    jitter = ColorJitterAugmentation()
    params = jitter.make_params(images, _generator())
    for name in ("brightness", "contrast", "saturation"):
        assert 0.6 <= params[name].min() and params[name].max() <= 1.4, name
    assert params["hue"].abs().max() <= 0.1
    assert (params["order"].sort(1).values == torch.arange(4)).all()
    assert len({tuple(row) for row in params["order"].tolist()}) > 5
    assert torch.equal(
        ColorJitterAugmentation(brightness=0, contrast=0, saturation=0, hue=0)(
            images, _generator()
        ),
        images,
    )
    brightness = ColorJitterAugmentation(contrast=0, saturation=0, hue=0)
    params = brightness.make_params(images, _generator(1))
    out = brightness.transform(images, params)
    expected = (images * params["brightness"].view(-1, 1, 1, 1).float()).clamp(0, 1)
    assert torch.allclose(out, expected, atol=1e-6)


def _numpy_blur(image, sigma):
    """Separable Gaussian, truncated at ceil(3 sigma), borders replicated."""
    radius = math.ceil(3 * sigma)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(image, ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    height, width = image.shape[1:]
    out = np.zeros_like(image)
    for dy, wy in enumerate(kernel):
        for dx, wx in enumerate(kernel):
            out += wy * wx * padded[:, dy : dy + height, dx : dx + width]
    return out


def test_blur_draws_sigma_in_range_and_blurs_like_a_gaussian():
    images = _images(n=3, size=9).double()
    blur = BlurAugmentation()
    params = blur.make_params(images, _generator())
    many = blur.make_params(_images(n=100), _generator())["sigma"]
    assert 1.0 <= many.min() and many.max() <= 2.0 and many.max() - many.min() > 0.5
    out = blur.transform(images, params).numpy()
    for index, sigma in enumerate(params["sigma"].tolist()):
        expected = _numpy_blur(images[index].numpy(), sigma)
        np.testing.assert_allclose(out[index], expected, atol=1e-10)


def test_invalid_strengths_are_rejected():
    with pytest.raises(ValueError, match="scale"):
        ResizedCropAugmentation(scale=(0.0, 0.5))
    with pytest.raises(ValueError, match="scale"):
        ResizedCropAugmentation(scale=(0.6, 0.2))
    with pytest.raises(ValueError, match="ratio"):
        ResizedCropAugmentation(ratio=(-1.0, 1.0))
    with pytest.raises(ValueError, match="hue"):
        ColorJitterAugmentation(hue=0.7)
    with pytest.raises(ValueError, match="brightness"):
        ColorJitterAugmentation(brightness=-0.1)
    with pytest.raises(ValueError, match="sigma"):
        BlurAugmentation(sigma=(2.0, 1.0))
    with pytest.raises(ValueError, match="threshold"):
        SolarizeAugmentation(threshold=300)
    with pytest.raises(ValueError, match="turns"):
        Rotate90Augmentation(turns=(0, 1))
    with pytest.raises(TypeError, match="turns"):
        Rotate90Augmentation(turns=())
    with pytest.raises(ValueError, match="square"):
        Rotate90Augmentation()(torch.rand(1, 3, 4, 5))
