from __future__ import annotations

import inspect
import logging
import pickle

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from selfsup.data.collate import (
    BaseCollateFunction,
    ImageCollateFunction,
    MoCoCollateFunction,
    SimCLRCollateFunction,
)
from selfsup.data.image_dataset import ImageDataset
from selfsup.data.undecoded import UndecodedImage
from selfsup.transforms import (
    IMAGENET_NORMALIZE,
    MoCoV1Transform,
    SimCLRTransform,
    SimCLRViewTransform,
)

# lightly 1.5's collate defaults, written out independently of the implementation.
LIGHTLY_DEFAULTS = {
    ImageCollateFunction: dict(
        input_size=64,
        cj_prob=0.8,
        cj_bright=0.7,
        cj_contrast=0.7,
        cj_sat=0.7,
        cj_hue=0.2,
        min_scale=0.15,
        random_gray_scale=0.2,
        gaussian_blur=0.5,
        kernel_size=None,
        sigmas=(0.2, 2),
        vf_prob=0.0,
        hf_prob=0.5,
        rr_prob=0.0,
        rr_degrees=None,
        normalize=IMAGENET_NORMALIZE,
    ),
    SimCLRCollateFunction: dict(
        input_size=224,
        cj_prob=0.8,
        cj_strength=0.5,
        min_scale=0.08,
        random_gray_scale=0.2,
        gaussian_blur=0.5,
        kernel_size=None,
        sigmas=(0.2, 2),
        vf_prob=0.0,
        hf_prob=0.5,
        rr_prob=0.0,
        rr_degrees=None,
        normalize=IMAGENET_NORMALIZE,
    ),
    MoCoCollateFunction: dict(
        input_size=224,
        cj_prob=0.8,
        cj_strength=0.4,
        min_scale=0.2,
        random_gray_scale=0.2,
        gaussian_blur=0.0,
        kernel_size=None,
        sigmas=(0.2, 2),
        vf_prob=0.0,
        hf_prob=0.5,
        rr_prob=0.0,
        rr_degrees=None,
        normalize=IMAGENET_NORMALIZE,
    ),
}


def _images(count: int = 3) -> list[Image.Image]:
    return [
        Image.fromarray(torch.randint(0, 256, (20 + i, 24, 3), dtype=torch.uint8).numpy())
        for i in range(count)
    ]


def _batch(images):
    return [(image, i % 2, f"{i}.png") for i, image in enumerate(images)]


@pytest.mark.parametrize("cls", list(LIGHTLY_DEFAULTS))
def test_signatures_match_lightly(cls):
    parameters = inspect.signature(cls.__init__).parameters
    defaults = {name: p.default for name, p in parameters.items() if name != "self"}
    assert defaults == LIGHTLY_DEFAULTS[cls]
    assert list(defaults) == list(LIGHTLY_DEFAULTS[cls])  # same positional order


@pytest.mark.parametrize(
    "collate",
    [
        BaseCollateFunction(SimCLRViewTransform(input_size=12)),
        ImageCollateFunction(input_size=12),
        SimCLRCollateFunction(input_size=12),
        MoCoCollateFunction(input_size=12),
    ],
    ids=["base", "image", "simclr", "moco"],
)
def test_two_view_output_structure(collate):
    (x0, x1), targets, filenames = collate(_batch(_images()))
    assert x0.shape == x1.shape == (3, 3, 12, 12)
    assert x0.dtype == torch.float32 and not torch.equal(x0, x1)
    assert targets.dtype == torch.long and targets.tolist() == [0, 1, 0]
    assert filenames == ["0.png", "1.png", "2.png"]


def _views_per_item(transform, images):
    """Reference: the transform applied to each image in turn, views stacked by position."""
    per_item = [transform(image) for image in images]
    return [torch.stack([views[i] for views in per_item]) for i in range(len(per_item[0]))]


