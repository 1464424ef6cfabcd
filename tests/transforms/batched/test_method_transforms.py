"""Every method's batched transform: signature, views, shapes, identity setting, errors."""

from __future__ import annotations

import inspect
import re

import pytest
import torch

from selfsup.transforms import IMAGENET_NORMALIZE, TRANSFORMS, Jigsaw, ViewTransform
from selfsup.transforms.batched import (
    BatchJigsaw,
    BatchMultiViewTransform,
    BatchViewTransform,
    BYOLBatchTransform,
    DINOBatchTransform,
    PIRLBatchTransform,
    SimCLRBatchTransform,
    create_batch_transform,
    get_batch_transform_class,
    list_batch_transforms,
)
from selfsup.transforms.batched import functional as BF

from .._images import rgb_tensor

#: Small sizes per method so that every view is cheap; keys must exist in the signature.
SMALL = {
    "dino": {"global_crop_size": 16, "local_crop_size": 8},
    "swav": {"crop_sizes": (16, 8)},
    "smog": {"crop_sizes": (16, 8)},
    "msn": {"random_size": 16, "focal_size": 8},
    "pirl": {"input_size": 15},
}


def _small(name: str) -> dict:
    return SMALL.get(name, {"input_size": 16})


def _images(batch: int = 3, side: int = 24) -> torch.Tensor:
    return torch.stack([rgb_tensor(side, side, seed) for seed in range(batch)])


def test_registry_has_every_per_sample_method():
    assert list_batch_transforms() == TRANSFORMS.names()
    assert list_batch_transforms("moco*") == ["moco", "mocov1", "mocov2"]
    with pytest.raises(ValueError, match="unknown batch transform 'nope'; known: barlowtwins"):
        get_batch_transform_class("nope")


@pytest.mark.parametrize("name", TRANSFORMS.names())
def test_signature_equals_the_per_sample_class(name):
    ours = inspect.signature(get_batch_transform_class(name)).parameters
    theirs = inspect.signature(TRANSFORMS.get(name)).parameters
    assert list(ours) == list(theirs)
    for key, parameter in theirs.items():
        assert ours[key].default == parameter.default, key
        assert ours[key].kind == parameter.kind, key


@pytest.mark.parametrize("name", TRANSFORMS.names())
def test_views_match_the_per_sample_transform(name):
    images = _images()
    transform = create_batch_transform(name, **_small(name))
    assert isinstance(transform, BatchMultiViewTransform)
    views = transform(images)
    per_sample = TRANSFORMS.get(name)(**_small(name))(images[0])
    assert len(views) == len(per_sample) == len(transform)
    for view, reference in zip(views, per_sample, strict=True):
        assert view.shape == (3, *reference.shape)
        assert view.dtype == torch.float32 and view.device == images.device
        assert torch.isfinite(view).all()


@pytest.mark.parametrize(
    ("name", "off"),
    [
        (
            "simclr",
            {
                "min_scale": 1.0,
                "hf_prob": 0.0,
                "cj_prob": 0.0,
                "random_gray_scale": 0.0,
                "gaussian_blur": 0.0,
            },
        ),
        (
            "byol",
            {
                "min_scale": 1.0,
                "hf_prob": 0.0,
                "cj_prob": 0.0,
                "random_gray_scale": 0.0,
                "gaussian_blur": (0.0, 0.0),
                "solarization_prob": (0.0, 0.0),
            },
        ),
        (
            "dino",
            {
                "global_crop_scale": (1.0, 1.0),
                "local_crop_scale": (1.0, 1.0),
                "hf_prob": 0.0,
                "cj_prob": 0.0,
                "random_gray_scale": 0.0,
                "gaussian_blur": (0.0, 0.0, 0.0),
                "solarization_prob": 0.0,
            },
        ),
        ("mae", {"min_scale": 1.0}),
    ],
)
def test_everything_off_gives_the_normalised_resized_input(name, off):
    images = _images()
    transform = create_batch_transform(name, **_small(name), **off)
    views = transform(images)
    for view in views:
        size = view.shape[-1]
        boxes = torch.tensor([[0.0, 0.0, 24.0, 24.0]]).expand(3, 4)
        mode = "bicubic" if name in ("dino", "mae") else "bilinear"
        resized = BF.resized_crop(images, boxes, size, interpolation=mode)
        expected = BF.normalize(resized, IMAGENET_NORMALIZE["mean"], IMAGENET_NORMALIZE["std"])
        if name == "mae":  # MAE always flips with probability 0.5
            flipped = BF.hflip(expected)
            same = [
                torch.allclose(v, e, atol=1e-5) or torch.allclose(v, f, atol=1e-5)
                for v, e, f in zip(view, expected, flipped, strict=True)
            ]
            assert all(same)
        else:
            torch.testing.assert_close(view, expected, atol=1e-5, rtol=0)


def test_repeated_views_get_independent_parameters():
    views = SimCLRBatchTransform(input_size=16)(_images())
    assert len(views) == 2 and not torch.equal(views[0], views[1])
    torch.manual_seed(1)
    first = SimCLRBatchTransform(input_size=16)(_images())
    torch.manual_seed(1)
    second = SimCLRBatchTransform(input_size=16)(_images())
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_dino_views_follow_the_per_view_settings():
    transform = DINOBatchTransform(global_crop_size=16, local_crop_size=8, n_local_views=3)
    globals_, local = transform.transforms[:2], transform.transforms[2:]
    assert [t.gaussian_blur for t in globals_] == [1.0, 0.1]
    assert [t.solarization_prob for t in globals_] == [0.0, 0.2]
    assert all(t is local[0] for t in local) and local[0].crop_scale == (0.05, 0.4)
    assert globals_[0].interpolation.value == "bicubic" and local[0].input_size == (8, 8)


