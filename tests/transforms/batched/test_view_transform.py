"""BatchViewTransform: parameter distributions, the identity setting, seeding, errors."""

from __future__ import annotations

import inspect
import itertools
import math
import re

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from scipy.stats import ks_2samp
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import RandomResizedCrop

from selfsup.transforms import IMAGENET_NORMALIZE, SimCLRTransform, ViewTransform
from selfsup.transforms.batched import BatchViewTransform, SimCLRBatchTransform
from selfsup.transforms.batched import functional as BF

from .._images import rgb_tensor

OFF = dict(
    hf_prob=0.0,
    cj_prob=0.0,
    random_gray_scale=0.0,
    gaussian_blur=0.0,
)


def _torchvision_boxes(count: int, height: int, width: int, scale) -> np.ndarray:
    crop = RandomResizedCrop(8, scale=scale)
    image = torch.empty(3, height, width)
    rows = []
    for _ in range(count):
        p = crop.make_params([image])
        rows.append([p["left"], p["top"], p["left"] + p["width"], p["top"] + p["height"]])
    return np.asarray(rows, dtype=np.float64)


@pytest.mark.parametrize(
    ("height", "width", "scale"),
    [(40, 40, (0.08, 1.0)), (30, 50, (0.4, 1.0)), (8, 80, (0.5, 1.0))],
)
def test_crop_boxes_follow_random_resized_crop(height, width, scale):
    """Area fraction, log aspect ratio and position match torchvision's sampler (KS test); the
    8x80 image makes most tries fail, exercising the centre-crop fallback."""
    transform = BatchViewTransform(input_size=8, crop_scale=scale)
    ours = transform.make_params(3000, height, width)["boxes"].double().numpy()
    theirs = _torchvision_boxes(1500, height, width, scale)
    for boxes in (ours, theirs):
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= width).all()
        assert (boxes[:, 3] <= height).all() and (boxes == np.round(boxes)).all()

    def stats(boxes):
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        return {"area": w * h / (height * width), "log_ratio": np.log(w / h), "left": boxes[:, 0]}

    ours_stats, theirs_stats = stats(ours), stats(theirs)
    for key in ours_stats:
        result = ks_2samp(ours_stats[key], theirs_stats[key])
        assert result.pvalue > 1e-3, f"{key}: KS statistic {result.statistic:.3f}"


def test_flip_grayscale_blur_solarize_rates_and_ranges():
    transform = BatchViewTransform(
        input_size=8,
        hf_prob=0.3,
        vf_prob=0.6,
        random_gray_scale=0.2,
        gaussian_blur=0.5,
        solarization_prob=0.1,
        sigmas=(0.5, 1.5),
        rr_prob=0.25,
        rr_degrees=(-10.0, 30.0),
    )
    count = 20000
    params = transform.make_params(count, 16, 16)
    for key, prob in [
        ("hflip", 0.3),
        ("vflip", 0.6),
        ("grayscale", 0.2),
        ("blur", 0.5),
        ("solarize", 0.1),
        ("rotate", 0.25),
        ("color_jitter", 0.8),
    ]:
        rate = params[key].float().mean().item()
        assert abs(rate - prob) < 4 * math.sqrt(prob * (1 - prob) / count), key
    sigma = params["sigma"]
    assert 0.5 <= sigma.min() and sigma.max() <= 1.5
    assert ks_2samp(sigma.numpy(), np.linspace(0.5, 1.5, 2001)).pvalue > 1e-3
    degrees = params["degrees"]
    assert -10 <= degrees.min() and degrees.max() <= 30 and abs(degrees.mean() - 10) < 0.5


def test_switched_off_steps_draw_nothing():
    transform = BatchViewTransform(input_size=8, **OFF)
    params = transform.make_params(50, 16, 16)
    assert not any(params[k].any() for k in ("hflip", "vflip", "color_jitter", "grayscale", "blur"))
    assert "sigma" not in params and "jitter_order" not in params


def test_jitter_factors_in_torchvision_ranges_and_every_order_occurs():
    transform = BatchViewTransform(
        cj_strength=0.5, cj_bright=0.8, cj_contrast=0.6, cj_sat=1.6, cj_hue=0.4
    )
    params = transform.make_params(6000, 16, 16)
    ranges = {
        "brightness": (0.6, 1.4),
        "contrast": (0.7, 1.3),
        "saturation": (0.2, 1.8),
        "hue": (-0.2, 0.2),
    }
    for key, (low, high) in ranges.items():
        values = params[key]
        assert low <= values.min() and values.max() <= high, key
        assert abs(values.mean().item() - (low + high) / 2) < 0.02 * (high - low) * 2, key
    orders = {tuple(row) for row in params["jitter_order"].tolist()}
    assert orders == set(itertools.permutations(range(4)))
    first = torch.bincount(params["jitter_order"][:, 0], minlength=4).float() / 6000
    assert (first - 0.25).abs().max() < 0.03


