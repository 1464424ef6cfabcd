from __future__ import annotations

import inspect
import pickle

import pytest
import torch
from PIL import Image

from selfsup.data.multi_crop_collate import (
    DINOCollateFunction,
    MultiCropCollateFunction,
    SwaVCollateFunction,
)
from selfsup.data.undecoded import UndecodedImage
from selfsup.transforms import (
    IMAGENET_NORMALIZE,
    DINOTransform,
    MultiCropTransform,
    SwaVTransform,
    SwaVViewTransform,
)

# lightly 1.5's collate defaults (lists there, tuples here), written out independently.
LIGHTLY_DEFAULTS = {
    SwaVCollateFunction: dict(
        crop_sizes=(224, 96),
        crop_counts=(2, 6),
        crop_min_scales=(0.14, 0.05),
        crop_max_scales=(1.0, 0.14),
        hf_prob=0.5,
        vf_prob=0.0,
        rr_prob=0.0,
        rr_degrees=None,
        cj_prob=0.8,
        cj_strength=0.8,
        random_gray_scale=0.2,
        gaussian_blur=0.0,
        kernel_size=None,
        sigmas=(0.2, 2),
        normalize=IMAGENET_NORMALIZE,
    ),
    DINOCollateFunction: dict(
        global_crop_size=224,
        global_crop_scale=(0.4, 1.0),
        local_crop_size=96,
        local_crop_scale=(0.05, 0.4),
        n_local_views=6,
        hf_prob=0.5,
        vf_prob=0.0,
        rr_prob=0.0,
        rr_degrees=None,
        cj_prob=0.8,
        cj_bright=0.4,
        cj_contrast=0.4,
        cj_sat=0.2,
        cj_hue=0.1,
        random_gray_scale=0.2,
        gaussian_blur=(1.0, 0.1, 0.5),
        kernel_size=None,
        kernel_scale=None,
        sigmas=(0.1, 2),
        solarization_prob=0.2,
        normalize=IMAGENET_NORMALIZE,
    ),
}


def _images(count: int = 2) -> list[Image.Image]:
    return [
        Image.fromarray(torch.randint(0, 256, (24, 20 + i, 3), dtype=torch.uint8).numpy())
        for i in range(count)
    ]


def _batch(images):
    return [(image, 1, f"{i}.jpg") for i, image in enumerate(images)]


def _plain_view():
    return SwaVViewTransform(hf_prob=0.0, cj_prob=0.0, random_gray_scale=0.0, gaussian_blur=0.0)


def _collates():
    return {
        "multicrop": MultiCropCollateFunction(
            (12, 6), (2, 3), (0.5, 0.1), (1.0, 0.5), _plain_view()
        ),
        "swav": SwaVCollateFunction(crop_sizes=(12, 6), crop_counts=(1, 2)),
        "dino": DINOCollateFunction(global_crop_size=12, local_crop_size=6, n_local_views=3),
    }


@pytest.mark.parametrize("cls", list(LIGHTLY_DEFAULTS))
def test_signatures_match_lightly(cls):
    parameters = inspect.signature(cls.__init__).parameters
    defaults = {name: p.default for name, p in parameters.items() if name != "self"}
    assert defaults == LIGHTLY_DEFAULTS[cls]
    assert list(defaults) == list(LIGHTLY_DEFAULTS[cls])


@pytest.mark.parametrize(
    "name, sizes",
    [
        ("multicrop", [12, 12, 6, 6, 6]),
        ("swav", [12, 6, 6]),
        ("dino", [12, 12, 6, 6, 6]),
    ],
)
def test_output_is_a_list_of_view_batches_large_crops_first(name, sizes):
    views, targets, filenames = _collates()[name](_batch(_images(2)))
    assert isinstance(views, list)
    assert [tuple(view.shape) for view in views] == [(2, 3, s, s) for s in sizes]
    assert targets.tolist() == [1, 1] and filenames == ["0.jpg", "1.jpg"]


def _views_per_item(transform, images):
    per_item = [transform(image) for image in images]
    return [torch.stack([views[i] for views in per_item]) for i in range(len(per_item[0]))]


@pytest.mark.parametrize(
    "collate, reference",
    [
        (
            MultiCropCollateFunction((12, 6), (2, 3), (0.5, 0.1), (1.0, 0.5), _plain_view()),
            MultiCropTransform((12, 6), (2, 3), (0.5, 0.1), (1.0, 0.5), _plain_view()),
        ),
        (
            SwaVCollateFunction(crop_sizes=(12, 6), crop_counts=(2, 2), gaussian_blur=0.5),
            SwaVTransform(
                crop_sizes=(12, 6),
                crop_counts=(2, 2),
                cj_strength=0.8,
                cj_bright=1.0,
                cj_contrast=1.0,
                cj_sat=1.0,
                cj_hue=0.25,
                gaussian_blur=0.5,
                sigmas=(0.2, 2),
            ),
        ),
        (
            # DINO's paper values (0.4, 0.4, 0.2, 0.1) are DINOTransform's 0.5 * (0.8, 0.8, 0.4, 0.2)
            DINOCollateFunction(global_crop_size=12, local_crop_size=6, n_local_views=2),
            DINOTransform(global_crop_size=12, local_crop_size=6, n_local_views=2),
        ),
    ],
    ids=["multicrop", "swav", "dino"],
)
def test_views_are_the_matching_selfsup_transform(collate, reference):
    images = _images(2)
    torch.manual_seed(11)
    views, _, _ = collate(_batch(images))
    torch.manual_seed(11)
    expected = _views_per_item(reference, images)
    assert len(views) == len(expected)
    for got, want in zip(views, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_kernel_arguments_are_ignored_with_future_warnings():
    with pytest.warns(FutureWarning, match="kernel_size"):
        SwaVCollateFunction(
            crop_sizes=(8,),
            crop_counts=(1,),
            crop_min_scales=(0.5,),
            crop_max_scales=(1.0,),
            kernel_size=1.0,
        )
    with pytest.warns(FutureWarning, match="kernel_scale"):
        DINOCollateFunction(global_crop_size=8, local_crop_size=4, kernel_scale=0.6)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="same length"):
        MultiCropCollateFunction((12, 6), (2,), (0.5, 0.1), (1.0, 0.5), _plain_view())
    with pytest.raises(ValueError, match="gaussian_blur"):
        DINOCollateFunction(gaussian_blur=(1.0, 2.0, 0.5))


def test_undecodable_items_are_dropped():
    collate = _collates()["dino"]
    batch = _batch(_images(1)) + [(UndecodedImage("bad.png", "broken"), 0, "bad.png")]
    views, targets, filenames = collate(batch)
    assert filenames == ["0.jpg"] and all(view.shape[0] == 1 for view in views)
    assert collate.dropped == [("bad.png", "broken")]


@pytest.mark.parametrize("name", ["multicrop", "swav", "dino"])
def test_pickle_round_trip_gives_the_same_views(name):
    collate = _collates()[name]
    clone = pickle.loads(pickle.dumps(collate))
    images = _images(2)
    torch.manual_seed(2)
    original = collate(_batch(images))[0]
    torch.manual_seed(2)
    copied = clone(_batch(images))[0]
    assert all(torch.equal(a, b) for a, b in zip(original, copied, strict=True))