@pytest.mark.parametrize(
    "collate, reference",
    [
        (
            BaseCollateFunction(SimCLRViewTransform(input_size=12, cj_strength=0.3)),
            SimCLRTransform(input_size=12, cj_strength=0.3),
        ),
        (
            ImageCollateFunction(input_size=12, cj_bright=0.1, cj_hue=0.05, hf_prob=0.9),
            SimCLRTransform(
                input_size=12,
                cj_bright=0.1,
                cj_contrast=0.7,
                cj_sat=0.7,
                cj_hue=0.05,
                min_scale=0.15,
                sigmas=(0.2, 2),
                hf_prob=0.9,
            ),
        ),
        (
            SimCLRCollateFunction(input_size=12),
            SimCLRTransform(input_size=12, cj_strength=0.5, sigmas=(0.2, 2)),
        ),
        (
            MoCoCollateFunction(input_size=12, gaussian_blur=0.7),
            MoCoV1Transform(input_size=12, gaussian_blur=0.7, sigmas=(0.2, 2)),
        ),
    ],
    ids=["base", "image", "simclr", "moco"],
)
def test_views_are_the_matching_selfsup_transform(collate, reference):
    images = _images()
    torch.manual_seed(7)
    views, _, _ = collate(_batch(images))
    torch.manual_seed(7)
    expected = _views_per_item(reference, images)
    assert len(views) == len(expected) == 2
    for got, want in zip(views, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_kernel_size_is_ignored_with_a_future_warning():
    images = _images(1)
    with pytest.warns(FutureWarning, match="kernel_size=0.1 is ignored.*sigmas"):
        with_kernel = SimCLRCollateFunction(input_size=12, kernel_size=0.1)
    torch.manual_seed(3)
    a = with_kernel(_batch(images))[0]
    torch.manual_seed(3)
    b = SimCLRCollateFunction(input_size=12)(_batch(images))[0]
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_bad_arguments_are_rejected():
    with pytest.raises(TypeError, match="transform must be callable"):
        BaseCollateFunction("not a transform")
    with pytest.raises(ValueError, match="min_scale"):
        SimCLRCollateFunction(min_scale=0.0)


def test_undecodable_items_are_dropped_and_counted(caplog):
    collate = SimCLRCollateFunction(input_size=12)
    batch = _batch(_images(2)) + [(UndecodedImage("x/cut.jpg", "truncated"), 0, "x/cut.jpg")]
    with caplog.at_level(logging.WARNING):
        (x0, x1), targets, filenames = collate(batch)
    assert x0.shape[0] == x1.shape[0] == 2 and filenames == ["0.png", "1.png"]
    assert collate.dropped == [("x/cut.jpg", "truncated")]
    assert any("x/cut.jpg" in record.getMessage() for record in caplog.records)
    empty_views, empty_targets, empty_names = collate(batch[2:])
    assert empty_views == () and empty_names == [] and empty_targets.numel() == 0


@pytest.mark.parametrize(
    "collate",
    [
        BaseCollateFunction(SimCLRViewTransform(input_size=12)),
        ImageCollateFunction(input_size=12),
        SimCLRCollateFunction(input_size=12),
        MoCoCollateFunction(input_size=12),
    ],
    ids=["base", "image", "simclr", "moco"],
)
def test_pickle_round_trip_gives_the_same_views(collate):
    clone = pickle.loads(pickle.dumps(collate))
    assert type(clone) is type(collate)
    images = _images(2)
    torch.manual_seed(5)
    original = collate(_batch(images))[0]
    torch.manual_seed(5)
    copied = clone(_batch(images))[0]
    assert all(torch.equal(x, y) for x, y in zip(original, copied, strict=True))


def test_workers_run_an_epoch_over_a_truncated_jpeg(tmp_path, write_image, truncated_jpeg):
    for i in range(5):
        write_image(tmp_path / "a" / f"{i}.png", color=(40 * i, 0, 0), size=(16, 16))
    truncated_jpeg(tmp_path / "a" / "2b_cut.jpg")
    dataset = ImageDataset(tmp_path)
    loader = DataLoader(
        dataset, batch_size=2, num_workers=2, collate_fn=SimCLRCollateFunction(input_size=8)
    )
    seen = []
    for (x0, x1), targets, filenames in loader:
        assert x0.shape == x1.shape == (len(filenames), 3, 8, 8)
        assert targets.tolist() == [0] * len(filenames)
        seen += filenames
    assert seen == [f"a/{i}.png" for i in range(5)]
    assert len(dataset) - len(seen) == 1  # the cut file was dropped, nothing else


def test_transform_attribute_maps_one_image_to_both_views():
    # selfsup.utils.debug.plot_augmented_images previews a collate through this attribute.
    views = SimCLRCollateFunction(input_size=12).transform(_images(1)[0])
    assert len(views) == 2 and all(view.shape == (3, 12, 12) for view in views)
