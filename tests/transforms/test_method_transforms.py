"""Checks shared by every per-method view transform: outputs, seeding, signatures, identity."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as tv_functional
from PIL import Image
from torchvision.transforms import InterpolationMode

from selfsup.transforms import (
    IMAGENET_NORMALIZE,
    BarlowTwinsTransform,
    BYOLTransform,
    DINOTransform,
    FastSiamTransform,
    MAETransform,
    MoCoV1Transform,
    MoCoV2Transform,
    MSNTransform,
    PIRLTransform,
    SimCLRTransform,
    SimSiamTransform,
    SMoGTransform,
    SwaVTransform,
    TiCoTransform,
    VICRegTransform,
)

from ._images import rgb_array, rgb_image, rgb_tensor

TWO_VIEWS = [(3, 16, 16)] * 2
SMALL = {
    SimCLRTransform: ({"input_size": 16}, TWO_VIEWS),
    MoCoV1Transform: ({"input_size": 16}, TWO_VIEWS),
    MoCoV2Transform: ({"input_size": 16}, TWO_VIEWS),
    SimSiamTransform: ({"input_size": 16}, TWO_VIEWS),
    BYOLTransform: ({"input_size": 16}, TWO_VIEWS),
    BarlowTwinsTransform: ({"input_size": 16}, TWO_VIEWS),
    TiCoTransform: ({"input_size": 16}, TWO_VIEWS),
    VICRegTransform: ({"input_size": 16}, TWO_VIEWS),
    DINOTransform: (
        {"global_crop_size": 16, "local_crop_size": 8, "n_local_views": 3},
        TWO_VIEWS + [(3, 8, 8)] * 3,
    ),
    SwaVTransform: ({"crop_sizes": (16, 8), "crop_counts": (2, 3)}, TWO_VIEWS + [(3, 8, 8)] * 3),
    MSNTransform: (
        {"random_size": 16, "focal_size": 8, "focal_views": 3},
        TWO_VIEWS + [(3, 8, 8)] * 3,
    ),
    MAETransform: ({"input_size": 16}, [(3, 16, 16)]),
    FastSiamTransform: ({"input_size": 16}, [(3, 16, 16)] * 4),
    SMoGTransform: ({"crop_sizes": (16, 8), "crop_counts": (2, 2)}, TWO_VIEWS + [(3, 8, 8)] * 2),
    PIRLTransform: ({"input_size": 18}, [(3, 18, 18), (9, 3, 6, 6)]),
}
INPUTS = {
    "pil_rgb": rgb_image,
    "pil_gray": lambda: Image.fromarray(rgb_array()[..., 0]),
    "uint8": rgb_tensor,
    "float": lambda: rgb_tensor().float() / 255,
    "uint8_gray": lambda: rgb_tensor()[:1],
}


@pytest.mark.parametrize("make_input", INPUTS.values(), ids=INPUTS.keys())
@pytest.mark.parametrize("cls", SMALL, ids=lambda cls: cls.__name__)
def test_view_count_shapes_and_dtype(cls, make_input):
    kwargs, shapes = SMALL[cls]
    views = cls(**kwargs)(make_input())
    assert isinstance(views, list)
    assert [tuple(view.shape) for view in views] == shapes
    assert all(view.dtype == torch.float32 for view in views)
    assert all(torch.isfinite(view).all() for view in views)


@pytest.mark.parametrize("cls", SMALL, ids=lambda cls: cls.__name__)
def test_same_seed_gives_the_same_views(cls):
    transform = cls(**SMALL[cls][0])
    torch.manual_seed(11)
    first = transform(rgb_image())
    torch.manual_seed(11)
    second = transform(rgb_image())
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, transform(rgb_image()), strict=True))


@pytest.mark.parametrize("cls", SMALL, ids=lambda cls: cls.__name__)
def test_constructor_takes_only_keywords_with_defaults(cls):
    parameters = inspect.signature(cls.__init__).parameters
    options = {name: p for name, p in parameters.items() if name != "self"}
    assert options and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in options.values())
    assert all(p.default is not inspect.Parameter.empty for p in options.values())
    with pytest.raises(TypeError):
        cls(16)
    config = {name: p.default for name, p in options.items()}
    assert len(cls(**config)) == len(cls())


def _reference(image, size: int, interpolation: InterpolationMode) -> torch.Tensor:
    resized = tv_functional.resize(image, [size, size], interpolation=interpolation)
    tensor = tv_functional.to_dtype(tv_functional.to_image(resized), torch.float32, scale=True)
    return tv_functional.normalize(tensor, IMAGENET_NORMALIZE["mean"], IMAGENET_NORMALIZE["std"])


OFF_SINGLE = {"min_scale": 1.0, "cj_prob": 0.0, "random_gray_scale": 0.0, "hf_prob": 0.0}
OFF_BYOL = {**OFF_SINGLE, "gaussian_blur": (0.0, 0.0), "solarization_prob": (0.0, 0.0)}
OFF_COLOR = {"cj_prob": 0.0, "random_gray_scale": 0.0, "hf_prob": 0.0}
BILINEAR, BICUBIC = InterpolationMode.BILINEAR, InterpolationMode.BICUBIC
SWITCHED_OFF = [
    (SimCLRTransform, {"input_size": 16, "gaussian_blur": 0.0, **OFF_SINGLE}, BILINEAR),
    (MoCoV1Transform, {"input_size": 16, **OFF_SINGLE}, BILINEAR),
    (MoCoV2Transform, {"input_size": 16, "gaussian_blur": 0.0, **OFF_SINGLE}, BILINEAR),
    (SimSiamTransform, {"input_size": 16, "gaussian_blur": 0.0, **OFF_SINGLE}, BILINEAR),
    (FastSiamTransform, {"input_size": 16, "gaussian_blur": 0.0, **OFF_SINGLE}, BILINEAR),
    (
        VICRegTransform,
        {"input_size": 16, "gaussian_blur": 0.0, "solarize_prob": 0.0, **OFF_SINGLE},
        BILINEAR,
    ),
    (BYOLTransform, {"input_size": 16, **OFF_BYOL}, BILINEAR),
    (BarlowTwinsTransform, {"input_size": 16, **OFF_BYOL}, BILINEAR),
    (TiCoTransform, {"input_size": 16, **OFF_BYOL}, BILINEAR),
    (
        DINOTransform,
        {
            "global_crop_size": 16,
            "local_crop_size": 8,
            "n_local_views": 2,
            "global_crop_scale": (1.0, 1.0),
            "local_crop_scale": (1.0, 1.0),
            "gaussian_blur": (0.0, 0.0, 0.0),
            "solarization_prob": 0.0,
            **OFF_COLOR,
        },
        BICUBIC,
    ),
    (
        SwaVTransform,
        {
            "crop_sizes": (16, 8),
            "crop_counts": (1, 2),
            "crop_min_scales": (1.0, 1.0),
            "crop_max_scales": (1.0, 1.0),
            "gaussian_blur": 0.0,
            **OFF_COLOR,
        },
        BILINEAR,
    ),
    (
        MSNTransform,
        {
            "random_size": 16,
            "focal_size": 8,
            "random_views": 1,
            "focal_views": 2,
            "random_crop_scale": (1.0, 1.0),
            "focal_crop_scale": (1.0, 1.0),
            "gaussian_blur": 0.0,
            **OFF_COLOR,
        },
        BILINEAR,
    ),
    (
        SMoGTransform,
        {
            "crop_sizes": (16, 8),
            "crop_counts": (1, 2),
            "crop_min_scales": (1.0, 1.0),
            "crop_max_scales": (1.0, 1.0),
            "gaussian_blur_probs": (0.0, 0.0),
            "solarize_probs": (0.0, 0.0),
            **OFF_COLOR,
        },
        BILINEAR,
    ),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "interpolation"), SWITCHED_OFF, ids=lambda x: getattr(x, "__name__", "")
)
def test_everything_switched_off_is_resize_to_tensor_normalise(cls, kwargs, interpolation):
    image = rgb_image()
    for view in cls(**kwargs)(image):
        reference = _reference(image, view.shape[-1], interpolation)
        torch.testing.assert_close(view, reference, atol=1e-5, rtol=0)


def test_switched_off_pirl_gives_the_resized_image_and_its_grid_cells():
    image = rgb_image(36, 36)
    off = {"min_scale": 1.0, "cj_prob": 0.0, "random_gray_scale": 0.0, "hf_prob": 0.0}
    view, patches = PIRLTransform(input_size=18, **off)(image)
    reference = _reference(image, 18, BILINEAR)
    torch.testing.assert_close(view, reference, atol=1e-5, rtol=0)
    cells = [reference[:, 6 * r : 6 * r + 6, 6 * c : 6 * c + 6] for r in range(3) for c in range(3)]
    matched = []
    for patch in patches:
        hits = [i for i, cell in enumerate(cells) if torch.allclose(patch, cell, atol=1e-5)]
        assert len(hits) == 1
        matched.append(hits[0])
    assert sorted(matched) == list(range(9))


def test_mae_view_is_the_resized_image_or_its_mirror():
    image = rgb_image()
    reference = _reference(image, 16, BICUBIC)
    seen = set()
    for _ in range(12):
        (view,) = MAETransform(input_size=16, min_scale=1.0)(image)
        flipped = torch.allclose(view, reference.flip(-1), atol=1e-5)
        assert flipped or torch.allclose(view, reference, atol=1e-5)
        seen.add(flipped)
    assert seen == {True, False}


def test_views_are_different_augmentations():
    views = SimCLRTransform(input_size=16)(rgb_image())
    assert not np.allclose(views[0].numpy(), views[1].numpy())
