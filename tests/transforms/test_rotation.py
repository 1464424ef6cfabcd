from __future__ import annotations

import numpy as np
import pytest
import torch

from selfsup.transforms import RandomRotate, RandomRotateDegrees, random_rotation_transform

from ._images import rgb_array, rgb_image, rgb_tensor


def _quarter_turns(out: np.ndarray, original: np.ndarray, axes: tuple[int, int]) -> int:
    matches = [k for k in range(4) if np.array_equal(out, np.rot90(original, k, axes=axes))]
    assert len(matches) == 1, "output is not an exact quarter-turn rotation of the input"
    return matches[0]


def test_random_rotate_is_an_exact_non_trivial_quarter_turn():
    rotate = RandomRotate(prob=1.0)
    array = rgb_array(8, 8)
    tensor = torch.from_numpy(array).permute(2, 0, 1)
    seen_pil, seen_tensor = set(), set()
    for _ in range(60):
        seen_pil.add(_quarter_turns(np.asarray(rotate(rgb_image(8, 8))), array, (0, 1)))
        seen_tensor.add(_quarter_turns(rotate(tensor).numpy(), tensor.numpy(), (1, 2)))
    assert seen_pil == seen_tensor == {1, 2, 3}


def test_random_rotate_by_180_and_non_square_shapes():
    rotate = RandomRotate(prob=1.0, angle=180)
    tensor = rgb_tensor(6, 10)
    for _ in range(5):
        assert torch.equal(rotate(tensor), torch.flip(tensor, dims=(-2, -1)))
    quarter = RandomRotate(prob=1.0, angle=90)
    shapes = {tuple(quarter(tensor).shape) for _ in range(30)}
    assert shapes == {(3, 6, 10), (3, 10, 6)}


def test_random_rotate_probability_zero_is_identity():
    tensor = rgb_tensor()
    assert RandomRotate(prob=0.0)(tensor) is tensor


def test_random_rotate_degrees_changes_pixels_within_the_range():
    rotate = RandomRotateDegrees(prob=1.0, degrees=(20.0, 40.0))
    tensor = rgb_tensor()
    for _ in range(10):
        params = rotate.make_params([tensor])
        assert 20.0 <= params["angle"] <= 40.0
        out = rotate.transform(tensor, params)
        assert out.shape == tensor.shape
        assert (out.float() - tensor.float()).abs().mean() > 10
    image = rgb_image()
    assert np.abs(np.asarray(rotate(image), float) - np.asarray(image, float)).mean() > 10


def test_random_rotate_degrees_symmetric_range_from_a_number():
    rotate = RandomRotateDegrees(prob=1.0, degrees=15)
    assert rotate.degrees == (-15.0, 15.0)
    image = rgb_tensor()
    angles = [rotate.make_params([image])["angle"] for _ in range(500)]
    assert min(angles) < -10 and max(angles) > 10 and all(abs(a) <= 15 for a in angles)


def test_random_rotation_transform_picks_the_class():
    assert isinstance(random_rotation_transform(rr_prob=0.5, rr_degrees=None), RandomRotate)
    free = random_rotation_transform(rr_prob=0.5, rr_degrees=(-5, 5))
    assert isinstance(free, RandomRotateDegrees) and free.degrees == (-5.0, 5.0)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: RandomRotate(prob=1.1), "prob"),
        (lambda: RandomRotate(angle=45), "angle"),
        (lambda: RandomRotateDegrees(degrees=-3), "degrees"),
        (lambda: RandomRotateDegrees(degrees=(10, -10)), "degrees"),
    ],
)
def test_invalid_arguments(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
