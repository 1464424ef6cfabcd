"""FastSiam: each view's prediction against the mean target of the other views."""

from __future__ import annotations

import numpy as np

from selfsup.methods import FastSiam, SimSiam


def test_loss_matches_a_loop_over_views(tiny, views):
    method = tiny("fastsiam")
    batch = views("fastsiam")
    loss = method.training_loss(batch)
    outputs = [method(view) for view in batch]
    z = [o[0].detach().double().numpy() for o in outputs]
    p = [o[1].detach().double().numpy() for o in outputs]
    total = 0.0
    for i in range(len(batch)):
        target = np.mean([z[j] for j in range(len(batch)) if j != i], axis=0)
        cos = (
            np.sum(p[i] * target, 1) / np.linalg.norm(p[i], axis=1) / np.linalg.norm(target, axis=1)
        )
        total += -np.mean(cos)
    assert abs(loss.item() - total / len(batch)) < 1e-5


def test_is_simsiam_with_its_own_transform():
    assert issubclass(FastSiam, SimSiam)
    assert FastSiam.transform_name == "fastsiam" and FastSiam.min_views == 3


def test_targets_are_detached(tiny, views, monkeypatch):
    method = tiny("fastsiam")
    calls = []
    original = method.criterion.forward

    def spy(x0, x1):
        calls.append((x0.requires_grad, x1.requires_grad))
        return original(x0, x1)

    monkeypatch.setattr(method.criterion, "forward", spy)
    method.training_loss(views("fastsiam"))
    assert calls == [(True, False)] * 4