def test_zero_jitter_strength_leaves_the_op_out():
    params = BatchViewTransform(cj_hue=0.0, cj_sat=0.0).make_params(10, 16, 16)
    assert "hue" not in params and "saturation" not in params and "brightness" in params


def test_everything_off_gives_the_normalised_resized_input():
    # Square input: crop_scale (1, 1) then always gives the whole image (a non-square one also
    # admits e.g. a 29x24 crop of 30x24, whose area rounds to the whole, in torchvision too).
    images = torch.stack([rgb_tensor(24, 24, seed) for seed in range(3)])
    transform = BatchViewTransform(input_size=(12, 15), crop_scale=(1.0, 1.0), **OFF)
    out = transform(images)
    mean = torch.tensor(IMAGENET_NORMALIZE["mean"]).view(3, 1, 1)
    std = torch.tensor(IMAGENET_NORMALIZE["std"]).view(3, 1, 1)
    for b in range(3):
        resized = TF.resize(images[b].float() / 255, [12, 15], antialias=True)
        torch.testing.assert_close(out[b], (resized - mean) / std, atol=1e-5, rtol=0)


def test_without_input_size_the_image_keeps_its_size_and_float_input_is_not_modified():
    images = torch.rand(4, 3, 10, 12)
    before = images.clone()
    out = BatchViewTransform(input_size=None, normalize=None, hf_prob=1.0, cj_prob=1.0)(images)
    assert out.shape == (4, 3, 10, 12) and torch.equal(images, before)


def test_one_channel_input_becomes_three_equal_channels():
    gray = torch.randint(0, 256, (3, 1, 20, 20), dtype=torch.uint8)
    transform = BatchViewTransform(input_size=10, normalize=None, cj_prob=0.0)
    params = transform.make_params(3, 20, 20)
    out = transform.transform(gray, params)
    expected = transform.transform(gray.expand(-1, 3, -1, -1), params)
    assert out.shape == (3, 3, 10, 10)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)


def test_float_input_gives_the_uint8_result():
    images = torch.randint(0, 256, (4, 3, 20, 20), dtype=torch.uint8)
    transform = BatchViewTransform(input_size=12, solarization_prob=0.5, rr_prob=0.5)
    params = transform.make_params(4, 20, 20)
    torch.testing.assert_close(
        transform.transform(images, params),
        transform.transform(images.float() / 255, params),
        atol=1e-5,
        rtol=0,
    )


@pytest.mark.parametrize("rr_degrees", [None, 30.0])
def test_each_step_is_applied_as_the_functional_op_with_the_drawn_parameters(rr_degrees):
    """The transform equals the chain of functional ops written out by hand with its params."""
    images = torch.randint(0, 256, (6, 3, 20, 20), dtype=torch.uint8)
    transform = BatchViewTransform(
        input_size=16,
        vf_prob=0.5,
        rr_prob=0.5,
        rr_degrees=rr_degrees,
        gaussian_blur=0.5,
        solarization_prob=0.5,
    )
    params = transform.make_params(6, 20, 20)
    out = transform.transform(images, params)
    expected = []
    for b in range(6):
        p = {k: v[b : b + 1] for k, v in params.items()}
        x = BF.resized_crop(images[b : b + 1], p["boxes"], 16, hflip=p["hflip"], vflip=p["vflip"])
        if rr_degrees is None:
            x = BF.rot90(x, p["quarter_turns"] * p["rotate"])
        elif p["rotate"]:
            x = BF.rotate(x, p["degrees"])
        if p["color_jitter"]:
            ops = [
                (BF.adjust_brightness, "brightness"),
                (BF.adjust_contrast, "contrast"),
                (BF.adjust_saturation, "saturation"),
                (BF.adjust_hue, "hue"),
            ]
            for op_id in p["jitter_order"][0].tolist():
                op, key = ops[op_id]
                x = op(x, p[key])
        if p["grayscale"]:
            x = BF.rgb_to_grayscale(x)
        if p["blur"]:
            x = BF.gaussian_blur(x, p["sigma"])
        x = BF.solarize(x, p["solarize"], threshold=128 / 255)
        expected.append(BF.normalize(x, IMAGENET_NORMALIZE["mean"], IMAGENET_NORMALIZE["std"]))
    torch.testing.assert_close(out, torch.cat(expected), atol=1e-5, rtol=0)


