from __future__ import annotations

import pytest
import torch

from selfsup.transforms import RandomTransform


class _AddOffset(RandomTransform):
    """Adds a random offset in [0, 1)."""

    def _sample(self, flat_inputs):
        return {"offset": torch.rand(1).item()}

    def _apply(self, inpt, params):
        return inpt + params["offset"]


def test_base_class_is_abstract():
    with pytest.raises(TypeError):
        RandomTransform(prob=0.5)


def test_params_are_drawn_once_and_applied():
    transform = _AddOffset(prob=1.0)
    params = transform.make_params([torch.zeros(3)])
    assert params["apply"] is True and 0 <= params["offset"] < 1
    out = transform.transform(torch.zeros(3), params)
    assert torch.equal(out, torch.full((3,), params["offset"]))


def test_not_applied_returns_input_and_draws_nothing_at_zero():
    transform = _AddOffset(prob=0.0)
    x = torch.zeros(3)
    state = torch.get_rng_state()
    assert transform(x) is x
    assert torch.equal(state, torch.get_rng_state())
    assert transform.make_params([x]) == {"apply": False}


def test_invalid_probability():
    with pytest.raises(ValueError, match=r"prob must be in \[0.0, 1.0\], got 1.5"):
        _AddOffset(prob=1.5)
    with pytest.raises(TypeError, match="prob"):
        _AddOffset(prob="high")