def test_swav_crop_groups_come_from_the_multi_crop_settings():
    transform = create_batch_transform(
        "swav",
        crop_sizes=(16, 8),
        crop_counts=(1, 2),
        crop_min_scales=(0.3, 0.1),
        crop_max_scales=(0.9, 0.2),
    )
    assert [t.input_size for t in transform.transforms] == [(16, 16), (8, 8), (8, 8)]
    assert [t.crop_scale for t in transform.transforms] == [(0.3, 0.9), (0.1, 0.2), (0.1, 0.2)]


def test_byol_takes_batch_callables_and_converts_per_sample_views():
    def constant(images):
        return torch.zeros(images.shape[0], 3, 4, 4)

    transform = BYOLBatchTransform(
        view_1_transform=constant, view_2_transform=ViewTransform(input_size=8)
    )
    assert transform.transforms[0] is constant
    assert isinstance(transform.transforms[1], BatchViewTransform)
    first, second = transform(_images())
    assert first.shape == (3, 3, 4, 4) and second.shape == (3, 3, 8, 8)


def test_pirl_patches_are_a_shuffle_of_the_grid_cells():
    images = _images(2, 15)
    transform = PIRLBatchTransform(
        input_size=15, n_grid=3, hf_prob=0.0, cj_prob=0.0, random_gray_scale=0.0, normalize=None
    )
    view, patches = transform(images)
    assert view.shape == (2, 3, 15, 15) and patches.shape == (2, 9, 3, 5, 5)
    cells = BF.to_float(images).unfold(2, 5, 5).unfold(3, 5, 5)  # (B, 3, 3, 3, 5, 5)
    cells = cells.permute(0, 2, 3, 1, 4, 5).reshape(2, 9, 3, 5, 5)
    for b in range(2):
        matches = [
            next(i for i in range(9) if torch.allclose(patch, cells[b, i], atol=1e-6))
            for patch in patches[b]
        ]
        assert sorted(matches) == list(range(9))


BAD = [
    ("simclr", {"input_size": 0}),
    ("simclr", {"cj_prob": 1.5}),
    ("simclr", {"min_scale": 0.0}),
    ("dino", {"gaussian_blur": (1.0, 0.5)}),
    ("dino", {"n_local_views": -1}),
    ("swav", {"crop_counts": (2,)}),
    ("msn", {"random_views": 0, "focal_views": 0}),
    ("smog", {"crop_counts": (0, 0)}),
    ("byol", {"solarization_prob": (0.0, 2.0)}),
    ("pirl", {"input_size": 2, "n_grid": 3}),
    ("fastsiam", {"K": 0}),
    ("mae", {"normalize": {"mean": [0.1, 0.2], "std": [1.0, 1.0]}}),
]


@pytest.mark.parametrize(("name", "bad"), BAD)
def test_bad_arguments_raise_the_per_sample_errors(name, bad):
    with pytest.raises((TypeError, ValueError)) as expected:
        TRANSFORMS.get(name)(**bad)
    with pytest.raises(type(expected.value), match=f"^{re.escape(str(expected.value))}$"):
        create_batch_transform(name, **bad)


def test_container_checks_its_transforms_and_the_batch():
    with pytest.raises(ValueError, match="at least one transform"):
        BatchMultiViewTransform([])
    with pytest.raises(TypeError, match=r"transforms\[1\] must be callable"):
        BatchMultiViewTransform([BatchViewTransform(), 3])
    with pytest.raises(ValueError, match="unsqueeze"):
        SimCLRBatchTransform(input_size=8)(torch.zeros(3, 8, 8, dtype=torch.uint8))


def test_batch_jigsaw_crops_inside_the_cells_and_shuffles_per_image():
    images = torch.arange(2 * 12 * 12, dtype=torch.float32).view(2, 1, 12, 12) / 288
    jigsaw = BatchJigsaw(n_grid=2, img_size=12, crop_size=4)
    params = jigsaw.make_params(2, generator=torch.Generator().manual_seed(0))
    assert params["offsets"].shape == (2, 4, 2) and params["offsets"].max() <= 2
    patches = jigsaw(images, generator=torch.Generator().manual_seed(0))
    assert patches.shape == (2, 4, 3, 4, 4)
    for b in range(2):
        for i, cell in enumerate(params["permutation"][b].tolist()):
            dy, dx = params["offsets"][b, cell].tolist()
            top, left = (cell // 2) * 6 + dy, (cell % 2) * 6 + dx
            expected = images[b, :, top : top + 4, left : left + 4].expand(3, -1, -1)
            assert torch.equal(patches[b, i], expected)


def test_batch_jigsaw_raises_the_per_sample_errors():
    with pytest.raises(ValueError) as expected:
        Jigsaw(n_grid=3, img_size=9, crop_size=4)
    with pytest.raises(ValueError, match=f"^{re.escape(str(expected.value))}$"):
        BatchJigsaw(n_grid=3, img_size=9, crop_size=4)


def test_grouped_local_views_are_independent():
    views = DINOBatchTransform(global_crop_size=16, local_crop_size=8, n_local_views=4)(_images())
    local = views[2:]
    assert len(local) == 4 and all(v.shape == (3, 3, 8, 8) for v in local)
    assert all(not torch.equal(local[0], other) for other in local[1:])
