"""SwaV: swapped prediction of Sinkhorn codes, prototypes, multi-crop and the queue."""

from __future__ import annotations

import pytest
import torch

from selfsup.methods import SwaV


def _spy_queue(method, monkeypatch):
    seen = []
    original = method.criterion.forward

    def spy(high, low, queue=None):
        seen.append(None if queue is None else [tuple(q.shape) for q in queue])
        return original(high, low, queue)

    monkeypatch.setattr(method.criterion, "forward", spy)
    return seen


def test_prototypes_are_normalised_every_step(tiny, views):
    method = tiny("swav")
    with torch.no_grad():
        method.prototypes.heads[0].weight.mul_(3.0)
    method.training_loss(views("swav"))
    norms = method.prototypes.heads[0].weight.norm(dim=1)
    torch.testing.assert_close(norms, torch.ones_like(norms))


def test_high_and_low_resolution_views(tiny, views, monkeypatch):
    method = tiny("swav")
    seen = []
    original = method.criterion.forward

    def spy(high, low, queue=None):
        seen.append(([tuple(h.shape) for h in high], [tuple(x.shape) for x in low]))
        return original(high, low, queue)

    monkeypatch.setattr(method.criterion, "forward", spy)
    method.training_loss(views("swav"))
    assert seen == [([(4, 8), (4, 8)], [(4, 8), (4, 8)])]


def test_queue_starts_at_its_epoch_and_is_used_once_full(tiny, views, monkeypatch):
    method = tiny("swav", queue_length=8, start_queue_at_epoch=1)
    seen = _spy_queue(method, monkeypatch)
    batch = views("swav")
    method.update_schedules(0, 10, 0, 2)
    method.training_loss(batch)
    assert int(method.queue_count) == 0  # epoch 0 < start epoch: nothing is queued
    method.update_schedules(5, 10, 1, 2)
    for _ in range(3):
        method.training_loss(batch)
    assert int(method.queue_count) == 12
    assert seen == [None, None, None, [(8, 8), (8, 8)]]


def test_prototypes_are_frozen_for_the_first_steps(tiny, views):
    method = tiny("swav", n_steps_frozen_prototypes=2)
    weight = method.prototypes.heads[0].weight
    method.update_schedules(1, 10, 0, 1)
    method.training_loss(views("swav"))
    assert any(p is weight for p in method.trainable_parameters())  # still in the optimizer
    method.update_schedules(1, 10, 0, 1)
    method.training_loss(views("swav")).backward()
    assert weight.grad is None
    method.update_schedules(2, 10, 0, 1)
    method.training_loss(views("swav")).backward()
    assert weight.grad is not None and weight.grad.abs().sum() > 0


def test_defaults_and_errors():
    method = SwaV("resnet-9", backbone_kwargs={"width": 0.125})
    assert method.prototypes.n_prototypes == [3000]
    assert len(method.queues) == 0
    assert method.optimizer_defaults.name == "adamw"
    with pytest.raises(ValueError, match="queue_length must be an int >= 0, got -1"):
        SwaV("resnet-9", backbone_kwargs={"width": 0.125}, queue_length=-1)
