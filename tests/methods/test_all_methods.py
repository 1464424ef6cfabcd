"""Behaviour every registered method must have, parametrized over ``list_methods()``."""

from __future__ import annotations

import math

import pytest
import torch

from selfsup.methods import OptimizerDefaults, SSLMethod, list_methods

METHOD_NAMES = list_methods()

#: View transforms that exist in ``selfsup.transforms`` (plus "simclr" for NNCLR/DCL/DCLW).
TRANSFORM_NAMES = {
    "simclr", "moco", "mocov1", "byol", "simsiam", "barlowtwins", "vicreg", "dino", "swav",
    "msn", "mae", "fastsiam", "smog", "pirl", "tico",
}  # fmt: skip

#: Settings that make the repeated-batch objective stationary for stateful losses: a MoCo
#: queue large enough that copies of the repeated keys do not dominate the negatives, a fixed
#: DINO centre, and TiCo's covariance from the current batch only.
STATIONARY = {
    "moco": {"memory_bank_size": 65536, "symmetric": False},
    "dino": {"center_momentum": 1.0},
    "tico": {"beta": 0.0},
}


def test_every_method_has_a_tiny_test_configuration(view_sizes):
    assert sorted(view_sizes) == METHOD_NAMES


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_class_metadata(name, tiny, view_sizes):
    method = tiny(name)
    assert isinstance(method, SSLMethod)
    assert method.transform_name in TRANSFORM_NAMES
    assert isinstance(method.optimizer_defaults, OptimizerDefaults)
    assert 1 <= method.min_views <= len(view_sizes[name])
    assert method.__doc__ and type(method).training_loss.__doc__


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_training_loss_is_a_finite_scalar_with_gradients(name, tiny, views):
    method = tiny(name)
    method.update_schedules(0, 10, 0, 1)
    loss = method.training_loss(views(name))
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    trainable = method.trainable_parameters()
    assert trainable
    missing = [n for n, p in method.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in trainable)
    assert any(p.grad.abs().sum() > 0 for p in trainable)
    frozen = [p for p in method.parameters() if not p.requires_grad]
    assert all(p.grad is None for p in frozen)


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_trainable_parameters_exclude_momentum_encoders(name, tiny):
    method = tiny(name)
    trainable = {id(p) for p in method.trainable_parameters()}
    assert trainable == {id(p) for p in method.parameters() if p.requires_grad}
    assert {id(p) for p in method.backbone.parameters()} <= trainable
    for module_name, module in method.named_children():
        if "momentum" in module_name or "teacher" in module_name or "target" in module_name:
            assert not {id(p) for p in module.parameters()} & trainable, module_name


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_a_few_steps_on_a_repeated_batch_lower_the_loss(name, tiny, views):
    method = tiny(name, **STATIONARY.get(name, {}))
    batch = views(name)
    optimizer = torch.optim.Adam(method.trainable_parameters(), lr=1e-3)
    steps, losses = 8, []
    for step in range(steps):
        method.update_schedules(step, steps, 0, 1)
        torch.manual_seed(123)  # the same masks / shuffles at every step: a repeated batch
        loss = method.training_loss(batch)
        optimizer.zero_grad()
        loss.backward()
        method.after_backward(0)
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(value) for value in losses), losses
    assert sum(losses[-2:]) < sum(losses[:2]), losses
    assert all(torch.isfinite(p).all() for p in method.parameters())


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_embed_returns_backbone_features(name, tiny, views):
    method = tiny(name).eval()
    images = views(name, batch=3)[0]
    with torch.no_grad():
        features = method.embed(images)
    assert features.shape == (3, method.num_features)
    assert features.dtype == images.dtype
    assert torch.isfinite(features).all()


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_too_few_views_is_an_error(name, tiny, views):
    method = tiny(name)
    few = views(name)[: method.min_views - 1]
    with pytest.raises(ValueError, match=f"needs at least {method.min_views} views"):
        method.training_loss(few)


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_a_single_tensor_instead_of_views_is_an_error(name, tiny, views):
    with pytest.raises(TypeError, match="list of view batches"):
        tiny(name).training_loss(views(name)[0])


@pytest.mark.parametrize("name", ["simclr", "byol", "dino", "mae"])
def test_dtype_follows_the_input(name, tiny, views):
    method = tiny(name).double()
    loss = method.training_loss([v.double() for v in views(name)])
    assert loss.dtype == torch.float64 and torch.isfinite(loss)
