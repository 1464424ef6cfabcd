import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from selfsup.report import invariance as invariance_module
from selfsup.report import invariance_augmentations as augmentations_module
from selfsup.report.invariance import (
    AUGMENTATION_FAMILIES,
    InvarianceResult,
    ResizedCropAugmentation,
    measure_invariance,
)

LUMA = (0.299, 0.587, 0.114)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _images(n=12, size=12, seed=0):
    """Images in [0, 1] that differ in colour and layout: a base colour, a gradient, noise."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(n, 3, 1, 1, generator=g)
    ramp = torch.linspace(0, 1, size).view(1, 1, 1, size) * torch.rand(n, 3, 1, 1, generator=g)
    noise = torch.rand(n, 3, size, size, generator=g)
    return (0.5 * base + 0.3 * ramp.transpose(-1, -2) + 0.2 * noise).clamp(0, 1)


class LuminanceNet(nn.Module):
    """Sees only the luma of its input: exactly invariant to grayscale, not to colour changes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1)
        self.head = nn.Linear(6 * 4, 8)

    def forward(self, x):
        luma = sum(w * x[:, c : c + 1] for c, w in enumerate(LUMA))
        features = nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(luma)), 2)
        return self.head(features.flatten(1))


class MeanColourNet(nn.Module):
    """A fixed linear map of the global average colour: invariant to any pixel permutation."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 5)

    def forward(self, x):
        return self.linear(x.mean(dim=(2, 3)))


def test_grayscale_input_model_is_exactly_invariant_to_grayscale_only():
    result = measure_invariance(
        LuminanceNet(), _images(), families=["grayscale", "color_jitter"], normalize=None
    )
    gray = result.families["grayscale"]
    assert gray.score == pytest.approx(1.0, abs=1e-5)
    assert gray.p10 == pytest.approx(1.0, abs=1e-5) and gray.std < 1e-5
    assert gray.raw_cosine == pytest.approx(1.0, abs=1e-7)
    assert result.families["color_jitter"].score < 0.95
    assert 0 < result.baseline < 0.999


def test_mean_colour_model_is_invariant_to_flips_and_rotations_not_to_colour():
    result = measure_invariance(MeanColourNet(), _images(), normalize=None, n_views=2)
    for name in ("hflip", "vflip", "rot90"):
        family = result.families[name]
        assert family.score == pytest.approx(1.0, abs=1e-6), name
        assert family.p10 == pytest.approx(1.0, abs=1e-6), name
    assert result.families["color_jitter"].score < 0.9
    assert result.families["solarize"].score < 0.9
    assert result.families["rot90"].views == 2 and result.families["hflip"].views == 1


def _reference(model, images, augment):
    """Scores from the formula with explicit loops in numpy (ImageNet normalisation)."""
    mean, std = np.array(MEAN).reshape(3, 1, 1), np.array(STD).reshape(3, 1, 1)

    def embed(x):
        with torch.no_grad():
            z = model(torch.from_numpy(((x - mean) / std)[None]).float())
        return z[0].double().numpy()

    def cos(a, b):
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    xs = images.double().numpy()
    original = [embed(x) for x in xs]
    n = len(xs)
    pairs = [cos(original[i], original[j]) for i in range(n) for j in range(n) if i != j]
    baseline = sum(pairs) / len(pairs)
    raw = np.array([cos(original[i], embed(augment(xs[i]))) for i in range(n)])
    scores = (raw - baseline) / (1 - baseline)
    p10, p90 = np.percentile(scores, [10, 90])
    return baseline, raw.mean(), scores.mean(), scores.std(ddof=1), p10, p90


def _luma(x):
    gray = sum(w * x[c] for c, w in enumerate(LUMA))
    return np.stack([gray, gray, gray])


@pytest.mark.parametrize(
    "family, augment",
    [
        ("hflip", lambda x: x[:, :, ::-1]),
        ("vflip", lambda x: x[:, ::-1, :]),
        ("grayscale", _luma),
        ("solarize", lambda x: np.where(x >= 128 / 255, 1 - x, x)),
    ],
)
def test_scores_match_a_loop_reference(family, augment):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 6, 7), nn.Tanh(), nn.Linear(7, 4))
    images = _images(n=5, size=6, seed=3)
    result = measure_invariance(model, images, families=[family], batch_size=2)
    baseline, raw, score, std, p10, p90 = _reference(model, images, augment)
    measured = result.families[family]
    assert result.baseline == pytest.approx(baseline, abs=1e-6)
    assert measured.raw_cosine == pytest.approx(raw, abs=1e-6)
    assert measured.score == pytest.approx(score, abs=1e-5)
    assert measured.std == pytest.approx(std, abs=1e-5)
    assert (measured.p10, measured.p90) == pytest.approx((p10, p90), abs=1e-5)
    assert measured.per_image.mean().item() == pytest.approx(measured.score, abs=1e-12)


def test_output_independent_of_the_input_scores_about_zero():
    generator = torch.Generator().manual_seed(5)

    def noise(x):
        return torch.randn(x.shape[0], 32, generator=generator)

    result = measure_invariance(noise, _images(n=64, size=8), families=["hflip", "crop"])
    assert abs(result.baseline) < 0.02
    for family in result.families.values():
        assert abs(family.score) < 0.1
        assert family.p10 < -0.1 and family.p90 > 0.1


def test_collapsed_embeddings_give_nan_with_a_warning():
    with pytest.warns(RuntimeWarning, match="collapsed"):
        result = measure_invariance(
            lambda x: torch.ones(x.shape[0], 4), _images(n=4), families=["hflip", "blur"]
        )
    assert math.isnan(result.families["hflip"].score)
    assert result.families["blur"].raw_cosine == pytest.approx(1.0)
    data = result.to_dict()
    assert data["families"]["hflip"]["score"] is None
    assert data["families"]["blur"]["raw_cosine"] == 1.0
    json.dumps(data, allow_nan=False)
    assert "nan" in result.table()


def test_deterministic_given_the_seed_and_independent_of_batch_size_and_other_families():
    model, images = LuminanceNet(), _images(n=6)
    names = ["crop", "color_jitter", "blur", "rot90", "hflip"]
    first = measure_invariance(model, images, families=names, batch_size=4, n_views=2)
    again = measure_invariance(model, images, families=names, batch_size=5, n_views=2)
    alone = measure_invariance(model, images, families=["crop"], n_views=2)
    other = measure_invariance(model, images, families=names, n_views=2, seed=1)
    for name in names:
        assert torch.allclose(first.families[name].per_image, again.families[name].per_image)
    assert torch.allclose(first.families["crop"].per_image, alone.families["crop"].per_image)
    assert first.families["hflip"].score == other.families["hflip"].score
    for name in ("crop", "color_jitter", "blur"):
        assert first.families[name].score != other.families[name].score


def test_uint8_images_and_datasets_give_the_same_result_as_float_tensors():
    model = MeanColourNet()
    images = _images(n=5).mul(255).round().to(torch.uint8)
    as_float = measure_invariance(model, images.float() / 255, families=["crop", "solarize"])
    as_uint8 = measure_invariance(model, images, families=["crop", "solarize"])
    dataset = [(image.float() / 255, 0) for image in images]
    as_dataset = measure_invariance(model, dataset, families=["crop", "solarize"])
    for name in ("crop", "solarize"):
        expected = as_float.families[name].per_image
        assert torch.allclose(as_uint8.families[name].per_image, expected, atol=1e-6)
        assert torch.allclose(as_dataset.families[name].per_image, expected, atol=1e-6)


def test_custom_strength_and_training_mode_restored():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten())
    images = _images(n=4, size=6)
    mild = {"crop": ResizedCropAugmentation(scale=(1.0, 1.0), ratio=(1.0, 1.0))}
    trained = measure_invariance(model.train(), images, families=mild)
    assert model.training
    evaluated = measure_invariance(model.eval(), images, families=mild)
    assert trained.families["crop"].score == evaluated.families["crop"].score
    assert trained.families["crop"].score == pytest.approx(1.0, abs=1e-5)
    assert trained.families["crop"].description.startswith("random resized crop, area 1-1")


def test_outputs_json_png_and_table(tmp_path):
    names = [f"img{i}.png" for i in range(6)]
    result = measure_invariance(MeanColourNet(), _images(n=6), filenames=names)
    assert isinstance(result, InvarianceResult)
    assert list(result.families) == list(AUGMENTATION_FAMILIES)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["n_images"] == 6 and data["per_image"]["filenames"] == names
    assert set(data["families"]) == set(AUGMENTATION_FAMILIES)
    assert data["families"]["hflip"]["score"] == pytest.approx(1.0)
    assert len(data["per_image"]["scores"]["crop"]) == 6
    assert result.summary["scores"]["vflip"] == pytest.approx(1.0)
    assert result.summary["n_images"] == 6
    table = result.table()
    for name, augmentation in AUGMENTATION_FAMILIES.items():
        assert name in table and augmentation.describe() in table
    path = result.plot(tmp_path / "invariance.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 100 and image.height > 100


def test_invalid_arguments_are_rejected():
    model, images = MeanColourNet(), _images(n=3, size=6)
    with pytest.raises(ValueError, match="unknown augmentation family 'zoom'.*crop, hflip"):
        measure_invariance(model, images, families=["hflip", "zoom"])
    with pytest.raises(ValueError, match="at least one"):
        measure_invariance(model, images, families=[])
    with pytest.raises(TypeError, match="InvarianceAugmentation"):
        measure_invariance(model, images, families={"crop": "big"})
    with pytest.raises(TypeError, match="families"):
        measure_invariance(model, images, families="crop")
    with pytest.raises(ValueError, match="at least 2 images"):
        measure_invariance(model, images[:1])
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        measure_invariance(model, images[:, :1])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        measure_invariance(model, images * 2)
    with pytest.raises(TypeError, match="got Image"):
        measure_invariance(model, [(Image.new("RGB", (4, 4)), 0)] * 2)
    with pytest.raises(TypeError, match="seed"):
        measure_invariance(model, images, seed=0.5)
    with pytest.raises(ValueError, match="n_views"):
        measure_invariance(model, images, n_views=0)
    with pytest.raises(ValueError, match="filenames has 2 names for 3 images"):
        measure_invariance(model, images, filenames=["a", "b"])
    with pytest.raises(ValueError, match=r"model must map .* got \(3,\)"):
        measure_invariance(lambda x: x.sum(dim=(1, 2, 3)), images, families=["hflip"])
    with pytest.raises(ValueError, match="square"):
        measure_invariance(model, images[..., :5], families=["rot90"])


@pytest.mark.parametrize("module", [invariance_module, augmentations_module])
def test_public_names_exist_and_are_documented(module):
    for name in module.__all__:
        value = getattr(module, name)
        assert not callable(value) or value.__doc__, name