def test_seed_and_generator_fix_the_views():
    images = torch.randint(0, 256, (4, 3, 20, 20), dtype=torch.uint8)
    transform = BatchViewTransform(input_size=12)
    torch.manual_seed(3)
    first = transform(images)
    torch.manual_seed(3)
    assert torch.equal(first, transform(images))
    views = [transform(images, generator=torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(views[0], views[1])
    assert not torch.equal(views[0], transform(images, generator=torch.Generator().manual_seed(8)))


def test_batched_simclr_views_have_the_statistics_of_per_sample_views():
    """Per-channel mean and std over many views of the same images agree with the per-sample
    SimCLRTransform (loose tolerance: same distribution, different random draws)."""
    images = torch.stack([rgb_tensor(32, 32, seed) for seed in range(8)])
    per_sample = SimCLRTransform(input_size=16)
    theirs = torch.stack([view for _ in range(6) for img in images for view in per_sample(img)])
    ours = torch.cat(SimCLRBatchTransform(input_size=16)(images.repeat(8, 1, 1, 1)))
    assert ours.shape == (128, 3, 16, 16) and theirs.shape == (96, 3, 16, 16)
    for stat in (lambda v: v.mean(dim=(0, 2, 3)), lambda v: v.std(dim=(0, 2, 3))):
        torch.testing.assert_close(stat(ours), stat(theirs), atol=0.08, rtol=0.08)


def test_bad_arguments_raise_the_per_sample_errors():
    for bad in [
        {"input_size": 0},
        {"crop_scale": (0.0, 1.0)},
        {"hf_prob": 1.5},
        {"cj_hue": 0.6},
        {"sigmas": (2.0, 1.0)},
        {"normalize": {"mean": [0.5], "std": [0.0]}},
        {"interpolation": "bilinear"},
        {"rr_degrees": -3.0},
    ]:
        with pytest.raises((TypeError, ValueError)) as expected:
            ViewTransform(**bad)
        with pytest.raises(type(expected.value), match=f"^{re.escape(str(expected.value))}$"):
            BatchViewTransform(**bad)


def test_batch_specific_errors():
    with pytest.raises(ValueError, match="square input_size"):
        BatchViewTransform(input_size=(8, 10), rr_prob=0.5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        BatchViewTransform(interpolation=InterpolationMode.LANCZOS)
    transform = BatchViewTransform(input_size=8)
    with pytest.raises(ValueError, match="unsqueeze"):
        transform(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        transform(torch.zeros(2, 4, 8, 8, dtype=torch.uint8))
    with pytest.raises(TypeError, match="uint8 or floating point"):
        transform(torch.zeros(2, 3, 8, 8, dtype=torch.int32))


def test_signature_equals_view_transform():
    assert inspect.signature(BatchViewTransform) == inspect.signature(ViewTransform)


def test_from_view_transform_copies_every_setting():
    view = ViewTransform(
        input_size=20,
        crop_scale=(0.3, 0.9),
        hf_prob=0.1,
        cj_hue=0.05,
        solarization_prob=0.3,
        interpolation=InterpolationMode.BICUBIC,
    )
    batched = BatchViewTransform.from_view_transform(view)
    for name in inspect.signature(ViewTransform).parameters:
        assert getattr(batched, name) == getattr(view, name), name


def test_params_have_the_documented_shapes_and_dtypes():
    params = BatchViewTransform(rr_prob=0.5, solarization_prob=0.5).make_params(5, 30, 40)
    assert params["boxes"].shape == (5, 4) and params["boxes"].dtype == torch.float32
    assert params["jitter_order"].shape == (5, 4) and params["jitter_order"].dtype == torch.int64
    assert params["quarter_turns"].min() >= 1 and params["quarter_turns"].max() <= 3
    for key in ("hflip", "vflip", "rotate", "color_jitter", "grayscale", "blur", "solarize"):
        assert params[key].shape == (5,) and params[key].dtype == torch.bool, key
    for key in ("brightness", "contrast", "saturation", "hue", "sigma"):
        assert params[key].shape == (5,) and params[key].is_floating_point(), key
