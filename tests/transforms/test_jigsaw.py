from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as tv_functional

from selfsup.transforms import Jigsaw

from ._images import rgb_image, rgb_tensor


def test_patches_are_the_shuffled_cell_crops():
    jigsaw = Jigsaw(n_grid=3, img_size=30, crop_size=7)
    image = torch.rand(3, 30, 30)
    params = jigsaw.make_params([image])
    out = jigsaw.transform(image, params)
    assert out.shape == (9, 3, 7, 7)
    for position, cell in enumerate(params["permutation"].tolist()):
        row, col = divmod(cell, 3)
        dy, dx = params["offsets"][cell].tolist()
        top, left = 10 * row + dy, 10 * col + dx
        assert 0 <= dy <= 3 and 0 <= dx <= 3
        assert torch.equal(out[position], image[:, top : top + 7, left : left + 7])


def test_resizes_to_img_size_and_converts_pil_patches_to_float():
    jigsaw = Jigsaw(n_grid=2, img_size=20, crop_size=10)
    image = rgb_image(37, 41)
    params = jigsaw.make_params([image])
    out = jigsaw.transform(image, params)
    assert out.shape == (4, 3, 10, 10) and out.dtype == torch.float32
    resized = np.asarray(tv_functional.resize(image, [20, 20])).transpose(2, 0, 1) / 255.0
    for position, cell in enumerate(params["permutation"].tolist()):
        row, col = divmod(cell, 2)
        expected = resized[:, 10 * row : 10 * row + 10, 10 * col : 10 * col + 10]
        np.testing.assert_allclose(out[position].numpy(), expected, atol=1e-6)


def test_patch_transform_is_applied_to_every_patch():
    jigsaw = Jigsaw(n_grid=3, img_size=12, crop_size=4, transform=lambda patch: patch.float() * 0)
    out = jigsaw(rgb_tensor(12, 12))
    assert out.shape == (9, 3, 4, 4) and torch.count_nonzero(out) == 0


def test_permutation_is_random_and_seeded():
    jigsaw = Jigsaw(n_grid=3, img_size=12, crop_size=4)
    perms = {tuple(jigsaw.make_params([rgb_tensor()])["permutation"].tolist()) for _ in range(20)}
    assert len(perms) > 10
    torch.manual_seed(5)
    first = jigsaw(rgb_tensor(12, 12))
    torch.manual_seed(5)
    assert torch.equal(first, jigsaw(rgb_tensor(12, 12)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_grid": 0}, ValueError, "n_grid"),
        ({"crop_size": 90}, ValueError, "crop_size"),
        ({"img_size": 2.5}, TypeError, "img_size"),
        ({"transform": "not callable"}, TypeError, "transform"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Jigsaw(**kwargs)
